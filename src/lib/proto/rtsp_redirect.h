/* rtsp_redirect: the RTSP/1.0 redirector of one connection (RFC 2326; the
 * patent's §3.1.5 for streaming media): OPTIONS, DESCRIBE, SETUP and PLAY
 * are answered with "RTSP/1.0 302 Moved Temporarily" and a Location: on
 * the server the policy chose, CSeq echoed. No RTSP parser is packaged in
 * Debian (live555's is C++ and part of its server), so the request head is
 * parsed here: request line, header lines with CRLF only, a CSeq, an
 * optional Content-Length body read and discarded; limits as HTTP's.
 *
 * No I/O and no clock, like http_redirect. */
#ifndef PC_LIB_RTSP_REDIRECT_H
#define PC_LIB_RTSP_REDIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/buf.h"
#include "lib/proto/http_redirect.h"
#include "lib/proto/redirect.h"

typedef struct pc_rtsp_session pc_rtsp_session;

/* The limits are HTTP's (redirect_status is not used: RTSP/1.0 has 302). */
pc_rtsp_session *pc_rtsp_session_new(const struct pc_http_limits *limits);
void pc_rtsp_session_free(pc_rtsp_session *session);

/* As pc_http_session_feed. */
enum pc_http_state pc_rtsp_session_feed(pc_rtsp_session *session, const struct pc_redirect_env *env,
                                        const char *in, size_t len, struct pc_buf *out);
enum pc_http_state pc_rtsp_session_end(pc_rtsp_session *session, const struct pc_redirect_env *env,
                                       bool timeout, struct pc_buf *out);

/* One parsed request head (exposed for tests and the fuzz target). */
struct pc_rtsp_request {
	const char *method, *uri; /* spans of the input */
	uint32_t method_len, uri_len;
	bool has_cseq;
	uint32_t cseq;
	uint64_t content_length;
};

/* Parses a request head at the start of in. Returns its length (up to and
 * including the empty line), 0 when more input is needed, or minus the
 * RTSP status to answer (-400, -414, -505, ...). *out is valid when the
 * result is positive; out->has_cseq may be set for an error too, so that
 * the error can echo it. */
long pc_rtsp_parse_head(const char *in, size_t len, const struct pc_http_limits *limits,
                        struct pc_rtsp_request *out);

#endif
