/* Unit tests of the pre-fill channel's blocks (lib/proto/prefill_block.h):
 * an object written as a run of blocks parses back to the same key, head,
 * meta and body; the header is the documented bytes; every rule a block
 * must keep is refused on both sides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/err.h"
#include "lib/proto/prefill_block.h"

static const char KEY[] = "www.abc.com/big.iso?x=1";
static const char HEAD[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
static const uint8_t META[5] = {1, 2, 3, 4, 5};

static struct pc_prefill_block first_block(const char *chunk, size_t chunk_len, uint64_t total)
{
	return (struct pc_prefill_block){
	    .flags = PC_PREFILL_FIRST | (chunk_len == total ? PC_PREFILL_LAST : 0),
	    .key = KEY,
	    .key_len = sizeof(KEY) - 1,
	    .head = HEAD,
	    .head_len = sizeof(HEAD) - 1,
	    .meta = META,
	    .meta_len = sizeof(META),
	    .total = total,
	    .chunk = chunk,
	    .chunk_len = chunk_len,
	};
}

/* Writes b with its chunk after the header; returns the block's length. */
static size_t write_block(const struct pc_prefill_block *b, uint8_t *out, size_t size)
{
	int n = pc_prefill_block_write(b, out, size);
	assert_true(n > 0);
	memcpy(out + n, b->chunk, b->chunk_len);
	return (size_t)n + b->chunk_len;
}

static void test_header_bytes(void **state)
{
	(void)state;
	uint8_t out[256];
	struct pc_prefill_block b = first_block("0123456789", 10, 10);
	size_t len = write_block(&b, out, sizeof(out));
	assert_int_equal(len, PC_PREFILL_HEADER + b.key_len + b.head_len + b.meta_len + 10);
	const uint8_t want[PC_PREFILL_HEADER] = {'P', 'F', 1, PC_PREFILL_FIRST | PC_PREFILL_LAST,
	                                         0,   0,   0, sizeof(KEY) - 1,
	                                         0,   0,   0, sizeof(HEAD) - 1,
	                                         0,   0,   0, sizeof(META),
	                                         0,   0,   0, 0,
	                                         0,   0,   0, 10,
	                                         0,   0,   0, 0,
	                                         0,   0,   0, 0};
	assert_memory_equal(out, want, sizeof(want));
	assert_memory_equal(out + PC_PREFILL_HEADER, KEY, sizeof(KEY) - 1);
}

static void test_object_round_trip(void **state)
{
	(void)state;
	char body[1000];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (char)(i * 7);
	uint8_t buf[512];
	char rebuilt[sizeof(body)];
	size_t offset = 0, blocks = 0;
	while (offset < sizeof(body) || blocks == 0) {
		bool first = blocks == 0;
		size_t fixed = PC_PREFILL_HEADER + sizeof(KEY) - 1 +
		               (first ? sizeof(HEAD) - 1 + sizeof(META) : 0);
		size_t chunk = sizeof(body) - offset < sizeof(buf) - fixed ? sizeof(body) - offset
		                                                           : sizeof(buf) - fixed;
		struct pc_prefill_block b = {
		    .flags = (uint8_t)((first ? PC_PREFILL_FIRST : 0) |
		                       (offset + chunk == sizeof(body) ? PC_PREFILL_LAST : 0)),
		    .key = KEY,
		    .key_len = sizeof(KEY) - 1,
		    .head = first ? HEAD : NULL,
		    .head_len = first ? sizeof(HEAD) - 1 : 0,
		    .meta = first ? META : NULL,
		    .meta_len = first ? sizeof(META) : 0,
		    .total = sizeof(body),
		    .offset = offset,
		    .chunk = body + offset,
		    .chunk_len = chunk,
		};
		size_t len = write_block(&b, buf, sizeof(buf));
		struct pc_prefill_block got;
		assert_int_equal(pc_prefill_block_parse(buf, len, 8192, &got), 0);
		assert_int_equal(got.flags, b.flags);
		assert_int_equal(got.key_len, b.key_len);
		assert_memory_equal(got.key, KEY, got.key_len);
		assert_int_equal(got.head_len, b.head_len);
		assert_int_equal(got.meta_len, b.meta_len);
		if (first) {
			assert_memory_equal(got.head, HEAD, got.head_len);
			assert_memory_equal(got.meta, META, got.meta_len);
		}
		assert_int_equal(got.total, sizeof(body));
		assert_int_equal(got.offset, offset);
		memcpy(rebuilt + offset, got.chunk, got.chunk_len);
		offset += got.chunk_len;
		blocks++;
	}
	assert_int_equal(blocks, 3);
	assert_memory_equal(rebuilt, body, sizeof(body));
}

