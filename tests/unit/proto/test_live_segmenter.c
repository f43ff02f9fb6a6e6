/* Unit tests of the live segmenter (lib/proto/live_segmenter.h) on
 * ffmpeg's output (tests/fixtures/live): cuts at the keyframes a second
 * apart, durations from PTS (across a wrap at 2^33), PAT and PMT in front
 * of every segment with continuous counters, nothing of the program lost
 * or reordered, the same segments from any split, forced cuts at max_ms,
 * audio-only streams, oversize segments dropped with a discontinuity, a
 * PTS jump, lost sync; and each segment, written to a file, decoded whole
 * by ffprobe (scripts/install-deps.sh installs ffmpeg). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/base/err.h"
#include "lib/base/file.h"
#include "lib/proto/live_segmenter.h"

#define LIVE_DIR PC_FIXTURES_DIR "/live/"
#define SEGS_MAX 16

struct ts_file {
	uint8_t *data;
	size_t len;
};

static struct ts_file load(const char *name)
{
	char *buf = NULL;
	size_t len = 0;
	assert_int_equal(pc_file_read(name, &buf, &len), 0);
	return (struct ts_file){(uint8_t *)buf, len};
}

/* The segments of one run, copied out. */
struct run {
	unsigned n, errors;
	int last_error;
	struct {
		uint8_t *data;
		size_t len;
		uint64_t seq, first_pts;
		uint32_t ms;
		bool disc, rap;
	} seg[SEGS_MAX];
	struct pc_live_seg_stats stats;
};

static void keep(struct run *run, const struct pc_live_segment *s)
{
	assert_true(run->n < SEGS_MAX);
	run->seg[run->n].data = malloc(s->len);
	memcpy(run->seg[run->n].data, s->data, s->len);
	run->seg[run->n].len = s->len;
	run->seg[run->n].seq = s->seq;
	run->seg[run->n].first_pts = s->first_pts;
	run->seg[run->n].ms = s->duration_ms;
	run->seg[run->n].disc = s->discontinuity;
	run->seg[run->n].rap = s->random_access;
	run->n++;
}

static void run_free(struct run *run)
{
	for (unsigned i = 0; i < run->n; i++)
		free(run->seg[i].data);
}

static struct run segment(const uint8_t *p, size_t len, size_t chunk,
                          const struct pc_live_seg_params *params)
{
	struct run run;
	memset(&run, 0, sizeof(run));
	pc_live_seg *s = pc_live_seg_new(params);
	assert_non_null(s);
	for (size_t off = 0; off < len;) {
		size_t piece = len - off < chunk ? len - off : chunk;
		size_t taken = 0;
		for (;;) {
			size_t used;
			struct pc_live_segment out;
			int rc = pc_live_seg_feed(s, p + off + taken, piece - taken, &used, &out);
			taken += used;
			if (rc == 0)
				break;
			if (rc == 1) {
				keep(&run, &out);
				/* the bytes reported pending were the segment's */
				const uint8_t *pend;
				size_t pend_len;
				uint64_t seq;
				pc_live_seg_pending(s, &pend, &pend_len, &seq);
				assert_int_equal(pend_len, 0);
				continue;
			}
			run.errors++;
			run.last_error = rc;
			if (rc != PC_ERANGE) {
				run.stats = *pc_live_seg_stats(s);
				pc_live_seg_free(s);
				return run;
			}
		}
		assert_int_equal(taken, piece);
		off += piece;
	}
	struct pc_live_segment out;
	if (pc_live_seg_finish(s, &out) == 1)
		keep(&run, &out);
	assert_int_equal(pc_live_seg_finish(s, &out), 0);
	run.stats = *pc_live_seg_stats(s);
	pc_live_seg_free(s);
	return run;
}

static const struct pc_live_seg_params one_second = {
    .target_ms = 1000, .max_ms = 3000, .segment_max = 1 << 20, .first_seq = 7};

static uint16_t pid_of(const uint8_t *pkt)
{
	return (uint16_t)((pkt[1] & 0x1f) << 8 | pkt[2]);
}

