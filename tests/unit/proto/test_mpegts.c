/* Unit tests of the MPEG-TS reader (lib/proto/mpegts.h) on ffmpeg's
 * output (tests/fixtures/live, made by make.sh there): the program and
 * its streams, PTS and DTS, random-access points from the adaptation field
 * and, with it cleared, from the H.264 and H.265 NALs; any split of the
 * input; continuity errors and duplicates counted; lost sync, bad
 * adaptation fields and PSI rejected. */
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
#include "lib/proto/mpegts.h"

#define LIVE_DIR PC_FIXTURES_DIR "/live/"

struct ts_file {
	uint8_t *data;
	size_t len;
};

static struct ts_file load(const char *name)
{
	char *buf = NULL;
	size_t len = 0;
	assert_int_equal(pc_file_read(name, &buf, &len), 0);
	assert_true(len > 0 && len % PC_TS_PACKET == 0);
	return (struct ts_file){(uint8_t *)buf, len};
}

/* What a whole read of a stream saw. */
struct tally {
	unsigned packets, pes_starts, raps, video_raps, cc_errors, duplicates;
	uint64_t first_video_pts, first_video_dts;
	bool have_first;
	int rc;
};

static void count(struct tally *t, const pc_ts_reader *r, const struct pc_ts_packet_info *info)
{
	t->packets++;
	if (info->flags & PC_TS_F_PES_START)
		t->pes_starts++;
	if (info->flags & PC_TS_F_CC_ERROR)
		t->cc_errors++;
	if (info->flags & PC_TS_F_DUPLICATE)
		t->duplicates++;
	if (info->flags & PC_TS_F_RAP) {
		t->raps++;
		const struct pc_ts_program *p = pc_ts_reader_program(r);
		if (p != NULL && info->pid == p->video_pid)
			t->video_raps++;
	}
	if (!t->have_first && info->kind == PC_TS_KIND_VIDEO && (info->flags & PC_TS_F_PTS)) {
		t->have_first = true;
		t->first_video_pts = info->pts;
		t->first_video_dts = (info->flags & PC_TS_F_DTS) ? info->dts : info->pts;
	}
}

/* Reads p[0..len) in pieces of chunk bytes. */
static struct tally read_split(pc_ts_reader *r, const uint8_t *p, size_t len, size_t chunk)
{
	struct tally t;
	memset(&t, 0, sizeof(t)); /* padding too: runs are compared whole */
	for (size_t off = 0; off < len;) {
		size_t piece = len - off < chunk ? len - off : chunk;
		size_t taken = 0;
		while (taken < piece) {
			size_t used;
			struct pc_ts_packet_info info;
			int rc = pc_ts_reader_next(r, p + off + taken, piece - taken, &used, &info);
			assert_true(used <= piece - taken);
			taken += used;
			if (rc < 0) {
				t.rc = rc;
				return t;
			}
			if (rc == 1)
				count(&t, r, &info);
			else
				assert_int_equal(taken, piece);
		}
		off += piece;
	}
	return t;
}

static void test_program_and_timestamps(void **state)
{
	(void)state;
	struct ts_file f = load(LIVE_DIR "av.ts");
	pc_ts_reader *r = pc_ts_reader_new();
	assert_null(pc_ts_reader_program(r));
	struct tally t = read_split(r, f.data, f.len, f.len);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.packets, f.len / PC_TS_PACKET);
	const struct pc_ts_program *p = pc_ts_reader_program(r);
	assert_non_null(p);
	assert_int_equal(p->program_number, 1);
	assert_int_equal(p->pmt_pid, 0x1000);
	assert_int_equal(p->n_streams, 2);
	assert_int_equal(p->video_pid, 0x100);
	assert_int_equal(p->pcr_pid, 0x100);
	assert_int_equal(p->streams[0].codec, PC_TS_CODEC_H264);
	assert_int_equal(p->streams[0].kind, PC_TS_KIND_VIDEO);
	assert_int_equal(p->streams[1].pid, 0x101);
	assert_int_equal(p->streams[1].codec, PC_TS_CODEC_AAC);
	assert_int_equal(p->streams[1].kind, PC_TS_KIND_AUDIO);
	assert_string_equal(pc_ts_codec_name(p->streams[0].codec), "h264");
	/* ffmpeg's defaults: 1.4 s of delay, B-frames */
	assert_int_equal(t.first_video_pts, 133200);
	assert_int_equal(t.first_video_dts, 126000);
	/* 4 s at a keyframe a second; 100 video frames */
	assert_int_equal(t.video_raps, 4);
	const struct pc_ts_stats *st = pc_ts_reader_stats(r);
	assert_int_equal(st->cc_errors, 0);
	assert_int_equal(st->psi_errors, 0);
	assert_int_equal(st->pes_errors, 0);
	assert_int_equal(st->pes_starts, t.pes_starts);
	assert_int_equal(st->random_access, t.raps);
	assert_true(t.pes_starts > 100);
	pc_ts_reader_free(r);
	free(f.data);
}

