/* prefill_block: the pre-fill channel's block codec. See prefill_block.h. */
#include "lib/proto/prefill_block.h"

#include <stdbool.h>
#include <string.h>

#include "lib/base/err.h"

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* The rules both ends keep: a first block alone carries head and meta; a
 * chunk lies inside the body; LAST exactly when the chunk ends it. */
static bool consistent(const struct pc_prefill_block *b)
{
	if (b->key_len == 0)
		return false;
	if (!(b->flags & PC_PREFILL_FIRST) && (b->head_len != 0 || b->meta_len != 0))
		return false;
	if ((b->flags & PC_PREFILL_FIRST) && b->offset != 0)
		return false;
	if (b->offset > b->total || b->chunk_len > b->total - b->offset)
		return false;
	bool ends = b->offset + b->chunk_len == b->total;
	return ends == ((b->flags & PC_PREFILL_LAST) != 0);
}

int pc_prefill_block_write(const struct pc_prefill_block *b, uint8_t *out, size_t size)
{
	if (!consistent(b) || (b->flags & ~(PC_PREFILL_FIRST | PC_PREFILL_LAST)) != 0)
		return PC_EINVAL;
	size_t fixed = PC_PREFILL_HEADER + (size_t)b->key_len + b->head_len + b->meta_len;
	if (size < fixed || size - fixed < b->chunk_len || fixed > (size_t)INT32_MAX)
		return PC_ESPACE;
	out[0] = 'P';
	out[1] = 'F';
	out[2] = PC_PREFILL_VERSION;
	out[3] = b->flags;
	put32(out + 4, b->key_len);
	put32(out + 8, b->head_len);
	put32(out + 12, b->meta_len);
	put64(out + 16, b->total);
	put64(out + 24, b->offset);
	uint8_t *at = out + PC_PREFILL_HEADER;
	memcpy(at, b->key, b->key_len);
	at += b->key_len;
	if (b->head_len > 0)
		memcpy(at, b->head, b->head_len);
	at += b->head_len;
	if (b->meta_len > 0)
		memcpy(at, b->meta, b->meta_len);
	return (int)fixed;
}

int pc_prefill_block_parse(const uint8_t *p, size_t len, size_t key_max,
                           struct pc_prefill_block *out)
{
	if (len < PC_PREFILL_HEADER || p[0] != 'P' || p[1] != 'F')
		return PC_ESYNTAX;
	if (p[2] != PC_PREFILL_VERSION)
		return PC_ENOTSUP;
	struct pc_prefill_block b = {
	    .flags = p[3],
	    .key_len = (uint32_t)get(p + 4, 4),
	    .head_len = (uint32_t)get(p + 8, 4),
	    .meta_len = (uint32_t)get(p + 12, 4),
	    .total = get(p + 16, 8),
	    .offset = get(p + 24, 8),
	};
	uint64_t fixed = (uint64_t)b.key_len + b.head_len + b.meta_len;
	if ((b.flags & ~(PC_PREFILL_FIRST | PC_PREFILL_LAST)) != 0 || b.key_len > key_max ||
	    fixed > len - PC_PREFILL_HEADER)
		return PC_ESYNTAX;
	b.key = (const char *)p + PC_PREFILL_HEADER;
	b.head = b.key + b.key_len;
	b.meta = b.head + b.head_len;
	b.chunk = b.head + b.head_len + b.meta_len;
	b.chunk_len = len - PC_PREFILL_HEADER - (size_t)fixed;
	if (!consistent(&b))
		return PC_ESYNTAX;
	*out = b;
	return 0;
}
