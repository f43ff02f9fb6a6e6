/* Unit tests of the explicit redirectors' library (lib/redirect,
 * lib/http_redirect, lib/rtsp_redirect, lib/proxy) over the default
 * federation: the Location built from the decision, keep-alive and
 * pipelining, every bad request's status, feeding byte by byte, RTSP's
 * CSeq and methods, and the PROXY v2 header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "fixture.h"
#include "lib/base/err.h"
#include "lib/model/config.h"
#include "lib/proto/http_redirect.h"
#include "lib/naming/hosts.h"
#include "lib/proto/proxy.h"
#include "lib/proto/rtsp_redirect.h"

#define NOW_MS 1764000000000ULL
#define HOST   "Host: abc.cdn.acme.net\r\n"

static pc_model *model;
static pc_live *live;
static unsigned results, last_status;

static void on_result(void *ctx, const struct pc_redirect_result *result)
{
	(void)ctx;
	results++;
	last_status = result->status;
}

static struct pc_redirect_env env_for(const char *client)
{
	struct pc_redirect_env env = {
	    .answer = {.model = model, .live = live, .node = model->self_node, .now_ms = NOW_MS},
	    .on_result = on_result,
	};
	unsigned a, b, c, d;
	sscanf(client, "%u.%u.%u.%u", &a, &b, &c, &d);
	pc_addr *source = &env.answer.source;
	source->family = PC_AF_INET;
	source->bytes[0] = (uint8_t)a;
	source->bytes[1] = (uint8_t)b;
	source->bytes[2] = (uint8_t)c;
	source->bytes[3] = (uint8_t)d;
	return env;
}

static const struct pc_http_limits limits = {
    .max_header_bytes = 4096,
    .max_target_bytes = 1024,
    .max_body_bytes = 1000,
    .redirect_status = 302,
};

/* Feeds text (in pieces of step bytes; 0: at once) to a new HTTP session;
 * returns the output (NUL-terminated, caller frees) and the last state. */
static char *http_run(const char *text, size_t len, size_t step, const struct pc_http_limits *l,
                      enum pc_http_state *state)
{
	const struct pc_session_ops *http = &pc_http_session_ops;
	void *s = http->create(l ? l : &limits);
	assert_non_null(s);
	struct pc_redirect_env env = env_for("127.1.0.10");
	struct pc_buf out = {0};
	enum pc_http_state st = PC_HTTP_IDLE;
	for (size_t off = 0; off < len && st != PC_HTTP_CLOSING;) {
		size_t n = step == 0 || step > len - off ? len - off : step;
		st = http->feed(s, &env, text + off, n, &out);
		off += n;
	}
	http->destroy(s);
	pc_buf_append(&out, "", 1);
	if (state != NULL)
		*state = st;
	return out.data;
}

