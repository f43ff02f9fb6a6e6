/* See fixture.h. Linked only into tests that link the config loader. */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/err.h"
#include "lib/base/file.h"
#include "lib/model/config.h"

static void print_diag(void *ctx, const char *message)
{
	(void)ctx;
	print_error("%s\n", message);
}

static struct pc_model *load(const char *text, size_t len, const char *source)
{
	pc_model *model = NULL;
	int rc = pc_config_load(text, len, source, print_diag, NULL, &model);
	if (rc != 0)
		fail_msg("fixture %s did not load: %d", source, rc);
	return model;
}

struct pc_model *fixture_load(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", PC_FIXTURES_DIR, name);
	size_t len = 0;
	char *text = NULL;
	int rc = pc_file_read(path, &text, &len);
	if (rc != 0)
		fail_msg("cannot read fixture %s: %s", path, pc_strerror(rc));
	struct pc_model *model = load(text, len, path);
	free(text);
	return model;
}

struct pc_model *fixture_load_text(const char *yaml)
{
	return load(yaml, strlen(yaml), "<inline>");
}
