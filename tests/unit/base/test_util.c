/* Unit tests of the small utilities: error strings, arena, strmap, base32,
 * ascii. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/arena.h"
#include "lib/base/ascii.h"
#include "lib/base/base32.h"
#include "lib/base/err.h"
#include "lib/base/strmap.h"

static void test_strerror_total(void **state)
{
	(void)state;
	for (int code = 1; code >= -1100; code--) {
		const char *text = pc_strerror(code);
		assert_non_null(text);
		assert_true(strlen(text) > 0);
	}
	for (int code = PC_E__FIRST; code >= PC_E__LAST; code--)
		assert_string_not_equal(pc_strerror(code), "unknown error");
	assert_string_not_equal(pc_strerror(PC_ENOZONE), pc_strerror(PC_ENOCUSTOMER));
}

/* One space with the kernel's: the daemon's -errno and the library's codes
 * never mean two things (PC_ENOMEM used to be -1, -EPERM's number). */
static void test_errno_space(void **state)
{
	(void)state;
	assert_int_equal(PC_ENOMEM, -ENOMEM);
	assert_int_equal(PC_EINVAL, -EINVAL);
	assert_string_equal(pc_strerror(-ENOMEM), strerror(ENOMEM));
	assert_string_equal(pc_strerror(PC_ENOMEM), strerror(ENOMEM));
	assert_string_equal(pc_strerror(-EPERM), strerror(EPERM));
	assert_string_equal(pc_strerror(-EADDRINUSE), strerror(EADDRINUSE));
	/* every errno value sits above the project's codes */
	for (int e = 1; e < 4096; e++)
		if (strerrordesc_np(e) != NULL)
			assert_true(-e > PC_E__FIRST);
	assert_string_equal(pc_strerror(-999), "unknown error");
}

static void test_arena_alignment_and_zeroing(void **state)
{
	(void)state;
	pc_arena *arena = pc_arena_new();
	assert_non_null(arena);
	for (size_t size = 0; size < 3000; size += 7) {
		unsigned char *p = pc_arena_alloc(arena, size);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		for (size_t i = 0; i < size; i++)
			assert_int_equal(p[i], 0);
		memset(p, 0xaa, size);
	}
	/* A block larger than a chunk, then small ones still work. */
	unsigned char *big = pc_arena_alloc(arena, 1 << 20);
	assert_non_null(big);
	big[(1 << 20) - 1] = 1;
	char *copy = pc_arena_strndup(arena, "hello world", 5);
	assert_string_equal(copy, "hello");
	assert_string_equal(pc_arena_strdup(arena, "cdn"), "cdn");
	assert_true(pc_arena_used(arena) >= (1 << 20));
	pc_arena_free(arena);
	pc_arena_free(NULL);
}

static void test_strmap_case_and_duplicates(void **state)
{
	(void)state;
	pc_arena *arena = pc_arena_new();
	pc_strmap *map = pc_strmap_new(arena, 3);
	assert_non_null(map);
	assert_int_equal(pc_strmap_put(map, "acme", 4, 1), PC_OK);
	assert_int_equal(pc_strmap_put(map, "Beta", 4, 2), PC_OK);
	assert_int_equal(pc_strmap_put(map, "ACME", 4, 3), PC_EEXIST);
	assert_int_equal(pc_strmap_put(map, "gamma", 5, 3), PC_OK);
	assert_int_equal(pc_strmap_put(map, "delta", 5, 4), PC_ERANGE);

	uint32_t value = 0;
	assert_true(pc_strmap_get(map, "AcMe", 4, &value));
	assert_int_equal(value, 1);
	assert_true(pc_strmap_get(map, "beta", 4, &value));
	assert_int_equal(value, 2);
	/* Length is part of the key: a prefix is not a match. */
	assert_false(pc_strmap_get(map, "acm", 3, &value));
	assert_false(pc_strmap_get(map, "acmex", 5, &value));
	assert_false(pc_strmap_get(NULL, "acme", 4, &value));
	assert_int_equal(pc_hash_ci("ABC", 3), pc_hash_ci("abc", 3));
	pc_arena_free(arena);
}

/* pc_hash_ci is FNV-1a over the bytes with 'A'..'Z' lowered and nothing
 * else changed: its value is on the wire (the overlay's replica messages)
 * and must not move with how it is computed. Every byte value, at odd and
 * even places. */
static void test_hash_ci_value(void **state)
{
	(void)state;
	char key[4];
	for (unsigned byte = 0; byte < 256; byte++) {
		for (size_t len = 1; len <= sizeof(key); len++) {
			memset(key, 'x', sizeof(key));
			key[len - 1] = (char)byte;
			uint64_t want = 14695981039346656037ULL;
			for (size_t i = 0; i < len; i++) {
				unsigned char c = (unsigned char)key[i];
				want = (want ^ (c >= 'A' && c <= 'Z' ? c + 32u : c)) *
				       1099511628211ULL;
			}
			assert_int_equal(pc_hash_ci(key, len), want);
		}
	}
	assert_int_equal(pc_hash_ci("", 0), 14695981039346656037ULL);
}

