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
static const struct pc_item http_items[] = {
	PC_STREAM_ROLE("http", 80),
	PC_UINT("status", pc_stream_params, redirect_status, 301, 308, 302, NULL,
	        "the redirect status (HTTP/1.0 clients always get 302)",
	        .check = status_check, .type_doc = "302 or 307"),
	PC_STREAM_LIMITS("request line and headers: 431"),
	PC_END,
};

static const struct pc_item rtsp_items[] = {
	PC_STREAM_ROLE("rtsp", 554),
	PC_STREAM_LIMITS("request line and headers: 400"),
	PC_END,
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
