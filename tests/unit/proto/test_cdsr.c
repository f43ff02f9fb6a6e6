/* Unit tests of the CDSR codec (lib/cdsr.h) and the CDSR answer
 * (lib/cdsr_answer.h) over the default federation: round trips, every
 * error path, the size rule (a response is never larger than its request),
 * version negotiation, and the branches of claims 1-2 and 19. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "fixture.h"
#include "lib/naming/hosts.h"
#include "lib/proto/cdsr.h"
#include "lib/proto/cdsr_answer.h"
#include "lib/naming/codepoint_crypto.h"
#include "lib/model/config.h"
#include "lib/base/err.h"

#define NOW_MS 1764000000000ULL

static const char ABC_URL[] = "http://abc.cdn.acme.net/www.abc.com/x";
static const char FOO_URL[] = "http://foo.cdn.beta.net/www.foo.com/index.html";

struct env {
	pc_model *model;
	pc_live *live;
	uint8_t req[PC_CDSR_REQUEST_MAX + 64];
	size_t req_len;
	uint8_t out[PC_CDSR_REQUEST_MAX + 64];
	size_t out_len;
	struct pc_cdsr_result res;
	struct pc_cdsr_response resp;
};

static struct env *env_of(void **state)
{
	return *state;
}

static int setup(void **state)
{
	static struct env env;
	memset(&env, 0, sizeof(env));
	assert_true(sodium_init() >= 0);
	env.model = fixture_load_text(pc_default_config_yaml);
	assert_non_null(env.model);
	assert_int_equal(pc_live_new(env.model, &env.live), 0);
	*state = &env;
	return 0;
}

static int teardown(void **state)
{
	struct env *env = *state;
	pc_live_free(env->live);
	fixture_free(env->model);
	return 0;
}

static void request_init(struct pc_cdsr_request *req, const char *url)
{
	memset(req, 0, sizeof(*req));
	req->version = PC_CDSR_VERSION;
	req->nonce = 0x0123456789abcdefULL;
	req->url = url;
	req->url_len = (uint16_t)strlen(url);
}

static void write_request(struct env *env, const struct pc_cdsr_request *req, size_t pad_to)
{
	int len = pc_cdsr_request_write(req, pad_to, env->req, sizeof(env->req));
	assert_true(len > 0);
	env->req_len = (size_t)len;
}

static pc_addr addr(const char *text)
{
	pc_addr a;
	assert_int_equal(pc_addr_parse(text, &a), 0);
	return a;
}

/* Answers env->req from client at node; parses the response when there is
 * one and checks the size rule and the nonce on the way. */
static uint8_t answer_from(struct env *env, const char *client, uint32_t node)
{
	struct pc_answer_ctx ctx = {
	    .model = env->model,
	    .live = env->live,
	    .node = node,
	    .source = addr(client),
	    .now_ms = NOW_MS,
	};
	struct pc_cdsr_query query = {.wire = env->req, .len = env->req_len};
	env->out_len = pc_cdsr_answer(&ctx, &query, env->out, sizeof(env->out), &env->res);
	assert_true(env->out_len <= env->req_len);
	if (env->out_len == 0) {
		assert_int_equal(env->res.status, PC_CDSR_DROPPED);
		return PC_CDSR_DROPPED;
	}
	assert_int_equal(pc_cdsr_response_parse(env->out, env->out_len, &env->resp), PC_OK);
	assert_int_equal(env->resp.status, env->res.status);
	struct pc_cdsr_request parsed;
	if (pc_cdsr_request_parse(env->req, env->req_len, &parsed) == PC_OK)
		assert_true(env->resp.nonce == parsed.nonce);
	return env->resp.status;
}

static uint8_t ask(struct env *env, const char *url, const char *client, uint32_t node)
{
	struct pc_cdsr_request req;
	request_init(&req, url);
	write_request(env, &req, pc_cdsr_pad_length(PC_CDSR_REQUEST_MIN + req.url_len));
	return answer_from(env, client, node);
}

static const char *server_name(struct env *env)
{
	assert_true(env->res.decided);
	return env->model->servers[env->res.decision.servers[0]].name;
}

static void assert_server(struct env *env, const char *address)
{
	pc_addr want = addr(address);
	assert_true(pc_addr_equal(&env->resp.server, &want));
}

/* Codec: requests. */

static void test_request_round_trip(void **state)
{
	(void)state;
	struct pc_cdsr_request req;
	request_init(&req, ABC_URL);
	req.flags = PC_CDSR_F_HINTS;
	req.prefer_cdn = "beta";
	req.prefer_cdn_len = 4;
	req.avoid[0] = (struct pc_cdsr_avoid){.name = "acme-s1", .name_len = 7};
	req.avoid[1] = (struct pc_cdsr_avoid){.addr = addr("127.1.200.2")};
	req.avoid[2] = (struct pc_cdsr_avoid){.addr = addr("2001:db8::5")};
	req.n_avoid = 3;
	req.family = PC_AF_INET;
	uint8_t wire[PC_CDSR_REQUEST_MAX];
	size_t natural = PC_CDSR_REQUEST_MIN + sizeof(ABC_URL) - 1 + (4 + 4) + (4 + 7) + (4 + 4) +
	                 (4 + 16) + (4 + 1);
	assert_int_equal(pc_cdsr_request_write(&req, 0, wire, sizeof(wire)), (int)natural);
	assert_int_equal(pc_cdsr_request_write(&req, 600, wire, sizeof(wire)), 600);
	for (size_t i = natural; i < 600; i++)
		assert_int_equal(wire[i], 0);
	assert_memory_equal(wire, "CDSR\x01\x01\x01\x23\x45\x67\x89\xab\xcd\xef\x00\x25", 16);

	struct pc_cdsr_request got;
	assert_int_equal(pc_cdsr_request_parse(wire, 600, &got), PC_OK);
	assert_true(got.header_ok);
	assert_int_equal(got.version, 1);
	assert_int_equal(got.flags, PC_CDSR_F_HINTS);
	assert_true(got.nonce == req.nonce);
	assert_int_equal(got.url_len, sizeof(ABC_URL) - 1);
	assert_memory_equal(got.url, ABC_URL, got.url_len);
	assert_int_equal(got.prefer_cdn_len, 4);
	assert_memory_equal(got.prefer_cdn, "beta", 4);
	assert_int_equal(got.n_avoid, 3);
	assert_int_equal(got.avoid[0].name_len, 7);
	assert_memory_equal(got.avoid[0].name, "acme-s1", 7);
	assert_null(got.avoid[1].name);
	assert_true(pc_addr_equal(&got.avoid[1].addr, &req.avoid[1].addr));
	assert_true(pc_addr_equal(&got.avoid[2].addr, &req.avoid[2].addr));
	assert_int_equal(got.family, PC_AF_INET);
	assert_int_equal(got.len, 600);
	/* The response flag is never written into a request. */
	req.flags = 0xff;
	assert_true(pc_cdsr_request_write(&req, 0, wire, sizeof(wire)) > 0);
	assert_int_equal(wire[5], 0x7f);
	assert_int_equal(pc_cdsr_request_parse(wire, natural, &got), PC_OK);
}

