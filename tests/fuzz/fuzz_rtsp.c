/* libFuzzer target: the RTSP/1.0 redirector session (lib/rtsp_redirect),
 * its head parser included; input as fuzz_http's. */
#include "lib/proto/rtsp_redirect.h"
#include "stream_harness.h"

static void *create(const struct pc_http_limits *limits)
{
	return pc_rtsp_session_new(limits);
}
static enum pc_http_state feed(void *s, const struct pc_redirect_env *env, const char *in,
                               size_t len, struct pc_buf *out)
{
	return pc_rtsp_session_feed(s, env, in, len, out);
}
static enum pc_http_state end(void *s, const struct pc_redirect_env *env, bool timeout,
                              struct pc_buf *out)
{
	return pc_rtsp_session_end(s, env, timeout, out);
}
static void destroy(void *s)
{
	pc_rtsp_session_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct stream_session_ops ops = {create, feed, end, destroy, "RTSP/1.0 "};
	harness_run(&ops, data, size);
	return 0;
}
