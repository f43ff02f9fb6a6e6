/* libFuzzer target: the HLS media playlist parser and the live playlist
 * writer (lib/proto/hls.h). Besides not crashing: a refusal names its
 * reason; a parsed playlist's URIs lie inside the input and pass
 * pc_hls_uri_ok, its sequence numbers follow each other and no EXTINF
 * rounds above the target; and the live playlist written from the parsed
 * segments parses back to the same segments, and written again under a
 * URI prefix differs only by the prefix before each listed URI. The
 * cascade's follower, given the playlist twice, starts at its newest
 * segment and then finds nothing new. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"
#include "lib/proto/hls.h"
#include "lib/proto/hls_follow.h"

#define SEGS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pc_hls_segment segs[SEGS], back[SEGS];
	static char out[SEGS * (PC_HLS_URI_MAX + 64) + 256];
	const char *text = (const char *)data;
	struct pc_hls_playlist pl, pl2;
	struct pc_hls_fault fault;
	int rc = pc_hls_parse(text, size, &pl, segs, SEGS, &fault);
	if (rc != 0) {
		if (fault.why == NULL ||
		    (rc != PC_ESYNTAX && rc != PC_ENOTSUP && rc != PC_ENOSPC && rc != PC_ERANGE))
			abort();
		return 0;
	}
	if (pl.n_segments > SEGS)
		abort();
	for (size_t i = 0; i < pl.n_segments; i++) {
		const struct pc_hls_segment *s = &segs[i];
		if (s->uri < text || s->uri + s->uri_len > text + size ||
		    !pc_hls_uri_ok(s->uri, s->uri_len) || s->seq != pl.media_sequence + i ||
		    (s->duration_ms + 500) / 1000 > pl.target_duration)
			abort();
	}
	struct pc_hls_follow f = {0};
	size_t from;
	uint32_t poll;
	pc_hls_follow_update(&f, &pl, 1000, &from, &poll);
	if (poll == 0 || (pl.n_segments && from != pl.n_segments - 1) ||
	    (!pl.n_segments && from != 0))
		abort();
	for (size_t i = from; i < pl.n_segments; i++)
		pc_hls_follow_fetched(&f, segs[i].seq);
	pc_hls_follow_update(&f, &pl, 1500, &from, &poll);
	if (from != pl.n_segments || f.skipped || f.restarts)
		abort();
	if (pl.n_segments == 0)
		return 0;
	struct pc_hls_live live = {.segs = segs,
	                           .n = pl.n_segments,
	                           .window = size % 5,
	                           .discontinuity_sequence = pl.discontinuity_sequence};
	int n = pc_hls_write_live(&live, out, sizeof(out));
	if (n <= 0)
		abort();
	if (pc_hls_parse(out, (size_t)n, &pl2, back, SEGS, NULL) != 0)
		abort();
	size_t first = live.window && live.window < pl.n_segments ? pl.n_segments - live.window : 0;
	if (pl2.n_segments != pl.n_segments - first || pl2.endlist)
		abort();
	for (size_t i = 0; i < pl2.n_segments; i++) {
		const struct pc_hls_segment *a = &segs[first + i], *b = &back[i];
		if (a->uri_len != b->uri_len || memcmp(a->uri, b->uri, a->uri_len) != 0 ||
		    a->duration_ms != b->duration_ms || a->seq != b->seq ||
		    a->discontinuity != b->discontinuity)
			abort();
	}
	static char pre[sizeof(out) + SEGS * 16];
	live.uri_prefix = "/h.example/live/";
	int m = pc_hls_write_live(&live, pre, sizeof(pre));
	if (m != n + (int)(pl2.n_segments * 16))
		abort();
	size_t at = 0;
	for (int i = 0; i < m; i++)
		if (i > 0 && pre[i - 1] == '\n' && i + 16 <= m &&
		    memcmp(pre + i, live.uri_prefix, 16) == 0)
			i += 15;
		else if (out[at++] != pre[i])
			abort();
	return 0;
}
