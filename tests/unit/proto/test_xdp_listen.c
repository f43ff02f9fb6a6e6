/* Unit tests of the `xdp: listen:` form (IFACE@PORT) and its load through
 * the DNS section's schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/proto/xdp_listen.h"

static void test_parse_good(void **state)
{
	(void)state;
	struct pc_xdp_listen out;
	assert_true(pc_xdp_listen_parse("eth0@53", &out));
	assert_string_equal(out.iface, "eth0");
	assert_int_equal(out.port, 53);
	assert_true(pc_xdp_listen_parse("veth-pc.1@65535", &out));
	assert_string_equal(out.iface, "veth-pc.1");
	assert_int_equal(out.port, 65535);
	assert_true(pc_xdp_listen_parse("abcdefghijklmno@1", &out)); /* 15: the most */
	assert_int_equal(out.port, 1);
}

static void test_parse_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",           "eth0",     "@53",     "eth0@",       "eth0@0",
	    "eth0@65536", "eth0@-1",  "eth0@5x", "eth0@000053", "abcdefghijklmnop@53",
	    "a/b@53",     "a:b@53",   "a b@53",  ".@53",        "..@53",
	    "a@b@53",     "eth0@ 53",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pc_xdp_listen out;
		if (pc_xdp_listen_parse(bad[i], &out))
			fail_msg("accepted \"%s\"", bad[i]);
		const char *text = bad[i];
		assert_non_null(pc_xdp_listen_check(&text));
	}
	const char *good = "lo@2554";
	assert_null(pc_xdp_listen_check(&good));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
