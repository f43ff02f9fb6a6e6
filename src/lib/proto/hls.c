/* hls: HLS media playlists (see hls.h and docs/live.md, "HLS"). Section
 * numbers are RFC 8216's. */
#include "lib/proto/hls.h"

#include <stdio.h>
#include <string.h>

#include "lib/base/err.h"

/* What the parser has seen of the one-per-playlist tags. */
enum seen {
	SEEN_VERSION = 1u << 0,
	SEEN_TARGET = 1u << 1,
	SEEN_SEQUENCE = 1u << 2,
	SEEN_DISC_SEQUENCE = 1u << 3,
	SEEN_ENDLIST = 1u << 4,
	SEEN_TYPE = 1u << 5,
	SEEN_SEGMENT = 1u << 6,
};

static bool has_prefix(const char *p, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && memcmp(p, prefix, k) == 0;
}

/* A decimal-integer (§4.2): 1 to 20 digits, at most max. */
static bool parse_uint(const char *p, size_t n, uint64_t max, uint64_t *out)
{
	if (n == 0 || n > 20)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		unsigned d = (unsigned)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* A decimal-floating-point duration (§4.2) in ms, rounded to nearest. */
static bool parse_duration(const char *p, size_t n, uint32_t *ms)
{
	size_t dot = 0;
	while (dot < n && p[dot] != '.')
		dot++;
	uint64_t whole;
	if (!parse_uint(p, dot, PC_HLS_DURATION_MAX / 1000, &whole))
		return false;
	uint64_t frac = 0; /* in 1/10000 s */
	if (dot < n) {
		if (dot + 1 == n)
			return false;
		uint64_t scale = 1000;
		for (size_t i = dot + 1; i < n; i++) {
			if (p[i] < '0' || p[i] > '9' || i - dot > 18)
				return false;
			frac += (uint64_t)(p[i] - '0') * scale;
			scale /= 10;
		}
	}
	uint64_t v = whole * 1000 + (frac + 5) / 10;
	if (v > PC_HLS_DURATION_MAX)
		return false;
	*ms = (uint32_t)v;
	return true;
}

static bool uri_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '~' || c == '-';
}

bool pc_hls_uri_ok(const char *uri, size_t len)
{
	if (len == 0 || len > PC_HLS_URI_MAX)
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && uri[i] != '/') {
			if (!uri_char(uri[i]))
				return false;
			continue;
		}
		size_t seg = i - start;
		if (seg == 0 || (seg == 1 && uri[start] == '.') ||
		    (seg == 2 && uri[start] == '.' && uri[start + 1] == '.'))
			return false;
		start = i + 1;
	}
	return true;
}

static int fail(struct pc_hls_fault *fault, unsigned line, const char *why, int rc)
{
	if (fault != NULL) {
		fault->line = line;
		fault->why = why;
	}
	return rc;
}

/* The value of an attribute NAME= in an attribute-list (§4.2), unquoted
 * up to the next comma. */
static bool attribute(const char *p, size_t n, const char *name, const char **v, size_t *vn)
{
	size_t k = strlen(name);
	for (size_t i = 0; i + k < n; i++) {
		if ((i == 0 || p[i - 1] == ',') && memcmp(p + i, name, k) == 0 && p[i + k] == '=') {
			size_t j = i + k + 1, e = j;
			while (e < n && p[e] != ',')
				e++;
			*v = p + j;
			*vn = e - j;
			return true;
		}
	}
	return false;
}

