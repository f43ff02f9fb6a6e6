/* Worker threads: one per core, each with its own epoll set and its own
 * SO_REUSEPORT sockets for every role, so no two threads share a socket or
 * a lock on the answer path. Each is an RCU QSBR reader: online while it
 * handles events, offline while it sleeps in epoll_wait. */
#include "node/worker.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "node/log.h"
#include "node/net.h"

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

/* When the roles' 1 s tick is due, read after every batch of events: the
 * coarse monotonic clock (a few ms of resolution, never ahead of
 * CLOCK_MONOTONIC) is a plain read of the kernel's last tick, cheaper than
 * CLOCK_MONOTONIC's counter read. */
static uint64_t tick_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* epoll_wait(2) without glibc's cancellation-point wrapper (see
 * node/udp.c): epoll_pwait with no signal mask is the same call, and the
 * one every architecture has. */
static int wait_events(int epoll_fd, struct epoll_event *events, int max, int timeout_ms)
{
	return (int)syscall(SYS_epoll_pwait, epoll_fd, events, max, timeout_ms, NULL, 8);
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

int pcd_worker_listen(struct pcd_worker *worker, struct pcd_io *io, int type, const pc_addr *addr,
                      uint16_t port)
{
	io->fd = pcd_net_bind(type, addr, port);
	if (io->fd < 0)
		return io->fd;
	if (pcd_worker_watch(worker, io, EPOLLIN) != 0) {
		int err = -errno;
		close(io->fd);
		io->fd = -1;
		return err;
	}
	return 0;
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
	free(worker->deferred);
	worker->deferred = NULL;
	worker->deferred_cap = worker->n_deferred = 0;
}

void pcd_worker_wake(struct pcd_worker *worker)
{
	uint64_t one = 1;
	ssize_t n = write(worker->wake_fd, &one, sizeof(one));
	(void)n; /* a full counter still wakes the worker */
}

void pcd_worker_defer_free(struct pcd_worker *worker, void *ptr)
{
	if (!worker->in_batch) {
		free(ptr);
		return;
	}
	if (worker->n_deferred == worker->deferred_cap) {
		unsigned cap = worker->deferred_cap ? worker->deferred_cap * 2 : 64;
		void **grown = realloc(worker->deferred, cap * sizeof(*grown));
		if (grown == NULL)
			return; /* leaked: see node.h */
		worker->deferred = grown;
		worker->deferred_cap = cap;
	}
	worker->deferred[worker->n_deferred++] = ptr;
}

void pcd_worker_batch_begin(struct pcd_worker *worker)
{
	worker->in_batch = true;
}

void pcd_worker_batch_end(struct pcd_worker *worker)
{
	worker->in_batch = false;
	for (unsigned i = 0; i < worker->n_deferred; i++)
		free(worker->deferred[i]);
	worker->n_deferred = 0;
}

void *pcd_worker_main(void *arg)
{
	struct pcd_worker *worker = arg;
	struct pcd_node *node = worker->node;
	enum { MAX_EVENTS = 64 };
	struct epoll_event events[MAX_EVENTS];
	uint64_t next_tick = tick_clock_ms() + 1000;

	rcu_register_thread();
	while (!atomic_load(&node->stopping)) {
		rcu_thread_offline();
		int n = wait_events(worker->epoll_fd, events, MAX_EVENTS, 1000);
		rcu_thread_online();
		if (n < 0 && errno != EINTR) {
			pcd_log(PCD_LOG_ERROR, "epoll-failed", "worker=%u error=\"%s\"",
			        worker->index, strerror(errno));
			break;
		}
		pcd_worker_batch_begin(worker);
		for (int i = 0; i < n; i++) {
			struct pcd_io *io = events[i].data.ptr;
			if (io == NULL)
				continue; /* the wake eventfd: the loop condition decides */
			if (!io->closed)  /* ended by an earlier event of this batch */
				io->on_event(io, worker, events[i].events);
		}
		pcd_worker_batch_end(worker);
		uint64_t now = tick_clock_ms();
		if (now >= next_tick) {
			/* The roles get the fine clock, which their own times
			 * come from (the coarse one may be behind it). */
			uint64_t mono = pcd_mono_ms();
			for (unsigned r = 0; pcd_roles[r] != NULL; r++)
				if (worker->role_state[r] != NULL && pcd_roles[r]->tick != NULL)
					pcd_roles[r]->tick(&node->rooms[r], worker->role_state[r],
					                   mono);
			next_tick = now + 1000;
		}
		/* No rcu_quiescent_state() here: the loop goes offline next,
		 * which is one (and costs a barrier less per wake-up). */
	}
	rcu_unregister_thread();
	return NULL;
}
