/* The TCP redirector roles, HTTP and RTSP: accept, per-source and
 * per-worker connection limits, the PROXY v2 header from configured
 * balancers, header and idle timeouts, write back-pressure and a lingering
 * close. What is said on a connection is the library's session, driven
 * through its ops (lib/proto/session.h: pc_http_session_ops,
 * pc_rtsp_session_ops); this file only moves bytes and counts. Both roles
 * run on every worker, on their own SO_REUSEPORT listening sockets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/proto/http_redirect.h"
#include "lib/proto/proxy.h"
#include "lib/proto/rtsp_redirect.h"
#include "node/log.h"
#include "node/net.h"
#include "node/node.h"

enum {
	MAX_LISTEN = 16,
	SOURCE_SLOTS = 4096,
	READ_CHUNK = 16384,
	OUT_HIGH = 256 * 1024, /* stop reading a client that does not read */
	LINGER_MS = 2000,      /* read and drop what a closed-on client still sends */
};

/* The responses counted by status; anything else is "other". */
static const unsigned counted_statuses[] = {204, 302, 307, 400, 403, 404, 405, 408, 413,
                                            414, 417, 421, 431, 500, 501, 503, 505};
#define N_STATUSES (sizeof(counted_statuses) / sizeof(counted_statuses[0]))

enum counter {
	C_ACCEPTED,
	C_REFUSED,
	C_REQUESTS,
	C_HEADER_TIMEOUT,
	C_IDLE_TIMEOUT,
	C_PROXY_BAD,
	C__COUNT
};
static const char *const counter_names[C__COUNT] = {
    "connections_accepted", "connections_refused", "requests",
    "header_timeouts",      "idle_timeouts",       "proxy_header_errors",
};

struct counters {
	_Atomic uint64_t by_status[N_STATUSES + 1];
	_Atomic uint64_t by_branch[4];
	_Atomic uint64_t misc[C__COUNT];
};

/* What differs between HTTP and RTSP. */
struct proto {
	const char *name;
	const struct pcd_role *role;
	const struct pc_stream_params *(*params)(const struct pcd_generation *gen);
	const struct pc_session_ops *session; /* what is said on a connection */
};

struct stream_worker;

struct listener {
	struct pcd_io io;
	struct stream_worker *sw;
};

enum conn_phase { PHASE_PROXY, PHASE_OPEN, PHASE_LINGER };

struct conn {
	struct pcd_io io;
	struct stream_worker *sw;
	struct conn *prev, *next;
	void *session;
	enum conn_phase phase;
	enum pc_http_state state;
	uint32_t events;      /* what the epoll set has for it: changed only when it must */
	pc_addr peer, source; /* source: the client, from PROXY v2 when the peer is a balancer */
	uint32_t source_slot;
	uint64_t state_since_ms; /* monotonic: when the current state began */
	uint8_t proxy[PC_PROXY_V2_MAX];
	size_t proxy_len;
	struct pc_buf out;
	size_t out_off;
};

struct stream_worker {
	const struct proto *proto;
	struct pcd_worker *worker;
	struct listener listeners[MAX_LISTEN];
	unsigned n_listeners;
	struct conn *conns;
	unsigned n_conns;
	struct counters counters;
	char in[READ_CHUNK];
};

static _Atomic uint32_t *source_counts(struct stream_worker *sw)
{
	return sw->worker->node->role_shared[sw->proto->role->slot];
}

static struct pc_http_limits limits_of(const struct pc_stream_params *params)
{
	return (struct pc_http_limits){
	    .max_header_bytes = params->max_header_bytes,
	    .max_target_bytes = params->max_target_bytes,
	    .max_body_bytes = params->max_body_bytes,
	    .redirect_status = params->redirect_status,
	};
}

