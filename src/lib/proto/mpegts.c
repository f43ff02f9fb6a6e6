/* mpegts: the incremental MPEG-TS reader of live ingest (see mpegts.h and
 * docs/live.md). Section and clause numbers are ISO/IEC 13818-1's. */
#include "lib/proto/mpegts.h"

#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"

#define PID_COUNT   8192
#define SECTION_MAX 1024  /* §2.4.4.11: PAT and PMT section_length <= 1021 */
#define SCAN_MAX    65536 /* bytes of a video PES scanned for its first picture */
#define CC_SEEN     0x80
#define CC_DUP      0x40 /* the last packet was already repeated once */

/* A PSI section being put together from packets. */
struct section {
	bool active;
	uint16_t len;
	uint8_t buf[SECTION_MAX + 3];
};

/* The NAL or start-code scan of a video PES, across its packets. */
struct video_scan {
	bool active;
	bool want_header; /* the next byte is a NAL header (or start code value) */
	uint8_t zeros;
	uint32_t skip; /* PES header bytes still to pass */
	uint32_t scanned;
};

struct pc_ts_reader {
	int failed;
	size_t partial_len;
	uint8_t partial[PC_TS_PACKET];
	uint8_t cc[PID_COUNT]; /* CC_SEEN | CC_DUP | last counter */
	struct section pat, pmt;
	uint16_t pmt_pid; /* from the PAT, or PC_TS_PID_NONE */
	uint16_t program_number;
	bool have_program;
	struct pc_ts_program program;
	struct video_scan scan[PC_TS_STREAMS_MAX];
	struct pc_ts_stats stats;
};

pc_ts_reader *pc_ts_reader_new(void)
{
	pc_ts_reader *r = malloc(sizeof(*r));
	if (r != NULL)
		pc_ts_reader_reset(r);
	return r;
}

void pc_ts_reader_free(pc_ts_reader *r)
{
	free(r);
}

void pc_ts_reader_reset(pc_ts_reader *r)
{
	memset(r, 0, sizeof(*r));
	r->pmt_pid = PC_TS_PID_NONE;
}

const struct pc_ts_program *pc_ts_reader_program(const pc_ts_reader *r)
{
	return r->have_program ? &r->program : NULL;
}

const struct pc_ts_stats *pc_ts_reader_stats(const pc_ts_reader *r)
{
	return &r->stats;
}

uint64_t pc_ts_pts_diff(uint64_t a, uint64_t b)
{
	return (b - a) & PC_TS_PTS_MASK;
}

const char *pc_ts_codec_name(enum pc_ts_codec codec)
{
	switch (codec) {
	case PC_TS_CODEC_MPEG2_VIDEO:
		return "mpeg2video";
	case PC_TS_CODEC_H264:
		return "h264";
	case PC_TS_CODEC_H265:
		return "hevc";
	case PC_TS_CODEC_MP3:
		return "mp3";
	case PC_TS_CODEC_AAC:
		return "aac";
	case PC_TS_CODEC_AAC_LATM:
		return "aac_latm";
	case PC_TS_CODEC_AC3:
		return "ac3";
	case PC_TS_CODEC_EAC3:
		return "eac3";
	case PC_TS_CODEC_UNKNOWN:
		break;
	}
	return "unknown";
}

static void classify(struct pc_ts_stream *st)
{
	switch (st->stream_type) {
	case 0x01:
	case 0x02:
		st->codec = PC_TS_CODEC_MPEG2_VIDEO;
		break;
	case 0x1b:
		st->codec = PC_TS_CODEC_H264;
		break;
	case 0x24:
		st->codec = PC_TS_CODEC_H265;
		break;
	case 0x03:
	case 0x04:
		st->codec = PC_TS_CODEC_MP3;
		break;
	case 0x0f:
		st->codec = PC_TS_CODEC_AAC;
		break;
	case 0x11:
		st->codec = PC_TS_CODEC_AAC_LATM;
		break;
	case 0x81:
		st->codec = PC_TS_CODEC_AC3;
		break;
	case 0x87:
		st->codec = PC_TS_CODEC_EAC3;
		break;
	default:
		st->codec = PC_TS_CODEC_UNKNOWN;
		break;
	}
	if (st->codec == PC_TS_CODEC_UNKNOWN)
		st->kind = PC_TS_KIND_OTHER;
	else if (st->codec <= PC_TS_CODEC_H265)
		st->kind = PC_TS_KIND_VIDEO;
	else
		st->kind = PC_TS_KIND_AUDIO;
}

