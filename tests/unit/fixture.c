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

#include "lib/config.h"

static void print_diag(void *ctx, const char *message)
{
	(void)ctx;
	print_error("%s\n", message);
}

char *fixture_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, used = 0;
	char *buf = malloc(cap + 1);
	size_t n;
	while (buf != NULL && (n = fread(buf + used, 1, cap - used, f)) > 0) {
		used += n;
		if (used == cap) {
			char *bigger = realloc(buf, cap * 2 + 1);
			if (bigger == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf == NULL)
		return NULL;
	buf[used] = '\0';
	*len = used;
	return buf;
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
	char *text = fixture_read_file(path, &len);
	if (text == NULL)
		fail_msg("cannot read fixture %s", path);
	struct pc_model *model = load(text, len, path);
	free(text);
	return model;
}

struct pc_model *fixture_load_text(const char *yaml)
{
	return load(yaml, strlen(yaml), "<inline>");
}