static void on_result(void *ctx, const struct pc_redirect_result *result)
{
	struct stream_worker *sw = ctx;
	PCD_BUMP(sw->counters.misc[C_REQUESTS]);
	size_t i = 0;
	while (i < N_STATUSES && counted_statuses[i] != result->status)
		i++;
	PCD_BUMP(sw->counters.by_status[i]);
	if (result->decided && result->decision.branch < 4)
		PCD_BUMP(sw->counters.by_branch[result->decision.branch]);
}

static struct pc_redirect_env env_of(struct conn *conn, struct pcd_generation *gen)
{
	return (struct pc_redirect_env){
	    .answer = pcd_answer_ctx(gen, &conn->source, pcd_now_ms()),
	    .on_result = on_result,
	    .on_result_arg = conn->sw,
	};
}

static void conn_close(struct conn *conn)
{
	struct stream_worker *sw = conn->sw;
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		sw->conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	sw->n_conns--;
	atomic_fetch_sub(&source_counts(sw)[conn->source_slot], 1);
	close(conn->io.fd);
	sw->proto->session->destroy(conn->session);
	pc_buf_free(&conn->out);
	free(conn);
}

/* epoll_ctl is a syscall per call: most answers leave the events as
 * they were. */
static void watch(struct conn *conn, uint32_t events)
{
	if (events != conn->events && pcd_worker_modify(conn->sw->worker, &conn->io, events) == 0)
		conn->events = events;
}

static void set_state(struct conn *conn, enum pc_http_state state)
{
	if (state != conn->state)
		conn->state_since_ms = pcd_mono_ms();
	conn->state = state;
}

/* After the last response: stop sending, keep reading (and dropping) for a
 * while, so that bytes the client still sends do not make the kernel reset
 * the connection and destroy the response in flight. */
static void start_linger(struct conn *conn)
{
	shutdown(conn->io.fd, SHUT_WR);
	conn->phase = PHASE_LINGER;
	conn->state_since_ms = pcd_mono_ms();
	watch(conn, EPOLLIN | EPOLLRDHUP);
}

/* Writes what is pending; returns false when the connection is gone. */
static bool conn_flush(struct conn *conn)
{
	while (conn->out_off < conn->out.len) {
		ssize_t n = send(conn->io.fd, conn->out.data + conn->out_off,
		                 conn->out.len - conn->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_close(conn);
			return false;
		}
		conn->out_off += (size_t)n;
	}
	if (conn->out_off == conn->out.len) {
		conn->out.len = conn->out_off = 0;
		if (conn->state == PC_HTTP_CLOSING) {
			start_linger(conn);
			return true;
		}
	}
	uint32_t events = EPOLLIN | EPOLLRDHUP;
	if (conn->out.len > 0)
		events = EPOLLOUT | (conn->out.len < OUT_HIGH && conn->state != PC_HTTP_CLOSING
		                         ? EPOLLIN | EPOLLRDHUP
		                         : 0);
	watch(conn, events);
	return true;
}

/* Bytes before the PROXY header is complete. Returns how many of in it
 * took, or -1 when the connection was failed. */
static long take_proxy(struct conn *conn, const char *in, size_t len)
{
	size_t take = sizeof(conn->proxy) - conn->proxy_len;
	if (take > len)
		take = len;
	memcpy(conn->proxy + conn->proxy_len, in, take);
	size_t before = conn->proxy_len;
	conn->proxy_len += take;
	pc_addr client;
	uint16_t port;
	long n = pc_proxy_v2_parse(conn->proxy, conn->proxy_len, &client, &port);
	if (n == 0 && conn->proxy_len < sizeof(conn->proxy))
		return (long)take;
	if (n <= 0) {
		PCD_BUMP(conn->sw->counters.misc[C_PROXY_BAD]);
		pcd_log(PCD_LOG_WARNING, "proxy-header-invalid", "role=%s", conn->sw->proto->name);
		conn_close(conn);
		return -1;
	}
	if (client.family != PC_AF_NONE)
		conn->source = client;
	conn->phase = PHASE_OPEN;
	return (long)((size_t)n - before);
}