/* MPEG-2's CRC-32 (Annex A): polynomial 0x04c11db7, not reflected, initial
 * value all ones; over a whole section including its CRC it yields 0. */
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

static uint16_t pid13(const uint8_t *p)
{
	return (uint16_t)((p[0] & 0x1f) << 8 | p[1]);
}

/* A complete section's common long-form header (§2.4.4.3/§2.4.4.8):
 * syntax indicator, a length that holds the header and CRC, the CRC, and
 * current_next. The body is buf[8..len-4). */
static bool section_ok(pc_ts_reader *r, const struct section *s, uint8_t table_id)
{
	const uint8_t *b = s->buf;
	if (b[0] != table_id || !(b[1] & 0x80) || s->len < 12 || crc32_mpeg(b, s->len) != 0) {
		r->stats.psi_errors++;
		return false;
	}
	return (b[5] & 0x01) != 0; /* a "next" table is not in force yet */
}

/* The PAT just completed: PC_TS_F_SECTION if it is valid, with
 * PC_TS_F_PROGRAM if it names another program. */
static unsigned parse_pat(pc_ts_reader *r)
{
	const struct section *s = &r->pat;
	if (!section_ok(r, s, 0x00))
		return 0;
	const uint8_t *b = s->buf;
	size_t end = s->len - 4;
	if ((end - 8) % 4 != 0) {
		r->stats.psi_errors++;
		return 0;
	}
	unsigned program = 0;
	for (size_t off = 8; off + 4 <= end; off += 4) {
		uint16_t number = (uint16_t)(b[off] << 8 | b[off + 1]);
		uint16_t pid = pid13(b + off + 2);
		if (number == 0)
			continue; /* the network PID */
		if (pid == PC_TS_PID_PAT || pid == PC_TS_PID_NULL) {
			r->stats.psi_errors++;
			return 0;
		}
		if (pid != r->pmt_pid || number != r->program_number) {
			r->pmt_pid = pid;
			r->program_number = number;
			r->have_program = false;
			r->pmt.active = false;
			program = PC_TS_F_PROGRAM;
		}
		break;
	}
	return PC_TS_F_SECTION | program;
}

/* The PMT just completed: PC_TS_F_SECTION if it is valid and of the
 * program, with PC_TS_F_PROGRAM if the program changed. */
static unsigned parse_pmt(pc_ts_reader *r)
{
	const struct section *s = &r->pmt;
	if (!section_ok(r, s, 0x02))
		return 0;
	const uint8_t *b = s->buf;
	size_t end = s->len - 4;
	if ((uint16_t)(b[3] << 8 | b[4]) != r->program_number)
		return 0;
	struct pc_ts_program p = {.program_number = r->program_number,
	                          .pmt_pid = r->pmt_pid,
	                          .pcr_pid = pid13(b + 8),
	                          .video_pid = PC_TS_PID_NONE};
	size_t info_len = (size_t)(b[10] & 0x0f) << 8 | b[11];
	size_t off = 12 + info_len;
	while (off < end) {
		if (off + 5 > end) {
			r->stats.psi_errors++;
			return 0;
		}
		size_t es_info = (size_t)(b[off + 3] & 0x0f) << 8 | b[off + 4];
		if (off + 5 + es_info > end) {
			r->stats.psi_errors++;
			return 0;
		}
		uint16_t pid = pid13(b + off + 1);
		if (pid == PC_TS_PID_PAT || pid == PC_TS_PID_NULL || pid == r->pmt_pid) {
			r->stats.psi_errors++;
			return 0;
		}
		if (p.n_streams < PC_TS_STREAMS_MAX) {
			struct pc_ts_stream *st = &p.streams[p.n_streams++];
			st->pid = pid;
			st->stream_type = b[off];
			classify(st);
			if (st->kind == PC_TS_KIND_VIDEO && p.video_pid == PC_TS_PID_NONE)
				p.video_pid = pid;
		}
		off += 5 + es_info;
	}
	if (off != end) {
		r->stats.psi_errors++;
		return 0;
	}
	if (r->have_program && memcmp(&p, &r->program, sizeof(p)) == 0)
		return PC_TS_F_SECTION;
	r->program = p;
	r->have_program = true;
	memset(r->scan, 0, sizeof(r->scan));
	return PC_TS_F_SECTION | PC_TS_F_PROGRAM;
}

