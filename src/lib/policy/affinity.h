/* affinity: where a node recently sent each object, so it keeps sending it
 * there while load allows (issue 3; the patent's point that content should
 * not be copied to more servers than needed). The policy's rendezvous hash
 * already sends an object to the same server while the set of near servers
 * is stable; this memory keeps it there when that set changes, e.g. when a
 * lightly loaded server enters the affinity band. The policy honours a
 * remembered server only while it survives pruning and scores within the
 * band (pc_request.sticky_server).
 *
 * A fixed table of 64-bit atomic slots shared by all workers: no locks, no
 * allocation after pc_affinity_new. A slot holds a 24-bit tag of the
 * object's hash, a 24-bit server index and the time in seconds (16 bits,
 * compared modulo 2^16). Collisions lose memories, never mix them up beyond
 * the tag's 1-in-16M. One table belongs to one model generation. */
#ifndef PC_LIB_AFFINITY_H
#define PC_LIB_AFFINITY_H

#include <stddef.h>
#include <stdint.h>

typedef struct pc_affinity pc_affinity;

/* slots is rounded up to a power of two; ttl_s (1..30000) is how long a
 * memory lasts. */
int pc_affinity_new(size_t slots, uint32_t ttl_s, pc_affinity **out);
void pc_affinity_free(pc_affinity *affinity); /* NULL is fine */

/* The server remembered for object_hash, or PC_NONE (UINT32_MAX). */
uint32_t pc_affinity_lookup(const pc_affinity *affinity, uint64_t object_hash, uint64_t now_ms);
void pc_affinity_remember(pc_affinity *affinity, uint64_t object_hash, uint32_t server,
                          uint64_t now_ms);

#endif
