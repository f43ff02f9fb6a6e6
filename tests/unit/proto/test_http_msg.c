/* Unit tests of the HTTP/1.1 message parser (lib/proto/http_msg): heads,
 * their rejections, body framing, the chunked decoder, field lists, hop-by-
 * hop fields and dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/err.h"
#include "lib/proto/http_msg.h"

static struct pc_http_head head;

static int request(const char *text)
{
	return pc_http_parse_request(text, strlen(text), 65536, &head);
}

static int response(const char *text)
{
	return pc_http_parse_response(text, strlen(text), 65536, &head);
}

static void assert_span(const char *span, uint32_t len, const char *want)
{
	assert_int_equal(len, strlen(want));
	assert_memory_equal(span, want, len);
}

/* ---- heads ---- */

static void test_request_good(void **state)
{
	(void)state;
	const char *text = "GET /a/b?c=d HTTP/1.1\r\n"
	                   "Host: www.foo.com\r\n"
	                   "Accept:  \t text/html \t\r\n"
	                   "X-Empty:\r\n"
	                   "X-Obs: caf\xc3\xa9\r\n"
	                   "\r\n"
	                   "body";
	int n = request(text);
	assert_int_equal(n, strlen(text) - 4);
	assert_int_equal(head.head_len, (size_t)n);
	assert_span(head.method, head.method_len, "GET");
	assert_span(head.target, head.target_len, "/a/b?c=d");
	assert_int_equal(head.version_minor, 1);
	assert_int_equal(head.n_fields, 4);
	assert_span(head.fields[0].name, head.fields[0].name_len, "Host");
	assert_span(head.fields[0].value, head.fields[0].value_len, "www.foo.com");
	assert_span(head.fields[1].value, head.fields[1].value_len, "text/html");
	assert_span(head.fields[2].name, head.fields[2].name_len, "X-Empty");
	assert_int_equal(head.fields[2].value_len, 0);
	assert_span(head.fields[3].value, head.fields[3].value_len, "caf\xc3\xa9");
	assert_null(pc_http_field_find(&head, "host", 1));
	assert_ptr_equal(pc_http_field_find(&head, "HOST", 0), &head.fields[0]);
	assert_ptr_equal(pc_http_field_find(&head, "x-empty", 0), &head.fields[2]);
	assert_null(pc_http_field_find(&head, "Hos", 0));
}

static void test_request_forms(void **state)
{
	(void)state;
	assert_true(request("GET http://www.foo.com/x HTTP/1.0\r\n\r\n") > 0);
	assert_span(head.target, head.target_len, "http://www.foo.com/x");
	assert_int_equal(head.version_minor, 0);
	assert_true(request("CONNECT www.foo.com:443 HTTP/1.1\r\n\r\n") > 0);
	assert_true(request("CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n") > 0);
	assert_true(request("OPTIONS * HTTP/1.1\r\n\r\n") > 0);
	assert_true(request("M-SEARCH /x HTTP/1.1\r\n\r\n") > 0);
	assert_span(head.method, head.method_len, "M-SEARCH");
	assert_int_equal(head.n_fields, 0);
	/* RFC 9112 §2.2: empty lines before the request line are skipped,
	 * and counted in the length. */
	const char *text = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
	assert_int_equal(request(text), strlen(text));
	assert_span(head.method, head.method_len, "GET");
}

