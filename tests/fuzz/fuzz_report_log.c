/* libFuzzer target: the report store's segment reader
 * (lib/policy/report_log.h), which reads files a crash may have cut or a
 * disk may have damaged. Besides not crashing: every record read lies
 * inside the input and writes back to the very bytes it was read from,
 * good_end never passes the end, and the field and time readers take any
 * line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"
#include "lib/policy/report_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_report_reader reader;
	pc_report_reader_init(&reader, data, size);
	struct pc_report_record rec;
	size_t prev_end = 0;
	while (pc_report_reader_next(&reader, &rec) == PC_OK) {
		if (reader.good_end > size || reader.good_end <= prev_end)
			abort();
		uint8_t frame[PC_REPORT_FRAME_MAX];
		int n = pc_report_frame_write(&rec, frame, sizeof(frame));
		/* A frame read back need not be writable (its line may hold any
		 * byte under a valid checksum), but one that is must be the
		 * bytes it came from. */
		if (n > 0 && ((size_t)n > reader.offset ||
		              memcmp(frame, data + reader.offset - (size_t)n, (size_t)n) != 0))
			abort();
		prev_end = reader.good_end;
		const char *value;
		size_t len;
		if (pc_report_field(rec.line, rec.line_len, "ts", &value, &len)) {
			uint64_t ms;
			(void)pc_report_time_parse(value, len, &ms);
		}
	}
	if (reader.good_end > size || reader.offset != size)
		abort();
	return 0;
}
