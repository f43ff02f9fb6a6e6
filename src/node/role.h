/* role: what a peercdnd role is. A role is a room, as a BIRD protocol is:
 * its own file (dns.c, cdsr.c, stream.c) with a const struct pcd_role of
 * hooks, plus one line in the list of lib/proto/roles.h (made into the
 * table of roles.c), which gives it its slot.
 * No role knows its slot: every hook gets its room (the role, its slot, the
 * node and the role's node-wide state) and its own state.
 *
 * Lifetimes, all driven by main.c through the functions below:
 *   start(room)                    once, before any worker opens;
 *   open(room, worker, state)      per worker, on the main thread;
 *   tick(room, state, now)         on the worker's thread, about once a second;
 *   leave(room), left(room)        on a clean stop (SIGTERM), before the
 *                                  workers stop: say goodbye, and be done;
 *   close(room, state)             per worker, after the workers stopped;
 *   stop(room)                     once, after every close;
 *   generation_new/free            per config generation: at start and with
 *                                  every reload; freed with the generation
 *                                  after the RCU grace period;
 *   needs_restart(old, new)        on a reload: what a reload cannot change;
 *   check_host(settings)           peercdnd -t only, enabled or not.
 * Only enabled roles start, open, tick and close; every role builds its
 * generation state (a reload may turn a running role's enabled off). */
#ifndef PC_NODE_ROLE_H
#define PC_NODE_ROLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/model/config.h"
#include "lib/model/model.h"
#include "lib/model/schema.h"

struct pcd_node;
struct pcd_worker;
struct pcd_generation;
struct pcd_role;

/* A role where it runs. Set up by pcd_rooms_init, one per slot; the node
 * owns it. */
struct pcd_room {
	const struct pcd_role *role;
	size_t slot; /* its index in pcd_roles: gen->settings[slot], role_state[slot] */
	struct pcd_node *node;
	void *shared; /* node-wide state made by start and freed by stop (threads: the role's) */
	bool started; /* start ran: stop runs */
};

/* Where a role listens, read from its settings: whether it runs at all,
 * and the sockets a reload cannot move. */
struct pcd_listen {
	bool enabled;
	uint16_t port;
	const struct pc_addr_list *addrs; /* configured; empty: the role's anycast addresses */
};

struct pcd_role {
	const char *name;
	/* Its config section (lib/proto/<role>_settings.h): the loader fills a
	 * struct of it into every generation, gen->settings[slot]. */
	const struct pc_section *settings;
	/* A constant of the role's implementation when one file serves
	 * several roles (HTTP and RTSP: the session ops); else NULL. */
	const void *proto;

	/* Its enabled, port and listen keys, from its settings. A reload that
	 * changes them warns: they change on restart only. */
	struct pcd_listen (*listen)(const void *settings);
	/* What else a reload cannot change (DNS: workers). NULL: nothing. */
	bool (*needs_restart)(const void *old_settings, const void *new_settings);
	/* For peercdnd -t: what the loader cannot judge, against this machine
	 * (interfaces), without privileges: prints each problem to out
	 * prefixed with source, returns how many. NULL: nothing. */
	unsigned (*check_host)(const void *settings, const char *source, FILE *out);

	/* Per-generation state (a rate-limit table of the settings): *state is
	 * stored in gen->role_state[slot] and given to generation_free once no
	 * worker can see the generation. Returns 0 or -errno. NULL: none. */
	int (*generation_new)(const struct pcd_room *room, const struct pcd_generation *gen,
	                      void **state);
	void (*generation_free)(void *state);

	/* Node-wide state shared by the role's workers, in room->shared.
	 * Returns 0 or -errno. Either may be NULL. */
	int (*start)(struct pcd_room *room);
	void (*stop)(struct pcd_room *room);

