/* The DNS role (APAR-DNS): authoritative answers for the codepoint names of
 * every CDN the node serves, over UDP (recvmmsg/sendmmsg batches) and TCP
 * (RFC 7766: pipelined queries, idle timeout, connection limits). The
 * answer itself is lib/dns_answer; this file only moves packets, applies
 * response rate limiting and counts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/proto/dns_answer.h"
#include "lib/proto/rrl.h"
#include "node/log.h"
#include "node/net.h"
#include "node/node.h"
#include "node/udp.h"

enum {
	TCP_MSG = 65535,
	TCP_OUT_HIGH = 256 * 1024, /* stop reading a client that does not read */
	MAX_LISTEN = 16,
	SOURCE_SLOTS = 4096,
};

enum counter {
	C_UDP_QUERIES,
	C_TCP_QUERIES,
	C_UDP_OVERSIZE,
	C_RRL_DROP,
	C_RRL_SLIP,
	C_TRUNCATED,
	C_TCP_ACCEPTED,
	C_TCP_REFUSED,
	C_TCP_TIMEOUT,
	C_TCP_BAD_FRAME,
	C__COUNT
};
static const char *const counter_names[C__COUNT] = {
    "udp_queries", "tcp_queries",  "udp_oversize", "rrl_drop",    "rrl_slip",
    "truncated",   "tcp_accepted", "tcp_refused",  "tcp_timeout", "tcp_bad_frame",
};

struct counters {
	_Atomic uint64_t by_class[PC_DNS__CLASS_COUNT];
	_Atomic uint64_t by_branch[4];
	_Atomic uint64_t misc[C__COUNT];
};

struct dns_worker;

struct listener {
	struct pcd_io io;
	struct dns_worker *dw;
};

struct tcp_conn {
	struct pcd_io io;
	struct dns_worker *dw;
	struct tcp_conn *prev, *next;
	pc_addr source;
	uint32_t source_slot;
	uint64_t last_ms;
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *out;
	size_t out_len, out_off, out_cap;
};

struct dns_worker {
	struct pcd_worker *worker;
	pc_dns_scratch *scratch;
	struct listener udp[MAX_LISTEN], tcp[MAX_LISTEN];
	unsigned n_udp, n_tcp;
	struct tcp_conn *conns; /* doubly linked, for idle sweeps */
	unsigned n_conns;
	struct counters counters;
	struct pcd_udp_batch udp_batch;
	uint8_t tcp_answer[2 + TCP_MSG];
};

/* Open TCP connections per source address, across workers: the limit of
 * tcp_max_per_source. Indexed by a hash; a collision is stricter, never
 * looser. */
static _Atomic uint32_t *source_counts(struct pcd_node *node)
{
	return node->role_shared[pcd_role_dns.slot];
}

static void count_result(struct dns_worker *dw, const struct pc_dns_result *res)
{
	PCD_BUMP(dw->counters.by_class[res->cls]);
	if (res->decided && res->decision.branch < 4)
		PCD_BUMP(dw->counters.by_branch[res->decision.branch]);
	if (res->truncated)
		PCD_BUMP(dw->counters.misc[C_TRUNCATED]);
}

static size_t udp_answer(void *ctx, struct pcd_generation *gen, const uint8_t *in, size_t len,
                         const pc_addr *source, uint64_t now_ms, uint8_t *out, size_t out_size)
{
	struct dns_worker *dw = ctx;
	struct pc_answer_ctx actx = pcd_answer_ctx(gen, source, now_ms);
	struct pc_dns_query query = {.wire = in, .len = len, .dns = gen->dns};
	struct pc_dns_result res;
	size_t answer_len = pc_dns_answer(dw->scratch, &actx, &query, out, out_size, &res);
	count_result(dw, &res);
	if (answer_len == 0)
		return 0;
	switch (pc_rrl_check(gen->rrl, source, now_ms)) {
	case PC_RRL_PASS:
		break;
	case PC_RRL_SLIP:
		PCD_BUMP(dw->counters.misc[C_RRL_SLIP]);
		answer_len = pc_dns_truncate(out, &res);
		break;
	case PC_RRL_DROP:
		PCD_BUMP(dw->counters.misc[C_RRL_DROP]);
		return 0;
	}
	return answer_len;
}

