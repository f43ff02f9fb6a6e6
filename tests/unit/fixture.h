/* Helpers shared by the unit tests: load a fixture federation from
 * tests/fixtures (or inline YAML) and fail the test loudly when it does not
 * load. */
#ifndef PC_TESTS_FIXTURE_H
#define PC_TESTS_FIXTURE_H

#include <stddef.h>

struct pc_model;

/* Reads tests/fixtures/<name> and loads it; fails the test on error. */
struct pc_model *fixture_load(const char *name);
/* Loads YAML text; fails the test on error. */
struct pc_model *fixture_load_text(const char *yaml);

#endif
