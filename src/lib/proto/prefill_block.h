/* prefill_block: the blocks of the pre-fill channel (docs/prefill.md,
 * "Down a provider's channel"). An object goes down a provider's overlay
 * channel as a run of blocks; each carries the object's cache key, the
 * first also the edge's stored head and meta, and each a chunk of the body
 * at its offset, so a receiver can rebuild the object and notice a block
 * that is missing. Pure: no I/O, nothing allocated. */
#ifndef PC_LIB_PREFILL_BLOCK_H
#define PC_LIB_PREFILL_BLOCK_H

#include <stddef.h>
#include <stdint.h>

/* "PF", version 1, flags; the lengths of key, head and meta (u32); the
 * body's total length and the chunk's offset (u64); big-endian. */
#define PC_PREFILL_HEADER  32
#define PC_PREFILL_VERSION 1

enum {
	PC_PREFILL_FIRST = 1, /* the first block of an object: head and meta follow the key */
	PC_PREFILL_LAST = 2,  /* the chunk ends at the body's total length */
};

struct pc_prefill_block {
	uint8_t flags;
	const char *key; /* the edge's cache key, not NUL-terminated */
	uint32_t key_len;
	const char *head; /* the stored response head; first block only */
	uint32_t head_len;
	const void *meta; /* the edge's meta (opaque here); first block only */
	uint32_t meta_len;
	uint64_t total;  /* body bytes of the whole object */
	uint64_t offset; /* of this chunk in the body */
	const char *chunk;
	size_t chunk_len;
};

/* Writes b's header, key, and (first block) head and meta into out, for
 * the caller to put b->chunk_len chunk bytes after. Returns the bytes
 * written, PC_ESPACE (size < that + chunk_len) or PC_EINVAL (no key, a
 * head or meta outside a first block, a chunk past total, or LAST on a
 * chunk that does not end at total). */
int pc_prefill_block_write(const struct pc_prefill_block *b, uint8_t *out, size_t size);

/* Parses one block of len bytes at p; the spans point into p. Returns 0,
 * PC_ESYNTAX (too short, not "PF", lengths past the end, no key or a key
 * over key_max, a chunk past total, a head or meta outside a first block,
 * LAST on a chunk that does not end at total, or not LAST on one that
 * does) or PC_ENOTSUP (another version). */
int pc_prefill_block_parse(const uint8_t *p, size_t len, size_t key_max,
                           struct pc_prefill_block *out);

#endif