static void test_pad_length(void **state)
{
	(void)state;
	assert_int_equal(pc_cdsr_pad_length(18), 512);
	assert_int_equal(pc_cdsr_pad_length(512), 512);
	assert_int_equal(pc_cdsr_pad_length(513), 640);
	assert_int_equal(pc_cdsr_pad_length(1300), 1400);
	assert_int_equal(pc_cdsr_pad_length(1400), 1400);
	assert_int_equal(pc_cdsr_pad_length(1500), 1500);
}

static void test_request_write_errors(void **state)
{
	(void)state;
	struct pc_cdsr_request req;
	uint8_t wire[PC_CDSR_REQUEST_MAX + 10];
	char long_url[PC_CDSR_URL_MAX + 2];
	memset(long_url, 'a', sizeof(long_url));
	long_url[sizeof(long_url) - 1] = '\0';

	request_init(&req, ABC_URL);
	assert_int_equal(pc_cdsr_request_write(NULL, 0, wire, sizeof(wire)), PC_EINVAL);
	assert_int_equal(pc_cdsr_request_write(&req, 0, NULL, sizeof(wire)), PC_EINVAL);
	req.version = 2;
	assert_int_equal(pc_cdsr_request_write(&req, 0, wire, sizeof(wire)), PC_EINVAL);
	request_init(&req, "");
	assert_int_equal(pc_cdsr_request_write(&req, 0, wire, sizeof(wire)), PC_EINVAL);
	request_init(&req, ABC_URL);
	req.family = 5;
	assert_int_equal(pc_cdsr_request_write(&req, 0, wire, sizeof(wire)), PC_EINVAL);
	request_init(&req, ABC_URL);
	req.n_avoid = 1; /* neither a name nor an address */
	assert_int_equal(pc_cdsr_request_write(&req, 0, wire, sizeof(wire)), PC_EINVAL);
	req.n_avoid = PC_CDSR_MAX_AVOID + 1;
	assert_int_equal(pc_cdsr_request_write(&req, 0, wire, sizeof(wire)), PC_EINVAL);
	request_init(&req, ABC_URL);
	req.prefer_cdn = "";
	assert_int_equal(pc_cdsr_request_write(&req, 0, wire, sizeof(wire)), PC_EINVAL);
	req.prefer_cdn = long_url;
	req.prefer_cdn_len = PC_CDSR_NAME_MAX + 1;
	assert_int_equal(pc_cdsr_request_write(&req, 0, wire, sizeof(wire)), PC_ERANGE);
	request_init(&req, ABC_URL);
	req.avoid[0] = (struct pc_cdsr_avoid){.name = long_url, .name_len = PC_CDSR_NAME_MAX + 1};
	req.n_avoid = 1;
	assert_int_equal(pc_cdsr_request_write(&req, 0, wire, sizeof(wire)), PC_ERANGE);
	request_init(&req, long_url);
	assert_int_equal(pc_cdsr_request_write(&req, 0, wire, sizeof(wire)), PC_ERANGE);
	req.url_len = PC_CDSR_REQUEST_MAX; /* a legal URL length, too long for one packet */
	assert_int_equal(pc_cdsr_request_write(&req, 0, wire, sizeof(wire)), PC_ERANGE);
	request_init(&req, ABC_URL);
	assert_int_equal(pc_cdsr_request_write(&req, PC_CDSR_REQUEST_MAX + 1, wire, sizeof(wire)),
	                 PC_ERANGE);
	assert_int_equal(pc_cdsr_request_write(&req, 0, wire, 20), PC_ESPACE);
	assert_int_equal(pc_cdsr_request_write(&req, 200, wire, 199), PC_ESPACE);
}

