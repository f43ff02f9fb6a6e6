/* The report store's frames (docs/reports.md): writing one, reading a
 * segment's frames back whole or not at all, and the two field readers
 * the summing needs. */
#include "lib/policy/report_log.h"

#include <string.h>

#include "lib/base/crc32c.h"
#include "lib/base/err.h"

static const uint8_t magic[4] = {'P', 'C', 'R', '1'};

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static bool printable(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (text[i] < 0x20 || text[i] > 0x7e)
			return false;
	return true;
}

int pc_report_frame_write(const struct pc_report_record *rec, uint8_t *out, size_t out_size)
{
	if (rec == NULL || out == NULL || rec->origin == NULL || rec->line == NULL ||
	    rec->origin_len == 0 || rec->origin_len > PC_REPORT_ORIGIN_MAX || rec->line_len == 0 ||
	    rec->line_len > PC_REPORT_LINE_MAX || !printable(rec->origin, rec->origin_len) ||
	    !printable(rec->line, rec->line_len))
		return PC_EINVAL;
	size_t body = 9 + rec->origin_len + rec->line_len;
	if (out_size < PC_REPORT_FRAME_HEAD + body)
		return PC_ESPACE;
	memcpy(out, magic, 4);
	put32(out + 4, (uint32_t)body);
	uint8_t *b = out + PC_REPORT_FRAME_HEAD;
	put32(b, (uint32_t)rec->serial);
	put32(b + 4, (uint32_t)(rec->serial >> 32));
	b[8] = (uint8_t)rec->origin_len;
	memcpy(b + 9, rec->origin, rec->origin_len);
	memcpy(b + 9 + rec->origin_len, rec->line, rec->line_len);
	/* The length is checksummed too: a flipped length bit must not make
	 * a shorter frame whose body happens to check. */
	uint32_t crc = pc_crc32c(pc_crc32c(0, out + 4, 4), b, body);
	put32(out + 8, crc);
	return (int)(PC_REPORT_FRAME_HEAD + body);
}

void pc_report_reader_init(struct pc_report_reader *reader, const void *data, size_t len)
{
	*reader = (struct pc_report_reader){.data = data, .len = data == NULL ? 0 : len};
}

/* The frame at offset, when it is a whole one: its length. 0 otherwise. */
static size_t frame_at(const struct pc_report_reader *r, size_t offset,
                       struct pc_report_record *out)
{
	size_t left = r->len - offset;
	const uint8_t *p = r->data + offset;
	if (left < PC_REPORT_FRAME_HEAD || memcmp(p, magic, 4) != 0)
		return 0;
	size_t body = get32(p + 4);
	if (body < 10 || body > PC_REPORT_FRAME_MAX - PC_REPORT_FRAME_HEAD ||
	    body > left - PC_REPORT_FRAME_HEAD)
		return 0;
	const uint8_t *b = p + PC_REPORT_FRAME_HEAD;
	if (pc_crc32c(pc_crc32c(0, p + 4, 4), b, body) != get32(p + 8))
		return 0;
	size_t origin_len = b[8];
	if (origin_len == 0 || origin_len > PC_REPORT_ORIGIN_MAX || 9 + origin_len >= body)
		return 0;
	out->serial = get64(b);
	out->origin = (const char *)b + 9;
	out->origin_len = origin_len;
	out->line = (const char *)b + 9 + origin_len;
	out->line_len = body - 9 - origin_len;
	return PC_REPORT_FRAME_HEAD + body;
}

int pc_report_reader_next(struct pc_report_reader *r, struct pc_report_record *out)
{
	while (r->offset < r->len) {
		size_t n = frame_at(r, r->offset, out);
		if (n > 0) {
			r->offset += n;
			r->good_end = r->offset;
			r->in_bad = false;
			return PC_OK;
		}
		if (!r->in_bad)
			r->bad++;
		r->in_bad = true;
		/* Resynchronise on the next magic; the checksum rejects one
		 * that is only a record's text. */
		const uint8_t *next = NULL;
		if (r->len - r->offset > 1)
			next = memmem(r->data + r->offset + 1, r->len - r->offset - 1, magic, 4);
		r->offset = next == NULL ? r->len : (size_t)(next - r->data);
	}
	return PC_ENOENT;
}

bool pc_report_field(const char *line, size_t len, const char *key, const char **value,
                     size_t *value_len)
{
	if (line == NULL || key == NULL)
		return false;
	size_t key_len = strlen(key);
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && line[end] != ' ')
			end++;
		if (end - i > key_len && memcmp(line + i, key, key_len) == 0 &&
		    line[i + key_len] == '=') {
			*value = line + i + key_len + 1;
			*value_len = end - i - key_len - 1;
			return true;
		}
		i = end + 1;
	}
	return false;
}

/* n decimal digits at text into *v. */
static bool digits(const char *text, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(text[i] - '0');
	}
	return true;
}

/* Howard Hinnant's days_from_civil: the inverse of report.c's civil. */
static uint64_t days_from_civil(unsigned y, unsigned m, unsigned d)
{
	uint64_t year = y - (m <= 2);
	uint64_t era = year / 400;
	uint64_t yoe = year - era * 400;
	uint64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int pc_report_time_parse(const char *text, size_t len, uint64_t *ms)
{
	unsigned y, mo, d, h = 0, mi = 0, s = 0, frac = 0;
	if (text == NULL || len < 10 || !digits(text, 4, &y) || text[4] != '-' ||
	    !digits(text + 5, 2, &mo) || text[7] != '-' || !digits(text + 8, 2, &d))
		return PC_ESYNTAX;
	size_t i = 10;
	if (i < len) {
		if (len < 16 || (text[i] != 'T' && text[i] != ' ') || !digits(text + 11, 2, &h) ||
		    text[13] != ':' || !digits(text + 14, 2, &mi))
			return PC_ESYNTAX;
		i = 16;
		if (i < len && text[i] == ':') {
			if (len < 19 || !digits(text + 17, 2, &s))
				return PC_ESYNTAX;
			i = 19;
			if (i < len && text[i] == '.') {
				unsigned scale = 100;
				for (i++; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
					frac += (unsigned)(text[i] - '0') * scale;
					scale /= 10;
				}
			}
		}
		if (i < len && text[i] == 'Z')
			i++;
		if (i != len)
			return PC_ESYNTAX;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return PC_ESYNTAX;
	*ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000) + frac;
	return PC_OK;
}