/* Returns false when the connection is gone. */
static bool conn_input(struct conn *conn, struct pcd_generation *gen, const char *in, size_t len)
{
	if (conn->phase == PHASE_PROXY) {
		long used = take_proxy(conn, in, len);
		if (used < 0)
			return false;
		if (conn->phase == PHASE_PROXY)
			return true;
		in += used;
		len -= (size_t)used;
	}
	struct pc_redirect_env env = env_of(conn, gen);
	set_state(conn, conn->sw->proto->session->feed(conn->session, &env, in, len, &conn->out));
	return true;
}

static void conn_event(struct pcd_io *io, struct pcd_worker *worker, uint32_t events)
{
	struct conn *conn = (struct conn *)io;
	struct stream_worker *sw = conn->sw;
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
		if (conn->phase != PHASE_LINGER &&
		    (conn->state == PC_HTTP_CLOSING || conn->out.len >= OUT_HIGH))
			break;
		ssize_t n = recv(conn->io.fd, sw->in, sizeof(sw->in), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0 || conn->phase == PHASE_LINGER) {
			if (n > 0)
				continue; /* lingering: drop it */
			if (conn->phase == PHASE_LINGER || conn->phase == PHASE_PROXY) {
				conn_close(conn);
				return;
			}
			/* The client closed its side: answer a cut-short request, then close. */
			struct pc_redirect_env env = env_of(conn, gen);
			set_state(conn,
			          sw->proto->session->end(conn->session, &env, false, &conn->out));
			break;
		}
		if (!conn_input(conn, gen, sw->in, (size_t)n))
			return;
		if ((size_t)n < sizeof(sw->in))
			break; /* drained: epoll says when more comes, without a recv for EAGAIN */
	}
	conn_flush(conn);
}

static bool is_balancer(const struct pc_stream_params *params, const pc_addr *peer)
{
	for (uint32_t i = 0; i < params->balancers.count; i++)
		if (pc_addr_equal(&params->balancers.items[i], peer))
			return true;
	return false;
}

static void accept_event(struct pcd_io *io, struct pcd_worker *worker, uint32_t events)
{
	(void)events;
	struct stream_worker *sw = ((struct listener *)io)->sw;
	const struct pc_stream_params *params =
	    sw->proto->params(pcd_node_generation(worker->node));
	struct pc_http_limits limits = limits_of(params);
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		int fd = accept4(io->fd, (struct sockaddr *)&from, &from_len,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		pc_addr peer;
		pcd_addr_from_sockaddr(&from, &peer, NULL);
		uint32_t slot = pcd_source_slot(&peer, SOURCE_SLOTS);
		_Atomic uint32_t *per_source = &source_counts(sw)[slot];
		struct conn *conn = NULL;
		if (sw->n_conns < params->max_clients) {
			if (atomic_fetch_add(per_source, 1) < params->max_per_source)
				conn = calloc(1, sizeof(*conn));
			if (conn != NULL)
				conn->session = sw->proto->session->create(&limits);
			if (conn != NULL && conn->session == NULL) {
				free(conn);
				conn = NULL;
			}
			if (conn == NULL)
				atomic_fetch_sub(per_source, 1);
		}
		if (conn == NULL) {
			PCD_BUMP(sw->counters.misc[C_REFUSED]);
			close(fd);
			continue;
		}
		conn->io = (struct pcd_io){.fd = fd, .on_event = conn_event};
		conn->sw = sw;
		conn->peer = conn->source = peer;
		conn->source_slot = slot;
		conn->phase = is_balancer(params, &peer) ? PHASE_PROXY : PHASE_OPEN;
		conn->state = PC_HTTP_IDLE;
		conn->state_since_ms = pcd_mono_ms();
		conn->next = sw->conns;
		if (sw->conns != NULL)
			sw->conns->prev = conn;
		sw->conns = conn;
		sw->n_conns++;
		PCD_BUMP(sw->counters.misc[C_ACCEPTED]);
		conn->events = EPOLLIN | EPOLLRDHUP;
		if (pcd_worker_watch(worker, &conn->io, conn->events) != 0)
			conn_close(conn);
	}
}

