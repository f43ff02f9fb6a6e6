/* Unit tests of the shared-cache rules (RFC 9111), from real header text
 * parsed by http_msg. Many cases are those of the cache-tests.fyi suite
 * (http-tests/cache-tests), named after its test ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/err.h"
#include "lib/proto/http_cache.h"

/* 1700000000 is this date; tests count seconds from it. */
#define T0      INT64_C(1700000000)
#define DATE_T0 "Tue, 14 Nov 2023 22:13:20 GMT"
#define DATE_M1 "Tue, 14 Nov 2023 21:13:20 GMT" /* T0 - 3600 */
#define DATE_M2 "Tue, 14 Nov 2023 20:13:20 GMT" /* T0 - 7200 */
#define DATE_P1 "Tue, 14 Nov 2023 23:13:20 GMT" /* T0 + 3600 */
#define DATE_MW "Tue, 07 Nov 2023 22:13:20 GMT" /* T0 - 7 days */

struct msg {
	char text[4096];
	struct pc_http_head head;
};

/* Parses lines (separated by \n, the start line first) as a head. */
static const struct pc_http_head *parse(struct msg *m, bool request, const char *lines)
{
	size_t n = 0;
	for (const char *p = lines; *p; p++) {
		if (*p == '\n')
			m->text[n++] = '\r';
		m->text[n++] = *p;
		assert_true(n < sizeof m->text - 4);
	}
	memcpy(m->text + n, "\r\n", 2);
	n += 2;
	int rc = request ? pc_http_parse_request(m->text, n, sizeof m->text, &m->head)
	                 : pc_http_parse_response(m->text, n, sizeof m->text, &m->head);
	if (rc <= 0)
		fail_msg("parse failed (%d): %s", rc, lines);
	return &m->head;
}

static const struct pc_http_head *req(struct msg *m, const char *lines)
{
	return parse(m, true, lines);
}

static const struct pc_http_head *resp(struct msg *m, const char *lines)
{
	return parse(m, false, lines);
}

#define GET "GET /a HTTP/1.1\nHost: o.example\n"
#define OK  "HTTP/1.1 200 OK\n"

static struct pc_cache_control resp_cc(const char *lines)
{
	struct msg m;
	struct pc_cache_control cc;
	pc_cache_control_response(resp(&m, lines), &cc);
	return cc;
}

static struct pc_cache_control req_cc(const char *lines)
{
	struct msg m;
	struct pc_cache_control cc;
	pc_cache_control_request(req(&m, lines), &cc);
	return cc;
}

/* The entry of a response requested and received at T0. */
static struct pc_cache_entry entry_at(const char *lines, int64_t request_time,
                                      int64_t response_time)
{
	struct msg m;
	struct pc_cache_entry e;
	pc_cache_entry_init(&e, resp(&m, lines), request_time, response_time);
	return e;
}

static struct pc_cache_entry entry(const char *lines)
{
	return entry_at(lines, T0, T0);
}

static enum pc_cache_store storable(const char *request, const char *response)
{
	struct msg a, b;
	return pc_cache_storable(req(&a, request), resp(&b, response));
}

/* ---- Cache-Control ---- */

static void test_cc_response_directives(void **state)
{
	(void)state;
	struct pc_cache_control cc =
	    resp_cc(OK "Cache-Control: MaX-aGe=60, s-maxage=30, No-Store, no-cache, public\n"
	               "Cache-Control: must-revalidate, proxy-revalidate, no-transform, "
	               "immutable, must-understand, stale-while-revalidate=5, "
	               "stale-if-error=7, private\n");
	assert_int_equal(cc.max_age, 60);
	assert_int_equal(cc.s_maxage, 30);
	assert_int_equal(cc.stale_while_revalidate, 5);
	assert_int_equal(cc.stale_if_error, 7);
	assert_int_equal(cc.flags, PC_CC_NO_STORE | PC_CC_NO_CACHE | PC_CC_PUBLIC |
	                               PC_CC_MUST_REVALIDATE | PC_CC_PROXY_REVALIDATE |
	                               PC_CC_NO_TRANSFORM | PC_CC_IMMUTABLE |
	                               PC_CC_MUST_UNDERSTAND | PC_CC_PRIVATE);
	/* Request-only directives mean nothing in a response. */
	cc = resp_cc(OK "Cache-Control: only-if-cached, max-stale, min-fresh=3\n");
	assert_int_equal(cc.flags, 0);
	assert_int_equal(cc.min_fresh, PC_CC_ABSENT);
	cc = resp_cc(OK "X: y\n");
	assert_int_equal(cc.max_age, PC_CC_ABSENT);
	assert_int_equal(cc.flags, 0);
}

static void test_cc_qualified_forms(void **state)
{
	(void)state;
	struct pc_cache_control cc =
	    resp_cc(OK "Cache-Control: no-cache=\"Set-Cookie, X-A\", private=\"X-B\"\n");
	assert_int_equal(cc.flags, PC_CC_NO_CACHE_FIELDS | PC_CC_PRIVATE_FIELDS);
	/* An empty list is the unqualified form. */
	cc = resp_cc(OK "Cache-Control: private=\"\", no-cache=\"\"\n");
	assert_int_equal(cc.flags, PC_CC_PRIVATE | PC_CC_NO_CACHE);
}

static void test_cc_delta_seconds(void **state)
{
	(void)state;
	/* freshness-max-age-two-fresh-stale-*: the first occurrence counts. */
	assert_int_equal(resp_cc(OK "Cache-Control: max-age=1800, max-age=1\n").max_age, 1800);
	assert_int_equal(
	    resp_cc(OK "Cache-Control: max-age=1800\nCache-Control: max-age=1\n").max_age, 1800);
	assert_int_equal(resp_cc(OK "Cache-Control: max-age=\"3600\"\n").max_age, 3600);
	assert_int_equal(resp_cc(OK "Cache-Control: max-age=003600\n").max_age, 3600);
	assert_int_equal(resp_cc(OK "Cache-Control: max-age=2147483647\n").max_age, 2147483647);
	assert_int_equal(resp_cc(OK "Cache-Control: max-age=99999999999999999999\n").max_age,
	                 PC_CACHE_DELTA_MAX);
	const char *invalid[] = {
	    OK "Cache-Control: max-age=-3600\n",  OK "Cache-Control: max-age=3600.5\n",
	    OK "Cache-Control: max-age=a3600\n",  OK "Cache-Control: max-age=3600a\n",
	    OK "Cache-Control: max-age='3600'\n", OK "Cache-Control: max-age= 3600\n",
	    OK "Cache-Control: max-age\n",        OK "Cache-Control: max-age=\n",
	    OK "Cache-Control: max-age=\"\"\n",
	};
	for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
		assert_int_equal(resp_cc(invalid[i]).max_age, PC_CC_INVALID);
	/* Space before '=' is no directive at all. */
	assert_int_equal(resp_cc(OK "Cache-Control: max-age =3600\n").max_age, PC_CC_ABSENT);
	/* freshness-max-age-ignore-quoted(-rev): a directive in a quoted
	 * string is not one. */
	assert_int_equal(
	    resp_cc(OK "Cache-Control: extension=\"max-age=3600\", max-age=1\n").max_age, 1);
	assert_int_equal(
	    resp_cc(OK "Cache-Control: max-age=1, extension=\"max-age=3600\"\n").max_age, 1);
	assert_int_equal(resp_cc(OK "Cache-Control: foobar, max-age=3600\n").max_age, 3600);
}

/* RFC 9213: a valid CDN-Cache-Control replaces Cache-Control; its syntax
 * is RFC 8941's Dictionary, and any error ignores the whole field. */
