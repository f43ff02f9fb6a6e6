/* url: CDN URLs of the patent's §3.2, scheme://<customer>.<cdn-domain>/
 * <content-host>/<path>, where the content host is one of the provider's
 * origins (origin embedded in the path) or directories (a server that says
 * how to serve the rest). Strict by design: this is outside input that
 * decides where an edge server fetches from (docs/naming.md, "URLs"). */
#include "lib/naming/naming.h"

#include <string.h>
#include <strings.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "lib/base/err.h"
#include "lib/base/ascii.h"
#include "lib/base/hex.h"
#include "lib/naming/hosts.h"

/* "%XX" with two hex digits (RFC 3986 §2.1), not an escaped control
 * character: a decoded NUL or CR LF has no business in a CDN URL and is
 * how requests to origins get split. */
static bool good_escape(const char *s, size_t left)
{
	if (left < 3 || pc_hex_digit(s[1]) < 0 || pc_hex_digit(s[2]) < 0)
		return false;
	int byte = pc_hex_digit(s[1]) * 16 + pc_hex_digit(s[2]);
	return byte >= 0x20 && byte != 0x7f;
}

/* Byte classes, one table look-up per byte (this runs for every byte of
 * every request a redirector answers). URI_BYTE: RFC 3986 §2's
 * unreserved, reserved and '%'. Everything else (controls, space, NUL,
 * '"', '<', '>', '\\', '^', '`', '{', '|', '}', non-ASCII) is refused rather
 * than guessed at, as browsers and origins disagree on it. D_*: the
 * delimiters that end a URL's components (RFC 3986 §3). */
enum byte_class {
	D_COLON = 1 << 0,
	D_SLASH = 1 << 1,
	D_QUERY = 1 << 2,
	D_FRAGMENT = 1 << 3,
	URI_BYTE = 1 << 4,
	PERCENT = 1 << 5, /* '%': an escape to check */
	PLAIN = 1 << 6,   /* URI_BYTE but '%': nothing more to check */
	D_AT = 1 << 7,    /* '@': userinfo, refused in an authority */
};

/* clang-format off */
#define U (URI_BYTE | PLAIN)
static const uint8_t byte_class[256] = {
    ['a'] = U, ['b'] = U, ['c'] = U, ['d'] = U, ['e'] = U, ['f'] = U, ['g'] = U, ['h'] = U,
    ['i'] = U, ['j'] = U, ['k'] = U, ['l'] = U, ['m'] = U, ['n'] = U, ['o'] = U, ['p'] = U,
    ['q'] = U, ['r'] = U, ['s'] = U, ['t'] = U, ['u'] = U, ['v'] = U, ['w'] = U, ['x'] = U,
    ['y'] = U, ['z'] = U, ['A'] = U, ['B'] = U, ['C'] = U, ['D'] = U, ['E'] = U, ['F'] = U,
    ['G'] = U, ['H'] = U, ['I'] = U, ['J'] = U, ['K'] = U, ['L'] = U, ['M'] = U, ['N'] = U,
    ['O'] = U, ['P'] = U, ['Q'] = U, ['R'] = U, ['S'] = U, ['T'] = U, ['U'] = U, ['V'] = U,
    ['W'] = U, ['X'] = U, ['Y'] = U, ['Z'] = U, ['0'] = U, ['1'] = U, ['2'] = U, ['3'] = U,
    ['4'] = U, ['5'] = U, ['6'] = U, ['7'] = U, ['8'] = U, ['9'] = U, ['-'] = U, ['.'] = U,
    ['_'] = U, ['~'] = U, ['['] = U, [']'] = U, ['@'] = U | D_AT, ['!'] = U, ['$'] = U, ['&'] = U,
    ['\''] = U, ['('] = U, [')'] = U, ['*'] = U, ['+'] = U, [','] = U, [';'] = U, ['='] = U,
    ['%'] = URI_BYTE | PERCENT,
    [':'] = U | D_COLON, ['/'] = U | D_SLASH, ['?'] = U | D_QUERY, ['#'] = U | D_FRAGMENT,
};
#undef U
/* clang-format on */

