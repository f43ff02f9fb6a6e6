/* pc_config_load_path: the config loader over a file, for the programs. */
#include <stdio.h>
#include <stdlib.h>

#include "lib/base/err.h"
#include "lib/base/file.h"
#include "lib/model/config.h"

pc_model *pc_config_load_path(const char *path, pc_config_diag_fn diag, void *diag_ctx)
{
	pc_model *model = NULL;
	if (path == NULL) {
		pc_config_load(pc_default_config_yaml, pc_default_config_yaml_len,
		               PC_DEFAULT_CONFIG_NAME, diag, diag_ctx, &model);
		return model;
	}
	char msg[512];
	size_t len = 0;
	char *text = NULL;
	int rc = pc_file_read(path, &text, &len);
	if (rc != 0) {
		snprintf(msg, sizeof(msg), "%s: cannot read: %s", path, pc_strerror(rc));
		diag(diag_ctx, msg);
		return NULL;
	}
	rc = pc_config_load(text, len, path, diag, diag_ctx, &model);
	free(text);
	if (rc != PC_OK && rc != PC_ECONFIG) {
		snprintf(msg, sizeof(msg), "%s: %s", path, pc_strerror(rc));
		diag(diag_ctx, msg);
	}
	return model;
}