static void test_cuts_at_keyframes(void **state)
{
	(void)state;
	struct ts_file f = load(LIVE_DIR "av.ts");
	struct run run = segment(f.data, f.len, f.len, &one_second);
	assert_int_equal(run.errors, 0);
	assert_int_equal(run.n, 4);
	uint8_t cc_pat = 0, cc_pmt = 0;
	for (unsigned i = 0; i < run.n; i++) {
		assert_int_equal(run.seg[i].seq, 7 + i);
		assert_int_equal(run.seg[i].ms, 1000);
		assert_int_equal(run.seg[i].first_pts, 133200 + 90000 * i);
		assert_true(run.seg[i].rap);
		assert_false(run.seg[i].disc);
		const uint8_t *d = run.seg[i].data;
		assert_int_equal(run.seg[i].len % 188, 0);
		/* PAT, PMT, then the keyframe's first packet */
		assert_int_equal(pid_of(d), 0);
		assert_int_equal(pid_of(d + 188), 0x1000);
		assert_int_equal(pid_of(d + 376), 0x100);
		assert_true(d[376 + 1] & 0x40); /* payload_unit_start */
		assert_true(d[376 + 5] & 0x40); /* random_access_indicator */
		/* the PAT and PMT counters go on across segments */
		for (size_t off = 0; off < run.seg[i].len; off += 188) {
			uint8_t *cc = pid_of(d + off) == 0        ? &cc_pat
			              : pid_of(d + off) == 0x1000 ? &cc_pmt
			                                          : NULL;
			if (cc == NULL)
				continue;
			assert_int_equal(d[off + 3] & 0x0f, *cc);
			*cc = (*cc + 1) & 0x0f;
		}
	}
	assert_int_equal(run.stats.segments, 4);
	assert_int_equal(run.stats.forced, 0);
	run_free(&run);
	free(f.data);
}

/* Without the re-inserted PAT and PMT, the segments are the program's
 * packets of the input from the first keyframe, in order: the audio and
 * video between keyframes are neither lost nor moved. */
static void test_nothing_lost(void **state)
{
	(void)state;
	struct ts_file f = load(LIVE_DIR "av.ts");
	struct run run = segment(f.data, f.len, 1000, &one_second);
	size_t in = 0;
	while (!(pid_of(f.data + in) == 0x100 && (f.data[in + 1] & 0x40)))
		in += 188;
	for (unsigned i = 0; i < run.n; i++) {
		for (size_t off = 2 * 188; off < run.seg[i].len; off += 188) {
			while (pid_of(f.data + in) == 0x11 || pid_of(f.data + in) == 0x1fff)
				in += 188; /* the SDT, null packets: dropped */
			const uint8_t *want = f.data + in, *got = run.seg[i].data + off;
			assert_int_equal(pid_of(got), pid_of(want));
			if (pid_of(got) == 0 || pid_of(got) == 0x1000)
				assert_memory_equal(got + 4, want + 4,
				                    184); /* counters renumbered */
			else
				assert_memory_equal(got, want, 188);
			in += 188;
		}
	}
	assert_int_equal(in, f.len);
	run_free(&run);
	free(f.data);
}

static void test_any_split(void **state)
{
	(void)state;
	struct ts_file f = load(LIVE_DIR "av.ts");
	struct run whole = segment(f.data, f.len, f.len, &one_second);
	static const size_t chunks[] = {1, 188, 189, 5000};
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct run run = segment(f.data, f.len, chunks[c], &one_second);
		assert_int_equal(run.n, whole.n);
		for (unsigned i = 0; i < run.n; i++) {
			assert_int_equal(run.seg[i].len, whole.seg[i].len);
			assert_memory_equal(run.seg[i].data, whole.seg[i].data, run.seg[i].len);
			assert_int_equal(run.seg[i].ms, whole.seg[i].ms);
		}
		run_free(&run);
	}
	run_free(&whole);
	free(f.data);
}

/* Clears every adaptation field's random_access_indicator. */
static void clear_rai(uint8_t *p, size_t len)
{
	for (size_t off = 0; off + 188 <= len; off += 188)
		if ((p[off + 3] & 0x20) && p[off + 4] > 0)
			p[off + 5] &= (uint8_t)~0x40;
}

/* Without the adaptation field's flag, the reader learns of each keyframe
 * from its IDR NAL, past the PES's first packet (x264's SEI comes first):
 * the cuts, made late at the remembered PES start, are the same. */
static void check_late_cuts(const char *name, size_t chunk)
{
	struct ts_file f = load(name);
	struct run flagged = segment(f.data, f.len, f.len, &one_second);
	clear_rai(f.data, f.len);
	struct run late = segment(f.data, f.len, chunk, &one_second);
	assert_int_equal(late.n, flagged.n);
	for (unsigned i = 0; i < late.n; i++) {
		clear_rai(flagged.seg[i].data, flagged.seg[i].len);
		assert_int_equal(late.seg[i].len, flagged.seg[i].len);
		assert_memory_equal(late.seg[i].data, flagged.seg[i].data, late.seg[i].len);
		assert_int_equal(late.seg[i].ms, flagged.seg[i].ms);
		assert_true(late.seg[i].rap);
	}
	run_free(&late);
	run_free(&flagged);
	free(f.data);
}

