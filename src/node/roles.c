/* The roles a node can run: one line each. A role's slot is its place in
 * this list (its index in pcd_roles); everything else about it is in its
 * own file (node/role.h says what a role provides). */
#include "node/role.h"

#include <stddef.h>

/* X(name): the const struct pcd_role pcd_role_<name> of its file. */
#define PCD_ROLE_TABLE(X)                                                                          \
	X(dns)  /* dns.c: APAR-DNS over UDP and TCP */                                             \
	X(cdsr) /* cdsr.c: the CDSR responder */                                                   \
	X(http) /* stream.c: the HTTP redirector */                                                \
	X(rtsp) /* stream.c: the RTSP redirector */

#define DECLARE(name) extern const struct pcd_role pcd_role_##name;
#define ENTRY(name)   &pcd_role_##name,
PCD_ROLE_TABLE(DECLARE)
const struct pcd_role *const pcd_roles[] = {PCD_ROLE_TABLE(ENTRY) NULL};
