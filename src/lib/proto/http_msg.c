/* See http_msg.h. A head is found in one scan that rejects a bare CR or LF
 * on the way (so a partial head costs only that scan), then parsed line by
 * line knowing every line ends in CRLF. Nothing here depends on the locale:
 * case folding and character classes are ASCII by hand. */
#include "lib/proto/http_msg.h"

#include <limits.h>
#include <string.h>

#include "lib/base/err.h"

/* Content-Length and chunk sizes above this are refused: no object is that
 * large, and it keeps every sum of sizes far from overflowing. */
#define MAX_BODY_SIZE ((uint64_t)1 << 62)
/* RFC 9112 §7.1.1: a recipient limits chunk extensions; trailer lines too. */
enum { MAX_CHUNK_LINE = 4096 };

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 9110 §5.6.2 */
static bool is_tchar(unsigned char c)
{
	return is_digit(c) || is_alpha(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A byte of a field value or reason phrase: VCHAR, obs-text, SP, HTAB. */
static bool is_text(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* a[0..alen) equals the NUL-terminated b, ignoring ASCII case. */
static bool ieq(const char *a, size_t alen, const char *b)
{
	size_t i = 0;
	for (; i < alen; i++)
		if (b[i] == '\0' ||
		    ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return false;
	return b[i] == '\0';
}

static bool ieq2(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

/* ---- heads ---- */

/* Just past the empty line that ends the head whose first line starts at
 * in[start]; 0 when that line is not within in[0..limit); PC_ESYNTAX for a
 * bare CR or LF, or a head whose first line is empty. */
static long find_head_end(const char *in, size_t start, size_t limit)
{
	size_t line = start;
	for (size_t i = start; i < limit; i++) {
		if (in[i] == '\n')
			return PC_ESYNTAX; /* an LF after CR is skipped below */
		if (in[i] != '\r')
			continue;
		if (i + 1 == limit)
			return 0;
		if (in[i + 1] != '\n')
			return PC_ESYNTAX;
		if (i == line)
			return line == start ? PC_ESYNTAX : (long)(i + 2);
		i++;
		line = i + 1;
	}
	return 0;
}

/* Length of the line at p, which ends in CRLF (find_head_end saw to it). */
static size_t line_length(const char *p)
{
	size_t n = 0;
	while (p[n] != '\r')
		n++;
	return n;
}

/* "HTTP/1.0" or "HTTP/1.1" */
static int parse_version(const char *p, size_t n, uint8_t *minor)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || !is_digit((unsigned char)p[5]) || p[6] != '.' ||
	    !is_digit((unsigned char)p[7]))
		return PC_ESYNTAX;
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
		return PC_ENOTSUP;
	*minor = (uint8_t)(p[7] - '0');
	return PC_OK;
}

/* RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
static bool has_scheme(const char *p, size_t n)
{
	if (n == 0 || !is_alpha((unsigned char)p[0]))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == ':')
			return true;
		if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.')
			return false;
	}
	return false;
}

/* RFC 9112 §3.2: the form must fit the method. Bytes are checked by the
 * caller (visible ASCII only). */
static bool target_fits(const char *method, size_t method_len, const char *target, size_t n)
{
	bool connect = method_len == 7 && memcmp(method, "CONNECT", 7) == 0;
	if (connect) { /* authority-form: host ":" port, nothing else */
		const char *colon = target + n;
		while (colon > target && colon[-1] != ':')
			colon--;
		colon = colon > target ? colon - 1 : NULL; /* the last one: "[::1]:443" */
		if (colon == NULL || colon == target || colon + 1 == target + n ||
		    memchr(target, '/', n) != NULL || memchr(target, '@', n) != NULL)
			return false;
		for (const char *p = colon + 1; p < target + n; p++)
			if (!is_digit((unsigned char)*p))
				return false;
		return true;
	}
	if (target[0] == '/')
		return true;            /* origin-form */
	if (n == 1 && target[0] == '*') /* asterisk-form: server-wide OPTIONS */
		return method_len == 7 && memcmp(method, "OPTIONS", 7) == 0;
	return has_scheme(target, n); /* absolute-form */
}

static int parse_request_line(const char *p, size_t n, struct pc_http_head *out)
{
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ' ')
		return PC_ESYNTAX;
	out->method = p;
	out->method_len = (uint32_t)i;
	size_t t = ++i;
	while (i < n && (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f)
		i++;
	if (i == t || i == n || p[i] != ' ')
		return PC_ESYNTAX;
	out->target = p + t;
	out->target_len = (uint32_t)(i - t);
	i++;
	int rc = parse_version(p + i, n - i, &out->version_minor);
	if (rc < 0)
		return rc;
	if (!target_fits(out->method, out->method_len, out->target, out->target_len))
		return PC_ESYNTAX;
	return PC_OK;
}

/* RFC 9112 §4. The SP before an empty reason is accepted missing too:
 * origins send "HTTP/1.1 200\r\n" and it frames nothing differently. */
static int parse_status_line(const char *p, size_t n, struct pc_http_head *out)
{
	if (n < 5 || memcmp(p, "HTTP/", 5) != 0)
		return PC_ESYNTAX;
	size_t v = 5;
	while (v < n && p[v] != ' ')
		v++;
	int rc = parse_version(p, v, &out->version_minor);
	if (rc < 0)
		return rc;
	if (n < 12 || p[8] != ' ' || !is_digit((unsigned char)p[9]) ||
	    !is_digit((unsigned char)p[10]) || !is_digit((unsigned char)p[11]))
		return PC_ESYNTAX;
	out->status =
	    (unsigned)(p[9] - '0') * 100 + (unsigned)(p[10] - '0') * 10 + (unsigned)(p[11] - '0');
	/* RFC 9110 §15: every valid status code is within 100..599. */
	if (out->status < 100 || out->status > 599)
		return PC_ESYNTAX;
	if (n == 12) {
		out->reason = p + 12;
		out->reason_len = 0;
		return PC_OK;
	}
	if (p[12] != ' ')
		return PC_ESYNTAX;
	for (size_t i = 13; i < n; i++)
		if (!is_text((unsigned char)p[i]))
			return PC_ESYNTAX;
	out->reason = p + 13;
	out->reason_len = (uint32_t)(n - 13);
	return PC_OK;
}

/* RFC 9112 §5: field-name ":" OWS field-value OWS, no obs-fold (§5.2), no
 * whitespace before the colon (§5.1). */
static int parse_field_line(const char *p, size_t n, struct pc_http_head *out)
{
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return PC_ESYNTAX;
	size_t name_len = i++;
	while (i < n && is_ows((unsigned char)p[i]))
		i++;
	size_t end = n;
	while (end > i && is_ows((unsigned char)p[end - 1]))
		end--;
	for (size_t k = i; k < end; k++)
		if (!is_text((unsigned char)p[k]))
			return PC_ESYNTAX;
	if (out->n_fields == PC_HTTP_MAX_FIELDS)
		return PC_ENOSPC;
	struct pc_http_field *f = &out->fields[out->n_fields++];
	f->name = p;
	f->name_len = (uint32_t)name_len;
	f->value = p + i;
	f->value_len = (uint32_t)(end - i);
	return PC_OK;
}

static int parse_head(const char *in, size_t len, size_t max, bool request,
                      struct pc_http_head *out)
{
	out->method = out->target = out->reason = NULL;
	out->method_len = out->target_len = out->reason_len = 0;
	out->status = 0;
	out->version_minor = 0;
	out->n_fields = 0;
	out->head_len = 0;
	/* The length is returned as an int. */
	if (max > INT_MAX)
		max = INT_MAX;
	size_t limit = len < max ? len : max;
	size_t start = 0;
	/* RFC 9112 §2.2: empty lines before a request line are ignored. */
	if (request)
		while (start + 1 < limit && in[start] == '\r' && in[start + 1] == '\n')
			start += 2;
	long end = find_head_end(in, start, limit);
	if (end < 0)
		return (int)end;
	if (end == 0)
		return len >= max ? PC_ERANGE : 0;

	const char *p = in + start;
	size_t n = line_length(p);
	int rc = request ? parse_request_line(p, n, out) : parse_status_line(p, n, out);
	if (rc < 0)
		return rc;
	for (p += n + 2; (n = line_length(p)) != 0; p += n + 2)
		if ((rc = parse_field_line(p, n, out)) < 0)
			return rc;
	out->head_len = (size_t)end;
	return (int)end;
}

int pc_http_parse_request(const char *in, size_t len, size_t max, struct pc_http_head *out)
{
	return parse_head(in, len, max, true, out);
}

int pc_http_parse_response(const char *in, size_t len, size_t max, struct pc_http_head *out)
{
	return parse_head(in, len, max, false, out);
}

/* ---- fields ---- */

const struct pc_http_field *pc_http_field_find(const struct pc_http_head *head, const char *name,
                                               unsigned from)
{
	for (unsigned i = from; i < head->n_fields; i++)
		if (ieq(head->fields[i].name, head->fields[i].name_len, name))
			return &head->fields[i];
	return NULL;
}

void pc_http_list_begin(struct pc_http_list *list, const struct pc_http_head *head,
                        const char *name)
{
	list->head = head;
	list->name = name;
	list->field = 0;
	list->pos = 0;
}

bool pc_http_list_next(struct pc_http_list *list, const char **item, uint32_t *len)
{
	const struct pc_http_head *head = list->head;
	for (; list->field < head->n_fields; list->field++, list->pos = 0) {
		const struct pc_http_field *f = &head->fields[list->field];
		if (!ieq(f->name, f->name_len, list->name))
			continue;
		const char *v = f->value;
		uint32_t n = f->value_len;
		while (list->pos < n) {
			uint32_t start = list->pos, i = start;
			bool quoted = false;
			for (; i < n; i++) {
				char c = v[i];
				if (quoted) {
					if (c == '\\' && i + 1 < n)
						i++; /* quoted-pair */
					else if (c == '"')
						quoted = false;
				} else if (c == '"') {
					quoted = true;
				} else if (c == ',') {
					break;
				}
			}
			list->pos = i < n ? i + 1 : n;
			uint32_t end = i;
			while (start < end && is_ows((unsigned char)v[start]))
				start++;
			while (end > start && is_ows((unsigned char)v[end - 1]))
				end--;
			if (end > start) {
				*item = v + start;
				*len = end - start;
				return true;
			}
		}
	}
	return false;
}

bool pc_http_field_has_token(const struct pc_http_head *head, const char *name, const char *token)
{
	struct pc_http_list list;
	const char *item;
	uint32_t len;
	pc_http_list_begin(&list, head, name);
	while (pc_http_list_next(&list, &item, &len))
		if (ieq(item, len, token))
			return true;
	return false;
}

bool pc_http_field_is_hop(const struct pc_http_head *head, const struct pc_http_field *field)
{
	static const char *const hop[] = {
	    "Connection", "Keep-Alive",         "Proxy-Connection",
	    "TE",         "Transfer-Encoding",  "Upgrade",
	    "Trailer",    "Proxy-Authenticate", "Proxy-Authorization",
	};
	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (ieq(field->name, field->name_len, hop[i]))
			return true;
	struct pc_http_list list;
	const char *item;
	uint32_t len;
	pc_http_list_begin(&list, head, "Connection");
	while (pc_http_list_next(&list, &item, &len))
		if (ieq2(field->name, field->name_len, item, len))
			return true;
	return false;
}

/* ---- framing (RFC 9112 §6) ---- */

/* 1*DIGIT, at most MAX_BODY_SIZE. */
static bool parse_length(const char *p, uint32_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)p[i]))
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
		if (v > MAX_BODY_SIZE)
			return false;
	}
	*out = v;
	return true;
}

