/* control_settings: how operators reach the daemon (docs/config.md,
 * "control"): the control socket (peercdnctl's commands) and the
 * Prometheus metrics endpoint. */
#ifndef PC_LIB_CONTROL_SETTINGS_H
#define PC_LIB_CONTROL_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/model/config.h"
#include "lib/model/model.h"

/* Where the control socket is when the config names none. */
#define PC_CONTROL_SOCKET_DEFAULT "/run/peercdn/peercdnd.sock"

struct pc_control_params {
	/* The Unix socket of peercdnctl's commands: an absolute path, or ""
	 * (the key set to "") for none. */
	const char *socket_path;
	bool socket_default;     /* the key was absent: PC_CONTROL_SOCKET_DEFAULT */
	bool metrics_enabled;    /* a metrics_port is set */
	pc_addr metrics_address; /* Prometheus /metrics over HTTP */
	uint16_t metrics_port;
};

extern const struct pc_section pc_control_section;

/* The settings of a config loaded with pc_control_section, or NULL. */
const struct pc_control_params *pc_control_settings(const pc_config *config);

#endif