/* The scheme (RFC 3986 §3.1: case-insensitive), from its first four
 * bytes lowered at once: "http", "https" or "rtsp". */
static bool read_scheme(const char *s, size_t len, enum pc_scheme *scheme)
{
	if (len != 4 && len != 5)
		return false;
	uint32_t word;
	memcpy(&word, s, 4);
	word = (uint32_t)pc_ascii_lower8(word);
	if (len == 4 && memcmp(&word, "http", 4) == 0)
		*scheme = PC_SCHEME_HTTP;
	else if (len == 5 && memcmp(&word, "http", 4) == 0 && (s[4] | 0x20) == 's')
		*scheme = PC_SCHEME_HTTPS;
	else if (len == 4 && memcmp(&word, "rtsp", 4) == 0)
		*scheme = PC_SCHEME_RTSP;
	else
		return false;
	return true;
}

/* Where a URL's delimiters are. With SSE2 (every x86-64) a URL of 16
 * bytes or more is read sixteen bytes at a time, once, up front: whether
 * a byte is refused, whether a '%' is there, and where the delimiters
 * (':' '/' '?' '#' '@') are, as a bit mask with a bit per byte; finding
 * the next delimiter of a kind is then a bit scan over the few delimiters
 * a URL has. This is most of a CDSR answer's URL check: the byte-by-byte
 * scans (the class table, kept for shorter URLs, other machines and the
 * tests' reference) cost some ten instructions a byte in all. */
#define SCAN_WORDS (PC_URL_MAX / 64)

struct scan {
	const char *s;
	size_t len;
	bool masked;                     /* delimiters is filled */
	uint64_t delimiters[SCAN_WORDS]; /* bit b of word w: byte 64w + b is one */
};

#if defined(__SSE2__)
/* Fills the delimiter masks of a URL of 16 bytes or more; false when a
 * byte is refused. *percent: a '%' is there (its escapes are left to the
 * byte-by-byte check). */
static bool scan_masks(struct scan *sc, bool *percent)
{
	const __m128i space = _mm_set1_epi8(0x20), two = _mm_set1_epi8(2),
	              angle = _mm_set1_epi8(0x3e), caret = _mm_set1_epi8(0x5e),
	              quote = _mm_set1_epi8('"'), grave = _mm_set1_epi8('`'),
	              tilde = _mm_set1_epi8('~'), z = _mm_set1_epi8('z'), pct = _mm_set1_epi8('%'),
	              colon = _mm_set1_epi8(':'), slash = _mm_set1_epi8('/'),
	              query = _mm_set1_epi8('?'), hash = _mm_set1_epi8('#'),
	              at = _mm_set1_epi8('@');
	unsigned refused = 0, escapes = 0;
	size_t len = sc->len, i = 0;
	uint64_t word = 0; /* the delimiters of bytes [i & ~63, i) */
	for (;;) {
		/* The last block is the URL's last 16 bytes, those before i
		 * dropped: nothing is read past the end. */
		bool last = i + 16 >= len;
		unsigned drop = last ? (unsigned)(i + 16 - len) : 0;
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(sc->s + i - drop));
		/* Refused: below '!' or above '~' (signed: bytes >= 0x80 are
		 * negative), '"', '<' '>' and '\\' '^' (with bit 1 set, one
		 * compare each), '`', and '{' '|' '}' DEL (above 'z', not '~'). */
		__m128i v2 = _mm_or_si128(v, two);
		__m128i bad = _mm_or_si128(_mm_cmpeq_epi8(v2, angle), _mm_cmpeq_epi8(v2, caret));
		bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, quote));
		bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, grave));
		bad = _mm_or_si128(
		    bad, _mm_andnot_si128(_mm_cmpeq_epi8(v, tilde), _mm_cmpgt_epi8(v, z)));
		bad = _mm_andnot_si128(bad, _mm_cmpgt_epi8(v, space));
		refused |= ((unsigned)_mm_movemask_epi8(bad) ^ 0xffffu) >> drop;
		escapes |= (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, pct));
		__m128i d = _mm_or_si128(_mm_cmpeq_epi8(v, colon), _mm_cmpeq_epi8(v, slash));
		d = _mm_or_si128(d, _mm_cmpeq_epi8(v, query));
		d = _mm_or_si128(d, _mm_cmpeq_epi8(v, hash));
		d = _mm_or_si128(d, _mm_cmpeq_epi8(v, at));
		word |= (uint64_t)((unsigned)_mm_movemask_epi8(d) >> drop) << (i % 64);
		if (last) {
			sc->delimiters[i / 64] = word;
			break;
		}
		i += 16;
		if (i % 64 == 0) {
			sc->delimiters[i / 64 - 1] = word;
			word = 0;
		}
	}
	*percent = escapes != 0;
	return refused == 0;
}
#endif

