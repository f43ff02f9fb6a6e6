/* cdsr_settings: the "cdsr" section's keys and defaults. */
#include "lib/proto/cdsr_settings.h"

#include <stddef.h>

#include "lib/proto/cdsr.h"

#define CDSR(field) offsetof(struct pc_cdsr_params, field)

static const struct pc_item cdsr_items[] = {
    {.key = "enabled",
     .type = PC_ITEM_BOOL,
     .offset = CDSR(enabled),
     .dflt = false,
     .help = "run the role"},
    {.key = "listen",
     .type = PC_ITEM_ADDRS,
     .offset = CDSR(listen),
     .default_doc = "the `cdsr` anycast addresses of self's CDNs",
     .help = ""},
    {.key = "port",
     .type = PC_ITEM_UINT,
     .size = 2,
     .offset = CDSR(port),
     .min = 1,
     .max = UINT16_MAX,
     .dflt = PC_CDSR_PORT,
     .help = ""},
    {.key = "rate",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = CDSR(rate),
     .max = 10000000,
     .dflt = 0,
     .default_doc = "0 (off)",
     .help = "answers per second per client prefix; over it every second request gets "
             "RATE_LIMITED and the others are dropped"},
    {.key = "ipv4_prefix",
     .type = PC_ITEM_UINT,
     .size = 1,
     .offset = CDSR(prefix4),
     .max = 32,
     .dflt = 24,
     .help = "how client IPv4 addresses are grouped for `rate`"},
    {.key = "ipv6_prefix",
     .type = PC_ITEM_UINT,
     .size = 1,
     .offset = CDSR(prefix6),
     .max = 128,
     .dflt = 56,
     .help = "same for IPv6"},
    {0},
};

const struct pc_section pc_cdsr_section = {
    .name = "cdsr",
    .items = cdsr_items,
    .size = sizeof(struct pc_cdsr_params),
    .anycast = true,
    .help = "the CDSR responder role of this node",
};

const struct pc_cdsr_params *pc_cdsr_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_cdsr_section);
}
