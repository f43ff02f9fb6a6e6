/* control_settings: how operators reach the daemon (docs/config.md,
 * "control"): the Prometheus metrics endpoint. */
#ifndef PC_LIB_CONTROL_SETTINGS_H
#define PC_LIB_CONTROL_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/model/config.h"
#include "lib/model/model.h"

struct pc_control_params {
	bool metrics_enabled;    /* a metrics_port is set */
	pc_addr metrics_address; /* Prometheus /metrics over HTTP */
	uint16_t metrics_port;
};

extern const struct pc_section pc_control_section;

/* The settings of a config loaded with pc_control_section, or NULL. */
const struct pc_control_params *pc_control_settings(const pc_config *config);

#endif
