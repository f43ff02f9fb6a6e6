/* session: the one interface of a TCP redirector's connection (HTTP,
 * RTSP). A session reads what a client sends on one connection and
 * appends its responses to an output buffer; every answer goes through
 * lib/redirect with the answer context in the env (struct pc_redirect_env),
 * as the DNS and CDSR answers do. The daemon's stream roles, the fuzz
 * targets and the unit tests drive any session through these ops, so a
 * new TCP redirector is one more ops table, not one more set of functions.
 *
 * No I/O and no clock: the caller moves the bytes and says the time (the
 * env's answer.now_ms). One session is used by one thread at a time. */
#ifndef PC_LIB_SESSION_H
#define PC_LIB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/buf.h"
#include "lib/proto/redirect.h"

/* Limits of one connection's requests; named for HTTP, used by RTSP too. */
struct pc_http_limits {
	uint32_t max_header_bytes; /* request line and headers; 431 beyond */
	uint32_t max_target_bytes; /* 414 beyond */
	uint64_t max_body_bytes;   /* read and discarded; 413 beyond */
	uint16_t redirect_status;  /* HTTP: 302 or 307 (RTSP/1.0 always has 302) */
};

/* Where a connection is, for the caller's timeouts. */
enum pc_http_state {
	PC_HTTP_IDLE,    /* between requests: the keep-alive timeout applies */
	PC_HTTP_HEAD,    /* a request head has begun: the header timeout applies */
	PC_HTTP_BODY,    /* reading a body to discard */
	PC_HTTP_CLOSING, /* a response ends the connection: send out, then close */
};

struct pc_session_ops {
	const char *name;        /* "http", "rtsp" */
	const char *status_line; /* every response starts with it: "HTTP/1.1 " */
	/* A new session; the limits are copied. NULL when memory runs out.
	 * The caller owns it and frees it with destroy. */
	void *(*create)(const struct pc_http_limits *limits);
	/* Feeds len received bytes; responses are appended to out in request
	 * order, and env->on_result sees each. Returns the state after them.
	 * After PC_HTTP_CLOSING the session takes no more input. env and out
	 * are used during the call only. */
	enum pc_http_state (*feed)(void *session, const struct pc_redirect_env *env, const char *in,
	                           size_t len, struct pc_buf *out);
	/* The client's half-close or a timeout: a request cut short gets a 400
	 * or 408 (timeout true) when its head had begun. Returns
	 * PC_HTTP_CLOSING. */
	enum pc_http_state (*end)(void *session, const struct pc_redirect_env *env, bool timeout,
	                          struct pc_buf *out);
	void (*destroy)(void *session); /* NULL is fine */
};

#endif