int pc_hls_parse(const char *text, size_t len, struct pc_hls_playlist *pl,
                 struct pc_hls_segment *segs, size_t segs_cap, struct pc_hls_fault *fault)
{
	memset(pl, 0, sizeof(*pl));
	pl->version = 1;
	if (fault != NULL) {
		fault->line = 0;
		fault->why = NULL;
	}
	if (len > PC_HLS_PLAYLIST_MAX)
		return fail(fault, 0, "playlist too long", PC_ERANGE);
	unsigned seen = 0, line_no = 0;
	bool pending_inf = false, pending_disc = false;
	uint32_t pending_ms = 0;
	uint32_t longest_ms = 0;
	unsigned longest_line = 0;
	size_t off = 0;
	while (off < len) {
		size_t end = off;
		while (end < len && text[end] != '\n')
			end++;
		const char *p = text + off;
		size_t n = end - off;
		off = end + 1;
		line_no++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] < 0x20 && p[i] != '\t')
				return fail(fault, line_no, "control character", PC_ESYNTAX);
		if (line_no == 1) {
			/* §4.3.1.1: the first line, exactly */
			if (n != 7 || memcmp(p, "#EXTM3U", 7) != 0)
				return fail(fault, 1, "first line is not #EXTM3U", PC_ESYNTAX);
			continue;
		}
		if (n == 0)
			continue;
		if (p[0] != '#') {
			if (!pending_inf)
				return fail(fault, line_no, "URI without #EXTINF", PC_ESYNTAX);
			if (!pc_hls_uri_ok(p, n))
				return fail(fault, line_no, "URI is not a relative path",
				            PC_ESYNTAX);
			if (pl->n_segments >= segs_cap)
				return fail(fault, line_no, "too many segments", PC_ENOSPC);
			struct pc_hls_segment *s = &segs[pl->n_segments];
			s->uri = p;
			s->uri_len = n;
			s->duration_ms = pending_ms;
			s->seq = pl->media_sequence + pl->n_segments;
			s->discontinuity = pending_disc;
			pl->n_segments++;
			pending_inf = pending_disc = false;
			seen |= SEEN_SEGMENT;
			continue;
		}
		if (!has_prefix(p, n, "#EXT"))
			continue; /* a comment (§4.1) */
		const char *v;
		uint64_t num;
		if (has_prefix(p, n, "#EXTINF:")) {
			if (pending_inf)
				return fail(fault, line_no, "#EXTINF without a URI", PC_ESYNTAX);
			v = p + 8;
			size_t vn = n - 8, comma = 0;
			while (comma < vn && v[comma] != ',')
				comma++;
			if (comma == vn || !parse_duration(v, comma, &pending_ms))
				return fail(fault, line_no, "bad #EXTINF duration", PC_ESYNTAX);
			pending_inf = true;
			if (pending_ms > longest_ms) {
				longest_ms = pending_ms;
				longest_line = line_no;
			}
		} else if (has_prefix(p, n, "#EXT-X-DISCONTINUITY-SEQUENCE:")) {
			if (seen & (SEEN_DISC_SEQUENCE | SEEN_SEGMENT) || pending_inf ||
			    pending_disc)
				return fail(fault, line_no,
				            "misplaced #EXT-X-DISCONTINUITY-SEQUENCE", PC_ESYNTAX);
			if (!parse_uint(p + 30, n - 30, UINT64_MAX, &num))
				return fail(fault, line_no, "bad number", PC_ESYNTAX);
			pl->discontinuity_sequence = num;
			seen |= SEEN_DISC_SEQUENCE;
		} else if (n == 20 && memcmp(p, "#EXT-X-DISCONTINUITY", 20) == 0) {
			pending_disc = true;
		} else if (has_prefix(p, n, "#EXT-X-VERSION:")) {
			if (seen & SEEN_VERSION)
				return fail(fault, line_no, "#EXT-X-VERSION twice", PC_ESYNTAX);
			if (!parse_uint(p + 15, n - 15, 12, &num) || num == 0)
				return fail(fault, line_no, "bad #EXT-X-VERSION", PC_ESYNTAX);
			pl->version = (unsigned)num;
			seen |= SEEN_VERSION;
		} else if (has_prefix(p, n, "#EXT-X-TARGETDURATION:")) {
			if (seen & SEEN_TARGET)
				return fail(fault, line_no, "#EXT-X-TARGETDURATION twice",
				            PC_ESYNTAX);
			if (!parse_uint(p + 22, n - 22, PC_HLS_DURATION_MAX / 1000, &num) ||
			    num == 0)
				return fail(fault, line_no, "bad #EXT-X-TARGETDURATION",
				            PC_ESYNTAX);
			pl->target_duration = (uint32_t)num;
			seen |= SEEN_TARGET;
		} else if (has_prefix(p, n, "#EXT-X-MEDIA-SEQUENCE:")) {
			if (seen & (SEEN_SEQUENCE | SEEN_SEGMENT) || pending_inf)
				return fail(fault, line_no, "misplaced #EXT-X-MEDIA-SEQUENCE",
				            PC_ESYNTAX);
			if (!parse_uint(p + 22, n - 22, UINT64_MAX / 2, &num))
				return fail(fault, line_no, "bad #EXT-X-MEDIA-SEQUENCE",
				            PC_ESYNTAX);
			pl->media_sequence = num;
			seen |= SEEN_SEQUENCE;
		} else if (n == 14 && has_prefix(p, n, "#EXT-X-ENDLIST")) {
			if (seen & SEEN_ENDLIST)
				return fail(fault, line_no, "#EXT-X-ENDLIST twice", PC_ESYNTAX);
			pl->endlist = true;
			seen |= SEEN_ENDLIST;
		} else if (has_prefix(p, n, "#EXT-X-PLAYLIST-TYPE:")) {
			v = p + 21;
			if (seen & SEEN_TYPE || !((n - 21 == 5 && memcmp(v, "EVENT", 5) == 0) ||
			                          (n - 21 == 3 && memcmp(v, "VOD", 3) == 0)))
				return fail(fault, line_no, "bad #EXT-X-PLAYLIST-TYPE", PC_ESYNTAX);
			seen |= SEEN_TYPE;
		} else if (has_prefix(p, n, "#EXT-X-STREAM-INF") ||
		           has_prefix(p, n, "#EXT-X-MEDIA:") ||
		           has_prefix(p, n, "#EXT-X-I-FRAME-STREAM-INF") ||
		           has_prefix(p, n, "#EXT-X-SESSION-")) {
			return fail(fault, line_no, "a master playlist", PC_ENOTSUP);
		} else if (has_prefix(p, n, "#EXT-X-KEY:")) {
			size_t vn;
			if (!attribute(p + 11, n - 11, "METHOD", &v, &vn))
				return fail(fault, line_no, "#EXT-X-KEY without METHOD",
				            PC_ESYNTAX);
			if (vn != 4 || memcmp(v, "NONE", 4) != 0)
				return fail(fault, line_no, "encrypted segments", PC_ENOTSUP);
		} else if (has_prefix(p, n, "#EXT-X-BYTERANGE") || has_prefix(p, n, "#EXT-X-MAP")) {
			return fail(fault, line_no, "byte ranges or fMP4 segments", PC_ENOTSUP);
		}
		/* other tags, EXT-X-PROGRAM-DATE-TIME and
		 * EXT-X-INDEPENDENT-SEGMENTS among them, are ignored (§4.1) */
	}
	if (line_no == 0)
		return fail(fault, 0, "empty playlist", PC_ESYNTAX);
	if (pending_inf)
		return fail(fault, line_no, "#EXTINF without a URI", PC_ESYNTAX);
	if (!(seen & SEEN_TARGET))
		return fail(fault, 0, "no #EXT-X-TARGETDURATION", PC_ESYNTAX);
	/* §4.3.3.1: each EXTINF, rounded to the nearest integer, at most the
	 * target duration */
	if ((longest_ms + 500) / 1000 > pl->target_duration)
		return fail(fault, longest_line, "#EXTINF over the target duration", PC_ESYNTAX);
	return 0;
}