static void test_any_split(void **state)
{
	(void)state;
	struct ts_file f = load(LIVE_DIR "av.ts");
	pc_ts_reader *r = pc_ts_reader_new();
	struct tally whole = read_split(r, f.data, f.len, f.len);
	static const size_t chunks[] = {1, 2, 7, 187, 188, 189, 1000, 4096};
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		pc_ts_reader_reset(r);
		struct tally t = read_split(r, f.data, f.len, chunks[i]);
		assert_int_equal(t.rc, 0);
		assert_memory_equal(&t, &whole, sizeof(t));
	}
	/* a partial packet is kept, not counted */
	pc_ts_reader_reset(r);
	struct tally t = read_split(r, f.data, PC_TS_PACKET * 3 + 100, 50);
	assert_int_equal(t.packets, 3);
	pc_ts_reader_free(r);
	free(f.data);
}

/* Clears every adaptation field's random_access_indicator. */
static void clear_rai(struct ts_file *f)
{
	for (size_t off = 0; off < f->len; off += PC_TS_PACKET) {
		uint8_t *pkt = f->data + off;
		if ((pkt[3] & 0x20) && pkt[4] > 0)
			pkt[5] &= (uint8_t)~0x40;
	}
}

/* Without the adaptation field's flag the NALs tell the same keyframes. */
static void check_nal_scan(const char *name, enum pc_ts_codec codec, unsigned keyframes)
{
	struct ts_file f = load(name);
	pc_ts_reader *r = pc_ts_reader_new();
	struct tally with = read_split(r, f.data, f.len, f.len);
	assert_int_equal(pc_ts_reader_program(r)->streams[0].codec, codec);
	assert_int_equal(with.video_raps, keyframes);
	clear_rai(&f);
	pc_ts_reader_reset(r);
	struct tally without = read_split(r, f.data, f.len, 1);
	assert_int_equal(without.video_raps, keyframes);
	assert_int_equal(without.rc, 0);
	pc_ts_reader_free(r);
	free(f.data);
}

static void test_rap_from_nals(void **state)
{
	(void)state;
	check_nal_scan(LIVE_DIR "av.ts", PC_TS_CODEC_H264, 4);
	check_nal_scan(LIVE_DIR "hevc.ts", PC_TS_CODEC_H265, 2);
}

static void test_audio_only(void **state)
{
	(void)state;
	struct ts_file f = load(LIVE_DIR "audio.ts");
	pc_ts_reader *r = pc_ts_reader_new();
	struct tally t = read_split(r, f.data, f.len, 333);
	const struct pc_ts_program *p = pc_ts_reader_program(r);
	assert_int_equal(p->video_pid, PC_TS_PID_NONE);
	assert_int_equal(p->n_streams, 1);
	assert_int_equal(p->streams[0].codec, PC_TS_CODEC_AAC);
	/* every audio PES start is a random-access point */
	assert_true(t.pes_starts > 0);
	assert_int_equal(t.raps, t.pes_starts);
	pc_ts_reader_free(r);
	free(f.data);
}

