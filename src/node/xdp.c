/* xdp: see xdp.h. Which role holds which interface is kept here, for the
 * whole process: one BPF program per interface steers one UDP port per
 * queue, so two roles (or two ports) cannot share an interface. The table
 * is written on the main thread only (open and close run there). */
#include "node/xdp.h"

#include <errno.h>
#include <stdarg.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <libknot/error.h>
#include <libknot/xdp/eth.h>
#include <libknot/xdp/xdp.h>

#include "node/log.h"
#include "node/net.h"

enum { BATCH = 32, MAX_ROUNDS = 8, MAX_IFACES = 16 };

/* An interface a role asked for. */
struct claim {
	char iface[PC_XDP_IFNAMSIZ];
	const char *role; /* the holder; NULL: a free slot */
	uint16_t port;
	bool failed;     /* worker 0 could not open it: the others do not try */
	unsigned queues; /* of the interface */
	unsigned open;   /* sockets open on it */
};
static struct claim claims[MAX_IFACES];

static struct claim *claim_find(const char *iface)
{
	for (unsigned i = 0; i < MAX_IFACES; i++)
		if (claims[i].role != NULL && strcmp(claims[i].iface, iface) == 0)
			return &claims[i];
	return NULL;
}

/* libbpf's own messages, as debug log lines. */
static int bpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	char text[256], quoted[300];
	vsnprintf(text, sizeof(text), fmt, args);
	text[strcspn(text, "\n")] = '\0';
	pcd_log(PCD_LOG_DEBUG, "libbpf", "text=%s", pcd_log_quote(text, quoted, sizeof(quoted)));
	return 0;
}

static const char *const privilege_hint =
    "AF_XDP needs CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN, CAP_IPC_LOCK and a memlock limit "
    "(docs/xdp.md); the role's sockets serve meanwhile";

/* The first worker's look at an interface: whether it exists, whether
 * another role holds it, how many queues it has. NULL: no XDP on it (logged). */
static struct claim *claim_take(const char *role, const struct pc_xdp_listen *where,
                                unsigned n_workers)
{
	struct claim *held = claim_find(where->iface);
	if (held != NULL) {
		pcd_log(
		    PCD_LOG_WARNING, "xdp-unavailable",
		    "role=%s iface=%s port=%u error=\"the interface is %s's (port %u) for XDP\" "
		    "hint=\"one role and one port per interface; the role's sockets serve it\"",
		    role, where->iface, where->port, held->role, held->port);
		return NULL;
	}
	struct claim *slot = NULL;
	for (unsigned i = 0; i < MAX_IFACES && slot == NULL; i++)
		if (claims[i].role == NULL)
			slot = &claims[i];
	if (slot == NULL) {
		pcd_log(PCD_LOG_WARNING, "xdp-unavailable",
		        "role=%s iface=%s error=\"more than %d XDP interfaces\"", role,
		        where->iface, MAX_IFACES);
		return NULL;
	}
	*slot = (struct claim){.role = role, .port = where->port};
	memcpy(slot->iface, where->iface, sizeof(slot->iface));
	if (if_nametoindex(where->iface) == 0) {
		pcd_log(PCD_LOG_WARNING, "xdp-unavailable",
		        "role=%s iface=%s error=\"no such interface\" hint=\"check xdp.listen "
		        "(ip link); the role's sockets serve meanwhile\"",
		        role, where->iface);
		slot->failed = true;
		return slot;
	}
	int queues = knot_eth_queues(where->iface);
	slot->queues = queues > 0 ? (unsigned)queues : 1;
	if (slot->queues < n_workers)
		pcd_log(
		    PCD_LOG_INFO, "xdp-queues",
		    "role=%s iface=%s queues=%u workers=%u note=\"workers %u and up have no queue "
		    "of their own: they serve this interface's traffic only through the role's "
		    "sockets\"",
		    role, where->iface, slot->queues, n_workers, slot->queues);
	else if (slot->queues > n_workers)
		pcd_log(
		    PCD_LOG_WARNING, "xdp-queues",
		    "role=%s iface=%s queues=%u workers=%u note=\"queues %u and up have no "
		    "socket: the program passes their traffic to the kernel (the role's sockets)\" "
		    "hint=\"ethtool -L %s combined %u, or more dns.workers\"",
		    role, where->iface, slot->queues, n_workers, n_workers, where->iface,
		    n_workers);
	return slot;
}

