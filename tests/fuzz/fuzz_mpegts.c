/* libFuzzer target: the MPEG-TS reader and the live segmenter
 * (lib/proto/mpegts.h, live_segmenter.h) over any byte stream, the way
 * ingest feeds them. Besides not crashing or growing past the limit: the
 * reader takes no more than it is given and reads the same packets from
 * any split; every segment is whole packets that start with 0x47, begins
 * with a PAT, is within segment_max, and the pending bytes reported before
 * it closed are its prefix; the segments are the same, byte for byte,
 * whether the input comes whole or in pieces (the first byte picks their
 * size). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"
#include "lib/proto/live_segmenter.h"

#define SEGMENT_MAX (24 * 1024)

/* FNV-1a over every segment handed out, with its numbers. */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3u;
	return h;
}

static void check_segment(const struct pc_live_segment *s, const uint8_t *pending,
                          size_t pending_len, uint64_t pending_seq)
{
	if (s->len == 0 || s->len % PC_TS_PACKET != 0 || s->len > SEGMENT_MAX)
		abort();
	for (size_t off = 0; off < s->len; off += PC_TS_PACKET)
		if (s->data[off] != PC_TS_SYNC)
			abort();
	if ((s->data[1] & 0x1f) != 0 || s->data[2] != 0)
		abort(); /* a PAT first */
	if (pending_seq == s->seq &&
	    (pending_len > s->len || memcmp(pending, s->data, pending_len) != 0))
		abort();
}

static uint64_t run(const uint8_t *data, size_t size, size_t chunk)
{
	struct pc_live_seg_params params = {
	    .target_ms = 200, .max_ms = 1000, .segment_max = SEGMENT_MAX, .first_seq = 5};
	pc_live_seg *s = pc_live_seg_new(&params);
	if (s == NULL)
		abort();
	uint64_t h = 0xcbf29ce484222325u;
	/* what pc_live_seg_pending said before the last call */
	static uint8_t pending[SEGMENT_MAX];
	size_t pending_len = 0;
	uint64_t pending_seq = UINT64_MAX;
	for (size_t off = 0; off < size;) {
		size_t piece = size - off < chunk ? size - off : chunk;
		size_t taken = 0;
		int rc;
		do {
			size_t used;
			struct pc_live_segment out;
			rc = pc_live_seg_feed(s, data + off + taken, piece - taken, &used, &out);
			if (used > piece - taken)
				abort();
			taken += used;
			if (rc == 1) {
				check_segment(&out, pending, pending_len, pending_seq);
				h = mix(h, out.data, out.len);
				h = mix(h, &out.seq, sizeof(out.seq));
				h = mix(h, &out.duration_ms, sizeof(out.duration_ms));
			} else if (rc < 0 && rc != PC_ERANGE) {
				h = mix(h, &rc, sizeof(rc));
				pc_live_seg_free(s);
				return h;
			}
			const uint8_t *p;
			uint64_t seq;
			pc_live_seg_pending(s, &p, &pending_len, &seq);
			if (pending_len > SEGMENT_MAX)
				abort();
			if (pending_len > 0)
				memcpy(pending, p, pending_len);
			pending_seq = seq;
		} while (rc != 0);
		off += piece;
	}
	struct pc_live_segment out;
	if (pc_live_seg_finish(s, &out) == 1) {
		check_segment(&out, pending, pending_len, pending_seq);
		h = mix(h, out.data, out.len);
	}
	pc_live_seg_free(s);
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the reader alone: never takes more than given */
	pc_ts_reader *r = pc_ts_reader_new();
	if (r == NULL)
		abort();
	unsigned packets = 0;
	for (size_t off = 0; off < size;) {
		size_t used;
		struct pc_ts_packet_info info;
		int rc = pc_ts_reader_next(r, data + off, size - off, &used, &info);
		if (used > size - off || (rc >= 0 && used == 0 && off < size))
			abort();
		off += used;
		if (rc < 0)
			break;
		if (rc == 1) {
			packets++;
			if (info.packet == NULL || info.packet[0] != PC_TS_SYNC)
				abort();
			if ((info.flags & PC_TS_F_PTS) && info.pts > PC_TS_PTS_MASK)
				abort();
		}
	}
	if (pc_ts_reader_stats(r)->packets != packets)
		abort();
	pc_ts_reader_free(r);

	size_t chunk = size > 0 ? (size_t)data[0] * 7 + 1 : 1;
	if (run(data, size, size ? size : 1) != run(data, size, chunk))
		abort();
	return 0;
}