static void test_empty_object_is_one_block(void **state)
{
	(void)state;
	uint8_t out[256];
	struct pc_prefill_block b = first_block("", 0, 0);
	assert_int_equal(b.flags, PC_PREFILL_FIRST | PC_PREFILL_LAST);
	size_t len = write_block(&b, out, sizeof(out));
	struct pc_prefill_block got;
	assert_int_equal(pc_prefill_block_parse(out, len, 8192, &got), 0);
	assert_int_equal(got.chunk_len, 0);
	b.flags = PC_PREFILL_FIRST; /* not LAST, though it ends the body */
	assert_int_equal(pc_prefill_block_write(&b, out, sizeof(out)), PC_EINVAL);
}

static void test_writer_refuses(void **state)
{
	(void)state;
	uint8_t out[256];
	struct pc_prefill_block b = first_block("0123456789", 10, 10);
	assert_int_equal(pc_prefill_block_write(&b, out, 80), PC_ESPACE); /* no room for it */
	b.key_len = 0;
	assert_int_equal(pc_prefill_block_write(&b, out, sizeof(out)), PC_EINVAL);
	b = first_block("0123456789", 10, 20);
	assert_true(pc_prefill_block_write(&b, out, sizeof(out)) > 0);
	b.flags |= PC_PREFILL_LAST; /* LAST on a chunk short of the end */
	assert_int_equal(pc_prefill_block_write(&b, out, sizeof(out)), PC_EINVAL);
	b = first_block("0123456789", 10, 5); /* a chunk past the end */
	assert_int_equal(pc_prefill_block_write(&b, out, sizeof(out)), PC_EINVAL);
	b = first_block("0123456789", 10, 20);
	b.flags = PC_PREFILL_LAST; /* a head outside a first block */
	b.offset = 10;
	assert_int_equal(pc_prefill_block_write(&b, out, sizeof(out)), PC_EINVAL);
	b = first_block("0123456789", 10, 20);
	b.flags = PC_PREFILL_FIRST | PC_PREFILL_LAST;
	b.offset = 10; /* a first block not at 0 */
	assert_int_equal(pc_prefill_block_write(&b, out, sizeof(out)), PC_EINVAL);
}

static void test_parser_refuses(void **state)
{
	(void)state;
	uint8_t out[256];
	struct pc_prefill_block b = first_block("0123456789", 10, 10), got;
	size_t len = write_block(&b, out, sizeof(out));
	assert_int_equal(pc_prefill_block_parse(out, PC_PREFILL_HEADER - 1, 8192, &got),
	                 PC_ESYNTAX);
	assert_int_equal(pc_prefill_block_parse(out, len, sizeof(KEY) - 2, &got), PC_ESYNTAX);
	/* Cut short: the chunk no longer ends the body, yet says LAST. */
	assert_int_equal(pc_prefill_block_parse(out, len - 1, 8192, &got), PC_ESYNTAX);
	/* Cut inside the key. */
	assert_int_equal(pc_prefill_block_parse(out, PC_PREFILL_HEADER + 3, 8192, &got),
	                 PC_ESYNTAX);
	uint8_t bad[256];
	memcpy(bad, out, len);
	bad[2] = 2;
	assert_int_equal(pc_prefill_block_parse(bad, len, 8192, &got), PC_ENOTSUP);
	memcpy(bad, out, len);
	bad[0] = 'X';
	assert_int_equal(pc_prefill_block_parse(bad, len, 8192, &got), PC_ESYNTAX);
	memcpy(bad, out, len);
	bad[3] |= 4; /* an unknown flag */
	assert_int_equal(pc_prefill_block_parse(bad, len, 8192, &got), PC_ESYNTAX);
	memcpy(bad, out, len);
	bad[4] = 0xff; /* a key longer than the block */
	assert_int_equal(pc_prefill_block_parse(bad, len, UINT32_MAX, &got), PC_ESYNTAX);
	memcpy(bad, out, len);
	bad[3] = PC_PREFILL_LAST; /* head and meta in a block that is not first */
	assert_int_equal(pc_prefill_block_parse(bad, len, 8192, &got), PC_ESYNTAX);
	memset(bad + 16, 0xff, 8); /* total 2^64 - 1 and offset 0: LAST, short of the end */
	bad[3] = PC_PREFILL_FIRST | PC_PREFILL_LAST;
	assert_int_equal(pc_prefill_block_parse(bad, len, 8192, &got), PC_ESYNTAX);
	memcpy(bad, out, len);
	memset(bad + 24, 0xff, 8); /* an offset past the total */
	assert_int_equal(pc_prefill_block_parse(bad, len, 8192, &got), PC_ESYNTAX);
	assert_int_equal(pc_prefill_block_parse(out, len, 8192, &got), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_bytes),
	    cmocka_unit_test(test_object_round_trip),
	    cmocka_unit_test(test_empty_object_is_one_block),
	    cmocka_unit_test(test_writer_refuses),
	    cmocka_unit_test(test_parser_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
