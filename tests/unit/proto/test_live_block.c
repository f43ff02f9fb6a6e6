/* Unit tests of a live channel's overlay block (lib/proto/live_block.h):
 * the hex examples of docs/live.md, read from the document itself so that
 * it cannot drift; round trips; and every rule of the strict decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/err.h"
#include "doc_example.h"
#include "lib/proto/live_block.h"

#define DOC_PATH PC_FIXTURES_DIR "/../../docs/live.md"

/* The PAT packet of the docs' examples (ffmpeg's, program 1, PMT 0x1000). */
static void pat_packet(uint8_t pkt[188])
{
	static const uint8_t head[] = {0x47, 0x40, 0x00, 0x10, 0x00, 0x00, 0xb0,
	                               0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00,
	                               0x01, 0xf0, 0x00, 0x2a, 0xb1, 0x04, 0xb2};
	memset(pkt, 0xff, 188);
	memcpy(pkt, head, sizeof(head));
}

static void check_doc(const char *name, const struct pc_live_block *want)
{
	uint8_t doc[512], out[512];
	size_t len = doc_example(DOC_PATH, name, doc, sizeof(doc));
	struct pc_live_block b;
	assert_int_equal(pc_live_block_decode(doc, len, &b), 0);
	assert_int_equal(b.flags, want->flags);
	assert_int_equal(b.index, want->index);
	assert_int_equal(b.segment_seq, want->segment_seq);
	assert_int_equal(b.duration_ms, want->duration_ms);
	assert_int_equal(b.ts_len, want->ts_len);
	if (want->ts_len)
		assert_memory_equal(b.ts, want->ts, want->ts_len);
	int n = pc_live_block_encode(want, out, sizeof(out));
	assert_int_equal(n, (int)len);
	assert_memory_equal(out, doc, len);
}

static void test_doc_examples(void **state)
{
	(void)state;
	uint8_t pat[188];
	pat_packet(pat);
	struct pc_live_block first = {.flags = PC_LIVE_SEG_START | PC_LIVE_RANDOM_ACCESS,
	                              .segment_seq = 42,
	                              .ts = pat,
	                              .ts_len = 188};
	check_doc("first", &first);
	struct pc_live_block last = {.flags = PC_LIVE_SEG_END | PC_LIVE_END_OF_STREAM,
	                             .index = 3,
	                             .segment_seq = 42,
	                             .duration_ms = 2000,
	                             .ts = pat,
	                             .ts_len = 188};
	check_doc("last", &last);
	struct pc_live_block eos = {.flags = PC_LIVE_END_OF_STREAM, .segment_seq = 43};
	check_doc("eos", &eos);
}

static void test_round_trip_many_packets(void **state)
{
	(void)state;
	static uint8_t ts[PC_LIVE_BLOCK_PACKETS_MAX * 188], out[PC_LIVE_BLOCK_MAX + 188];
	for (size_t i = 0; i < sizeof(ts); i++)
		ts[i] = (uint8_t)(i % 188 == 0 ? 0x47 : i * 7);
	struct pc_live_block b = {.flags =
	                              PC_LIVE_SEG_START | PC_LIVE_SEG_END | PC_LIVE_DISCONTINUITY,
	                          .segment_seq = UINT64_MAX,
	                          .duration_ms = UINT32_MAX,
	                          .ts = ts,
	                          .ts_len = sizeof(ts)};
	int n = pc_live_block_encode(&b, out, sizeof(out));
	assert_int_equal(n, PC_LIVE_BLOCK_MAX);
	struct pc_live_block d;
	assert_int_equal(pc_live_block_decode(out, (size_t)n, &d), 0);
	assert_int_equal(d.flags, b.flags);
	assert_true(d.segment_seq == UINT64_MAX);
	assert_true(d.duration_ms == UINT32_MAX);
	assert_ptr_equal(d.ts, out + PC_LIVE_BLOCK_HEADER_LEN);
	assert_memory_equal(d.ts, ts, sizeof(ts));
	/* one packet more is over the limit, both ways */
	memcpy(out + n, ts, 188);
	assert_int_equal(pc_live_block_decode(out, (size_t)n + 188, &d), PC_ESYNTAX);
	assert_int_equal(pc_live_block_encode(&b, out, (size_t)n - 1), PC_ESPACE);
}

