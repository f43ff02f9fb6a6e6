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
 * tests do the same without sockets. All of it through the session
 * interface (lib/proto/session.h). */
#ifndef PC_LIB_HTTP_REDIRECT_H
#define PC_LIB_HTTP_REDIRECT_H

#include "lib/proto/session.h"

/* The HTTP/1.1 redirector session: "http", responses "HTTP/1.1 ". */
extern const struct pc_session_ops pc_http_session_ops;

#endif
