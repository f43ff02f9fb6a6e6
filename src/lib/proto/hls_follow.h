/* hls_follow: following a live HLS media playlist, for the cascade
 * (docs/live.md): which of a freshly fetched playlist's segments to fetch
 * next, in order and each once, when to fetch the playlist again, and when
 * the feed counts as stalled or restarted.
 *
 * The injection point that pulls a provider's feed parses each playlist
 * with pc_hls_parse, asks pc_hls_follow_update which segments are new,
 * fetches them in order (pc_hls_follow_fetched after each, so a playlist
 * fetched meanwhile does not list them again), and polls again after the
 * delay it was told (RFC 8216 §6.3.4: the target duration after a change,
 * half of it when the playlist had nothing new).
 *
 * Pure: no I/O, no clock (the caller passes monotonic ms). */
#ifndef PC_LIB_HLS_FOLLOW_H
#define PC_LIB_HLS_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/proto/hls.h"

struct pc_hls_follow {
	bool started;        /* a playlist has been taken */
	uint64_t next_seq;   /* the first media sequence number not yet fetched */
	uint64_t listed_end; /* one past the newest segment listed so far */
	uint64_t changed_ms; /* when a new segment last appeared */
	uint32_t target_ms;  /* the playlist's target duration */
	uint64_t skipped;    /* segments that slid out before we fetched them */
	uint64_t restarts;   /* the feed's sequence went backwards */
	bool discontinuity;  /* the next segment fetched follows a gap */
};

enum pc_hls_follow_state {
	PC_HLS_FOLLOW_OK,      /* segments [*first, n_segments) are new: fetch them in order */
	PC_HLS_FOLLOW_STALLED, /* nothing new for PC_HLS_FOLLOW_STALL targets */
	PC_HLS_FOLLOW_ENDED,   /* EXT-X-ENDLIST and everything fetched */
};

#define PC_HLS_FOLLOW_STALL 3 /* target durations without a new segment */

/* Takes a playlist fetched at now_ms: *first is the index among its
 * segments of the first to fetch (n_segments when none), *poll_ms how long to wait
 * before fetching the playlist again. A first playlist starts at its
 * newest segment (a segment boundary, and the least delay); a playlist
 * whose segments slid past what we fetched skips to its first (counted
 * in skipped, the next marked a discontinuity); one whose sequence went
 * back below what it had listed (the provider's encoder restarted) starts
 * again at its newest. */
enum pc_hls_follow_state pc_hls_follow_update(struct pc_hls_follow *f,
                                              const struct pc_hls_playlist *pl, uint64_t now_ms,
                                              size_t *first, uint32_t *poll_ms);

/* Segment seq has been fetched (and injected); returns whether it follows
 * a gap, and clears that mark. */
bool pc_hls_follow_fetched(struct pc_hls_follow *f, uint64_t seq);

#endif
