/* udp: the UDP roles' sockets and their request/answer loop; see udp.h. */

/* liburcu's inline fast paths (its README allows them to LGPL- and
 * GPL-compatible code; peercdn is MIT): a socket's thread goes offline
 * and online once per wake-up, and the library's calls reach their
 * thread-local state through __tls_get_addr (~45 instructions a wake-up
 * against ~8 inline). */
#define _LGPL_SOURCE
#include "node/udp.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <urcu-qsbr.h>

#include "lib/base/err.h"
#include "node/log.h"
#include "node/net.h"

/* A socket's own thread (see serve_thread). */
struct pcd_udp_thread {
	int fd;
	struct pcd_node *node;
	pcd_udp_answer_fn answer;
	void (*prepare)(void *call, struct pcd_generation *gen);
	struct pcd_udp_lane lane;
	_Atomic bool stop;
	bool started; /* pthread_create succeeded: join it */
	pthread_t id;
	struct pcd_udp_batch batch;
};

static void *serve_thread(void *arg);

/* A socket's thread blocks in recvmmsg: the socket is made blocking, and
 * has no receive timeout. A stop wakes it with shutdown(2)
 * (pcd_udp_close_all); a timeout would only add a kernel timer armed and
 * cancelled at every wake-up (schedule_timeout), and a wake-up a second
 * while idle. */