static void test_strmap_many(void **state)
{
	(void)state;
	pc_arena *arena = pc_arena_new();
	enum { N = 5000 };
	pc_strmap *map = pc_strmap_new(arena, N);
	for (uint32_t i = 0; i < N; i++) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "server-%u", i);
		assert_int_equal(pc_strmap_put(map, pc_arena_strdup(arena, buf), (size_t)n, i),
		                 PC_OK);
	}
	for (uint32_t i = 0; i < N; i++) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "SERVER-%u", i);
		uint32_t value;
		assert_true(pc_strmap_get(map, buf, (size_t)n, &value));
		assert_int_equal(value, i);
	}
	pc_arena_free(arena);
}

/* RFC 4648 §10 vectors, lower case and unpadded. */
static void test_base32_vectors(void **state)
{
	(void)state;
	static const struct {
		const char *plain, *encoded;
	} vectors[] = {
	    {"", ""},
	    {"f", "my"},
	    {"fo", "mzxq"},
	    {"foo", "mzxw6"},
	    {"foob", "mzxw6yq"},
	    {"fooba", "mzxw6ytb"},
	    {"foobar", "mzxw6ytboi"},
	};
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char out[32];
		size_t len = strlen(vectors[i].plain);
		int n = pc_base32_encode((const uint8_t *)vectors[i].plain, len, out, sizeof(out));
		assert_int_equal(n, (int)strlen(vectors[i].encoded));
		assert_int_equal(n, PC_BASE32_LEN(len));
		assert_memory_equal(out, vectors[i].encoded, (size_t)n);

		uint8_t back[32];
		n = pc_base32_decode(vectors[i].encoded, strlen(vectors[i].encoded), back,
		                     sizeof(back));
		assert_int_equal(n, (int)len);
		assert_memory_equal(back, vectors[i].plain, len);
	}
	uint8_t back[8];
	assert_int_equal(pc_base32_decode("MZXW6", 5, back, sizeof(back)), 3);
}

static void test_base32_errors(void **state)
{
	(void)state;
	uint8_t back[16];
	char out[4];
	assert_int_equal(pc_base32_decode("mzx1", 4, back, sizeof(back)), PC_ESYNTAX);
	assert_int_equal(pc_base32_decode("mz=q", 4, back, sizeof(back)), PC_ESYNTAX);
	/* "mz" decodes to one byte with non-zero trailing bits: not canonical. */
	assert_int_equal(pc_base32_decode("mz", 2, back, sizeof(back)), PC_ESYNTAX);
	assert_int_equal(pc_base32_decode("mzxw6ytboi", 10, back, 3), PC_ESPACE);
	assert_int_equal(pc_base32_encode((const uint8_t *)"foobar", 6, out, sizeof(out)),
	                 PC_ESPACE);
}

static void test_base32_round_trip_all_lengths(void **state)
{
	(void)state;
	uint8_t data[64], back[64];
	char text[PC_BASE32_LEN(64)];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(data); len++) {
		int n = pc_base32_encode(data, len, text, sizeof(text));
		assert_int_equal(n, PC_BASE32_LEN(len));
		assert_int_equal(pc_base32_decode(text, (size_t)n, back, sizeof(back)), (int)len);
		assert_memory_equal(back, data, len);
	}
}

static char lower_byte(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The word-at-a-time lowering and compare against a byte loop, for every
 * byte value at every place of every length up to 40 (the short loop, the
 * whole words and the overlapping tail). */
static void test_ascii_every_byte_every_place(void **state)
{
	(void)state;
	char text[40], want[40], got[40];
	for (size_t len = 1; len <= sizeof(text); len++) {
		for (size_t at = 0; at < len; at++) {
			for (int b = 0; b < 256; b++) {
				for (size_t i = 0; i < len; i++)
					text[i] = (char)("Ab.-9zZ"[i % 7]);
				text[at] = (char)b;
				for (size_t i = 0; i < len; i++)
					want[i] = lower_byte(text[i]);
				pc_ascii_copy_lower(got, text, len);
				assert_memory_equal(got, want, len);
				assert_true(pc_ascii_equal_lower(text, want, len));
				/* One byte off anywhere is told apart. */
				want[at] = (char)(want[at] ^ 0x01);
				assert_false(pc_ascii_equal_lower(text, want, len));
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strerror_total),
	    cmocka_unit_test(test_errno_space),
	    cmocka_unit_test(test_arena_alignment_and_zeroing),
	    cmocka_unit_test(test_strmap_case_and_duplicates),
	    cmocka_unit_test(test_strmap_many),
	    cmocka_unit_test(test_hash_ci_value),
	    cmocka_unit_test(test_base32_vectors),
	    cmocka_unit_test(test_base32_errors),
	    cmocka_unit_test(test_base32_round_trip_all_lengths),
	    cmocka_unit_test(test_ascii_every_byte_every_place),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
