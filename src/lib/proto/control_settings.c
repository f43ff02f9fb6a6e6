/* control_settings: the "control" section's keys and defaults. */
#include "lib/proto/control_settings.h"

#include <stddef.h>
#include <string.h>

#include "lib/base/err.h"
#include "lib/model/config_reader.h"

/* An absolute path, or "" for none; absent: the default (finish). */
static void read_socket(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	if (!pc__want_scalar(rd, "a path"))
		return;
	const char *text = pc__scalar(rd);
	size_t len = pc__scalar_len(rd);
	/* sun_path holds 108 bytes with its NUL. */
	if ((len > 0 && text[0] != '/') || len > 107 || memchr(text, '\0', len) != NULL) {
		pc__item_error(rd, "%s: %s is not an absolute path of at most 107 bytes, or \"\"",
		               rd->key, pc__quote_n(rd, text, len));
		return;
	}
	const char *copy = pc__strndup(rd, text, len);
	memcpy((char *)target + item->offset, &copy, sizeof(copy));
}

// clang-format off
static const struct pc_item control_items[] = {
	PC_CUSTOM_AT("socket", 0, pc_control_params, socket_path, read_socket, 0, "path or \"\"",
	             "Unix socket of peercdnctl's commands (mode 0660); \"\": none; "
	             "peercdnd -S overrides",
	             .default_doc = PC_CONTROL_SOCKET_DEFAULT),
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
	if (control->socket_path == NULL) {
		control->socket_path = PC_CONTROL_SOCKET_DEFAULT;
		control->socket_default = true;
	}
	return PC_OK;
}

const struct pc_section pc_control_section =
    PC_SETTINGS("control", pc_control_params, control_items, false, "operator access",
                .finish = control_finish);

const struct pc_control_params *pc_control_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_control_section);
}