static int start_thread(struct pcd_udp_socket *sock, const struct pcd_udp_listen *how,
                        unsigned index)
{
	int flags = fcntl(sock->io.fd, F_GETFL);
	if (flags < 0 || fcntl(sock->io.fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
		return -errno;
	struct pcd_udp_thread *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->fd = sock->io.fd;
	t->node = how->room->node;
	t->answer = how->answer;
	t->prepare = how->prepare;
	t->lane = how->lanes[index];
	sock->thread = t;
	int err = pthread_create(&t->id, NULL, serve_thread, t);
	if (err != 0)
		return -err;
	t->started = true;
	char name[16];
	snprintf(name, sizeof(name), "udp-%s", how->room->role->name);
	pthread_setname_np(t->id, name);
	return 0;
}

/* One address: the UDP socket (its thread, or watched), then the TCP
 * listener if any. */
static int listen_one(struct pcd_udp_sockets *socks, const struct pcd_udp_listen *how,
                      const pc_addr *addr, uint16_t port)
{
	if (socks->n == PCD_UDP_MAX_LISTEN)
		return -ENOSPC;
	unsigned index = socks->n;
	struct pcd_udp_socket *sock = &socks->items[index];
	*sock =
	    (struct pcd_udp_socket){.io = {.fd = -1, .on_event = how->on_event}, .ctx = how->ctx};
	int err;
	if (how->answer != NULL) {
		sock->io.fd = pcd_net_bind(SOCK_DGRAM, addr, port);
		if (sock->io.fd < 0)
			return sock->io.fd;
		socks->n++;
		/* An answering socket (DNS, CDSR) ignores ICMP path-MTU claims
		 * (net.h); a kernel without the option keeps its default. */
		(void)pcd_net_omit_pmtu(sock->io.fd, addr->family);
		err = start_thread(sock, how, index);
	} else {
		err = pcd_worker_listen(how->worker, &sock->io, SOCK_DGRAM, addr, port);
		socks->n += err == 0;
	}
	if (err != 0)
		return err;
	return how->tcp != NULL ? pcd_conn_listen(how->tcp, addr, port) : 0;
}

int pcd_udp_listen_all(struct pcd_udp_sockets *socks, const struct pcd_udp_listen *how,
                       const pc_addr *addrs, unsigned n, uint16_t port)
{
	const char *role = how->room->role->name;
	char listening[32] = "listening", bind_failed[32] = "bind-failed", role_kv[40] = "";
	if (how->tcp != NULL) {
		snprintf(listening, sizeof(listening), "%s-listening", role);
		snprintf(bind_failed, sizeof(bind_failed), "%s-bind-failed", role);
	} else {
		snprintf(role_kv, sizeof(role_kv), "role=%s ", role);
	}
	for (unsigned i = 0; i < n; i++) {
		char where[80];
		pcd_net_format(&addrs[i], port, where, sizeof(where));
		int err = listen_one(socks, how, &addrs[i], port);
		if (err != 0) {
			pcd_log(PCD_LOG_ERROR, bind_failed, "%slisten=%s error=\"%s\"", role_kv,
			        where, strerror(-err));
			return err;
		}
		if (how->worker->index == 0)
			pcd_log(PCD_LOG_INFO, listening, "%slisten=%s transports=%s", role_kv,
			        where, how->tcp != NULL ? "udp,tcp" : "udp");
	}
	return 0;
}

void pcd_udp_close_all(struct pcd_udp_sockets *socks)
{
	/* Every thread is told first, so they wind down together. A UDP
	 * socket's shutdown answers ENOTCONN but still marks it shut for
	 * reading and wakes its receivers (inet_shutdown), whose recvmmsg
	 * then returns. */
	for (unsigned i = 0; i < socks->n; i++) {
		struct pcd_udp_thread *t = socks->items[i].thread;
		if (t != NULL && t->started) {
			atomic_store(&t->stop, true);
			shutdown(t->fd, SHUT_RDWR);
		}
	}
	for (unsigned i = 0; i < socks->n; i++) {
		struct pcd_udp_thread *t = socks->items[i].thread;
		if (t != NULL && t->started)
			pthread_join(t->id, NULL);
		free(t);
		socks->items[i].thread = NULL;
		close(socks->items[i].io.fd);
	}
	socks->n = 0;
}

/* recvmmsg(2) and sendmmsg(2) through syscall(2): glibc's wrappers are
 * cancellation points, which switch asynchronous cancellation on and off
 * around every call (about 70 instructions per wake-up for the two); no
 * thread of the daemon is ever cancelled. Same arguments, same -1/errno. */
static int recv_batch(int fd, struct mmsghdr *msgs, unsigned n, int flags)
{
	return (int)syscall(SYS_recvmmsg, fd, msgs, n, flags, NULL);
}

static int send_batch(int fd, struct mmsghdr *msgs, unsigned n)
{
	return (int)syscall(SYS_sendmmsg, fd, msgs, n, MSG_DONTWAIT);
}

/* The headers are set up once. The kernel then changes only msg_namelen,
 * msg_flags and msg_len of the receive headers, and answer_batch resets
 * msg_namelen for the entries it filled; of a send header it sets only the
 * address and the answer's length. */
static void batch_init(struct pcd_udp_batch *b)
{
	for (int i = 0; i < PCD_UDP_BATCH; i++) {
		b->in_iov[i] = (struct iovec){b->in[i], PCD_UDP_MAX};
		b->in_msgs[i].msg_hdr = (struct msghdr){
		    .msg_name = &b->from[i],
		    .msg_namelen = sizeof(b->from[i]),
		    .msg_iov = &b->in_iov[i],
		    .msg_iovlen = 1,
		};
		b->out_iov[i] = (struct iovec){b->out[i], 0};
		b->out_msgs[i].msg_hdr =
		    (struct msghdr){.msg_iov = &b->out_iov[i], .msg_iovlen = 1};
	}
}

/* Answers the n datagrams received into b and sends the answers. Inline:
 * a call with eight arguments and its saved registers cost ~25
 * instructions a wake-up. */
static inline __attribute__((always_inline)) void answer_batch(int fd, struct pcd_udp_batch *b,
                                                               int n, struct pcd_generation *gen,
                                                               pcd_udp_answer_fn answer, void *ctx,
                                                               _Atomic uint64_t *received,
                                                               _Atomic uint64_t *oversize)
{
	uint64_t now_ms = pcd_now_ms();
	int n_out = 0;
	for (int i = 0; i < n; i++) {
		/* The receive header is made ready for the next batch here,
		 * not in a loop of its own: the answer's header has the
		 * address length. */
		socklen_t namelen = b->in_msgs[i].msg_hdr.msg_namelen;
		b->in_msgs[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
		PCD_BUMP(*received);
		if (b->in_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			PCD_BUMP(*oversize);
			continue;
		}
		pc_addr source;
		pcd_addr_from_sockaddr(&b->from[i], &source, NULL);
		size_t len = answer(ctx, gen, b->in[i], b->in_msgs[i].msg_len, &source, now_ms,
		                    b->out[n_out], PCD_UDP_MAX);
		if (len == 0)
			continue;
		b->out_iov[n_out].iov_len = len;
		b->out_msgs[n_out].msg_hdr.msg_name = &b->from[i];
		b->out_msgs[n_out].msg_hdr.msg_namelen = namelen;
		n_out++;
	}
	for (int sent = 0; sent < n_out;) {
		int k = send_batch(fd, b->out_msgs + sent, (unsigned)(n_out - sent));
		if (k <= 0)
			break; /* a full socket buffer drops answers, as the kernel would */
		sent += k;
	}
}

void pcd_udp_serve(int fd, struct pcd_udp_batch *b, struct pcd_generation *gen,
                   pcd_udp_answer_fn answer, void *ctx, _Atomic uint64_t *received,
                   _Atomic uint64_t *oversize)
{
	if (b->in_iov[0].iov_base == NULL) /* the state is zeroed at first */
		batch_init(b);
	for (int round = 0; round < 8; round++) {
		int n = recv_batch(fd, b->in_msgs, PCD_UDP_BATCH, MSG_DONTWAIT);
		if (n <= 0)
			return;
		answer_batch(fd, b, n, gen, answer, ctx, received, oversize);
		if (n < PCD_UDP_BATCH)
			return;
	}
}

/* A socket's thread: one blocking recvmmsg per wake-up (MSG_WAITFORONE:
 * it waits for the first datagram only, then takes what else is queued),
 * the answers, one sendmmsg. An RCU QSBR reader as the workers are
 * (node.h): offline while it waits, so a reload's grace period never waits
 * for it; online from the datagrams to the answers, reading the
 * generation once per batch. */
static void *serve_thread(void *arg)
{
	struct pcd_udp_thread *t = arg;
	struct pcd_udp_batch *b = &t->batch;
	bool told = false;
	batch_init(b);
	rcu_register_thread();
	for (;;) {
		rcu_thread_offline();
		int n = recv_batch(t->fd, b->in_msgs, PCD_UDP_BATCH, MSG_WAITFORONE);
		int err = n < 0 ? errno : 0;
		rcu_thread_online();
		if (atomic_load_explicit(&t->stop, memory_order_relaxed))
			break;
		if (n <= 0) {
			/* An error that is not passing is said once, and paced
			 * so that one that persists cannot spin a core. (No
			 * EAGAIN: the socket blocks, with no receive timeout.) */
			if (n < 0 && err != EINTR) {
				if (!told)
					pcd_log(PCD_LOG_ERROR, "udp-receive-failed", "error=\"%s\"",
					        strerror(err));
				told = true;
				nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
			}
			continue;
		}
		struct pcd_generation *gen = rcu_dereference(t->node->generation);
		if (t->prepare != NULL)
			t->prepare(t->lane.call, gen);
		answer_batch(t->fd, b, n, gen, t->answer, t->lane.call, t->lane.received,
		             t->lane.oversize);
	}
	rcu_unregister_thread();
	return NULL;
}

int pcd_udp_rrl_new(struct pc_rrl_params params, void **state)
{
	randombytes_buf(params.hash_key, sizeof(params.hash_key));
	return pc_rrl_new(&params, (pc_rrl **)state) == PC_OK ? 0 : -ENOMEM;
}

void pcd_udp_rrl_free(void *state)
{
	pc_rrl_free(state);
}