/* Hand-made requests: the header of version 1 then raw bytes. */
static size_t raw_request(uint8_t *wire, uint8_t version, uint8_t flags, const char *url,
                          const uint8_t *opts, size_t opts_len)
{
	size_t url_len = strlen(url);
	memcpy(wire, "CDSR", 4);
	wire[4] = version;
	wire[5] = flags;
	memcpy(wire + 6, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	wire[14] = (uint8_t)(url_len >> 8);
	wire[15] = (uint8_t)url_len;
	memcpy(wire + 16, url, url_len);
	wire[16 + url_len] = (uint8_t)(opts_len >> 8);
	wire[17 + url_len] = (uint8_t)opts_len;
	if (opts_len > 0)
		memcpy(wire + 18 + url_len, opts, opts_len);
	return 18 + url_len + opts_len;
}

static int parse_raw(const uint8_t *opts, size_t opts_len)
{
	uint8_t wire[PC_CDSR_REQUEST_MAX];
	size_t len = raw_request(wire, 1, 0, ABC_URL, opts, opts_len);
	struct pc_cdsr_request got;
	int rc = pc_cdsr_request_parse(wire, len, &got);
	assert_true(got.header_ok);
	return rc;
}

static void test_request_parse_errors(void **state)
{
	(void)state;
	uint8_t wire[PC_CDSR_REQUEST_MAX + 10] = {0};
	struct pc_cdsr_request got;
	assert_int_equal(pc_cdsr_request_parse(wire, 10, NULL), PC_EINVAL);
	assert_int_equal(pc_cdsr_request_parse(NULL, 10, &got), PC_EINVAL);
	assert_int_equal(pc_cdsr_request_parse(NULL, 0, &got), PC_ESYNTAX);
	assert_false(got.header_ok);

	size_t len = raw_request(wire, 1, 0, ABC_URL, NULL, 0);
	assert_int_equal(pc_cdsr_request_parse(wire, len, &got), PC_OK);
	/* Every cut short of the whole is an error; below the prefix there
	 * is nothing to answer. */
	for (size_t cut = 0; cut < len; cut++) {
		assert_int_not_equal(pc_cdsr_request_parse(wire, cut, &got), PC_OK);
		assert_int_equal(got.header_ok, cut >= PC_CDSR_PREFIX_LEN);
	}
	wire[0] = 'X';
	assert_int_equal(pc_cdsr_request_parse(wire, len, &got), PC_ESYNTAX);
	assert_false(got.header_ok);
	wire[0] = 'C';
	wire[5] = PC_CDSR_F_RESPONSE;
	assert_int_equal(pc_cdsr_request_parse(wire, len, &got), PC_ESYNTAX);
	assert_false(got.header_ok);
	wire[5] = 0;
	for (unsigned version = 0; version < 256; version++) {
		wire[4] = (uint8_t)version;
		int rc = pc_cdsr_request_parse(wire, len, &got);
		assert_int_equal(rc, version == PC_CDSR_VERSION ? PC_OK : PC_ERANGE);
		assert_true(got.header_ok);
		assert_int_equal(got.version, version);
	}
	/* Padding up to the limit is fine, one byte more is not. */
	wire[4] = PC_CDSR_VERSION;
	memset(wire + len, 0xaa, sizeof(wire) - len);
	assert_int_equal(pc_cdsr_request_parse(wire, PC_CDSR_REQUEST_MAX, &got), PC_OK);
	assert_int_equal(pc_cdsr_request_parse(wire, PC_CDSR_REQUEST_MAX + 1, &got), PC_ERANGE);
	/* Empty URL; URL running past the end; options running past it. */
	len = raw_request(wire, 1, 0, "", NULL, 0);
	assert_int_equal(pc_cdsr_request_parse(wire, len, &got), PC_ESYNTAX);
	len = raw_request(wire, 1, 0, ABC_URL, NULL, 0);
	wire[15] = 200;
	assert_int_equal(pc_cdsr_request_parse(wire, len, &got), PC_ESYNTAX);
	len = raw_request(wire, 1, 0, ABC_URL, NULL, 0);
	wire[len - 1] = 1;
	assert_int_equal(pc_cdsr_request_parse(wire, len, &got), PC_ESYNTAX);

	/* Options. */
	assert_int_equal(parse_raw((const uint8_t *)"\0\1", 2), PC_ESYNTAX); /* half a header */
	assert_int_equal(parse_raw((const uint8_t *)"\0\1\0\5acm", 7), PC_ESYNTAX);
	assert_int_equal(parse_raw((const uint8_t *)"\0\1\0\0", 4), PC_ESYNTAX);
	assert_int_equal(parse_raw((const uint8_t *)"\0\1\0\1a\0\1\0\1b", 10), PC_ESYNTAX);
	assert_int_equal(parse_raw((const uint8_t *)"\0\2\0\0", 4), PC_ESYNTAX);
	assert_int_equal(parse_raw((const uint8_t *)"\0\3\0\5\1\2\3\4\5", 9), PC_ESYNTAX);
	assert_int_equal(parse_raw((const uint8_t *)"\0\4\0\2\0\4", 6), PC_ESYNTAX);
	assert_int_equal(parse_raw((const uint8_t *)"\0\4\0\1\5", 5), PC_ESYNTAX);
	assert_int_equal(parse_raw((const uint8_t *)"\0\4\0\1\4\0\4\0\1\6", 10), PC_ESYNTAX);
	assert_int_equal(parse_raw((const uint8_t *)"\0\4\0\1\0", 5), PC_OK);
	uint8_t opts[1200];
	size_t n = 0;
	for (int i = 0; i <= PC_CDSR_MAX_AVOID; i++) {
		memcpy(opts + n, "\0\3\0\4\x7f\1\xc8\1", 8);
		n += 8;
	}
	assert_int_equal(parse_raw(opts, n - 8), PC_OK);
	assert_int_equal(parse_raw(opts, n), PC_ERANGE);
	opts[0] = 0, opts[1] = 1, opts[2] = 1, opts[3] = 0; /* a 256-byte CDN name */
	memset(opts + 4, 'a', 256);
	assert_int_equal(parse_raw(opts, 260), PC_ERANGE);
	opts[1] = 2;
	assert_int_equal(parse_raw(opts, 260), PC_ERANGE);
}

static void test_unknown_option_skipped(void **state)
{
	(void)state;
	/* An unknown option between two known ones, and one of length 0. */
	static const uint8_t opts[] = {0x77, 0x77, 0,   3,    'x',  'y', 'z', 0, 1, 0, 4, 'b',
	                               'e',  't',  'a', 0xff, 0xff, 0,   0,   0, 4, 0, 1, 6};
	uint8_t wire[256];
	size_t len = raw_request(wire, 1, 0, ABC_URL, opts, sizeof(opts));
	struct pc_cdsr_request got;
	assert_int_equal(pc_cdsr_request_parse(wire, len, &got), PC_OK);
	assert_int_equal(got.prefer_cdn_len, 4);
	assert_memory_equal(got.prefer_cdn, "beta", 4);
	assert_int_equal(got.family, PC_AF_INET6);
	assert_int_equal(got.n_avoid, 0);
}

/* Codec: responses. */

static void full_response(struct pc_cdsr_response *resp)
{
	static const char *const texts[] = {"cdn.acme.net", "http://abc.cdn.acme.net/www.abc.com/"};
	memset(resp, 0, sizeof(*resp));
	resp->version = PC_CDSR_VERSION;
	resp->status = PC_CDSR_OK;
	resp->nonce = 0xfedcba9876543210ULL;
	resp->validity_s = 300;
	resp->reason_flags = 0x41;
	resp->branch = 2;
	resp->reuse = PC_CDSR_REUSE_PREFIX;
	resp->reuse_prefix = "http://abc.cdn.acme.net/";
	resp->reuse_prefix_len = 24;
	resp->scheme = PC_CDSR_SCHEME_RTSP;
	resp->port = 8554;
	resp->server.family = PC_AF_INET6;
	memcpy(resp->server.bytes, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1", 16);
	resp->n_hints = PC_CDSR_MAX_HINTS;
	for (uint32_t i = 0; i < resp->n_hints; i++)
		resp->hints[i] = (struct pc_cdsr_hint){.kind = i % 2 ? PC_CDSR_OPT_HINT_PREFIX
		                                                     : PC_CDSR_OPT_HINT_DOMAIN,
		                                       .text = texts[i % 2],
		                                       .len = (uint16_t)strlen(texts[i % 2])};
}

static void test_response_round_trip(void **state)
{
	(void)state;
	struct pc_cdsr_response resp, got;
	full_response(&resp);
	uint8_t wire[PC_CDSR_REQUEST_MAX];
	int len = pc_cdsr_response_write(&resp, sizeof(wire), wire, sizeof(wire));
	assert_true(len > 0);
	assert_int_equal(pc_cdsr_response_parse(wire, (size_t)len, &got), PC_OK);
	assert_int_equal(got.version, 1);
	assert_int_equal(got.max_version, PC_CDSR_VERSION);
	assert_int_equal(got.flags, PC_CDSR_F_RESPONSE);
	assert_int_equal(got.status, PC_CDSR_OK);
	assert_true(got.nonce == resp.nonce);
	assert_int_equal(got.validity_s, 300);
	assert_int_equal(got.reason_flags, 0x41);
	assert_int_equal(got.branch, 2);
	assert_int_equal(got.reuse, PC_CDSR_REUSE_PREFIX);
	assert_int_equal(got.reuse_prefix_len, 24);
	assert_memory_equal(got.reuse_prefix, resp.reuse_prefix, 24);
	assert_int_equal(got.scheme, PC_CDSR_SCHEME_RTSP);
	assert_int_equal(got.port, 8554);
	assert_true(pc_addr_equal(&got.server, &resp.server));
	assert_int_equal(got.n_hints, PC_CDSR_MAX_HINTS);
	for (uint32_t i = 0; i < got.n_hints; i++) {
		assert_int_equal(got.hints[i].kind, resp.hints[i].kind);
		assert_int_equal(got.hints[i].len, resp.hints[i].len);
		assert_memory_equal(got.hints[i].text, resp.hints[i].text, got.hints[i].len);
	}
	/* Every error status is a bare header. */
	for (uint8_t status = 1; status < PC_CDSR__STATUS_COUNT; status++) {
		resp.status = status;
		assert_int_equal(pc_cdsr_response_write(&resp, sizeof(wire), wire, sizeof(wire)),
		                 PC_CDSR_HEADER_LEN);
		assert_int_equal(pc_cdsr_response_parse(wire, PC_CDSR_HEADER_LEN, &got), PC_OK);
		assert_int_equal(got.status, status);
		assert_true(got.nonce == resp.nonce);
		assert_string_not_equal(pc_cdsr_status_name(status), "unknown");
	}
	assert_string_equal(pc_cdsr_status_name(PC_CDSR_OK), "ok");
	assert_string_equal(pc_cdsr_status_name(PC_CDSR_DROPPED), "dropped");
	assert_string_equal(pc_cdsr_status_name(200), "unknown");
}

/* The size rule at the codec: for every limit, the response fits, parses,
 * and keeps a prefix of the hints; below the fixed body it is TOO_SMALL,
 * below a header nothing. */
static void test_response_size_rule(void **state)
{
	(void)state;
	struct pc_cdsr_response resp, got;
	full_response(&resp);
	uint8_t wire[PC_CDSR_REQUEST_MAX];
	const size_t fixed = PC_CDSR_HEADER_LEN + 16 + 16;
	uint32_t last_hints = 0;
	for (size_t limit = 0; limit <= sizeof(wire); limit++) {
		int len = pc_cdsr_response_write(&resp, limit, wire, sizeof(wire));
		if (limit < PC_CDSR_HEADER_LEN) {
			assert_int_equal(len, PC_ESPACE);
			continue;
		}
		assert_true(len >= PC_CDSR_HEADER_LEN && (size_t)len <= limit);
		assert_int_equal(pc_cdsr_response_parse(wire, (size_t)len, &got), PC_OK);
		if (limit < fixed) {
			assert_int_equal(got.status, PC_CDSR_TOO_SMALL);
			continue;
		}
		assert_int_equal(got.status, PC_CDSR_OK);
		/* The reuse prefix needs 28 bytes; without room it narrows. */
		assert_int_equal(got.reuse,
		                 limit < fixed + 28 ? PC_CDSR_REUSE_URL : PC_CDSR_REUSE_PREFIX);
		/* The reuse prefix comes before hints, so hints grow with the
		 * limit once it fits. */
		if (got.reuse == PC_CDSR_REUSE_PREFIX) {
			assert_true(got.n_hints >= last_hints);
			last_hints = got.n_hints;
		}
		assert_int_equal(!!(got.flags & PC_CDSR_F_TRUNCATED), got.n_hints < resp.n_hints);
	}
	assert_int_equal(last_hints, PC_CDSR_MAX_HINTS);
	/* out_size limits as well as the request. */
	assert_int_equal(pc_cdsr_response_write(&resp, 1000, wire, 15), PC_ESPACE);
	assert_int_equal(pc_cdsr_response_write(&resp, 1000, wire, 40), PC_CDSR_HEADER_LEN);
	assert_int_equal(wire[PC_CDSR_OFF_STATUS], PC_CDSR_TOO_SMALL);
}

static void test_response_errors(void **state)
{
	(void)state;
	struct pc_cdsr_response resp, got;
	uint8_t wire[PC_CDSR_REQUEST_MAX];
	full_response(&resp);
	resp.n_hints = 0;
	resp.reuse = PC_CDSR_REUSE_HOST;
	/* Writing. */
	assert_int_equal(pc_cdsr_response_write(NULL, 100, wire, sizeof(wire)), PC_EINVAL);
	assert_int_equal(pc_cdsr_response_write(&resp, 100, NULL, sizeof(wire)), PC_EINVAL);
	resp.status = PC_CDSR__STATUS_COUNT;
	assert_int_equal(pc_cdsr_response_write(&resp, 100, wire, sizeof(wire)), PC_EINVAL);
	resp.status = PC_CDSR_OK;
	resp.server.family = 5;
	assert_int_equal(pc_cdsr_response_write(&resp, 100, wire, sizeof(wire)), PC_EINVAL);
	resp.server.family = PC_AF_INET;
	resp.scheme = 9;
	assert_int_equal(pc_cdsr_response_write(&resp, 100, wire, sizeof(wire)), PC_EINVAL);
	resp.scheme = PC_CDSR_SCHEME_HTTP;
	resp.hints[0] = (struct pc_cdsr_hint){.kind = 9, .text = "x", .len = 1};
	resp.n_hints = 1;
	assert_int_equal(pc_cdsr_response_write(&resp, 100, wire, sizeof(wire)), PC_EINVAL);
	resp.n_hints = 0;
	int len = pc_cdsr_response_write(&resp, 100, wire, sizeof(wire));
	assert_int_equal(len, PC_CDSR_HEADER_LEN + 16 + 4);
	assert_int_equal(pc_cdsr_response_parse(wire, (size_t)len, &got), PC_OK);

	/* Parsing: every cut is an error, and so is every bad field. */
	assert_int_equal(pc_cdsr_response_parse(wire, (size_t)len, NULL), PC_EINVAL);
	assert_int_equal(pc_cdsr_response_parse(NULL, 5, &got), PC_EINVAL);
	for (int cut = 0; cut < len; cut++)
		assert_int_equal(pc_cdsr_response_parse(wire, (size_t)cut, &got), PC_ESYNTAX);
	uint8_t bad[PC_CDSR_REQUEST_MAX];
	struct {
		size_t offset;
		uint8_t value;
		int rc;
	} cases[] = {
	    {0, 'X', PC_ESYNTAX},  /* magic */
	    {5, 0x00, PC_ESYNTAX}, /* no response flag */
	    {4, 2, PC_ERANGE},     /* another version with status OK */
	    {25, 3, PC_ESYNTAX},   /* reuse scope */
	    {25, 2, PC_ESYNTAX},   /* PREFIX without its option */
	    {26, 0, PC_ESYNTAX},   /* scheme */
	    {26, 4, PC_ESYNTAX},   /* scheme */
	    {27, 5, PC_ESYNTAX},   /* family */
	    {27, 6, PC_ESYNTAX},   /* family 6 needs 16 bytes */
	    {35, 1, PC_ESYNTAX},   /* opts_len past the end */
	    {14, 200, PC_ESYNTAX}, /* unknown error status: then a bare header */
	    {5, 0xff, PC_OK},      /* unknown flag bits are ignored */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bad, wire, (size_t)len);
		bad[cases[i].offset] = cases[i].value;
		assert_int_equal(pc_cdsr_response_parse(bad, (size_t)len, &got), cases[i].rc);
	}
	/* Bytes after the options; an error header with a body. */
	memcpy(bad, wire, (size_t)len);
	bad[len] = 0;
	assert_int_equal(pc_cdsr_response_parse(bad, (size_t)len + 1, &got), PC_ESYNTAX);
	bad[14] = PC_CDSR_NO_SERVER;
	assert_int_equal(pc_cdsr_response_parse(bad, 17, &got), PC_ESYNTAX);
	assert_int_equal(pc_cdsr_response_parse(bad, 16, &got), PC_OK);
	/* Options in a response: unknown ones skipped, a 17th hint refused,
	 * a duplicate reuse prefix refused. */
	uint8_t opts[] = {0, 9, 0, 1, 'z', 0, 2, 0, 1, 'a'};
	memcpy(bad, wire, (size_t)len);
	bad[len - 1] = sizeof(opts);
	memcpy(bad + len, opts, sizeof(opts));
	assert_int_equal(pc_cdsr_response_parse(bad, (size_t)len + sizeof(opts), &got), PC_OK);
	assert_int_equal(got.n_hints, 1);
	assert_int_equal(got.hints[0].kind, PC_CDSR_OPT_HINT_DOMAIN);
	size_t n = (size_t)len;
	for (int i = 0; i <= PC_CDSR_MAX_HINTS; i++, n += 5)
		memcpy(bad + n, "\0\3\0\1/", 5);
	bad[len - 1] = (uint8_t)(n - (size_t)len);
	assert_int_equal(pc_cdsr_response_parse(bad, n, &got), PC_ERANGE);
	n = (size_t)len;
	for (int i = 0; i < 2; i++, n += 5)
		memcpy(bad + n, "\0\1\0\1/", 5);
	bad[len - 1] = (uint8_t)(n - (size_t)len);
	assert_int_equal(pc_cdsr_response_parse(bad, n, &got), PC_ESYNTAX);
}

static void test_error_write(void **state)
{
	(void)state;
	uint8_t wire[256], out[256];
	size_t len = raw_request(wire, 1, 0, ABC_URL, NULL, 0);
	struct pc_cdsr_response got;
	assert_int_equal(pc_cdsr_error_write(wire, len, PC_CDSR_RATE_LIMITED, out, sizeof(out)),
	                 PC_CDSR_HEADER_LEN);
	assert_int_equal(pc_cdsr_response_parse(out, PC_CDSR_HEADER_LEN, &got), PC_OK);
	assert_int_equal(got.status, PC_CDSR_RATE_LIMITED);
	assert_true(got.nonce == 0x1122334455667788ULL);
	assert_int_equal(pc_cdsr_error_write(wire, 15, PC_CDSR_RATE_LIMITED, out, sizeof(out)),
	                 PC_ESPACE);
	assert_int_equal(pc_cdsr_error_write(wire, 13, PC_CDSR_RATE_LIMITED, out, sizeof(out)),
	                 PC_ESYNTAX);
	assert_int_equal(pc_cdsr_error_write(wire, len, PC_CDSR_OK, out, sizeof(out)), PC_EINVAL);
	assert_int_equal(pc_cdsr_error_write(wire, len, 77, out, sizeof(out)), PC_EINVAL);
	assert_int_equal(pc_cdsr_error_write(out, 16, PC_CDSR_BAD_REQUEST, wire, sizeof(wire)),
	                 PC_ESYNTAX); /* a response is never answered */
}

/* Version negotiation: an unknown version gets the highest supported, in
 * a header no longer than the request; too short for that, silence. */
static void test_version_negotiation(void **state)
{
	struct env *env = env_of(state);
	for (unsigned version = 0; version < 256; version++) {
		if (version == PC_CDSR_VERSION)
			continue;
		for (size_t len = 0; len < 40; len++) {
			memset(env->req, 0x5a, sizeof(env->req));
			memcpy(env->req, "CDSR", 4);
			env->req[4] = (uint8_t)version;
			env->req[5] = 0;
			env->req_len = len;
			uint8_t status = answer_from(env, "127.1.0.10", PC_NONE);
			if (len < PC_CDSR_HEADER_LEN) {
				assert_int_equal(status, PC_CDSR_DROPPED);
				continue;
			}
			assert_int_equal(status, PC_CDSR_UNSUPPORTED_VERSION);
			assert_int_equal(env->out_len, PC_CDSR_HEADER_LEN);
			assert_int_equal(env->resp.version, PC_CDSR_VERSION);
			assert_int_equal(env->resp.max_version, PC_CDSR_VERSION);
			assert_memory_equal(env->out + 6, env->req + 6, 8);
		}
	}
	/* A client reading a newer responder's version error. */
	uint8_t wire[16] = {'C', 'D', 'S', 'R', 7, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 2, 7};
	struct pc_cdsr_response got;
	assert_int_equal(pc_cdsr_response_parse(wire, sizeof(wire), &got), PC_OK);
	assert_int_equal(got.status, PC_CDSR_UNSUPPORTED_VERSION);
	assert_int_equal(got.max_version, 7);
}

/* The size rule end to end: every request length, from nothing to the
 * limit, gets a response no longer than itself (answer_from asserts it). */
static void test_answer_size_rule(void **state)
{
	struct env *env = env_of(state);
	struct pc_cdsr_request req;
	request_init(&req, ABC_URL);
	req.flags = PC_CDSR_F_HINTS;
	write_request(env, &req, 0);
	size_t natural = env->req_len;
	uint8_t full[PC_CDSR_REQUEST_MAX];
	assert_int_equal(pc_cdsr_request_write(&req, sizeof(full), full, sizeof(full)),
	                 (int)sizeof(full));
	uint32_t hints = 0;
	for (size_t len = 0; len <= sizeof(full); len++) {
		memcpy(env->req, full, len);
		env->req_len = len;
		uint8_t status = answer_from(env, "127.1.0.10", PC_NONE);
		if (len < PC_CDSR_HEADER_LEN)
			assert_int_equal(status, PC_CDSR_DROPPED);
		else if (len < natural)
			assert_int_equal(status, PC_CDSR_BAD_REQUEST);
		else {
			assert_int_equal(status, PC_CDSR_OK);
			assert_true(env->resp.n_hints >= hints);
			hints = env->resp.n_hints;
		}
	}
	/* acme's domain, abc's origin and directory: three hints in all. */
	assert_int_equal(hints, 3);
	/* A response buffer smaller than the smallest answer: TOO_SMALL. */
	request_init(&req, ABC_URL);
	write_request(env, &req, 512);
	struct pc_answer_ctx ctx = {.model = env->model,
	                            .live = env->live,
	                            .node = PC_NONE,
	                            .source = addr("127.1.0.10"),
	                            .now_ms = NOW_MS};
	struct pc_cdsr_query query = {.wire = env->req, .len = env->req_len};
	assert_int_equal(pc_cdsr_answer(&ctx, &query, env->out, 30, &env->res), PC_CDSR_HEADER_LEN);
	assert_int_equal(env->res.status, PC_CDSR_TOO_SMALL);
	assert_false(env->res.decided);
	assert_int_equal(pc_cdsr_answer(&ctx, &query, env->out, 10, &env->res), 0);
}

/* Claims 1-2: PRIMARY, PEER and OUTSIDE through the CDSR answer. */
static void test_branches(void **state)
{
	struct env *env = env_of(state);
	uint32_t self = env->model->self_node;
	assert_int_equal(ask(env, ABC_URL, "127.1.0.10", self), PC_CDSR_OK);
	assert_int_equal(env->resp.branch, PC_BRANCH_PRIMARY);
	assert_int_equal(env->res.decision.branch, PC_BRANCH_PRIMARY);
	assert_string_equal(env->model->cdns[env->res.decision.cdn].name, "acme");
	assert_int_equal(env->model->servers[env->res.decision.servers[0]].cdn,
	                 env->res.decision.cdn);
	assert_true(
	    pc_addr_equal(&env->resp.server,
	                  &env->model->servers[env->res.decision.servers[0]].addresses.items[0]));
	assert_int_equal(env->resp.port, 8080);
	assert_int_equal(env->resp.scheme, PC_CDSR_SCHEME_HTTP);
	assert_int_equal(env->resp.validity_s, PC_CDSR_VALIDITY_DEFAULT);
	assert_int_equal(env->resp.reuse, PC_CDSR_REUSE_HOST);
	assert_int_equal(env->resp.reason_flags, env->res.decision.flags);
	assert_int_equal(env->resp.n_hints, 0); /* not asked for */

	assert_int_equal(ask(env, ABC_URL, "127.2.0.10", self), PC_CDSR_OK);
	assert_int_equal(env->resp.branch, PC_BRANCH_PEER);
	assert_string_equal(env->model->cdns[env->res.decision.cdn].name, "beta");
	assert_string_equal(
	    env->model->cdns[env->model->servers[env->res.decision.servers[0]].cdn].name, "beta");

	/* foo is beta's: the acme node is not authoritative, a beta node is. */
	assert_int_equal(ask(env, FOO_URL, "127.6.0.10", self), PC_CDSR_NOT_AUTHORITATIVE);
	assert_false(env->res.decided);
	uint32_t beta_node = pc_model_node(env->model, "beta-n1");
	assert_int_equal(ask(env, FOO_URL, "127.6.0.10", beta_node), PC_CDSR_OK);
	assert_int_equal(env->resp.branch, PC_BRANCH_OUTSIDE);
	assert_string_equal(env->model->cdns[env->res.decision.cdn].name, "beta");
	assert_int_equal(ask(env, FOO_URL, "127.6.0.10", PC_NONE), PC_CDSR_OK);
	assert_int_equal(env->resp.branch, PC_BRANCH_OUTSIDE);

	/* Schemes and ports: rtsp on the server's RTSP port, https on 443. */
	assert_int_equal(ask(env, "rtsp://abc.cdn.acme.net/www.abc.com/live", "127.1.0.10", self),
	                 PC_CDSR_OK);
	assert_int_equal(env->resp.scheme, PC_CDSR_SCHEME_RTSP);
	assert_int_equal(env->resp.port, 8554);
	assert_int_equal(ask(env, "https://abc.cdn.acme.net/www.abc.com/x", "127.1.0.10", self),
	                 PC_CDSR_OK);
	assert_int_equal(env->resp.scheme, PC_CDSR_SCHEME_HTTPS);
	assert_int_equal(env->resp.port, 443);
}

static void test_hints(void **state)
{
	struct env *env = env_of(state);
	struct pc_cdsr_request req;
	request_init(&req, "http://ABC.cdn.acme.net:8000/www.abc.com/x");
	req.flags = PC_CDSR_F_HINTS;
	write_request(env, &req, 512);
	assert_int_equal(answer_from(env, "127.2.0.10", env->model->self_node), PC_CDSR_OK);
	assert_int_equal(env->resp.branch, PC_BRANCH_PEER);
	static const char *const want[] = {
	    "cdn.acme.net",
	    "cdn.beta.net",
	    "http://abc.cdn.acme.net:8000/www.abc.com/",
	    "http://abc.cdn.acme.net:8000/cdn.abc.com/",
	};
	assert_int_equal(env->resp.n_hints, 4);
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(env->resp.hints[i].kind,
		                 i < 2 ? PC_CDSR_OPT_HINT_DOMAIN : PC_CDSR_OPT_HINT_PREFIX);
		assert_int_equal(env->resp.hints[i].len, strlen(want[i]));
		assert_memory_equal(env->resp.hints[i].text, want[i], strlen(want[i]));
	}
	assert_false(env->resp.flags & PC_CDSR_F_TRUNCATED);
	/* Unpadded, only some fit, and the answer says so. */
	write_request(env, &req, 0);
	assert_int_equal(answer_from(env, "127.2.0.10", env->model->self_node), PC_CDSR_OK);
	assert_true(env->resp.n_hints < 4);
	assert_true(env->resp.flags & PC_CDSR_F_TRUNCATED);
}

