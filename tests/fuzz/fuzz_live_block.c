/* libFuzzer target: a live channel's overlay block (lib/proto/live_block.h).
 * Besides not crashing: a block that decodes encodes back to the same
 * bytes, with its TS inside the input; and a block the encoder accepts,
 * made from the input's first bytes, decodes to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"
#include "lib/proto/live_block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[PC_LIVE_BLOCK_MAX];
	struct pc_live_block b, again;
	int rc = pc_live_block_decode(data, size, &b);
	if (rc == 0) {
		if (b.ts_len != size - PC_LIVE_BLOCK_HEADER_LEN ||
		    b.ts != data + PC_LIVE_BLOCK_HEADER_LEN)
			abort();
		int n = pc_live_block_encode(&b, out, sizeof(out));
		if (n != (int)size || memcmp(out, data, size) != 0)
			abort();
	} else if (rc != PC_ESYNTAX && rc != PC_ENOTSUP) {
		abort();
	}

	if (size < 12)
		return 0;
	struct pc_live_block made = {.flags = data[0],
	                             .index = (uint16_t)(data[1] & 3),
	                             .segment_seq = data[2],
	                             .duration_ms = data[3] & 1 ? data[4] : 0,
	                             .ts = data + 12,
	                             .ts_len = (size - 12) / 188 * 188};
	int n = pc_live_block_encode(&made, out, sizeof(out));
	if (n < 0) {
		if (n != PC_EINVAL)
			abort();
		return 0;
	}
	if (pc_live_block_decode(out, (size_t)n, &again) != 0 || again.flags != made.flags ||
	    again.index != made.index || again.segment_seq != made.segment_seq ||
	    again.duration_ms != made.duration_ms || again.ts_len != made.ts_len ||
	    memcmp(again.ts, made.ts, made.ts_len) != 0)
		abort();
	return 0;
}
