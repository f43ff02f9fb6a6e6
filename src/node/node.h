/* node: the running daemon — its config generation (what a reload
 * replaces), its worker threads and the rooms its roles run in. A role
 * (DNS, CDSR, the HTTP and RTSP redirectors; edge and overlay later) is a
 * room: its own file with a const struct pcd_role (node/role.h) and one
 * line in the list of roles (lib/proto/roles.h), which gives it its slot:
 * the index of its settings and state here. */
#ifndef PC_NODE_NODE_H
#define PC_NODE_NODE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/model/config.h"
#include "lib/model/live.h"
#include "lib/model/model.h"
#include "lib/naming/hosts.h"
#include "lib/policy/answer.h"
#include "lib/proto/control_settings.h"
#include "node/role.h"

struct pcd_reports; /* node/reports.h */

enum { PC_MAX_ROLES = 16, PC_MAX_WORKERS = 64 };

/* One config generation: everything a reload replaces at once. Readers
 * (workers) reach it through pcd_node.generation under RCU (liburcu QSBR):
 * they never lock, and a generation is freed only after every worker has
 * passed a quiescent state. */
struct pcd_generation {
	pc_config *config;     /* owns the model and every role's settings */
	const pc_model *model; /* pc_config_model(config) */
	/* By slot: the role's settings in config (its section's struct, see
	 * pcd_room_settings) and what its generation_new made. */
	const void *settings[PC_MAX_ROLES];
	void *role_state[PC_MAX_ROLES];
	const struct pc_control_params *control; /* the node's, not a role's */
	/* Shared by every role's answers. */
	pc_live *live;
	struct pc_affinity *affinity; /* server indexes: one table per model */
	pc_hosts *hosts;              /* the model's names: DNS and URL hosts alike */
	uint64_t loaded_at_ms;
	uint64_t number; /* 1 for the first load, +1 per reload */
};

/* Something registered in a worker's epoll set. */
struct pcd_io {
	int fd;
	void (*on_event)(struct pcd_io *io, struct pcd_worker *worker, uint32_t events);
	/* Set when the thing it belongs to is gone but its memory lives on
	 * until the end of the worker's batch of events (pcd_worker_defer_free):
	 * an event for it later in the same batch is skipped. */
	bool closed;
};

struct pcd_worker {
	struct pcd_node *node;
	unsigned index;
	int epoll_fd;
	int wake_fd;                    /* eventfd: stop */
	void *role_state[PC_MAX_ROLES]; /* by slot: what the role's open made */
	/* Memory freed after the current batch of events: one event may end
	 * what another event of the same batch points at. */
	void **deferred;
	unsigned n_deferred, deferred_cap;
	bool in_batch; /* handling events: frees are deferred */
};

struct pcd_node {
	const char *config_path;           /* NULL: the embedded default */
	const char *self_name;             /* -n; NULL: the config's self */
	struct pcd_generation *generation; /* RCU-protected */
	/* Held by whoever replaces generation (SIGHUP on the main thread, the
	 * control socket's push and reload) and by live-state commands that
	 * must not slip between a reload's carry and its swap. */
	pthread_mutex_t reload_lock;
	char *pushed_text; /* the last push when there is no config_path */
	size_t pushed_len;
	unsigned n_workers;
	struct pcd_worker workers[PC_MAX_WORKERS];
	_Atomic bool stopping;
	struct pcd_room rooms[PC_MAX_ROLES]; /* by slot */
	_Atomic uint64_t reloads, reload_failures;
	uint64_t started_at_ms;
	/* While the reports role runs (node/reports.c), its store and the hook
	 * every answer calls for a PEER or OUTSIDE decision; else NULL. Set
	 * before the workers open, cleared after they close, so a worker reads
	 * them without a barrier. */
	struct pcd_reports *reports;
	pc_answer_report_fn *report;
};

uint64_t pcd_now_ms(void);  /* CLOCK_REALTIME in ms */
uint64_t pcd_mono_ms(void); /* CLOCK_MONOTONIC in ms */

/* Counters are each written by one worker only and read by the metrics
 * thread: relaxed loads and stores, no locked instruction per answer. */
#define PCD_BUMP(counter)                                                                          \
	atomic_store_explicit(&(counter),                                                          \
	                      atomic_load_explicit(&(counter), memory_order_relaxed) + 1,          \
	                      memory_order_relaxed)

/* Frees ptr once the worker has handled every event of its current batch
 * (the caller first marks ptr's pcd_io closed, so a later event of the
 * batch reads only that flag); at once outside a batch (a role's close on
 * the main thread). Out of memory, ptr is leaked rather than freed under
 * a pending event. */
void pcd_worker_defer_free(struct pcd_worker *worker, void *ptr);

/* For loops that drive a worker's ios themselves (unit tests): a batch
 * begins; pcd_worker_batch_end frees what was deferred during it. */
void pcd_worker_batch_begin(struct pcd_worker *worker);
void pcd_worker_batch_end(struct pcd_worker *worker);

/* Registers io in the worker's epoll set for events. */
int pcd_worker_watch(struct pcd_worker *worker, struct pcd_io *io, uint32_t events);
int pcd_worker_modify(struct pcd_worker *worker, struct pcd_io *io, uint32_t events);
/* A listening socket of a role: type (SOCK_DGRAM, SOCK_STREAM) bound to
 * addr:port (pcd_net_bind) and watched for EPOLLIN as io, whose on_event
 * the caller set; io->fd is set. Returns 0 or -errno, leaving nothing
 * open. */
int pcd_worker_listen(struct pcd_worker *worker, struct pcd_io *io, int type, const pc_addr *addr,
                      uint16_t port);

/* The generation a worker thread may use until its next quiescent state. */
struct pcd_generation *pcd_node_generation(struct pcd_node *node);

/* A role's settings and generation state in gen: one array load each. */
static inline const void *pcd_room_settings(const struct pcd_room *room,
                                            const struct pcd_generation *gen)
{
	return gen->settings[room->slot];
}
static inline void *pcd_room_generation_state(const struct pcd_room *room,
                                              const struct pcd_generation *gen)
{
	return gen->role_state[room->slot];
}

/* The answer context every role passes to the library for one request
 * from source at now_ms (wall clock): the generation's state, this node,
 * its report store. Inline: it is built per answer. */
static inline struct pc_answer_ctx pcd_answer_ctx(const struct pcd_node *node,
                                                  const struct pcd_generation *gen,
                                                  const pc_addr *source, uint64_t now_ms)
{
	return (struct pc_answer_ctx){
	    .report = node->report,
	    .report_arg = node->reports,
	    .model = gen->model,
	    .live = gen->live,
	    .affinity = gen->affinity,
	    .hosts = gen->hosts,
	    .node = gen->model->self_node,
	    .source = *source,
	    .now_ms = now_ms,
	};
}

#endif
