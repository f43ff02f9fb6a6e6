/* live_block: a live channel's overlay block payload (see live_block.h and
 * docs/live.md). All fields big-endian. */
#include "lib/proto/live_block.h"

#include <string.h>

#include "lib/base/err.h"

#define TS_PACKET 188

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* The rules the decoder enforces on the fields, shared with the encoder so
 * that nothing encoded is refused. */
static bool fields_ok(const struct pc_live_block *b)
{
	if (b->flags & ~(unsigned)PC_LIVE_FLAGS_ALL)
		return false;
	/* a block without packets only says the stream ended after the
	 * segment before segment_seq */
	if (b->ts_len == 0)
		return b->flags == PC_LIVE_END_OF_STREAM && b->index == 0 && b->duration_ms == 0;
	if (((b->flags & PC_LIVE_SEG_START) != 0) != (b->index == 0))
		return false;
	if ((b->flags & (PC_LIVE_DISCONTINUITY | PC_LIVE_RANDOM_ACCESS)) &&
	    !(b->flags & PC_LIVE_SEG_START))
		return false;
	if (((b->flags & PC_LIVE_SEG_END) != 0) != (b->duration_ms != 0))
		return false;
	if (b->ts_len % TS_PACKET != 0 || b->ts_len / TS_PACKET > PC_LIVE_BLOCK_PACKETS_MAX)
		return false;
	for (size_t off = 0; off < b->ts_len; off += TS_PACKET)
		if (b->ts[off] != 0x47)
			return false;
	return true;
}

int pc_live_block_encode(const struct pc_live_block *b, uint8_t *out, size_t cap)
{
	if (!fields_ok(b))
		return PC_EINVAL;
	size_t len = PC_LIVE_BLOCK_HEADER_LEN + b->ts_len;
	if (len > cap)
		return PC_ESPACE;
	out[0] = PC_LIVE_BLOCK_VERSION;
	out[1] = (uint8_t)b->flags;
	put16(out + 2, b->index);
	put64(out + 4, b->segment_seq);
	put32(out + 12, b->duration_ms);
	if (b->ts_len)
		memcpy(out + PC_LIVE_BLOCK_HEADER_LEN, b->ts, b->ts_len);
	return (int)len;
}

int pc_live_block_decode(const uint8_t *p, size_t len, struct pc_live_block *b)
{
	memset(b, 0, sizeof(*b));
	if (len < PC_LIVE_BLOCK_HEADER_LEN)
		return PC_ESYNTAX;
	if (p[0] != PC_LIVE_BLOCK_VERSION)
		return PC_ENOTSUP;
	b->flags = p[1];
	b->index = get16(p + 2);
	b->segment_seq = get64(p + 4);
	b->duration_ms = get32(p + 12);
	b->ts = p + PC_LIVE_BLOCK_HEADER_LEN;
	b->ts_len = len - PC_LIVE_BLOCK_HEADER_LEN;
	return fields_ok(b) ? 0 : PC_ESYNTAX;
}

enum pc_live_block_step pc_live_block_step(const struct pc_live_block *prev,
                                           const struct pc_live_block *next)
{
	bool open = prev != NULL && prev->ts_len > 0 && !(prev->flags & PC_LIVE_SEG_END);
	if (next->flags & PC_LIVE_SEG_START)
		return open ? PC_LIVE_STEP_ABANDON : PC_LIVE_STEP_START;
	if (open && next->ts_len > 0 && next->segment_seq == prev->segment_seq &&
	    next->index == prev->index + 1)
		return PC_LIVE_STEP_CONTINUE;
	return PC_LIVE_STEP_SKIP;
}
