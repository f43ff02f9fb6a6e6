/* stream_settings: the settings of the TCP redirector roles, HTTP and RTSP
 * (docs/config.md, "http", "rtsp"): two config sections over one struct,
 * with their own defaults (ports 80 and 554; the redirect status is
 * HTTP's only). */
#ifndef PC_LIB_STREAM_SETTINGS_H
#define PC_LIB_STREAM_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/model/config.h"
#include "lib/model/model.h"

struct pc_stream_params {
	bool enabled;
	struct pc_addr_list listen;    /* empty: the role's anycast addresses of self's CDNs */
	uint16_t port;                 /* 80 / 554 */
	uint16_t redirect_status;      /* HTTP: 302 or 307 */
	uint32_t header_timeout_ms;    /* a request head must arrive within this */
	uint32_t idle_timeout_ms;      /* a kept-alive connection with no request is closed */
	uint32_t max_clients;          /* per worker */
	uint32_t max_per_source;       /* concurrent connections from one address */
	uint32_t max_header_bytes;     /* request line and headers: 431 beyond */
	uint32_t max_target_bytes;     /* request target: 414 beyond */
	uint32_t max_body_bytes;       /* a request body is read and discarded up to this: 413 */
	struct pc_addr_list balancers; /* peers whose connections start with PROXY v2 */
};

/* The keys of a TCP role's section, for its own item table: the ones it
 * starts with, and the limits after "port" (and HTTP's "status"). A role
 * whose settings struct starts with a struct pc_stream_params (the
 * directory's) uses them too: their offsets are the same there. */
// clang-format off
#define PC_STREAM_ROLE(name, port_)                                                                \
	PC_BOOL("enabled", pc_stream_params, enabled, false, "run the role"),                      \
	PC_ADDRS("listen", pc_stream_params, listen, "",                                           \
	         .default_doc = "the `" name "` anycast addresses of self's CDNs"),                \
	PC_UINT("port", pc_stream_params, port, 1, UINT16_MAX, port_, NULL, "")
#define PC_STREAM_LIMITS(header_help)                                                              \
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
	         "start with a PROXY v2 header carrying the client (fig. 21)")
// clang-format on

extern const struct pc_section pc_http_section, pc_rtsp_section;

/* The settings of a config loaded with the section, or NULL. */
const struct pc_stream_params *pc_http_settings(const pc_config *config);
const struct pc_stream_params *pc_rtsp_settings(const pc_config *config);

#endif
