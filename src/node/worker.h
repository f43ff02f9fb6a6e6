/* Worker threads; see worker.c. */
#ifndef PC_NODE_WORKER_H
#define PC_NODE_WORKER_H

#include "node/node.h"

int pcd_worker_init(struct pcd_node *node, struct pcd_worker *worker, unsigned index);
void pcd_worker_release(struct pcd_worker *worker);
void pcd_worker_wake(struct pcd_worker *worker);
void *pcd_worker_main(void *arg); /* pthread entry; arg is the worker */

#endif