/* Claim 19: the avoid list moves the answer to another server. */
static void test_avoid(void **state)
{
	struct env *env = env_of(state);
	uint32_t self = env->model->self_node;
	assert_int_equal(ask(env, ABC_URL, "127.1.0.10", self), PC_CDSR_OK);
	const char *first = server_name(env);
	char first_name[64];
	snprintf(first_name, sizeof(first_name), "%s", first);
	pc_addr first_addr = env->resp.server;

	struct pc_cdsr_request req;
	request_init(&req, ABC_URL);
	req.avoid[0] =
	    (struct pc_cdsr_avoid){.name = first_name, .name_len = (uint16_t)strlen(first_name)};
	req.n_avoid = 1;
	write_request(env, &req, 512);
	assert_int_equal(answer_from(env, "127.1.0.10", self), PC_CDSR_OK);
	assert_string_not_equal(server_name(env), first_name);
	assert_false(pc_addr_equal(&env->resp.server, &first_addr));

	req.avoid[0] = (struct pc_cdsr_avoid){.addr = first_addr};
	write_request(env, &req, 512);
	assert_int_equal(answer_from(env, "127.1.0.10", self), PC_CDSR_OK);
	assert_string_not_equal(server_name(env), first_name);

	/* Names and addresses of no server are ignored. */
	req.avoid[0] = (struct pc_cdsr_avoid){.name = "nobody", .name_len = 6};
	req.avoid[1] = (struct pc_cdsr_avoid){.addr = addr("192.0.2.1")};
	req.n_avoid = 2;
	write_request(env, &req, 512);
	assert_int_equal(answer_from(env, "127.1.0.10", self), PC_CDSR_OK);
	assert_string_equal(server_name(env), first_name);

	/* Avoiding every acme server that may serve abc leaves none. */
	request_init(&req, ABC_URL);
	static const char *const acme[] = {"acme-s1", "acme-s2", "acme-core", "acme-s4"};
	for (int i = 0; i < 4; i++)
		req.avoid[i] =
		    (struct pc_cdsr_avoid){.name = acme[i], .name_len = (uint16_t)strlen(acme[i])};
	req.n_avoid = 4;
	write_request(env, &req, 512);
	assert_int_equal(answer_from(env, "127.1.0.10", self), PC_CDSR_NO_SERVER);
	assert_false(env->res.decided);
}

