/* See http_redirect.h. http_parser does the RFC 9112 grammar, chunked
 * bodies and the Content-Length / Transfer-Encoding checks; around it a
 * small scanner reads each request head first, because http_parser
 * accepts bare LF and obsolete line folding, which let a front end and a
 * back end disagree on where a request ends (request smuggling), and has
 * only one compile-time limit for heads. */
#include "lib/proto/http_msg.h"
#include "lib/proto/http_redirect.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
	MAX_HOST = 255, /* a DNS name, with a port it is still less */
	MAX_FIELD = 31, /* the longest field name we look at is shorter */
	MAX_HEADERS = 100,
	LOCATION_MAX = 8 + 64 + 8 + 8192 + 256,
};

enum field { F_OTHER, F_HOST, F_EXPECT };

typedef struct pc_http_session pc_http_session;

struct pc_http_session {
	http_parser parser;
	struct pc_http_limits limits;
	enum pc_http_state state;
	/* The head scanner (see the file comment). */
	uint32_t head_bytes, line_len, lines;
	bool cr;
	/* The request being read. */
	char *url; /* "http://" host target, for pc_url_parse */
	uint32_t target_len;
	char host[MAX_HOST + 1];
	uint32_t host_len, n_hosts, n_headers;
	char field_name[MAX_FIELD + 1];
	uint32_t field_len;
	enum field field;
	bool in_value, expect_continue, answer_early, responded;
	uint64_t body_bytes;
	/* An error found in a callback: answered after http_parser returns. */
	unsigned error_status;
	const char *error;
	/* During a feed. */
	const struct pc_redirect_env *env;
	struct pc_buf *out;
	bool out_of_memory;
	char date[PC_REDIRECT_DATE_SIZE];
	uint64_t date_s;
};

static const char ALLOW[] = "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH";

static const char *date_header(pc_http_session *s)
{
	uint64_t now_s = s->env->answer.now_ms / 1000;
	if (s->date[0] == '\0' || now_s != s->date_s) {
		pc_redirect_date(now_s, s->date);
		s->date_s = now_s;
	}
	return s->date;
}

/* Writes one response. Bodies are for people reading error pages; a HEAD
 * gets the same headers without it. */
static void respond(pc_http_session *s, unsigned status, const char *location, const char *message,
                    bool close, struct pc_redirect_result *result)
{
	bool head = s->parser.method == HTTP_HEAD && s->error_status == 0;
	size_t body_len = message != NULL ? strlen(message) + 10 : 0; /* "peercdn: " ... "\n" */
	bool ok = pc_buf_printf(s->out, "HTTP/1.1 %u %s\r\nDate: %s\r\nServer: peercdn\r\n", status,
	                        pc_http_reason(status), date_header(s));
	if (location != NULL)
		ok = ok && pc_buf_printf(s->out, "Location: %s\r\n", location);
	if (status == 405 || status == 204)
		ok = ok && pc_buf_printf(s->out, "Allow: %s\r\n", ALLOW);
	if (status == 503)
		ok = ok && pc_buf_printf(s->out, "Retry-After: 10\r\n");
	if (body_len > 0)
		ok = ok && pc_buf_printf(s->out, "Content-Type: text/plain\r\n");
	if (close)
		ok = ok && pc_buf_printf(s->out, "Connection: close\r\n");
	else if (s->parser.http_minor == 0)
		ok = ok && pc_buf_printf(s->out, "Connection: keep-alive\r\n");
	ok = ok && pc_buf_printf(s->out, "Cache-Control: no-store\r\nContent-Length: %zu\r\n\r\n",
	                         body_len);
	if (body_len > 0 && !head)
		ok = ok && pc_buf_printf(s->out, "peercdn: %s\n", message);
	if (!ok)
		s->out_of_memory = true;
	s->responded = true;
	if (close)
		s->state = PC_HTTP_CLOSING;
	if (result != NULL && s->env->on_result != NULL) {
		result->status = status;
		s->env->on_result(s->env->on_result_arg, result);
	}
}

static void respond_error(pc_http_session *s, unsigned status, const char *error,
                          const char *message)
{
	struct pc_redirect_result result = {.outcome = PC_REDIRECT__COUNT, .error = error};
	s->error_status = status;
	respond(s, status, NULL, message, true, &result);
}