static void stream_tick(struct stream_worker *sw, uint64_t now_ms)
{
	struct pcd_generation *gen = pcd_node_generation(sw->worker->node);
	const struct pc_stream_params *params = sw->proto->params(gen);
	for (struct conn *conn = sw->conns, *next; conn != NULL; conn = next) {
		next = conn->next;
		uint64_t age = now_ms - conn->state_since_ms;
		if (conn->phase == PHASE_LINGER) {
			if (age >= LINGER_MS)
				conn_close(conn);
		} else if (conn->state == PC_HTTP_IDLE && conn->phase == PHASE_OPEN) {
			if (age >= params->idle_timeout_ms) {
				PCD_BUMP(sw->counters.misc[C_IDLE_TIMEOUT]);
				conn_close(conn);
			}
		} else if (age >= params->header_timeout_ms) {
			/* Slow clients: a head, body or PROXY header that does not come,
			 * or a response the client does not read. */
			PCD_BUMP(sw->counters.misc[C_HEADER_TIMEOUT]);
			if (conn->phase == PHASE_PROXY || conn->state == PC_HTTP_CLOSING) {
				conn_close(conn);
				continue;
			}
			struct pc_redirect_env env = env_of(conn, gen);
			set_state(conn,
			          sw->proto->session->end(conn->session, &env, true, &conn->out));
			conn_flush(conn);
		}
	}
}

static int stream_open(const struct proto *proto, struct pcd_node *node, struct pcd_worker *worker)
{
	const struct pcd_generation *gen = pcd_node_generation(node);
	const struct pc_stream_params *params = proto->params(gen);
	size_t slot = proto->role->slot;
	struct stream_worker *sw = calloc(1, sizeof(*sw));
	if (sw == NULL)
		return -ENOMEM;
	sw->proto = proto;
	sw->worker = worker;
	worker->role_state[slot] = sw;
	if (node->role_shared[slot] == NULL) {
		node->role_shared[slot] = calloc(SOURCE_SLOTS, sizeof(_Atomic uint32_t));
		if (node->role_shared[slot] == NULL)
			return -ENOMEM;
	}
	pc_addr addrs[MAX_LISTEN];
	/* The role's anycast key is its name (its config section's). */
	unsigned n =
	    pcd_listen_addresses(gen->model, &params->listen, proto->name, addrs, MAX_LISTEN);
	if (n == 0) {
		pcd_log(PCD_LOG_ERROR, "no-listen",
		        "role=%s hint=\"set %s.listen or the anycast %s "
		        "addresses of the node's CDNs\"",
		        proto->name, proto->name, proto->name);
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++) {
		char where[80];
		pcd_net_format(&addrs[i], params->port, where, sizeof(where));
		int fd = pcd_net_bind(SOCK_STREAM, &addrs[i], params->port);
		if (fd < 0) {
			pcd_log(PCD_LOG_ERROR, "bind-failed", "role=%s listen=%s error=\"%s\"",
			        proto->name, where, strerror(-fd));
			return fd;
		}
		struct listener *l = &sw->listeners[sw->n_listeners++];
		*l = (struct listener){{fd, accept_event}, sw};
		if (pcd_worker_watch(worker, &l->io, EPOLLIN) != 0)
			return -errno;
		if (worker->index == 0)
			pcd_log(PCD_LOG_INFO, "listening", "role=%s listen=%s transports=tcp",
			        proto->name, where);
	}
	return 0;
}