static char *http(const char *text, enum pc_http_state *state)
{
	return http_run(text, strlen(text), 0, NULL, state);
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_redirect_keeps_path_and_query(void **state)
{
	(void)state;
	enum pc_http_state st;
	char *out = http("GET /www.abc.com/x?y=1 HTTP/1.1\r\n" HOST "\r\n", &st);
	assert_non_null(strstr(out, "HTTP/1.1 302 Found\r\n"));
	assert_non_null(strstr(out, ":8080/www.abc.com/x?y=1\r\n"));
	assert_non_null(strstr(out, "Location: http://127."));
	assert_non_null(strstr(out, "Cache-Control: no-store\r\n"));
	assert_non_null(strstr(out, "Content-Length: 0\r\n\r\n"));
	assert_null(strstr(out, "Connection: close"));
	assert_int_equal(st, PC_HTTP_IDLE);
	free(out);
}

static void test_307_but_302_for_http10(void **state)
{
	(void)state;
	struct pc_http_limits l = limits;
	l.redirect_status = 307;
	const char *req11 = "GET /www.abc.com/x HTTP/1.1\r\n" HOST "\r\n";
	char *out = http_run(req11, strlen(req11), 0, &l, NULL);
	assert_non_null(strstr(out, "HTTP/1.1 307 Temporary Redirect\r\n"));
	free(out);
	const char *req10 = "GET /www.abc.com/x HTTP/1.0\r\n" HOST "\r\n";
	enum pc_http_state st;
	out = http_run(req10, strlen(req10), 0, &l, &st);
	assert_non_null(strstr(out, "HTTP/1.1 302 Found\r\n"));
	assert_int_equal(st, PC_HTTP_CLOSING); /* 1.0 without keep-alive */
	free(out);
}

static void test_pipelining_byte_by_byte_is_the_same(void **state)
{
	(void)state;
	const char *three = "GET /www.abc.com/a HTTP/1.1\r\n" HOST "\r\n"
	                    "HEAD /www.abc.com/b HTTP/1.1\r\n" HOST "\r\n"
	                    "POST /www.abc.com/c HTTP/1.1\r\n" HOST
	                    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
	                    "GET /www.abc.com/d HTTP/1.1\r\n" HOST "Connection: close\r\n\r\n";
	enum pc_http_state st;
	char *whole = http_run(three, strlen(three), 0, NULL, &st);
	assert_int_equal(count(whole, "HTTP/1.1 302 Found"), 4);
	assert_int_equal(st, PC_HTTP_CLOSING);
	const char *a = strstr(whole, "/www.abc.com/a\r\n"),
	           *d = strstr(whole, "/www.abc.com/d\r\n");
	assert_true(a != NULL && d != NULL && a < d);
	char *bytes = http_run(three, strlen(three), 1, NULL, NULL);
	/* The same responses, Date aside (same clock here). */
	assert_string_equal(whole, bytes);
	free(whole);
	free(bytes);
}

struct bad_case {
	const char *request;
	const char *status;
};

static void test_bad_requests(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
	    {"POST /www.abc.com/x HTTP/1.1\r\n" HOST
	     "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	     "400"},
	    {"POST /www.abc.com/x HTTP/1.1\r\n" HOST
	     "Content-Length: 4\r\nContent-Length: 5\r\n\r\n",
	     "400"},
	    {"POST /www.abc.com/x HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
	     "400"},
	    {"POST /www.abc.com/x HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip\r\n\r\n", "501"},
	    {"GET /www.abc.com/x HTTP/1.1\n" HOST "\r\n", "400"},
	    {"GET /www.abc.com/x HTTP/1.1\r" HOST "\r\n", "400"},
	    {"GET /www.abc.com/x HTTP/1.1\r\n" HOST "X: 1\r\n folded\r\n\r\n", "400"},
	    {"GET /www.abc.com/x HTTP/1.1\r\nX: 1\r\n\r\n", "400"},
	    {"GET /www.abc.com/x HTTP/1.1\r\n" HOST "Host: evil.example\r\n\r\n", "400"},
	    {"GET /www.abc.com/x HTTP/2.0\r\n" HOST "\r\n", "505"},
	    {"BREW /www.abc.com/x HTTP/1.1\r\n" HOST "\r\n", "501"},
	    {"TRACE /www.abc.com/x HTTP/1.1\r\n" HOST "\r\n", "405"},
	    {"POST /www.abc.com/x HTTP/1.1\r\n" HOST "Content-Length: 1001\r\n\r\n", "413"},
	    {"GET /www.abc.com/x HTTP/1.1\r\n" HOST "Expect: tea\r\n\r\n", "417"},
	    {"GET /www.abc.com/x HTTP/1.1\r\n" HOST "Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
	     "302"}, /* answered, then closed: the upgrade is not offered */
	    {"GET www.abc.com HTTP/1.1\r\n" HOST "\r\n", "400"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum pc_http_state st;
		char *out = http(cases[i].request, &st);
		char line[32];
		snprintf(line, sizeof(line), "HTTP/1.1 %s ", cases[i].status);
		if (strncmp(out, line, strlen(line)) != 0)
			fail_msg("case %zu: %s", i, out);
		assert_int_equal(st, PC_HTTP_CLOSING);
		assert_int_equal(count(out, "HTTP/1.1 "), 1);
		free(out);
	}
}

static void test_nul_and_limits(void **state)
{
	(void)state;
	static const char nul[] = "GET /www.abc.com/x\0 HTTP/1.1\r\n" HOST "\r\n";
	char *out = http_run(nul, sizeof(nul) - 1, 0, NULL, NULL);
	assert_true(strncmp(out, "HTTP/1.1 400 ", 13) == 0);
	free(out);

	char big[8192];
	snprintf(big, sizeof(big), "GET /%01100d HTTP/1.1\r\n" HOST "\r\n", 0);
	out = http(big, NULL);
	assert_true(strncmp(out, "HTTP/1.1 414 ", 13) == 0);
	free(out);
	snprintf(big, sizeof(big), "GET /www.abc.com/x HTTP/1.1\r\n" HOST "X: %05000d\r\n\r\n", 0);
	out = http(big, NULL);
	assert_true(strncmp(out, "HTTP/1.1 431 ", 13) == 0);
	free(out);
	size_t n = (size_t)snprintf(big, sizeof(big), "GET /www.abc.com/x HTTP/1.1\r\n" HOST);
	for (int i = 0; i < 101; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X%d: 1\r\n", i);
	snprintf(big + n, sizeof(big) - n, "\r\n");
	out = http(big, NULL);
	assert_true(strncmp(out, "HTTP/1.1 431 ", 13) == 0);
	free(out);
}

/* A field name longer than the names the session looks at, arriving in
 * pieces, once overran the session's name buffer (found by fuzz_http). */
static void test_long_field_name_in_pieces(void **state)
{
	(void)state;
	char req[512];
	snprintf(req, sizeof(req), "GET /www.abc.com/x HTTP/1.1\r\n" HOST "X-%0200d: 1\r\n\r\n", 0);
	for (size_t step = 1; step <= 7; step += 3) {
		char *out = http_run(req, strlen(req), step, NULL, NULL);
		assert_true(strncmp(out, "HTTP/1.1 302 ", 13) == 0);
		free(out);
	}
}

static void test_policy_outcomes_and_special_forms(void **state)
{
	(void)state;
	char *out = http("GET /www.foo.com/x HTTP/1.1\r\nHost: foo.cdn.beta.net\r\n\r\n", NULL);
	assert_true(strncmp(out, "HTTP/1.1 421 ", 13) == 0);
	free(out);
	out = http("GET /x.com/x HTTP/1.1\r\nHost: nobody.cdn.acme.net\r\n\r\n", NULL);
	assert_true(strncmp(out, "HTTP/1.1 404 ", 13) == 0);
	free(out);
	out = http("OPTIONS * HTTP/1.1\r\n" HOST "\r\n", NULL);
	assert_true(strncmp(out, "HTTP/1.1 204 ", 13) == 0);
	assert_non_null(strstr(out, "Allow: GET, HEAD"));
	free(out);
	out = http("GET http://abc.cdn.acme.net/www.abc.com/abs HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
	assert_non_null(strstr(out, "/www.abc.com/abs\r\n"));
	free(out);
	enum pc_http_state st;
	out = http("POST /www.abc.com/x HTTP/1.1\r\n" HOST
	           "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n",
	           &st);
	assert_true(strncmp(out, "HTTP/1.1 302 ", 13) == 0);
	assert_non_null(strstr(out, "Connection: close"));
	assert_int_equal(st, PC_HTTP_CLOSING);
	free(out);
}

static void test_end_and_timeout(void **state)
{
	(void)state;
	struct pc_redirect_env env = env_for("127.1.0.10");
	const struct pc_session_ops *http = &pc_http_session_ops;
	void *s = http->create(&limits);
	struct pc_buf out = {0};
	assert_int_equal(http->end(s, &env, true, &out), PC_HTTP_CLOSING);
	assert_int_equal(out.len, 0); /* idle: nothing to say */
	http->destroy(s);
	s = http->create(&limits);
	http->feed(s, &env, "GET /www.abc", 12, &out);
	http->end(s, &env, true, &out);
	assert_true(out.len > 13 && strncmp(out.data, "HTTP/1.1 408 ", 13) == 0);
	http->destroy(s);
	pc_buf_free(&out);
}

/* ---- RTSP ---- */

static char *rtsp_run(const char *text, size_t step, enum pc_http_state *state)
{
	const struct pc_session_ops *rtsp = &pc_rtsp_session_ops;
	void *s = rtsp->create(&limits);
	struct pc_redirect_env env = env_for("127.1.0.10");
	struct pc_buf out = {0};
	size_t len = strlen(text);
	enum pc_http_state st = PC_HTTP_IDLE;
	for (size_t off = 0; off < len && st != PC_HTTP_CLOSING;) {
		size_t n = step == 0 || step > len - off ? len - off : step;
		st = rtsp->feed(s, &env, text + off, n, &out);
		off += n;
	}
	rtsp->destroy(s);
	pc_buf_append(&out, "", 1);
	if (state != NULL)
		*state = st;
	return out.data;
}

#define RURI "rtsp://abc.cdn.acme.net/www.abc.com/live"

static void test_rtsp_methods_and_cseq(void **state)
{
	(void)state;
	const char *msgs =
	    "OPTIONS " RURI " RTSP/1.0\r\nCSeq: 1\r\n\r\n"
	    "DESCRIBE " RURI " RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n"
	    "ANNOUNCE " RURI " RTSP/1.0\r\nCSeq: 3\r\nContent-Length: 4\r\n\r\nv=0\n"
	    "SETUP " RURI " RTSP/1.0\r\nCSeq: 4\r\n\r\n"
	    "PLAY " RURI " RTSP/1.0\r\nCSeq: 5\r\n\r\n"
	    "BREW " RURI " RTSP/1.0\r\nCSeq: 6\r\n\r\n";
	for (size_t step = 0; step <= 1; step++) {
		enum pc_http_state st;
		char *out = rtsp_run(msgs, step, &st);
		assert_int_equal(count(out, "RTSP/1.0 302 Moved Temporarily\r\nCSeq: "), 4);
		assert_non_null(strstr(out, "RTSP/1.0 405 Method Not Allowed\r\nCSeq: 3\r\n"));
		assert_non_null(strstr(out, "RTSP/1.0 501 Not Implemented\r\nCSeq: 6\r\n"));
		assert_non_null(strstr(out, ":8554/www.abc.com/live\r\n"));
		assert_non_null(strstr(out, "Location: rtsp://127."));
		assert_int_equal(st, PC_HTTP_IDLE);
		free(out);
	}
}

static void test_rtsp_bad_requests(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
	    {"DESCRIBE " RURI " RTSP/1.0\r\n\r\n", "400"},
	    {"DESCRIBE " RURI " RTSP/2.0\r\nCSeq: 1\r\n\r\n", "505"},
	    {"DESCRIBE " RURI " RTSP/1.0\nCSeq: 1\n\n", "400"},
	    {"DESCRIBE " RURI " RTSP/1.0\r\nCSeq: 1\r\nX: 1\r\n y\r\n\r\n", "400"},
	    {"DESCRIBE " RURI " RTSP/1.0\r\nCSeq: 1\r\nCSeq: 2\r\n\r\n", "400"},
	    {"ANNOUNCE " RURI " RTSP/1.0\r\nCSeq: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "501"},
	    {"ANNOUNCE " RURI " RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 5000\r\n\r\n", "413"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum pc_http_state st;
		char *out = rtsp_run(cases[i].request, 0, &st);
		char line[32];
		snprintf(line, sizeof(line), "RTSP/1.0 %s ", cases[i].status);
		if (strncmp(out, line, strlen(line)) != 0)
			fail_msg("case %zu: %s", i, out);
		assert_int_equal(st, PC_HTTP_CLOSING);
		free(out);
	}
	/* Relative URIs and foreign hosts are answered, the connection kept. */
	enum pc_http_state st;
	char *out = rtsp_run("DESCRIBE /www.abc.com/live RTSP/1.0\r\nCSeq: 7\r\n\r\n", 0, &st);
	assert_true(strncmp(out, "RTSP/1.0 400 ", 13) == 0);
	assert_int_equal(st, PC_HTTP_IDLE);
	free(out);
	char big[8192];
	snprintf(big, sizeof(big), "DESCRIBE " RURI " RTSP/1.0\r\nCSeq: 1\r\nX: %05000d", 0);
	out = rtsp_run(big, 100, &st);
	assert_true(strncmp(out, "RTSP/1.0 400 ", 13) == 0);
	assert_int_equal(st, PC_HTTP_CLOSING);
	free(out);
}

/* ---- PROXY v2 ---- */

static size_t proxy_header(uint8_t *out, uint8_t command_family, uint8_t fam_proto,
                           const uint8_t *body, size_t body_len)
{
	static const uint8_t sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
	                                0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
	memcpy(out, sig, 12);
	out[12] = command_family;
	out[13] = fam_proto;
	out[14] = (uint8_t)(body_len >> 8);
	out[15] = (uint8_t)body_len;
	if (body_len > 0)
		memcpy(out + 16, body, body_len);
	return 16 + body_len;
}

static void test_proxy_v2(void **state)
{
	(void)state;
	uint8_t wire[600], body4[12] = {127, 1, 0, 10, 127, 10, 0, 1, 0x9c, 0x40, 0, 80};
	pc_addr addr;
	uint16_t port;
	size_t n = proxy_header(wire, 0x21, 0x11, body4, sizeof(body4));
	assert_int_equal(pc_proxy_v2_parse(wire, n, &addr, &port), (long)n);
	assert_int_equal(addr.family, PC_AF_INET);
	assert_memory_equal(addr.bytes, body4, 4);
	assert_int_equal(port, 40000);
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(pc_proxy_v2_parse(wire, cut, &addr, &port), 0);

	uint8_t body6[36] = {0x20, 0x01, 0x0d, 0xb8, 1, 0, [15] = 0x10, [32] = 0x01, [33] = 0xbb};
	n = proxy_header(wire, 0x21, 0x21, body6, sizeof(body6));
	assert_int_equal(pc_proxy_v2_parse(wire, n, &addr, &port), (long)n);
	assert_int_equal(addr.family, PC_AF_INET6);
	assert_int_equal(port, 443);

	n = proxy_header(wire, 0x20, 0x00, NULL, 0); /* LOCAL: the balancer's own check */
	assert_int_equal(pc_proxy_v2_parse(wire, n, &addr, &port), (long)n);
	assert_int_equal(addr.family, PC_AF_NONE);

	n = proxy_header(wire, 0x21, 0x11, body4, 4); /* body too short for INET */
	assert_int_equal(pc_proxy_v2_parse(wire, n, &addr, &port), -1);
	n = proxy_header(wire, 0x11, 0x11, body4, sizeof(body4)); /* version 1 */
	assert_int_equal(pc_proxy_v2_parse(wire, n, &addr, &port), -1);
	wire[14] = 0x03; /* 768 bytes: over the limit */
	assert_int_equal(pc_proxy_v2_parse(wire, 16, &addr, &port), -1);
	assert_int_equal(pc_proxy_v2_parse((const uint8_t *)"PROXY TCP4 1", 12, &addr, &port), -1);
}

static void test_location_ipv6_and_default_port(void **state)
{
	(void)state;
	pc_url url;
	const char text[] = "rtsp://abc.cdn.acme.net/www.abc.com/live?a=b";
	struct pc_answer_ctx ctx = {.model = model, .live = live, .node = PC_NONE};
	assert_int_equal(pc_redirect_check(&ctx, text, strlen(text), &url), PC_REDIRECT_OK);
	pc_addr v6 = {.family = PC_AF_INET6, .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
	struct pc_redirect_target target = {.address = &v6, .port = 554};
	char loc[256];
	assert_true(pc_redirect_location(&url, &target, loc, sizeof(loc)) > 0);
	assert_string_equal(loc, "rtsp://[2001:db8::1]/www.abc.com/live?a=b");
	target.port = 8554;
	assert_true(pc_redirect_location(&url, &target, loc, sizeof(loc)) > 0);
	assert_string_equal(loc, "rtsp://[2001:db8::1]:8554/www.abc.com/live?a=b");
	assert_int_equal(pc_redirect_location(&url, &target, loc, 10), 0);
}

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	model = fixture_load_text(pc_default_config_yaml);
	return pc_live_new(model, &live);
}

static int teardown(void **state)
{
	(void)state;
	pc_live_free(live);
	fixture_free(model);
	return 0;
}

/* The generation's host table (ctx->hosts, lib/naming/hosts) gives every
 * redirector what the name walk gives: for every plain host of the model
 * in any case, and for hosts it leaves to the walk (same outcome, same
 * URL). */
static void check_same_url(const pc_hosts *hosts, const char *url)
{
	struct pc_answer_ctx ctx = {.model = model, .live = live, .node = model->self_node};
	pc_url walked, looked_up;
	memset(&walked, 0, sizeof(walked));
	memset(&looked_up, 0, sizeof(looked_up));
	enum pc_redirect_outcome a = pc_redirect_check(&ctx, url, strlen(url), &walked);
	ctx.hosts = hosts;
	enum pc_redirect_outcome b = pc_redirect_check(&ctx, url, strlen(url), &looked_up);
	assert_int_equal(a, b);
	if (a != PC_REDIRECT_OK)
		return;
	assert_int_equal(walked.name.cdn, looked_up.name.cdn);
	assert_int_equal(walked.name.provider, looked_up.name.provider);
	assert_int_equal(walked.name.service, looked_up.name.service);
	assert_int_equal(walked.name.signature, looked_up.name.signature);
	assert_int_equal(walked.name.encrypted, looked_up.name.encrypted);
	assert_string_equal(walked.name.object, looked_up.name.object);
	assert_int_equal(walked.form, looked_up.form);
}

static void test_host_table_is_the_walk(void **state)
{
	(void)state;
	pc_hosts *hosts = NULL;
	assert_int_equal(pc_hosts_new(model, &hosts), PC_OK);
	char url[400];
	for (uint32_t c = 0; c < model->n_cdns; c++) {
		for (uint32_t p = 0; p < model->n_providers; p++) {
			const struct pc_provider *provider = &model->providers[p];
			const char *origin = provider->n_origin_hosts > 0
			                         ? provider->origin_hosts[0]
			                         : "www.abc.com";
			for (uint32_t s = 0; s <= model->n_services; s++) {
				char host[300];
				if (s < model->n_services)
					snprintf(host, sizeof(host), "%s.%s.%s",
					         model->services[s].name, provider->name,
					         model->cdns[c].domain);
				else
					snprintf(host, sizeof(host), "%s.%s", provider->name,
					         model->cdns[c].domain);
				for (char *k = host; *k != '\0'; k += 2) /* mixed case */
					if (*k >= 'a' && *k <= 'z')
						*k = (char)(*k - 'a' + 'A');
				snprintf(url, sizeof(url), "http://%s/%s/x", host, origin);
				check_same_url(hosts, url);
				snprintf(url, sizeof(url), "rtsp://x.%s:8554/%s/x", host, origin);
				check_same_url(hosts, url);
			}
		}
	}
	static const char *const urls[] = {
	    "http://abc.cdn.acme.net/www.abc.com/x",
	    "HTTP://ABC.CDN.ACME.NET:8080/WWW.ABC.COM/x",
	    "http://web.abc.cdn.acme.net/www.abc.com/x",
	    "http://abc.web.cdn.acme.net/www.abc.com/x",
	    "http://abc.cdn.acme.net./www.abc.com/x",
	    "http://x.abc.cdn.acme.net/www.abc.com/x",
	    "http://s-abcdef.abc.cdn.acme.net/www.abc.com/x",
	    "http://abc.cdn.beta.net/www.abc.com/x",
	    "http://abc.cdn.nowhere.net/www.abc.com/x",
	    "http://abc.cdn.acme.net/www.evil.com/x",
	    "http://cdn.acme.net/www.abc.com/x",
	    "http://a..cdn.acme.net/www.abc.com/x",
	    "http://ab_c.cdn.acme.net/www.abc.com/x",
	    "rtsp://abc.cdn.acme.net/www.abc.com/live",
	};
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		check_same_url(hosts, urls[i]);
	pc_hosts_free(hosts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_redirect_keeps_path_and_query),
	    cmocka_unit_test(test_307_but_302_for_http10),
	    cmocka_unit_test(test_pipelining_byte_by_byte_is_the_same),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_nul_and_limits),
	    cmocka_unit_test(test_long_field_name_in_pieces),
	    cmocka_unit_test(test_policy_outcomes_and_special_forms),
	    cmocka_unit_test(test_end_and_timeout),
	    cmocka_unit_test(test_rtsp_methods_and_cseq),
	    cmocka_unit_test(test_rtsp_bad_requests),
	    cmocka_unit_test(test_proxy_v2),
	    cmocka_unit_test(test_location_ipv6_and_default_port),
	    cmocka_unit_test(test_host_table_is_the_walk),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