static void test_request_rejections(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int rc;
	} cases[] = {
	    {"GET / HTTP/1.1\nHost: a\r\n\r\n", PC_ESYNTAX},       /* bare LF */
	    {"GET / HTTP/1.1\r\nHost: a\n\r\n", PC_ESYNTAX},       /* bare LF */
	    {"GET / HTTP/1.1\r\nHost: a\r\n\n", PC_ESYNTAX},       /* bare LF */
	    {"GET / HTTP/1.1\r\n\n", PC_ESYNTAX},                  /* bare LF */
	    {"\nGET / HTTP/1.1\r\n\r\n", PC_ESYNTAX},              /* bare LF */
	    {"GET / HTTP/1.1\rHost: a\r\n\r\n", PC_ESYNTAX},       /* bare CR */
	    {"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", PC_ESYNTAX},  /* bare CR */
	    {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", PC_ESYNTAX},    /* SP before colon */
	    {"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", PC_ESYNTAX},   /* HTAB before colon */
	    {"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", PC_ESYNTAX},  /* obs-fold */
	    {"GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", PC_ESYNTAX}, /* obs-fold */
	    {"GET / HTTP/1.1\r\n Host: a\r\n\r\n", PC_ESYNTAX},    /* space first */
	    {"GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", PC_ESYNTAX},    /* control */
	    {"GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", PC_ESYNTAX},    /* DEL */
	    {"GET / HTTP/1.1\r\nX: a\x1b[0m\r\n\r\n", PC_ESYNTAX}, /* ESC */
	    {"GET / HTTP/1.1\r\nX(: a\r\n\r\n", PC_ESYNTAX},       /* not a token */
	    {"GET / HTTP/1.1\r\n: a\r\n\r\n", PC_ESYNTAX},         /* empty name */
	    {"GET / HTTP/1.1\r\nHost a\r\n\r\n", PC_ESYNTAX},      /* no colon */
	    {"GET  / HTTP/1.1\r\n\r\n", PC_ESYNTAX},               /* two spaces */
	    {"GET / HTTP/1.1 \r\n\r\n", PC_ESYNTAX},               /* trailing space */
	    {"GET /a b HTTP/1.1\r\n\r\n", PC_ESYNTAX},             /* space in target */
	    {"GET /a\tb HTTP/1.1\r\n\r\n", PC_ESYNTAX},            /* tab in target */
	    {"GET /a\x7f HTTP/1.1\r\n\r\n", PC_ESYNTAX},           /* DEL in target */
	    {"GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", PC_ESYNTAX},     /* raw UTF-8 */
	    {"GET\t/ HTTP/1.1\r\n\r\n", PC_ESYNTAX},               /* tab separator */
	    {"G(T / HTTP/1.1\r\n\r\n", PC_ESYNTAX},                /* method token */
	    {" GET / HTTP/1.1\r\n\r\n", PC_ESYNTAX},               /* empty method */
	    {"GET  HTTP/1.1\r\n\r\n", PC_ESYNTAX},                 /* empty target */
	    {"GET /\r\n\r\n", PC_ESYNTAX},                         /* HTTP/0.9 */
	    {"GET / http/1.1\r\n\r\n", PC_ESYNTAX},                /* case */
	    {"GET / HTTP/1.1x\r\n\r\n", PC_ESYNTAX},               /* garbage */
	    {"GET / HTTP/11\r\n\r\n", PC_ESYNTAX},                 /* garbage */
	    {"GET / HTTP/2\r\n\r\n", PC_ESYNTAX},                  /* garbage */
	    {"GET / HTTP/2.0\r\n\r\n", PC_ENOTSUP},                /* version */
	    {"GET / HTTP/1.2\r\n\r\n", PC_ENOTSUP},                /* version */
	    {"GET / HTTP/0.9\r\n\r\n", PC_ENOTSUP},                /* version */
	    {"GET * HTTP/1.1\r\n\r\n", PC_ESYNTAX},                /* * not OPTIONS */
	    {"GET www.foo.com:80 HTTP/1.1\r\n\r\n", PC_OK},        /* a scheme "www.foo.com" */
	    {"GET foo HTTP/1.1\r\n\r\n", PC_ESYNTAX},              /* no form */
	    {"GET 1http://a/ HTTP/1.1\r\n\r\n", PC_ESYNTAX},       /* scheme starts ALPHA */
	    {"CONNECT /x HTTP/1.1\r\n\r\n", PC_ESYNTAX},           /* authority-form only */
	    {"CONNECT a.b HTTP/1.1\r\n\r\n", PC_ESYNTAX},          /* no port */
	    {"CONNECT a.b:x HTTP/1.1\r\n\r\n", PC_ESYNTAX},        /* bad port */
	    {"CONNECT u@a.b:1 HTTP/1.1\r\n\r\n", PC_ESYNTAX},      /* userinfo */
	    {"HTTP/1.1 200 OK\r\n\r\n", PC_ESYNTAX},               /* a response */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = request(cases[i].text);
		if (cases[i].rc == PC_OK ? rc <= 0 : rc != cases[i].rc)
			fail_msg("case %zu (%s): got %d, want %d", i, cases[i].text, rc,
			         cases[i].rc);
	}
	/* A NUL, which strlen would hide. */
	static const char nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
	assert_int_equal(pc_http_parse_request(nul, sizeof(nul) - 1, 1024, &head), PC_ESYNTAX);
	static const char nul_target[] = "GET /\0 HTTP/1.1\r\n\r\n";
	assert_int_equal(pc_http_parse_request(nul_target, sizeof(nul_target) - 1, 1024, &head),
	                 PC_ESYNTAX);
}

static void test_response_good(void **state)
{
	(void)state;
	const char *text = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabc";
	assert_int_equal(response(text), strlen(text) - 3);
	assert_int_equal(head.status, 404);
	assert_span(head.reason, head.reason_len, "Not Found");
	assert_int_equal(head.version_minor, 1);
	assert_int_equal(head.n_fields, 1);
	assert_null(head.method);

	assert_true(response("HTTP/1.0 200 \r\n\r\n") > 0);
	assert_int_equal(head.reason_len, 0);
	assert_int_equal(head.version_minor, 0);
	/* No SP before an empty reason: common, and frames nothing
	 * differently. */
	assert_true(response("HTTP/1.1 204\r\n\r\n") > 0);
	assert_int_equal(head.status, 204);
	assert_int_equal(head.reason_len, 0);
	assert_true(response("HTTP/1.1 200 D\xc3\xa9j\xc3\xa0 vu\t ok\r\n\r\n") > 0);
	assert_span(head.reason, head.reason_len, "D\xc3\xa9j\xc3\xa0 vu\t ok");
	assert_true(response("HTTP/1.1 599 x\r\n\r\n") > 0);
	assert_true(response("HTTP/1.1 100 Continue\r\n\r\n") > 0);
}

