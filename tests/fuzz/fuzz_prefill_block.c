/* libFuzzer target: the pre-fill channel's blocks (pc_prefill_block_parse),
 * which arrive from other routers. Besides not crashing or reading past the
 * input: a block that parses keeps every rule (spans inside the input and
 * in order, the chunk inside the body, LAST exactly at its end, head and
 * meta only in a first block), and writing it again gives the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/proto/prefill_block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_prefill_block b;
	if (pc_prefill_block_parse(data, size, 8448, &b) != 0)
		return 0;
	const char *start = (const char *)data, *end = start + size;
	if (b.key != start + PC_PREFILL_HEADER || b.key_len == 0 || b.key_len > 8448 ||
	    b.head != b.key + b.key_len || (const char *)b.meta != b.head + b.head_len ||
	    b.chunk != (const char *)b.meta + b.meta_len || b.chunk + b.chunk_len != end)
		abort();
	if (b.offset > b.total || b.chunk_len > b.total - b.offset ||
	    (b.offset + b.chunk_len == b.total) != ((b.flags & PC_PREFILL_LAST) != 0) ||
	    (!(b.flags & PC_PREFILL_FIRST) && (b.head_len || b.meta_len)))
		abort();
	uint8_t *again = malloc(size);
	if (again == NULL)
		return 0;
	int n = pc_prefill_block_write(&b, again, size);
	if (n <= 0 || (size_t)n + b.chunk_len != size || memcmp(again, data, (size_t)n) != 0)
		abort();
	free(again);
	return 0;
}