/* Whether every byte is one a URL may hold, each '%' a good escape; and
 * the masks filled where they can be. */
static bool scan_url(struct scan *sc, const char *url, size_t len, bool vector)
{
	sc->s = url;
	sc->len = len;
	sc->masked = false;
#if defined(__SSE2__)
	if (vector && len >= 16) {
		bool percent;
		if (!scan_masks(sc, &percent))
			return false;
		sc->masked = true;
		if (!percent)
			return true;
	}
#else
	(void)vector;
#endif
	/* Most URLs have no escape: one AND per byte says so, and only a URL
	 * with a '%' or a refused byte is looked at byte by byte. */
	unsigned all = PLAIN, all2 = PLAIN, all3 = PLAIN, all4 = PLAIN;
	size_t i = 0;
	for (; i + 4 <= len; i += 4) { /* four chains, not one */
		all &= byte_class[(unsigned char)url[i]];
		all2 &= byte_class[(unsigned char)url[i + 1]];
		all3 &= byte_class[(unsigned char)url[i + 2]];
		all4 &= byte_class[(unsigned char)url[i + 3]];
	}
	for (; i < len; i++)
		all &= byte_class[(unsigned char)url[i]];
	all &= all2 & all3 & all4;
	for (size_t i = 0; !(all & PLAIN) && i < len; i++) {
		uint8_t cls = byte_class[(unsigned char)url[i]];
		if ((cls & (URI_BYTE | PERCENT)) != URI_BYTE &&
		    (!(cls & URI_BYTE) || !good_escape(url + i, len - i)))
			return false;
	}
	return true;
}

/* The first of the delimiters at or after from, else len. */
static inline size_t find_any(const struct scan *sc, size_t from, unsigned delimiters)
{
	size_t len = sc->len;
	if (!sc->masked) {
		while (from < len && (byte_class[(unsigned char)sc->s[from]] & delimiters) == 0)
			from++;
		return from;
	}
	if (from >= len)
		return from;
	uint64_t m;
	if (len <= 64) { /* most URLs: one word, no word arithmetic */
		for (m = sc->delimiters[0] & (~(uint64_t)0 << from); m != 0; m &= m - 1) {
			size_t at = (size_t)__builtin_ctzll(m);
			if (byte_class[(unsigned char)sc->s[at]] & delimiters)
				return at;
		}
		return len;
	}
	size_t w = from / 64, words = (len + 63) / 64;
	m = sc->delimiters[w] & (~(uint64_t)0 << (from % 64));
	for (;;) {
		for (; m != 0; m &= m - 1) {
			size_t at = w * 64 + (size_t)__builtin_ctzll(m);
			if (byte_class[(unsigned char)sc->s[at]] & delimiters)
				return at;
		}
		if (++w == words)
			return len;
		m = sc->delimiters[w];
	}
}

/* memcpy of a short span, inline: eight bytes at a time and the tail as
 * the last eight, overlapping (a call to memcpy costs more than the copy
 * of an object's few dozen bytes). Nothing past len is read. */
