/* stream_settings: the "http" and "rtsp" sections' keys and defaults. The
 * redirector roles are off unless the config turns them on: a node that is
 * only a DNS server must not grab ports 80 and 554. A redirect is one short
 * exchange: a head that takes 10 s to arrive is a slow-client attack, not a
 * slow network. */
#include "lib/proto/stream_settings.h"

#include <stddef.h>

static const char *status_check(const void *field)
{
	const uint16_t *status = field;
	return *status == 302 || *status == 307 ? NULL : "302 or 307";
}

// clang-format off
/* The keys both sections share, after "port" (and HTTP's "status"). */
#define STREAM_LIMITS(header_help)                                                                 \
	PC_MS("header_timeout_ms",  pc_stream_params, header_timeout_ms, 100, 3600000, 10000,      \
	      "a request head (or body to discard) must arrive within this: 408"),                 \
	PC_MS("idle_timeout_ms",    pc_stream_params, idle_timeout_ms,   100, 3600000, 30000,      \
	      "a kept-alive connection with no request is closed"),                                \
	PC_UINT("max_clients",      pc_stream_params, max_clients,      1,   1000000,    10000,    \
	        NULL, "connections per worker"),                                                   \
	PC_UINT("max_per_source",   pc_stream_params, max_per_source,   1,   1000000,    64,       \
	        NULL, "concurrent connections per client address (the balancer's, behind one)"),   \
	PC_UINT("max_header_bytes", pc_stream_params, max_header_bytes, 256, 1048576,    16384,    \
	        NULL, header_help),                                                                \
	PC_UINT("max_target_bytes", pc_stream_params, max_target_bytes, 64,  65536,      8192,     \
	        NULL, "request target: 414"),                                                      \
	PC_UINT("max_body_bytes",   pc_stream_params, max_body_bytes,   0,   UINT32_MAX, 1048576,  \
	        NULL, "a request body is read and thrown away up to this: 413"),                   \
	PC_ADDRS("balancers", pc_stream_params, balancers, "layer-4 balancers whose connections "  \
	         "start with a PROXY v2 header carrying the client (fig. 21)"),                    \
	PC_END

/* The keys both sections start with. */
#define STREAM_ROLE(name, port_)                                                                   \
	PC_BOOL("enabled", pc_stream_params, enabled, false, "run the role"),                      \
	PC_ADDRS("listen", pc_stream_params, listen, "",                                           \
	         .default_doc = "the `" name "` anycast addresses of self's CDNs"),                \
	PC_UINT("port", pc_stream_params, port, 1, UINT16_MAX, port_, NULL, "")

static const struct pc_item http_items[] = {
	STREAM_ROLE("http", 80),
	PC_UINT("status", pc_stream_params, redirect_status, 301, 308, 302, NULL,
	        "the redirect status (HTTP/1.0 clients always get 302)",
	        .check = status_check, .type_doc = "302 or 307"),
	STREAM_LIMITS("request line and headers: 431"),
};

static const struct pc_item rtsp_items[] = {
	STREAM_ROLE("rtsp", 554),
	STREAM_LIMITS("request line and headers: 400"),
};
// clang-format on

const struct pc_section pc_http_section = PC_SETTINGS("http", pc_stream_params, http_items, true,
                                                      "the HTTP redirector role of this node");

const struct pc_section pc_rtsp_section = PC_SETTINGS("rtsp", pc_stream_params, rtsp_items, true,
                                                      "the RTSP redirector role of this node");

const struct pc_stream_params *pc_http_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_http_section);
}

const struct pc_stream_params *pc_rtsp_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_rtsp_section);
}
