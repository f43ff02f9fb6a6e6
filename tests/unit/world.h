/* The default federation with a fresh live state, shared by the policy
 * tests: a cmocka group or per-test setup/teardown pair. */
#ifndef PC_TESTS_WORLD_H
#define PC_TESTS_WORLD_H

#include <stdint.h>

#include "lib/model/live.h"
#include "lib/model/model.h"
#include "lib/policy/policy.h"

struct world {
	pc_model *model;
	pc_live *live;
	pc_trace trace;
};

int world_setup(void **state);
int world_teardown(void **state);
/* Index of a named server / of an AS by number; fails the test if absent. */
uint32_t world_server(const struct world *w, const char *name);
uint32_t world_as(const struct world *w, uint32_t asn);

#endif