/* Fails the request from inside a callback; answered after the parser returns. */
static int fail(pc_http_session *s, unsigned status, const char *error)
{
	if (s->error_status == 0) {
		s->error_status = status;
		s->error = error;
	}
	return -1;
}

static pc_http_session *session_of(http_parser *parser)
{
	return parser->data;
}

static int on_message_begin(http_parser *parser)
{
	pc_http_session *s = session_of(parser);
	s->target_len = s->host_len = s->n_hosts = s->n_headers = s->field_len = 0;
	s->field = F_OTHER;
	s->in_value = s->expect_continue = s->answer_early = s->responded = false;
	s->body_bytes = 0;
	s->state = PC_HTTP_HEAD;
	return 0;
}

static int on_url(http_parser *parser, const char *at, size_t len)
{
	pc_http_session *s = session_of(parser);
	if (len > s->limits.max_target_bytes - s->target_len)
		return fail(s, 414, "target_too_long");
	memcpy(s->url + 7 + MAX_HOST + s->target_len, at, len);
	s->target_len += (uint32_t)len;
	return 0;
}

static int on_header_field(http_parser *parser, const char *at, size_t len)
{
	pc_http_session *s = session_of(parser);
	if (s->in_value || s->n_headers == 0) {
		if (++s->n_headers > MAX_HEADERS)
			return fail(s, 431, "too_many_headers");
		s->field_len = 0;
		s->in_value = false;
	}
	/* Only short names matter (Host, Expect): a longer one is kept as
	 * "too long" (MAX_FIELD + 1) and never matches. */
	if (s->field_len + len > MAX_FIELD) {
		s->field_len = MAX_FIELD + 1;
		return 0;
	}
	memcpy(s->field_name + s->field_len, at, len);
	s->field_len += (uint32_t)len;
	return 0;
}

static enum field classify(const pc_http_session *s)
{
	if (s->field_len == 4 && strncasecmp(s->field_name, "host", 4) == 0)
		return F_HOST;
	if (s->field_len == 6 && strncasecmp(s->field_name, "expect", 6) == 0)
		return F_EXPECT;
	return F_OTHER;
}

static int on_header_value(http_parser *parser, const char *at, size_t len)
{
	pc_http_session *s = session_of(parser);
	if (!s->in_value) {
		s->in_value = true;
		s->field = classify(s);
		if (s->field == F_HOST && ++s->n_hosts > 1)
			return fail(s, 400, "duplicate_host");
	}
	if (s->field == F_HOST) {
		if (len > MAX_HOST - s->host_len)
			return fail(s, 400, "host_too_long");
		memcpy(s->host + s->host_len, at, len);
		s->host_len += (uint32_t)len;
	} else if (s->field == F_EXPECT) {
		if (len >= 12 && strncasecmp(at, "100-continue", 12) == 0)
			s->expect_continue = true;
		else
			return fail(s, 417, "expectation");
	}
	return 0;
}

static bool redirectable(unsigned method)
{
	switch (method) {
	case HTTP_GET:
	case HTTP_HEAD:
	case HTTP_POST:
	case HTTP_PUT:
	case HTTP_DELETE:
	case HTTP_OPTIONS:
	case HTTP_PATCH:
		return true;
	default:
		return false;
	}
}

static bool has_body(const http_parser *parser)
{
	return (parser->flags & F_CHUNKED) ||
	       ((parser->flags & F_CONTENTLENGTH) && parser->content_length > 0);
}

static int on_headers_complete(http_parser *parser)
{
	pc_http_session *s = session_of(parser);
	if (parser->http_major != 1)
		return fail(s, 505, "version");
	if ((parser->flags & F_CHUNKED) && (parser->flags & F_CONTENTLENGTH))
		return fail(s, 400, "length_and_chunked");
	if (parser->http_minor >= 1 && s->n_hosts == 0)
		return fail(s, 400, "no_host");
	if (!redirectable(parser->method))
		return fail(s, 405, "method");
	if ((parser->flags & F_CONTENTLENGTH) && parser->content_length > s->limits.max_body_bytes)
		return fail(s, 413, "body_too_large");
	s->state = has_body(parser) ? PC_HTTP_BODY : PC_HTTP_HEAD;
	/* A client waiting for 100 Continue gets the final answer instead and
	 * sends no body (RFC 9110 §10.1.1); the connection cannot be reused. */
	if (s->state == PC_HTTP_BODY && s->expect_continue) {
		s->answer_early = true;
		return -1;
	}
	return 0;
}

