/* libFuzzer target: the RTSP/1.0 redirector session (lib/rtsp_redirect),
 * its head parser included; input as fuzz_http's. */
#include "lib/proto/rtsp_redirect.h"
#include "stream_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	harness_run(&pc_rtsp_session_ops, data, size);
	return 0;
}
