/* Unit tests of the ICP codec (lib/proto/icp.h) and the icp section
 * (lib/proto/icp_settings.h): queries as Squid writes them, every fault of
 * the parser, answers that copy the request number and URL and are never
 * longer than the query, and the allow list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "lib/base/err.h"
#include "lib/model/config.h"
#include "lib/proto/icp.h"
#include "lib/proto/icp_settings.h"
#include "lib/proto/sections.h"

static const char URL[] = "http://foo.cdn.beta.net/www.foo.com/index.html";

/* A version 2 query as Squid's icpCreateMessage writes it, byte by byte
 * (not through pc_icp_write, so that the writer is checked too). */
static size_t squid_query(uint8_t *out, const char *url, uint32_t reqnum)
{
	size_t url_len = strlen(url), len = 20 + 4 + url_len + 1;
	memset(out, 0, len);
	out[0] = PC_ICP_OP_QUERY;
	out[1] = 2;
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	out[4] = (uint8_t)(reqnum >> 24);
	out[5] = (uint8_t)(reqnum >> 16);
	out[6] = (uint8_t)(reqnum >> 8);
	out[7] = (uint8_t)reqnum;
	memcpy(out + 16, (const uint8_t[]){192, 0, 2, 7}, 4);    /* sender */
	memcpy(out + 20, (const uint8_t[]){198, 51, 100, 9}, 4); /* requester */
	memcpy(out + 24, url, url_len);
	return len;
}

static void test_parse_squid_query(void **state)
{
	(void)state;
	uint8_t wire[256];
	size_t len = squid_query(wire, URL, 0x01020304);
	struct pc_icp_message m;
	assert_int_equal(pc_icp_parse(wire, len, &m), PC_OK);
	assert_int_equal(m.opcode, PC_ICP_OP_QUERY);
	assert_int_equal(m.version, 2);
	assert_int_equal(m.reqnum, 0x01020304);
	assert_int_equal(m.options, 0);
	assert_memory_equal(m.sender, ((const uint8_t[]){192, 0, 2, 7}), 4);
	assert_memory_equal(m.requester, ((const uint8_t[]){198, 51, 100, 9}), 4);
	assert_int_equal(m.url_len, strlen(URL));
	assert_memory_equal(m.url, URL, strlen(URL));
	assert_ptr_equal(m.url, (const char *)wire + 24);
	assert_int_equal(m.fault, PC_ICP_FAULT_NONE);

	/* Version 3 (Harvest) reads the same. */
	wire[1] = 3;
	assert_int_equal(pc_icp_parse(wire, len, &m), PC_OK);
	assert_int_equal(m.version, 3);
}

static void test_parse_reply(void **state)
{
	(void)state;
	/* A reply has no requester address: the URL follows the header. */
	uint8_t wire[64];
	struct pc_icp_message hit = {
	    .opcode = PC_ICP_OP_HIT, .reqnum = 9, .url = "http://a/", .url_len = 9};
	int n = pc_icp_write(&hit, wire, sizeof(wire));
	assert_int_equal(n, 20 + 9 + 1);
	struct pc_icp_message m;
	assert_int_equal(pc_icp_parse(wire, (size_t)n, &m), PC_OK);
	assert_int_equal(m.opcode, PC_ICP_OP_HIT);
	assert_int_equal(m.url_len, 9);
	assert_memory_equal(m.url, "http://a/", 9);
}

static void expect_fault(const uint8_t *wire, size_t len, int code, uint8_t fault)
{
	struct pc_icp_message m;
	assert_int_equal(pc_icp_parse(wire, len, &m), code);
	assert_int_equal(m.fault, fault);
}

