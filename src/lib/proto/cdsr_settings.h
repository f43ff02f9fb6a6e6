/* cdsr_settings: the CDSR responder role's settings (docs/config.md,
 * "cdsr") and the config section that fills them. */
#ifndef PC_LIB_CDSR_SETTINGS_H
#define PC_LIB_CDSR_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/model/config.h"
#include "lib/model/model.h"
#include "lib/proto/xdp_listen.h"

struct pc_cdsr_params {
	bool enabled;
	struct pc_addr_list listen; /* empty: the CDSR anycast addresses of self's CDNs */
	uint16_t port;              /* 2554 */
	uint32_t rate;              /* answers per second per client prefix; 0 = off */
	uint8_t prefix4, prefix6;   /* how client addresses are grouped for the rate */

	/* UDP over AF_XDP on these interfaces (node/xdp.c). */
	struct pc_xdp_params xdp;
};

extern const struct pc_section pc_cdsr_section;

/* The settings of a config loaded with pc_cdsr_section, or NULL. */
const struct pc_cdsr_params *pc_cdsr_settings(const pc_config *config);

#endif
