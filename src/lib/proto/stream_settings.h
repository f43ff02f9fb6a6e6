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

extern const struct pc_section pc_http_section, pc_rtsp_section;

/* The settings of a config loaded with the section, or NULL. */
const struct pc_stream_params *pc_http_settings(const pc_config *config);
const struct pc_stream_params *pc_rtsp_settings(const pc_config *config);

#endif
