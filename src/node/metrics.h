/* Prometheus /metrics endpoint; see metrics.c. */
#ifndef PC_NODE_METRICS_H
#define PC_NODE_METRICS_H

#include <pthread.h>

#include "node/node.h"

struct metrics_server;

/* Starts the endpoint when the config enables it (*out stays NULL if not).
 * Stops by itself once node->stopping is set; then call pcd_metrics_stop. */
int pcd_metrics_start(struct pcd_node *node, struct metrics_server **out);
void pcd_metrics_stop(struct metrics_server *server); /* NULL is fine */

/* Whether the endpoint's socket differs between two generations' control
 * settings: a reload does not move it (the address, as before, is not
 * compared). */
bool pcd_metrics_needs_restart(const struct pc_control_params *old,
                               const struct pc_control_params *fresh);

#endif