static void test_cc_targeted(void **state)
{
	(void)state;
	struct pc_cache_control cc =
	    resp_cc(OK "Cache-Control: max-age=3600, public\nCDN-Cache-Control: max-age=1\n");
	assert_int_equal(cc.max_age, 1);
	assert_int_equal(cc.flags, PC_CC_TARGETED); /* public was Cache-Control's */
	cc = resp_cc(OK "CDN-Cache-Control: no-store, private, no-cache, must-revalidate, "
	                "s-maxage=5, stale-if-error=7, stale-while-revalidate=9\n"
	                "Cache-Control: max-age=10000\n");
	assert_int_equal(cc.max_age, PC_CC_ABSENT);
	assert_int_equal(cc.s_maxage, 5);
	assert_int_equal(cc.stale_if_error, 7);
	assert_int_equal(cc.stale_while_revalidate, 9);
	assert_int_equal(cc.flags, PC_CC_TARGETED | PC_CC_NO_STORE | PC_CC_PRIVATE |
	                               PC_CC_NO_CACHE | PC_CC_MUST_REVALIDATE);
	/* Two field lines are one Dictionary; a later member overrides. */
	cc = resp_cc(OK "CDN-Cache-Control: max-age=5, no-store\n"
	                "CDN-Cache-Control: max-age=60, no-store=?0\n");
	assert_int_equal(cc.max_age, 60);
	assert_int_equal(cc.flags, PC_CC_TARGETED);
	/* Parameters, extensions and values of other types are parsed and
	 * not used (cdn-max-age-extension, cdn-cc-invalid-sh-type-wrong). */
	cc = resp_cc(OK "CDN-Cache-Control: foobar;a=1, max-age=3600;x, ext=(1 \"a\" b);p, "
	                "s-maxage=\"10\", stale-if-error=1.5, must-revalidate=:AAA=:, "
	                "no-cache=\"Set-Cookie\", no-transform=tok, public=?1\n");
	assert_int_equal(cc.max_age, 3600);
	assert_int_equal(cc.s_maxage, PC_CC_ABSENT);
	assert_int_equal(cc.stale_if_error, PC_CC_ABSENT);
	assert_int_equal(cc.flags, PC_CC_TARGETED | PC_CC_NO_CACHE | PC_CC_PUBLIC);
	assert_int_equal(resp_cc(OK "CDN-Cache-Control: max-age=99999999999\n").max_age,
	                 PC_CACHE_DELTA_MAX); /* cdn-max-age-max-plus */
	assert_int_equal(resp_cc(OK "CDN-Cache-Control: max-age=-1\n").max_age, PC_CC_ABSENT);
	/* Invalid or empty: Cache-Control decides (cdn-cc-invalid-sh-type-unknown,
	 * cdn-max-age-space-*, keys are lower case). */
	const char *invalid[] = {
	    "max-age=10000, &&&&&",
	    "max-age =100",
	    "max-age= 100",
	    "MaX-aGe=3600",
	    "max-age=10000,",
	    "max-age=1 2",
	    "a=\"unterminated",
	    "a=?2",
	    "a=1234567890123456",
	    "a=1.2345",
	    "a=1.",
	    "a=:ab",
	    "a=(1",
	    ", a",
	    "a=\"\\x\"",
	    "",
	};
	for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
		char text[256];
		snprintf(text, sizeof text, OK "Cache-Control: no-store\nCDN-Cache-Control: %s\n",
		         invalid[i]);
		cc = resp_cc(text);
		if (cc.flags != PC_CC_NO_STORE)
			fail_msg("CDN-Cache-Control: %s was used", invalid[i]);
	}
	/* Valid syntax at the edges of the grammar. */
	const char *valid[] = {
	    "a=-5", "a=123456789012345", "a=123456789012.123", "*a.b_c-d*=x:/y", "a=\"q\\\"\\\\\"",
	    "a=()", "a=( 1  2 );b",      "a=:aGk=:",           "a;b=?0;c=\"x\"", "a , b\t,c",
	};
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
		char text[256];
		snprintf(text, sizeof text, OK "Cache-Control: no-store\nCDN-Cache-Control: %s\n",
		         valid[i]);
		cc = resp_cc(text);
		if (cc.flags != PC_CC_TARGETED)
			fail_msg("CDN-Cache-Control: %s was not used", valid[i]);
	}
}

/* With a targeted field, Expires is ignored too (RFC 9213 §2.2). */
static void test_targeted_lifetime(void **state)
{
	(void)state;
	/* cdn-max-age-0-expires, cdn-max-age-expires */
	assert_int_equal(entry(OK "CDN-Cache-Control: max-age=0\nExpires: " DATE_P1 "\n").lifetime,
	                 0);
	assert_int_equal(
	    entry(OK "CDN-Cache-Control: max-age=3600\nDate: " DATE_T0 "\nExpires: " DATE_M1 "\n")
	        .lifetime,
	    3600);
	/* cdn-max-age-long-cc-max-age */
	assert_int_equal(
	    entry(OK "Cache-Control: max-age=3600\nCDN-Cache-Control: max-age=1\n").lifetime, 1);
	/* cdn-no-cache: revalidate every time, though Cache-Control allows reuse. */
	struct pc_cache_entry e = entry(OK "CDN-Cache-Control: no-cache\nCache-Control: "
	                                   "max-age=10000\nExpires: " DATE_P1 "\n");
	assert_true(e.flags & PC_CACHE_E_NO_CACHE);
	assert_int_equal(e.lifetime, 0);
	/* Storing: cdn-private, cdn-no-store-cc-fresh, cdn-fresh-cc-nostore. */
	assert_int_equal(storable(GET, OK "CDN-Cache-Control: private\nCache-Control: "
	                                  "max-age=10000\n"),
	                 PC_CACHE_STORE_PRIVATE);
	assert_int_equal(storable(GET, OK "Cache-Control: max-age=10000\nCDN-Cache-Control: "
	                                  "no-store\n"),
	                 PC_CACHE_STORE_NO_STORE);
	assert_int_equal(storable(GET, OK "Cache-Control: no-store\nCDN-Cache-Control: "
	                                  "max-age=10000\n"),
	                 PC_CACHE_STORE_OK);
	/* Expires alone does not make a 201 storable when CDN-Cache-Control
	 * says nothing of freshness. */
	assert_int_equal(
	    storable(GET, "HTTP/1.1 201 X\nCDN-Cache-Control: foo\nExpires: " DATE_P1 "\n"),
	    PC_CACHE_STORE_NO_FRESHNESS);
}

static void test_cc_request(void **state)
{
	(void)state;
	struct pc_cache_control cc = req_cc(
	    GET "Cache-Control: max-age=5, max-stale=10, min-fresh=3, only-if-cached, no-store, "
	        "stale-if-error=9\n");
	assert_int_equal(cc.max_age, 5);
	assert_int_equal(cc.max_stale, 10);
	assert_int_equal(cc.min_fresh, 3);
	assert_int_equal(cc.stale_if_error, 9);
	assert_int_equal(cc.flags, PC_CC_ONLY_IF_CACHED | PC_CC_NO_STORE);
	cc = req_cc(GET "Cache-Control: max-stale\n");
	assert_int_equal(cc.flags, PC_CC_MAX_STALE_ANY);
	assert_int_equal(cc.max_stale, PC_CC_ABSENT);
	/* Response-only directives mean nothing in a request. */
	cc = req_cc(GET "Cache-Control: s-maxage=5, private, public, must-revalidate\n");
	assert_int_equal(cc.flags, 0);
	assert_int_equal(cc.s_maxage, PC_CC_ABSENT);
	/* Pragma: no-cache only without Cache-Control (RFC 9111 §5.4). */
	assert_int_equal(req_cc(GET "Pragma: no-cache\n").flags, PC_CC_NO_CACHE);
	assert_int_equal(req_cc(GET "Pragma: no-cache\nCache-Control: max-age=9\n").flags, 0);
	assert_int_equal(req_cc(GET "Pragma: unrecognised-extension\n").flags, 0);
}

/* ---- status codes ---- */

static void test_status_classes(void **state)
{
	(void)state;
	unsigned heuristic[] = {200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501};
	for (size_t i = 0; i < sizeof heuristic / sizeof heuristic[0]; i++)
		assert_true(pc_cache_status_heuristic(heuristic[i]));
	unsigned not_heuristic[] = {201, 202, 302, 303, 307, 403, 500, 502, 503, 504, 599};
	for (size_t i = 0; i < sizeof not_heuristic / sizeof not_heuristic[0]; i++)
		assert_false(pc_cache_status_heuristic(not_heuristic[i]));
	assert_true(pc_cache_status_understood(200));
	assert_true(pc_cache_status_understood(308));
	assert_true(pc_cache_status_understood(503));
	assert_false(pc_cache_status_understood(306));
	assert_false(pc_cache_status_understood(299));
	assert_false(pc_cache_status_understood(599));
	assert_false(pc_cache_status_understood(100));
	assert_true(pc_cache_status_is_error(503));
	assert_false(pc_cache_status_is_error(501));
	assert_false(pc_cache_status_is_error(404));
}

/* ---- storing ---- */