/* "/", or "/" and a relative URI and "/". */
static bool prefix_ok(const char *p, size_t n)
{
	if (n == 0)
		return true;
	if (n > PC_HLS_URI_MAX || p[0] != '/' || p[n - 1] != '/')
		return false;
	return n == 1 || pc_hls_uri_ok(p + 1, n - 2);
}

int pc_hls_write_live(const struct pc_hls_live *live, char *out, size_t cap)
{
	const char *prefix = live->uri_prefix ? live->uri_prefix : "";
	size_t prefix_len = strlen(prefix);
	if (live->n == 0 || !prefix_ok(prefix, prefix_len))
		return PC_EINVAL;
	size_t first = live->window && live->window < live->n ? live->n - live->window : 0;
	uint64_t disc_seq = live->discontinuity_sequence;
	uint32_t longest = 0;
	for (size_t i = 0; i < live->n; i++) {
		const struct pc_hls_segment *s = &live->segs[i];
		if (!pc_hls_uri_ok(s->uri, s->uri_len) || s->duration_ms > PC_HLS_DURATION_MAX ||
		    (i > 0 && s->seq != live->segs[i - 1].seq + 1))
			return PC_EINVAL;
		/* §4.3.3.3: a discontinuity that slid out is counted */
		if (i < first && s->discontinuity)
			disc_seq++;
		if (i >= first && s->duration_ms > longest)
			longest = s->duration_ms;
	}
	uint64_t target = (longest + 999) / 1000;
	if (target < live->target_min)
		target = live->target_min;
	if (target == 0)
		target = 1;
	size_t at = 0;
	int n = snprintf(out, cap,
	                 "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%llu\n"
	                 "#EXT-X-MEDIA-SEQUENCE:%llu\n",
	                 (unsigned long long)target, (unsigned long long)live->segs[first].seq);
	if (n < 0 || (size_t)n >= cap)
		return PC_ESPACE;
	at = (size_t)n;
	if (disc_seq > 0) {
		n = snprintf(out + at, cap - at, "#EXT-X-DISCONTINUITY-SEQUENCE:%llu\n",
		             (unsigned long long)disc_seq);
		if (n < 0 || (size_t)n >= cap - at)
			return PC_ESPACE;
		at += (size_t)n;
	}
	for (size_t i = first; i < live->n; i++) {
		const struct pc_hls_segment *s = &live->segs[i];
		n = snprintf(out + at, cap - at, "%s#EXTINF:%u.%03u,\n%s%.*s\n",
		             s->discontinuity ? "#EXT-X-DISCONTINUITY\n" : "",
		             s->duration_ms / 1000, s->duration_ms % 1000, prefix, (int)s->uri_len,
		             s->uri);
		if (n < 0 || (size_t)n >= cap - at)
			return PC_ESPACE;
		at += (size_t)n;
	}
	if (live->ended) {
		n = snprintf(out + at, cap - at, "#EXT-X-ENDLIST\n");
		if (n < 0 || (size_t)n >= cap - at)
			return PC_ESPACE;
		at += (size_t)n;
	}
	if (at > (size_t)INT32_MAX)
		return PC_ESPACE;
	return (int)at;
}