static void test_late_random_access(void **state)
{
	(void)state;
	check_late_cuts(LIVE_DIR "av.ts", 1);
	check_late_cuts(LIVE_DIR "av.ts", 4096);
	check_late_cuts(LIVE_DIR "hevc.ts", 500);
}

static void test_target_and_forced(void **state)
{
	(void)state;
	struct ts_file f = load(LIVE_DIR "av.ts");
	struct pc_live_seg_params two = one_second;
	two.target_ms = 1500;
	struct run run = segment(f.data, f.len, f.len, &two);
	assert_int_equal(run.n, 2);
	assert_int_equal(run.seg[0].ms, 2000);
	assert_int_equal(run.seg[1].ms, 2000);
	run_free(&run);

	/* keyframes a second apart, max 400 ms: cut at a frame's PES start,
	 * so that only the first segment and the one at 2 s start at one */
	struct pc_live_seg_params short_max = one_second;
	short_max.target_ms = 400;
	short_max.max_ms = 400;
	run = segment(f.data, f.len, f.len, &short_max);
	assert_int_equal(run.n, 10);
	assert_int_equal(run.stats.forced, 8);
	for (unsigned i = 0; i < run.n; i++) {
		assert_int_equal(run.seg[i].ms, 400);
		assert_int_equal(run.seg[i].rap, i == 0 || i == 5);
		assert_int_equal(pid_of(run.seg[i].data + 376), 0x100);
		assert_true(run.seg[i].data[376 + 1] & 0x40);
	}
	run_free(&run);
	free(f.data);
}

static void test_pts_wrap(void **state)
{
	(void)state;
	struct ts_file f = load(LIVE_DIR "wrap.ts");
	struct run run = segment(f.data, f.len, 777, &one_second);
	assert_int_equal(run.n, 4);
	for (unsigned i = 0; i < run.n; i++) {
		assert_int_equal(run.seg[i].ms, 1000);
		assert_false(run.seg[i].disc);
	}
	assert_true(run.seg[0].first_pts > run.seg[3].first_pts); /* it wrapped */
	run_free(&run);
	free(f.data);
}

static void test_audio_only(void **state)
{
	(void)state;
	struct ts_file f = load(LIVE_DIR "audio.ts");
	struct pc_live_seg_params p = one_second;
	p.target_ms = 500;
	struct run run = segment(f.data, f.len, 1000, &p);
	assert_true(run.n >= 2);
	uint32_t total = 0;
	for (unsigned i = 0; i < run.n; i++) {
		assert_true(run.seg[i].rap);
		assert_int_equal(pid_of(run.seg[i].data + 376), 0x100);
		total += run.seg[i].ms;
	}
	assert_in_range(total, 1900, 2300);
	run_free(&run);
	free(f.data);
}

static void test_oversize(void **state)
{
	(void)state;
	struct ts_file f = load(LIVE_DIR "av.ts");
	struct run all = segment(f.data, f.len, f.len, &one_second);
	/* a limit between the segments' sizes */
	struct pc_live_seg_params p = one_second;
	p.segment_max = all.seg[0].len;
	assert_true(all.seg[1].len > p.segment_max && all.seg[2].len <= p.segment_max);
	struct run run = segment(f.data, f.len, 4096, &p);
	assert_true(run.errors >= 1);
	assert_int_equal(run.last_error, PC_ERANGE);
	assert_int_equal(run.stats.oversize, run.errors);
	assert_int_equal(run.seg[0].seq, 7);
	assert_false(run.seg[0].disc);
	/* the dropped segment's number is spent; the next one follows a
	 * discontinuity and is whole */
	assert_int_equal(run.seg[1].seq, 9);
	assert_true(run.seg[1].disc);
	assert_int_equal(run.seg[1].len, all.seg[2].len);
	run_free(&run);
	run_free(&all);
	free(f.data);
}

static void test_pts_jump(void **state)
{
	(void)state;
	struct ts_file a = load(LIVE_DIR "av.ts"), b = load(LIVE_DIR "wrap.ts");
	uint8_t *both = malloc(a.len + b.len);
	memcpy(both, a.data, a.len);
	memcpy(both + a.len, b.data, b.len);
	struct run run = segment(both, a.len + b.len, 4096, &one_second);
	assert_int_equal(run.n, 8);
	for (unsigned i = 0; i < run.n; i++) {
		assert_int_equal(run.seg[i].disc, i == 4);
		assert_int_equal(run.seg[i].ms, 1000);
	}
	assert_int_equal(run.stats.discontinuities, 1);
	run_free(&run);
	free(both);
	free(a.data);
	free(b.data);
}

