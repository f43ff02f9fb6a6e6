/* edge: what other roles ask of the edge role (node/edge.c). */
#ifndef PC_NODE_EDGE_H
#define PC_NODE_EDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pcd_node;

enum pcd_edge_icp {
	PCD_EDGE_ICP_HIT,
	PCD_EDGE_ICP_MISS,
	PCD_EDGE_ICP_MISS_NOFETCH,
	PCD_EDGE_ICP_DENIED,
};

/* For ICP: whether this node's edge holds url fresh (HIT), would fetch it
 * (MISS), is too loaded to fetch (MISS_NOFETCH), or does not serve it at
 * all (DENIED: not a URL of a configured provider, or no edge role). Any
 * thread. */
enum pcd_edge_icp pcd_edge_icp_lookup(struct pcd_node *node, const char *url, size_t len);

/* The load this node's edge carries: its client connections open now, and
 * how many its workers take at most (max_clients each). False when the
 * edge does not run. Any thread, as an RCU reader. */
bool pcd_edge_load(struct pcd_node *node, uint64_t *clients, uint64_t *max_clients);

#endif
