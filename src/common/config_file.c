#include "common/config_file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 1 << 16, used = 0;
	char *buf = malloc(cap);
	while (buf != NULL) {
		used += fread(buf + used, 1, cap - used, f);
		if (used < cap)
			break;
		char *bigger = realloc(buf, cap *= 2);
		if (bigger == NULL)
			free(buf);
		buf = bigger;
	}
	bool failed = ferror(f);
	int saved = errno;
	fclose(f);
	if (failed) {
		free(buf);
		errno = saved;
		return NULL;
	}
	*len = used;
	return buf;
}

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
	char *text = read_file(path, &len);
	if (text == NULL) {
		snprintf(msg, sizeof(msg), "%s: cannot read: %s", path, strerror(errno));
		diag(diag_ctx, msg);
		return NULL;
	}
	int rc = pc_config_load(text, len, path, diag, diag_ctx, &model);
	free(text);
	if (rc != PC_OK && rc != PC_ECONFIG) {
		snprintf(msg, sizeof(msg), "%s: %s", path, pc_strerror(rc));
		diag(diag_ctx, msg);
	}
	return model;
}