/* RFC 9110 §8.6: a list of identical values ("5, 5"), or repeated fields
 * with the same value, is one length; anything else is an error. Returns 1
 * with *length, 0 when there is no Content-Length. */
static int content_length(const struct pc_http_head *head, uint64_t *length)
{
	bool present = false;
	for (unsigned i = 0; i < head->n_fields; i++) {
		const struct pc_http_field *f = &head->fields[i];
		if (ieq(f->name, f->name_len, "Content-Length") && f->value_len == 0)
			return PC_ESYNTAX;
	}
	struct pc_http_list list;
	const char *item;
	uint32_t len;
	uint64_t value;
	pc_http_list_begin(&list, head, "Content-Length");
	while (pc_http_list_next(&list, &item, &len)) {
		if (!parse_length(item, len, &value) || (present && value != *length))
			return PC_ESYNTAX;
		present = true;
		*length = value;
	}
	if (!present && pc_http_field_find(head, "Content-Length", 0) != NULL)
		return PC_ESYNTAX; /* only commas */
	return present ? 1 : 0;
}

struct codings {
	unsigned n;         /* codings listed */
	unsigned n_chunked; /* of which chunked */
	bool last_chunked;
};

/* Returns 1 with the codings of Transfer-Encoding, 0 when there is none. */
static int transfer_codings(const struct pc_http_head *head, struct codings *out)
{
	*out = (struct codings){0};
	const struct pc_http_field *f = pc_http_field_find(head, "Transfer-Encoding", 0);
	if (f == NULL)
		return 0;
	struct pc_http_list list;
	const char *item;
	uint32_t len;
	pc_http_list_begin(&list, head, "Transfer-Encoding");
	while (pc_http_list_next(&list, &item, &len)) {
		out->last_chunked = ieq(item, len, "chunked");
		out->n_chunked += out->last_chunked;
		out->n++;
	}
	return out->n == 0 ? PC_ESYNTAX : 1;
}

