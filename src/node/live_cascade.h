/* live_cascade: the injection point's pull of a provider's cascaded feed
 * (docs/live.md, "The cascade"). A stream of ours that somebody subscribes
 * to on the overlay (an edge's player joined
 * "<provider>/live/<name>/<our router id>", or a player here), of a
 * provider whose primary CDN we inject for, is asked of the provider's
 * directory; while it answers `cascade` with a feed URL and somebody
 * watches (then edge.live.linger_ms more), a thread follows the feed's
 * live HLS playlist (lib/proto/hls_follow) and injects each new segment
 * exactly as a pushed stream: the same segmenter, the same channel name,
 * the same blocks. The URL comes only from the directory.
 *
 * Also the name rule both ends share: a cascade entry "<host>/<name>" (or
 * "<host>/<name>.ts", ".m3u8") is the provider's stream <name>. */
#ifndef PC_NODE_LIVE_CASCADE_H
#define PC_NODE_LIVE_CASCADE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/proto/edge_settings.h"

struct live_hub;
struct pcd_node;
struct live_cascade;

/* The stream name of a directory name ("cdn.abc.com/news.m3u8": "news")
 * into out[0..LIVE_NAME_MAX]; false when it names no stream. */
bool live_cascade_stream(const char *name, size_t len, char *out, size_t cap);

struct edge_worker;

/* The node's pulls, none yet; NULL when memory ran out. */
struct live_cascade *live_cascade_new(struct live_hub *hub, struct pcd_node *node);
/* About once a second on worker 0 (the overlay's thread): reads which
 * streams of ours are watched, asks the directory about them, starts the
 * pulls its answers call for, and stops those no longer watched (after
 * params' linger), no longer answered `cascade`, or whose feed URL
 * changed (a reload). Never waits on a provider's server or a directory.
 * NULL is fine. */
void live_cascade_tick(struct live_cascade *lc, struct edge_worker *ew,
                       const struct pc_edge_params *params, uint64_t now_ms);
/* Worker 0 closes (live_close, before its eventfd closes and its state
 * is freed): stops every pull and waits for its thread (each ends its
 * channel; a fetch in progress ends within its I/O timeout), and lets go
 * of the directory's answers it holds (they are the edge's store's). */
void live_cascade_close(struct live_cascade *lc);
/* Stops every pull still going (none after live_cascade_close), waits for
 * their threads and frees lc; NULL is fine. */
void live_cascade_stop(struct live_cascade *lc);

#endif
