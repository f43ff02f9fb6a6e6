/* See rtsp_redirect.h. */
#include "lib/proto/rtsp_redirect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { LOCATION_MAX = 8 + 64 + 8 + 8192 + 256, MAX_HEADERS = 100 };

typedef struct pc_rtsp_session pc_rtsp_session;

struct pc_rtsp_session {
	struct pc_http_limits limits;
	enum pc_http_state state;
	struct pc_buf head; /* a head not complete yet */
	uint64_t body_left; /* bytes of a body still to discard */
};

static const char *reason_phrase(unsigned status)
{
	switch (status) {
	case 302:
		return "Moved Temporarily";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Request Entity Too Large";
	case 414:
		return "Request-URI Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "RTSP Version not supported";
	default:
		return "Unknown";
	}
}

static bool token_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* RFC 2326 §6.1: methods are case-sensitive. */
static bool redirectable(const char *method, size_t len)
{
	return token_is(method, len, "OPTIONS") || token_is(method, len, "DESCRIBE") ||
	       token_is(method, len, "SETUP") || token_is(method, len, "PLAY");
}

static bool known_method(const char *method, size_t len)
{
	static const char *const others[] = {"ANNOUNCE", "GET_PARAMETER", "PAUSE",   "RECORD",
	                                     "REDIRECT", "SET_PARAMETER", "TEARDOWN"};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (token_is(method, len, others[i]))
			return true;
	return false;
}

static bool is_tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Parses a decimal of at most 19 digits; false on anything else. */
static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	if (len == 0 || len > 19)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

long pc_rtsp_parse_head(const char *in, size_t len, const struct pc_http_limits *limits,
                        struct pc_rtsp_request *out)
{
	memset(out, 0, sizeof(*out));
	/* Find the end of the head first: every LF must follow a CR. */
	size_t end = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			return -400;
		if (in[i] == '\r' && i + 1 < len && in[i + 1] != '\n')
			return -400;
		if (in[i] == '\0')
			return -400;
		if (i >= 3 && in[i] == '\n' && in[i - 2] == '\n') {
			end = i + 1;
			break;
		}
	}
	if (end == 0)
		return len > limits->max_header_bytes ? -400 : 0;
	if (end > limits->max_header_bytes)
		return -400;

	/* Request line: method SP uri SP "RTSP/1.0" CRLF. */
	const char *p = in, *line_end = memchr(in, '\r', end);
	const char *sp1 = memchr(p, ' ', (size_t)(line_end - p));
	if (sp1 == NULL || sp1 == p)
		return -400;
	for (const char *q = p; q < sp1; q++)
		if (!is_tchar((unsigned char)*q))
			return -400;
	const char *uri = sp1 + 1;
	const char *sp2 = memchr(uri, ' ', (size_t)(line_end - uri));
	if (sp2 == NULL || sp2 == uri)
		return -400;
	for (const char *q = uri; q < sp2; q++)
		if ((unsigned char)*q <= ' ' || (unsigned char)*q >= 0x7f)
			return -400;
	const char *version = sp2 + 1;
	size_t version_len = (size_t)(line_end - version);
	if (version_len < 5 || memcmp(version, "RTSP/", 5) != 0)
		return -400;
	out->method = p;
	out->method_len = (uint32_t)(sp1 - p);
	out->uri = uri;
	out->uri_len = (uint32_t)(sp2 - uri);

	/* Header lines, for CSeq and Content-Length. */
	bool have_length = false;
	unsigned n_headers = 0;
	for (p = line_end + 2; p < in + end - 2; p = line_end + 2) {
		line_end = memchr(p, '\r', (size_t)(in + end - p));
		if (++n_headers > MAX_HEADERS || p[0] == ' ' || p[0] == '\t')
			return -400; /* obsolete folding is not read: it hides headers */
		const char *colon = memchr(p, ':', (size_t)(line_end - p));
		if (colon == NULL || colon == p)
			return -400;
		for (const char *q = p; q < colon; q++)
			if (!is_tchar((unsigned char)*q))
				return -400;
		const char *value = colon + 1;
		size_t value_len = (size_t)(line_end - value);
		trim(&value, &value_len);
		size_t name_len = (size_t)(colon - p);
		uint64_t number;
		if (name_len == 4 && strncasecmp(p, "CSeq", 4) == 0) {
			if (out->has_cseq || !parse_u64(value, value_len, &number) ||
			    number > UINT32_MAX)
				return -400;
			out->has_cseq = true;
			out->cseq = (uint32_t)number;
		} else if (name_len == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
			if (have_length || !parse_u64(value, value_len, &number))
				return -400;
			have_length = true;
			out->content_length = number;
		} else if (name_len == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
			return -501; /* RTSP/1.0 bodies are framed by Content-Length only */
		}
	}
	if (version_len != 8 || memcmp(version, "RTSP/1.0", 8) != 0)
		return -505;
	if (out->uri_len > limits->max_target_bytes)
		return -414;
	if (!out->has_cseq)
		return -400;
	return (long)end;
}

