/* Unit tests of HLS media playlists (lib/proto/hls.h): ffmpeg's playlist
 * (tests/fixtures/live/ffmpeg.m3u8) and hand-written ones parsed; every
 * refusal with its reason (master playlists, encryption, bad URIs, bad
 * numbers, misplaced or repeated tags, EXTINF over the target); the
 * edge's live playlist written byte for byte, its window, target and
 * discontinuity sequence; and parse(write(x)) giving x back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/err.h"
#include "lib/base/file.h"
#include "lib/proto/hls.h"
#include "lib/proto/hls_follow.h"

#define LIVE_DIR PC_FIXTURES_DIR "/live/"

static int parse(const char *text, struct pc_hls_playlist *pl, struct pc_hls_segment *segs,
                 size_t cap, struct pc_hls_fault *fault)
{
	return pc_hls_parse(text, strlen(text), pl, segs, cap, fault);
}

static void assert_uri(const struct pc_hls_segment *s, const char *want)
{
	assert_int_equal(s->uri_len, strlen(want));
	assert_memory_equal(s->uri, want, s->uri_len);
}

static void test_ffmpeg_playlist(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(pc_file_read(LIVE_DIR "ffmpeg.m3u8", &text, &len), 0);
	struct pc_hls_playlist pl;
	struct pc_hls_segment segs[8];
	assert_int_equal(pc_hls_parse(text, len, &pl, segs, 8, NULL), 0);
	assert_int_equal(pl.version, 3);
	assert_int_equal(pl.target_duration, 2);
	assert_int_equal(pl.media_sequence, 0);
	assert_true(pl.endlist);
	assert_int_equal(pl.n_segments, 3);
	for (unsigned i = 0; i < 3; i++) {
		char want[16];
		snprintf(want, sizeof(want), "seg%03u.ts", i);
		assert_uri(&segs[i], want);
		assert_int_equal(segs[i].duration_ms, 2000);
		assert_int_equal(segs[i].seq, i);
		assert_false(segs[i].discontinuity);
	}
	free(text);
}

static void test_live_playlist(void **state)
{
	(void)state;
	const char *text = "#EXTM3U\r\n"
	                   "#EXT-X-VERSION:3\r\n"
	                   "#EXT-X-TARGETDURATION:4\r\n"
	                   "#EXT-X-MEDIA-SEQUENCE:1000\r\n"
	                   "#EXT-X-DISCONTINUITY-SEQUENCE:2\r\n"
	                   "#EXT-X-INDEPENDENT-SEGMENTS\r\n"
	                   "# a comment\r\n"
	                   "\r\n"
	                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-29T20:00:00.000Z\r\n"
	                   "#EXTINF:3.9995,title, with comma\r\n"
	                   "live/a-1.ts\r\n"
	                   "#EXT-X-DISCONTINUITY\r\n"
	                   "#EXT-X-KEY:METHOD=NONE\r\n"
	                   "#EXT-X-SOMETHING-NEW:X=1\r\n"
	                   "#EXTINF:4,\r\n"
	                   "live/b_2.ts\r\n"
	                   "#EXTINF:0.04,\n"
	                   "c~3.ts";
	struct pc_hls_playlist pl;
	struct pc_hls_segment segs[3];
	struct pc_hls_fault fault;
	assert_int_equal(parse(text, &pl, segs, 3, &fault), 0);
	assert_int_equal(pl.target_duration, 4);
	assert_int_equal(pl.media_sequence, 1000);
	assert_int_equal(pl.discontinuity_sequence, 2);
	assert_false(pl.endlist);
	assert_int_equal(pl.n_segments, 3);
	assert_uri(&segs[0], "live/a-1.ts");
	assert_int_equal(segs[0].duration_ms, 4000); /* 3999.5 rounds up */
	assert_int_equal(segs[0].seq, 1000);
	assert_false(segs[0].discontinuity);
	assert_uri(&segs[1], "live/b_2.ts");
	assert_int_equal(segs[1].duration_ms, 4000);
	assert_true(segs[1].discontinuity);
	assert_uri(&segs[2], "c~3.ts");
	assert_int_equal(segs[2].duration_ms, 40);
	assert_int_equal(segs[2].seq, 1002);
	/* fewer slots than segments */
	assert_int_equal(parse(text, &pl, segs, 2, &fault), PC_ENOSPC);
	assert_int_equal(fault.line, 18);
}

