/* overlay: what the overlay role (overlay.c) offers other roles of the
 * node: publishing blocks on a channel this router is the source of, and
 * subscribing to a channel of a source router, so issue 12's live streams
 * and the control groups use the same path (docs/overlay.md, "The role").
 *
 * Threads: the overlay runs on worker 0; these functions must be called
 * on that worker's thread (a role's open, tick or event handlers there),
 * and callbacks run on it. */
#ifndef PC_NODE_OVERLAY_H
#define PC_NODE_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/proto/edge_settings.h"
#include "node/node.h"

/* A block of a subscribed channel, in sequence order: each block once. */
typedef void pcd_overlay_deliver_fn(void *arg, const char *channel, uint32_t source, uint64_t seq,
                                    const uint8_t *payload, size_t len);

/* This router's id, or 0 when the overlay does not run. */
uint32_t pcd_overlay_self(struct pcd_node *node);

/* Sends payload as the next block of channel from this router. Returns 0,
 * -ENOENT (the overlay does not run), -EINVAL (a bad channel name, a
 * payload over what a frame holds) or -ENOMEM. */
int pcd_overlay_publish(struct pcd_node *node, const char *channel, const uint8_t *payload,
                        size_t len);

/* Whether a publisher should wait before its next block: a link is full
 * (docs/overlay.md, "Flow control"), and what it publishes would only
 * queue behind it. Worker 0 (the overlay's thread); false when the
 * overlay does not run. */
bool pcd_overlay_held(struct pcd_node *node);

/* Subscribes fn(arg) to channel of source (a router id): joined now and
 * again after every reroute, resuming from the last block delivered.
 * Returns 0, -EEXIST (already), -ENOENT, -EINVAL, -ENOSPC. */
int pcd_overlay_subscribe(struct pcd_node *node, const char *channel, uint32_t source,
                          pcd_overlay_deliver_fn *fn, void *arg);

/* Ends the subscription of fn to channel of source (no callback after
 * this returns); the branch is pruned once nobody here wants it. Returns
 * 0 or -ENOENT (not subscribed, or the overlay does not run). */
int pcd_overlay_unsubscribe(struct pcd_node *node, const char *channel, uint32_t source);

/* Calls fn(arg, channel) for each channel this router is the source of
 * that has subscribers (a neighbour's JOIN reached it, or a local
 * subscription), published on or not yet: how an injection point learns
 * which of its streams are watched. Worker 0; none when the overlay does
 * not run. */
void pcd_overlay_own_wanted(struct pcd_node *node, void (*fn)(void *arg, const char *channel),
                            void *arg);

/* The replica and policy groups' mailboxes (overlay_groups.c); any
 * thread, never blocking for long, nothing when the overlay does not run.
 * The node's edge now holds the object of key (pc_live_object_key) on
 * server: published to the routers of the CDN and its agreement peers. */
void pcd_overlay_replica(struct pcd_node *node, uint64_t key, const char *server);
/* A config was pushed to this node and applied: published as the next
 * policy version to every router of the CDN, which apply it the same way. */
void pcd_overlay_policy_pushed(struct pcd_node *node, const char *text, size_t len);
/* An operator drained (or undrained) server on this node: every
 * redirector of its CDN, and of the CDN's agreement peers, stops (or
 * resumes) choosing it; the last command wins, wherever it was given. */
void pcd_overlay_drain(struct pcd_node *node, const char *server, bool drained);

/* ---- The route view (docs/overlay.md, "The route view") ----
 *
 * What other threads may read of the overlay's routes: after every SPF
 * (and after a reload), worker 0 publishes an immutable table of every
 * reachable router with this router's next hop toward it and that next
 * hop's edge (edge.tree), swapped in under RCU and freed (call_rcu) once
 * every worker has passed a quiescent state. The edge climbs it for a
 * provider's cache-miss tree (docs/edge.md, "The cache-miss tree"). */
struct pcd_overlay_hop {
	uint32_t next_hop; /* our neighbour toward the source */
	uint64_t cost;     /* our distance to the source: strictly more than next_hop's */
	bool has_edge;     /* edge.tree names the next hop's edge */
	struct pc_hostport edge;
};

/* The hop toward source (a router id) as of the last SPF, copied into
 * *out. Any worker thread (an online RCU reader). Returns 0, -EEXIST
 * (source is this router), or -ENOENT (the overlay does not run, or has
 * no route to source). */
int pcd_overlay_route_to(struct pcd_node *node, uint32_t source, struct pcd_overlay_hop *out);

#endif
