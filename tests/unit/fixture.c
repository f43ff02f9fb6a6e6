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
#include "lib/proto/sections.h"

/* The configs of the models handed out: a test holds a few at a time. */
static pc_config *loaded[16];

static void print_diag(void *ctx, const char *message)
{
	(void)ctx;
	print_error("%s\n", message);
}

static struct pc_model *load(const char *text, size_t len, const char *source)
{
	struct pc_config_options opts = {.source = source, .sections = pc_role_sections};
	pc_config *config = NULL;
	int rc = pc_config_load(text, len, &opts, print_diag, NULL, &config);
	if (rc != 0)
		fail_msg("fixture %s did not load: %d", source, rc);
	size_t i = 0;
	while (i < sizeof(loaded) / sizeof(loaded[0]) && loaded[i] != NULL)
		i++;
	if (i == sizeof(loaded) / sizeof(loaded[0]))
		fail_msg("more than %zu fixtures loaded at once", i);
	loaded[i] = config;
	/* Tests build variants of a fixture's model: hand it out writable. */
	return (struct pc_model *)(uintptr_t)pc_config_model(config);
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

static size_t slot_of(const struct pc_model *model)
{
	for (size_t i = 0; i < sizeof(loaded) / sizeof(loaded[0]); i++)
		if (loaded[i] != NULL && pc_config_model(loaded[i]) == model)
			return i;
	fail_msg("not a fixture model");
	return 0;
}

const struct pc_config *fixture_config(const struct pc_model *model)
{
	return loaded[slot_of(model)];
}

void fixture_free(struct pc_model *model)
{
	if (model == NULL)
		return;
	size_t i = slot_of(model);
	pc_config_free(loaded[i]);
	loaded[i] = NULL;
}