static int on_body(http_parser *parser, const char *at, size_t len)
{
	(void)at;
	pc_http_session *s = session_of(parser);
	s->body_bytes += len;
	if (s->body_bytes > s->limits.max_body_bytes)
		return fail(s, 413, "body_too_large");
	return 0;
}

/* Builds the absolute URL (absolute-form targets are used as they are)
 * and answers it. */
static void answer(pc_http_session *s, bool close)
{
	struct pc_redirect_result result = {0};
	char *target = s->url + 7 + MAX_HOST;
	if (s->target_len == 1 && target[0] == '*' && s->parser.method == HTTP_OPTIONS) {
		result.outcome = PC_REDIRECT__COUNT;
		respond(s, 204, NULL, NULL, close, &result);
		return;
	}
	const char *url;
	size_t url_len;
	if (s->target_len > 0 && target[0] == '/') {
		if (s->host_len == 0) {
			respond_error(s, 400, "no_host", "a request needs a Host header");
			return;
		}
		char *start = target - s->host_len - 7;
		memcpy(start, "http://", 7);
		memcpy(start + 7, s->host, s->host_len);
		url = start;
		url_len = 7 + s->host_len + s->target_len;
	} else if (s->target_len > 7 &&
	           (strncasecmp(target, "http://", 7) == 0 ||
	            (s->target_len > 8 && strncasecmp(target, "https://", 8) == 0))) {
		url = target;
		url_len = s->target_len;
	} else {
		respond_error(s, 400, "target_form", "the request target must be a path or a URL");
		return;
	}
	char location[LOCATION_MAX];
	enum pc_redirect_outcome outcome =
	    pc_redirect_url(s->env, url, url_len, location, sizeof(location), &result);
	static const unsigned statuses[PC_REDIRECT__COUNT] = {
	    [PC_REDIRECT_OK] = 0,
	    [PC_REDIRECT_BAD_URL] = 400,
	    [PC_REDIRECT_NOT_AUTHORITATIVE] = 421,
	    [PC_REDIRECT_NO_SUCH_CONTENT] = 404,
	    [PC_REDIRECT_SIGNATURE_REQUIRED] = 403,
	    [PC_REDIRECT_NO_SERVER] = 503,
	    [PC_REDIRECT_ERROR] = 500,
	};
	if (outcome == PC_REDIRECT_OK) {
		/* HTTP/1.0 has no 307. */
		unsigned status = s->parser.http_minor == 0 ? 302 : s->limits.redirect_status;
		respond(s, status, location, NULL, close, &result);
		return;
	}
	static const char *const messages[PC_REDIRECT__COUNT] = {
	    [PC_REDIRECT_BAD_URL] = "malformed URL",
	    [PC_REDIRECT_NOT_AUTHORITATIVE] = "this redirector does not serve that host",
	    [PC_REDIRECT_NO_SUCH_CONTENT] = "no such content",
	    [PC_REDIRECT_SIGNATURE_REQUIRED] = "this content needs a signed name",
	    [PC_REDIRECT_NO_SERVER] = "no server can take the request now",
	    [PC_REDIRECT_ERROR] = "internal error",
	};
	respond(s, statuses[outcome], NULL, messages[outcome], close, &result);
}

static int on_message_complete(http_parser *parser)
{
	pc_http_session *s = session_of(parser);
	answer(s, !http_should_keep_alive(parser) || parser->upgrade);
	if (s->state != PC_HTTP_CLOSING)
		s->state = PC_HTTP_IDLE;
	/* Stop at the end of each message so the head scanner sees the next. */
	http_parser_pause(parser, 1);
	return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void *session_new(const struct pc_http_limits *limits)
{
	pc_http_session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->limits = *limits;
	if (s->limits.max_target_bytes == 0 || s->limits.max_target_bytes > 65536)
		s->limits.max_target_bytes = 8192;
	s->url = malloc(7 + MAX_HOST + s->limits.max_target_bytes + 1);
	if (s->url == NULL) {
		free(s);
		return NULL;
	}
	http_parser_init(&s->parser, HTTP_REQUEST);
	s->parser.data = s;
	s->state = PC_HTTP_IDLE;
	return s;
}

static void session_free(void *session)
{
	pc_http_session *s = session;
	if (s == NULL)
		return;
	free(s->url);
	free(s);
}

/* Scans head bytes for what RFC 9112 lets a server reject and http_parser
 * accepts: a LF without CR (§2.2), a CR without LF, obsolete line folding
 * (§5.2), NUL. Returns the bytes up to and including the head's empty line
 * (or len when it is not there yet), or -1 with s->error set. */
static long scan_head(pc_http_session *s, const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (s->cr) {
			s->cr = false;
			if (c != '\n')
				return fail(s, 400, "bare_cr"), -1;
			if (s->line_len == 0 && s->lines > 0)
				return (long)i + 1; /* the empty line that ends the head */
			if (s->line_len > 0)
				s->lines++;
			s->line_len = 0;
			continue;
		}
		if (c == '\r') {
			s->cr = true;
			continue;
		}
		if (c == '\n')
			return fail(s, 400, "bare_lf"), -1;
		if (c == '\0')
			return fail(s, 400, "nul"), -1;
		if (s->line_len == 0 && s->lines > 0 && (c == ' ' || c == '\t'))
			return fail(s, 400, "obs_fold"), -1;
		s->line_len++;
	}
	return (long)len;
}