static void test_parse_faults(void **state)
{
	(void)state;
	uint8_t wire[256], bad[256];
	size_t len = squid_query(wire, URL, 1);

	/* Every truncation: too short for a header, then a length mismatch. */
	for (size_t cut = 0; cut < len; cut++)
		expect_fault(wire, cut, cut < 20 ? PC_ESYNTAX : PC_ERANGE,
		             cut < 20 ? PC_ICP_FAULT_SHORT : PC_ICP_FAULT_LENGTH);

	/* Versions other than 2 and 3. */
	for (unsigned v = 0; v < 256; v++) {
		if (v == 2 || v == 3)
			continue;
		memcpy(bad, wire, len);
		bad[1] = (uint8_t)v;
		expect_fault(bad, len, PC_ENOTSUP, PC_ICP_FAULT_VERSION);
	}

	/* A length field that says more, less, or zero. */
	memcpy(bad, wire, len);
	bad[3]++;
	expect_fault(bad, len, PC_ERANGE, PC_ICP_FAULT_LENGTH);
	bad[3] -= 2;
	expect_fault(bad, len, PC_ERANGE, PC_ICP_FAULT_LENGTH);
	bad[2] = bad[3] = 0;
	expect_fault(bad, len, PC_ERANGE, PC_ICP_FAULT_LENGTH);

	/* Padding after the URL's NUL, with the length counting it. */
	memcpy(bad, wire, len);
	bad[len] = 0;
	bad[3]++;
	expect_fault(bad, len + 1, PC_ESYNTAX, PC_ICP_FAULT_PAYLOAD);

	/* No NUL at all. */
	memcpy(bad, wire, len);
	bad[len - 1] = 'x';
	expect_fault(bad, len, PC_ESYNTAX, PC_ICP_FAULT_PAYLOAD);

	/* A NUL inside the URL: the rest would be read differently. */
	memcpy(bad, wire, len);
	bad[30] = 0;
	expect_fault(bad, len, PC_ESYNTAX, PC_ICP_FAULT_PAYLOAD);

	/* An empty URL. */
	size_t empty = squid_query(bad, "", 1);
	expect_fault(bad, empty, PC_ESYNTAX, PC_ICP_FAULT_PAYLOAD);

	/* A query whose payload cannot hold the requester address. */
	uint8_t tiny[22] = {PC_ICP_OP_QUERY, 2, 0, 22};
	expect_fault(tiny, sizeof(tiny), PC_ESYNTAX, PC_ICP_FAULT_PAYLOAD);
	/* ... while the same bytes as a MISS are a one-byte URL and its NUL. */
	tiny[0] = PC_ICP_OP_MISS;
	tiny[20] = 'u';
	expect_fault(tiny, sizeof(tiny), PC_OK, PC_ICP_FAULT_NONE);

	/* A header alone: no URL. */
	uint8_t header[20] = {PC_ICP_OP_MISS, 2, 0, 20};
	expect_fault(header, sizeof(header), PC_ESYNTAX, PC_ICP_FAULT_PAYLOAD);

	/* NULL arguments. */
	struct pc_icp_message m;
	assert_int_equal(pc_icp_parse(NULL, 5, &m), PC_EINVAL);
	assert_int_equal(pc_icp_parse(wire, len, NULL), PC_EINVAL);
	expect_fault(NULL, 0, PC_ESYNTAX, PC_ICP_FAULT_SHORT);
}

static void test_parse_huge(void **state)
{
	(void)state;
	/* The largest message RFC 2186 allows parses; one byte more does not,
	 * even when its length field (16 bits) could say so. */
	static uint8_t wire[PC_ICP_MAX + 2];
	static char url[PC_ICP_MAX];
	memset(url, 'a', sizeof(url));
	memcpy(url, "http://", 7);
	struct pc_icp_message q = {.opcode = PC_ICP_OP_QUERY, .url = url};
	q.url_len = PC_ICP_MAX - 25;
	int n = pc_icp_write(&q, wire, sizeof(wire));
	assert_int_equal(n, PC_ICP_MAX);
	struct pc_icp_message m;
	assert_int_equal(pc_icp_parse(wire, (size_t)n, &m), PC_OK);
	assert_int_equal(m.url_len, PC_ICP_MAX - 25);

	q.url_len++;
	assert_int_equal(pc_icp_write(&q, wire, sizeof(wire)), PC_ERANGE);
	/* Built by hand: length field 16385. */
	memset(wire, 'a', sizeof(wire));
	wire[0] = PC_ICP_OP_QUERY;
	wire[1] = 2;
	wire[2] = (PC_ICP_MAX + 1) >> 8;
	wire[3] = (PC_ICP_MAX + 1) & 0xff;
	wire[PC_ICP_MAX] = 0;
	expect_fault(wire, PC_ICP_MAX + 1, PC_ERANGE, PC_ICP_FAULT_LENGTH);
}