/* Adds payload bytes to a section; returns true when it is complete. A
 * section longer than SECTION_MAX is dropped and counted. */
static bool section_add(pc_ts_reader *r, struct section *s, const uint8_t *p, size_t n)
{
	if (!s->active)
		return false;
	size_t room = sizeof(s->buf) - s->len;
	size_t take = n < room ? n : room;
	memcpy(s->buf + s->len, p, take);
	s->len = (uint16_t)(s->len + take);
	if (s->len < 3)
		return false;
	size_t total = 3 + ((size_t)(s->buf[1] & 0x0f) << 8 | s->buf[2]);
	if (total > sizeof(s->buf)) {
		s->active = false;
		r->stats.psi_errors++;
		return false;
	}
	if (s->len < total)
		return false;
	s->len = (uint16_t)total;
	s->active = false;
	return true;
}

/* §2.4.4.1/§2.4.4.2: a packet of a PSI PID. The first section starting in
 * the packet is read; more in one packet are not used by PAT or PMT. */
static bool psi_packet(pc_ts_reader *r, struct section *s, const uint8_t *p, size_t n,
                       bool unit_start)
{
	if (!unit_start)
		return section_add(r, s, p, n);
	if (n < 1 || (size_t)p[0] + 1 > n) {
		s->active = false;
		r->stats.psi_errors++;
		return false;
	}
	size_t pointer = p[0];
	if (s->active && section_add(r, s, p + 1, pointer))
		return true; /* the one before ends here; the new one is missed */
	s->active = true;
	s->len = 0;
	return section_add(r, s, p + 1 + pointer, n - 1 - pointer);
}

static bool has_pes_header(uint8_t stream_id)
{
	/* §2.4.3.7: these stream_ids have no optional PES header */
	return stream_id != 0xbc && stream_id != 0xbe && stream_id != 0xbf && stream_id != 0xf0 &&
	       stream_id != 0xf1 && stream_id != 0xff && stream_id != 0xf2 && stream_id != 0xf8;
}

static bool read_ts(const uint8_t *p, uint64_t *out)
{
	if (!(p[0] & 1) || !(p[2] & 1) || !(p[4] & 1))
		return false; /* marker bits */
	*out = (uint64_t)(p[0] >> 1 & 7) << 30 | (uint64_t)p[1] << 22 |
	       (uint64_t)(p[2] >> 1) << 15 | (uint64_t)p[3] << 7 | (uint64_t)(p[4] >> 1);
	return true;
}

/* A PES header at the start of a payload: PTS, DTS and where the
 * elementary stream begins (possibly past this packet). */
static void pes_header(pc_ts_reader *r, const uint8_t *p, size_t n, struct pc_ts_packet_info *info,
                       size_t *es_start)
{
	*es_start = n;
	if (n < 6 || p[0] != 0 || p[1] != 0 || p[2] != 1) {
		r->stats.pes_errors++;
		return;
	}
	if (!has_pes_header(p[3])) {
		*es_start = 6;
		return;
	}
	if (n < 9 || (p[6] & 0xc0) != 0x80) {
		r->stats.pes_errors++;
		return;
	}
	unsigned pts_dts = p[7] >> 6;
	*es_start = 9 + (size_t)p[8];
	if (pts_dts == 1) {
		r->stats.pes_errors++;
		return;
	}
	if (pts_dts & 2) {
		if (n < 14 || (size_t)p[8] < 5 || !read_ts(p + 9, &info->pts)) {
			r->stats.pes_errors++;
			return;
		}
		info->flags |= PC_TS_F_PTS;
	}
	if (pts_dts == 3) {
		if (n < 19 || (size_t)p[8] < 10 || !read_ts(p + 14, &info->dts)) {
			r->stats.pes_errors++;
			return;
		}
		info->flags |= PC_TS_F_DTS;
	}
}

enum scan_result { SCAN_MORE, SCAN_RAP, SCAN_NOT_RAP };

