/* generation: how the node makes, replaces and frees its config
 * generations. One path for every change of config — the first load,
 * SIGHUP, peercdnctl reload and push (and, later, a push the overlay
 * brings): load everything off to the side, then swap one pointer under
 * RCU, so a change is applied whole or not at all. */
#ifndef PC_NODE_GENERATION_H
#define PC_NODE_GENERATION_H

#include <stddef.h>
#include <stdint.h>

#include "lib/model/config.h"
#include "node/node.h"

/* The sections the loader reads: every role's, then the node's own
 * (control). Call once before any load. */
void pcd_generation_sections_init(void);

/* Loads path (NULL: the embedded default) as node self_node (NULL: the
 * config's self), loaded at now_ms. Every diagnostic goes to diag. */
pc_config *pcd_config_load(const char *path, const char *self_node, uint64_t now_ms,
                           pc_config_diag_fn diag, void *diag_ctx);

/* A generation of config (taken: freed on failure), numbered after old
 * (NULL: the first), whose live state carries old's. NULL when memory or a
 * role's generation state fails. */
struct pcd_generation *pcd_generation_new(struct pcd_node *node, pc_config *config,
                                          uint64_t loaded_at_ms, const struct pcd_generation *old);
void pcd_generation_free(struct pcd_generation *gen); /* NULL is fine */

/* Replaces the node's generation: from text (len bytes: a pushed config)
 * or, when text is NULL, from where the node's config comes from (its
 * file, the last push when it runs without one, else the embedded
 * default). A pushed text is written over the node's config file first
 * (a new file renamed over it), so a reload or restart keeps it; a push
 * that cannot be written is refused. Serialised with every other writer
 * of the node's generation (node->reload_lock); waits for an RCU grace
 * period, so the caller must not be an online RCU reader. Every
 * diagnostic goes to the log and to diag (which may be NULL).
 * Returns 0, PC_ECONFIG (the config has errors: the old generation keeps
 * serving) or another negative code; *number (may be NULL) is the number
 * of the generation serving afterwards. */
int pcd_node_replace(struct pcd_node *node, const char *text, size_t len, pc_config_diag_fn diag,
                     void *diag_ctx, uint64_t *number);

#endif