static void respond(pc_rtsp_session *s, const struct pc_redirect_env *env, struct pc_buf *out,
                    unsigned status, const struct pc_rtsp_request *req, const char *location,
                    bool close, struct pc_redirect_result *result)
{
	char date[PC_REDIRECT_DATE_SIZE];
	pc_redirect_date(env->answer.now_ms / 1000, date);
	bool ok = pc_buf_printf(out, "RTSP/1.0 %u %s\r\n", status, reason_phrase(status));
	if (req != NULL && req->has_cseq)
		ok = ok && pc_buf_printf(out, "CSeq: %u\r\n", (unsigned)req->cseq);
	ok = ok && pc_buf_printf(out, "Date: %s\r\nServer: peercdn\r\n", date);
	if (location != NULL)
		ok = ok && pc_buf_printf(out, "Location: %s\r\n", location);
	if (status == 405)
		ok = ok && pc_buf_printf(out, "Allow: OPTIONS, DESCRIBE, SETUP, PLAY\r\n");
	if (close)
		ok = ok && pc_buf_printf(out, "Connection: close\r\n");
	ok = ok && pc_buf_printf(out, "Content-Length: 0\r\n\r\n");
	if (!ok || close)
		s->state = PC_HTTP_CLOSING;
	if (env->on_result != NULL) {
		result->status = status;
		env->on_result(env->on_result_arg, result);
	}
}

static void answer(pc_rtsp_session *s, const struct pc_redirect_env *env,
                   const struct pc_rtsp_request *req, struct pc_buf *out)
{
	struct pc_redirect_result result = {.outcome = PC_REDIRECT__COUNT};
	if (!redirectable(req->method, req->method_len)) {
		bool known = known_method(req->method, req->method_len);
		result.error = known ? "method" : "unknown_method";
		respond(s, env, out, known ? 405 : 501, req, NULL, false, &result);
		return;
	}
	if (req->uri_len < 7 || strncasecmp(req->uri, "rtsp://", 7) != 0) {
		result.error = "uri_form";
		respond(s, env, out, 400, req, NULL, false, &result);
		return;
	}
	char location[LOCATION_MAX];
	enum pc_redirect_outcome outcome =
	    pc_redirect_url(env, req->uri, req->uri_len, location, sizeof(location), &result);
	static const unsigned statuses[PC_REDIRECT__COUNT] = {
	    [PC_REDIRECT_OK] = 302,
	    [PC_REDIRECT_BAD_URL] = 400,
	    [PC_REDIRECT_NOT_AUTHORITATIVE] = 404,
	    [PC_REDIRECT_NO_SUCH_CONTENT] = 404,
	    [PC_REDIRECT_SIGNATURE_REQUIRED] = 403,
	    [PC_REDIRECT_NO_SERVER] = 503,
	    [PC_REDIRECT_ERROR] = 500,
	};
	respond(s, env, out, statuses[outcome], req, outcome == PC_REDIRECT_OK ? location : NULL,
	        false, &result);
}