static void test_answer(void **state)
{
	(void)state;
	uint8_t wire[256], out[256];
	size_t len = squid_query(wire, URL, 0xdeadbeef);
	wire[8] = 0xc0; /* the querier asks for HIT_OBJ and SRC_RTT */
	struct pc_icp_message q;
	assert_int_equal(pc_icp_parse(wire, len, &q), PC_OK);
	const uint8_t opcodes[] = {PC_ICP_OP_HIT, PC_ICP_OP_MISS, PC_ICP_OP_MISS_NOFETCH,
	                           PC_ICP_OP_DENIED, PC_ICP_OP_ERR};
	for (size_t i = 0; i < sizeof(opcodes); i++) {
		int n = pc_icp_answer_write(&q, opcodes[i], out, sizeof(out));
		/* The query less its requester address: never amplifies. */
		assert_int_equal(n, (int)len - 4);
		struct pc_icp_message a;
		assert_int_equal(pc_icp_parse(out, (size_t)n, &a), PC_OK);
		assert_int_equal(a.opcode, opcodes[i]);
		assert_int_equal(a.version, PC_ICP_VERSION);
		assert_int_equal(a.reqnum, 0xdeadbeef);
		assert_int_equal(a.options, 0); /* neither HIT_OBJ nor SRC_RTT granted */
		assert_int_equal(a.option_data, 0);
		assert_memory_equal(a.sender, ((const uint8_t[4]){0}), 4);
		assert_int_equal(a.url_len, strlen(URL));
		assert_memory_equal(a.url, URL, strlen(URL));
	}
	/* A version 3 query is answered as version 2, as Squid does. */
	wire[1] = 3;
	assert_int_equal(pc_icp_parse(wire, len, &q), PC_OK);
	assert_int_equal(pc_icp_answer_write(&q, PC_ICP_OP_MISS, out, sizeof(out)), (int)len - 4);
	assert_int_equal(out[1], 2);
	/* Space: one byte short, then exactly enough. */
	assert_int_equal(pc_icp_answer_write(&q, PC_ICP_OP_MISS, out, len - 5), PC_ESPACE);
	assert_int_equal(pc_icp_answer_write(&q, PC_ICP_OP_MISS, out, len - 4), (int)len - 4);
	assert_int_equal(pc_icp_answer_write(NULL, PC_ICP_OP_MISS, out, sizeof(out)), PC_EINVAL);
}

static void test_write_round_trip(void **state)
{
	(void)state;
	uint8_t wire[128], again[128];
	struct pc_icp_message q = {
	    .opcode = PC_ICP_OP_QUERY,
	    .reqnum = 77,
	    .options = PC_ICP_FLAG_SRC_RTT,
	    .option_data = 5,
	    .sender = {10, 0, 0, 1},
	    .requester = {10, 0, 0, 2},
	    .url = URL,
	    .url_len = strlen(URL),
	};
	int n = pc_icp_write(&q, wire, sizeof(wire));
	assert_int_equal(n, 20 + 4 + (int)strlen(URL) + 1);
	uint8_t squid[128];
	size_t squid_len = squid_query(squid, URL, 77);
	/* Byte for byte what Squid sends, but for the fields set here. */
	assert_int_equal((size_t)n, squid_len);
	assert_memory_equal(wire + 24, squid + 24, squid_len - 24);
	assert_memory_equal(wire, squid, 8);
	struct pc_icp_message m;
	assert_int_equal(pc_icp_parse(wire, (size_t)n, &m), PC_OK);
	assert_int_equal(m.options, PC_ICP_FLAG_SRC_RTT);
	assert_int_equal(m.option_data, 5);
	assert_int_equal(pc_icp_write(&m, again, sizeof(again)), n);
	assert_memory_equal(again, wire, (size_t)n);

	/* What the writer refuses. */
	q.url_len = 0;
	assert_int_equal(pc_icp_write(&q, wire, sizeof(wire)), PC_EINVAL);
	q.url = "a\0b";
	q.url_len = 3;
	assert_int_equal(pc_icp_write(&q, wire, sizeof(wire)), PC_EINVAL);
	q.url = NULL;
	assert_int_equal(pc_icp_write(&q, wire, sizeof(wire)), PC_EINVAL);
}

