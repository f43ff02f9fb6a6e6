/* overlay_groups: the overlay's control groups other than load and health
 * (docs/overlay.md, "The role"; issue 11 item 3): replicas, policy
 * versions, the resources a CDN offers its peers (claim 9), provider
 * reports (claim 3) and operators' drains, each a small block of its own
 * here. overlay.c owns
 * the links and channels and calls in: once per tick, and to ask whether
 * a channel may cross a peering link. Private to the overlay role.
 *
 * Threads: everything runs on the overlay's worker (0) except the
 * mailboxes (pcd_overlay_replica, pcd_overlay_policy_pushed, the reports
 * shipper), which any thread fills under the groups' lock, and the policy
 * applier, a thread of its own: a push calls synchronize_rcu, which an
 * online RCU reader such as worker 0 must never do. */
#ifndef PC_NODE_OVERLAY_GROUPS_H
#define PC_NODE_OVERLAY_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "node/node.h"

struct ovl_groups;

/* A router of the link-state database and its CDN. */
struct ovl_router {
	uint32_t id;
	const char *cdn;
};

/* Makes the groups of router self of cdn (starts the policy applier).
 * Returns 0 or -ENOMEM / -errno. */
int ovl_groups_new(struct pcd_node *node, uint32_t self, const char *cdn, struct ovl_groups **out);
/* Stops the applier and frees; NULL is fine. */
void ovl_groups_free(struct ovl_groups *g);

/* On worker 0 once the overlay runs / before it stops: the reports
 * shipper is set and cleared here. */
void ovl_groups_open(struct ovl_groups *g);
void ovl_groups_close(struct ovl_groups *g);

/* Worker 0, every tick: publishes what the mailboxes hold; when
 * subscribe, (re)subscribes to the group channels of routers[]. */
void ovl_groups_tick(struct ovl_groups *g, uint64_t now_mono, bool subscribe,
                     const struct ovl_router *routers, unsigned n_routers);

/* Whether channel may cross a peering link between our CDN and
 * link_cdn, in either direction: policy channels never; resource
 * channels only between the two CDNs they name; replica channels only of
 * one of the two; other channels only of a CDN or provider of the model. */
bool ovl_groups_peering_allowed(struct ovl_groups *g, const char *link_cdn, const char *channel);

/* The mailboxes (any thread): an object this node's edge now holds on
 * server; a config pushed here and applied (the node's own push). */
void ovl_groups_replica(struct ovl_groups *g, uint64_t key, const char *server);
void ovl_groups_policy_pushed(struct ovl_groups *g, const char *text, size_t len);
/* An operator drained (or undrained) server here: carried to every router
 * of the CDN and of its agreement peers (any thread). */
void ovl_groups_drain(struct ovl_groups *g, const char *server, bool drained);

void ovl_groups_metrics(struct ovl_groups *g, FILE *out);

#endif