static void test_response_rejections(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int rc;
	} cases[] = {
	    {"HTTP/1.1 200 OK\nX: a\r\n\r\n", PC_ESYNTAX},         /* bare LF */
	    {"HTTP/1.1 200 OK\r\nX: a\r\n\n", PC_ESYNTAX},         /* bare LF */
	    {"HTTP/1.1 200 OK\r\r\n\r\n", PC_ESYNTAX},             /* bare CR */
	    {"HTTP/1.1 200 O\rK\r\n\r\n", PC_ESYNTAX},             /* bare CR */
	    {"\r\nHTTP/1.1 200 OK\r\n\r\n", PC_ESYNTAX},           /* empty line first */
	    {"HTTP/1.1 200 OK\r\nX : a\r\n\r\n", PC_ESYNTAX},      /* SP before colon */
	    {"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", PC_ESYNTAX}, /* obs-fold */
	    {"HTTP/1.1 200 OK\r\nX: \x0b\r\n\r\n", PC_ESYNTAX},    /* VT */
	    {"HTTP/1.1 200 O\x01K\r\n\r\n", PC_ESYNTAX},           /* control in reason */
	    {"HTTP/1.1 20 OK\r\n\r\n", PC_ESYNTAX},                /* two digits */
	    {"HTTP/1.1 2000 OK\r\n\r\n", PC_ESYNTAX},              /* four digits */
	    {"HTTP/1.1 2x0 OK\r\n\r\n", PC_ESYNTAX},
	    {"HTTP/1.1 099 OK\r\n\r\n", PC_ESYNTAX},  /* under 100 */
	    {"HTTP/1.1 600 OK\r\n\r\n", PC_ESYNTAX},  /* over 599 */
	    {"HTTP/1.1  200 OK\r\n\r\n", PC_ESYNTAX}, /* two spaces */
	    {"HTTP/1.1\r\n\r\n", PC_ESYNTAX},
	    {"HTTP/1.1 \r\n\r\n", PC_ESYNTAX},
	    {"HTTP/1.1 200OK\r\n\r\n", PC_ESYNTAX},
	    {"HTTP/1.1\t200 OK\r\n\r\n", PC_ESYNTAX},
	    {"ICY 200 OK\r\n\r\n", PC_ESYNTAX},        /* garbage */
	    {"HTTP/1 200 OK\r\n\r\n", PC_ESYNTAX},     /* garbage */
	    {"HTTP/1.1.1 200 OK\r\n\r\n", PC_ESYNTAX}, /* garbage */
	    {"http/1.1 200 OK\r\n\r\n", PC_ESYNTAX},   /* case */
	    {"HTTP/2.0 200 OK\r\n\r\n", PC_ENOTSUP},
	    {"HTTP/1.9 200 OK\r\n\r\n", PC_ENOTSUP},
	    {"GET / HTTP/1.1\r\n\r\n", PC_ESYNTAX}, /* a request */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = response(cases[i].text);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): got %d, want %d", i, cases[i].text, rc,
			         cases[i].rc);
	}
}

/* Every prefix of a whole head is "not yet" (0), never an error or a
 * shorter head; the whole of it, with or without what follows, is the
 * head. */
static void test_incomplete_every_split(void **state)
{
	(void)state;
	static const char *const requests[] = {
	    "GET /x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
	    "\r\n\r\nPOST /y HTTP/1.0\r\nContent-Length: 2\r\n\r\n",
	    "OPTIONS * HTTP/1.1\r\n\r\n",
	};
	static const char *const responses[] = {
	    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX:\r\n\r\n",
	    "HTTP/1.1 204\r\n\r\n",
	};
	char buf[256];
	for (int kind = 0; kind < 2; kind++) {
		const char *const *list = kind == 0 ? requests : responses;
		size_t count = kind == 0 ? 3 : 2;
		for (size_t k = 0; k < count; k++) {
			size_t n = strlen(list[k]);
			memcpy(buf, list[k], n);
			memcpy(buf + n, "HTTP/1.1 next", 13);
			for (size_t len = 0; len <= n + 13; len++) {
				int rc = kind == 0 ? pc_http_parse_request(buf, len, 1024, &head)
				                   : pc_http_parse_response(buf, len, 1024, &head);
				int want = len < n ? 0 : (int)n;
				if (rc != want)
					fail_msg("%s %zu at %zu: got %d, want %d",
					         kind == 0 ? "request" : "response", k, len, rc,
					         want);
			}
		}
	}
}

static void test_limits(void **state)
{
	(void)state;
	const char *text = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"; /* 27 bytes */
	size_t n = strlen(text);
	assert_int_equal(pc_http_parse_request(text, n, n, &head), (int)n);
	/* No end within max bytes: too large, whether more is there or not. */
	assert_int_equal(pc_http_parse_request(text, n, n - 1, &head), PC_ERANGE);
	assert_int_equal(pc_http_parse_request(text, n - 1, n - 1, &head), PC_ERANGE);
	assert_int_equal(pc_http_parse_request(text, n - 2, n - 1, &head), 0);
	/* Empty lines count against the limit too. */
	char crlfs[64];
	for (size_t i = 0; i < sizeof(crlfs); i += 2)
		memcpy(crlfs + i, "\r\n", 2);
	assert_int_equal(pc_http_parse_request(crlfs, sizeof(crlfs), 32, &head), PC_ERANGE);
	assert_int_equal(pc_http_parse_request(crlfs, sizeof(crlfs), 1024, &head), 0);

	/* PC_HTTP_MAX_FIELDS fields fit, one more does not. */
	char big[4096];
	size_t len = (size_t)sprintf(big, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i < PC_HTTP_MAX_FIELDS; i++)
		len += (size_t)sprintf(big + len, "X-%d: %d\r\n", i, i);
	memcpy(big + len, "\r\n", 2);
	assert_int_equal(pc_http_parse_response(big, len + 2, sizeof(big), &head), (int)len + 2);
	assert_int_equal(head.n_fields, PC_HTTP_MAX_FIELDS);
	assert_span(head.fields[99].name, head.fields[99].name_len, "X-99");
	len += (size_t)sprintf(big + len, "X-last: 1\r\n\r\n");
	assert_int_equal(pc_http_parse_response(big, len, sizeof(big), &head), PC_ENOSPC);
}

/* ---- framing ---- */

struct framing_case {
	const char *text;
	bool head_request;
	int rc;
	enum pc_http_framing framing;
	uint64_t length;
};