static void test_lost_sync(void **state)
{
	(void)state;
	struct ts_file f = load(LIVE_DIR "av.ts");
	f.data[188 * 200] = 0;
	struct run run = segment(f.data, f.len, 1000, &one_second);
	assert_int_equal(run.errors, 1);
	assert_int_equal(run.last_error, PC_ESYNTAX);
	assert_int_equal(run.n, 2); /* those closed before */
	run_free(&run);
	free(f.data);
	struct pc_live_seg_params bad = one_second;
	bad.max_ms = 999;
	assert_null(pc_live_seg_new(&bad));
}

/* A PAT that fails its CRC is counted and not re-inserted: every segment
 * begins with the last good one. */
static void test_bad_pat_not_reinserted(void **state)
{
	(void)state;
	struct ts_file f = load(LIVE_DIR "av.ts");
	uint8_t good[188];
	size_t first = 0;
	while (pid_of(f.data + first) != 0)
		first += 188;
	memcpy(good, f.data + first, 188);
	unsigned broken = 0;
	for (size_t off = 188 * 50; off < f.len; off += 188)
		if (pid_of(f.data + off) == 0) {
			f.data[off + 5 + 3 + 12 - 1] ^= 0xff; /* the CRC's last byte */
			broken++;
		}
	assert_true(broken > 0);
	struct run run = segment(f.data, f.len, 1000, &one_second);
	assert_int_equal(run.n, 4);
	for (unsigned i = 0; i < run.n; i++) {
		assert_memory_equal(run.seg[i].data, good, 3);
		assert_memory_equal(run.seg[i].data + 4, good + 4, 184);
	}
	run_free(&run);
	free(f.data);
}

/* Every segment decodes on its own: ffprobe reads it with no error and
 * finds its 25 video frames. */
static void test_segments_decode(void **state)
{
	(void)state;
	struct ts_file f = load(LIVE_DIR "av.ts");
	struct run run = segment(f.data, f.len, 1000, &one_second);
	char dir[] = "/tmp/pc_live_seg_XXXXXX";
	assert_non_null(mkdtemp(dir));
	for (unsigned i = 0; i < run.n; i++) {
		char path[128], cmd[512], out[256] = "";
		snprintf(path, sizeof(path), "%s/%u.ts", dir, i);
		FILE *w = fopen(path, "wb");
		assert_non_null(w);
		assert_int_equal(fwrite(run.seg[i].data, 1, run.seg[i].len, w), run.seg[i].len);
		fclose(w);
		snprintf(cmd, sizeof(cmd),
		         "ffprobe -v error -count_frames -select_streams v:0 -show_entries "
		         "stream=codec_name,nb_read_frames -of csv=p=0 %s 2>&1",
		         path);
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		size_t n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = 0;
		assert_int_equal(pclose(p), 0);
		/* the stream, once in its program and once alone; nothing else */
		assert_string_equal(out, "h264,25\n\nh264,25\n");
		unlink(path);
	}
	rmdir(dir);
	run_free(&run);
	free(f.data);
}

/* ---- a stream made here: a held candidate that fills the buffer ---- */

static uint32_t crc32_mpeg(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < len; i++) {
		crc ^= (uint32_t)p[i] << 24;
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04c11db7u : crc << 1;
	}
	return crc;
}

/* One packet of pid with payload (the rest stuffed with 0xff). */
static void ts_packet(uint8_t *pkt, uint16_t pid, bool unit_start, uint8_t *cc,
                      const uint8_t *payload, size_t len)
{
	memset(pkt, 0xff, PC_TS_PACKET);
	pkt[0] = PC_TS_SYNC;
	pkt[1] = (uint8_t)((unit_start ? 0x40 : 0) | pid >> 8);
	pkt[2] = (uint8_t)pid;
	pkt[3] = (uint8_t)(0x10 | (*cc)++ % 16);
	memcpy(pkt + 4, payload, len);
}

/* A PSI section after a pointer field, its length and CRC filled in. */
static void psi_packet(uint8_t *pkt, uint16_t pid, uint8_t *cc, const uint8_t *body, size_t len)
{
	uint8_t sec[64] = {0};
	memcpy(sec + 1, body, len);
	sec[1 + 1] = (uint8_t)(0xb0 | (len + 4 - 3) >> 8);
	sec[1 + 2] = (uint8_t)(len + 4 - 3);
	uint32_t crc = crc32_mpeg(sec + 1, len);
	for (int i = 0; i < 4; i++)
		sec[1 + len + i] = (uint8_t)(crc >> (24 - 8 * i));
	ts_packet(pkt, pid, true, cc, sec, 1 + len + 4);
}

