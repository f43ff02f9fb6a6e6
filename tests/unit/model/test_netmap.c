/* Unit tests of the longest-prefix-match table and the prefix parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "lib/base/err.h"
#include "lib/model/netmap.h"

static void add(pc_netmap_builder *b, const char *text, uint32_t value)
{
	int family;
	uint8_t addr[16];
	unsigned len;
	assert_int_equal(pc_prefix_parse(text, strlen(text), &family, addr, &len), PC_OK);
	assert_int_equal(pc_netmap_builder_add(b, family, addr, len, value), PC_OK);
}

static bool lookup(const pc_netmap *map, const char *text, uint32_t *value, unsigned *len)
{
	int family;
	uint8_t addr[16];
	unsigned full;
	assert_int_equal(pc_prefix_parse(text, strlen(text), &family, addr, &full), PC_OK);
	return family == PC_AF_INET ? pc_netmap_lookup4(map, addr, value, len)
	                            : pc_netmap_lookup6(map, addr, value, len);
}

static void test_longest_match(void **state)
{
	(void)state;
	pc_netmap_builder *b;
	assert_int_equal(pc_netmap_builder_new(&b), PC_OK);
	add(b, "10.0.0.0/8", 1);
	add(b, "10.1.0.0/16", 2);
	add(b, "10.1.2.0/24", 3);
	add(b, "10.1.2.128/25", 4);
	add(b, "10.1.2.200/32", 5);
	add(b, "2001:db8::/32", 6);
	add(b, "2001:db8:1::/48", 7);
	add(b, "2001:db8:1:2::1/128", 8);
	pc_netmap *map;
	assert_int_equal(pc_netmap_build(b, &map), PC_OK);
	pc_netmap_builder_free(b);

	static const struct {
		const char *addr;
		uint32_t value;
		unsigned len;
	} cases[] = {
	    {"10.9.9.9", 1, 8},          {"10.1.9.9", 2, 16},        {"10.1.2.3", 3, 24},
	    {"10.1.2.129", 4, 25},       {"10.1.2.200", 5, 32},      {"10.1.2.201", 4, 25},
	    {"2001:db8:ffff::1", 6, 32}, {"2001:db8:1:5::1", 7, 48}, {"2001:db8:1:2::1", 8, 128},
	    {"2001:db8:1:2::2", 7, 48},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t value = 0;
		unsigned len = 0;
		assert_true(lookup(map, cases[i].addr, &value, &len));
		assert_int_equal(value, cases[i].value);
		assert_int_equal(len, cases[i].len);
	}
	uint32_t value;
	unsigned len;
	assert_false(lookup(map, "11.0.0.1", &value, &len));
	assert_false(lookup(map, "2001:db9::1", &value, &len));
	assert_int_equal(pc_netmap_count(map, PC_AF_INET), 5);
	assert_int_equal(pc_netmap_count(map, PC_AF_INET6), 3);
	assert_true(pc_netmap_memory(map) > 0);
	pc_netmap_free(map);
}

static void test_default_route_and_errors(void **state)
{
	(void)state;
	pc_netmap_builder *b;
	assert_int_equal(pc_netmap_builder_new(&b), PC_OK);
	add(b, "0.0.0.0/0", 42);
	add(b, "::/0", 43);
	uint8_t host_bits[4] = {10, 1, 2, 3};
	assert_int_equal(pc_netmap_builder_add(b, PC_AF_INET, host_bits, 16, 1), PC_EINVAL);
	uint8_t zero[16] = {0};
	assert_int_equal(pc_netmap_builder_add(b, PC_AF_INET, zero, 0, 1), PC_EEXIST);
	assert_int_equal(pc_netmap_builder_add(b, PC_AF_INET, zero, 33, 1), PC_ERANGE);
	assert_int_equal(pc_netmap_builder_add(b, 5, zero, 8, 1), PC_EINVAL);
	pc_netmap *map;
	assert_int_equal(pc_netmap_build(b, &map), PC_OK);
	pc_netmap_builder_free(b);
	uint32_t value;
	unsigned len;
	assert_true(lookup(map, "203.0.113.9", &value, &len));
	assert_int_equal(value, 42);
	assert_int_equal(len, 0);
	assert_true(lookup(map, "fe80::1", &value, &len));
	assert_int_equal(value, 43);
	pc_netmap_free(map);
}

static void test_parse(void **state)
{
	(void)state;
	static const char *const good[] = {
	    "0.0.0.0",
	    "255.255.255.255/32",
	    "192.0.2.0/24",
	    "::",
	    "::1",
	    "1::",
	    "2001:db8::/32",
	    "::ffff:192.0.2.1",
	    "1:2:3:4:5:6:7:8",
	    "1:2:3:4:5:6:7::",
	    "::2:3:4:5:6:7:8",
	    "FE80::A/64",
	    "1:2:3:4:5:6:1.2.3.4",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int family;
		uint8_t addr[16], ref[16];
		unsigned len;
		const char *text = good[i];
		assert_int_equal(pc_prefix_parse(text, strlen(text), &family, addr, &len), PC_OK);
		char bare[64];
		size_t n = strcspn(text, "/");
		memcpy(bare, text, n);
		bare[n] = '\0';
		assert_int_equal(inet_pton(family == PC_AF_INET ? AF_INET : AF_INET6, bare, ref),
		                 1);
		assert_memory_equal(addr, ref, family == PC_AF_INET ? 4 : 16);
	}
	static const char *const bad[] = {
	    "",
	    "1.2.3",
	    "1.2.3.4.5",
	    "256.1.1.1",
	    "01.2.3.4",
	    "1.2.3.4/",
	    "1.2.3.4/33",
	    "1.2.3.4/01",
	    "1.2.3.4/a",
	    ":::",
	    "1:::2",
	    "1::2::3",
	    ":1::2",
	    "1:2:3:4:5:6:7:8:9",
	    "12345::",
	    "1:2:3:4:5:6:7",
	    "::/129",
	    "g::1",
	    "1.2.3.4 ",
	    "::1.2.3",
	    "1:2:3:4:5:6:7:1.2.3.4",
	    "1::2:",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int family;
		uint8_t addr[16];
		unsigned len;
		int rc = pc_prefix_parse(bad[i], strlen(bad[i]), &family, addr, &len);
		if (rc == PC_OK)
			fail_msg("\"%s\" parsed", bad[i]);
	}
}

/* Compares the trie with a linear longest-prefix match on random data. */
static bool naive(const uint8_t (*prefixes)[4], const unsigned *lens, size_t n,
                  const uint8_t addr[4], size_t *best)
{
	bool hit = false;
	for (size_t i = 0; i < n; i++) {
		uint32_t p = (uint32_t)prefixes[i][0] << 24 | prefixes[i][1] << 16 |
		             prefixes[i][2] << 8 | prefixes[i][3];
		uint32_t a = (uint32_t)addr[0] << 24 | addr[1] << 16 | addr[2] << 8 | addr[3];
		uint32_t mask = lens[i] == 0 ? 0 : ~0u << (32 - lens[i]);
		if ((a & mask) == p && (!hit || lens[i] > lens[*best])) {
			*best = i;
			hit = true;
		}
	}
	return hit;
}