static void check_framing(const struct framing_case *cases, size_t count, bool is_request)
{
	for (size_t i = 0; i < count; i++) {
		const struct framing_case *c = &cases[i];
		int parsed = is_request ? request(c->text) : response(c->text);
		if (parsed <= 0)
			fail_msg("case %zu (%s) does not parse: %d", i, c->text, parsed);
		enum pc_http_framing framing = PC_HTTP_BODY_CLOSE;
		uint64_t length = 99;
		int rc = is_request
		             ? pc_http_request_framing(&head, &framing, &length)
		             : pc_http_response_framing(&head, c->head_request, &framing, &length);
		if (rc != c->rc)
			fail_msg("case %zu (%s): got %d, want %d", i, c->text, rc, c->rc);
		if (rc == 0 && (framing != c->framing || length != c->length))
			fail_msg("case %zu (%s): framing %d length %llu, want %d %llu", i, c->text,
			         framing, (unsigned long long)length, c->framing,
			         (unsigned long long)c->length);
	}
}

#define REQ(fields)          "POST / HTTP/1.1\r\n" fields "\r\n"
#define REQ10(fields)        "POST / HTTP/1.0\r\n" fields "\r\n"
#define RESP(status, fields) "HTTP/1.1 " status "\r\n" fields "\r\n"

