/* libFuzzer target: the HTTP/1.1 redirector session (lib/http_redirect)
 * over the embedded default federation. The first byte picks where the
 * input is split into two reads, the client's network and the redirect
 * status; the rest is what a client sends on one connection. */
#include "lib/proto/http_redirect.h"
#include "stream_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	harness_run(&pc_http_session_ops, data, size);
	return 0;
}