/* What a NAL header (or MPEG-2 start code value) says of the PES. */
static enum scan_result nal_says(enum pc_ts_codec codec, uint8_t h)
{
	unsigned type;
	switch (codec) {
	case PC_TS_CODEC_H264:
		type = h & 0x1f;
		if (type == 5)
			return SCAN_RAP;
		return (type >= 1 && type <= 4) ? SCAN_NOT_RAP : SCAN_MORE;
	case PC_TS_CODEC_H265:
		type = h >> 1 & 0x3f;
		if (type >= 16 && type <= 23)
			return SCAN_RAP;
		return type <= 31 ? SCAN_NOT_RAP : SCAN_MORE;
	case PC_TS_CODEC_MPEG2_VIDEO:
		if (h == 0xb3)
			return SCAN_RAP; /* sequence header */
		return h == 0x00 ? SCAN_NOT_RAP : SCAN_MORE;
	default:
		return SCAN_NOT_RAP;
	}
}

static enum scan_result scan_video(struct video_scan *v, enum pc_ts_codec codec, const uint8_t *p,
                                   size_t n)
{
	if (v->skip) {
		size_t k = v->skip < n ? v->skip : n;
		v->skip -= (uint32_t)k;
		p += k;
		n -= k;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (v->want_header) {
			v->want_header = false;
			enum scan_result res = nal_says(codec, c);
			if (res != SCAN_MORE)
				return res;
			v->zeros = c == 0;
			continue;
		}
		if (c == 0) {
			if (v->zeros < 3)
				v->zeros++;
		} else {
			v->want_header = c == 1 && v->zeros >= 2;
			v->zeros = 0;
		}
	}
	v->scanned += (uint32_t)n;
	return v->scanned > SCAN_MAX ? SCAN_NOT_RAP : SCAN_MORE;
}

static void es_packet(pc_ts_reader *r, unsigned idx, const uint8_t *p, size_t n, bool unit_start,
                      bool rai, bool cc_error, struct pc_ts_packet_info *info)
{
	const struct pc_ts_stream *st = &r->program.streams[idx];
	struct video_scan *v = &r->scan[idx];
	info->flags |= PC_TS_F_ES;
	info->kind = st->kind;
	if (cc_error)
		v->active = false; /* the picture's start may be lost */
	if (!unit_start) {
		if (v->active && n > 0) {
			enum scan_result res = scan_video(v, st->codec, p, n);
			if (res != SCAN_MORE)
				v->active = false;
			if (res == SCAN_RAP)
				info->flags |= PC_TS_F_RAP;
		}
		return;
	}
	r->stats.pes_starts++;
	info->flags |= PC_TS_F_PES_START;
	size_t es_start;
	pes_header(r, p, n, info, &es_start);
	memset(v, 0, sizeof(*v));
	if (rai || st->kind == PC_TS_KIND_AUDIO) {
		info->flags |= PC_TS_F_RAP;
	} else if (st->kind == PC_TS_KIND_VIDEO) {
		v->active = true;
		if (es_start > n) {
			v->skip = (uint32_t)(es_start - n);
			es_start = n;
		}
		enum scan_result res = scan_video(v, st->codec, p + es_start, n - es_start);
		if (res != SCAN_MORE)
			v->active = false;
		if (res == SCAN_RAP)
			info->flags |= PC_TS_F_RAP;
	}
}

/* §2.4.3.3: the continuity counter goes up with each packet with a
 * payload; one repeat is a duplicate; a discontinuity_indicator resets. */
static void continuity(pc_ts_reader *r, uint16_t pid, unsigned cc, bool payload, bool disc,
                       struct pc_ts_packet_info *info)
{
	uint8_t st = r->cc[pid];
	uint8_t next = CC_SEEN | (uint8_t)cc;
	if ((st & CC_SEEN) && !disc) {
		unsigned last = st & 0x0f;
		if (!payload) {
			if (cc != last)
				info->flags |= PC_TS_F_CC_ERROR;
		} else if (cc == last) {
			if (st & CC_DUP)
				info->flags |= PC_TS_F_CC_ERROR;
			else
				info->flags |= PC_TS_F_DUPLICATE;
			next |= CC_DUP;
		} else if (cc != ((last + 1) & 0x0f)) {
			info->flags |= PC_TS_F_CC_ERROR;
		}
	}
	if (info->flags & PC_TS_F_CC_ERROR)
		r->stats.cc_errors++;
	r->cc[pid] = next;
}

