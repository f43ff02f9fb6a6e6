/* health_settings: the health role's settings (docs/config.md, "health";
 * docs/health.md) and the config section that fills them. */
#ifndef PC_LIB_HEALTH_SETTINGS_H
#define PC_LIB_HEALTH_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/model/config.h"
#include "lib/model/schema.h"

enum pc_health_mode { PC_HEALTH_MODE_HTTP = 0, PC_HEALTH_MODE_TCP = 1 };
extern const char *const pc_health_mode_names[]; /* "http", "tcp" */

struct pc_health_params {
	bool enabled;
	uint8_t mode;                /* enum pc_health_mode */
	const char *path;            /* HTTP mode: the path asked for; "/" by default */
	uint16_t port;               /* 0: each server's http port (80 when it has none) */
	uint32_t interval_ms;        /* between two probes of one server */
	uint32_t timeout_ms;         /* a probe not done within this failed */
	uint32_t fall, rise;         /* failures / successes in a row that flip a verdict */
	uint32_t max_probes;         /* probes in flight at once */
	struct pc_text_list servers; /* server names; empty: the servers of self's CDNs */
};

extern const struct pc_section pc_health_section;

/* The settings of a config loaded with pc_health_section, or NULL. */
const struct pc_health_params *pc_health_settings(const pc_config *config);

#endif