static void udp_event(struct pcd_io *io, struct pcd_worker *worker, uint32_t events)
{
	(void)events;
	struct dns_worker *dw = ((struct listener *)io)->dw;
	pcd_udp_serve(io->fd, &dw->udp_batch, pcd_node_generation(worker->node), udp_answer, dw,
	              &dw->counters.misc[C_UDP_QUERIES], &dw->counters.misc[C_UDP_OVERSIZE]);
}

static void conn_close(struct tcp_conn *conn)
{
	struct dns_worker *dw = conn->dw;
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		dw->conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	dw->n_conns--;
	atomic_fetch_sub(&source_counts(dw->worker->node)[conn->source_slot], 1);
	close(conn->io.fd);
	free(conn->in);
	free(conn->out);
	free(conn);
}

static bool reserve(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return true;
	size_t bigger = *cap ? *cap : 1024;
	while (bigger < need)
		bigger *= 2;
	uint8_t *p = realloc(*buf, bigger);
	if (p == NULL)
		return false;
	*buf = p;
	*cap = bigger;
	return true;
}

/* Writes what is pending; returns false when the connection is gone. */
static bool conn_flush(struct tcp_conn *conn)
{
	while (conn->out_off < conn->out_len) {
		ssize_t n = send(conn->io.fd, conn->out + conn->out_off,
		                 conn->out_len - conn->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_close(conn);
			return false;
		}
		conn->out_off += (size_t)n;
	}
	if (conn->out_off == conn->out_len)
		conn->out_off = conn->out_len = 0;
	uint32_t events = EPOLLIN | EPOLLRDHUP;
	if (conn->out_len > 0)
		events = EPOLLOUT | (conn->out_len < TCP_OUT_HIGH ? EPOLLIN | EPOLLRDHUP : 0);
	pcd_worker_modify(conn->dw->worker, &conn->io, events);
	return true;
}

/* Answers every complete frame in the input buffer (pipelining). */
static bool conn_process(struct tcp_conn *conn, struct pcd_generation *gen)
{
	struct dns_worker *dw = conn->dw;
	size_t off = 0;
	while (conn->in_len - off >= 2 && conn->out_len < TCP_OUT_HIGH) {
		size_t msg_len = (size_t)conn->in[off] << 8 | conn->in[off + 1];
		if (msg_len < 12) {
			/* RFC 7766 does not allow resynchronising: give up. */
			PCD_BUMP(dw->counters.misc[C_TCP_BAD_FRAME]);
			conn_close(conn);
			return false;
		}
		if (conn->in_len - off - 2 < msg_len)
			break;
		PCD_BUMP(dw->counters.misc[C_TCP_QUERIES]);
		struct pc_answer_ctx actx = pcd_answer_ctx(gen, &conn->source, pcd_now_ms());
		struct pc_dns_query query = {
		    .wire = conn->in + off + 2, .len = msg_len, .tcp = true, .dns = gen->dns};
		struct pc_dns_result res;
		size_t len =
		    pc_dns_answer(dw->scratch, &actx, &query, dw->tcp_answer + 2, TCP_MSG, &res);
		count_result(dw, &res);
		off += 2 + msg_len;
		if (len == 0)
			continue;
		dw->tcp_answer[0] = (uint8_t)(len >> 8);
		dw->tcp_answer[1] = (uint8_t)len;
		if (!reserve(&conn->out, &conn->out_cap, conn->out_len + len + 2)) {
			conn_close(conn);
			return false;
		}
		memcpy(conn->out + conn->out_len, dw->tcp_answer, len + 2);
		conn->out_len += len + 2;
	}
	memmove(conn->in, conn->in + off, conn->in_len - off);
	conn->in_len -= off;
	return conn_flush(conn);
}