static void test_refused(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int rc;
		unsigned line;
	} cases[] = {
	    {"", PC_ESYNTAX, 0},
	    {"#EXTM3U", PC_ESYNTAX, 0}, /* no target duration */
	    {"#EXTM3U \n#EXT-X-TARGETDURATION:2\n", PC_ESYNTAX, 1},
	    {"\xef\xbb\xbf#EXTM3U\n#EXT-X-TARGETDURATION:2\n", PC_ESYNTAX, 1},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-TARGETDURATION:2\n", PC_ESYNTAX, 3},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:0\n", PC_ESYNTAX, 2},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2.5\n", PC_ESYNTAX, 2},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:-1\n", PC_ESYNTAX, 2},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:99999999999999999999999\n", PC_ESYNTAX, 2},
	    {"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n", PC_ESYNTAX,
	     3},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\na.ts\n", PC_ESYNTAX, 3},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n", PC_ESYNTAX, 3},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n#EXTINF:2,\na.ts\n", PC_ESYNTAX, 4},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2\na.ts\n", PC_ESYNTAX, 3},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:x,\na.ts\n", PC_ESYNTAX, 3},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.,\na.ts\n", PC_ESYNTAX, 3},
	    /* §4.3.3.1: 2.5 rounds to 3 > 2 */
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.5,\na.ts\n", PC_ESYNTAX, 3},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXT-X-MEDIA-SEQUENCE:4\n",
	     PC_ESYNTAX, 5},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-ENDLIST\n#EXT-X-ENDLIST\n", PC_ESYNTAX, 4},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:LIVE\n", PC_ESYNTAX, 3},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na\tb.ts\n", PC_ESYNTAX, 4},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na\x01.ts\n", PC_ESYNTAX, 4},
	    /* URIs that are not relative paths */
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nhttp://x/a.ts\n", PC_ESYNTAX, 4},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n/a.ts\n", PC_ESYNTAX, 4},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n../a.ts\n", PC_ESYNTAX, 4},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na/../../b.ts\n", PC_ESYNTAX, 4},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na//b.ts\n", PC_ESYNTAX, 4},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n./b.ts\n", PC_ESYNTAX, 4},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts?x=1\n", PC_ESYNTAX, 4},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na%2e.ts\n", PC_ESYNTAX, 4},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na/\n", PC_ESYNTAX, 4},
	    /* what this parser does not take */
	    {"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nlow.m3u8\n", PC_ENOTSUP, 2},
	    {"#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=a,NAME=x\n", PC_ENOTSUP, 2},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n", PC_ENOTSUP,
	     3},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-KEY:URI=\"k\"\n", PC_ESYNTAX, 3},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"init.mp4\"\n", PC_ENOTSUP, 3},
	    {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n#EXT-X-BYTERANGE:100@0\na.ts\n",
	     PC_ENOTSUP, 4},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pc_hls_playlist pl;
		struct pc_hls_segment segs[4];
		struct pc_hls_fault fault;
		int rc = parse(cases[i].text, &pl, segs, 4, &fault);
		if (rc != cases[i].rc || fault.line != cases[i].line)
			print_error("case %zu: rc %d line %u (%s)\n", i, rc, fault.line,
			            fault.why ? fault.why : "-");
		assert_int_equal(rc, cases[i].rc);
		assert_int_equal(fault.line, cases[i].line);
		assert_non_null(fault.why);
	}
	/* a long URI, and a long playlist */
	char uri[PC_HLS_URI_MAX + 2];
	memset(uri, 'a', sizeof(uri));
	assert_true(pc_hls_uri_ok(uri, PC_HLS_URI_MAX));
	assert_false(pc_hls_uri_ok(uri, PC_HLS_URI_MAX + 1));
	char *big = malloc(PC_HLS_PLAYLIST_MAX + 2);
	memset(big, '\n', PC_HLS_PLAYLIST_MAX + 1);
	memcpy(big, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n", 32);
	struct pc_hls_playlist pl;
	struct pc_hls_segment segs[1];
	assert_int_equal(pc_hls_parse(big, PC_HLS_PLAYLIST_MAX, &pl, segs, 1, NULL), 0);
	assert_int_equal(pc_hls_parse(big, PC_HLS_PLAYLIST_MAX + 1, &pl, segs, 1, NULL), PC_ERANGE);
	free(big);
}

static struct pc_hls_segment seg(const char *uri, uint32_t ms, uint64_t seq, bool disc)
{
	return (struct pc_hls_segment){uri, strlen(uri), ms, seq, disc};
}

