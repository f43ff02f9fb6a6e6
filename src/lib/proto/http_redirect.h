/* http_redirect: the HTTP/1.1 redirector of one connection (the patent's
 * §3.1.5, explicit redirection): every request it understands is answered
 * with 302 (or 307) and a Location: naming the server the policy chose,
 * path and query kept, Cache-Control: no-store. Parsing is Node.js's
 * http_parser (docs/dependencies.md); this module adds what a server
 * facing the Internet needs on top of it: limits on the head, the target
 * and the body, RFC 9112's rules against request smuggling (Content-Length
 * with Transfer-Encoding, bare LF, obsolete line folding), keep-alive and
 * pipelining, and the right status for each bad request: 400, 405, 413,
 * 414, 431, 501, 505.
 *
 * No I/O and no clock: the daemon's HTTP role feeds received bytes and
 * sends what is appended to the output buffer; the fuzz target and unit
 * tests do the same without sockets. */
#ifndef PC_LIB_HTTP_REDIRECT_H
#define PC_LIB_HTTP_REDIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/buf.h"
#include "lib/proto/redirect.h"

typedef struct pc_http_session pc_http_session;

struct pc_http_limits {
	uint32_t max_header_bytes; /* request line and headers; 431 beyond */
	uint32_t max_target_bytes; /* 414 beyond */
	uint64_t max_body_bytes;   /* read and discarded; 413 beyond */
	uint16_t redirect_status;  /* 302 or 307 */
};

enum pc_http_state {
	PC_HTTP_IDLE,    /* between requests: the keep-alive timeout applies */
	PC_HTTP_HEAD,    /* a request head has begun: the header timeout applies */
	PC_HTTP_BODY,    /* reading a body to discard */
	PC_HTTP_CLOSING, /* a response ends the connection: send out, then close */
};

/* NULL when memory runs out. */
pc_http_session *pc_http_session_new(const struct pc_http_limits *limits);
void pc_http_session_free(pc_http_session *session);

/* Feeds len received bytes; responses are appended to out in request
 * order. Returns the state after them. After PC_HTTP_CLOSING the session
 * takes no more input. */
enum pc_http_state pc_http_session_feed(pc_http_session *session, const struct pc_redirect_env *env,
                                        const char *in, size_t len, struct pc_buf *out);

/* The client's half-close or a timeout: a request cut short gets a 400 or
 * 408 (timeout true) when its head had begun. Returns PC_HTTP_CLOSING. */
enum pc_http_state pc_http_session_end(pc_http_session *session, const struct pc_redirect_env *env,
                                       bool timeout, struct pc_buf *out);

#endif
