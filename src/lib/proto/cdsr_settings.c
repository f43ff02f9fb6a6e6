/* cdsr_settings: the "cdsr" section's keys and defaults. */
#include "lib/proto/cdsr_settings.h"

#include <stddef.h>

#include "lib/proto/cdsr.h"

// clang-format off
static const struct pc_item xdp_items[] = PC_XDP_ITEMS(pc_cdsr_params, xdp);

static const struct pc_item cdsr_items[] = {
	PC_BOOL("enabled", pc_cdsr_params, enabled, false, "run the role"),
	PC_ADDRS("listen", pc_cdsr_params, listen, "",
	         .default_doc = "the `cdsr` anycast addresses of self's CDNs"),
	PC_UINT("port",        pc_cdsr_params, port,    1, UINT16_MAX, PC_CDSR_PORT, NULL, ""),
	PC_UINT("rate",        pc_cdsr_params, rate,    0, 10000000,   0,            NULL,
	        "answers per second per client prefix; over it every second request gets "
	        "RATE_LIMITED and the others are dropped", .default_doc = "0 (off)"),
	PC_UINT("ipv4_prefix", pc_cdsr_params, prefix4, 0, 32,         24,           NULL,
	        "how client IPv4 addresses are grouped for `rate`"),
	PC_UINT("ipv6_prefix", pc_cdsr_params, prefix6, 0, 128,        56,           NULL,
	        "same for IPv6"),
	PC_SECTION("xdp", xdp_items, "requests over AF_XDP"),
	PC_END,
};
// clang-format on

const struct pc_section pc_cdsr_section =
    PC_SETTINGS("cdsr", pc_cdsr_params, cdsr_items, true, "the CDSR responder role of this node");

const struct pc_cdsr_params *pc_cdsr_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_cdsr_section);
}