static inline void copy_span(char *to, const char *from, size_t len)
{
	uint64_t x;
	if (len < 8) {
		for (size_t i = 0; i < len; i++)
			to[i] = from[i];
		return;
	}
	for (size_t i = 0; i + 8 <= len; i += 8) {
		memcpy(&x, from + i, 8);
		memcpy(to + i, &x, 8);
	}
	memcpy(&x, from + len - 8, 8);
	memcpy(to + len - 8, &x, 8);
}

static bool in_list(const char **list, uint32_t n, const char *s, size_t len)
{
	for (uint32_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && strncasecmp(list[i], s, len) == 0)
			return true;
	return false;
}

/* "." and ".." segments, also spelt %2e, would let a path climb out of the
 * content host it names (RFC 3986 §5.2.4). */
static bool has_dot_segment(const char *path, size_t len)
{
	size_t i = 0;
	while (i < len) {
		i++; /* the '/' */
		unsigned dots = 0;
		bool only_dots = true;
		while (i < len && path[i] != '/') {
			if (path[i] == '.') {
				dots++;
				i++;
			} else if (path[i] == '%' && i + 2 < len && path[i + 1] == '2' &&
			           (path[i + 2] == 'e' || path[i + 2] == 'E')) {
				dots++;
				i += 3;
			} else {
				only_dots = false;
				i++;
			}
		}
		if (only_dots && (dots == 1 || dots == 2))
			return true;
	}
	return false;
}

static int parse_port(const char *s, size_t len, uint16_t *port)
{
	if (len == 0 || len > 5)
		return PC_ESYNTAX;
	uint32_t value = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return PC_ESYNTAX;
		value = value * 10 + (uint32_t)(s[i] - '0');
	}
	if (value == 0 || value > 65535)
		return PC_ESYNTAX;
	*port = (uint16_t)value;
	return PC_OK;
}

int pc_url_parse(const pc_model *model, const char *url, size_t len, pc_url *out)
{
	return pc__url_parse_hosts(model, NULL, url, len, out);
}

static int parse(const pc_model *model, const struct pc_hosts *hosts, const char *url, size_t len,
                 pc_url *out, bool vector);

int pc__url_parse_hosts(const pc_model *model, const struct pc_hosts *hosts, const char *url,
                        size_t len, pc_url *out)
{
	return parse(model, hosts, url, len, out, true);
}

int pc__url_parse_reference(const pc_model *model, const char *url, size_t len, pc_url *out)
{
	return parse(model, NULL, url, len, out, false);
}

