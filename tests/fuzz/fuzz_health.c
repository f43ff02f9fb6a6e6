/* libFuzzer target: the health probe's reading of a server's answer
 * (lib/proto/health.h), fed whole and byte by byte. Besides not crashing:
 * a verdict never changes once given as more bytes arrive, a status is
 * 100..599, and nothing is decided before PC_HEALTH_STATUS_NEED bytes
 * unless the bytes are already bad. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/proto/health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t whole = 0;
	enum pc_health_status verdict = pc_health_status_parse(data, size, &whole);
	if (verdict == PC_HEALTH_STATUS_OK && (whole < 100 || whole > 599))
		abort();
	enum pc_health_status first = PC_HEALTH_STATUS_MORE;
	uint16_t status = 0;
	for (size_t n = 0; n <= size; n++) {
		enum pc_health_status v = pc_health_status_parse(data, n, &status);
		if (first == PC_HEALTH_STATUS_MORE) {
			if (v == PC_HEALTH_STATUS_OK && n < PC_HEALTH_STATUS_NEED)
				abort();
			first = v;
		} else if (v != first) {
			abort();
		}
	}
	if (first != verdict || (verdict == PC_HEALTH_STATUS_OK && status != whole))
		abort();
	return 0;
}
