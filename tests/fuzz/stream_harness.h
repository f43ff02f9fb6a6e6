/* What fuzz_http and fuzz_rtsp share: the default model, and a session
 * (through the library's session ops) fed in two pieces (split where the
 * first byte says), then ended, with the invariants every redirector
 * session keeps checked on the output. */
#ifndef PC_FUZZ_STREAM_HARNESS_H
#define PC_FUZZ_STREAM_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/model/config.h"
#include "lib/proto/session.h"
#include "lib/proto/sections.h"

static pc_config *harness_config;
static const pc_model *harness_model;
static pc_live *harness_live;

static void harness_setup(void)
{
	struct pc_config_options opts = {.source = "default", .sections = pc_role_sections};
	if (sodium_init() < 0 || pc_config_load(pc_default_config_yaml, pc_default_config_yaml_len,
	                                        &opts, NULL, NULL, &harness_config) != 0)
		abort();
	harness_model = pc_config_model(harness_config);
	if (pc_live_new(harness_model, &harness_live) != 0)
		abort();
}

/* Every response in out is whole: a status line, headers with a
 * Content-Length, the empty line, and that many body bytes — or none, for
 * the answer to a HEAD (the next response, or the end, follows at once). */
static void check_responses(const struct pc_buf *out, const char *status_line)
{
	size_t off = 0, prefix = strlen(status_line);
	while (off < out->len) {
		if (out->len - off < prefix || memcmp(out->data + off, status_line, prefix) != 0)
			abort();
		const char *head = out->data + off;
		const char *end = memmem(head, out->len - off, "\r\n\r\n", 4);
		if (end == NULL)
			abort();
		const char *cl = memmem(head, (size_t)(end - head), "\r\nContent-Length: ", 18);
		if (cl == NULL)
			abort();
		size_t body = strtoul(cl + 18, NULL, 10);
		off = (size_t)(end + 4 - out->data);
		bool bodyless =
		    off == out->len ||
		    (out->len - off >= prefix && memcmp(out->data + off, status_line, prefix) == 0);
		if (!bodyless || body == 0)
			off += body;
		if (off > out->len)
			abort();
	}
}

static void harness_run(const struct pc_session_ops *ops, const uint8_t *data, size_t size)
{
	if (harness_model == NULL)
		harness_setup();
	if (size == 0)
		return;
	struct pc_http_limits limits = {
	    .max_header_bytes = 2048,
	    .max_target_bytes = 512,
	    .max_body_bytes = 4096,
	    .redirect_status = (data[0] & 0x80) ? 307 : 302,
	};
	struct pc_redirect_env env = {
	    .answer =
	        {
	            .model = harness_model,
	            .live = harness_live,
	            .node = (data[0] & 0x40) ? PC_NONE : harness_model->self_node,
	            .now_ms = 1764000000000ULL,
	        },
	};
	env.answer.source.family = PC_AF_INET;
	memcpy(env.answer.source.bytes,
	       (const uint8_t[4]){127, (uint8_t)(1 + (data[0] & 7)), 0, 10}, 4);
	const char *in = (const char *)data + 1;
	size_t len = size - 1;
	size_t split = len ? (size_t)(data[0] & 0x38) * len / 0x38 : 0;
	void *session = ops->create(&limits);
	if (session == NULL)
		abort();
	struct pc_buf out = {0};
	enum pc_http_state state = ops->feed(session, &env, in, split, &out);
	size_t before = out.len;
	if (state == PC_HTTP_CLOSING) {
		/* A closing session takes no more input and says nothing more. */
		ops->feed(session, &env, in + split, len - split, &out);
		if (out.len != before)
			abort();
	} else {
		state = ops->feed(session, &env, in + split, len - split, &out);
		ops->end(session, &env, (data[0] & 1) != 0, &out);
	}
	check_responses(&out, ops->status_line);
	pc_buf_free(&out);
	ops->destroy(session);
}

#endif
