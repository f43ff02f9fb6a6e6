/* The roles a node can run. A role's slot is its index here. */
#include "node/node.h"

const struct pcd_role *const pcd_roles[] = {
    &pcd_role_dns, &pcd_role_cdsr, &pcd_role_http, &pcd_role_rtsp, NULL,
};