static void stream_close(struct stream_worker *sw)
{
	if (sw == NULL)
		return;
	while (sw->conns != NULL)
		conn_close(sw->conns);
	for (unsigned i = 0; i < sw->n_listeners; i++)
		close(sw->listeners[i].io.fd);
	/* Counters are kept for the final metrics; the node frees sw. */
}

static uint64_t sum(const struct proto *proto, struct pcd_node *node, size_t offset)
{
	return pcd_role_counter_sum(node, proto->role->slot,
	                            offsetof(struct stream_worker, counters) + offset);
}

static void stream_metrics(const struct proto *proto, struct pcd_node *node, FILE *out)
{
	const char *name = proto->name;
	fprintf(out,
	        "# HELP peercdn_%s_responses_total %s responses by status.\n"
	        "# TYPE peercdn_%s_responses_total counter\n",
	        name, name, name);
	for (size_t i = 0; i <= N_STATUSES; i++) {
		char status[8] = "other";
		if (i < N_STATUSES)
			snprintf(status, sizeof(status), "%u", counted_statuses[i]);
		fprintf(
		    out, "peercdn_%s_responses_total{status=\"%s\"} %llu\n", name, status,
		    (unsigned long long)sum(proto, node, offsetof(struct counters, by_status[i])));
	}
	char what[32];
	snprintf(what, sizeof(what), "%s redirects", name);
	pcd_role_metrics_common(out, node, proto->role->slot, name, what,
	                        offsetof(struct stream_worker, counters.by_branch), counter_names,
	                        C__COUNT, offsetof(struct stream_worker, counters.misc));
}

/* ---- the two protocols ---- */

static const struct pc_stream_params *http_params(const struct pcd_generation *gen)
{
	return gen->http;
}
static const struct pc_stream_params *rtsp_params(const struct pcd_generation *gen)
{
	return gen->rtsp;
}
static const struct proto http_proto = {
    "http",
    &pcd_role_http,
    http_params,
    &pc_http_session_ops,
};
static const struct proto rtsp_proto = {
    "rtsp",
    &pcd_role_rtsp,
    rtsp_params,
    &pc_rtsp_session_ops,
};

static bool http_enabled(const struct pcd_generation *gen)
{
	return gen->http->enabled;
}
static bool rtsp_enabled(const struct pcd_generation *gen)
{
	return gen->rtsp->enabled;
}
static int http_open(struct pcd_node *node, struct pcd_worker *worker)
{
	return stream_open(&http_proto, node, worker);
}
static int rtsp_open(struct pcd_node *node, struct pcd_worker *worker)
{
	return stream_open(&rtsp_proto, node, worker);
}
static void http_tick(struct pcd_worker *worker, uint64_t now_ms)
{
	stream_tick(worker->role_state[pcd_role_http.slot], now_ms);
}
static void rtsp_tick(struct pcd_worker *worker, uint64_t now_ms)
{
	stream_tick(worker->role_state[pcd_role_rtsp.slot], now_ms);
}
static void http_close(struct pcd_worker *worker)
{
	stream_close(worker->role_state[pcd_role_http.slot]);
}
static void rtsp_close(struct pcd_worker *worker)
{
	stream_close(worker->role_state[pcd_role_rtsp.slot]);
}
static void http_metrics(struct pcd_node *node, FILE *out)
{
	stream_metrics(&http_proto, node, out);
}
static void rtsp_metrics(struct pcd_node *node, FILE *out)
{
	stream_metrics(&rtsp_proto, node, out);
}

const struct pcd_role pcd_role_http = {
    .name = "http",
    .enabled = http_enabled,
    .open = http_open,
    .tick = http_tick,
    .close = http_close,
    .metrics = http_metrics,
    .slot = 2,
};

const struct pcd_role pcd_role_rtsp = {
    .name = "rtsp",
    .enabled = rtsp_enabled,
    .open = rtsp_open,
    .tick = rtsp_tick,
    .close = rtsp_close,
    .metrics = rtsp_metrics,
    .slot = 3,
};