/* The index of the n-th packet of pid. */
static size_t nth_of(const struct ts_file *f, uint16_t pid, unsigned n)
{
	for (size_t off = 0; off < f->len; off += PC_TS_PACKET) {
		const uint8_t *p = f->data + off;
		if (((p[1] & 0x1f) << 8 | p[2]) == pid && n-- == 0)
			return off;
	}
	fail();
	return 0;
}

static void test_continuity(void **state)
{
	(void)state;
	struct ts_file f = load(LIVE_DIR "av.ts");
	pc_ts_reader *r = pc_ts_reader_new();
	/* a lost packet of the video */
	size_t lost = nth_of(&f, 0x100, 10);
	uint8_t *cut = malloc(f.len);
	memcpy(cut, f.data, lost);
	memcpy(cut + lost, f.data + lost + PC_TS_PACKET, f.len - lost - PC_TS_PACKET);
	struct tally t = read_split(r, cut, f.len - PC_TS_PACKET, 1000);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.cc_errors, 1);
	assert_int_equal(pc_ts_reader_stats(r)->cc_errors, 1);
	free(cut);

	/* a packet repeated once is a duplicate, twice an error */
	size_t dup = nth_of(&f, 0x101, 3);
	uint8_t *more = malloc(f.len + 2 * PC_TS_PACKET);
	for (unsigned repeats = 1; repeats <= 2; repeats++) {
		memcpy(more, f.data, dup);
		for (unsigned i = 0; i < repeats; i++)
			memcpy(more + dup + i * PC_TS_PACKET, f.data + dup, PC_TS_PACKET);
		memcpy(more + dup + repeats * PC_TS_PACKET, f.data + dup, f.len - dup);
		pc_ts_reader_reset(r);
		t = read_split(r, more, f.len + repeats * PC_TS_PACKET, 188);
		assert_int_equal(t.rc, 0);
		assert_int_equal(t.duplicates, 1);
		assert_int_equal(t.cc_errors, repeats - 1);
	}
	free(more);

	/* a counter that jumps is an error, and so is the next packet's */
	pc_ts_reader_reset(r);
	size_t at = nth_of(&f, 0x100, 30);
	f.data[at + 3] = (uint8_t)((f.data[at + 3] & 0xf0) | ((f.data[at + 3] + 5) & 0x0f));
	t = read_split(r, f.data, f.len, f.len);
	assert_int_equal(t.cc_errors, 2); /* this packet, and the next */
	pc_ts_reader_free(r);
	free(f.data);
}

static void test_lost_sync(void **state)
{
	(void)state;
	struct ts_file f = load(LIVE_DIR "av.ts");
	pc_ts_reader *r = pc_ts_reader_new();
	f.data[PC_TS_PACKET * 5] = 0x48;
	struct tally t = read_split(r, f.data, f.len, 1000);
	assert_int_equal(t.rc, PC_ESYNTAX);
	assert_int_equal(t.packets, 5);
	/* sticky until reset */
	size_t used;
	struct pc_ts_packet_info info;
	assert_int_equal(pc_ts_reader_next(r, f.data, PC_TS_PACKET, &used, &info), PC_ESYNTAX);
	pc_ts_reader_reset(r);
	assert_int_equal(pc_ts_reader_next(r, f.data, PC_TS_PACKET, &used, &info), 1);
	/* a partial packet that does not start with the sync byte fails at once */
	pc_ts_reader_reset(r);
	assert_int_equal(pc_ts_reader_next(r, f.data + 1, 10, &used, &info), PC_ESYNTAX);
	/* bytes shifted by one, as after a lost byte */
	pc_ts_reader_reset(r);
	f.data[PC_TS_PACKET * 5] = 0x47;
	uint8_t *shifted = malloc(f.len);
	memcpy(shifted, f.data, PC_TS_PACKET * 2);
	memcpy(shifted + PC_TS_PACKET * 2, f.data + PC_TS_PACKET * 2 + 1,
	       f.len - PC_TS_PACKET * 2 - 1);
	t = read_split(r, shifted, f.len - 1, 4096);
	assert_int_equal(t.rc, PC_ESYNTAX);
	assert_int_equal(t.packets, 2);
	free(shifted);
	pc_ts_reader_free(r);
	free(f.data);
}