static void test_request_framing(void **state)
{
	(void)state;
	static const struct framing_case cases[] = {
	    {REQ(""), false, 0, PC_HTTP_BODY_NONE, 0},
	    {REQ("Content-Length: 0\r\n"), false, 0, PC_HTTP_BODY_LENGTH, 0},
	    {REQ("Content-Length: 12\r\n"), false, 0, PC_HTTP_BODY_LENGTH, 12},
	    {REQ("content-length: 007\r\n"), false, 0, PC_HTTP_BODY_LENGTH, 7},
	    {REQ("Content-Length: 5\r\nContent-Length: 5\r\n"), false, 0, PC_HTTP_BODY_LENGTH, 5},
	    {REQ("Content-Length: 5, 5\r\n"), false, 0, PC_HTTP_BODY_LENGTH, 5},
	    {REQ("Content-Length: 5\r\nContent-Length: 6\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Content-Length: 5, 6\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Content-Length: \r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Content-Length: ,\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Content-Length: -1\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Content-Length: +1\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Content-Length: 0x10\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Content-Length: 1 2\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Content-Length: \"1\"\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Content-Length: 99999999999999999999999\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Transfer-Encoding: chunked\r\n"), false, 0, PC_HTTP_BODY_CHUNKED, 0},
	    {REQ("Transfer-Encoding: CHUNKED\r\n"), false, 0, PC_HTTP_BODY_CHUNKED, 0},
	    {REQ("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Transfer-Encoding: gzip\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Transfer-Encoding: chunked, gzip\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Transfer-Encoding: gzip, chunked\r\n"), false, PC_ENOTSUP, 0, 0},
	    {REQ("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), false, PC_ENOTSUP, 0,
	     0},
	    {REQ("Transfer-Encoding: chunked, chunked\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Transfer-Encoding: \r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Transfer-Encoding: xchunked\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ("Transfer-Encoding: \"chunked\"\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ10("Transfer-Encoding: chunked\r\n"), false, PC_ESYNTAX, 0, 0},
	    {REQ10("Content-Length: 4\r\n"), false, 0, PC_HTTP_BODY_LENGTH, 4},
	};
	check_framing(cases, sizeof(cases) / sizeof(cases[0]), true);
}

static void test_response_framing(void **state)
{
	(void)state;
	static const struct framing_case cases[] = {
	    {RESP("200 OK", ""), false, 0, PC_HTTP_BODY_CLOSE, 0},
	    {RESP("200 OK", "Content-Length: 10\r\n"), false, 0, PC_HTTP_BODY_LENGTH, 10},
	    {RESP("200 OK", "Content-Length: 10\r\n"), true, 0, PC_HTTP_BODY_NONE, 0},
	    {RESP("200 OK", "Transfer-Encoding: chunked\r\n"), true, 0, PC_HTTP_BODY_NONE, 0},
	    {RESP("200 OK", "Transfer-Encoding: chunked\r\n"), false, 0, PC_HTTP_BODY_CHUNKED, 0},
	    {RESP("204 No Content", "Content-Length: 10\r\n"), false, 0, PC_HTTP_BODY_NONE, 0},
	    {RESP("304 Not Modified", "Content-Length: 10\r\n"), false, 0, PC_HTTP_BODY_NONE, 0},
	    {RESP("304 Not Modified", "Transfer-Encoding: chunked\r\n"), false, 0,
	     PC_HTTP_BODY_NONE, 0},
	    {RESP("100 Continue", ""), false, 0, PC_HTTP_BODY_NONE, 0},
	    {RESP("103 Early Hints", "Link: </a>\r\n"), false, 0, PC_HTTP_BODY_NONE, 0},
	    {RESP("205 Reset", "Content-Length: 0\r\n"), false, 0, PC_HTTP_BODY_LENGTH, 0},
	    {RESP("404 Not Found", ""), false, 0, PC_HTTP_BODY_CLOSE, 0},
	    {RESP("200 OK", "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"), false,
	     PC_ESYNTAX, 0, 0},
	    {RESP("200 OK", "Content-Length: 3\r\nContent-Length: 4\r\n"), false, PC_ESYNTAX, 0, 0},
	    {RESP("200 OK", "Content-Length: 3\r\nContent-Length: 3\r\n"), false, 0,
	     PC_HTTP_BODY_LENGTH, 3},
	    {RESP("200 OK", "Content-Length: 3,3\r\n"), false, 0, PC_HTTP_BODY_LENGTH, 3},
	    {RESP("200 OK", "Content-Length: abc\r\n"), false, PC_ESYNTAX, 0, 0},
	    {RESP("200 OK", "Transfer-Encoding: gzip\r\n"), false, PC_ENOTSUP, 0, 0},
	    {RESP("200 OK", "Transfer-Encoding: gzip, chunked\r\n"), false, PC_ENOTSUP, 0, 0},
	    {RESP("200 OK", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), false,
	     PC_ESYNTAX, 0, 0},
	    {"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, PC_ESYNTAX, 0, 0},
	    {"HTTP/1.0 200 OK\r\n\r\n", false, 0, PC_HTTP_BODY_CLOSE, 0},
	};
	check_framing(cases, sizeof(cases) / sizeof(cases[0]), false);
}

/* ---- chunked ---- */

/* Decodes in[0..len) delivered step bytes at a time (as a socket would),
 * collecting the body. Returns the decoder's last answer: 1 done (*used
 * bytes of in were the message), 0 out of input, or the error. */
static int decode(const char *in, size_t len, size_t step, char *body, size_t *body_len,
                  size_t *used)
{
	struct pc_http_chunked chunked;
	pc_http_chunked_init(&chunked);
	size_t off = 0, delivered = step < len ? step : len;
	*body_len = 0;
	for (;;) {
		size_t consumed = 0;
		const char *data;
		size_t data_len;
		int rc = pc_http_chunked_feed(&chunked, in + off, delivered - off, &consumed, &data,
		                              &data_len);
		assert_true(consumed <= delivered - off);
		if (data_len > 0) {
			assert_true(data >= in + off && data + data_len <= in + off + consumed);
			memcpy(body + *body_len, data, data_len);
			*body_len += data_len;
		}
		off += consumed;
		*used = off;
		if (rc != 0)
			return rc;
		if (off == delivered) {
			if (delivered == len)
				return 0;
			delivered = delivered + step < len ? delivered + step : len;
		}
	}
}

static void test_chunked_good(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		const char *body;
	} cases[] = {
	    {"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"},
	    {"0\r\n\r\n", ""},
	    {"A\r\n0123456789\r\n0\r\n\r\n", "0123456789"},
	    {"a\r\n0123456789\r\n000\r\n\r\n", "0123456789"},
	    {"1;name=value\r\nx\r\n0;last\r\n\r\n", "x"},
	    {"1 ;a=\"q;d\"\r\nx\r\n0\r\n\r\n", "x"},
	    {"1\t; a = b\r\nx\r\n0\r\n\r\n", "x"},
	    {"3\r\na\r\n\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n", "a\r\n"},
	    {"2\r\n\r\n\r\n0\r\nT:\r\n\r\n", "\r\n"},
	};
	char body[128];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *in = cases[i].in;
		size_t len = strlen(in);
		char buf[128];
		/* What follows the message must be left alone. */
		memcpy(buf, in, len);
		memcpy(buf + len, "NEXT", 4);
		for (size_t step = 1; step <= len + 4; step++) {
			size_t body_len, used;
			int rc = decode(buf, len + 4, step, body, &body_len, &used);
			if (rc != 1 || used != len || body_len != strlen(cases[i].body) ||
			    memcmp(body, cases[i].body, body_len) != 0)
				fail_msg("case %zu step %zu: rc %d used %zu body %zu", i, step, rc,
				         used, body_len);
			/* Every strict prefix needs more. */
			if (step == 1)
				for (size_t cut = 0; cut < len; cut++)
					assert_int_equal(
					    decode(buf, cut, 1, body, &body_len, &used), 0);
		}
	}
}

static void test_chunked_done_stays_done(void **state)
{
	(void)state;
	struct pc_http_chunked chunked;
	pc_http_chunked_init(&chunked);
	size_t consumed;
	const char *data;
	size_t data_len;
	const char *in = "0\r\n\r\nGET";
	assert_int_equal(pc_http_chunked_feed(&chunked, in, 8, &consumed, &data, &data_len), 1);
	assert_int_equal(consumed, 5);
	assert_int_equal(data_len, 0);
	assert_int_equal(pc_http_chunked_feed(&chunked, in + 5, 3, &consumed, &data, &data_len), 1);
	assert_int_equal(consumed, 0);
	/* One run of body per call, even when more is there. */
	pc_http_chunked_init(&chunked);
	in = "2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n";
	assert_int_equal(
	    pc_http_chunked_feed(&chunked, in, strlen(in), &consumed, &data, &data_len), 0);
	assert_int_equal(consumed, 5);
	assert_int_equal(data_len, 2);
	assert_memory_equal(data, "ab", 2);
}

static void test_chunked_malformed(void **state)
{
	(void)state;
	static const char *const cases[] = {
	    "\r\n",                                   /* no size */
	    "x\r\n",                                  /* not hex */
	    "-1\r\n",                                 /* sign */
	    "+1\r\n",                                 /* sign */
	    "0x1\r\nx\r\n0\r\n\r\n",                  /* 0x prefix */
	    " 1\r\nx\r\n0\r\n\r\n",                   /* leading space */
	    "1 \r\nx\r\n0\r\n\r\n",                   /* BWS not before ; */
	    "1 2\r\nx\r\n0\r\n\r\n",                  /* two numbers */
	    "1\nx\r\n0\r\n\r\n",                      /* bare LF */
	    "1\rx\r\n0\r\n\r\n",                      /* bare CR */
	    "1\r\nxy\r\n0\r\n\r\n",                   /* data longer than size */
	    "2\r\nx\r\n0\r\n\r\n",                    /* data shorter: CRLF eaten as data */
	    "1\r\nx\n0\r\n\r\n",                      /* bare LF after data */
	    "1\r\nxx",                                /* no CRLF after data */
	    "1;a\x01\r\nx\r\n0\r\n\r\n",              /* control in ext */
	    "1;a\nb\r\nx\r\n0\r\n\r\n",               /* LF in ext */
	    "0\r\nX: a\nY: b\r\n\r\n",                /* bare LF in a trailer */
	    "0\r\n X: a\r\n\r\n",                     /* obs-fold trailer */
	    "0\r\nX: a\x7f\r\n\r\n",                  /* DEL in a trailer */
	    "0\r\n\n",                                /* bare LF ending */
	    "0\r\n\rx",                               /* bare CR ending */
	    "10000000000000000\r\n",                  /* 2^64 */
	    "4000000000000001\r\n",                   /* 2^62 + 1 */
	    "ffffffffffffffffffffffffffffffffff\r\n", /* way over */
	};
	char body[64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i]);
		for (size_t step = 1; step <= len; step += len - 1 > 0 ? len - 1 : 1) {
			size_t body_len, used;
			int rc = decode(cases[i], len, step, body, &body_len, &used);
			if (rc != PC_ESYNTAX)
				fail_msg("case %zu step %zu: got %d", i, step, rc);
		}
	}
	/* 2^62 itself is the largest size allowed. */
	struct pc_http_chunked chunked;
	pc_http_chunked_init(&chunked);
	size_t consumed, data_len;
	const char *data;
	assert_int_equal(pc_http_chunked_feed(&chunked, "4000000000000000\r\nab", 20, &consumed,
	                                      &data, &data_len),
	                 0);
	assert_int_equal(consumed, 20);
	assert_int_equal(data_len, 2);
}

