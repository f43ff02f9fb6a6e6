/* live_cascade: the injection point's pull of a provider's cascaded feed
 * (docs/live.md, "The cascade"): for each `cascade` entry of the
 * directory this node holds, of a provider whose primary CDN it injects
 * for, a thread follows the feed's live HLS playlist (lib/proto/hls_follow)
 * and injects each new segment exactly as a pushed stream: the same
 * segmenter, the same channel name, the same blocks.
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

/* Starts the pulls this node owes (none when live ingest is off, or it
 * holds no directory): returns the list, NULL for none. */
struct live_cascade *live_cascade_start(struct live_hub *hub, struct pcd_node *node,
                                        const struct pc_edge_params *params);
/* Stops and frees them (each ends its channel); NULL is fine. */
void live_cascade_stop(struct live_cascade *list);

#endif
