/* sections: every daemon section a config may hold, for the programs,
 * tests and fuzz targets that load a whole config (pc_config_options):
 * every role's of roles.h, then the node's control section. A new role
 * adds its line to roles.h and nothing here or in lib/model. */
#ifndef PC_LIB_SECTIONS_H
#define PC_LIB_SECTIONS_H

#include "lib/model/schema.h"

/* dns, cdsr, http, rtsp, edge, icp, directory, control; NULL-terminated. */
extern const struct pc_section *const pc_role_sections[];

#endif