static void test_storable_basics(void **state)
{
	(void)state;
	assert_int_equal(storable(GET, OK "Cache-Control: max-age=60\n"), PC_CACHE_STORE_OK);
	assert_int_equal(storable("HEAD /a HTTP/1.1\nHost: o\n", OK "Cache-Control: max-age=60\n"),
	                 PC_CACHE_STORE_METHOD);
	assert_int_equal(storable("POST /a HTTP/1.1\nHost: o\nContent-Length: 0\n",
	                          OK "Cache-Control: max-age=60\n"),
	                 PC_CACHE_STORE_METHOD);
	/* cc-resp-no-store, -case-insensitive, -fresh */
	assert_int_equal(storable(GET, OK "Cache-Control: nO-StOrE\n"), PC_CACHE_STORE_NO_STORE);
	assert_int_equal(
	    storable(GET, OK "Cache-Control: max-age=3600, no-store\nExpires: " DATE_P1 "\n"),
	    PC_CACHE_STORE_NO_STORE);
	assert_int_equal(
	    storable(GET "Cache-Control: no-store\n", OK "Cache-Control: max-age=60\n"),
	    PC_CACHE_STORE_NO_STORE);
	/* cc-resp-private-shared */
	assert_int_equal(storable(GET, OK "Cache-Control: private, max-age=60\n"),
	                 PC_CACHE_STORE_PRIVATE);
	/* private="field": stored without the field (pc_cache_write_head). */
	assert_int_equal(storable(GET, OK "Cache-Control: private=\"Set-Cookie\", max-age=60\n"),
	                 PC_CACHE_STORE_OK);
	/* no-cache: stored, revalidated on use. */
	assert_int_equal(storable(GET, OK "Cache-Control: no-cache\n"), PC_CACHE_STORE_OK);
	assert_int_equal(storable(GET, "HTTP/1.1 304 Not Modified\nCache-Control: max-age=60\n"),
	                 PC_CACHE_STORE_STATUS);
	assert_int_equal(storable(GET, "HTTP/1.1 206 Partial Content\nContent-Range: bytes 0-1/9\n"
	                               "Cache-Control: max-age=60\n"),
	                 PC_CACHE_STORE_PARTIAL);
}

static void test_storable_vary_star(void **state)
{
	(void)state;
	const char *vary[] = {"*", "*, *", ", *", "*, Foo", "Foo, *"};
	char text[256];
	for (size_t i = 0; i < sizeof vary / sizeof vary[0]; i++) {
		snprintf(text, sizeof text, OK "Cache-Control: max-age=60\nVary: %s\n", vary[i]);
		assert_int_equal(storable(GET, text), PC_CACHE_STORE_VARY_STAR);
	}
	assert_int_equal(storable(GET, OK "Cache-Control: max-age=60\nVary: Foo\nVary: *\n"),
	                 PC_CACHE_STORE_VARY_STAR);
	assert_int_equal(storable(GET, OK "Cache-Control: max-age=60\nVary: Foo\n"),
	                 PC_CACHE_STORE_OK);
}

static void test_storable_freshness_sources(void **state)
{
	(void)state;
	/* heuristic-*: statuses heuristically cacheable are stored, others
	 * only with explicit freshness or public. */
	char text[256];
	unsigned yes[] = {200, 203, 204, 404, 405, 410, 414, 501};
	unsigned no[] = {201, 202, 403, 502, 503, 504, 599};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		snprintf(text, sizeof text, "HTTP/1.1 %u X\nLast-Modified: " DATE_MW "\n", yes[i]);
		assert_int_equal(storable(GET, text), PC_CACHE_STORE_OK);
	}
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		snprintf(text, sizeof text, "HTTP/1.1 %u X\nLast-Modified: " DATE_MW "\n", no[i]);
		assert_int_equal(storable(GET, text), PC_CACHE_STORE_NO_FRESHNESS);
		snprintf(text, sizeof text, "HTTP/1.1 %u X\nCache-Control: max-age=60\n", no[i]);
		assert_int_equal(storable(GET, text), PC_CACHE_STORE_OK);
	}
	assert_int_equal(storable(GET, "HTTP/1.1 599 X\nCache-Control: public\n"),
	                 PC_CACHE_STORE_OK);
	assert_int_equal(storable(GET, "HTTP/1.1 201 X\nExpires: " DATE_P1 "\n"),
	                 PC_CACHE_STORE_OK);
	assert_int_equal(storable(GET, "HTTP/1.1 201 X\nCache-Control: s-maxage=5\n"),
	                 PC_CACHE_STORE_OK);
	assert_int_equal(storable(GET, "HTTP/1.1 101 Switching Protocols\n"),
	                 PC_CACHE_STORE_STATUS);
}

static void test_storable_must_understand(void **state)
{
	(void)state;
	/* status-200-must-understand / status-599-must-understand */
	assert_int_equal(
	    storable(GET, OK "Cache-Control: max-age=3600, no-store, must-understand\n"),
	    PC_CACHE_STORE_OK);
	assert_int_equal(storable(GET, "HTTP/1.1 599 Whatever\n"
	                               "Cache-Control: max-age=3600, no-store, must-understand\n"),
	                 PC_CACHE_STORE_STATUS);
	/* The request's no-store still forbids it. */
	assert_int_equal(storable(GET "Cache-Control: no-store\n",
	                          OK "Cache-Control: max-age=3600, no-store, must-understand\n"),
	                 PC_CACHE_STORE_NO_STORE);
}

static void test_storable_authorization(void **state)
{
	(void)state;
#define AUTH GET "Authorization: Basic YTpi\n"
	assert_int_equal(storable(AUTH, OK "Cache-Control: max-age=3600\n"),
	                 PC_CACHE_STORE_AUTHORIZATION);
	assert_int_equal(storable(AUTH, OK "Cache-Control: max-age=3600, public\n"),
	                 PC_CACHE_STORE_OK);
	assert_int_equal(storable(AUTH, OK "Cache-Control: max-age=3600, must-revalidate\n"),
	                 PC_CACHE_STORE_OK);
	assert_int_equal(storable(AUTH, OK "Cache-Control: s-maxage=3600\n"), PC_CACHE_STORE_OK);
#undef AUTH
	assert_string_equal(pc_cache_store_name(PC_CACHE_STORE_AUTHORIZATION), "authorization");
	assert_string_equal(pc_cache_store_name(PC_CACHE_STORE_OK), "storable");
}

/* ---- freshness ---- */

static void test_lifetime_sources(void **state)
{
	(void)state;
	assert_int_equal(entry(OK "Cache-Control: max-age=60\n").lifetime, 60);
	/* freshness-max-age-s-maxage-shared-*: s-maxage wins either way. */
	assert_int_equal(entry(OK "Cache-Control: max-age=3600, s-maxage=1\n").lifetime, 1);
	assert_int_equal(
	    entry(OK "Cache-Control: s-maxage=1\nCache-Control: max-age=3600\n").lifetime, 1);
	assert_int_equal(
	    entry(OK "Expires: " DATE_M1 "\nCache-Control: max-age=0, s-maxage=3600\n").lifetime,
	    3600);
	/* freshness-max-age-expires(-invalid): max-age beats Expires. */
	assert_int_equal(
	    entry(OK "Date: " DATE_T0 "\nExpires: " DATE_M2 "\nCache-Control: max-age=3600\n")
	        .lifetime,
	    3600);
	assert_int_equal(entry(OK "Expires: 0\nCache-Control: max-age=3600\n").lifetime, 3600);
	/* freshness-max-age-0-expires */
	assert_int_equal(entry(OK "Expires: " DATE_P1 "\nCache-Control: max-age=0\n").lifetime, 0);
	/* Expires - Date; Date defaults to the response time. */
	assert_int_equal(entry(OK "Date: " DATE_M1 "\nExpires: " DATE_T0 "\n").lifetime, 3600);
	assert_int_equal(entry(OK "Expires: " DATE_P1 "\n").lifetime, 3600);
	assert_int_equal(entry(OK "Date: " DATE_T0 "\nExpires: " DATE_M1 "\n").lifetime, 0);
	/* freshness-expires-invalid-*: an invalid Expires is stale. */
	assert_int_equal(entry(OK "Expires: Thu, 18 Aug 2050 02:01:18 UTC\n").lifetime, 0);
	assert_int_equal(entry(OK "Expires: 0\nLast-Modified: " DATE_MW "\n").lifetime, 0);
	/* An invalid max-age is stale, even with a good Expires. */
	assert_int_equal(entry(OK "Cache-Control: max-age=a3600\nExpires: " DATE_P1 "\n").lifetime,
	                 0);
	assert_int_equal(entry(OK "Cache-Control: max-age=-3600\n").lifetime, 0);
	assert_int_equal(entry(OK "Cache-Control: max-age=99999999999\n").lifetime,
	                 PC_CACHE_DELTA_MAX);
	/* Nothing at all: 0. */
	assert_int_equal(entry(OK "X: 1\n").lifetime, 0);
}

