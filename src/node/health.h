/* health: what the health role (health.c) tells other roles: its own
 * verdicts, first-hand, which the overlay publishes as LOAD records
 * (docs/overlay.md, "The role"). */
#ifndef PC_NODE_HEALTH_H
#define PC_NODE_HEALTH_H

#include <stdbool.h>

#include "node/node.h"

struct pcd_health_verdict {
	char name[128]; /* the server's */
	bool up;
};

/* Copies up to max of the health role's verdicts into out and returns how
 * many it holds (0 when the role does not run). Any thread. */
unsigned pcd_health_verdicts(struct pcd_node *node, struct pcd_health_verdict *out, unsigned max);

#endif