/* A video PES whose random-access picture shows only in a later packet
 * (its first packet holds an access unit delimiter), the audio packets
 * that follow filling the buffer almost to segment_max and its slack: a
 * segment opened there, with a PAT and PMT put in front, would not fit.
 * It is dropped (counted oversize, the next one after a discontinuity),
 * not written past the buffer; no segment was open, so no number spent. */
static void test_late_random_access_full_buffer(void **state)
{
	(void)state;
	enum { SEGMENT_MAX = 4 * PC_TS_PACKET, SLACK = 64 * 1024 + 16 * PC_TS_PACKET };
	size_t n = (SEGMENT_MAX + SLACK) / PC_TS_PACKET + 2;
	uint8_t *ts = calloc(n, PC_TS_PACKET);
	assert_non_null(ts);
	uint8_t cc[3] = {0};
	static const uint8_t pat[] = {0x00, 0, 0, 0x00, 0x01, 0xc1, 0, 0, 0x00, 0x01, 0xe1, 0x00};
	static const uint8_t pmt[] = {0x02, 0,    0,    0x00, 0x01, 0xc1, 0,    0, 0xe1,
	                              0x01, 0xf0, 0,    0x1b, 0xe1, 0x01, 0xf0, 0, /* H.264 */
	                              0x0f, 0xe1, 0x02, 0xf0, 0};                  /* AAC */
	static const uint8_t pes[] = {0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5,   0x21, 0,
	                              1, 0, 1, 0,    0, 0, 1,    0x09, 0xf0}; /* PTS 0; an AUD */
	static const uint8_t idr[] = {0, 0, 0, 1, 0x65};
	static const uint8_t audio[] = {0x12, 0x34};
	size_t k = 0;
	psi_packet(ts + k++ * PC_TS_PACKET, 0x000, &cc[0], pat, sizeof(pat));
	psi_packet(ts + k++ * PC_TS_PACKET, 0x100, &cc[1], pmt, sizeof(pmt));
	uint8_t video_cc = 0, audio_cc = 0;
	ts_packet(ts + k++ * PC_TS_PACKET, 0x101, true, &video_cc, pes, sizeof(pes));
	/* the buffer's last packet is the one that tells */
	size_t last = 2 + (SEGMENT_MAX + SLACK) / PC_TS_PACKET - 1;
	while (k < n) {
		if (k == last)
			ts_packet(ts + k++ * PC_TS_PACKET, 0x101, false, &video_cc, idr,
			          sizeof(idr));
		else
			ts_packet(ts + k++ * PC_TS_PACKET, 0x102, false, &audio_cc, audio,
			          sizeof(audio));
	}
	struct pc_live_seg_params p = one_second;
	p.segment_max = SEGMENT_MAX;
	p.first_seq = 7;
	pc_live_seg *s = pc_live_seg_new(&p);
	assert_non_null(s);
	for (size_t off = 0; off < n * PC_TS_PACKET;) {
		size_t used;
		struct pc_live_segment out;
		int rc = pc_live_seg_feed(s, ts + off, n * PC_TS_PACKET - off, &used, &out);
		assert_int_equal(rc, 0);
		off += used;
	}
	assert_int_equal(pc_live_seg_stats(s)->oversize, 1);
	assert_int_equal(pc_live_seg_stats(s)->segments, 0);
	const uint8_t *pend;
	size_t pend_len;
	uint64_t seq;
	pc_live_seg_pending(s, &pend, &pend_len, &seq);
	assert_int_equal(pend_len, 0);
	assert_int_equal(seq, 7);
	pc_live_seg_free(s);
	free(ts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cuts_at_keyframes),
	    cmocka_unit_test(test_nothing_lost),
	    cmocka_unit_test(test_any_split),
	    cmocka_unit_test(test_target_and_forced),
	    cmocka_unit_test(test_pts_wrap),
	    cmocka_unit_test(test_audio_only),
	    cmocka_unit_test(test_oversize),
	    cmocka_unit_test(test_pts_jump),
	    cmocka_unit_test(test_lost_sync),
	    cmocka_unit_test(test_segments_decode),
	    cmocka_unit_test(test_bad_pat_not_reinserted),
	    cmocka_unit_test(test_late_random_access),
	    cmocka_unit_test(test_late_random_access_full_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