static void test_lifetime_heuristic(void **state)
{
	(void)state;
	/* 10% of Date - Last-Modified. */
	struct pc_cache_entry e = entry(OK "Date: " DATE_T0 "\nLast-Modified: " DATE_M2 "\n");
	assert_int_equal(e.lifetime, 720);
	assert_true(e.flags & PC_CACHE_E_HEURISTIC);
	/* Capped at a day. */
	e = entry(OK "Date: " DATE_T0 "\nLast-Modified: Sat, 01 Jan 2000 00:00:00 GMT\n");
	assert_int_equal(e.lifetime, PC_CACHE_HEURISTIC_MAX);
	/* Not for a status that is not heuristically cacheable, unless public. */
	e = entry("HTTP/1.1 201 Created\nDate: " DATE_T0 "\nLast-Modified: " DATE_M2 "\n");
	assert_int_equal(e.lifetime, 0);
	assert_false(e.flags & PC_CACHE_E_HEURISTIC);
	e = entry("HTTP/1.1 599 X\nCache-Control: public\nDate: " DATE_T0
	          "\nLast-Modified: " DATE_M2 "\n");
	assert_int_equal(e.lifetime, 720);
	/* A Last-Modified in the future gives 0. */
	e = entry(OK "Date: " DATE_M2 "\nLast-Modified: " DATE_T0 "\n");
	assert_int_equal(e.lifetime, 0);
	/* Explicit freshness is never heuristic. */
	e = entry(OK "Cache-Control: max-age=5\nLast-Modified: " DATE_M2 "\n");
	assert_int_equal(e.lifetime, 5);
	assert_false(e.flags & PC_CACHE_E_HEURISTIC);
}

static void test_age_calculation(void **state)
{
	(void)state;
	/* Age field plus the response delay (§4.2.3). */
	struct pc_cache_entry e =
	    entry_at(OK "Cache-Control: max-age=3600\nAge: 100\n", T0 - 2, T0);
	assert_int_equal(e.initial_age, 102);
	assert_int_equal(pc_cache_entry_age(&e, T0), 102);
	assert_int_equal(pc_cache_entry_age(&e, T0 + 50), 152);
	/* freshness-max-age-date: apparent age from Date. */
	e = entry(OK "Cache-Control: max-age=3600\nDate: " DATE_M2 "\n");
	assert_int_equal(e.initial_age, 7200);
	assert_false(pc_cache_entry_fresh(&e, T0));
	/* A Date in the future is no negative age. */
	e = entry(OK "Cache-Control: max-age=3600\nDate: " DATE_P1 "\n");
	assert_int_equal(e.initial_age, 0);
	/* The clock going back never lowers the age. */
	assert_int_equal(pc_cache_entry_age(&e, T0 - 100), 0);
	/* freshness-max-age-age */
	e = entry(OK "Cache-Control: max-age=3600\nAge: 7200\n");
	assert_false(pc_cache_entry_fresh(&e, T0));
	e = entry(OK "Cache-Control: max-age=3600\nAge: 3599\n");
	assert_true(pc_cache_entry_fresh(&e, T0));
	assert_false(pc_cache_entry_fresh(&e, T0 + 1)); /* age == lifetime: stale */
}

static void test_age_parse(void **state)
{
	(void)state;
	struct {
		const char *fields;
		bool fresh;
	} cases[] = {
	    {"Age: abc\n", true},         /* age-parse-nonnumeric */
	    {"Age: -7200\n", true},       /* age-parse-negative */
	    {"Age: 7200.0\n", true},      /* age-parse-float */
	    {"Age: 2147483647\n", false}, /* age-parse-large-minus-one */
	    {"Age: 2147483648\n", false}, /* age-parse-large */
	    {"Age: 2147483649\n", false}, /* age-parse-larger */
	    {"Age: 99999999999999999999\n", false},
	    {"Age: 7200, 0\n", false},      /* age-parse-suffix */
	    {"Age: 0, 7200\n", true},       /* age-parse-prefix */
	    {"Age: 7200\nAge: 0\n", false}, /* age-parse-suffix-twoline */
	    {"Age: 0\nAge: 7200\n", true},  /* age-parse-prefix-twoline */
	    {"Age: 0, 0\n", true},          /* age-parse-dup-0 */
	    {"Age: 7200;foo=bar\n", true},  /* not a delta-seconds: ignored */
	};
	char text[256];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, OK "Cache-Control: max-age=3600\n%s", cases[i].fields);
		struct pc_cache_entry e = entry(text);
		if (pc_cache_entry_fresh(&e, T0) != cases[i].fresh)
			fail_msg("case %zu: %s", i, cases[i].fields);
	}
	/* The Age to send is capped at 2^31 (§5.1). */
	struct pc_cache_entry e = entry(OK "Age: 2147483647\n");
	assert_int_equal(pc_cache_entry_age(&e, T0 + 1000), PC_CACHE_DELTA_MAX);
}

/* ---- reuse ---- */

static enum pc_cache_use decide(const struct pc_cache_entry *e, const char *request, int64_t now)
{
	struct pc_cache_control cc = req_cc(request);
	return pc_cache_decide(e, &cc, now);
}

static void test_decide_fresh_and_stale(void **state)
{
	(void)state;
	struct pc_cache_entry e = entry(OK "Cache-Control: max-age=100\n");
	assert_int_equal(decide(&e, GET, T0), PC_CACHE_FRESH);
	assert_int_equal(decide(&e, GET, T0 + 99), PC_CACHE_FRESH);
	assert_int_equal(decide(&e, GET, T0 + 100), PC_CACHE_REVALIDATE);
	assert_int_equal(decide(NULL, GET, T0), PC_CACHE_MISS);
	/* cc-resp-no-cache(-case-insensitive): revalidate on every use. */
	e = entry(OK "Cache-Control: No-CaChE, max-age=3600\nExpires: " DATE_P1 "\n");
	assert_int_equal(decide(&e, GET, T0), PC_CACHE_REVALIDATE);
	e = entry(OK "Cache-Control: no-cache=\"Set-Cookie\", max-age=3600\n");
	assert_int_equal(decide(&e, GET, T0), PC_CACHE_REVALIDATE);
	/* Response Pragma means nothing. */
	e = entry(OK "Cache-Control: max-age=3600\nPragma: no-cache\n");
	assert_int_equal(decide(&e, GET, T0), PC_CACHE_FRESH);
	assert_string_equal(pc_cache_use_name(PC_CACHE_STALE_REVALIDATE), "stale-while-revalidate");
}

static void test_decide_request_directives(void **state)
{
	(void)state;
	struct pc_cache_entry e = entry(OK "Cache-Control: max-age=3600\nAge: 1800\n");
	assert_int_equal(decide(&e, GET "Cache-Control: no-cache\n", T0), PC_CACHE_REVALIDATE);
	assert_int_equal(decide(&e, GET "Pragma: no-cache\n", T0), PC_CACHE_REVALIDATE);
	assert_int_equal(decide(&e, GET "Cache-Control: max-age=0\n", T0), PC_CACHE_REVALIDATE);
	assert_int_equal(decide(&e, GET "Cache-Control: max-age=1800\n", T0), PC_CACHE_FRESH);
	assert_int_equal(decide(&e, GET "Cache-Control: max-age=1799\n", T0), PC_CACHE_REVALIDATE);
	assert_int_equal(decide(&e, GET "Cache-Control: max-age=x\n", T0), PC_CACHE_REVALIDATE);
	assert_int_equal(decide(&e, GET "Cache-Control: min-fresh=1800\n", T0), PC_CACHE_FRESH);
	assert_int_equal(decide(&e, GET "Cache-Control: min-fresh=1801\n", T0),
	                 PC_CACHE_REVALIDATE);
	/* The request's no-store does not stop reuse (§5.2.1.5). */
	assert_int_equal(decide(&e, GET "Cache-Control: no-store\n", T0), PC_CACHE_FRESH);
	/* max-stale */
	int64_t stale_at = T0 + 1800 + 50; /* 50 s stale */
	assert_int_equal(decide(&e, GET, stale_at), PC_CACHE_REVALIDATE);
	assert_int_equal(decide(&e, GET "Cache-Control: max-stale=50\n", stale_at), PC_CACHE_STALE);
	assert_int_equal(decide(&e, GET "Cache-Control: max-stale=49\n", stale_at),
	                 PC_CACHE_REVALIDATE);
	assert_int_equal(decide(&e, GET "Cache-Control: max-stale\n", stale_at + 100000),
	                 PC_CACHE_STALE);
	/* only-if-cached */
	assert_int_equal(decide(NULL, GET "Cache-Control: only-if-cached\n", T0),
	                 PC_CACHE_GATEWAY_TIMEOUT);
	assert_int_equal(decide(&e, GET "Cache-Control: only-if-cached\n", T0), PC_CACHE_FRESH);
	assert_int_equal(decide(&e, GET "Cache-Control: only-if-cached\n", stale_at),
	                 PC_CACHE_GATEWAY_TIMEOUT);
	assert_int_equal(decide(&e, GET "Cache-Control: only-if-cached, max-stale\n", stale_at),
	                 PC_CACHE_STALE);
}

