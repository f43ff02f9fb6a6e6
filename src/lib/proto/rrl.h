/* rrl: response rate limiting per client prefix, the idea of BIND's and
 * Knot's RRL: a spoofed flood must not turn the DNS role into an amplifier
 * aimed at a victim's network. Each prefix (/24 and /56 by default) may get
 * `rate` responses per second; above it every `slip`-th response goes out
 * truncated (TC, no records: a real client retries over TCP, which cannot
 * be spoofed) and the rest are dropped.
 *
 * One fixed table of atomic buckets shared by all workers, indexed by a
 * keyed hash of the prefix (the key comes from the caller, so an attacker
 * cannot aim collisions). A collision makes limiting stricter for the two
 * prefixes, never looser. No allocation after pc_rrl_new, no locks. */
#ifndef PC_LIB_RRL_H
#define PC_LIB_RRL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/model/model.h"

typedef struct pc_rrl pc_rrl;

enum pc_rrl_verdict { PC_RRL_PASS, PC_RRL_SLIP, PC_RRL_DROP };

struct pc_rrl_params {
	uint32_t rate; /* responses per second per prefix; 0 disables limiting */
	uint32_t slip; /* 0: drop all over the limit; 1: truncate all; N: 1 in N */
	uint8_t prefix4, prefix6;
	size_t buckets;       /* rounded up to a power of two; 0: 65536 */
	uint64_t hash_key[2]; /* random, from the caller */
};

int pc_rrl_new(const struct pc_rrl_params *params, pc_rrl **out);
void pc_rrl_free(pc_rrl *rrl); /* NULL is fine */

/* Counts one response to source at now_ms and says what to do with it. */
enum pc_rrl_verdict pc_rrl_check(pc_rrl *rrl, const pc_addr *source, uint64_t now_ms);

#endif
