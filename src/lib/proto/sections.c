/* sections: the one list of daemon sections (sections.h), made from the
 * roles' list (roles.h) and the node's own control section. */
#include "lib/proto/sections.h"

#include <stddef.h>

#include "lib/proto/control_settings.h"
#include "lib/proto/roles.h"

#define DECLARE(name) extern const struct pc_section pc_##name##_section;
#define ENTRY(name)   &pc_##name##_section,
PC_ROLES(DECLARE)

#define CONTROL &pc_control_section,
const struct pc_section *const pc_role_sections[] = {PC_ROLES(ENTRY) CONTROL NULL};