static int one_packet(uint8_t pkt[PC_TS_PACKET])
{
	pc_ts_reader *r = pc_ts_reader_new();
	struct pc_ts_packet_info info;
	int rc = pc_ts_reader_packet(r, pkt, &info);
	pc_ts_reader_free(r);
	return rc;
}

static void test_bad_packets(void **state)
{
	(void)state;
	uint8_t pkt[PC_TS_PACKET];
	memset(pkt, 0xff, sizeof(pkt));
	pkt[0] = 0x47;
	pkt[1] = 0x01;
	pkt[2] = 0x00;
	pkt[3] = 0x10; /* payload only */
	assert_int_equal(one_packet(pkt), 0);
	pkt[3] = 0x00; /* adaptation_field_control 00 */
	assert_int_equal(one_packet(pkt), PC_ESYNTAX);
	pkt[3] = 0x20; /* adaptation field only: it must be 183 bytes */
	pkt[4] = 182;
	assert_int_equal(one_packet(pkt), PC_ESYNTAX);
	pkt[4] = 183;
	pkt[5] = 0;
	assert_int_equal(one_packet(pkt), 0);
	pkt[3] = 0x30; /* and payload: at most 182 */
	assert_int_equal(one_packet(pkt), PC_ESYNTAX);
	pkt[4] = 182;
	assert_int_equal(one_packet(pkt), 0);
	pkt[1] |= 0x80; /* transport_error_indicator */
	assert_int_equal(one_packet(pkt), PC_ENOTSUP);
	pkt[1] &= 0x7f;
	pkt[3] |= 0x80; /* scrambled */
	assert_int_equal(one_packet(pkt), PC_ENOTSUP);
}

static void test_bad_psi(void **state)
{
	(void)state;
	struct ts_file f = load(LIVE_DIR "av.ts");
	pc_ts_reader *r = pc_ts_reader_new();
	/* every PAT's CRC broken: no program, every PAT counted */
	unsigned pats = 0;
	for (size_t off = 0; off < f.len; off += PC_TS_PACKET) {
		uint8_t *p = f.data + off;
		if (((p[1] & 0x1f) << 8 | p[2]) == 0) {
			p[5 + 3 + 12 - 1] ^= 1; /* the last CRC byte of a 1-program PAT */
			pats++;
		}
	}
	struct tally t = read_split(r, f.data, f.len, f.len);
	assert_int_equal(t.rc, 0);
	assert_null(pc_ts_reader_program(r));
	/* and none of them is taken for a good section */
	pc_ts_reader_reset(r);
	for (size_t off = 0; off < f.len; off += PC_TS_PACKET) {
		struct pc_ts_packet_info info;
		assert_int_equal(pc_ts_reader_packet(r, f.data + off, &info), 0);
		assert_false(info.flags & PC_TS_F_SECTION);
	}
	assert_int_equal(pc_ts_reader_stats(r)->psi_errors, pats);
	assert_int_equal(t.raps, 0);
	pc_ts_reader_free(r);
	free(f.data);
}

static void test_pts_diff(void **state)
{
	(void)state;
	assert_int_equal(pc_ts_pts_diff(100, 190), 90);
	assert_int_equal(pc_ts_pts_diff(PC_TS_PTS_MASK - 9, 80), 90);
	assert_int_equal(pc_ts_pts_diff(190, 100), PC_TS_PTS_MASK + 1 - 90);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_program_and_timestamps),
	    cmocka_unit_test(test_any_split),
	    cmocka_unit_test(test_rap_from_nals),
	    cmocka_unit_test(test_audio_only),
	    cmocka_unit_test(test_continuity),
	    cmocka_unit_test(test_lost_sync),
	    cmocka_unit_test(test_bad_packets),
	    cmocka_unit_test(test_bad_psi),
	    cmocka_unit_test(test_pts_diff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