static int open_one(struct pcd_xdp_sockets *socks, const struct pcd_room *room,
                    struct pcd_worker *worker, const struct pc_xdp_listen *where,
                    void (*on_event)(struct pcd_io *, struct pcd_worker *, uint32_t), void *ctx)
{
	const char *role = room->role->name;
	struct claim *claim = worker->index == 0 ? claim_take(role, where, room->node->n_workers)
	                                         : claim_find(where->iface);
	if (claim == NULL || claim->failed || strcmp(claim->role, role) != 0 ||
	    claim->port != where->port || worker->index >= claim->queues)
		return 0;
	if (socks->n == PCD_XDP_MAX_LISTEN)
		return 0;
	libbpf_set_print(bpf_print);
	struct pcd_xdp_socket *xs = &socks->items[socks->n];
	*xs = (struct pcd_xdp_socket){
	    .io = {.fd = -1, .on_event = on_event}, .ctx = ctx, .where = *where};
	/* UDP only: TCP to the port stays the kernel's. The first queue loads
	 * the program (replacing any other, as knotd does), the others use it. */
	int err = knot_xdp_init(
	    &xs->sock, where->iface, (int)worker->index, KNOT_XDP_FILTER_UDP, where->port, 0,
	    claim->open == 0 ? KNOT_XDP_LOAD_BPF_ALWAYS : KNOT_XDP_LOAD_BPF_NEVER, NULL);
	if (err != KNOT_EOK) {
		pcd_log(PCD_LOG_WARNING, "xdp-unavailable",
		        "role=%s iface=%s queue=%u error=\"%s\" hint=\"%s\"", role, where->iface,
		        worker->index, knot_strerror(err), privilege_hint);
		if (worker->index == 0)
			claim->failed = true;
		xs->sock = NULL;
		return 0;
	}
	xs->io.fd = knot_xdp_socket_fd(xs->sock);
	if (pcd_worker_watch(worker, &xs->io, EPOLLIN) != 0) {
		int e = errno;
		knot_xdp_deinit(xs->sock);
		pcd_log(PCD_LOG_WARNING, "xdp-unavailable", "role=%s iface=%s error=\"%s\"", role,
		        where->iface, strerror(e));
		return 0;
	}
	claim->open++;
	socks->n++;
	if (worker->index == 0) {
		knot_xdp_mode_t mode = knot_eth_xdp_mode((int)if_nametoindex(where->iface));
		pcd_log(PCD_LOG_INFO, "xdp-listening", "role=%s iface=%s port=%u queues=%u mode=%s",
		        role, where->iface, where->port, claim->queues,
		        mode == KNOT_XDP_MODE_FULL ? "native" : "generic");
	}
	return 0;
}

int pcd_xdp_open_all(struct pcd_xdp_sockets *socks, const struct pcd_room *room,
                     struct pcd_worker *worker, const struct pc_xdp_params *params,
                     void (*on_event)(struct pcd_io *io, struct pcd_worker *worker,
                                      uint32_t events),
                     void *ctx)
{
	for (uint32_t i = 0; i < params->listen.count; i++) {
		struct pc_xdp_listen where;
		if (!pc_xdp_listen_parse(params->listen.items[i], &where))
			continue; /* the loader refused it already */
		int err = open_one(socks, room, worker, &where, on_event, ctx);
		if (err != 0)
			return err;
	}
	return 0;
}

void pcd_xdp_close_all(struct pcd_xdp_sockets *socks)
{
	for (unsigned i = 0; i < socks->n; i++) {
		struct pcd_xdp_socket *xs = &socks->items[i];
		knot_xdp_deinit(xs->sock);
		struct claim *claim = claim_find(xs->where.iface);
		if (claim == NULL || --claim->open > 0)
			continue;
		/* libknot leaves its program attached (knotd does too); take it
		 * off, so the interface is the kernel's again. */
		int index = (int)if_nametoindex(xs->where.iface);
		if (index > 0)
			(void)bpf_xdp_detach(index, 0, NULL);
		claim->role = NULL;
	}
	socks->n = 0;
}

/* counter += k, as PCD_BUMP (one writer). */
static void add(_Atomic uint64_t *counter, uint64_t k)
{
	atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + k,
	                      memory_order_relaxed);
}

/* The source of a frame, as the socket path's pcd_addr_from_sockaddr
 * gives it (a v4-mapped IPv6 source is an IPv4 client), straight from
 * libknot's sockaddr_in6-sized field: no sockaddr_storage to clear. */
