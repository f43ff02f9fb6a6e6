/* report_log: the records of claim 3 as the durable store keeps them
 * (docs/reports.md). A record is one report line (pc_report_format) with
 * its id, the node that made the decision and that node's serial, in a
 * frame checksummed with CRC-32C, so a reader takes a frame whole or not
 * at all: a torn tail or a flipped bit is skipped and counted, never read
 * as a record. Segment files are these frames back to back; the daemon
 * writes them (node/reports.c), peercdnctl reports reads them. Also the
 * few field readers the summing needs.
 *
 * Frame, little-endian:
 *   0  4  magic "PCR1"
 *   4  4  body length n: 9 + origin length + line length
 *   8  4  CRC-32C of bytes 4..7 and of the body
 *  12  8  serial
 *  20  1  origin length o, 1..PC_REPORT_ORIGIN_MAX
 *  21  o  origin (the node's name)
 *  21+o   the line, ASCII, no newline
 *
 * Pure: no I/O, no allocation; any thread. */
#ifndef PC_LIB_REPORT_LOG_H
#define PC_LIB_REPORT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	PC_REPORT_FRAME_HEAD = 12, /* magic, length, checksum */
	PC_REPORT_ORIGIN_MAX = 63, /* bytes of a node's name */
	PC_REPORT_LINE_MAX = 4000, /* bytes of a line */
	PC_REPORT_FRAME_MAX = PC_REPORT_FRAME_HEAD + 9 + PC_REPORT_ORIGIN_MAX + PC_REPORT_LINE_MAX,
};

/* One record. The pointers borrow the frame's bytes (reading) or the
 * caller's (writing). */
struct pc_report_record {
	const char *origin; /* the node that made the decision */
	size_t origin_len;
	uint64_t serial; /* its serial there: (origin, serial) is the record's id */
	const char *line;
	size_t line_len;
};

/* Writes rec as one frame into out. Returns the frame's length, PC_ESPACE
 * when out is too small, PC_EINVAL for an empty or oversized origin or
 * line, or a line with a byte outside printable ASCII. */
int pc_report_frame_write(const struct pc_report_record *rec, uint8_t *out, size_t out_size);

/* Reads the frames of one segment held in memory, in order. */
struct pc_report_reader {
	const uint8_t *data;
	size_t len;
	size_t offset;   /* where the next frame is looked for */
	size_t good_end; /* just past the last whole frame read (0: none yet) */
	uint32_t bad;    /* runs of bytes skipped: torn, corrupt or foreign */
	bool in_bad;
};

void pc_report_reader_init(struct pc_report_reader *reader, const void *data, size_t len);

/* The next whole frame into *out (borrowing reader's data). Bytes that are
 * no whole frame (a wrong magic, a length past the end, a checksum that
 * does not match) are skipped up to the next magic that starts a whole
 * frame, and each such run counts once in reader->bad. Returns PC_OK with
 * a record, PC_ENOENT at the end. After the end, good_end < len means the
 * data ends in bytes that are no record: a torn tail, which the writer
 * truncates at good_end. */
int pc_report_reader_next(struct pc_report_reader *reader, struct pc_report_record *out);

/* The value of key in a report line (key=value fields, docs/reporting.md),
 * still percent-escaped: true and *value, *value_len when present. */
bool pc_report_field(const char *line, size_t len, const char *key, const char **value,
                     size_t *value_len);

/* An RFC 3339 UTC time as the lines have it (2026-11-25T10:00:00.123Z;
 * the fraction and seconds optional, a date alone is midnight) into unix
 * milliseconds. Returns PC_OK or PC_ESYNTAX. */
int pc_report_time_parse(const char *text, size_t len, uint64_t *ms);

#endif
