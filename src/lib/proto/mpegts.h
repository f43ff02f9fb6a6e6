/* mpegts: an incremental MPEG-TS reader (ISO/IEC 13818-1) for live ingest.
 * Fed bytes in any split, it works on whole 188-byte packets: it checks
 * each packet's sync byte, adaptation field and continuity counter, reads
 * the PAT and the first program's PMT (its PIDs and stream types), the PES
 * headers' PTS and DTS, and tells which PES starts are random-access
 * points, so the live segmenter can cut there (docs/live.md).
 *
 * Pure: no I/O, no clock. A reader is one allocation at pc_ts_reader_new
 * and nothing per packet; its state is bounded (a continuity counter per
 * PID, one PSI section per table, a few bytes per video stream). */
#ifndef PC_LIB_MPEGTS_H
#define PC_LIB_MPEGTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_TS_PACKET      188
#define PC_TS_SYNC        0x47
#define PC_TS_PID_PAT     0x0000
#define PC_TS_PID_NULL    0x1fff
#define PC_TS_PID_NONE    0xffff /* no such PID (a uint16_t outside 13 bits) */
#define PC_TS_STREAMS_MAX 16     /* elementary streams kept of a program */
#define PC_TS_PTS_BITS    33
#define PC_TS_PTS_MASK    ((UINT64_C(1) << PC_TS_PTS_BITS) - 1)
#define PC_TS_CLOCK_HZ    90000 /* PTS and DTS ticks per second */

typedef struct pc_ts_reader pc_ts_reader;

/* What a stream of the PMT carries, from its stream_type. */
enum pc_ts_kind {
	PC_TS_KIND_OTHER = 0,
	PC_TS_KIND_VIDEO,
	PC_TS_KIND_AUDIO,
};

enum pc_ts_codec {
	PC_TS_CODEC_UNKNOWN = 0,
	PC_TS_CODEC_MPEG2_VIDEO, /* stream_type 0x01, 0x02 */
	PC_TS_CODEC_H264,        /* 0x1b */
	PC_TS_CODEC_H265,        /* 0x24 */
	PC_TS_CODEC_MP3,         /* 0x03, 0x04 (MPEG-1/2 audio) */
	PC_TS_CODEC_AAC,         /* 0x0f (ADTS) */
	PC_TS_CODEC_AAC_LATM,    /* 0x11 */
	PC_TS_CODEC_AC3,         /* 0x81 */
	PC_TS_CODEC_EAC3,        /* 0x87 */
};

struct pc_ts_stream {
	uint16_t pid;
	uint8_t stream_type; /* as in the PMT */
	enum pc_ts_codec codec;
	enum pc_ts_kind kind;
};

/* The first program of the PAT (program_number != 0), from its PMT. */
struct pc_ts_program {
	uint16_t program_number;
	uint16_t pmt_pid;
	uint16_t pcr_pid;
	uint16_t video_pid; /* the first video stream, or PC_TS_PID_NONE */
	unsigned n_streams; /* streams past PC_TS_STREAMS_MAX are not kept */
	struct pc_ts_stream streams[PC_TS_STREAMS_MAX];
};

/* What one packet was (pc_ts_packet_info.flags). */
enum pc_ts_flag {
	PC_TS_F_PAT = 1u << 0,       /* a PAT packet */
	PC_TS_F_PMT = 1u << 1,       /* a packet of the program's PMT */
	PC_TS_F_ES = 1u << 2,        /* a packet of one of the program's streams */
	PC_TS_F_PES_START = 1u << 3, /* starts a PES packet (payload_unit_start) */
	PC_TS_F_PTS = 1u << 4,       /* pts is set (a PES start with a PTS) */
	PC_TS_F_DTS = 1u << 5,       /* dts is set */
	/* The PES this packet belongs to (begun at this PID's last PES start,
	 * which may be this packet) starts at a random-access point: the
	 * adaptation field's random_access_indicator, an H.264 IDR or H.265
	 * IRAP NAL (or an MPEG-2 sequence header) before the PES's first
	 * picture, or any PES start of an audio stream. Set once per PES, on
	 * the packet where it became known; for video this can be a later
	 * packet than the PES start when the first picture's NAL is past it. */
	PC_TS_F_RAP = 1u << 6,
	PC_TS_F_CC_ERROR = 1u << 7,      /* the continuity counter skipped */
	PC_TS_F_DISCONTINUITY = 1u << 8, /* adaptation field's discontinuity_indicator */
	PC_TS_F_PROGRAM = 1u << 9,       /* the program (PAT or PMT) is new or changed */
	PC_TS_F_NULL = 1u << 10,         /* a null packet (PID 0x1fff) */
	PC_TS_F_DUPLICATE = 1u << 11,    /* a repeated packet (same counter, allowed once) */
	PC_TS_F_SECTION = 1u << 12,      /* it completed a valid PAT or the program's PMT */
};

struct pc_ts_packet_info {
	const uint8_t *packet; /* PC_TS_PACKET bytes, valid until the next call */
	uint16_t pid;
	unsigned flags;       /* enum pc_ts_flag */
	enum pc_ts_kind kind; /* of the stream when PC_TS_F_ES */
	uint64_t pts, dts;    /* 90 kHz, 33 bits; when PC_TS_F_PTS / PC_TS_F_DTS */
};

struct pc_ts_stats {
	uint64_t packets;    /* whole packets read */
	uint64_t cc_errors;  /* continuity counter skips (counted, not fatal) */
	uint64_t pes_starts; /* of the program's streams */
	uint64_t random_access;
	uint64_t psi_errors; /* PAT/PMT sections with a bad CRC or length, ignored */
	uint64_t pes_errors; /* PES starts without a valid header, taken as no PTS */
};

/* A new reader, or NULL when memory runs out. Free with pc_ts_reader_free. */
pc_ts_reader *pc_ts_reader_new(void);
void pc_ts_reader_free(pc_ts_reader *r);
/* Forgets everything, as new (a new stream on the same reader). */
void pc_ts_reader_reset(pc_ts_reader *r);

/* Takes bytes of data[0..len) until a whole packet is read. Returns 1 with
 * *info filled when a packet is ready (*used: the bytes taken of data,
 * possibly fewer than len: call again with the rest), 0 when all len
 * bytes were taken and no whole packet is ready (a partial one is kept),
 * or a negative code, after which the reader keeps failing until reset:
 * PC_ESYNTAX for lost sync (a packet not starting with 0x47) or an
 * impossible adaptation field length, PC_ENOTSUP for a transport error
 * indicator or scrambled payload. *used is set in every case. */
int pc_ts_reader_next(pc_ts_reader *r, const uint8_t *data, size_t len, size_t *used,
                      struct pc_ts_packet_info *info);

/* Reads one whole packet (PC_TS_PACKET bytes at pkt): 0 with *info, or the
 * negative codes of pc_ts_reader_next. */
int pc_ts_reader_packet(pc_ts_reader *r, const uint8_t *pkt, struct pc_ts_packet_info *info);

/* The program, or NULL before a PAT and its PMT have been read. */
const struct pc_ts_program *pc_ts_reader_program(const pc_ts_reader *r);
const struct pc_ts_stats *pc_ts_reader_stats(const pc_ts_reader *r);

/* b - a in 90 kHz ticks modulo 2^33: how far b is after a, across a wrap
 * of the PTS. */
uint64_t pc_ts_pts_diff(uint64_t a, uint64_t b);

/* Names: "h264", "aac", ...; "unknown". Static. */
const char *pc_ts_codec_name(enum pc_ts_codec codec);

#endif