static void test_decide_stale_prohibited(void **state)
{
	(void)state;
	/* stale-close-must-revalidate, -proxy-revalidate, -no-cache, -s-maxage=2 */
	const char *ccs[] = {"must-revalidate", "proxy-revalidate", "no-cache", "s-maxage=2"};
	char text[256];
	for (size_t i = 0; i < sizeof ccs / sizeof ccs[0]; i++) {
		snprintf(text, sizeof text,
		         OK "Cache-Control: max-age=2, %s, stale-while-revalidate=60, "
		            "stale-if-error=60\n",
		         ccs[i]);
		struct pc_cache_entry e = entry(text);
		assert_true(e.flags & (PC_CACHE_E_NO_STALE | PC_CACHE_E_NO_CACHE));
		assert_int_equal(decide(&e, GET "Cache-Control: max-stale\n", T0 + 10),
		                 PC_CACHE_REVALIDATE);
		struct pc_cache_control none = req_cc(GET);
		assert_false(pc_cache_stale_on_error(&e, &none, T0 + 10));
	}
	/* must-revalidate still serves while fresh. */
	struct pc_cache_entry e = entry(OK "Cache-Control: max-age=100, must-revalidate\n");
	assert_int_equal(decide(&e, GET, T0 + 5), PC_CACHE_FRESH);
	/* immutable is stale when stale. */
	e = entry(OK "Cache-Control: max-age=100, immutable\n");
	assert_true(e.flags & PC_CACHE_E_IMMUTABLE);
	assert_int_equal(decide(&e, GET, T0 + 100), PC_CACHE_REVALIDATE);
}

static void test_decide_stale_while_revalidate(void **state)
{
	(void)state;
	struct pc_cache_entry e =
	    entry(OK "Cache-Control: max-age=10, stale-while-revalidate=20\n");
	assert_int_equal(decide(&e, GET, T0 + 5), PC_CACHE_FRESH);
	assert_int_equal(decide(&e, GET, T0 + 10), PC_CACHE_STALE_REVALIDATE);
	assert_int_equal(decide(&e, GET, T0 + 30), PC_CACHE_STALE_REVALIDATE);
	assert_int_equal(decide(&e, GET, T0 + 31), PC_CACHE_REVALIDATE);
	/* A client that wants freshness does not get stale. */
	assert_int_equal(decide(&e, GET "Cache-Control: no-cache\n", T0 + 15), PC_CACHE_REVALIDATE);
	assert_int_equal(decide(&e, GET "Cache-Control: max-age=5\n", T0 + 15),
	                 PC_CACHE_REVALIDATE);
	assert_int_equal(decide(&e, GET "Cache-Control: min-fresh=1\n", T0 + 15),
	                 PC_CACHE_REVALIDATE);
	/* An invalid window is none. */
	e = entry(OK "Cache-Control: max-age=10, stale-while-revalidate=x\n");
	assert_int_equal(decide(&e, GET, T0 + 11), PC_CACHE_REVALIDATE);
}

static void test_stale_if_error(void **state)
{
	(void)state;
	struct pc_cache_entry e = entry(OK "Cache-Control: max-age=10, stale-if-error=60\n");
	struct pc_cache_control none = req_cc(GET);
	assert_true(pc_cache_stale_on_error(&e, &none, T0 + 5)); /* fresh */
	assert_true(pc_cache_stale_on_error(&e, &none, T0 + 70));
	assert_false(pc_cache_stale_on_error(&e, &none, T0 + 71));
	struct pc_cache_control nocache = req_cc(GET "Cache-Control: no-cache\n");
	assert_false(pc_cache_stale_on_error(&e, &nocache, T0 + 20));
	/* Without the directive, no stale on error; the request can grant it. */
	e = entry(OK "Cache-Control: max-age=10\n");
	assert_false(pc_cache_stale_on_error(&e, &none, T0 + 11));
	struct pc_cache_control sie = req_cc(GET "Cache-Control: stale-if-error=30\n");
	assert_true(pc_cache_stale_on_error(&e, &sie, T0 + 40));
	assert_false(pc_cache_stale_on_error(&e, &sie, T0 + 41));
	assert_false(pc_cache_stale_on_error(NULL, &sie, T0));
}

/* stale-close: a disconnected cache may serve stale unless prohibited
 * (stale-close-must-revalidate, -proxy-revalidate, -no-cache, -s-maxage). */
static void test_stale_disconnected(void **state)
{
	(void)state;
	struct pc_cache_control none = req_cc(GET);
	struct pc_cache_entry e = entry(OK "Cache-Control: max-age=2\n");
	assert_true(pc_cache_stale_disconnected(&e, &none, T0 + 1));
	assert_true(pc_cache_stale_disconnected(&e, &none, T0 + 2 + PC_CACHE_DISCONNECTED_STALE));
	assert_false(pc_cache_stale_disconnected(&e, &none, T0 + 3 + PC_CACHE_DISCONNECTED_STALE));
	assert_false(pc_cache_stale_disconnected(NULL, &none, T0));
	const char *prohibited[] = {
	    OK "Cache-Control: max-age=2, must-revalidate\n",
	    OK "Cache-Control: max-age=2, proxy-revalidate\n",
	    OK "Cache-Control: max-age=2, no-cache\n",
	    OK "Cache-Control: max-age=2, s-maxage=2\n",
	};
	for (size_t i = 0; i < sizeof prohibited / sizeof prohibited[0]; i++) {
		e = entry(prohibited[i]);
		assert_false(pc_cache_stale_disconnected(&e, &none, T0 + 10));
	}
	/* A client bounding the age is obeyed. */
	e = entry(OK "Cache-Control: max-age=2\n");
	const char *bounded[] = {
	    GET "Cache-Control: no-cache\n",
	    GET "Cache-Control: max-age=5\n",
	    GET "Cache-Control: min-fresh=1\n",
	    GET "Pragma: no-cache\n",
	};
	for (size_t i = 0; i < sizeof bounded / sizeof bounded[0]; i++) {
		struct pc_cache_control cc = req_cc(bounded[i]);
		assert_false(pc_cache_stale_disconnected(&e, &cc, T0 + 10));
	}
	/* A longer stale-if-error window extends it. */
	e = entry(OK "Cache-Control: max-age=2, stale-if-error=200000\n");
	assert_true(pc_cache_stale_disconnected(&e, &none, T0 + 150000));
}

/* ---- variants ---- */

static int vary_key(const char *response, const char *request, char *out, size_t size)
{
	struct msg a, b;
	return pc_cache_vary_key(resp(&a, response), req(&b, request), out, size);
}

static void test_vary_key(void **state)
{
	(void)state;
	char k1[256], k2[256];
	int n1, n2;
	/* No Vary: an empty key. */
	assert_int_equal(vary_key(OK "X: 1\n", GET "Foo: 1\n", k1, sizeof k1), 0);
	n1 = vary_key(OK "Vary: Foo\n", GET "Foo: 1\n", k1, sizeof k1);
	assert_int_equal(n1, (int)strlen("foo:1\n"));
	assert_memory_equal(k1, "foo:1\n", (size_t)n1);
	/* Differing, absent and empty values are three keys. */
	n2 = vary_key(OK "Vary: Foo\n", GET "Foo: 2\n", k2, sizeof k2);
	assert_false(n1 == n2 && memcmp(k1, k2, (size_t)n1) == 0);
	n1 = vary_key(OK "Vary: Foo\n", GET, k1, sizeof k1);
	n2 = vary_key(OK "Vary: Foo\n", GET "Foo:\n", k2, sizeof k2);
	assert_memory_equal(k1, "foo\n", 4);
	assert_memory_equal(k2, "foo:\n", 5);
	assert_int_not_equal(n1, n2);
	/* Name order and case, duplicates and header order do not matter. */
	n1 = vary_key(OK "Vary: Foo, Bar, Baz\n", GET "Baz: 3\nFoo: 1\nBar: 2\n", k1, sizeof k1);
	n2 = vary_key(OK "Vary: baz\nVary: BAR, foo, Foo\n", GET "Foo: 1\nBar: 2\nBaz: 3\n", k2,
	              sizeof k2);
	assert_int_equal(n1, n2);
	assert_memory_equal(k1, k2, (size_t)n1);
	assert_memory_equal(k1, "bar:2\nbaz:3\nfoo:1\n", (size_t)n1);
	/* Whitespace and field lines are normalised. */
	n1 = vary_key(OK "Vary: Accept-Encoding\n", GET "Accept-Encoding: gzip,  br\n", k1,
	              sizeof k1);
	n2 = vary_key(OK "Vary: Accept-Encoding\n", GET "Accept-Encoding: gzip , br\n", k2,
	              sizeof k2);
	assert_int_equal(n1, n2);
	assert_memory_equal(k1, k2, (size_t)n1);
	n2 = vary_key(OK "Vary: Accept-Encoding\n",
	              GET "Accept-Encoding: gzip\nAccept-Encoding: br\n", k2, sizeof k2);
	assert_int_equal(n1, n2);
	assert_memory_equal(k1, k2, (size_t)n1);
	assert_memory_equal(k1, "accept-encoding:gzip,br\n", (size_t)n1);
	n2 =
	    vary_key(OK "Vary: Accept-Encoding\n", GET "Accept-Encoding: gzip  x\n", k2, sizeof k2);
	assert_memory_equal(k2, "accept-encoding:gzip x\n", (size_t)n2);
	/* Vary: * never matches; a small buffer is refused. */
	assert_int_equal(vary_key(OK "Vary: Foo, *\n", GET, k1, sizeof k1), PC_ENOENT);
	assert_int_equal(vary_key(OK "Vary: Foo\n", GET "Foo: 123456\n", k1, 6), PC_ESPACE);
	assert_int_equal(vary_key(OK "Vary: Foo\n", GET "Foo: 1\n", k1, 6), 6);
}

