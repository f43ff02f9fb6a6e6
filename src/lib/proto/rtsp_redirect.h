/* rtsp_redirect: the RTSP/1.0 redirector of one connection (RFC 2326; the
 * patent's §3.1.5 for streaming media): OPTIONS, DESCRIBE, SETUP and PLAY
 * are answered with "RTSP/1.0 302 Moved Temporarily" and a Location: on
 * the server the policy chose, CSeq echoed. No RTSP parser is packaged in
 * Debian (live555's is C++ and part of its server), so the request head is
 * parsed here: request line, header lines with CRLF only, a CSeq, an
 * optional Content-Length body read and discarded; limits as HTTP's.
 *
 * No I/O and no clock, like http_redirect; driven through the session
 * interface (lib/proto/session.h). */
#ifndef PC_LIB_RTSP_REDIRECT_H
#define PC_LIB_RTSP_REDIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/proto/session.h"

/* The RTSP/1.0 redirector session: "rtsp", responses "RTSP/1.0 ". The
 * limits are HTTP's (redirect_status is not used: RTSP/1.0 has 302). */
extern const struct pc_session_ops pc_rtsp_session_ops;

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