/* What both directions share: the Content-Length and Transfer-Encoding
 * checks. Returns 1 when Transfer-Encoding is there (codings filled). */
static int common_framing(const struct pc_http_head *head, struct codings *codings,
                          uint64_t *length, bool *has_length)
{
	int te = transfer_codings(head, codings);
	if (te < 0)
		return te;
	int cl = content_length(head, length);
	if (cl < 0)
		return cl;
	*has_length = cl == 1;
	if (te == 0)
		return 0;
	/* RFC 9112 §6.1: both is a smuggling attempt; TE in HTTP/1.0 is faulty
	 * framing. Either way, refuse rather than guess. */
	if (*has_length || head->version_minor == 0)
		return PC_ESYNTAX;
	/* RFC 9112 §7: chunked must not be applied twice. */
	if (codings->n_chunked > 1)
		return PC_ESYNTAX;
	return 1;
}

int pc_http_request_framing(const struct pc_http_head *head, enum pc_http_framing *framing,
                            uint64_t *length)
{
	struct codings codings;
	bool has_length;
	*framing = PC_HTTP_BODY_NONE;
	*length = 0;
	int rc = common_framing(head, &codings, length, &has_length);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		/* RFC 9112 §6.3 (4): a request's body must end in chunked. */
		if (!codings.last_chunked)
			return PC_ESYNTAX;
		if (codings.n > 1)
			return PC_ENOTSUP;
		*framing = PC_HTTP_BODY_CHUNKED;
		return PC_OK;
	}
	if (has_length)
		*framing = PC_HTTP_BODY_LENGTH;
	else
		*length = 0;
	return PC_OK;
}