/* ---- the stored head ---- */

static void test_write_head_drops_fields(void **state)
{
	(void)state;
	struct msg a, b;
	char out[1024];
	/* headers-omit-headers-listed-in-Connection, headers-store-* */
	const struct pc_http_head *r =
	    resp(&a, OK "Connection: a, b\na: 1\nb: 2\nc: 3\nKeep-Alive: timeout=5\n"
	                "Proxy-Authenticate: Basic\nProxy-Authentication-Info: x\n"
	                "Proxy-Connection: keep-alive\nTE: trailers\nTransfer-Encoding: chunked\n"
	                "Upgrade: h2c\nAge: 30\nSet-Cookie: a=b\nContent-Length: 10\n"
	                "Cache-Control: max-age=60\n");
	int n = pc_cache_write_head(r, NULL, out, sizeof out);
	const char *want = "HTTP/1.1 200 OK\r\nc: 3\r\nSet-Cookie: a=b\r\nContent-Length: 10\r\n"
	                   "Cache-Control: max-age=60\r\n\r\n";
	assert_int_equal(n, (int)strlen(want));
	assert_memory_equal(out, want, (size_t)n);
	/* The result parses back. */
	const struct pc_http_head *back = resp(&b, "HTTP/1.1 200 OK\nc: 3\n");
	assert_int_equal(pc_http_parse_response(out, (size_t)n, sizeof out, &b.head), n);
	assert_int_equal(back->n_fields, 4);
	assert_int_equal(pc_cache_write_head(r, NULL, out, 20), PC_ESPACE);
	/* Qualified private= and no-cache= fields are not stored. */
	r = resp(&a, "HTTP/1.1 404 Not Found\nCache-Control: private=\"Set-Cookie\", "
	             "no-cache=\"X-A, x-b\", max-age=5\nSet-Cookie: s=1\nX-A: 1\nX-B: 2\nX-C: 3\n");
	n = pc_cache_write_head(r, NULL, out, sizeof out);
	want = "HTTP/1.1 404 Not Found\r\nCache-Control: private=\"Set-Cookie\", "
	       "no-cache=\"X-A, x-b\", max-age=5\r\nX-C: 3\r\n\r\n";
	assert_int_equal(n, (int)strlen(want));
	assert_memory_equal(out, want, (size_t)n);
}

static void test_write_head_merges_304(void **state)
{
	(void)state;
	struct msg a, b, c;
	char out[1024];
	/* 304-etag-update-response-*: fields the 304 carries replace the
	 * stored ones, except those describing the stored body. */
	const struct pc_http_head *stored =
	    resp(&a, OK "Date: " DATE_M1 "\nCache-Control: max-age=1\nETag: \"a\"\n"
	                "Test-Header: A\nContent-Length: 36\nContent-Type: text/plain\n"
	                "Content-Encoding: gzip\nSet-Cookie: a=1\nSet-Cookie: b=1\nKept: yes\n");
	const struct pc_http_head *nm =
	    resp(&b, "HTTP/1.1 304 Not Modified\nDate: " DATE_T0 "\nCache-Control: max-age=3600\n"
	             "ETag: \"a\"\nTest-Header: B\nContent-Length: 10\nContent-Encoding: br\n"
	             "Set-Cookie: a=2\nConnection: close, X-Hop\nX-Hop: 1\nNew: 1\nAge: 5\n");
	int n = pc_cache_write_head(stored, nm, out, sizeof out);
	const char *want = "HTTP/1.1 200 OK\r\nContent-Length: 36\r\nContent-Type: text/plain\r\n"
	                   "Content-Encoding: gzip\r\nKept: yes\r\nDate: " DATE_T0 "\r\n"
	                   "Cache-Control: max-age=3600\r\nETag: \"a\"\r\nTest-Header: B\r\n"
	                   "Set-Cookie: a=2\r\nNew: 1\r\n\r\n";
	assert_int_equal(n, (int)strlen(want));
	assert_memory_equal(out, want, (size_t)n);
	/* The merged head gives the new lifetime. */
	assert_int_equal(pc_http_parse_response(out, (size_t)n, sizeof out, &c.head), n);
	struct pc_cache_entry e;
	pc_cache_entry_init(&e, &c.head, T0, T0);
	assert_int_equal(e.lifetime, 3600);
	assert_true(pc_cache_entry_fresh(&e, T0 + 10));
}

static void test_head_matches(void **state)
{
	(void)state;
	struct msg a, b;
	const struct pc_http_head *stored =
	    resp(&a, OK "ETag: \"a\"\nContent-Length: 10\nLast-Modified: " DATE_M1 "\n");
	assert_true(pc_cache_head_matches(
	    stored, resp(&b, OK "ETag: \"a\"\nContent-Length: 10\nLast-Modified: " DATE_M1 "\n")));
	assert_true(pc_cache_head_matches(
	    stored, resp(&b, OK "ETag: \"a\"\nLast-Modified: " DATE_M1 "\n")));
	assert_false(pc_cache_head_matches(
	    stored, resp(&b, OK "ETag: \"b\"\nLast-Modified: " DATE_M1 "\n")));
	assert_false(pc_cache_head_matches(
	    stored, resp(&b, OK "ETag: \"a\"\nContent-Length: 11\nLast-Modified: " DATE_M1 "\n")));
	assert_false(pc_cache_head_matches(stored, resp(&b, OK "ETag: \"a\"\n")));
}

static void test_validators(void **state)
{
	(void)state;
	struct msg a;
	char out[256];
	int n = pc_cache_validators(resp(&a, OK "ETag: W/\"abc\"\nLast-Modified: " DATE_M1 "\n"),
	                            out, sizeof out);
	const char *want = "If-None-Match: W/\"abc\"\r\nIf-Modified-Since: " DATE_M1 "\r\n";
	assert_int_equal(n, (int)strlen(want));
	assert_memory_equal(out, want, (size_t)n);
	/* An invalid Last-Modified is no validator; none gives nothing. */
	assert_int_equal(
	    pc_cache_validators(resp(&a, OK "Last-Modified: yesterday\n"), out, sizeof out), 0);
	assert_int_equal(pc_cache_validators(resp(&a, OK "ETag: \"abc\"\n"), out, 10), PC_ESPACE);
}

/* ---- conditional requests ---- */

static enum pc_cache_cond cond(const char *request, const char *stored)
{
	struct msg a, b;
	return pc_cache_conditional(req(&a, request), resp(&b, stored));
}