static int parse(const pc_model *model, const struct pc_hosts *hosts, const char *url, size_t len,
                 pc_url *out, bool vector)
{
	if (model == NULL || out == NULL || (url == NULL && len > 0))
		return PC_EINVAL;
	/* Every field but the object's bytes past its terminator (not the
	 * whole 300-byte struct: this runs per request). */
	out->scheme = 0;
	out->port = 0;
	out->form = 0;
	out->name.cdn = out->name.provider = out->name.service = PC_NONE;
	out->name.signature = PC_SIG_ABSENT;
	out->name.encrypted = false;
	out->name.object[0] = '\0';
	out->name.object_len = 0;
	out->host = out->content_host = out->path = out->query = NULL;
	out->host_len = out->content_host_len = out->path_len = out->query_len = 0;
	if (len > PC_URL_MAX)
		return PC_ERANGE;
	struct scan sc;
	if (!scan_url(&sc, url, len, vector))
		return PC_ESYNTAX;

	size_t scheme_len = find_any(&sc, 0, D_COLON | D_SLASH | D_QUERY | D_FRAGMENT);
	if (scheme_len + 3 > len || memcmp(url + scheme_len, "://", 3) != 0)
		return PC_ESYNTAX;
	if (!read_scheme(url, scheme_len, &out->scheme))
		return PC_ESYNTAX;

	/* Authority: host[:port]. No userinfo: "http://www.foo.com@evil/" must
	 * not read as anything but an error. */
	size_t host_start = scheme_len + 3;
	size_t host_end =
	    find_any(&sc, host_start, D_COLON | D_SLASH | D_QUERY | D_FRAGMENT | D_AT);
	if (host_end < len && url[host_end] == '@')
		return PC_ESYNTAX;
	/* A '@' after the ':' fails the port's digits below. */
	size_t auth_end = host_end < len && url[host_end] == ':'
	                      ? find_any(&sc, host_end, D_SLASH | D_QUERY | D_FRAGMENT)
	                      : host_end;
	if (host_end < auth_end) {
		int rc = parse_port(url + host_end + 1, auth_end - host_end - 1, &out->port);
		if (rc != PC_OK)
			return rc;
	}
	if (host_end == host_start)
		return PC_ESYNTAX;
	out->host = url + host_start;
	out->host_len = (uint32_t)(host_end - host_start);
	int rc = hosts != NULL ? pc__hosts_url_name(hosts, out->host, out->host_len, &out->name)
	                       : pc__name_parse(model, out->host, out->host_len, false, &out->name);
	if (rc != PC_OK)
		return rc;
	if (out->name.object_len > 0)
		return PC_ESYNTAX;
	if (out->name.service == PC_NONE) {
		for (uint32_t s = 0; s < model->n_services; s++) {
			if (model->services[s].scheme_mask & (uint32_t)out->scheme) {
				out->name.service = s;
				break;
			}
		}
	}
	if (out->name.service == PC_NONE)
		out->name.service = model->default_service;
	if (out->name.service == PC_NONE)
		return PC_ENOSERVICE;

	/* The first path segment names where the content comes from; only the
	 * provider's own hosts, or the CDN would fetch anything for anyone. */
	if (auth_end == len || url[auth_end] != '/')
		return PC_ENOORIGIN;
	size_t ch_start = auth_end + 1;
	size_t ch_end = find_any(&sc, ch_start, D_SLASH | D_QUERY | D_FRAGMENT);
	size_t ch_len = ch_end - ch_start;
	const struct pc_provider *p = &model->providers[out->name.provider];
	const char *lowered = NULL; /* the content host lower case, when known */
	if (hosts != NULL) {        /* the lists with their lengths, built at load */
		lowered = ch_len > 0 ? pc__hosts_content_host(hosts, out->name.provider,
		                                              url + ch_start, ch_len, &out->form)
		                     : NULL;
		if (lowered == NULL)
			return PC_ENOORIGIN;
	} else if (ch_len > 0 &&
	           in_list(p->origin_hosts, p->n_origin_hosts, url + ch_start, ch_len)) {
		out->form = PC_URL_ORIGIN;
	} else if (ch_len > 0 &&
	           in_list(p->directory_hosts, p->n_directory_hosts, url + ch_start, ch_len)) {
		out->form = PC_URL_DIRECTORY;
	} else {
		return PC_ENOORIGIN;
	}
	out->content_host = url + ch_start;
	out->content_host_len = (uint32_t)ch_len;

	size_t path_end = find_any(&sc, ch_end, D_QUERY | D_FRAGMENT);
	out->path = url + ch_end;
	out->path_len = (uint32_t)(path_end - ch_end);
	if (has_dot_segment(out->path, out->path_len))
		return PC_ESYNTAX;
	if (path_end < len && url[path_end] == '?') {
		size_t query_end = find_any(&sc, path_end + 1, D_FRAGMENT);
		out->query = url + path_end + 1;
		out->query_len = (uint32_t)(query_end - path_end - 1);
	}

	/* Object: content host (lower case, as configured) and path (as is:
	 * paths are case-sensitive). */
	if (ch_len + out->path_len > PC_NAME_MAX)
		return PC_ERANGE;
	/* Content host and path are one span of the URL: copied at once,
	 * then the host lowered where it lies (in place: a word is read
	 * before it is written), or copied again as configured. */
	copy_span(out->name.object, out->content_host, ch_len + out->path_len);
	if (lowered != NULL && ch_len >= 8) /* over the host as it came */
		copy_span(out->name.object, lowered, ch_len);
	else
		pc_ascii_copy_lower(out->name.object, out->name.object, ch_len);
	out->name.object_len = (uint32_t)(ch_len + out->path_len);
	out->name.object[out->name.object_len] = '\0';
	return PC_OK;
}