static unsigned parser_error_status(enum http_errno err)
{
	switch (err) {
	case HPE_INVALID_METHOD:
		return 501;
	case HPE_INVALID_TRANSFER_ENCODING:
		return 501;
	case HPE_HEADER_OVERFLOW:
		return 431;
	default:
		return 400;
	}
}

static enum pc_http_state session_feed(void *session, const struct pc_redirect_env *env,
                                       const char *in, size_t len, struct pc_buf *out)
{
	pc_http_session *s = session;
	s->env = env;
	s->out = out;
	size_t off = 0;
	/* Each round ends at a head's end, a message's end or the input's end. */
	while (off < len && s->state != PC_HTTP_CLOSING) {
		size_t chunk = len - off;
		bool head = s->state == PC_HTTP_IDLE || s->state == PC_HTTP_HEAD;
		if (head) {
			long n = scan_head(s, in + off, chunk);
			if (n < 0) {
				respond_error(s, s->error_status, s->error,
				              "malformed request head");
				break;
			}
			if ((uint64_t)s->head_bytes + (uint64_t)n > s->limits.max_header_bytes) {
				respond_error(s, 431, "head_too_large", "request head too large");
				break;
			}
			s->head_bytes += (uint32_t)n;
			chunk = (size_t)n;
			if (s->state == PC_HTTP_IDLE)
				s->state = PC_HTTP_HEAD;
		}
		size_t parsed = http_parser_execute(&s->parser, &settings, in + off, chunk);
		enum http_errno err = HTTP_PARSER_ERRNO(&s->parser);
		if (err == HPE_PAUSED) {
			/* A message ended: the next head starts a fresh scan. */
			http_parser_pause(&s->parser, 0);
			s->head_bytes = s->line_len = s->lines = 0;
			s->cr = false;
			off += parsed;
			continue;
		}
		if (err != HPE_OK) {
			if (s->answer_early) {
				answer(s, true);
			} else if (s->error_status != 0) {
				respond_error(s, s->error_status, s->error, "bad request");
			} else {
				respond_error(s, parser_error_status(err), http_errno_name(err),
				              http_errno_description(err));
			}
			break;
		}
		if (s->parser.upgrade) {
			if (!s->responded)
				respond_error(s, 400, "upgrade",
				              "protocol upgrades are not offered");
			s->state = PC_HTTP_CLOSING;
			break;
		}
		off += parsed;
		if (parsed < chunk)
			break; /* cannot happen without an error; never spin */
	}
	if (s->out_of_memory)
		s->state = PC_HTTP_CLOSING;
	return s->state;
}

static enum pc_http_state session_end(void *session, const struct pc_redirect_env *env,
                                      bool timeout, struct pc_buf *out)
{
	pc_http_session *s = session;
	s->env = env;
	s->out = out;
	if (s->state == PC_HTTP_HEAD || s->state == PC_HTTP_BODY) {
		s->error_status = timeout ? 408 : 400;
		respond_error(s, s->error_status, timeout ? "timeout" : "truncated",
		              timeout ? "request not received in time" : "request cut short");
	}
	s->state = PC_HTTP_CLOSING;
	return s->state;
}

const struct pc_session_ops pc_http_session_ops = {
    .name = "http",
    .status_line = "HTTP/1.1 ",
    .create = session_new,
    .feed = session_feed,
    .end = session_end,
    .destroy = session_free,
};
