/* See world.h. */
#include "world.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "fixture.h"
#include "lib/model/config.h"
#include "lib/base/err.h"

int world_setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	w->model = fixture_load_text(pc_default_config_yaml);
	assert_non_null(w->model);
	assert_int_equal(pc_live_new(w->model, &w->live), PC_OK);
	*state = w;
	return 0;
}

int world_teardown(void **state)
{
	struct world *w = *state;
	pc_live_free(w->live);
	fixture_free(w->model);
	free(w);
	return 0;
}

uint32_t world_server(const struct world *w, const char *name)
{
	uint32_t s = pc_model_server(w->model, name);
	assert_int_not_equal(s, PC_NONE);
	return s;
}

uint32_t world_as(const struct world *w, uint32_t asn)
{
	uint32_t a = pc_model_as_by_asn(w->model, asn);
	assert_int_not_equal(a, PC_NONE);
	return a;
}
