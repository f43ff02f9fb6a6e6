/* live: live streams at the edge (docs/live.md, issue 12). Ingest takes a
 * provider's MPEG-TS pushed to /<origin host>/live/<name> (a chunked POST,
 * as ffmpeg sends it), cuts it into segments at random access points and
 * publishes them, block by block, on the overlay channel
 * "<provider>/live/<name>" from this router. Playback serves such a
 * channel as progressive MPEG-TS (/<origin host>/live/<name>.ts) and HLS
 * (<name>.m3u8 and <name>/<seq>.ts) from a ring of recent segments that
 * the router subscribes to while players want it.
 *
 * Threads: the hub is node-wide (edge_shared.live), its channels behind
 * one mutex. Everything that touches the overlay runs on worker 0 (the
 * overlay's thread): edge workers hand it blocks through a bounded mailbox
 * and wake it through its edge eventfd; it wakes the workers whose players
 * wait on a channel the same way. A connection belongs to its worker. */
#ifndef PC_NODE_LIVE_H
#define PC_NODE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/model/model.h"
#include "lib/proto/edge_settings.h"
#include "node/node.h"

struct live_hub;
struct live_conn;
struct edge_client;
struct edge_worker;
struct edge_shared;

int live_hub_new(struct pcd_node *node, struct edge_shared *shared, struct live_hub **out);
/* Makes the table of cascaded feeds this node pulls while they are
 * watched (node/live_cascade.h). */
void live_hub_start_cascades(struct live_hub *hub, const struct pc_edge_params *params);
void live_hub_free(struct live_hub *hub); /* NULL is fine; after every worker closed */

/* ---- edge_client.c's hooks; c's head is parsed and routed ---- */

/* Whether the request (routed: c->key, c->path) is for the live paths. */
bool live_target(const struct edge_client *c);
/* An ingest (POST or PUT under /live/): takes the request, answering 403
 * or 400 itself, and then the body's bytes through live_input. chunked:
 * the body's framing; else body_len bytes follow. */
void live_ingest_begin(struct edge_client *c, bool chunked, uint64_t body_len);
bool live_is_ingest(const struct edge_client *c);
/* Bytes after the head while c->live ingests; returns how many it took. */
size_t live_input(struct edge_client *c, const uint8_t *in, size_t len);
/* A GET or HEAD of a live path: a stream, a playlist or a segment. */
void live_play_begin(struct edge_client *c);
/* An OPTIONS request of a live path or a directory name (which may
 * answer a live stream): a CORS preflight, answered 204 with the
 * provider's policy (edge.live.cors_origins) and no channel touched. */
void live_preflight(struct edge_client *c);
/* The directory answered a name c asked for with channel ("<provider>/
 * <name>"): served as that provider's live stream <name>, as HLS when the
 * name asked for ends in ".m3u8", else as progressive MPEG-TS. False
 * (nothing done) when channel is not a provider's stream. */
bool live_directory_play(struct edge_client *c, const char *channel);
/* A directory `cascade` answer for name ("cdn.abc.com/news.m3u8"): played
 * as the stream the injection point pulls from the feed (live_cascade.h),
 * the provider's <name>. False (nothing done) when name is no stream. */
bool live_directory_cascade(struct edge_client *c, const char *name);
/* The client closed its side while c->live holds the connection. */
void live_end(struct edge_client *c);
/* The connection is going away. */
void live_client_free(struct edge_client *c);

/* ---- edge.c's ---- */

/* The worker's eventfd fired: worker 0 drains the mailbox and keeps the
 * subscriptions; every worker feeds its players. */
void live_woken(struct edge_worker *ew);
/* About once a second: timeouts, linger, failover. */
void live_tick(struct edge_worker *ew, uint64_t now_ms);
/* Worker w closes: its connections are gone; worker 0 leaves every
 * channel it subscribed to. */
void live_close(struct edge_worker *ew);
void live_metrics(struct live_hub *hub, FILE *out);

/* Whether a live channel of provider may be delivered into cdn: cdn is one
 * of the provider's primary CDNs, or has an agreement with one that covers
 * the "live" service. Also the overlay's filter on peering links. */
bool live_delivers(const pc_model *model, uint32_t provider, uint32_t cdn);

#endif