/* A /17 in most /16s outside 10/8 (with spread), enough for the flat
 * IPv4 table of netmap.c: value SPREAD + the /16. None nests with the
 * clustered prefixes of 10/8 except those shorter than /8, so it wins
 * wherever it covers the address. */
enum { SPREAD = 1u << 20 };

static bool spread_covers(uint32_t a)
{
	uint32_t slash16 = a >> 16;
	return slash16 % 5 != 0 && slash16 >> 8 != 10 && !(a >> 15 & 1);
}

static void random_against_naive(bool spread)
{
	enum { N = 3000, LOOKUPS = 20000 };
	static uint8_t prefixes[N][4];
	static unsigned lens[N];
	srand(7);
	pc_netmap_builder *b;
	assert_int_equal(pc_netmap_builder_new(&b), PC_OK);
	size_t n = 0;
	while (n < N) {
		unsigned len = (unsigned)(rand() % 33);
		/* Cluster under 10/8 so that prefixes nest. */
		uint32_t a = 0x0a000000u | ((uint32_t)rand() & 0x00ffffffu);
		a &= len == 0 ? 0 : ~0u << (32 - len);
		uint8_t bytes[4] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8),
		                    (uint8_t)a};
		int rc = pc_netmap_builder_add(b, PC_AF_INET, bytes, len, (uint32_t)n);
		if (rc == PC_EEXIST)
			continue;
		assert_int_equal(rc, PC_OK);
		memcpy(prefixes[n], bytes, 4);
		lens[n++] = len;
	}
	for (uint32_t i = 0; spread && i < 1u << 16; i++) {
		if (!spread_covers(i << 16))
			continue;
		uint8_t bytes[4] = {(uint8_t)(i >> 8), (uint8_t)i, 0, 0};
		assert_int_equal(pc_netmap_builder_add(b, PC_AF_INET, bytes, 17, SPREAD + i),
		                 PC_OK);
	}
	pc_netmap *map;
	assert_int_equal(pc_netmap_build(b, &map), PC_OK);
	pc_netmap_builder_free(b);
	/* The flat table (64 MiB) is in use exactly when spread. */
	assert_int_equal(pc_netmap_memory(map) >= (size_t)64 << 20, spread);
	for (int i = 0; i < LOOKUPS; i++) {
		uint8_t addr[4] = {10, (uint8_t)rand(), (uint8_t)rand(), (uint8_t)rand()};
		if (i % (spread ? 2 : 10) == 0)
			addr[0] = (uint8_t)rand();
		uint32_t a = (uint32_t)addr[0] << 24 | addr[1] << 16 | addr[2] << 8 | addr[3];
		size_t best = 0;
		uint32_t value;
		unsigned len;
		bool want = naive(prefixes, lens, n, addr, &best);
		bool got = pc_netmap_lookup4(map, addr, &value, &len);
		if (spread && spread_covers(a)) {
			assert_true(got);
			assert_int_equal(value, SPREAD + (a >> 16));
			assert_int_equal(len, 17);
			continue;
		}
		assert_int_equal(got, want);
		if (want) {
			assert_int_equal(value, best);
			assert_int_equal(len, lens[best]);
		}
	}
	pc_netmap_free(map);
}

static void test_random_against_naive(void **state)
{
	(void)state;
	random_against_naive(false);
}

/* The same over the flat table, its second level renumbered. */
static void test_flat_against_naive(void **state)
{
	(void)state;
	random_against_naive(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_longest_match),
	    cmocka_unit_test(test_default_route_and_errors),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_random_against_naive),
	    cmocka_unit_test(test_flat_against_naive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
