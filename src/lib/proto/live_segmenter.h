/* live_segmenter: cuts a live MPEG-TS stream into segments for HLS and for
 * the live channel's overlay blocks (docs/live.md). A segment starts at a
 * random-access point of the program's video stream (or at any PES start
 * of its lead stream when it has no video), begins with the current PAT
 * and PMT re-inserted so that it decodes on its own, and is closed at the
 * first random-access point after target_ms (or at any PES start of the
 * lead stream once it reaches max_ms). Its duration is measured on the lead
 * stream's PTS (a wrap at 2^33 is handled).
 *
 * Pure: no I/O, no clock. The segment is built in one buffer that grows up
 * to the caller's limit (segment_max bytes, plus 64 KiB and a few packets
 * for the start of the next segment) and no further; a segment over the
 * limit is dropped and reported, and the stream goes on with a
 * discontinuity. */
#ifndef PC_LIB_LIVE_SEGMENTER_H
#define PC_LIB_LIVE_SEGMENTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/proto/mpegts.h"

typedef struct pc_live_seg pc_live_seg;

struct pc_live_seg_params {
	uint32_t target_ms; /* close at the first random-access point after this */
	uint32_t max_ms;    /* force a cut at a PES start of the lead stream after this */
	size_t segment_max; /* bytes of one segment, PAT and PMT included */
	uint64_t first_seq; /* the first segment's sequence number */
};

/* A closed segment: valid until the next call on the segmenter. */
struct pc_live_segment {
	const uint8_t *data; /* whole TS packets, PAT and PMT first */
	size_t len;
	uint64_t seq;
	uint32_t duration_ms;    /* from the lead stream's PTS, rounded */
	uint64_t duration_ticks; /* 90 kHz */
	uint64_t first_pts;      /* of the lead stream's first PES, 90 kHz */
	bool discontinuity;      /* the stream was cut or changed before this segment */
	bool random_access;      /* starts at a random-access point (false if forced at max_ms) */
};

struct pc_live_seg_stats {
	uint64_t segments;        /* closed and returned */
	uint64_t oversize;        /* dropped: over segment_max */
	uint64_t skipped_packets; /* before the program and its first random-access point */
	uint64_t forced;          /* cut at max_ms, not at a random-access point */
	uint64_t discontinuities;
};

/* A new segmenter, or NULL when memory runs out or params are out of
 * contract (target_ms 0, max_ms < target_ms, segment_max < 4 packets).
 * Free with pc_live_seg_free. */
pc_live_seg *pc_live_seg_new(const struct pc_live_seg_params *params);
void pc_live_seg_free(pc_live_seg *s);

/* Feeds TS bytes (any split). Returns 1 with *out when a segment closed
 * (*used: the bytes taken; call again with the rest, even when that is
 * none, until it returns 0), 0 when all len bytes were taken, or a
 * negative code: the reader's (PC_ESYNTAX lost sync, PC_ENOTSUP; the
 * stream is then broken and the segmenter keeps failing until
 * pc_live_seg_new again), or PC_ERANGE for a segment over segment_max, or
 * when growing the buffer failed (that segment is dropped, its sequence
 * number spent, the stream goes on: call again with the rest). *used is
 * set in every case. */
int pc_live_seg_feed(pc_live_seg *s, const uint8_t *data, size_t len, size_t *used,
                     struct pc_live_segment *out);

/* End of stream: returns 1 with the last, open segment (its duration up to
 * its last PES plus one frame interval), 0 when there is none, or
 * PC_ERANGE when it is over segment_max. */
int pc_live_seg_finish(pc_live_seg *s, struct pc_live_segment *out);

/* The segment being built: those of its bytes so far that are sure to stay
 * in it (PAT and PMT first; not the packets from a PES start whose being a
 * random-access point is still unknown), and its sequence number, so the
 * caller may send blocks of it before it closes. *len is 0 while no
 * segment is open, and just after one closed until the next call. The
 * bytes stay valid until the next call that changes the segmenter; the
 * segment, when it closes, begins with the same bytes (unless it is
 * dropped as oversize, its number then spent). */
void pc_live_seg_pending(const pc_live_seg *s, const uint8_t **data, size_t *len, uint64_t *seq);

const struct pc_live_seg_stats *pc_live_seg_stats(const pc_live_seg *s);
/* The reader inside, for its program and stats. */
const pc_ts_reader *pc_live_seg_reader(const pc_live_seg *s);

#endif