static void conn_event(struct pcd_io *io, struct pcd_worker *worker, uint32_t events)
{
	struct tcp_conn *conn = (struct tcp_conn *)io;
	struct pcd_generation *gen = pcd_node_generation(worker->node);
	if (events & EPOLLERR) {
		conn_close(conn);
		return;
	}
	if ((events & EPOLLOUT) && !conn_flush(conn))
		return;
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)))
		return;
	for (int round = 0; round < 4; round++) {
		if (!reserve(&conn->in, &conn->in_cap, conn->in_len + 4096)) {
			conn_close(conn);
			return;
		}
		ssize_t n = recv(conn->io.fd, conn->in + conn->in_len, conn->in_cap - conn->in_len,
		                 MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			/* The peer closed: answer what it sent, then close. */
			if (conn_process(conn, gen) && conn->out_len == 0)
				conn_close(conn);
			return;
		}
		conn->in_len += (size_t)n;
		conn->last_ms = pcd_mono_ms();
		if (!conn_process(conn, gen))
			return;
		if (conn->in_len > 2 + TCP_MSG) {
			conn_close(conn); /* cannot happen with a sane peer */
			return;
		}
	}
}

static void accept_event(struct pcd_io *io, struct pcd_worker *worker, uint32_t events)
{
	(void)events;
	struct listener *l = (struct listener *)io;
	struct dns_worker *dw = l->dw;
	const struct pc_dns_params *dns = pcd_node_generation(worker->node)->dns;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		int fd = accept4(io->fd, (struct sockaddr *)&from, &from_len,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		pc_addr source;
		pcd_addr_from_sockaddr(&from, &source, NULL);
		uint32_t slot = pcd_source_slot(&source, SOURCE_SLOTS);
		_Atomic uint32_t *per_source = &source_counts(worker->node)[slot];
		struct tcp_conn *conn = NULL;
		if (dw->n_conns < dns->tcp_max_clients &&
		    atomic_fetch_add(per_source, 1) < dns->tcp_max_per_source) {
			conn = calloc(1, sizeof(*conn));
			if (conn == NULL)
				atomic_fetch_sub(per_source, 1);
		} else if (dw->n_conns < dns->tcp_max_clients) {
			atomic_fetch_sub(per_source, 1);
		}
		if (conn == NULL) {
			PCD_BUMP(dw->counters.misc[C_TCP_REFUSED]);
			close(fd);
			continue;
		}
		conn->io = (struct pcd_io){.fd = fd, .on_event = conn_event};
		conn->dw = dw;
		conn->source = source;
		conn->source_slot = slot;
		conn->last_ms = pcd_mono_ms();
		conn->next = dw->conns;
		if (dw->conns != NULL)
			dw->conns->prev = conn;
		dw->conns = conn;
		dw->n_conns++;
		PCD_BUMP(dw->counters.misc[C_TCP_ACCEPTED]);
		if (pcd_worker_watch(worker, &conn->io, EPOLLIN | EPOLLRDHUP) != 0)
			conn_close(conn);
	}
}

static void dns_tick(struct pcd_worker *worker, uint64_t now_ms)
{
	struct dns_worker *dw = worker->role_state[pcd_role_dns.slot];
	uint32_t idle_ms = pcd_node_generation(worker->node)->dns->tcp_idle_ms;
	for (struct tcp_conn *conn = dw->conns, *next; conn != NULL; conn = next) {
		next = conn->next;
		if (now_ms - conn->last_ms >= idle_ms) {
			PCD_BUMP(dw->counters.misc[C_TCP_TIMEOUT]);
			conn_close(conn);
		}
	}
}

static bool dns_enabled(const struct pcd_generation *gen)
{
	return gen->dns->enabled;
}