/* Claim 19: a preferred CDN, and the wanted address family. */
static void test_preferences(void **state)
{
	struct env *env = env_of(state);
	uint32_t self = env->model->self_node;
	/* AS 500 is in acme and beta: abc is served by acme unless the
	 * client prefers beta, which peers with acme. */
	assert_int_equal(ask(env, ABC_URL, "127.5.0.10", self), PC_CDSR_OK);
	assert_string_equal(env->model->cdns[env->res.decision.cdn].name, "acme");
	assert_false(env->resp.reason_flags & PC_DF_PREFERRED);

	struct pc_cdsr_request req;
	request_init(&req, ABC_URL);
	req.prefer_cdn = "BETA";
	req.prefer_cdn_len = 4;
	write_request(env, &req, 512);
	assert_int_equal(answer_from(env, "127.5.0.10", self), PC_CDSR_OK);
	assert_string_equal(env->model->cdns[env->res.decision.cdn].name, "beta");
	assert_int_equal(env->resp.branch, PC_BRANCH_PEER);
	assert_true(env->resp.reason_flags & PC_DF_PREFERRED);

	req.prefer_cdn = "nosuchcdn";
	req.prefer_cdn_len = 9;
	write_request(env, &req, 512);
	assert_int_equal(answer_from(env, "127.5.0.10", self), PC_CDSR_OK);
	assert_string_equal(env->model->cdns[env->res.decision.cdn].name, "acme");

	/* Family: IPv4 servers only in the default federation. */
	request_init(&req, ABC_URL);
	req.family = PC_AF_INET;
	write_request(env, &req, 512);
	assert_int_equal(answer_from(env, "127.1.0.10", self), PC_CDSR_OK);
	assert_int_equal(env->resp.server.family, PC_AF_INET);
	req.family = PC_AF_INET6;
	write_request(env, &req, 512);
	assert_int_equal(answer_from(env, "127.1.0.10", self), PC_CDSR_NO_SERVER);
	/* With no family asked, an IPv6 client gets what there is. */
	assert_int_equal(ask(env, ABC_URL, "2001:db8:100::10", self), PC_CDSR_OK);
	assert_int_equal(env->resp.server.family, PC_AF_INET);
	assert_int_equal(env->resp.branch, PC_BRANCH_PRIMARY);
}

