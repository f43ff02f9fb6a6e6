/* hls_follow: see hls_follow.h. */
#include "lib/proto/hls_follow.h"

enum pc_hls_follow_state pc_hls_follow_update(struct pc_hls_follow *f,
                                              const struct pc_hls_playlist *pl, uint64_t now_ms,
                                              size_t *first, uint32_t *poll_ms)
{
	size_t n = pl->n_segments;
	f->target_ms = pl->target_duration ? pl->target_duration * 1000u : 1000u;
	uint64_t lo = pl->media_sequence, hi = pl->media_sequence + n; /* listed: [lo, hi) */
	*first = n;
	if (!f->started) {
		f->started = true;
		f->next_seq = n ? hi - 1 : lo;
	} else if (hi + 1 < f->next_seq) {
		/* The sequence went back: a restarted encoder numbers from 0
		 * again. What it lists now is a new stream. */
		f->restarts++;
		f->discontinuity = true;
		f->listed_end = 0;
		f->next_seq = n ? hi - 1 : lo;
	} else if (lo > f->next_seq) {
		f->skipped += lo - f->next_seq;
		f->discontinuity = true;
		f->next_seq = lo;
	}
	bool fresh = n && f->next_seq < hi;
	if (fresh)
		*first = (size_t)(f->next_seq - lo);
	if (hi > f->listed_end) {
		f->listed_end = hi;
		f->changed_ms = now_ms;
	}
	/* §6.3.4: again after the target duration, or half of it when the
	 * playlist has not changed. */
	*poll_ms = fresh ? f->target_ms : f->target_ms / 2;
	if (!fresh && pl->endlist)
		return PC_HLS_FOLLOW_ENDED;
	if (!fresh && now_ms - f->changed_ms >= (uint64_t)PC_HLS_FOLLOW_STALL * f->target_ms)
		return PC_HLS_FOLLOW_STALLED;
	return PC_HLS_FOLLOW_OK;
}

bool pc_hls_follow_fetched(struct pc_hls_follow *f, uint64_t seq)
{
	bool gap = f->discontinuity;
	if (seq >= f->next_seq)
		f->next_seq = seq + 1;
	f->discontinuity = false;
	return gap;
}
