/* node: the running daemon — its config generation, worker threads and
 * roles. A role (DNS now; CDSR, HTTP and RTSP redirectors, edge and overlay
 * later) is a const struct of callbacks registered in one table (roles.c),
 * the way Knot registers query modules and BIRD protocols. */
#ifndef PC_NODE_NODE_H
#define PC_NODE_NODE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/model/config.h"
#include "lib/model/live.h"
#include "lib/model/model.h"
#include "lib/policy/answer.h"
#include "lib/proto/cdsr_settings.h"
#include "lib/proto/control_settings.h"
#include "lib/proto/dns_settings.h"
#include "lib/proto/stream_settings.h"

struct pcd_node;
struct pcd_worker;

/* One config generation: everything a reload replaces at once. Readers
 * (workers) reach it through pcd_node.generation under RCU (liburcu QSBR):
 * they never lock, and a generation is freed only after every worker has
 * passed a quiescent state. */
struct pcd_generation {
	pc_config *config;     /* owns the model and every role's settings */
	const pc_model *model; /* pc_config_model(config) */
	/* The role settings of config (lib/proto/<role>_settings.h). */
	const struct pc_dns_params *dns;
	const struct pc_stream_params *http, *rtsp;
	const struct pc_cdsr_params *cdsr;
	const struct pc_control_params *control;
	pc_live *live;
	struct pc_rrl *rrl;           /* DNS */
	struct pc_rrl *cdsr_rrl;      /* CDSR requests per client prefix */
	struct pc_affinity *affinity; /* server indexes: one table per model */
	uint64_t loaded_at_ms;
	uint64_t number; /* 1 for the first load, +1 per reload */
};

/* Something registered in a worker's epoll set. */
struct pcd_io {
	int fd;
	void (*on_event)(struct pcd_io *io, struct pcd_worker *worker, uint32_t events);
};

struct pcd_role {
	const char *name;
	bool (*enabled)(const struct pcd_generation *gen);
	/* Opens this role's sockets for one worker and registers them. */
	int (*open)(struct pcd_node *node, struct pcd_worker *worker);
	/* Periodic work on the worker's thread (idle timeouts), about once a second. */
	void (*tick)(struct pcd_worker *worker, uint64_t now_ms);
	void (*close)(struct pcd_worker *worker);
	/* Writes Prometheus metrics summed over workers. */
	void (*metrics)(struct pcd_node *node, FILE *out);
	/* Per-worker role state, allocated by the role in open. */
	size_t slot;
};

enum { PC_MAX_ROLES = 8, PC_MAX_WORKERS = 64 };

struct pcd_worker {
	struct pcd_node *node;
	unsigned index;
	int epoll_fd;
	int wake_fd; /* eventfd: stop */
	void *role_state[PC_MAX_ROLES];
};

struct pcd_node {
	const char *config_path;           /* NULL: the embedded default */
	struct pcd_generation *generation; /* RCU-protected */
	unsigned n_workers;
	struct pcd_worker workers[PC_MAX_WORKERS];
	_Atomic bool stopping;
	void *role_shared[PC_MAX_ROLES]; /* node-wide state of a role, freed by main */
	_Atomic uint64_t reloads, reload_failures;
	uint64_t started_at_ms;
};

extern const struct pcd_role *const pcd_roles[]; /* NULL-terminated; index = slot */
extern const struct pcd_role pcd_role_dns, pcd_role_cdsr, pcd_role_http, pcd_role_rtsp;

uint64_t pcd_now_ms(void);  /* CLOCK_REALTIME in ms */
uint64_t pcd_mono_ms(void); /* CLOCK_MONOTONIC in ms */

/* Counters are each written by one worker only and read by the metrics
 * thread: relaxed loads and stores, no locked instruction per answer. */
#define PCD_BUMP(counter)                                                                          \
	atomic_store_explicit(&(counter),                                                          \
	                      atomic_load_explicit(&(counter), memory_order_relaxed) + 1,          \
	                      memory_order_relaxed)

/* The sum over workers of the _Atomic uint64_t counter at byte offset in
 * the role state of slot (workers without that role count 0). */
uint64_t pcd_role_counter_sum(struct pcd_node *node, size_t slot, size_t offset);

/* The Prometheus lines every answering role has, from counters summed as
 * above: peercdn_<role>_decisions_total by branch (4 counters at
 * branches_offset, indexed by enum pc_branch; HELP says "Policy decisions
 * made for <what>."), then peercdn_<role>_<names[i]>_total for the n
 * counters at misc_offset. */
void pcd_role_metrics_common(FILE *out, struct pcd_node *node, size_t slot, const char *role,
                             const char *what, size_t branches_offset, const char *const names[],
                             int n, size_t misc_offset);

/* Registers io in the worker's epoll set for events. */
int pcd_worker_watch(struct pcd_worker *worker, struct pcd_io *io, uint32_t events);
int pcd_worker_modify(struct pcd_worker *worker, struct pcd_io *io, uint32_t events);

/* The generation a worker thread may use until its next quiescent state. */
struct pcd_generation *pcd_node_generation(struct pcd_node *node);

/* The answer context every role passes to the library for one request
 * from source at now_ms (wall clock): the generation's state, this node.
 * Inline: it is built per answer. */
static inline struct pc_answer_ctx pcd_answer_ctx(const struct pcd_generation *gen,
                                                  const pc_addr *source, uint64_t now_ms)
{
	return (struct pc_answer_ctx){
	    .model = gen->model,
	    .live = gen->live,
	    .affinity = gen->affinity,
	    .node = gen->model->self_node,
	    .source = *source,
	    .now_ms = now_ms,
	};
}

#endif
