/* Helpers shared by the unit tests: load a fixture federation from
 * tests/fixtures (or inline YAML) with every role section and fail the test
 * loudly when it does not load. */
#ifndef PC_TESTS_FIXTURE_H
#define PC_TESTS_FIXTURE_H

#include <stddef.h>

struct pc_model;
struct pc_config;

/* Reads tests/fixtures/<name> and loads it; fails the test on error. The
 * model belongs to its config: free it with fixture_free. */
struct pc_model *fixture_load(const char *name);
/* Loads YAML text; fails the test on error. Free with fixture_free. */
struct pc_model *fixture_load_text(const char *yaml);
/* The config a fixture model was loaded with (its role settings). */
const struct pc_config *fixture_config(const struct pc_model *model);
/* Frees the config of a fixture model; NULL is fine. */
void fixture_free(struct pc_model *model);

#endif