static void test_chunked_long_lines(void **state)
{
	(void)state;
	static char in[6000];
	char body[8];
	size_t body_len, used;
	/* A 4 KiB extension is allowed, one byte more is not. */
	size_t len = (size_t)sprintf(in, "1;");
	memset(in + len, 'e', 4096 - 2);
	len = 4096;
	len += (size_t)sprintf(in + len, "\r\nx\r\n0\r\n\r\n");
	assert_int_equal(decode(in, len, 1, body, &body_len, &used), 1);
	assert_int_equal(decode(in, len, len, body, &body_len, &used), 1);
	len = (size_t)sprintf(in, "1;");
	memset(in + len, 'e', 4096 - 1);
	len = 4097;
	len += (size_t)sprintf(in + len, "\r\nx\r\n0\r\n\r\n");
	assert_int_equal(decode(in, len, 1, body, &body_len, &used), PC_ESYNTAX);
	assert_int_equal(decode(in, len, len, body, &body_len, &used), PC_ESYNTAX);
	/* Leading zeros count as line too. */
	memset(in, '0', 5000);
	memcpy(in + 5000, "1\r\nx\r\n0\r\n\r\n", 11);
	assert_int_equal(decode(in, 5011, 7, body, &body_len, &used), PC_ESYNTAX);
	/* A long trailer line. */
	len = (size_t)sprintf(in, "0\r\nX: ");
	memset(in + len, 'v', 5000);
	len += 5000;
	len += (size_t)sprintf(in + len, "\r\n\r\n");
	assert_int_equal(decode(in, len, 3, body, &body_len, &used), PC_ESYNTAX);
	/* Many short trailer lines are fine (each line has its own limit). */
	len = (size_t)sprintf(in, "0\r\n");
	for (int i = 0; i < 500; i++)
		len += (size_t)sprintf(in + len, "X: 12\r\n");
	len += (size_t)sprintf(in + len, "\r\n");
	assert_int_equal(decode(in, len, 5, body, &body_len, &used), 1);
	assert_int_equal(used, len);
}

/* A bigger body, every split gives the same bytes. */
static void test_chunked_splits_agree(void **state)
{
	(void)state;
	static char in[4096], body[4096], whole[4096];
	size_t len = 0, want = 0;
	for (unsigned size = 1; size < 40; size += 3) {
		len += (size_t)sprintf(in + len, "%x;n=%u\r\n", size, size);
		for (unsigned k = 0; k < size; k++) {
			in[len++] = (char)('a' + (size + k) % 26);
			whole[want++] = in[len - 1];
		}
		memcpy(in + len, "\r\n", 2);
		len += 2;
	}
	len += (size_t)sprintf(in + len, "0\r\nT: x\r\n\r\n");
	for (size_t step = 1; step <= len; step++) {
		size_t body_len, used;
		assert_int_equal(decode(in, len, step, body, &body_len, &used), 1);
		assert_int_equal(used, len);
		assert_int_equal(body_len, want);
		assert_memory_equal(body, whole, want);
	}
}

/* ---- fields ---- */

static void test_list(void **state)
{
	(void)state;
	assert_true(response("HTTP/1.1 200 OK\r\n"
	                     "Cache-Control: max-age=60, , no-cache=\"Set-Cookie, X-A\"\r\n"
	                     "X-Other: a, b\r\n"
	                     "cache-control: ,private,\t\r\n"
	                     "Cache-Control: \r\n"
	                     "Cache-Control: ext=\"a\\\"b,c\" ,x=\"unterminated, y\r\n"
	                     "\r\n") > 0);
	static const char *const want[] = {
	    "max-age=60",       "no-cache=\"Set-Cookie, X-A\"", "private",
	    "ext=\"a\\\"b,c\"", "x=\"unterminated, y",
	};
	struct pc_http_list list;
	const char *item;
	uint32_t len;
	pc_http_list_begin(&list, &head, "Cache-Control");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_true(pc_http_list_next(&list, &item, &len));
		assert_span(item, len, want[i]);
	}
	assert_false(pc_http_list_next(&list, &item, &len));
	assert_false(pc_http_list_next(&list, &item, &len));
	pc_http_list_begin(&list, &head, "Absent");
	assert_false(pc_http_list_next(&list, &item, &len));
}