static void test_signature_required(void **state)
{
	struct env *env = env_of(state);
	const char *unsigned_url = "http://news.cdn.gamma.net/cdn.news.example/ch1";
	assert_int_equal(ask(env, unsigned_url, "127.6.0.10", PC_NONE), PC_CDSR_SIGNATURE_REQUIRED);
	assert_false(env->res.decided);
	/* A node serving only acme says nothing about gamma's customers. */
	assert_int_equal(ask(env, unsigned_url, "127.6.0.10", env->model->self_node),
	                 PC_CDSR_NOT_AUTHORITATIVE);

	/* Signed host (docs/naming.md §3): the signature covers the host. */
	const struct pc_provider *news =
	    &env->model->providers[pc_model_provider(env->model, "news")];
	const char *host = "news.cdn.gamma.net";
	char sig[PC__SIG_CHARS];
	pc__sig_compute(news->sign_key, host, strlen(host), sig);
	char url[256];
	snprintf(url, sizeof(url), "http://s-%.*s.%s/cdn.news.example/ch1", PC__SIG_CHARS, sig,
	         host);
	assert_int_equal(ask(env, url, "127.6.0.10", PC_NONE), PC_CDSR_OK);
	assert_int_equal(env->resp.branch, PC_BRANCH_PRIMARY);
	assert_server(env, "127.6.200.1");
	url[9] = url[9] == 'a' ? 'b' : 'a'; /* a wrong signature */
	assert_int_equal(ask(env, url, "127.6.0.10", PC_NONE), PC_CDSR_SIGNATURE_REQUIRED);
}