static void test_conditional_etag(void **state)
{
	(void)state;
#define STORED OK "ETag: \"abcdef\"\nLast-Modified: " DATE_M1 "\nDate: " DATE_T0 "\n"
	assert_int_equal(cond(GET, STORED), PC_CACHE_COND_NONE);
	assert_int_equal(cond(GET "If-None-Match: \"abcdef\"\n", STORED),
	                 PC_CACHE_COND_NOT_MODIFIED);
	assert_int_equal(cond(GET "If-None-Match: \"1234\", \"abcdef\", \"5678\"\n", STORED),
	                 PC_CACHE_COND_NOT_MODIFIED);
	assert_int_equal(cond(GET "If-None-Match: \"1234\"\nIf-None-Match: \"abcdef\"\n", STORED),
	                 PC_CACHE_COND_NOT_MODIFIED);
	assert_int_equal(cond(GET "If-None-Match: W/\"abcdef\"\n", STORED),
	                 PC_CACHE_COND_NOT_MODIFIED);
	assert_int_equal(cond(GET "If-None-Match: *\n", STORED), PC_CACHE_COND_NOT_MODIFIED);
	assert_int_equal(cond(GET "If-None-Match: \"abcde\"\n", STORED), PC_CACHE_COND_NONE);
	assert_int_equal(cond("HEAD /a HTTP/1.1\nHost: o\nIf-None-Match: \"abcdef\"\n", STORED),
	                 PC_CACHE_COND_NOT_MODIFIED);
	/* conditional-etag-precedence: If-None-Match over If-Modified-Since. */
	assert_int_equal(
	    cond(GET "If-None-Match: \"nope\"\nIf-Modified-Since: " DATE_T0 "\n", STORED),
	    PC_CACHE_COND_NONE);
	/* A weak stored tag matches weakly. */
	assert_int_equal(cond(GET "If-None-Match: W/\"x\"\n", OK "ETag: W/\"x\"\n"),
	                 PC_CACHE_COND_NOT_MODIFIED);
	assert_int_equal(cond(GET "If-None-Match: \"x\"\n", OK "ETag: W/\"x\"\n"),
	                 PC_CACHE_COND_NOT_MODIFIED);
	/* A comma inside a tag does not split it. */
	assert_int_equal(cond(GET "If-None-Match: \"a,b\"\n", OK "ETag: \"a,b\"\n"),
	                 PC_CACHE_COND_NOT_MODIFIED);
	/* Only 2xx stored answers take part. */
	assert_int_equal(cond(GET "If-None-Match: *\n", "HTTP/1.1 404 Not Found\nETag: \"x\"\n"),
	                 PC_CACHE_COND_NONE);
}

static void test_conditional_dates_and_failures(void **state)
{
	(void)state;
	/* If-Modified-Since against Last-Modified. */
	assert_int_equal(cond(GET "If-Modified-Since: " DATE_M1 "\n", STORED),
	                 PC_CACHE_COND_NOT_MODIFIED);
	assert_int_equal(cond(GET "If-Modified-Since: " DATE_T0 "\n", STORED),
	                 PC_CACHE_COND_NOT_MODIFIED);
	assert_int_equal(cond(GET "If-Modified-Since: " DATE_M2 "\n", STORED), PC_CACHE_COND_NONE);
	assert_int_equal(cond(GET "If-Modified-Since: garbage\n", STORED), PC_CACHE_COND_NONE);
	/* The RFC 850 form of the same date. */
	assert_int_equal(cond(GET "If-Modified-Since: Tuesday, 14-Nov-23 21:13:20 GMT\n", STORED),
	                 PC_CACHE_COND_NOT_MODIFIED);
	/* No Last-Modified: Date stands in (RFC 9111 §4.3.2). */
	assert_int_equal(cond(GET "If-Modified-Since: " DATE_T0 "\n", OK "Date: " DATE_M1 "\n"),
	                 PC_CACHE_COND_NOT_MODIFIED);
	assert_int_equal(cond(GET "If-Modified-Since: " DATE_M2 "\n", OK "Date: " DATE_M1 "\n"),
	                 PC_CACHE_COND_NONE);
	/* If-Modified-Since only for GET and HEAD. */
	assert_int_equal(
	    cond("DELETE /a HTTP/1.1\nHost: o\nIf-Modified-Since: " DATE_T0 "\n", STORED),
	    PC_CACHE_COND_NONE);
	/* If-None-Match on an unsafe method: 412. */
	assert_int_equal(cond("DELETE /a HTTP/1.1\nHost: o\nIf-None-Match: *\n", STORED),
	                 PC_CACHE_COND_FAILED);
	/* If-Match: strong comparison. */
	assert_int_equal(cond(GET "If-Match: \"abcdef\"\n", STORED), PC_CACHE_COND_NONE);
	assert_int_equal(cond(GET "If-Match: *\n", STORED), PC_CACHE_COND_NONE);
	assert_int_equal(cond(GET "If-Match: \"zz\"\n", STORED), PC_CACHE_COND_FAILED);
	assert_int_equal(cond(GET "If-Match: W/\"x\"\n", OK "ETag: W/\"x\"\n"),
	                 PC_CACHE_COND_FAILED);
	/* If-Unmodified-Since, ignored when If-Match is there. */
	assert_int_equal(cond(GET "If-Unmodified-Since: " DATE_T0 "\n", STORED),
	                 PC_CACHE_COND_NONE);
	assert_int_equal(cond(GET "If-Unmodified-Since: " DATE_M2 "\n", STORED),
	                 PC_CACHE_COND_FAILED);
	assert_int_equal(
	    cond(GET "If-Match: \"abcdef\"\nIf-Unmodified-Since: " DATE_M2 "\n", STORED),
	    PC_CACHE_COND_NONE);
	assert_int_equal(cond(GET "If-Unmodified-Since: " DATE_T0 "\n", OK "X: 1\n"),
	                 PC_CACHE_COND_FAILED);
	/* A failed If-Match wins over a matching If-None-Match. */
	assert_int_equal(cond(GET "If-Match: \"zz\"\nIf-None-Match: \"abcdef\"\n", STORED),
	                 PC_CACHE_COND_FAILED);
	assert_true(pc_cache_etag_match_strong("\"a\"", 3, "\"a\"", 3));
	assert_false(pc_cache_etag_match_strong("W/\"a\"", 5, "\"a\"", 3));
	assert_true(pc_cache_etag_match_weak("W/\"a\"", 5, "\"a\"", 3));
	assert_false(pc_cache_etag_match_weak("\"a\"", 3, "\"b\"", 3));
#undef STORED
}

static void test_fields_in_304(void **state)
{
	(void)state;
	struct msg a;
	/* conditional-etag-strong-respond-etag: ETag goes into the 304. */
	const struct pc_http_head *r = resp(
	    &a, OK "ETag: \"a\"\nCache-Control: max-age=5\nContent-Type: text/plain\n"
	           "Vary: Foo\nLast-Modified: " DATE_M1 "\nDate: " DATE_T0 "\nExpires: " DATE_P1
	           "\nContent-Location: /b\nContent-Length: 3\nAge: 3\n");
	unsigned in = 0;
	for (unsigned i = 0; i < r->n_fields; i++)
		in |= (unsigned)pc_cache_field_in_304(r, &r->fields[i]) << i;
	/* ETag, Cache-Control, Vary, Date, Expires, Content-Location */
	assert_int_equal(in, 1u << 0 | 1u << 1 | 1u << 3 | 1u << 5 | 1u << 6 | 1u << 7);
	/* Last-Modified only when there is no ETag. */
	r = resp(&a, OK "Last-Modified: " DATE_M1 "\n");
	assert_true(pc_cache_field_in_304(r, &r->fields[0]));
}

/* ---- Range ---- */

static enum pc_cache_range range(const char *request, const char *stored, uint64_t size,
                                 struct pc_cache_byte_range *out)
{
	struct msg a, b;
	return pc_cache_range(req(&a, request), resp(&b, stored), size, out);
}

