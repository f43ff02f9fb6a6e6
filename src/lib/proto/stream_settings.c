/* stream_settings: the "http" and "rtsp" sections' keys and defaults. The
 * redirector roles are off unless the config turns them on: a node that is
 * only a DNS server must not grab ports 80 and 554. A redirect is one short
 * exchange: a head that takes 10 s to arrive is a slow-client attack, not a
 * slow network. */
#include "lib/proto/stream_settings.h"

#include <stddef.h>

#define STREAM(field) offsetof(struct pc_stream_params, field)

static const char *status_check(const void *field)
{
	const uint16_t *status = field;
	return *status == 302 || *status == 307 ? NULL : "302 or 307";
}

/* The keys both sections share, after "port" (and HTTP's "status"). */
#define STREAM_LIMITS(header_help)                                                                 \
	{.key = "header_timeout_ms",                                                               \
	 .type = PC_ITEM_MS,                                                                       \
	 .offset = STREAM(header_timeout_ms),                                                      \
	 .min = 100,                                                                               \
	 .max = 3600000,                                                                           \
	 .dflt = 10000,                                                                            \
	 .help = "a request head (or body to discard) must arrive within this: 408"},              \
	    {.key = "idle_timeout_ms",                                                             \
	     .type = PC_ITEM_MS,                                                                   \
	     .offset = STREAM(idle_timeout_ms),                                                    \
	     .min = 100,                                                                           \
	     .max = 3600000,                                                                       \
	     .dflt = 30000,                                                                        \
	     .help = "a kept-alive connection with no request is closed"},                         \
	    {.key = "max_clients",                                                                 \
	     .type = PC_ITEM_UINT,                                                                 \
	     .size = 4,                                                                            \
	     .offset = STREAM(max_clients),                                                        \
	     .min = 1,                                                                             \
	     .max = 1000000,                                                                       \
	     .dflt = 10000,                                                                        \
	     .help = "connections per worker"},                                                    \
	    {.key = "max_per_source",                                                              \
	     .type = PC_ITEM_UINT,                                                                 \
	     .size = 4,                                                                            \
	     .offset = STREAM(max_per_source),                                                     \
	     .min = 1,                                                                             \
	     .max = 1000000,                                                                       \
	     .dflt = 64,                                                                           \
	     .help = "concurrent connections per client address (the balancer's, behind one)"},    \
	    {.key = "max_header_bytes",                                                            \
	     .type = PC_ITEM_UINT,                                                                 \
	     .size = 4,                                                                            \
	     .offset = STREAM(max_header_bytes),                                                   \
	     .min = 256,                                                                           \
	     .max = 1048576,                                                                       \
	     .dflt = 16384,                                                                        \
	     .help = header_help},                                                                 \
	    {.key = "max_target_bytes",                                                            \
	     .type = PC_ITEM_UINT,                                                                 \
	     .size = 4,                                                                            \
	     .offset = STREAM(max_target_bytes),                                                   \
	     .min = 64,                                                                            \
	     .max = 65536,                                                                         \
	     .dflt = 8192,                                                                         \
	     .help = "request target: 414"},                                                       \
	    {.key = "max_body_bytes",                                                              \
	     .type = PC_ITEM_UINT,                                                                 \
	     .size = 4,                                                                            \
	     .offset = STREAM(max_body_bytes),                                                     \
	     .max = UINT32_MAX,                                                                    \
	     .dflt = 1048576,                                                                      \
	     .help = "a request body is read and thrown away up to this: 413"},                    \
	    {.key = "balancers",                                                                   \
	     .type = PC_ITEM_ADDRS,                                                                \
	     .offset = STREAM(balancers),                                                          \
	     .help = "layer-4 balancers whose connections start with a PROXY v2 header carrying "  \
	             "the client (fig. 21)"},                                                      \
	{                                                                                          \
		0                                                                                  \
	}

static const struct pc_item http_items[] = {
    {.key = "enabled",
     .type = PC_ITEM_BOOL,
     .offset = STREAM(enabled),
     .dflt = false,
     .help = "run the role"},
    {.key = "listen",
     .type = PC_ITEM_ADDRS,
     .offset = STREAM(listen),
     .default_doc = "the `http` anycast addresses of self's CDNs",
     .help = ""},
    {.key = "port",
     .type = PC_ITEM_UINT,
     .size = 2,
     .offset = STREAM(port),
     .min = 1,
     .max = UINT16_MAX,
     .dflt = 80,
     .help = ""},
    {.key = "status",
     .type = PC_ITEM_UINT,
     .size = 2,
     .offset = STREAM(redirect_status),
     .min = 301,
     .max = 308,
     .dflt = 302,
     .check = status_check,
     .type_doc = "302 or 307",
     .help = "the redirect status (HTTP/1.0 clients always get 302)"},
    STREAM_LIMITS("request line and headers: 431"),
};

static const struct pc_item rtsp_items[] = {
    {.key = "enabled",
     .type = PC_ITEM_BOOL,
     .offset = STREAM(enabled),
     .dflt = false,
     .help = "run the role"},
    {.key = "listen",
     .type = PC_ITEM_ADDRS,
     .offset = STREAM(listen),
     .default_doc = "the `rtsp` anycast addresses of self's CDNs",
     .help = ""},
    {.key = "port",
     .type = PC_ITEM_UINT,
     .size = 2,
     .offset = STREAM(port),
     .min = 1,
     .max = UINT16_MAX,
     .dflt = 554,
     .help = ""},
    STREAM_LIMITS("request line and headers: 400"),
};

const struct pc_section pc_http_section = {
    .name = "http",
    .items = http_items,
    .size = sizeof(struct pc_stream_params),
    .anycast = true,
    .help = "the HTTP redirector role of this node",
};

const struct pc_section pc_rtsp_section = {
    .name = "rtsp",
    .items = rtsp_items,
    .size = sizeof(struct pc_stream_params),
    .anycast = true,
    .help = "the RTSP redirector role of this node",
};

const struct pc_stream_params *pc_http_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_http_section);
}

const struct pc_stream_params *pc_rtsp_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_rtsp_section);
}