static void test_url_errors(void **state)
{
	struct env *env = env_of(state);
	uint32_t self = env->model->self_node;
	struct {
		const char *url;
		uint8_t status;
	} cases[] = {
	    {"http://www.example.com/x", PC_CDSR_NOT_AUTHORITATIVE},
	    {"http://foo.cdn.beta.net/www.nothere.com/x", PC_CDSR_NOT_AUTHORITATIVE},
	    {"http://zzz.cdn.acme.net/www.abc.com/x", PC_CDSR_NO_SUCH_CONTENT},
	    {"http://abc.cdn.acme.net/www.evil.com/x", PC_CDSR_NO_SUCH_CONTENT},
	    {"http://abc.cdn.acme.net/", PC_CDSR_NO_SUCH_CONTENT},
	    {"not a url", PC_CDSR_BAD_REQUEST},
	    {"ftp://abc.cdn.acme.net/www.abc.com/x", PC_CDSR_BAD_REQUEST},
	    {"http://abc.cdn.acme.net/www.abc.com/../etc", PC_CDSR_BAD_REQUEST},
	    {"http://abc.cdn.acme.net/www.abc.com/%00", PC_CDSR_BAD_REQUEST},
	    {"http://x.abc.cdn.acme.net/www.abc.com/y", PC_CDSR_BAD_REQUEST},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ask(env, cases[i].url, "127.1.0.10", self), cases[i].status);
		assert_int_equal(env->out_len, PC_CDSR_HEADER_LEN);
		assert_false(env->res.decided);
	}
	/* Malformed requests: answered BAD_REQUEST when the prefix is a
	 * request's, dropped otherwise. */
	env->req_len = raw_request(env->req, 1, 0, ABC_URL, (const uint8_t *)"\0\4\0\1\7", 5);
	assert_int_equal(answer_from(env, "127.1.0.10", self), PC_CDSR_BAD_REQUEST);
	env->req[5] = PC_CDSR_F_RESPONSE;
	assert_int_equal(answer_from(env, "127.1.0.10", self), PC_CDSR_DROPPED);
	env->req[5] = 0;
	env->req[3] = 'r';
	assert_int_equal(answer_from(env, "127.1.0.10", self), PC_CDSR_DROPPED);
}

static void test_no_server(void **state)
{
	struct env *env = env_of(state);
	static const char *const acme[] = {"acme-s1", "acme-s2", "acme-core", "acme-s4"};
	for (int i = 0; i < 4; i++)
		pc_live_set_health(env->live, pc_model_server(env->model, acme[i]), PC_HEALTH_DOWN);
	assert_int_equal(ask(env, ABC_URL, "127.1.0.10", env->model->self_node), PC_CDSR_NO_SERVER);
	assert_false(env->res.decided);
	for (int i = 0; i < 4; i++)
		pc_live_set_health(env->live, pc_model_server(env->model, acme[i]), PC_HEALTH_UP);
	assert_int_equal(ask(env, ABC_URL, "127.1.0.10", env->model->self_node), PC_CDSR_OK);
}

