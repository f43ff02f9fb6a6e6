/* live_segmenter: cuts a live TS into segments that decode on their own
 * (see live_segmenter.h and docs/live.md, "Segments").
 *
 * One buffer holds the open segment: the re-inserted PAT and PMT, then the
 * packets kept. The lead stream's last PES start is remembered as the
 * candidate cut, because for video the reader may learn that the PES is a
 * random-access point only a few packets later; a cut there hands out the
 * bytes before it and carries the rest, at the next call, into the next
 * segment behind a fresh PAT and PMT. */
#include "lib/proto/live_segmenter.h"

#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"

#define PSI_PACKETS_MAX 6           /* packets of a PAT or PMT section: 1024 bytes and a pointer */
#define BUF_FIRST       (64 * 1024) /* bytes */
#define JUMP_TICKS      (UINT64_C(10) * PC_TS_CLOCK_HZ)
#define MS_TICKS        90
/* Bytes the buffer holds past segment_max: the packets from the lead
 * stream's last PES start, which may go to the next segment, while the
 * reader looks for its first picture (mpegts.c's SCAN_MAX and a few). */
#define CARRY_SLACK (64 * 1024 + 16 * PC_TS_PACKET)

struct psi_copy {
	unsigned n;
	uint8_t pkt[PSI_PACKETS_MAX][PC_TS_PACKET];
};

struct pc_live_seg {
	struct pc_live_seg_params params;
	pc_ts_reader *reader;
	uint8_t *buf;
	size_t len, cap;
	bool open;       /* a segment is being built in buf */
	bool handed_out; /* buf[0..carry) was returned; carry the rest at the next call */
	size_t carry;
	bool next_open; /* then open a segment at carry (else wait for a RAP) */
	bool next_rap;
	uint64_t seq;       /* of the open segment, or the next one */
	bool discontinuity; /* of the open or next segment */
	bool random_access;
	/* The lead stream's timeline: DTS (else PTS) to find jumps and the
	 * frame interval, since it never goes back; PTS to measure segments,
	 * since a random-access picture's PTS is when the segment shows. */
	uint64_t start_pts, end_pts; /* the segment's first PES's, its latest */
	bool have_last;
	uint64_t last_t, frame_ticks;
	/* the lead stream's last PES start in buf */
	bool cand;
	size_t cand_off;
	bool cand_open; /* whether it is a random-access point is not known yet */
	uint64_t cand_t, cand_pts;
	uint8_t cand_cc[2];
	struct psi_copy pat, pmt, pat_next, pmt_next;
	uint8_t out_cc[2]; /* the next continuity counter written on PAT, PMT */
	uint16_t lead_pid;
	struct pc_live_seg_stats stats;
};