static void frame_source(const knot_xdp_msg_t *msg, pc_addr *out)
{
	memset(out, 0, sizeof(*out));
	const struct sockaddr_in6 *sin6 = &msg->ip_from;
	if (sin6->sin6_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sin6;
		out->family = PC_AF_INET;
		memcpy(out->bytes, &sin->sin_addr, 4);
	} else if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		out->family = PC_AF_INET;
		memcpy(out->bytes, sin6->sin6_addr.s6_addr + 12, 4);
	} else {
		out->family = PC_AF_INET6;
		memcpy(out->bytes, &sin6->sin6_addr, 16);
	}
}

/* Answers one batch of received frames into transmit frames and queues
 * them on the TX ring (no system call); returns the answers queued. A
 * full ring drops the batch's answers, as a full socket buffer would. */
static uint32_t answer_batch(struct pcd_xdp_socket *xs, knot_xdp_msg_t *in, uint32_t n,
                             struct pcd_generation *gen, pcd_udp_answer_fn answer, void *call,
                             uint64_t now_ms, struct pcd_xdp_counters *counters)
{
	knot_xdp_msg_t out[BATCH];
	uint32_t n_out = 0, answers = 0, received = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (in[i].flags & KNOT_XDP_MSG_TCP)
			continue; /* not claimed (UDP filter only) */
		received++;
		if (knot_xdp_reply_alloc(xs->sock, &in[i], &out[n_out]) != KNOT_EOK) {
			PCD_BUMP(counters->n[PCD_XDP_NO_FRAME]);
			continue;
		}
		pc_addr source;
		frame_source(&in[i], &source);
		size_t len =
		    answer(call, gen, in[i].payload.iov_base, in[i].payload.iov_len, &source,
		           now_ms, out[n_out].payload.iov_base, out[n_out].payload.iov_len);
		out[n_out].payload.iov_len = len; /* 0: knot_xdp_send frees it */
		answers += len > 0;
		n_out++;
	}
	uint32_t sent = 0;
	if (n_out > 0 && knot_xdp_send(xs->sock, out, n_out, &sent) != KNOT_EOK)
		sent = 0;
	add(&counters->n[PCD_XDP_RECEIVED], received);
	add(&counters->n[PCD_XDP_NO_FRAME], answers - sent);
	return sent;
}

void pcd_xdp_serve(struct pcd_io *io, struct pcd_generation *gen, pcd_udp_answer_fn answer,
                   void *call, struct pcd_xdp_counters *counters)
{
	struct pcd_xdp_socket *xs = (struct pcd_xdp_socket *)io;
	knot_xdp_msg_t in[BATCH];
	/* The clock and the reclaiming of the frames sent before are per
	 * wake-up. The receive ring is drained until it is empty (not only
	 * while batches are full), so frames that arrived while a batch was
	 * answered cost no epoll wake-up of their own (about half of them at
	 * 100 k/s from kxdpgun, bench/RESULTS.md); MAX_ROUNDS bounds what one
	 * socket holds the worker for. The kick stays per batch: in copy mode
	 * (veth, generic drivers) one sendto transmits at most 32 frames
	 * (the kernel's TX_BATCH_SIZE), so a kick per wake-up would leave the
	 * rest in the ring until the next one. */
	knot_xdp_send_prepare(xs->sock);
	uint64_t now_ms = pcd_now_ms();
	uint32_t sent = 0;
	for (int round = 0; round < MAX_ROUNDS; round++) {
		uint32_t n = 0;
		if (knot_xdp_recv(xs->sock, in, BATCH, &n, NULL) != KNOT_EOK || n == 0)
			break;
		uint32_t queued = answer_batch(xs, in, n, gen, answer, call, now_ms, counters);
		if (queued > 0)
			(void)knot_xdp_send_finish(xs->sock);
		sent += queued;
		knot_xdp_recv_finish(xs->sock, in, n); /* the frames back to the fill ring */
	}
	add(&counters->n[PCD_XDP_ANSWERED], sent);
}

unsigned pcd_xdp_check(const struct pc_xdp_params *params, const char *role, const char *source,
                       FILE *out)
{
	unsigned problems = 0;
	for (uint32_t i = 0; i < params->listen.count; i++) {
		struct pc_xdp_listen where;
		if (!pc_xdp_listen_parse(params->listen.items[i], &where))
			continue;
		if (if_nametoindex(where.iface) == 0) {
			fprintf(out, "%s: %s.xdp.listen: \"%s\": no interface %s on this machine\n",
			        source, role, params->listen.items[i], where.iface);
			problems++;
		}
	}
	return problems;
}
