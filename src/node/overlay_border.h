/* overlay_border: what of the link-state database crosses a peering link
 * (docs/overlay.md, "Peering"). A peer CDN needs a route to every router
 * whose channels it joins (every router publishes load), not the topology
 * behind our border: so on a peering link a router sends only its own LSA,
 * as a border view — its adjacency to that neighbour, and for every router
 * it reaches that is not the peer's and not reached through that very
 * peer, a summary link (PC_LSA_SUMMARY) with the cost of its route — and the
 * peer's own LSA back; it takes only the neighbour's own LSA. Interior
 * routers' LSAs, and the links among them, stay in their CDN. Private to
 * the overlay role; pure functions of what overlay.c hands in. */
#ifndef PC_NODE_OVERLAY_BORDER_H
#define PC_NODE_OVERLAY_BORDER_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/proto/overlay_lsdb.h"

/* The CDN of router id as the overlay knows it, or NULL. */
typedef const char *ovl_border_cdn_fn(void *ctx, uint32_t id);

/* An LSA of origin may go on the peering link to router peer. */
bool ovl_border_sends(uint32_t self, uint32_t peer, uint32_t origin);
/* An LSA of origin received on the peering link from router peer is one
 * it may send (its own); anything else is refused and counted. */
bool ovl_border_accepts(uint32_t peer, uint32_t origin);

/* Our LSA as router peer of CDN peer_cdn is to see it: adjacencies[] (our
 * link to peer, as originated) first, then
 * summaries of the routes of lsdb's last SPF, nearest first, up to max
 * links in all. Writes out[] and returns how many. */
uint16_t ovl_border_view(const pc_lsdb *lsdb, uint32_t self, uint32_t peer, const char *peer_cdn,
                         const struct pc_lsa_link *adjacencies, uint16_t n_adjacencies,
                         ovl_border_cdn_fn *cdn_of, void *ctx, struct pc_lsa_link *out,
                         uint16_t max);

/* A hash of a view (FNV-1a over its links): the overlay re-originates its
 * LSA when a peering link's view changed since it was last sent. */
uint64_t ovl_border_hash(const struct pc_lsa_link *links, uint16_t n);

#endif
