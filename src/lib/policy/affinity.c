/* See affinity.h. */
#include "lib/policy/affinity.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "lib/base/err.h"

#define NONE       UINT32_MAX
#define SERVER_MAX 0xffffffu

struct pc_affinity {
	size_t mask;
	uint32_t ttl_s;
	_Atomic uint64_t slots[];
};

int pc_affinity_new(size_t slots, uint32_t ttl_s, pc_affinity **out)
{
	if (ttl_s == 0 || ttl_s > 30000)
		return PC_ERANGE;
	size_t n = 64;
	while (n < slots && n < ((size_t)1 << 26))
		n <<= 1;
	pc_affinity *a = calloc(1, sizeof(*a) + n * sizeof(_Atomic uint64_t));
	if (a == NULL)
		return PC_ENOMEM;
	a->mask = n - 1;
	a->ttl_s = ttl_s;
	*out = a;
	return PC_OK;
}

void pc_affinity_free(pc_affinity *affinity)
{
	free(affinity);
}

/* Slot layout: tag (24) | server + 1 (24) | seconds (16); 0 is empty. */
static uint64_t tag_of(uint64_t hash)
{
	return hash >> 40;
}

uint32_t pc_affinity_lookup(const pc_affinity *affinity, uint64_t object_hash, uint64_t now_ms)
{
	if (affinity == NULL)
		return NONE;
	uint64_t slot =
	    atomic_load_explicit((_Atomic uint64_t *)&affinity->slots[object_hash & affinity->mask],
	                         memory_order_relaxed);
	if (slot == 0 || slot >> 40 != tag_of(object_hash))
		return NONE;
	uint16_t then = (uint16_t)slot, now = (uint16_t)(now_ms / 1000);
	if ((uint16_t)(now - then) > affinity->ttl_s)
		return NONE;
	return (uint32_t)((slot >> 16) & SERVER_MAX) - 1;
}

void pc_affinity_remember(pc_affinity *affinity, uint64_t object_hash, uint32_t server,
                          uint64_t now_ms)
{
	if (affinity == NULL || server >= SERVER_MAX)
		return;
	uint64_t slot =
	    tag_of(object_hash) << 40 | (uint64_t)(server + 1) << 16 | (uint16_t)(now_ms / 1000);
	atomic_store_explicit(&affinity->slots[object_hash & affinity->mask], slot,
	                      memory_order_relaxed);
}