/* The worked example of docs/cdsr.md §9, byte for byte. */
static void test_spec_example(void **state)
{
	struct env *env = env_of(state);
	struct pc_cdsr_request req;
	request_init(&req, ABC_URL);
	req.nonce = 0x0123456789abcdefULL;
	req.flags = PC_CDSR_F_HINTS;
	req.family = PC_AF_INET;
	write_request(env, &req, 256);
	static const uint8_t want_req[] = {
	    0x43, 0x44, 0x53, 0x52, 0x01, 0x01, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
	    0xcd, 0xef, 0x00, 0x25, 'h',  't',  't',  'p',  ':',  '/',  '/',  'a',
	    'b',  'c',  '.',  'c',  'd',  'n',  '.',  'a',  'c',  'm',  'e',  '.',
	    'n',  'e',  't',  '/',  'w',  'w',  'w',  '.',  'a',  'b',  'c',  '.',
	    'c',  'o',  'm',  '/',  'x',  0x00, 0x05, 0x00, 0x04, 0x00, 0x01, 0x04};
	assert_int_equal(env->req_len, 256);
	assert_memory_equal(env->req, want_req, sizeof(want_req));
	for (size_t i = sizeof(want_req); i < 256; i++)
		assert_int_equal(env->req[i], 0);
	assert_int_equal(answer_from(env, "127.1.0.10", env->model->self_node), PC_CDSR_OK);
	static const uint8_t want_resp[] = {
	    0x43, 0x44, 0x53, 0x52, 0x01, 0x80, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	    0x00, 0x01, 0x00, 0x00, 0x00, 0x1e, 0x00, 0x00, 0x00, 0x40, 0x01, 0x01, 0x01, 0x04,
	    0x1f, 0x90, 0x7f, 0x01, 0xc8, 0x02, 0x00, 0x60, 0x00, 0x02, 0x00, 0x0c, 'c',  'd',
	    'n',  '.',  'a',  'c',  'm',  'e',  '.',  'n',  'e',  't',  0x00, 0x03, 0x00, 0x24,
	    'h',  't',  't',  'p',  ':',  '/',  '/',  'a',  'b',  'c',  '.',  'c',  'd',  'n',
	    '.',  'a',  'c',  'm',  'e',  '.',  'n',  'e',  't',  '/',  'w',  'w',  'w',  '.',
	    'a',  'b',  'c',  '.',  'c',  'o',  'm',  '/',  0x00, 0x03, 0x00, 0x24, 'h',  't',
	    't',  'p',  ':',  '/',  '/',  'a',  'b',  'c',  '.',  'c',  'd',  'n',  '.',  'a',
	    'c',  'm',  'e',  '.',  'n',  'e',  't',  '/',  'c',  'd',  'n',  '.',  'a',  'b',
	    'c',  '.',  'c',  'o',  'm',  '/'};
	assert_int_equal(env->out_len, sizeof(want_resp));
	assert_memory_equal(env->out, want_resp, sizeof(want_resp));
	assert_string_equal(server_name(env), "acme-s2");
	/* Unpadded: the first hint only, TRUNCATED set. */
	write_request(env, &req, 0);
	assert_int_equal(env->req_len, sizeof(want_req));
	assert_int_equal(answer_from(env, "127.1.0.10", env->model->self_node), PC_CDSR_OK);
	assert_int_equal(env->out_len, 52);
	assert_int_equal(env->out[5], 0xc0);
	assert_memory_equal(env->out + 6, want_resp + 6, 28);
	assert_int_equal(env->out[35], 16);
	assert_memory_equal(env->out + 36, want_resp + 36, 16);
}

/* What is built at load changes no byte: every answer, hinted or not, at
 * every request size from too small to roomy (so that hints are cut at
 * each place), for plain hosts in any case, with a port, with a service
 * label, from a PEER and a PRIMARY client, is the same with
 * pc_cdsr_prebuilt and the generation's host table (ctx->hosts) as without
 * (each with its own live state). */
static void test_prebuilt_changes_nothing(void **state)
{
	struct env *env = env_of(state);
	pc_cdsr_prebuilt *prebuilt = NULL;
	assert_int_equal(pc_cdsr_prebuilt_new(env->model, &prebuilt), PC_OK);
	pc_hosts *hosts = NULL;
	assert_int_equal(pc_hosts_new(env->model, &hosts), PC_OK);
	pc_live *live_built = NULL, *live_walk = NULL; /* fresh, alike */
	assert_int_equal(pc_live_new(env->model, &live_built), PC_OK);
	assert_int_equal(pc_live_new(env->model, &live_walk), PC_OK);
	static const char *const urls[] = {
	    ABC_URL,
	    "HTTP://ABC.CDN.ACME.NET/WWW.ABC.COM/x",
	    "https://abc.cdn.acme.net:8443/cdn.abc.com/y",
	    "rtsp://Abc.Cdn.Acme.Net/www.abc.com/live",
	    "http://web.abc.cdn.acme.net/www.abc.com/x",
	    FOO_URL,
	};
	static const char *const clients[] = {"127.1.0.10", "127.2.0.10"};
	unsigned answered = 0, truncated = 0;
	for (size_t u = 0; u < sizeof(urls) / sizeof(urls[0]); u++) {
		for (size_t pad = 0; pad <= 300; pad++) {
			struct pc_cdsr_request req;
			request_init(&req, urls[u]);
			req.flags = PC_CDSR_F_HINTS;
			req.family = PC_AF_INET;
			write_request(env, &req, pad);
			for (size_t c = 0; c < 2; c++) {
				struct pc_answer_ctx ctx = {.model = env->model,
				                            .live = live_built,
				                            .hosts = hosts,
				                            .node = env->model->self_node,
				                            .source = addr(clients[c]),
				                            .now_ms = NOW_MS};
				struct pc_cdsr_query query = {env->req, env->req_len, prebuilt};
				uint8_t built[sizeof(env->out)], walked[sizeof(env->out)];
				struct pc_cdsr_result res_built, res_walked;
				size_t n =
				    pc_cdsr_answer(&ctx, &query, built, sizeof(built), &res_built);
				ctx.live = live_walk;
				ctx.hosts = NULL;
				query.prebuilt = NULL;
				assert_int_equal(pc_cdsr_answer(&ctx, &query, walked,
				                                sizeof(walked), &res_walked),
				                 n);
				assert_memory_equal(built, walked, n);
				assert_int_equal(res_built.status, res_walked.status);
				if (n > PC_CDSR_HEADER_LEN && res_built.status == PC_CDSR_OK)
					answered++;
				if (n > PC_CDSR_OFF_FLAGS &&
				    (built[PC_CDSR_OFF_FLAGS] & PC_CDSR_F_TRUNCATED))
					truncated++;
			}
		}
	}
	/* Both sides of the cut were reached. */
	assert_true(answered > 1000);
	assert_true(truncated > 100);
	pc_live_free(live_built);
	pc_live_free(live_walk);
	pc_cdsr_prebuilt_free(prebuilt);
	pc_hosts_free(hosts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_round_trip),
	    cmocka_unit_test(test_pad_length),
	    cmocka_unit_test(test_request_write_errors),
	    cmocka_unit_test(test_request_parse_errors),
	    cmocka_unit_test(test_unknown_option_skipped),
	    cmocka_unit_test(test_response_round_trip),
	    cmocka_unit_test(test_response_size_rule),
	    cmocka_unit_test(test_response_errors),
	    cmocka_unit_test(test_error_write),
	    cmocka_unit_test(test_version_negotiation),
	    cmocka_unit_test(test_answer_size_rule),
	    cmocka_unit_test(test_branches),
	    cmocka_unit_test(test_hints),
	    cmocka_unit_test(test_avoid),
	    cmocka_unit_test(test_preferences),
	    cmocka_unit_test(test_signature_required),
	    cmocka_unit_test(test_url_errors),
	    cmocka_unit_test(test_no_server),
	    cmocka_unit_test(test_spec_example),
	    cmocka_unit_test(test_prebuilt_changes_nothing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