int pc_ts_reader_packet(pc_ts_reader *r, const uint8_t *pkt, struct pc_ts_packet_info *info)
{
	memset(info, 0, sizeof(*info));
	info->packet = pkt;
	if (r->failed)
		return r->failed;
	if (pkt[0] != PC_TS_SYNC)
		return r->failed = PC_ESYNTAX;
	uint16_t pid = pid13(pkt + 1);
	info->pid = pid;
	if (pid == PC_TS_PID_NULL) {
		r->stats.packets++;
		info->flags = PC_TS_F_NULL;
		return 0;
	}
	if (pkt[1] & 0x80)
		return r->failed = PC_ENOTSUP; /* transport_error_indicator */
	if (pkt[3] & 0xc0)
		return r->failed = PC_ENOTSUP; /* scrambled */
	unsigned afc = pkt[3] >> 4 & 3;
	if (afc == 0)
		return r->failed = PC_ESYNTAX;
	size_t off = 4;
	bool disc = false, rai = false;
	if (afc & 2) {
		size_t af_len = pkt[4];
		if (afc == 2 ? af_len != 183 : af_len > 182)
			return r->failed = PC_ESYNTAX;
		if (af_len > 0) {
			disc = (pkt[5] & 0x80) != 0;
			rai = (pkt[5] & 0x40) != 0;
		}
		off = 5 + af_len;
	}
	r->stats.packets++;
	if (disc)
		info->flags |= PC_TS_F_DISCONTINUITY;
	bool payload = (afc & 1) != 0;
	bool unit_start = payload && (pkt[1] & 0x40);
	continuity(r, pid, pkt[3] & 0x0f, payload, disc, info);
	if (info->flags & PC_TS_F_DUPLICATE)
		return 0; /* its payload was read already */
	const uint8_t *p = pkt + off;
	size_t n = payload ? PC_TS_PACKET - off : 0;
	bool cc_error = (info->flags & PC_TS_F_CC_ERROR) != 0;

	if (pid == PC_TS_PID_PAT) {
		info->flags |= PC_TS_F_PAT;
		if (cc_error)
			r->pat.active = false;
		if (payload && psi_packet(r, &r->pat, p, n, unit_start))
			info->flags |= parse_pat(r);
		return 0;
	}
	if (pid == r->pmt_pid) {
		info->flags |= PC_TS_F_PMT;
		if (cc_error)
			r->pmt.active = false;
		if (payload && psi_packet(r, &r->pmt, p, n, unit_start))
			info->flags |= parse_pmt(r);
		return 0;
	}
	if (!r->have_program)
		return 0;
	for (unsigned i = 0; i < r->program.n_streams; i++) {
		if (r->program.streams[i].pid != pid)
			continue;
		es_packet(r, i, p, n, unit_start, rai, cc_error, info);
		if (info->flags & PC_TS_F_RAP)
			r->stats.random_access++;
		break;
	}
	return 0;
}

int pc_ts_reader_next(pc_ts_reader *r, const uint8_t *data, size_t len, size_t *used,
                      struct pc_ts_packet_info *info)
{
	*used = 0;
	if (r->failed) {
		memset(info, 0, sizeof(*info));
		return r->failed;
	}
	if (r->partial_len == 0 && len >= PC_TS_PACKET) {
		*used = PC_TS_PACKET;
		int rc = pc_ts_reader_packet(r, data, info);
		return rc < 0 ? rc : 1;
	}
	/* a lost sync shows at once, not a packet later */
	if (r->partial_len == 0 && len > 0 && data[0] != PC_TS_SYNC) {
		*used = 1;
		return r->failed = PC_ESYNTAX;
	}
	size_t take = PC_TS_PACKET - r->partial_len;
	if (take > len)
		take = len;
	memcpy(r->partial + r->partial_len, data, take);
	r->partial_len += take;
	*used = take;
	if (r->partial_len < PC_TS_PACKET)
		return 0;
	r->partial_len = 0;
	int rc = pc_ts_reader_packet(r, r->partial, info);
	return rc < 0 ? rc : 1;
}
