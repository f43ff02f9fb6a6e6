/* libFuzzer target: the HTTP/1.1 redirector session (lib/http_redirect)
 * over the embedded default federation. The first byte picks where the
 * input is split into two reads, the client's network and the redirect
 * status; the rest is what a client sends on one connection. */
#include "lib/proto/http_redirect.h"
#include "stream_harness.h"

static void *create(const struct pc_http_limits *limits)
{
	return pc_http_session_new(limits);
}
static enum pc_http_state feed(void *s, const struct pc_redirect_env *env, const char *in,
                               size_t len, struct pc_buf *out)
{
	return pc_http_session_feed(s, env, in, len, out);
}
static enum pc_http_state end(void *s, const struct pc_redirect_env *env, bool timeout,
                              struct pc_buf *out)
{
	return pc_http_session_end(s, env, timeout, out);
}
static void destroy(void *s)
{
	pc_http_session_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct stream_session_ops ops = {create, feed, end, destroy, "HTTP/1.1 "};
	harness_run(&ops, data, size);
	return 0;
}