int pc_http_response_framing(const struct pc_http_head *head, bool head_request,
                             enum pc_http_framing *framing, uint64_t *length)
{
	*framing = PC_HTTP_BODY_NONE;
	*length = 0;
	/* RFC 9112 §6.3 (1) */
	if (head_request || head->status < 200 || head->status == 204 || head->status == 304)
		return PC_OK;
	struct codings codings;
	bool has_length;
	int rc = common_framing(head, &codings, length, &has_length);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		/* Another coding, even under chunked, could only be passed on
		 * in Transfer-Encoding, which is hop-by-hop: we cannot undo it. */
		if (codings.n > codings.n_chunked)
			return PC_ENOTSUP;
		*length = 0;
		*framing = PC_HTTP_BODY_CHUNKED;
		return PC_OK;
	}
	if (has_length) {
		*framing = PC_HTTP_BODY_LENGTH;
	} else {
		*length = 0;
		*framing = PC_HTTP_BODY_CLOSE;
	}
	return PC_OK;
}

/* ---- reasons ---- */

static const struct {
	unsigned short status;
	const char *text;
} REASONS[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {206, "Partial Content"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {421, "Misdirected Request"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {508, "Loop Detected"},
};

const char *pc_http_reason(unsigned status)
{
	for (size_t i = 0; i < sizeof(REASONS) / sizeof(REASONS[0]); i++)
		if (REASONS[i].status == status)
			return REASONS[i].text;
	return "Unknown";
}

/* ---- dates (RFC 9110 §5.6.7) ---- */

/* Day and month names are case-sensitive (%s"..." in the ABNF). */
static const char DAY_SHORT[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const DAY_LONG[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};
static const char MONTH[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
/* 9999-12-31T23:59:59Z, the last second an IMF-fixdate can write. */
#define MAX_DATE INT64_C(253402300799)

/* Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic
 * Gregorian date, with no time zone or locale in the way. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n digits at p, or -1 */
static int digits(const char *p, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static int month_index(const char *p)
{
	for (int i = 0; i < 12; i++)
		if (memcmp(p, MONTH[i], 3) == 0)
			return i;
	return -1;
}

/* "hh:mm:ss" at p into *seconds of the day. */
static bool parse_time(const char *p, int *seconds)
{
	int h = digits(p, 2), m = digits(p + 3, 2), s = digits(p + 6, 2);
	/* 60: a leap second (RFC 5322 §3.3 allows it). */
	if (p[2] != ':' || p[5] != ':' || h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60)
		return false;
	*seconds = h * 3600 + m * 60 + s;
	return true;
}

static int64_t to_epoch(int year, int month, int day, int seconds)
{
	static const unsigned char days_in[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (year < 0 || month < 0 || day < 1)
		return -1;
	unsigned dim = days_in[month] + (month == 1 && is_leap((unsigned)year));
	if ((unsigned)day > dim)
		return -1;
	if (year < 1970)
		return 0; /* long past: the header promises no negative times */
	return days_from_civil(year, (unsigned)month + 1, (unsigned)day) * 86400 + seconds;
}

/* Sun, 06 Nov 1994 08:49:37 GMT */
static int64_t parse_imf(const char *p)
{
	int day_name = -1;
	for (int i = 0; i < 7; i++)
		if (memcmp(p, DAY_SHORT[i], 3) == 0)
			day_name = i;
	int seconds;
	if (day_name < 0 || p[3] != ',' || p[4] != ' ' || p[7] != ' ' || p[11] != ' ' ||
	    p[16] != ' ' || !parse_time(p + 17, &seconds) || memcmp(p + 25, " GMT", 4) != 0)
		return -1;
	return to_epoch(digits(p + 12, 4), month_index(p + 8), digits(p + 5, 2), seconds);
}

/* Sunday, 06-Nov-94 08:49:37 GMT. RFC 9110 §5.6.7 reads a two-digit year
 * relative to now; without a clock, 70..99 are 19xx and 00..69 are 20xx,
 * which is the same answer until 2039. */
static int64_t parse_rfc850(const char *p, size_t len)
{
	const char *comma = memchr(p, ',', len);
	if (comma == NULL)
		return -1;
	int day_name = -1;
	for (int i = 0; i < 7; i++)
		if ((size_t)(comma - p) == strlen(DAY_LONG[i]) &&
		    memcmp(p, DAY_LONG[i], (size_t)(comma - p)) == 0)
			day_name = i;
	const char *q = comma + 1;
	int seconds;
	if (day_name < 0 || (size_t)(p + len - q) != 23 || q[0] != ' ' || q[3] != '-' ||
	    q[7] != '-' || q[10] != ' ' || !parse_time(q + 11, &seconds) ||
	    memcmp(q + 19, " GMT", 4) != 0)
		return -1;
	int yy = digits(q + 8, 2);
	if (yy < 0)
		return -1;
	return to_epoch(yy < 70 ? 2000 + yy : 1900 + yy, month_index(q + 4), digits(q + 1, 2),
	                seconds);
}

/* Sun Nov  6 08:49:37 1994 */
static int64_t parse_asctime(const char *p)
{
	int day_name = -1;
	for (int i = 0; i < 7; i++)
		if (memcmp(p, DAY_SHORT[i], 3) == 0)
			day_name = i;
	int seconds;
	if (day_name < 0 || p[3] != ' ' || p[7] != ' ' || p[10] != ' ' || p[19] != ' ' ||
	    !parse_time(p + 11, &seconds))
		return -1;
	int day = p[8] == ' ' ? digits(p + 9, 1) : digits(p + 8, 2);
	return to_epoch(digits(p + 20, 4), month_index(p + 4), day, seconds);
}

int64_t pc_http_date_parse(const char *value, size_t len)
{
	while (len > 0 && is_ows((unsigned char)value[0]))
		value++, len--;
	while (len > 0 && is_ows((unsigned char)value[len - 1]))
		len--;
	if (len == 29)
		return parse_imf(value);
	if (len == 24)
		return parse_asctime(value);
	if (len >= 30 && len <= 33)
		return parse_rfc850(value, len);
	return -1;
}

void pc_http_date_format(int64_t t, char out[PC_HTTP_DATE_SIZE])
{
	if (t < 0)
		t = 0;
	if (t > MAX_DATE)
		t = MAX_DATE;
	int64_t z = t / 86400;
	unsigned secs = (unsigned)(t % 86400);
	unsigned weekday = (unsigned)((z + 4) % 7); /* 1970-01-01 was a Thursday */
	/* Hinnant's civil_from_days, for z >= 0. */
	z += 719468;
	int64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned day = doy - (153 * mp + 2) / 5 + 1;
	unsigned month = mp < 10 ? mp + 3 : mp - 9;
	unsigned year = (unsigned)(yoe + era * 400) + (month <= 2);
	unsigned hh = secs / 3600, mm = secs / 60 % 60, ss = secs % 60;
	char *p = out;
	memcpy(p, DAY_SHORT[weekday], 3);
	p[3] = ',';
	p[4] = ' ';
	p[5] = (char)('0' + day / 10);
	p[6] = (char)('0' + day % 10);
	p[7] = ' ';
	memcpy(p + 8, MONTH[month - 1], 3);
	p[11] = ' ';
	p[12] = (char)('0' + year / 1000);
	p[13] = (char)('0' + year / 100 % 10);
	p[14] = (char)('0' + year / 10 % 10);
	p[15] = (char)('0' + year % 10);
	p[16] = ' ';
	p[17] = (char)('0' + hh / 10);
	p[18] = (char)('0' + hh % 10);
	p[19] = ':';
	p[20] = (char)('0' + mm / 10);
	p[21] = (char)('0' + mm % 10);
	p[22] = ':';
	p[23] = (char)('0' + ss / 10);
	p[24] = (char)('0' + ss % 10);
	memcpy(p + 25, " GMT", 5); /* and the NUL */
}

/* ---- chunked bodies (RFC 9112 §7.1) ---- */

enum chunk_state {
	CHUNK_SIZE,     /* hex digits of a chunk-size */
	CHUNK_SIZE_BWS, /* whitespace after the size: only ";" may follow */
	CHUNK_EXT,      /* a chunk-ext, ignored up to CR */
	CHUNK_SIZE_LF,  /* CR seen at the end of the size line */
	CHUNK_DATA,     /* remaining bytes of chunk data */
	CHUNK_DATA_CR,  /* the CRLF after the data */
	CHUNK_DATA_LF,
	CHUNK_TRAILER,    /* at the start of a trailer line or the final CRLF */
	CHUNK_TRAILER_IN, /* inside a trailer line */
	CHUNK_TRAILER_LF, /* CR seen at the end of a trailer line */
	CHUNK_END_LF,     /* CR seen of the final CRLF */
	CHUNK_DONE,
};

void pc_http_chunked_init(struct pc_http_chunked *chunked)
{
	chunked->state = CHUNK_SIZE;
	chunked->remaining = 0;
	chunked->line_len = 0;
}

static int hex_value(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	c = ascii_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* After a size line: data follows, or the trailers when the size was 0. */
static void size_line_ended(struct pc_http_chunked *ch)
{
	ch->state = ch->remaining > 0 ? CHUNK_DATA : CHUNK_TRAILER;
	ch->line_len = 0;
}

int pc_http_chunked_feed(struct pc_http_chunked *ch, const char *in, size_t len, size_t *consumed,
                         const char **data, size_t *data_len)
{
	*data = NULL;
	*data_len = 0;
	size_t i = 0;
	int rc = 0;
	while (i < len && ch->state != CHUNK_DONE) {
		unsigned char c = (unsigned char)in[i];
		if (ch->state == CHUNK_DATA) {
			size_t run = len - i;
			if (run > ch->remaining)
				run = (size_t)ch->remaining;
			*data = in + i;
			*data_len = run;
			i += run;
			ch->remaining -= run;
			if (ch->remaining == 0)
				ch->state = CHUNK_DATA_CR;
			break; /* one run per call */
		}
		i++;
		switch (ch->state) {
		case CHUNK_SIZE: {
			int h = hex_value(c);
			if (h >= 0) {
				if (ch->remaining > (MAX_BODY_SIZE - (uint64_t)h) / 16)
					goto bad;
				ch->remaining = ch->remaining * 16 + (uint64_t)h;
			} else if (ch->line_len == 0) {
				goto bad; /* no digits */
			} else if (c == '\r') {
				ch->state = CHUNK_SIZE_LF;
				continue;
			} else if (c == ';') {
				ch->state = CHUNK_EXT;
			} else if (is_ows(c)) {
				ch->state = CHUNK_SIZE_BWS;
			} else {
				goto bad;
			}
			break;
		}
		case CHUNK_SIZE_BWS:
			if (c == ';')
				ch->state = CHUNK_EXT;
			else if (!is_ows(c))
				goto bad;
			break;
		case CHUNK_EXT:
			if (c == '\r') {
				ch->state = CHUNK_SIZE_LF;
				continue;
			}
			if (!is_text(c))
				goto bad;
			break;
		case CHUNK_SIZE_LF:
			if (c != '\n')
				goto bad;
			size_line_ended(ch);
			continue;
		case CHUNK_DATA_CR:
			if (c != '\r')
				goto bad;
			ch->state = CHUNK_DATA_LF;
			continue;
		case CHUNK_DATA_LF:
			if (c != '\n')
				goto bad;
			ch->state = CHUNK_SIZE;
			ch->line_len = 0;
			continue;
		case CHUNK_TRAILER:
			if (c == '\r') {
				ch->state = CHUNK_END_LF;
				continue;
			}
			/* A trailer field line; obs-fold and bare LF are refused as in
			 * a head. */
			if (!is_tchar(c))
				goto bad;
			ch->state = CHUNK_TRAILER_IN;
			ch->line_len = 0;
			break;
		case CHUNK_TRAILER_IN:
			if (c == '\r') {
				ch->state = CHUNK_TRAILER_LF;
				continue;
			}
			if (!is_text(c))
				goto bad;
			break;
		case CHUNK_TRAILER_LF:
			if (c != '\n')
				goto bad;
			ch->state = CHUNK_TRAILER;
			continue;
		case CHUNK_END_LF:
			if (c != '\n')
				goto bad;
			ch->state = CHUNK_DONE;
			continue;
		default:
			goto bad;
		}
		/* Still on a size or trailer line (its CRLF not counted). */
		if (++ch->line_len > MAX_CHUNK_LINE)
			goto bad;
	}
	if (ch->state == CHUNK_DONE)
		rc = 1;
	*consumed = i;
	return rc;
bad:
	*consumed = i;
	*data = NULL;
	*data_len = 0;
	return PC_ESYNTAX;
}
