/* See rrl.h. A bucket packs the second it counts (upper 32 bits) and the
 * count (lower 32) in one atomic word, so a new second resets it with the
 * same compare-and-swap that counts. */
#include "lib/proto/rrl.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"

struct pc_rrl {
	struct pc_rrl_params params;
	size_t mask;
	_Atomic uint64_t buckets[];
};

int pc_rrl_new(const struct pc_rrl_params *params, pc_rrl **out)
{
	size_t n = 1;
	size_t want = params->buckets ? params->buckets : 65536;
	while (n < want && n < ((size_t)1 << 30))
		n <<= 1;
	if (params->prefix4 > 32 || params->prefix6 > 128)
		return PC_ERANGE;
	pc_rrl *rrl = calloc(1, sizeof(*rrl) + n * sizeof(_Atomic uint64_t));
	if (rrl == NULL)
		return PC_ENOMEM;
	rrl->params = *params;
	rrl->mask = n - 1;
	*out = rrl;
	return PC_OK;
}

void pc_rrl_free(pc_rrl *rrl)
{
	free(rrl);
}

/* SipHash would be the textbook choice; a keyed multiply-xorshift over two
 * words is enough to spread prefixes and keeps this at a few nanoseconds. */
static uint64_t mix(uint64_t x, uint64_t key)
{
	x ^= key;
	x *= 0x9e3779b97f4a7c15ULL;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	return x;
}

static uint64_t prefix_hash(const pc_rrl *rrl, const pc_addr *source)
{
	uint8_t bytes[16] = {0};
	unsigned bits = source->family == PC_AF_INET ? rrl->params.prefix4 : rrl->params.prefix6;
	unsigned full = bits / 8;
	memcpy(bytes, source->bytes, full);
	if (bits % 8)
		bytes[full] = (uint8_t)(source->bytes[full] & (0xff00u >> (bits % 8)));
	uint64_t hi, lo;
	memcpy(&hi, bytes, 8);
	memcpy(&lo, bytes + 8, 8);
	return mix(mix(hi, rrl->params.hash_key[0]) ^ lo ^ source->family, rrl->params.hash_key[1]);
}

enum pc_rrl_verdict pc_rrl_check(pc_rrl *rrl, const pc_addr *source, uint64_t now_ms)
{
	if (rrl == NULL || rrl->params.rate == 0)
		return PC_RRL_PASS;
	_Atomic uint64_t *bucket = &rrl->buckets[prefix_hash(rrl, source) & rrl->mask];
	uint64_t second = (now_ms / 1000) & 0xffffffffu;
	uint64_t old = atomic_load_explicit(bucket, memory_order_relaxed);
	uint64_t count;
	for (;;) {
		count = (old >> 32) == second ? (old & 0xffffffffu) + 1 : 1;
		if (count > 0xffffffffu)
			count = 0xffffffffu;
		if (atomic_compare_exchange_weak_explicit(bucket, &old, second << 32 | count,
		                                          memory_order_relaxed,
		                                          memory_order_relaxed))
			break;
	}
	if (count <= rrl->params.rate)
		return PC_RRL_PASS;
	uint32_t slip = rrl->params.slip;
	if (slip != 0 && (count - rrl->params.rate) % slip == 0)
		return PC_RRL_SLIP;
	return PC_RRL_DROP;
}