pc_live_seg *pc_live_seg_new(const struct pc_live_seg_params *params)
{
	if (params->target_ms == 0 || params->max_ms < params->target_ms ||
	    params->segment_max < 4 * PC_TS_PACKET)
		return NULL;
	pc_live_seg *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->params = *params;
	s->seq = params->first_seq;
	s->lead_pid = PC_TS_PID_NONE;
	s->reader = pc_ts_reader_new();
	if (s->reader == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void pc_live_seg_free(pc_live_seg *s)
{
	if (s == NULL)
		return;
	pc_ts_reader_free(s->reader);
	free(s->buf);
	free(s);
}

const struct pc_live_seg_stats *pc_live_seg_stats(const pc_live_seg *s)
{
	return &s->stats;
}

const pc_ts_reader *pc_live_seg_reader(const pc_live_seg *s)
{
	return s->reader;
}

static size_t header_len(const pc_live_seg *s)
{
	return (s->pat.n + s->pmt.n) * PC_TS_PACKET;
}

void pc_live_seg_pending(const pc_live_seg *s, const uint8_t **data, size_t *len, uint64_t *seq)
{
	*data = s->buf;
	*seq = s->seq;
	if (!s->open || s->handed_out)
		*len = 0;
	else
		*len = s->cand && s->cand_open ? s->cand_off : s->len;
}

/* Room for need bytes; false past segment_max and the slack (the buffer
 * never grows beyond them). */
static bool reserve(pc_live_seg *s, size_t need)
{
	if (need <= s->cap)
		return true;
	size_t max = s->params.segment_max + CARRY_SLACK;
	if (need > max)
		return false;
	size_t cap = s->cap ? s->cap : BUF_FIRST;
	while (cap < need)
		cap *= 2;
	if (cap > max)
		cap = max;
	uint8_t *p = realloc(s->buf, cap);
	if (p == NULL)
		return false;
	s->buf = p;
	s->cap = cap;
	return true;
}

/* PAT and PMT packets carry the segmenter's own continuity counters, so
 * the output is continuous on their PIDs whatever was re-inserted. */
static void renumber(pc_live_seg *s, uint8_t *pkt)
{
	uint16_t pid = (uint16_t)((pkt[1] & 0x1f) << 8 | pkt[2]);
	const struct pc_ts_program *prog = pc_ts_reader_program(s->reader);
	int which = pid == PC_TS_PID_PAT ? 0 : (prog && pid == prog->pmt_pid) ? 1 : -1;
	if (which < 0 || !(pkt[3] & 0x10))
		return;
	pkt[3] = (uint8_t)((pkt[3] & 0xf0) | s->out_cc[which]);
	s->out_cc[which] = (s->out_cc[which] + 1) & 0x0f;
}

static void renumber_range(pc_live_seg *s, size_t from, size_t to)
{
	for (size_t off = from; off < to; off += PC_TS_PACKET)
		renumber(s, s->buf + off);
}

/* Opens a segment at buf offset off: what is before is gone, a PAT and PMT
 * go in front. The caller has checked the PAT and PMT are known. */
static void open_at(pc_live_seg *s, size_t off, bool random_access)
{
	size_t head = header_len(s);
	size_t rest = s->len - off;
	if (s->cand && s->cand_off >= off) {
		s->out_cc[0] = s->cand_cc[0];
		s->out_cc[1] = s->cand_cc[1];
	}
	/* The packets kept came within segment_max and the slack, but the
	 * PAT and PMT put in front may pass them (a random-access point
	 * known late, after a full buffer): that segment is dropped. */
	if (!reserve(s, head + rest)) {
		s->len = 0;
		s->open = false;
		s->cand = false;
		s->stats.oversize++;
		if (!s->discontinuity)
			s->stats.discontinuities++;
		s->discontinuity = true;
		return;
	}
	memmove(s->buf + head, s->buf + off, rest);
	size_t at = 0;
	for (unsigned i = 0; i < s->pat.n; i++, at += PC_TS_PACKET)
		memcpy(s->buf + at, s->pat.pkt[i], PC_TS_PACKET);
	for (unsigned i = 0; i < s->pmt.n; i++, at += PC_TS_PACKET)
		memcpy(s->buf + at, s->pmt.pkt[i], PC_TS_PACKET);
	s->len = head + rest;
	renumber_range(s, 0, s->len);
	s->open = true;
	s->random_access = random_access;
	if (s->cand && s->cand_off >= off) {
		s->cand_off = s->cand_off - off + head;
		s->start_pts = s->cand_pts;
		s->end_pts = s->cand_pts;
	}
}

/* How far b is after a; 0 when it is before (a picture shown before the
 * random-access picture that started the segment, in decoding order after
 * it: B-frames, or an open GOP's leading pictures). */
static uint64_t after(uint64_t a, uint64_t b)
{
	uint64_t d = pc_ts_pts_diff(a, b);
	return d >= (UINT64_C(1) << (PC_TS_PTS_BITS - 1)) ? 0 : d;
}

static uint32_t ticks_ms(uint64_t ticks)
{
	uint64_t ms = (ticks + MS_TICKS / 2) / MS_TICKS;
	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

/* Hands out buf[0..end) as the open segment, lasting ticks; what follows
 * end opens the next segment (next_open) or waits for a random-access
 * point, at the next call. Returns 1, or PC_ERANGE when the segment is
 * over segment_max: then it is dropped, its number spent, and the next
 * follows a discontinuity. */
static int hand_out(pc_live_seg *s, size_t end, uint64_t ticks, bool next_open, bool next_rap,
                    struct pc_live_segment *out)
{
	s->handed_out = true;
	s->carry = end;
	s->next_open = next_open;
	s->next_rap = next_rap;
	if (end > s->params.segment_max) {
		s->stats.oversize++;
		s->seq++;
		if (!s->discontinuity)
			s->stats.discontinuities++;
		s->discontinuity = true;
		return PC_ERANGE;
	}
	out->data = s->buf;
	out->len = end;
	out->seq = s->seq++;
	out->duration_ticks = ticks;
	out->duration_ms = ticks_ms(ticks);
	out->first_pts = s->start_pts;
	out->discontinuity = s->discontinuity;
	out->random_access = s->random_access;
	s->discontinuity = false;
	s->stats.segments++;
	return 1;
}

/* Ends the open segment where the stream stops or breaks: its duration up
 * to its last PES plus one frame interval. */
static uint64_t tail_ticks(const pc_live_seg *s)
{
	if (!s->have_last)
		return 0;
	return after(s->start_pts, s->end_pts) + s->frame_ticks;
}

/* Forgets the open segment (its sequence number is spent: the caller may
 * have sent blocks of it) and waits for a random-access point. */
static void drop(pc_live_seg *s)
{
	if (s->open)
		s->seq++;
	s->open = false;
	s->len = 0;
	s->cand = false;
	s->have_last = false;
	if (!s->discontinuity)
		s->stats.discontinuities++;
	s->discontinuity = true;
}

/* Waits for a random-access point, keeping the packets from the lead
 * stream's PES start at off, if any. */
static void wait_from(pc_live_seg *s, size_t off)
{
	s->open = false;
	if (s->cand && s->cand_off == off && off < s->len) {
		memmove(s->buf, s->buf + off, s->len - off);
		s->len -= off;
		s->cand_off = 0;
	} else {
		s->len = 0;
		s->cand = false;
	}
}

/* The carry-over after a segment was handed out. */
static void settle(pc_live_seg *s)
{
	if (!s->handed_out)
		return;
	s->handed_out = false;
	if (s->next_open && s->cand && s->cand_off == s->carry)
		open_at(s, s->carry, s->next_rap);
	else
		wait_from(s, s->carry);
}

static void psi_keep(struct psi_copy *next, struct psi_copy *cur,
                     const struct pc_ts_packet_info *info)
{
	if (info->flags & PC_TS_F_DUPLICATE)
		return;
	if (info->packet[1] & 0x40)
		next->n = 0;
	if (next->n < PSI_PACKETS_MAX)
		memcpy(next->pkt[next->n++], info->packet, PC_TS_PACKET);
	if (info->flags & PC_TS_F_SECTION)
		*cur = *next;
}

/* Appends a packet; false when the segment would pass segment_max. */
static bool append(pc_live_seg *s, const uint8_t *pkt)
{
	if (s->len + PC_TS_PACKET > s->params.segment_max + CARRY_SLACK ||
	    !reserve(s, s->len + PC_TS_PACKET))
		return false;
	memcpy(s->buf + s->len, pkt, PC_TS_PACKET);
	renumber(s, s->buf + s->len);
	s->len += PC_TS_PACKET;
	return true;
}

static bool kept(const pc_live_seg *s, const struct pc_ts_packet_info *info)
{
	const struct pc_ts_program *prog = pc_ts_reader_program(s->reader);
	if (prog == NULL || (info->flags & (PC_TS_F_NULL | PC_TS_F_DUPLICATE)))
		return false;
	return (info->flags & (PC_TS_F_PAT | PC_TS_F_PMT | PC_TS_F_ES)) ||
	       info->pid == prog->pcr_pid;
}

/* The lead stream's PES start in the packet just appended at off. Returns
 * 1 when a segment was handed out. */
static int lead_start(pc_live_seg *s, const struct pc_ts_packet_info *info, size_t off,
                      struct pc_live_segment *out)
{
	bool timed = (info->flags & (PC_TS_F_PTS | PC_TS_F_DTS)) != 0;
	uint64_t t = (info->flags & PC_TS_F_DTS) ? info->dts : info->pts;
	bool rap = (info->flags & PC_TS_F_RAP) != 0;
	bool jump = false;
	if (timed && s->have_last) {
		uint64_t d = pc_ts_pts_diff(s->last_t, t);
		jump = d > JUMP_TICKS; /* forwards too far, or backwards */
		if (!jump && d > 0)
			s->frame_ticks = d;
	}
	uint64_t tail = tail_ticks(s);
	if (timed) {
		s->last_t = t;
		s->have_last = true;
	}
	s->cand = true;
	s->cand_off = off;
	s->cand_open = !rap;
	s->cand_t = timed ? t : 0;
	s->cand_pts = (info->flags & PC_TS_F_PTS) ? info->pts : s->cand_t;
	s->cand_cc[0] = s->out_cc[0];
	s->cand_cc[1] = s->out_cc[1];
	if (!s->open) {
		wait_from(s, off);
		if (rap) {
			open_at(s, 0, true);
			s->cand_open = false;
		}
		return 0;
	}
	if (jump) {
		int rc = hand_out(s, off, tail, rap, rap, out);
		if (!s->discontinuity)
			s->stats.discontinuities++;
		s->discontinuity = true;
		return rc;
	}
	uint64_t dur = timed ? after(s->start_pts, s->cand_pts) : 0;
	if (timed && after(s->end_pts, s->cand_pts) > 0 &&
	    after(s->end_pts, s->cand_pts) < JUMP_TICKS)
		s->end_pts = s->cand_pts;
	if (off > header_len(s) && rap && dur >= (uint64_t)s->params.target_ms * MS_TICKS) {
		return hand_out(s, off, dur, true, true, out);
	}
	if (off > header_len(s) && dur >= (uint64_t)s->params.max_ms * MS_TICKS) {
		s->stats.forced++;
		return hand_out(s, off, dur, true, false, out);
	}
	return 0;
}

/* The lead stream's PES begun at the candidate turned out a random-access
 * point (the packet that told was appended already). */
static int lead_late_rap(pc_live_seg *s, struct pc_live_segment *out)
{
	if (!s->cand || !s->cand_open)
		return 0;
	s->cand_open = false;
	if (!s->open) {
		open_at(s, s->cand_off, true);
		return 0;
	}
	if (s->cand_off == header_len(s)) {
		s->random_access = true; /* a forced cut that was one after all */
		return 0;
	}
	uint64_t dur = after(s->start_pts, s->cand_pts);
	if (dur >= (uint64_t)s->params.target_ms * MS_TICKS) {
		return hand_out(s, s->cand_off, dur, true, true, out);
	}
	return 0;
}

/* One packet the reader read. Returns 1 (a segment handed out), 0, or
 * PC_ERANGE. */
static int packet(pc_live_seg *s, const struct pc_ts_packet_info *info, struct pc_live_segment *out)
{
	if (info->flags & PC_TS_F_PAT)
		psi_keep(&s->pat_next, &s->pat, info);
	if (info->flags & PC_TS_F_PMT)
		psi_keep(&s->pmt_next, &s->pmt, info);
	if (info->flags & PC_TS_F_PROGRAM) {
		const struct pc_ts_program *prog = pc_ts_reader_program(s->reader);
		uint16_t lead = PC_TS_PID_NONE;
		if (prog != NULL && prog->n_streams > 0)
			lead = prog->video_pid != PC_TS_PID_NONE ? prog->video_pid
			                                         : prog->streams[0].pid;
		bool was_open = s->open && s->len > header_len(s);
		bool changed = s->lead_pid != PC_TS_PID_NONE;
		uint64_t tail = tail_ticks(s);
		int rc = 0;
		s->lead_pid = lead;
		s->cand = false;
		if (was_open) {
			rc = hand_out(s, s->len, tail, false, false, out);
		} else {
			s->open = false;
			s->len = 0;
		}
		if (changed) {
			/* a new program: the next segment follows a discontinuity */
			s->have_last = false;
			if (!s->discontinuity)
				s->stats.discontinuities++;
			s->discontinuity = true;
		}
		return rc;
	}
	if (s->lead_pid == PC_TS_PID_NONE || !kept(s, info)) {
		if (!(info->flags & PC_TS_F_NULL))
			s->stats.skipped_packets++;
		return 0;
	}
	bool lead = info->pid == s->lead_pid;
	bool start = lead && (info->flags & PC_TS_F_PES_START);
	if (!s->open && !start && !s->cand) {
		s->stats.skipped_packets++;
		return 0;
	}
	size_t off = s->len;
	if (!append(s, info->packet)) {
		if (s->open) {
			s->stats.oversize++;
			drop(s);
			return PC_ERANGE;
		}
		s->len = 0;
		s->cand = false;
		s->stats.skipped_packets++;
		return 0;
	}
	int rc = 0;
	if (start)
		rc = lead_start(s, info, off, out);
	else if (lead && (info->flags & PC_TS_F_RAP))
		rc = lead_late_rap(s, out);
	if (rc == 0 && s->open &&
	    (s->cand && s->cand_open ? s->cand_off : s->len) > s->params.segment_max) {
		s->stats.oversize++;
		drop(s);
		return PC_ERANGE;
	}
	return rc;
}

int pc_live_seg_feed(pc_live_seg *s, const uint8_t *data, size_t len, size_t *used,
                     struct pc_live_segment *out)
{
	*used = 0;
	settle(s);
	while (*used < len) {
		struct pc_ts_packet_info info;
		size_t took;
		int rc = pc_ts_reader_next(s->reader, data + *used, len - *used, &took, &info);
		*used += took;
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		rc = packet(s, &info, out);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int pc_live_seg_finish(pc_live_seg *s, struct pc_live_segment *out)
{
	settle(s);
	if (!s->open || s->len <= header_len(s)) {
		s->open = false;
		return 0;
	}
	return hand_out(s, s->len, tail_ticks(s), false, false, out);
}
