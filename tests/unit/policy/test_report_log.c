/* Unit tests of lib/policy/report_log (the report store's frames) and
 * lib/base/crc32c: a frame round-trips; a torn tail, a flipped bit, garbage
 * between frames and a rotated store's segments are read whole or skipped
 * and counted, never read as a record; the field and time readers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/crc32c.h"
#include "lib/base/err.h"
#include "lib/policy/report_log.h"

static const char line1[] = "ts=2026-11-25T10:00:00.123Z provider=abc client=127.2.0.0/24 "
                            "as=200 object=ad102 service=web branch=PEER cdn=beta "
                            "server=beta-s1 agreement=acme-beta reason=PEER flags=-";
static const char line2[] = "ts=2026-11-25T10:00:01.000Z provider=abc client=127.3.0.0/24 "
                            "as=300 object=chan4 service=tv branch=OUTSIDE cdn=acme "
                            "server=acme-s1 agreement=- reason=NO_AGREEMENT flags=-";

static size_t put(uint8_t *out, size_t size, const char *origin, uint64_t serial, const char *line)
{
	struct pc_report_record rec = {origin, strlen(origin), serial, line, strlen(line)};
	int n = pc_report_frame_write(&rec, out, size);
	assert_true(n > 0);
	return (size_t)n;
}

static void test_crc32c_check_value(void **state)
{
	(void)state;
	/* RFC 3720 B.4 and every CRC-32C implementation's check value. */
	assert_int_equal(pc_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(pc_crc32c(pc_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
	uint8_t zeros[32] = {0};
	assert_int_equal(pc_crc32c(0, zeros, 32), 0x8A9136AAu);
}

static void test_round_trip(void **state)
{
	(void)state;
	uint8_t buf[2 * PC_REPORT_FRAME_MAX];
	size_t a = put(buf, sizeof(buf), "acme-n1", 7, line1);
	assert_int_equal(a, PC_REPORT_FRAME_HEAD + 9 + 7 + strlen(line1));
	assert_memory_equal(buf, "PCR1", 4);
	size_t b = put(buf + a, sizeof(buf) - a, "beta-n1", (uint64_t)1 << 40, line2);
	struct pc_report_reader r;
	pc_report_reader_init(&r, buf, a + b);
	struct pc_report_record rec;
	assert_int_equal(pc_report_reader_next(&r, &rec), PC_OK);
	assert_int_equal(rec.serial, 7);
	assert_int_equal(rec.origin_len, 7);
	assert_memory_equal(rec.origin, "acme-n1", 7);
	assert_int_equal(rec.line_len, strlen(line1));
	assert_memory_equal(rec.line, line1, rec.line_len);
	assert_int_equal(pc_report_reader_next(&r, &rec), PC_OK);
	assert_true(rec.serial == (uint64_t)1 << 40);
	assert_memory_equal(rec.line, line2, rec.line_len);
	assert_int_equal(pc_report_reader_next(&r, &rec), PC_ENOENT);
	assert_int_equal(r.good_end, a + b);
	assert_int_equal(r.bad, 0);
}

static void test_write_rejects(void **state)
{
	(void)state;
	uint8_t buf[PC_REPORT_FRAME_MAX];
	struct pc_report_record rec = {"n", 1, 1, "a\nb", 3};
	assert_int_equal(pc_report_frame_write(&rec, buf, sizeof(buf)), PC_EINVAL); /* newline */
	rec = (struct pc_report_record){"", 0, 1, "x", 1};
	assert_int_equal(pc_report_frame_write(&rec, buf, sizeof(buf)), PC_EINVAL);
	rec = (struct pc_report_record){"n", 1, 1, "", 0};
	assert_int_equal(pc_report_frame_write(&rec, buf, sizeof(buf)), PC_EINVAL);
	char big[PC_REPORT_LINE_MAX + 1];
	memset(big, 'x', sizeof(big));
	rec = (struct pc_report_record){"n", 1, 1, big, sizeof(big)};
	assert_int_equal(pc_report_frame_write(&rec, buf, sizeof(buf)), PC_EINVAL);
	rec = (struct pc_report_record){"n", 1, 1, "x", 1};
	assert_int_equal(pc_report_frame_write(&rec, buf, 20), PC_ESPACE);
}

/* Every cut of the last frame is a torn tail: the first stays, good_end
 * says where to truncate, and the rest is one bad run. */
static void test_torn_tail_at_every_length(void **state)
{
	(void)state;
	uint8_t buf[2 * PC_REPORT_FRAME_MAX];
	size_t a = put(buf, sizeof(buf), "acme-n1", 1, line1);
	size_t b = put(buf + a, sizeof(buf) - a, "acme-n1", 2, line2);
	for (size_t cut = 1; cut < b; cut++) {
		struct pc_report_reader r;
		pc_report_reader_init(&r, buf, a + cut);
		struct pc_report_record rec;
		assert_int_equal(pc_report_reader_next(&r, &rec), PC_OK);
		assert_int_equal(rec.serial, 1);
		assert_int_equal(pc_report_reader_next(&r, &rec), PC_ENOENT);
		assert_int_equal(r.good_end, a);
		assert_int_equal(r.bad, 1);
	}
}

/* A flipped bit anywhere in a frame loses that frame only: the reader
 * finds the next one. */
static void test_bad_checksum_skips_one_frame(void **state)
{
	(void)state;
	uint8_t buf[3 * PC_REPORT_FRAME_MAX];
	size_t a = put(buf, sizeof(buf), "n1", 1, line1);
	size_t b = put(buf + a, sizeof(buf) - a, "n1", 2, line2);
	size_t c = put(buf + a + b, sizeof(buf) - a - b, "n1", 3, line1);
	for (size_t at = 0; at < b; at++) {
		for (unsigned bit = 0; bit < 8; bit += 3) {
			buf[a + at] ^= (uint8_t)(1u << bit);
			struct pc_report_reader r;
			pc_report_reader_init(&r, buf, a + b + c);
			struct pc_report_record rec;
			uint64_t serials[3];
			unsigned n = 0;
			while (pc_report_reader_next(&r, &rec) == PC_OK && n < 3)
				serials[n++] = rec.serial;
			assert_int_equal(n, 2);
			assert_int_equal(serials[0], 1);
			assert_int_equal(serials[1], 3);
			assert_int_equal(r.bad, 1);
			assert_int_equal(r.good_end, a + b + c);
			buf[a + at] ^= (uint8_t)(1u << bit);
		}
	}
}

static void test_garbage_between_and_before(void **state)
{
	(void)state;
	uint8_t buf[3 * PC_REPORT_FRAME_MAX];
	size_t n = 0;
	memcpy(buf, "PCR1junkPCR", 11); /* a false magic, and half of one */
	n = 11;
	n += put(buf + n, sizeof(buf) - n, "n1", 1, line1);
	memset(buf + n, 0, 100);
	n += 100;
	n += put(buf + n, sizeof(buf) - n, "n1", 2, line2);
	struct pc_report_reader r;
	pc_report_reader_init(&r, buf, n);
	struct pc_report_record rec;
	assert_int_equal(pc_report_reader_next(&r, &rec), PC_OK);
	assert_int_equal(rec.serial, 1);
	assert_int_equal(pc_report_reader_next(&r, &rec), PC_OK);
	assert_int_equal(rec.serial, 2);
	assert_int_equal(pc_report_reader_next(&r, &rec), PC_ENOENT);
	assert_int_equal(r.bad, 2);
	assert_int_equal(r.good_end, n);
	pc_report_reader_init(&r, NULL, 0);
	assert_int_equal(pc_report_reader_next(&r, &rec), PC_ENOENT);
}

/* Rotation: a store cut into segments anywhere between frames reads as
 * the same records in the same order, each segment on its own. */
static void test_segments_read_alone(void **state)
{
	(void)state;
	enum { N = 20 };
	uint8_t buf[N * 300];
	size_t ends[N], n = 0;
	for (unsigned i = 0; i < N; i++) {
		n += put(buf + n, sizeof(buf) - n, "n1", i + 1, i % 2 ? line1 : line2);
		ends[i] = n;
	}
	for (unsigned split = 0; split < N - 1; split++) {
		uint64_t next = 1;
		size_t from[2] = {0, ends[split]}, to[2] = {ends[split], n};
		for (int s = 0; s < 2; s++) {
			struct pc_report_reader r;
			pc_report_reader_init(&r, buf + from[s], to[s] - from[s]);
			struct pc_report_record rec;
			while (pc_report_reader_next(&r, &rec) == PC_OK)
				assert_int_equal(rec.serial, next++);
			assert_int_equal(r.bad, 0);
		}
		assert_int_equal(next, N + 1);
	}
}

static void test_fields_and_time(void **state)
{
	(void)state;
	const char *v;
	size_t len;
	assert_true(pc_report_field(line1, strlen(line1), "agreement", &v, &len));
	assert_int_equal(len, 9);
	assert_memory_equal(v, "acme-beta", 9);
	assert_true(pc_report_field(line1, strlen(line1), "flags", &v, &len));
	assert_int_equal(len, 1);
	assert_false(pc_report_field(line1, strlen(line1), "agree", &v, &len));
	assert_false(pc_report_field(line1, strlen(line1), "missing", &v, &len));
	uint64_t ms;
	assert_int_equal(pc_report_time_parse("1970-01-01T00:00:00.000Z", 24, &ms), PC_OK);
	assert_int_equal(ms, 0);
	assert_int_equal(pc_report_time_parse("2026-11-25T10:00:00.123Z", 24, &ms), PC_OK);
	assert_int_equal(ms, 1795600800123ull);
	assert_int_equal(pc_report_time_parse("2026-11-25", 10, &ms), PC_OK);
	assert_int_equal(ms, 1795564800000ull);
	assert_int_equal(pc_report_time_parse("2026-11-25T10:00Z", 17, &ms), PC_OK);
	assert_int_equal(pc_report_time_parse("2026-13-25", 10, &ms), PC_ESYNTAX);
	assert_int_equal(pc_report_time_parse("2026-11-25T10:00:00.123Zx", 25, &ms), PC_ESYNTAX);
	assert_int_equal(pc_report_time_parse("yesterday", 9, &ms), PC_ESYNTAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32c_check_value),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_write_rejects),
	    cmocka_unit_test(test_torn_tail_at_every_length),
	    cmocka_unit_test(test_bad_checksum_skips_one_frame),
	    cmocka_unit_test(test_garbage_between_and_before),
	    cmocka_unit_test(test_segments_read_alone),
	    cmocka_unit_test(test_fields_and_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
