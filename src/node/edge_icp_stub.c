/* edge_icp_stub: a stand-in for the edge role's ICP look-up (node/edge.h)
 * until the edge exists, so that the icp role can be built and tested
 * alone. It is replaced by the edge: the integrator deletes this file (and
 * its line in node/meson.build).
 *
 * It holds nothing, so it never answers HIT: a URL the current model
 * serves (pc_url_parse accepts it: a configured provider and origin) is a
 * MISS, anything else DENIED. */
#include "node/edge.h"

#include "lib/base/err.h"
#include "lib/naming/naming.h"
#include "node/node.h"

enum pcd_edge_icp pcd_edge_icp_lookup(struct pcd_node *node, const char *url, size_t len)
{
	/* The caller is a worker, an RCU reader: the generation stays put. */
	const struct pcd_generation *gen = pcd_node_generation(node);
	pc_url parsed;
	return pc_url_parse(gen->model, url, len, &parsed) == PC_OK ? PCD_EDGE_ICP_MISS
	                                                            : PCD_EDGE_ICP_DENIED;
}