static void test_has_token(void **state)
{
	(void)state;
	assert_true(response("HTTP/1.1 200 OK\r\n"
	                     "Connection: keep-alive\r\n"
	                     "Vary: Accept-Encoding,  \tUSER-agent \r\n"
	                     "Connection: X-Foo, \"close\"\r\n"
	                     "\r\n") > 0);
	assert_true(pc_http_field_has_token(&head, "connection", "Keep-Alive"));
	assert_true(pc_http_field_has_token(&head, "Connection", "x-foo"));
	assert_false(pc_http_field_has_token(&head, "Connection", "close")); /* quoted */
	assert_false(pc_http_field_has_token(&head, "Connection", "keep"));
	assert_false(pc_http_field_has_token(&head, "Connection", "keep-alive2"));
	assert_true(pc_http_field_has_token(&head, "Vary", "user-agent"));
	assert_true(pc_http_field_has_token(&head, "Vary", "accept-encoding"));
	assert_false(pc_http_field_has_token(&head, "Vary", "accept"));
	assert_false(pc_http_field_has_token(&head, "Upgrade", "x"));
}

static bool hop(const char *name)
{
	const struct pc_http_field *f = pc_http_field_find(&head, name, 0);
	assert_non_null(f);
	return pc_http_field_is_hop(&head, f);
}

static void test_is_hop(void **state)
{
	(void)state;
	assert_true(response("HTTP/1.1 200 OK\r\n"
	                     "Connection: X-Secret, keep-alive\r\n"
	                     "Keep-Alive: timeout=5\r\n"
	                     "Proxy-Connection: x\r\n"
	                     "TE: trailers\r\n"
	                     "Transfer-Encoding: chunked\r\n"
	                     "Upgrade: h2c\r\n"
	                     "Proxy-Authenticate: Basic\r\n"
	                     "Proxy-Authorization: Basic x\r\n"
	                     "Trailer: X-Sum\r\n"
	                     "x-secret: 1\r\n"
	                     "X-Also: 2\r\n"
	                     "Connection: x-also\r\n"
	                     "X-Kept: 3\r\n"
	                     "Cache-Control: max-age=1\r\n"
	                     "ETag: \"a\"\r\n"
	                     "Content-Length: 0\r\n"
	                     "Authorization: x\r\n"
	                     "\r\n") > 0);
	static const char *const hops[] = {
	    "Connection",
	    "Keep-Alive",
	    "Proxy-Connection",
	    "TE",
	    "Transfer-Encoding",
	    "Upgrade",
	    "Proxy-Authenticate",
	    "Proxy-Authorization",
	    "Trailer",
	    "X-Secret",
	    "X-Also",
	};
	for (size_t i = 0; i < sizeof(hops) / sizeof(hops[0]); i++)
		if (!hop(hops[i]))
			fail_msg("%s is hop-by-hop", hops[i]);
	static const char *const end_to_end[] = {"X-Kept", "Cache-Control", "ETag",
	                                         "Content-Length", "Authorization"};
	for (size_t i = 0; i < sizeof(end_to_end) / sizeof(end_to_end[0]); i++)
		if (hop(end_to_end[i]))
			fail_msg("%s is end-to-end", end_to_end[i]);
	/* Without a Connection field, a field only Connection named is kept. */
	assert_true(response("HTTP/1.1 200 OK\r\nX-Secret: 1\r\n\r\n") > 0);
	assert_false(hop("X-Secret"));
}

static void test_reason(void **state)
{
	(void)state;
	assert_string_equal(pc_http_reason(200), "OK");
	assert_string_equal(pc_http_reason(206), "Partial Content");
	assert_string_equal(pc_http_reason(304), "Not Modified");
	assert_string_equal(pc_http_reason(404), "Not Found");
	assert_string_equal(pc_http_reason(416), "Range Not Satisfiable");
	assert_string_equal(pc_http_reason(431), "Request Header Fields Too Large");
	assert_string_equal(pc_http_reason(504), "Gateway Timeout");
	assert_string_equal(pc_http_reason(508), "Loop Detected");
	assert_string_equal(pc_http_reason(299), "Unknown");
	assert_string_equal(pc_http_reason(0), "Unknown");
	static const unsigned listed[] = {200, 201, 202, 203, 204, 206, 300, 301, 302, 303,
	                                  304, 307, 308, 400, 401, 403, 404, 405, 408, 409,
	                                  410, 411, 412, 413, 414, 415, 416, 417, 421, 429,
	                                  431, 500, 501, 502, 503, 504, 505, 508};
	for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++)
		assert_string_not_equal(pc_http_reason(listed[i]), "Unknown");
}

/* ---- dates ---- */

static int64_t date(const char *text)
{
	return pc_http_date_parse(text, strlen(text));
}