static void *session_new(const struct pc_http_limits *limits)
{
	pc_rtsp_session *s = calloc(1, sizeof(*s));
	if (s != NULL)
		s->limits = *limits;
	return s;
}

static void session_free(void *session)
{
	pc_rtsp_session *s = session;
	if (s == NULL)
		return;
	pc_buf_free(&s->head);
	free(s);
}

static enum pc_http_state session_feed(void *session, const struct pc_redirect_env *env,
                                       const char *in, size_t len, struct pc_buf *out)
{
	pc_rtsp_session *s = session;
	while (len > 0 && s->state != PC_HTTP_CLOSING) {
		if (s->body_left > 0) {
			size_t n = len < s->body_left ? len : (size_t)s->body_left;
			s->body_left -= n;
			in += n;
			len -= n;
			s->state = s->body_left > 0 ? PC_HTTP_BODY : PC_HTTP_IDLE;
			continue;
		}
		/* Work on the input in place when no partial head is kept. */
		const char *head = in;
		size_t head_len = len;
		size_t kept = s->head.len;
		if (kept > 0) {
			size_t take = len;
			if (take > (size_t)s->limits.max_header_bytes + 4 - kept)
				take = (size_t)s->limits.max_header_bytes + 4 - kept;
			if (!pc_buf_append(&s->head, in, take)) {
				s->state = PC_HTTP_CLOSING;
				break;
			}
			head = s->head.data;
			head_len = s->head.len;
		}
		struct pc_rtsp_request req;
		long n = pc_rtsp_parse_head(head, head_len, &s->limits, &req);
		if (n == 0) {
			if (kept == 0 && !pc_buf_append(&s->head, in, len))
				s->state = PC_HTTP_CLOSING;
			else if (s->state != PC_HTTP_CLOSING)
				s->state = PC_HTTP_HEAD;
			break;
		}
		if (n < 0) {
			struct pc_redirect_result result = {.outcome = PC_REDIRECT__COUNT,
			                                    .error = "bad_request"};
			respond(s, env, out, (unsigned)-n, &req, NULL, true, &result);
			break;
		}
		/* The bytes of this head that came from in. */
		size_t used = (size_t)n - kept;
		if (req.content_length > s->limits.max_body_bytes) {
			struct pc_redirect_result result = {.outcome = PC_REDIRECT__COUNT,
			                                    .error = "body_too_large"};
			respond(s, env, out, 413, &req, NULL, true, &result);
			break;
		}
		answer(s, env, &req, out);
		s->head.len = 0;
		s->body_left = req.content_length;
		if (s->state != PC_HTTP_CLOSING)
			s->state = s->body_left > 0 ? PC_HTTP_BODY : PC_HTTP_IDLE;
		in += used;
		len -= used;
	}
	return s->state;
}

static enum pc_http_state session_end(void *session, const struct pc_redirect_env *env,
                                      bool timeout, struct pc_buf *out)
{
	pc_rtsp_session *s = session;
	if (s->state == PC_HTTP_HEAD || s->state == PC_HTTP_BODY) {
		struct pc_redirect_result result = {.outcome = PC_REDIRECT__COUNT,
		                                    .error = timeout ? "timeout" : "truncated"};
		respond(s, env, out, timeout ? 408 : 400, NULL, NULL, true, &result);
	}
	s->state = PC_HTTP_CLOSING;
	return s->state;
}

const struct pc_session_ops pc_rtsp_session_ops = {
    .name = "rtsp",
    .status_line = "RTSP/1.0 ",
    .create = session_new,
    .feed = session_feed,
    .end = session_end,
    .destroy = session_free,
};