static void test_write_live(void **state)
{
	(void)state;
	struct pc_hls_segment segs[] = {
	    seg("s/40.ts", 2000, 40, false), seg("s/41.ts", 2000, 41, true),
	    seg("s/42.ts", 2000, 42, false), seg("s/43.ts", 2400, 43, true),
	    seg("s/44.ts", 1960, 44, false),
	};
	struct pc_hls_live live = {.segs = segs, .n = 5, .window = 3, .target_min = 2};
	char out[1024];
	int n = pc_hls_write_live(&live, out, sizeof(out));
	const char *want = "#EXTM3U\n"
	                   "#EXT-X-VERSION:3\n"
	                   "#EXT-X-TARGETDURATION:3\n"
	                   "#EXT-X-MEDIA-SEQUENCE:42\n"
	                   "#EXT-X-DISCONTINUITY-SEQUENCE:1\n"
	                   "#EXTINF:2.000,\n"
	                   "s/42.ts\n"
	                   "#EXT-X-DISCONTINUITY\n"
	                   "#EXTINF:2.400,\n"
	                   "s/43.ts\n"
	                   "#EXTINF:1.960,\n"
	                   "s/44.ts\n";
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(out, want);
	/* every byte is needed */
	assert_int_equal(pc_hls_write_live(&live, out, (size_t)n), PC_ESPACE);
	assert_int_equal(pc_hls_write_live(&live, out, (size_t)n + 1), n);

	/* all, ended, and a floor on the target */
	live.window = 0;
	live.target_min = 6;
	live.ended = true;
	live.discontinuity_sequence = 7;
	n = pc_hls_write_live(&live, out, sizeof(out));
	assert_true(n > 0);
	assert_non_null(strstr(out, "#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:40\n"
	                            "#EXT-X-DISCONTINUITY-SEQUENCE:7\n"));
	assert_non_null(strstr(out, "s/44.ts\n#EXT-X-ENDLIST\n"));

	/* absolute URIs under a prefix, as the edge writes them */
	live.uri_prefix = "/tv.example/live/";
	n = pc_hls_write_live(&live, out, sizeof(out));
	assert_true(n > 0);
	assert_non_null(strstr(out, "#EXTINF:2.000,\n/tv.example/live/s/40.ts\n"));
	assert_non_null(strstr(out, "#EXTINF:1.960,\n/tv.example/live/s/44.ts\n#EXT-X-ENDLIST\n"));
	live.uri_prefix = "/";
	n = pc_hls_write_live(&live, out, sizeof(out));
	assert_non_null(strstr(out, "\n/s/40.ts\n"));
	const char *bad[] = {"tv/", "/tv", "//", "/a//", "/../", "/a b/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		live.uri_prefix = bad[i];
		assert_int_equal(pc_hls_write_live(&live, out, sizeof(out)), PC_EINVAL);
	}
	live.uri_prefix = NULL;

	/* refused */
	live.n = 0;
	assert_int_equal(pc_hls_write_live(&live, out, sizeof(out)), PC_EINVAL);
	live.n = 5;
	segs[2].seq = 50;
	assert_int_equal(pc_hls_write_live(&live, out, sizeof(out)), PC_EINVAL);
	segs[2].seq = 42;
	segs[2].uri = "../x.ts";
	segs[2].uri_len = 7;
	assert_int_equal(pc_hls_write_live(&live, out, sizeof(out)), PC_EINVAL);
}

/* What the edge writes, ingest parses back the same. */
static void test_round_trip(void **state)
{
	(void)state;
	struct pc_hls_segment segs[64];
	char names[64][16];
	for (unsigned i = 0; i < 64; i++) {
		snprintf(names[i], sizeof(names[i]), "c/%u.ts", 900 + i);
		segs[i] = seg(names[i], 1000 + (i * 37) % 3000, 900 + i, i % 7 == 3);
	}
	for (size_t window = 1; window <= 64; window += 9) {
		struct pc_hls_live live = {.segs = segs, .n = 64, .window = window};
		char out[8192];
		int n = pc_hls_write_live(&live, out, sizeof(out));
		assert_true(n > 0);
		struct pc_hls_playlist pl;
		struct pc_hls_segment back[64];
		struct pc_hls_fault fault;
		assert_int_equal(pc_hls_parse(out, (size_t)n, &pl, back, 64, &fault), 0);
		assert_int_equal(pl.version, 3);
		assert_int_equal(pl.n_segments, window);
		assert_false(pl.endlist);
		size_t first = 64 - window;
		unsigned slid = 0;
		uint32_t longest = 0;
		for (size_t i = 0; i < first; i++)
			slid += segs[i].discontinuity;
		assert_int_equal(pl.discontinuity_sequence, slid);
		assert_int_equal(pl.media_sequence, segs[first].seq);
		for (size_t i = 0; i < window; i++) {
			const struct pc_hls_segment *a = &segs[first + i], *b = &back[i];
			assert_int_equal(b->uri_len, a->uri_len);
			assert_memory_equal(b->uri, a->uri, a->uri_len);
			assert_int_equal(b->duration_ms, a->duration_ms);
			assert_int_equal(b->seq, a->seq);
			assert_int_equal(b->discontinuity, a->discontinuity);
			if (a->duration_ms > longest)
				longest = a->duration_ms;
		}
		assert_int_equal(pl.target_duration, (longest + 999) / 1000);
	}
}

