/* control_settings: the "control" section's keys and defaults. */
#include "lib/proto/control_settings.h"

#include <stddef.h>

#include "lib/base/err.h"

// clang-format off
static const struct pc_item control_items[] = {
	PC_ADDR("metrics_listen", pc_control_params, metrics_address, "",
	        .default_doc = "the node's first address"),
	PC_UINT("metrics_port",   pc_control_params, metrics_port, 1, UINT16_MAX, 0, NULL,
	        "serve Prometheus `/metrics` on this port", .default_doc = "none (off)"),
	PC_END,
};
// clang-format on

static int control_finish(void *settings, const struct pc_section_env *env)
{
	(void)env;
	struct pc_control_params *control = settings;
	control->metrics_enabled = control->metrics_port != 0;
	return PC_OK;
}

const struct pc_section pc_control_section =
    PC_SETTINGS("control", pc_control_params, control_items, false, "operator access",
                .finish = control_finish);

const struct pc_control_params *pc_control_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_control_section);
}
