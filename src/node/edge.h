/* edge: what other rooms ask of the edge role (the HTTP cache). */
#ifndef PC_NODE_EDGE_H
#define PC_NODE_EDGE_H

#include <stddef.h>

struct pcd_node;

enum pcd_edge_icp {
	PCD_EDGE_ICP_HIT,
	PCD_EDGE_ICP_MISS,
	PCD_EDGE_ICP_MISS_NOFETCH,
	PCD_EDGE_ICP_DENIED
};
/* For ICP: whether this node's edge holds url fresh (HIT), would fetch it (MISS), is too loaded to
 * fetch (MISS_NOFETCH), or does not serve it at all (DENIED: not a URL of a configured provider).
 * Any thread. */
enum pcd_edge_icp pcd_edge_icp_lookup(struct pcd_node *node, const char *url, size_t len);

#endif