/* A live playlist of n 2 s segments from seq, as a provider's server
 * serves it. */
static struct pc_hls_playlist live_pl(uint64_t seq, size_t n, bool endlist)
{
	return (struct pc_hls_playlist){.version = 3,
	                                .target_duration = 2,
	                                .media_sequence = seq,
	                                .endlist = endlist,
	                                .n_segments = n};
}

/* The cascade's follower: newest first, then each new segment once and in
 * order, gaps and restarts marked, stalls reported. */
static void test_follow(void **state)
{
	(void)state;
	struct pc_hls_follow f = {0};
	size_t first;
	uint32_t poll;
	struct pc_hls_playlist pl = live_pl(10, 5, false); /* 10..14 */
	assert_int_equal(pc_hls_follow_update(&f, &pl, 1000, &first, &poll), PC_HLS_FOLLOW_OK);
	assert_int_equal(first, 4); /* the newest: 14 */
	assert_int_equal(poll, 2000);
	assert_false(pc_hls_follow_fetched(&f, 14));

	/* the same playlist again: nothing new, poll at half the target */
	assert_int_equal(pc_hls_follow_update(&f, &pl, 2000, &first, &poll), PC_HLS_FOLLOW_OK);
	assert_int_equal(first, 5);
	assert_int_equal(poll, 1000);

	/* two more: 15 and 16, in order */
	pl = live_pl(12, 5, false); /* 12..16 */
	assert_int_equal(pc_hls_follow_update(&f, &pl, 3000, &first, &poll), PC_HLS_FOLLOW_OK);
	assert_int_equal(first, 3);
	assert_false(pc_hls_follow_fetched(&f, 15));
	/* a reload while 16 is still being fetched lists it again */
	assert_int_equal(pc_hls_follow_update(&f, &pl, 3100, &first, &poll), PC_HLS_FOLLOW_OK);
	assert_int_equal(first, 4);
	assert_false(pc_hls_follow_fetched(&f, 16));

	/* stalled: nothing new for three target durations */
	assert_int_equal(pc_hls_follow_update(&f, &pl, 8999, &first, &poll), PC_HLS_FOLLOW_OK);
	assert_int_equal(pc_hls_follow_update(&f, &pl, 9000, &first, &poll), PC_HLS_FOLLOW_STALLED);

	/* we fell behind: 17..19 slid out, 20 follows a gap */
	pl = live_pl(20, 5, false);
	assert_int_equal(pc_hls_follow_update(&f, &pl, 9500, &first, &poll), PC_HLS_FOLLOW_OK);
	assert_int_equal(first, 0);
	assert_int_equal(f.skipped, 3);
	assert_true(pc_hls_follow_fetched(&f, 20));
	assert_false(pc_hls_follow_fetched(&f, 21));

	/* the encoder restarted at 0: its newest, after a gap */
	pl = live_pl(0, 3, false);
	assert_int_equal(pc_hls_follow_update(&f, &pl, 10000, &first, &poll), PC_HLS_FOLLOW_OK);
	assert_int_equal(first, 2);
	assert_int_equal(f.restarts, 1);
	assert_true(pc_hls_follow_fetched(&f, 2));

	/* ended: the rest, then ENDED */
	pl = live_pl(1, 3, true); /* 1..3 */
	assert_int_equal(pc_hls_follow_update(&f, &pl, 11000, &first, &poll), PC_HLS_FOLLOW_OK);
	assert_int_equal(first, 2);
	pc_hls_follow_fetched(&f, 3);
	assert_int_equal(pc_hls_follow_update(&f, &pl, 12000, &first, &poll), PC_HLS_FOLLOW_ENDED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ffmpeg_playlist), cmocka_unit_test(test_live_playlist),
	    cmocka_unit_test(test_refused),         cmocka_unit_test(test_write_live),
	    cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_follow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
