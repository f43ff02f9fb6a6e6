/* pc_config_load_path: the config loader over a file, for the programs. */
#include <stdio.h>
#include <stdlib.h>

#include "lib/base/err.h"
#include "lib/base/file.h"
#include "lib/model/config.h"

int pc_config_load_path(const char *path, const struct pc_config_options *opts,
                        pc_config_diag_fn diag, void *diag_ctx, pc_config **out)
{
	struct pc_config_options o = opts != NULL ? *opts : (struct pc_config_options){0};
	if (path == NULL) {
		o.source = PC_DEFAULT_CONFIG_NAME;
		return pc_config_load(pc_default_config_yaml, pc_default_config_yaml_len, &o, diag,
		                      diag_ctx, out);
	}
	char msg[512];
	size_t len = 0;
	char *text = NULL;
	*out = NULL;
	int rc = pc_file_read(path, &text, &len);
	if (rc != 0) {
		snprintf(msg, sizeof(msg), "%s: cannot read: %s", path, pc_strerror(rc));
		if (diag != NULL)
			diag(diag_ctx, msg);
		return rc;
	}
	o.source = path;
	rc = pc_config_load(text, len, &o, diag, diag_ctx, out);
	free(text);
	if (rc != PC_OK && rc != PC_ECONFIG && diag != NULL) {
		snprintf(msg, sizeof(msg), "%s: %s", path, pc_strerror(rc));
		diag(diag_ctx, msg);
	}
	return rc;
}
