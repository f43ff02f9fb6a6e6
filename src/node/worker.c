/* Worker threads: one per core, each with its own epoll set and its own
 * SO_REUSEPORT sockets for every role, so no two threads share a socket or
 * a lock on the answer path. Each is an RCU QSBR reader: online while it
 * handles events, offline while it sleeps in epoll_wait. */
#include "node/worker.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "lib/policy/policy.h"
#include "node/log.h"

uint64_t pcd_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t pcd_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int pcd_worker_watch(struct pcd_worker *worker, struct pcd_io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};
	return epoll_ctl(worker->epoll_fd, EPOLL_CTL_ADD, io->fd, &ev);
}

int pcd_worker_modify(struct pcd_worker *worker, struct pcd_io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};
	return epoll_ctl(worker->epoll_fd, EPOLL_CTL_MOD, io->fd, &ev);
}

uint64_t pcd_role_counter_sum(struct pcd_node *node, size_t slot, size_t offset)
{
	uint64_t total = 0;
	for (unsigned w = 0; w < node->n_workers; w++) {
		const char *state = node->workers[w].role_state[slot];
		if (state != NULL)
			total += atomic_load_explicit((const _Atomic uint64_t *)(state + offset),
			                              memory_order_relaxed);
	}
	return total;
}

void pcd_role_metrics_common(FILE *out, struct pcd_node *node, size_t slot, const char *role,
                             const char *what, size_t branches_offset, const char *const names[],
                             int n, size_t misc_offset)
{
	fprintf(out,
	        "# HELP peercdn_%s_decisions_total Policy decisions made for %s.\n"
	        "# TYPE peercdn_%s_decisions_total counter\n",
	        role, what, role);
	for (int b = PC_BRANCH_PRIMARY; b <= PC_BRANCH_OUTSIDE; b++)
		fprintf(out, "peercdn_%s_decisions_total{branch=\"%s\"} %llu\n", role,
		        pc_branch_name((enum pc_branch)b),
		        (unsigned long long)pcd_role_counter_sum(
		            node, slot, branches_offset + (size_t)b * sizeof(_Atomic uint64_t)));
	for (int c = 0; c < n; c++)
		fprintf(out, "# TYPE peercdn_%s_%s_total counter\npeercdn_%s_%s_total %llu\n", role,
		        names[c], role, names[c],
		        (unsigned long long)pcd_role_counter_sum(
		            node, slot, misc_offset + (size_t)c * sizeof(_Atomic uint64_t)));
}

struct pcd_generation *pcd_node_generation(struct pcd_node *node)
{
	return rcu_dereference(node->generation);
}

int pcd_worker_init(struct pcd_node *node, struct pcd_worker *worker, unsigned index)
{
	memset(worker, 0, sizeof(*worker));
	worker->node = node;
	worker->index = index;
	worker->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	worker->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (worker->epoll_fd < 0 || worker->wake_fd < 0)
		return -errno;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(worker->epoll_fd, EPOLL_CTL_ADD, worker->wake_fd, &ev) != 0)
		return -errno;
	return 0;
}

void pcd_worker_release(struct pcd_worker *worker)
{
	if (worker->epoll_fd > 0)
		close(worker->epoll_fd);
	if (worker->wake_fd > 0)
		close(worker->wake_fd);
	worker->epoll_fd = worker->wake_fd = -1;
}

void pcd_worker_wake(struct pcd_worker *worker)
{
	uint64_t one = 1;
	ssize_t n = write(worker->wake_fd, &one, sizeof(one));
	(void)n; /* a full counter still wakes the worker */
}

void *pcd_worker_main(void *arg)
{
	struct pcd_worker *worker = arg;
	struct pcd_node *node = worker->node;
	enum { MAX_EVENTS = 64 };
	struct epoll_event events[MAX_EVENTS];
	uint64_t next_tick = pcd_mono_ms() + 1000;

	rcu_register_thread();
	while (!atomic_load(&node->stopping)) {
		rcu_thread_offline();
		int n = epoll_wait(worker->epoll_fd, events, MAX_EVENTS, 1000);
		rcu_thread_online();
		if (n < 0 && errno != EINTR) {
			pcd_log(PCD_LOG_ERROR, "epoll-failed", "worker=%u error=\"%s\"",
			        worker->index, strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct pcd_io *io = events[i].data.ptr;
			if (io == NULL)
				continue; /* the wake eventfd: the loop condition decides */
			io->on_event(io, worker, events[i].events);
		}
		uint64_t now = pcd_mono_ms();
		if (now >= next_tick) {
			for (unsigned r = 0; pcd_roles[r] != NULL; r++)
				if (worker->role_state[r] != NULL && pcd_roles[r]->tick != NULL)
					pcd_roles[r]->tick(worker, now);
			next_tick = now + 1000;
		}
		rcu_quiescent_state();
	}
	rcu_unregister_thread();
	return NULL;
}