	/* The per-worker state: state_size bytes, zeroed, in
	 * worker->role_state[slot] from before open until after close (role.c
	 * allocates and frees it; the metrics read counters in it). */
	size_t state_size;
	/* Counters written by more than one thread of a worker (the threads
	 * of its UDP sockets, node/udp.h, besides the worker) are kept in
	 * copies, one per writer, counter_stride bytes apart from the offset
	 * the metrics name: the sums read them all. 0: one copy. */
	unsigned counter_copies;
	size_t counter_stride;
	/* Opens the role's sockets for one worker and registers them. Returns
	 * 0 or -errno; close runs even when open failed halfway. */
	int (*open)(const struct pcd_room *room, struct pcd_worker *worker, void *state);
	/* Periodic work on the worker's thread (timeouts); now_ms monotonic.
	 * NULL: none. */
	void (*tick)(const struct pcd_room *room, void *state, uint64_t now_ms);
	/* Closes what open opened and frees what it allocated. */
	void (*close)(const struct pcd_room *room, void *state);
	/* A clean stop (SIGTERM, SIGINT), while the workers still run: leave
	 * starts the role's goodbye (on the main thread: its workers take it
	 * up), and main.c polls left until it says the role may stop. Each
	 * role bounds its own goodbye (the overlay: GOODBYE to its neighbours,
	 * then at most overlay.stop_grace_ms). NULL: nothing to say. */
	void (*leave)(const struct pcd_room *room);
	bool (*left)(const struct pcd_room *room);
	/* Writes the role's Prometheus metrics, summed over workers (on the
	 * metrics thread, as an RCU reader). NULL: none. */
	void (*metrics)(const struct pcd_room *room, FILE *out);
};

/* The table (roles.c): NULL-terminated; a role's slot is its index. */
extern const struct pcd_role *const pcd_roles[];

/* ---- walking the table (role.c), for main.c ---- */

void pcd_rooms_init(struct pcd_node *node);
/* Whether the role of slot runs with gen's settings. */
bool pcd_role_enabled(size_t slot, const struct pcd_generation *gen);
bool pcd_rooms_any_enabled(const struct pcd_generation *gen);
/* check_host of every role whose settings config has; the problems found. */
unsigned pcd_roles_check_host(const pc_config *config, const char *source, FILE *out);
/* start of every enabled role; 0 or the first failure. */
int pcd_rooms_start(struct pcd_node *node);
/* open of every enabled role on worker; 0 or the first failure. */
int pcd_rooms_open(struct pcd_node *node, struct pcd_worker *worker);
/* leave of every started role; then whether every one has left. */
void pcd_rooms_leave(struct pcd_node *node);
bool pcd_rooms_left(struct pcd_node *node);
/* close of every role that has state on worker. */
void pcd_rooms_close(struct pcd_node *node, struct pcd_worker *worker);
/* stop of every started role. */
void pcd_rooms_stop(struct pcd_node *node);
/* generation_new of every role into gen (settings already set). 0 or the
 * first failure; pcd_rooms_generation_free undoes a partial one. */
int pcd_rooms_generation_new(struct pcd_node *node, struct pcd_generation *gen);
void pcd_rooms_generation_free(struct pcd_generation *gen);
/* Whether old and fresh differ, for any role, in what only a restart
 * applies: its listen keys, or what its needs_restart says. */
bool pcd_rooms_need_restart(const struct pcd_generation *old, const struct pcd_generation *fresh);

/* ---- for roles ---- */

/* The role's listen addresses in gen: configured, else its anycast
 * addresses (the key is the role's name) of every CDN the node serves.
 * When there are none, logs "no-listen" with a hint at the setting.
 * Returns how many were written (at most max); *port is the role's. */
unsigned pcd_room_listen_addresses(const struct pcd_room *room, const struct pcd_generation *gen,
                                   pc_addr *out, unsigned max, uint16_t *port);

/* The sum over workers of the _Atomic uint64_t counter at byte offset in
 * the room's per-worker state (workers without that state count 0). */
uint64_t pcd_role_counter_sum(const struct pcd_room *room, size_t offset);

/* The names of a label's values: value i into buf (size bytes) or a
 * constant. */
typedef const char *(*pcd_label_fn)(unsigned i, char *buf, size_t size);

/* peercdn_<role>_responses_total{<label>="<value i>"} for the n counters at
 * offset (summed as above), after its HELP line. */
void pcd_role_metrics_responses(FILE *out, const struct pcd_room *room, const char *help,
                                const char *label, pcd_label_fn value, unsigned n, size_t offset);

/* peercdn_<role>_<names[i]>_total for the n counters at offset, summed as
 * above. */
void pcd_role_metrics_counters(FILE *out, const struct pcd_room *room, const char *const names[],
                               int n, size_t offset);

/* The Prometheus lines every answering role has: peercdn_<role>_decisions_total
 * by branch (4 counters at branches_offset, indexed by enum pc_branch; HELP
 * says "Policy decisions made for <what>."), then the n counters at
 * misc_offset as pcd_role_metrics_counters. */
void pcd_role_metrics_common(FILE *out, const struct pcd_room *room, const char *what,
                             size_t branches_offset, const char *const names[], int n,
                             size_t misc_offset);

#endif
