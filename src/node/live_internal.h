/* live_internal: what live.c (the hub, worker 0's side and the players)
 * and live_ingest.c (ingest and the segmenter) share. Not for other files:
 * they use node/live.h. */
#ifndef PC_NODE_LIVE_INTERNAL_H
#define PC_NODE_LIVE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "node/live.h"

/* A live channel's blocks are lib/proto/live_block's (docs/live.md,
 * "Blocks"). */
enum {
	LIVE_NAME_MAX = 64, /* the <name> of a stream */
	LIVE_CHANNEL_MAX = 255,
};

enum live_counter {
	LC_INGEST_STARTED,
	LC_INGEST_ENDED,
	LC_INGEST_FORBIDDEN, /* 403: no or a wrong key, an expired signature */
	LC_INGEST_MALFORMED, /* 400: not MPEG-TS, no PAT/PMT or random access point */
	LC_INGEST_TIMEOUT,   /* the encoder stalled */
	LC_BLOCKS_QUEUED,    /* handed to worker 0 */
	LC_BLOCKS_SHED,      /* the mailbox was full */
	LC_BLOCKS_PUBLISHED,
	LC_BLOCKS_RECEIVED,
	LC_BLOCKS_SKIPPED, /* joined mid-segment, or bad */
	LC_SEGMENTS,       /* segments completed in rings */
	LC_PLAYERS,        /* progressive players started */
	LC_PLAYERS_SHED,   /* too slow: buffer over player_buffer_kb, or fell off the ring */
	LC_PLAYLISTS,
	LC_SEGMENT_GETS,
	LC_NOT_FOUND,   /* a segment no longer (or not yet) held */
	LC_NOT_COVERED, /* 403: the provider's agreements do not cover live here */
	LC_SUBSCRIBES,
	LC_UNSUBSCRIBES,
	LC_FAILOVERS,        /* switched to the next injection point */
	LC_BLOCK_GAPS,       /* a block's number not the last + 1 in one subscription */
	LC_HLS_SEGMENTS_IN,  /* HLS ingest: segments PUT and kept */
	LC_HLS_PLAYLISTS_IN, /* HLS ingest: playlists PUT and read */
	LC_HLS_MISSING,      /* a playlist named a segment not PUT (or dropped) */
	LC_CASCADE_SEGMENTS, /* the cascade: segments pulled and injected */
	LC_CASCADE_FAILED,   /* a fetch failed, or a playlist or segment was malformed */
	LC_CASCADE_STALLS,   /* a feed listed nothing new for three target durations */
	LC_CASCADE_STARTED,  /* a feed's pull started: a watched stream answered `cascade` */
	LC_CASCADE_STOPPED,  /* and ended: unwatched, no longer `cascade`, or its URL changed */
	LC_CASCADE_REFUSED,  /* a watched stream the directory does not answer `cascade` for */
	LC_CASCADE_FULL,     /* a feed or watched stream over what one node pulls */
	LC__COUNT
};

enum live_kind {
	LIVE_INGEST,   /* an encoder pushing */
	LIVE_TS,       /* a progressive player */
	LIVE_HLS_WAIT, /* a playlist request waiting for the first segments */
};

/* A connection live.c or live_ingest.c holds (edge_client.live). */
struct live_conn {
	struct edge_client *c;
	struct live_hub *hub;
	unsigned worker;
	struct live_conn *prev, *next; /* the worker's list */
	enum live_kind kind;
	int chan;                       /* players: the hub's channel slot */
	uint64_t seg;                   /* players: the segment being sent */
	size_t off;                     /* and the bytes of it sent */
	uint64_t deadline_ms;           /* HLS_WAIT: 504 after this */
	uint64_t held_since_ms;         /* TS: bytes held back since (player_flush_ms); 0: none */
	char stream[LIVE_NAME_MAX + 1]; /* HLS_WAIT: the stream's name */
	struct live_ingest *in;         /* INGEST */
};

/* Links a new connection into its worker's list (c->live). */
struct live_conn *live_conn_new(struct edge_client *c, enum live_kind kind);

/* The hub's counters, and the mailbox, for live_ingest.c. */
void live_count(struct live_hub *hub, enum live_counter counter);
/* Hands a block of channel to worker 0 to publish (copied); a full
 * mailbox sheds it (counted). Any thread. */
void live_post_block(struct live_hub *hub, const char *channel, const uint8_t *payload, size_t len);
struct live_hub *live_hub_of(const struct edge_client *c);

/* HLS ingest (live_ingest.c): segments PUT before the playlist that
 * names them wait in the hub, node-wide (each PUT is its own connection,
 * on any worker), at most LIVE_HLS_PENDING, the oldest dropped. key:
 * "<provider>/<file>". store takes data (malloc'd); take gives it back,
 * or NULL. */
enum { LIVE_HLS_PENDING = 32, LIVE_HLS_STREAMS = 32 };
void live_hls_store(struct live_hub *hub, const char *key, uint8_t *data, size_t len);
uint8_t *live_hls_take(struct live_hub *hub, const char *key, size_t *len);
/* The media sequence number of the next segment to publish on channel
 * (0 for a channel not seen), and setting it. */
uint64_t live_hls_next(struct live_hub *hub, const char *channel);
void live_hls_set_next(struct live_hub *hub, const char *channel, uint64_t next);

/* Encoders' streams (live_ingest.c notes each block it posts of one):
 * a cascade does not pull a feed into a channel an encoder pushes to
 * (live_cascade.c asks whether one did since since_ms). The last
 * LIVE_PUSHES channels are kept. Any thread. */
enum { LIVE_PUSHES = 16 };
void live_note_pushed(struct live_hub *hub, const char *channel);
bool live_pushed_since(struct live_hub *hub, const char *channel, uint64_t since_ms);

/* live_ingest.c, for live.c */
struct live_ingest;
void live_ingest_free(struct live_ingest *in);
/* An ingest connection ends (closed, timed out, failed): its open
 * segment and the end of stream are published. */
void live_ingest_finish(struct live_hub *hub, struct live_ingest *in);
uint64_t live_ingest_last_rx(const struct live_ingest *in);

/* A pulled feed (live_cascade.c): a TS ingest of channel with no
 * connection, cut by the same segmenter as a pushed stream. feed returns 0,
 * or PC_ESYNTAX / PC_ENOTSUP when the bytes are not a stream we take.
 * live_ingest_finish ends it; live_ingest_free frees it. Any thread. */
struct live_ingest *live_ingest_pull_new(const char *channel, uint32_t segment_ms);
int live_ingest_pull_feed(struct live_hub *hub, struct live_ingest *in, const uint8_t *data,
                          size_t len);

#endif
