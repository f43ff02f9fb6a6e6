/* live_block: the payload of a live channel's overlay block (docs/live.md,
 * "Blocks"): a 16-byte header (version, flags, block index, segment
 * sequence number, segment duration) followed by whole TS packets. A
 * segment from the live segmenter travels as one or more blocks, in order,
 * so an edge rebuilds segments for HLS and serves progressive TS without
 * parsing TS again. Encode and strict decode; pure, no allocation. */
#ifndef PC_LIB_LIVE_BLOCK_H
#define PC_LIB_LIVE_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_LIVE_BLOCK_VERSION    1
#define PC_LIVE_BLOCK_HEADER_LEN 16
/* TS packets in one block: the block stays well inside an overlay frame
 * (PC_OVL_BODY_MAX, with the DATA header and a channel name). */
#define PC_LIVE_BLOCK_PACKETS_MAX 1024
#define PC_LIVE_BLOCK_MAX         (PC_LIVE_BLOCK_HEADER_LEN + PC_LIVE_BLOCK_PACKETS_MAX * 188)

enum pc_live_block_flag {
	PC_LIVE_SEG_START = 1u << 0,     /* the segment's first block (index 0) */
	PC_LIVE_SEG_END = 1u << 1,       /* its last: duration_ms is set */
	PC_LIVE_DISCONTINUITY = 1u << 2, /* the segment follows a discontinuity */
	PC_LIVE_END_OF_STREAM = 1u << 3, /* no segment follows */
	PC_LIVE_RANDOM_ACCESS = 1u << 4, /* the segment starts at a random-access point */
	PC_LIVE_FLAGS_ALL = 0x1f,
};

struct pc_live_block {
	unsigned flags; /* enum pc_live_block_flag */
	uint16_t index; /* within the segment, from 0 */
	uint64_t segment_seq;
	uint32_t duration_ms; /* on the SEG_END block; 0 on the others */
	const uint8_t *ts;    /* whole 188-byte packets; decode: points into the input */
	size_t ts_len;
};

/* Writes b to out[0..cap). Returns the length, PC_ESPACE, or PC_EINVAL for
 * a block the decoder would refuse. */
int pc_live_block_encode(const struct pc_live_block *b, uint8_t *out, size_t cap);

/* Decodes p[0..len) strictly: version 1; no unknown flag; SEG_START if and
 * only if index 0; DISCONTINUITY and RANDOM_ACCESS only with SEG_START;
 * duration_ms non-zero if and only if SEG_END; TS a whole number of
 * packets each starting 0x47, at most PC_LIVE_BLOCK_PACKETS_MAX. A block
 * with no packets is an end-of-stream mark alone: flags END_OF_STREAM
 * only, index 0, duration 0, segment_seq the segment that will not come.
 * Returns 0 or PC_ESYNTAX (PC_ENOTSUP for another version). */
int pc_live_block_decode(const uint8_t *p, size_t len, struct pc_live_block *b);

/* What an edge does with the next block of a channel (blocks come in
 * channel order, each once) given the one before it; prev NULL for the
 * first block it sees (a late joiner, or after a reroute). */
enum pc_live_block_step {
	PC_LIVE_STEP_CONTINUE, /* next is the following block of prev's open segment */
	PC_LIVE_STEP_START,    /* prev's segment was complete (or none); next starts one */
	PC_LIVE_STEP_ABANDON,  /* prev's segment is incomplete: drop it; next starts one */
	PC_LIVE_STEP_SKIP,     /* next starts no segment and continues none: drop it
	                        * (and prev's incomplete segment), wait for a start */
};
enum pc_live_block_step pc_live_block_step(const struct pc_live_block *prev,
                                           const struct pc_live_block *next);

#endif