static void test_dates(void **state)
{
	(void)state;
	/* RFC 9110 §5.6.7's example, in its three forms. */
	assert_int_equal(date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
	assert_int_equal(date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
	assert_int_equal(date("Sun Nov  6 08:49:37 1994"), 784111777);
	assert_int_equal(date("Sun Nov 06 08:49:37 1994"), 784111777);
	assert_int_equal(date("  Sun, 06 Nov 1994 08:49:37 GMT \t"), 784111777);
	assert_int_equal(date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
	assert_int_equal(date("Wednesday, 09-Sep-09 09:09:09 GMT"), 1252487349);
	assert_int_equal(date("Thursday, 01-Jan-70 00:00:01 GMT"), 1);
	assert_int_equal(date("Tue, 29 Feb 2000 12:00:00 GMT"), 951825600);
	assert_int_equal(date("Tue, 19 Jan 2038 03:14:08 GMT"), INT64_C(2147483648));
	assert_int_equal(date("Fri, 31 Dec 9999 23:59:59 GMT"), INT64_C(253402300799));
	assert_int_equal(date("Sat, 31 Dec 2016 23:59:60 GMT"), 1483228800); /* leap second */
	/* Before the epoch: long past. */
	assert_int_equal(date("Mon, 01 Jan 1900 00:00:00 GMT"), 0);
	static const char *const invalid[] = {
	    "",
	    "0",
	    "-1",
	    "Sun, 06 Nov 1994 08:49:37 UTC",
	    "Sun, 06 Nov 1994 08:49:37 gmt",
	    "sun, 06 Nov 1994 08:49:37 GMT",
	    "Sun, 06 nov 1994 08:49:37 GMT",
	    "Sun, 6 Nov 1994 08:49:37 GMT",
	    "Sun, 06 Nov 94 08:49:37 GMT",
	    "Sun, 06 Nov 1994 8:49:37 GMT",
	    "Sun, 06 Nov 1994 08:49:37",
	    "Sun 06 Nov 1994 08:49:37 GMT",
	    "Xyz, 06 Nov 1994 08:49:37 GMT",
	    "Sun, 00 Nov 1994 08:49:37 GMT",
	    "Sun, 31 Nov 1994 08:49:37 GMT",
	    "Sun, 29 Feb 1900 08:49:37 GMT",
	    "Sun, 30 Feb 2000 08:49:37 GMT",
	    "Sun, 06 Nov 1994 24:00:00 GMT",
	    "Sun, 06 Nov 1994 08:60:00 GMT",
	    "Sun, 06 Nov 1994 08:49:61 GMT",
	    "Sun, 06 Nov 1994 08-49-37 GMT",
	    "Sun, 06 Nov 199x 08:49:37 GMT",
	    "Sun, 06 Nov 1994 08:49:37 GMT,",
	    "Sun, 06 Nov 1994 08:49:37 GMTX",
	    "Sun, 06 Nov 1994 08:49:37 +0000",
	    "Sun, 06-Nov-94 08:49:37 GMT",
	    "Sunday, 06 Nov 1994 08:49:37 GMT",
	    "Sunday, 06-Nov-1994 08:49:37 GMT",
	    "Sunday, 6-Nov-94 08:49:37 GMT",
	    "Sundae, 06-Nov-94 08:49:37 GMT",
	    "Sun, 06-Nov-94 08:49:37 GMT xx",
	    "Sunday, 06-Nov-94 08:49:37 UTC",
	    "Sun Nov 6 08:49:37 1994",
	    "Sun Nov  6 08:49:37 94  ",
	    "Sun Nov  6 08:49:37 1994 GMT",
	    "Sun Nov 31 08:49:37 1994",
	    "Sun Nov  x 08:49:37 1994",
	    "Sun, 06 Nov 1994 08:49:37 GMT\x01",
	};
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		if (date(invalid[i]) != -1)
			fail_msg("\"%s\" is no date: got %lld", invalid[i],
			         (long long)date(invalid[i]));
	/* The two-digit year pivot. */
	assert_int_equal(date("Monday, 01-Jan-69 00:00:00 GMT"),
	                 date("Tue, 01 Jan 2069 00:00:00 GMT"));
	assert_int_equal(date("Monday, 01-Jan-99 00:00:00 GMT"),
	                 date("Fri, 01 Jan 1999 00:00:00 GMT"));
}

static void test_date_format(void **state)
{
	(void)state;
	char out[PC_HTTP_DATE_SIZE];
	pc_http_date_format(784111777, out);
	assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
	pc_http_date_format(0, out);
	assert_string_equal(out, "Thu, 01 Jan 1970 00:00:00 GMT");
	pc_http_date_format(-5, out);
	assert_string_equal(out, "Thu, 01 Jan 1970 00:00:00 GMT");
	pc_http_date_format(951825600, out);
	assert_string_equal(out, "Tue, 29 Feb 2000 12:00:00 GMT");
	pc_http_date_format(INT64_MAX, out);
	assert_string_equal(out, "Fri, 31 Dec 9999 23:59:59 GMT");
	/* Round trip over 1970..9999, every day of a few years and a stride
	 * through the rest, with the weekday checked by the parser's count. */
	int64_t prev_day = -1;
	for (int64_t t = 0; t <= INT64_C(253402300799);
	     t += t < 86400LL * 366 * 4 ? 86400 + 1 : 7777777) {
		pc_http_date_format(t, out);
		assert_int_equal(strlen(out), PC_HTTP_DATE_SIZE - 1);
		if (pc_http_date_parse(out, strlen(out)) != t)
			fail_msg("%lld -> %s -> %lld", (long long)t, out,
			         (long long)pc_http_date_parse(out, strlen(out)));
		static const char days[] = "ThuFriSatSunMonTueWed";
		if (memcmp(out, days + (t / 86400 % 7) * 3, 3) != 0)
			fail_msg("%lld: weekday of %s", (long long)t, out);
		assert_true(t / 86400 > prev_day);
		prev_day = t / 86400;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_good),
	    cmocka_unit_test(test_request_forms),
	    cmocka_unit_test(test_request_rejections),
	    cmocka_unit_test(test_response_good),
	    cmocka_unit_test(test_response_rejections),
	    cmocka_unit_test(test_incomplete_every_split),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_request_framing),
	    cmocka_unit_test(test_response_framing),
	    cmocka_unit_test(test_chunked_good),
	    cmocka_unit_test(test_chunked_done_stays_done),
	    cmocka_unit_test(test_chunked_malformed),
	    cmocka_unit_test(test_chunked_long_lines),
	    cmocka_unit_test(test_chunked_splits_agree),
	    cmocka_unit_test(test_list),
	    cmocka_unit_test(test_has_token),
	    cmocka_unit_test(test_is_hop),
	    cmocka_unit_test(test_reason),
	    cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_date_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