static int dns_open(struct pcd_node *node, struct pcd_worker *worker)
{
	const struct pcd_generation *gen = pcd_node_generation(node);
	const struct pc_dns_params *dns = gen->dns;
	struct dns_worker *dw = calloc(1, sizeof(*dw));
	if (dw == NULL || pc_dns_scratch_new(&dw->scratch) != 0) {
		free(dw);
		return -ENOMEM;
	}
	dw->worker = worker;
	worker->role_state[pcd_role_dns.slot] = dw;
	if (node->role_shared[pcd_role_dns.slot] == NULL) {
		node->role_shared[pcd_role_dns.slot] =
		    calloc(SOURCE_SLOTS, sizeof(_Atomic uint32_t));
		if (node->role_shared[pcd_role_dns.slot] == NULL)
			return -ENOMEM;
	}
	pc_addr addrs[MAX_LISTEN];
	unsigned n = pcd_listen_addresses(gen->model, &dns->listen, "dns", addrs, MAX_LISTEN);
	if (n == 0) {
		pcd_log(PCD_LOG_ERROR, "dns-no-listen",
		        "hint=\"set dns.listen or the node's CDNs\"");
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++) {
		char where[80];
		pcd_net_format(&addrs[i], dns->port, where, sizeof(where));
		int udp = pcd_net_bind(SOCK_DGRAM, &addrs[i], dns->port);
		int tcp = udp < 0 ? udp : pcd_net_bind(SOCK_STREAM, &addrs[i], dns->port);
		if (udp < 0 || tcp < 0) {
			pcd_log(PCD_LOG_ERROR, "dns-bind-failed", "listen=%s error=\"%s\"", where,
			        strerror(-(udp < 0 ? udp : tcp)));
			if (udp >= 0)
				close(udp);
			return udp < 0 ? udp : tcp;
		}
		dw->udp[dw->n_udp++] = (struct listener){{udp, udp_event}, dw};
		dw->tcp[dw->n_tcp++] = (struct listener){{tcp, accept_event}, dw};
		if (pcd_worker_watch(worker, &dw->udp[dw->n_udp - 1].io, EPOLLIN) != 0 ||
		    pcd_worker_watch(worker, &dw->tcp[dw->n_tcp - 1].io, EPOLLIN) != 0)
			return -errno;
		if (worker->index == 0)
			pcd_log(PCD_LOG_INFO, "dns-listening", "listen=%s transports=udp,tcp",
			        where);
	}
	return 0;
}

static void dns_close(struct pcd_worker *worker)
{
	struct dns_worker *dw = worker->role_state[pcd_role_dns.slot];
	if (dw == NULL)
		return;
	while (dw->conns != NULL)
		conn_close(dw->conns);
	for (unsigned i = 0; i < dw->n_udp; i++)
		close(dw->udp[i].io.fd);
	for (unsigned i = 0; i < dw->n_tcp; i++)
		close(dw->tcp[i].io.fd);
	pc_dns_scratch_free(dw->scratch);
	/* Counters are kept for the final metrics; the node frees dw. */
}

static uint64_t sum(struct pcd_node *node, size_t offset)
{
	return pcd_role_counter_sum(node, pcd_role_dns.slot,
	                            offsetof(struct dns_worker, counters) + offset);
}

static void dns_metrics(struct pcd_node *node, FILE *out)
{
	fputs("# HELP peercdn_dns_responses_total DNS queries by outcome.\n"
	      "# TYPE peercdn_dns_responses_total counter\n",
	      out);
	for (int c = 0; c < PC_DNS__CLASS_COUNT; c++)
		fprintf(out, "peercdn_dns_responses_total{outcome=\"%s\"} %llu\n",
		        pc_dns_class_name((enum pc_dns_class)c),
		        (unsigned long long)sum(node, offsetof(struct counters, by_class[c])));
	pcd_role_metrics_common(out, node, pcd_role_dns.slot, "dns", "DNS answers",
	                        offsetof(struct dns_worker, counters.by_branch), counter_names,
	                        C__COUNT, offsetof(struct dns_worker, counters.misc));
}

const struct pcd_role pcd_role_dns = {
    .name = "dns",
    .enabled = dns_enabled,
    .open = dns_open,
    .tick = dns_tick,
    .close = dns_close,
    .metrics = dns_metrics,
    .slot = 0,
};