static void test_range_forms(void **state)
{
	(void)state;
	struct pc_cache_byte_range r;
	struct {
		const char *range;
		enum pc_cache_range want;
		uint64_t first, last;
	} cases[] = {
	    {"bytes=0-1", PC_CACHE_RANGE_PARTIAL, 0, 1},
	    {"bytes=1-", PC_CACHE_RANGE_PARTIAL, 1, 9},
	    {"bytes=-1", PC_CACHE_RANGE_PARTIAL, 9, 9},
	    {"bytes=-5", PC_CACHE_RANGE_PARTIAL, 5, 9},
	    {"bytes=-50", PC_CACHE_RANGE_PARTIAL, 0, 9},
	    {"bytes=6-8", PC_CACHE_RANGE_PARTIAL, 6, 8},
	    {"bytes=5-500", PC_CACHE_RANGE_PARTIAL, 5, 9},
	    {"BYTES=9-9", PC_CACHE_RANGE_PARTIAL, 9, 9},
	    {"bytes=3-3,", PC_CACHE_RANGE_PARTIAL, 3, 3},
	    {"bytes=10-", PC_CACHE_RANGE_UNSATISFIABLE, 0, 0},
	    {"bytes=10-20", PC_CACHE_RANGE_UNSATISFIABLE, 0, 0},
	    {"bytes=-0", PC_CACHE_RANGE_UNSATISFIABLE, 0, 0},
	    {"bytes=0-1,3-4", PC_CACHE_RANGE_NONE, 0, 0},
	    {"bytes=2-1", PC_CACHE_RANGE_NONE, 0, 0},
	    {"bytes=a-1", PC_CACHE_RANGE_NONE, 0, 0},
	    {"bytes=-", PC_CACHE_RANGE_NONE, 0, 0},
	    {"bytes=1", PC_CACHE_RANGE_NONE, 0, 0},
	    {"bytes=", PC_CACHE_RANGE_NONE, 0, 0},
	    {"bytes = 0-1", PC_CACHE_RANGE_NONE, 0, 0},
	    {"items=0-1", PC_CACHE_RANGE_NONE, 0, 0},
	    {"bytes=0-99999999999999999999", PC_CACHE_RANGE_NONE, 0, 0},
	};
	char text[256];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, GET "Range: %s\n", cases[i].range);
		r = (struct pc_cache_byte_range){0, 0};
		enum pc_cache_range got = range(text, OK "X: 1\n", 10, &r);
		if (got != cases[i].want)
			fail_msg("%s: %d, not %d", cases[i].range, got, cases[i].want);
		if (got == PC_CACHE_RANGE_PARTIAL &&
		    (r.first != cases[i].first || r.last != cases[i].last))
			fail_msg("%s: %llu-%llu", cases[i].range, (unsigned long long)r.first,
			         (unsigned long long)r.last);
	}
	/* An empty body satisfies no range. */
	assert_int_equal(range(GET "Range: bytes=0-\n", OK "X: 1\n", 0, &r),
	                 PC_CACHE_RANGE_UNSATISFIABLE);
	assert_int_equal(range(GET "Range: bytes=-3\n", OK "X: 1\n", 0, &r),
	                 PC_CACHE_RANGE_UNSATISFIABLE);
	/* Only GET, only on a 200, only with one Range field. */
	assert_int_equal(
	    range("HEAD /a HTTP/1.1\nHost: o\nRange: bytes=0-1\n", OK "X: 1\n", 10, &r),
	    PC_CACHE_RANGE_NONE);
	assert_int_equal(range(GET "Range: bytes=0-1\n", "HTTP/1.1 404 Not Found\n", 10, &r),
	                 PC_CACHE_RANGE_NONE);
	assert_int_equal(range(GET "Range: bytes=0-1\nRange: bytes=2-3\n", OK "X: 1\n", 10, &r),
	                 PC_CACHE_RANGE_NONE);
	assert_int_equal(range(GET, OK "X: 1\n", 10, &r), PC_CACHE_RANGE_NONE);
}

static void test_range_if_range(void **state)
{
	(void)state;
	struct pc_cache_byte_range r;
#define STORED OK "ETag: \"e1\"\nLast-Modified: " DATE_M1 "\nDate: " DATE_T0 "\n"
	assert_int_equal(range(GET "Range: bytes=0-1\nIf-Range: \"e1\"\n", STORED, 10, &r),
	                 PC_CACHE_RANGE_PARTIAL);
	assert_int_equal(range(GET "Range: bytes=0-1\nIf-Range: \"e2\"\n", STORED, 10, &r),
	                 PC_CACHE_RANGE_NONE);
	assert_int_equal(range(GET "Range: bytes=0-1\nIf-Range: W/\"e1\"\n", STORED, 10, &r),
	                 PC_CACHE_RANGE_NONE);
	/* A failed If-Range serves the whole body, not 416. */
	assert_int_equal(range(GET "Range: bytes=50-\nIf-Range: \"e2\"\n", STORED, 10, &r),
	                 PC_CACHE_RANGE_NONE);
	assert_int_equal(range(GET "Range: bytes=0-1\nIf-Range: " DATE_M1 "\n", STORED, 10, &r),
	                 PC_CACHE_RANGE_PARTIAL);
	assert_int_equal(range(GET "Range: bytes=0-1\nIf-Range: " DATE_M2 "\n", STORED, 10, &r),
	                 PC_CACHE_RANGE_NONE);
	/* A Last-Modified equal to Date is weak. */
	assert_int_equal(range(GET "Range: bytes=0-1\nIf-Range: " DATE_T0 "\n",
	                       OK "Last-Modified: " DATE_T0 "\nDate: " DATE_T0 "\n", 10, &r),
	                 PC_CACHE_RANGE_NONE);
	assert_int_equal(range(GET "Range: bytes=0-1\nIf-Range: \"e1\"\n", OK "X: 1\n", 10, &r),
	                 PC_CACHE_RANGE_NONE);
#undef STORED
}

/* ---- invalidation ---- */

static void test_invalidation(void **state)
{
	(void)state;
	struct msg a, b;
	const char *methods[] = {"POST", "PUT", "DELETE", "PATCH", "M-SEARCH"};
	char text[128];
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		snprintf(text, sizeof text, "%s /a HTTP/1.1\nHost: o\nContent-Length: 0\n",
		         methods[i]);
		assert_true(pc_cache_invalidates(req(&a, text), resp(&b, OK "X: 1\n")));
		assert_true(
		    pc_cache_invalidates(req(&a, text), resp(&b, "HTTP/1.1 303 See Other\n")));
		assert_false(pc_cache_invalidates(req(&a, text), resp(&b, "HTTP/1.1 500 Oops\n")));
		assert_false(pc_cache_invalidates(req(&a, text), resp(&b, "HTTP/1.1 404 No\n")));
	}
	const char *safe[] = {"GET", "HEAD", "OPTIONS", "TRACE"};
	for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++) {
		snprintf(text, sizeof text, "%s /a HTTP/1.1\nHost: o\n", safe[i]);
		assert_false(pc_cache_invalidates(req(&a, text), resp(&b, OK "X: 1\n")));
	}

	struct pc_cache_span p[2];
	const char *origin = "http://o.example";
	assert_int_equal(
	    pc_cache_invalidation_paths(
	        resp(&b, OK "Location: /b\nContent-Location: HTTP://O.example/c?x\n"), origin, p),
	    2);
	assert_int_equal(p[0].len, 2);
	assert_memory_equal(p[0].ptr, "/b", 2);
	assert_int_equal(p[1].len, 4);
	assert_memory_equal(p[1].ptr, "/c?x", 4);
	assert_int_equal(
	    pc_cache_invalidation_paths(resp(&b, OK "Location: http://o.example\n"), origin, p), 1);
	assert_memory_equal(p[0].ptr, "/", 1);
	/* Another host, one with our name as a prefix, a scheme-relative or
	 * a relative reference: none. */
	assert_int_equal(
	    pc_cache_invalidation_paths(resp(&b, OK "Location: http://other.example/b\n"
	                                            "Content-Location: http://o.example.evil/c\n"),
	                                origin, p),
	    0);
	assert_int_equal(
	    pc_cache_invalidation_paths(
	        resp(&b, OK "Location: //other.example/b\nContent-Location: c\n"), origin, p),
	    0);
	assert_int_equal(
	    pc_cache_invalidation_paths(resp(&b, OK "Location: https://o.example/b\n"), origin, p),
	    0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cc_response_directives),
	    cmocka_unit_test(test_cc_qualified_forms),
	    cmocka_unit_test(test_cc_delta_seconds),
	    cmocka_unit_test(test_cc_targeted),
	    cmocka_unit_test(test_targeted_lifetime),
	    cmocka_unit_test(test_cc_request),
	    cmocka_unit_test(test_status_classes),
	    cmocka_unit_test(test_storable_basics),
	    cmocka_unit_test(test_storable_vary_star),
	    cmocka_unit_test(test_storable_freshness_sources),
	    cmocka_unit_test(test_storable_must_understand),
	    cmocka_unit_test(test_storable_authorization),
	    cmocka_unit_test(test_lifetime_sources),
	    cmocka_unit_test(test_lifetime_heuristic),
	    cmocka_unit_test(test_age_calculation),
	    cmocka_unit_test(test_age_parse),
	    cmocka_unit_test(test_decide_fresh_and_stale),
	    cmocka_unit_test(test_decide_request_directives),
	    cmocka_unit_test(test_decide_stale_prohibited),
	    cmocka_unit_test(test_decide_stale_while_revalidate),
	    cmocka_unit_test(test_stale_if_error),
	    cmocka_unit_test(test_stale_disconnected),
	    cmocka_unit_test(test_vary_key),
	    cmocka_unit_test(test_write_head_drops_fields),
	    cmocka_unit_test(test_write_head_merges_304),
	    cmocka_unit_test(test_head_matches),
	    cmocka_unit_test(test_validators),
	    cmocka_unit_test(test_conditional_etag),
	    cmocka_unit_test(test_conditional_dates_and_failures),
	    cmocka_unit_test(test_fields_in_304),
	    cmocka_unit_test(test_range_forms),
	    cmocka_unit_test(test_range_if_range),
	    cmocka_unit_test(test_invalidation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
