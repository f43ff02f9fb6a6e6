/* control_settings: the "control" section's keys and defaults. */
#include "lib/proto/control_settings.h"

#include <stddef.h>

#include "lib/base/err.h"

#define CONTROL(field) offsetof(struct pc_control_params, field)

static const struct pc_item control_items[] = {
    {.key = "metrics_listen",
     .type = PC_ITEM_ADDR,
     .offset = CONTROL(metrics_address),
     .default_doc = "the node's first address",
     .help = ""},
    {.key = "metrics_port",
     .type = PC_ITEM_UINT,
     .size = 2,
     .offset = CONTROL(metrics_port),
     .min = 1,
     .max = UINT16_MAX,
     .dflt = 0,
     .default_doc = "none (off)",
     .help = "serve Prometheus `/metrics` on this port"},
    {0},
};

static int control_finish(void *settings, const struct pc_section_env *env)
{
	(void)env;
	struct pc_control_params *control = settings;
	control->metrics_enabled = control->metrics_port != 0;
	return PC_OK;
}

const struct pc_section pc_control_section = {
    .name = "control",
    .items = control_items,
    .size = sizeof(struct pc_control_params),
    .help = "operator access",
    .finish = control_finish,
};

const struct pc_control_params *pc_control_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_control_section);
}
