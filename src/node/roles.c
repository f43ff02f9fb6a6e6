/* The daemon's role table, made from the one list of roles
 * (lib/proto/roles.h, one line a role). A role's slot is its place in that
 * list (its index in pcd_roles); everything else about it is in its own
 * file (node/role.h says what a role provides). */
#include "node/role.h"

#include <stddef.h>

#include "lib/proto/roles.h"

/* X(name) of lib/proto/roles.h: the const struct pcd_role pcd_role_<name>
 * of its file. */
#define DECLARE(name) extern const struct pcd_role pcd_role_##name;
#define ENTRY(name)   &pcd_role_##name,
PC_ROLES(DECLARE)
const struct pcd_role *const pcd_roles[] = {PC_ROLES(ENTRY) NULL};