/* Each rule of the decoder, on a header made from a good one. */
static void test_strict_decode(void **state)
{
	(void)state;
	uint8_t pat[188], good[16 + 188], bad[16 + 188 + 1];
	pat_packet(pat);
	struct pc_live_block b = {
	    .flags = PC_LIVE_SEG_START, .segment_seq = 7, .ts = pat, .ts_len = 188};
	assert_int_equal(pc_live_block_encode(&b, good, sizeof(good)), (int)sizeof(good));
	struct pc_live_block d;
	assert_int_equal(pc_live_block_decode(good, sizeof(good), &d), 0);
	for (size_t len = 0; len < PC_LIVE_BLOCK_HEADER_LEN; len++)
		assert_int_equal(pc_live_block_decode(good, len, &d), PC_ESYNTAX);
	/* a partial packet */
	assert_int_equal(pc_live_block_decode(good, sizeof(good) - 1, &d), PC_ESYNTAX);
	memcpy(bad, good, sizeof(good));
	bad[sizeof(good)] = 0x47;
	assert_int_equal(pc_live_block_decode(bad, sizeof(good) + 1, &d), PC_ESYNTAX);

	struct {
		size_t off;
		uint8_t value;
		int rc;
	} cases[] = {
	    {0, 2, PC_ENOTSUP},                            /* version */
	    {0, 0, PC_ENOTSUP},     {1, 0x20, PC_ESYNTAX}, /* unknown flag */
	    {1, 0x00, PC_ESYNTAX},                         /* index 0 without segment start */
	    {1, 0x05, 0},                                  /* start with discontinuity */
	    {1, 0x03, PC_ESYNTAX},                         /* end without a duration */
	    {3, 1, PC_ESYNTAX},                            /* start with index 1 */
	    {15, 1, PC_ESYNTAX},                           /* duration without end */
	    {16, 0x46, PC_ESYNTAX},                        /* packet without sync */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bad, good, sizeof(good));
		bad[cases[i].off] = cases[i].value;
		assert_int_equal(pc_live_block_decode(bad, sizeof(good), &d), cases[i].rc);
	}
	/* discontinuity or random access on a later block */
	memcpy(bad, good, sizeof(good));
	bad[1] = 0x04;
	bad[3] = 2;
	assert_int_equal(pc_live_block_decode(bad, sizeof(good), &d), PC_ESYNTAX);
	bad[1] = 0x10;
	assert_int_equal(pc_live_block_decode(bad, sizeof(good), &d), PC_ESYNTAX);
	bad[1] = 0x00;
	assert_int_equal(pc_live_block_decode(bad, sizeof(good), &d), 0);
	assert_int_equal(d.index, 2);
	/* an empty block is an end-of-stream mark alone */
	memcpy(bad, good, 16);
	assert_int_equal(pc_live_block_decode(bad, 16, &d), PC_ESYNTAX);
	bad[1] = 0x08;
	assert_int_equal(pc_live_block_decode(bad, 16, &d), 0);
	bad[1] = 0x0a;
	bad[15] = 1;
	assert_int_equal(pc_live_block_decode(bad, 16, &d), PC_ESYNTAX);

	/* the encoder refuses what the decoder would */
	uint8_t out[512];
	struct pc_live_block e = b;
	e.index = 1;
	assert_int_equal(pc_live_block_encode(&e, out, sizeof(out)), PC_EINVAL);
	e = b;
	e.duration_ms = 5;
	assert_int_equal(pc_live_block_encode(&e, out, sizeof(out)), PC_EINVAL);
	e = b;
	e.ts_len = 100;
	assert_int_equal(pc_live_block_encode(&e, out, sizeof(out)), PC_EINVAL);
	e = b;
	e.flags |= 0x80;
	assert_int_equal(pc_live_block_encode(&e, out, sizeof(out)), PC_EINVAL);
}

static void test_step(void **state)
{
	(void)state;
	uint8_t pat[188];
	pat_packet(pat);
	struct pc_live_block start = {
	    .flags = PC_LIVE_SEG_START, .segment_seq = 5, .ts = pat, .ts_len = 188};
	struct pc_live_block mid = {.index = 1, .segment_seq = 5, .ts = pat, .ts_len = 188};
	struct pc_live_block end = {.flags = PC_LIVE_SEG_END,
	                            .index = 2,
	                            .segment_seq = 5,
	                            .duration_ms = 1000,
	                            .ts = pat,
	                            .ts_len = 188};
	struct pc_live_block whole = {.flags = PC_LIVE_SEG_START | PC_LIVE_SEG_END,
	                              .segment_seq = 6,
	                              .duration_ms = 1000,
	                              .ts = pat,
	                              .ts_len = 188};
	struct pc_live_block eos = {.flags = PC_LIVE_END_OF_STREAM, .segment_seq = 7};
	/* a late joiner waits for a segment's start */
	assert_int_equal(pc_live_block_step(NULL, &mid), PC_LIVE_STEP_SKIP);
	assert_int_equal(pc_live_block_step(NULL, &end), PC_LIVE_STEP_SKIP);
	assert_int_equal(pc_live_block_step(NULL, &start), PC_LIVE_STEP_START);
	assert_int_equal(pc_live_block_step(&start, &mid), PC_LIVE_STEP_CONTINUE);
	assert_int_equal(pc_live_block_step(&mid, &end), PC_LIVE_STEP_CONTINUE);
	assert_int_equal(pc_live_block_step(&end, &whole), PC_LIVE_STEP_START);
	assert_int_equal(pc_live_block_step(&whole, &eos), PC_LIVE_STEP_SKIP);
	assert_int_equal(pc_live_block_step(&eos, &start), PC_LIVE_STEP_START);
	/* a missing block, or another segment's, breaks the open one */
	assert_int_equal(pc_live_block_step(&start, &end), PC_LIVE_STEP_SKIP);
	assert_int_equal(pc_live_block_step(&start, &whole), PC_LIVE_STEP_ABANDON);
	mid.segment_seq = 4;
	assert_int_equal(pc_live_block_step(&start, &mid), PC_LIVE_STEP_SKIP);
	/* after a complete segment, only a start */
	mid.segment_seq = 6;
	assert_int_equal(pc_live_block_step(&end, &mid), PC_LIVE_STEP_SKIP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_doc_examples),
	    cmocka_unit_test(test_round_trip_many_packets),
	    cmocka_unit_test(test_strict_decode),
	    cmocka_unit_test(test_step),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