static void test_url_ok(void **state)
{
	(void)state;
	assert_true(pc_icp_url_ok(URL, strlen(URL)));
	assert_false(pc_icp_url_ok("http://a/b c", 12));
	assert_false(pc_icp_url_ok("http://a/\tb", 11));
	assert_false(pc_icp_url_ok("http://a/\x7f", 10));
	assert_false(pc_icp_url_ok("http://a/\xc3\xa9", 11));
	assert_false(pc_icp_url_ok("", 0));
	assert_false(pc_icp_url_ok(NULL, 3));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(pc_icp_opcode_name(PC_ICP_OP_MISS_NOFETCH), "miss_nofetch");
	assert_string_equal(pc_icp_opcode_name(PC_ICP_OP_DENIED), "denied");
	assert_string_equal(pc_icp_opcode_name(5), "unknown");
	assert_string_equal(pc_icp_fault_name(PC_ICP_FAULT_LENGTH), "length");
	assert_string_equal(pc_icp_fault_name(PC_ICP_FAULT__COUNT), "unknown");
}

static pc_addr addr4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (pc_addr){.family = PC_AF_INET, .bytes = {a, b, c, d}};
}

static void test_settings(void **state)
{
	(void)state;
	struct pc_model *model = fixture_load_text("version: 1\n"
	                                           "icp:\n"
	                                           "  enabled: true\n"
	                                           "  allow: [192.0.2.0/24, 198.51.100.77, "
	                                           "10.1.2.3/8, '2001:db8::/32']\n");
	const struct pc_icp_params *icp = pc_icp_settings(fixture_config(model));
	assert_non_null(icp);
	assert_true(icp->enabled);
	assert_int_equal(icp->port, 3130);
	assert_int_equal(icp->overload_qps, 0);
	assert_int_equal(icp->n_allowed, 4);
	pc_addr a = addr4(192, 0, 2, 200);
	assert_true(pc_icp_allowed(icp, &a));
	a = addr4(192, 0, 3, 1);
	assert_false(pc_icp_allowed(icp, &a));
	a = addr4(198, 51, 100, 77);
	assert_true(pc_icp_allowed(icp, &a));
	a = addr4(198, 51, 100, 78);
	assert_false(pc_icp_allowed(icp, &a));
	/* Host bits written in the prefix are ignored. */
	a = addr4(10, 200, 0, 1);
	assert_true(pc_icp_allowed(icp, &a));
	pc_addr v6 = {.family = PC_AF_INET6, .bytes = {0x20, 0x01, 0x0d, 0xb8, 0xff}};
	assert_true(pc_icp_allowed(icp, &v6));
	v6.bytes[3] = 0xb9;
	assert_false(pc_icp_allowed(icp, &v6));
	/* An IPv4 address never matches an IPv6 prefix of the same bytes. */
	pc_addr v4 = addr4(0x20, 0x01, 0x0d, 0xb8);
	assert_false(pc_icp_allowed(icp, &v4));
	fixture_free(model);

	/* The default: off, and nobody allowed. */
	model = fixture_load_text("version: 1\n");
	icp = pc_icp_settings(fixture_config(model));
	assert_false(icp->enabled);
	assert_int_equal(icp->n_allowed, 0);
	a = addr4(127, 0, 0, 1);
	assert_false(pc_icp_allowed(icp, &a));
	fixture_free(model);
}

static void test_settings_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "version: 1\nicp:\n  allow: [192.0.2.0/33]\n",
	    "version: 1\nicp:\n  allow: [not-a-prefix]\n",
	    "version: 1\nicp:\n  port: 0\n",
	    "version: 1\nicp:\n  overload_qps: 10000001\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pc_config_options opts = {.source = "t.yaml", .sections = pc_role_sections};
		pc_config *config = NULL;
		assert_int_equal(pc_config_load(bad[i], strlen(bad[i]), &opts, NULL, NULL, &config),
		                 PC_ECONFIG);
		assert_null(config);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_squid_query),
	    cmocka_unit_test(test_parse_reply),
	    cmocka_unit_test(test_parse_faults),
	    cmocka_unit_test(test_parse_huge),
	    cmocka_unit_test(test_answer),
	    cmocka_unit_test(test_write_round_trip),
	    cmocka_unit_test(test_url_ok),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_settings),
	    cmocka_unit_test(test_settings_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
