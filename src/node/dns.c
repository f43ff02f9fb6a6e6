/* The DNS role (APAR-DNS): authoritative answers for the codepoint names of
 * every CDN the node serves, over UDP (recvmmsg/sendmmsg batches on a
 * thread per socket, node/udp), AF_XDP (node/xdp, on the workers) and TCP
 * (RFC 7766: pipelined queries, idle timeout, connection limits; the
 * connections are node/conn's). The answer itself is lib/dns_answer; this
 * file only frames, applies response rate limiting and counts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/proto/dns_answer.h"
#include "lib/proto/dns_settings.h"
#include "lib/proto/rrl.h"
#include "node/conn.h"
#include "node/log.h"
#include "node/net.h"
#include "node/node.h"
#include "node/udp.h"
#include "node/xdp.h"

enum { TCP_MSG = 65535 };

enum counter {
	C_UDP_QUERIES,
	C_TCP_QUERIES,
	C_UDP_OVERSIZE,
	C_RRL_DROP,
	C_RRL_SLIP,
	C_TRUNCATED,
	C_TCP_BAD_FRAME,
	C__COUNT
};
static const char *const counter_names[C__COUNT] = {
    "udp_queries", "tcp_queries", "udp_oversize",  "rrl_drop",
    "rrl_slip",    "truncated",   "tcp_bad_frame",
};

/* One copy per writer: [0] the worker's (TCP, XDP), [1 + i] the thread of
 * UDP socket i; each on cache lines of its own. */
struct counters {
	_Alignas(64) _Atomic uint64_t by_class[PC_DNS__CLASS_COUNT];
	_Atomic uint64_t by_branch[4];
	_Atomic uint64_t misc[C__COUNT];
	struct pcd_conn_counters tcp; /* the engine's, published as tcp_* */
	struct pcd_xdp_counters xdp;
};

/* The role's per-generation state: its rate limit, and the zones the
 * direct answer writer reads (lib/proto/dns_answer.h). */
struct dns_generation {
	pc_rrl *rrl;
	pc_dns_zones *zones;
};

/* What a thread answering datagrams (a UDP socket's, or the worker for
 * XDP) has of its own, and what a batch needs of its generation, looked
 * up once per batch (udp_prepare): the answer context too, of which an
 * answer sets only the client and the time. */
struct udp_call {
	struct dns_worker *dw;
	struct counters *counters;
	pc_dns_scratch *scratch;
	const struct pc_dns_params *dns;
	const struct dns_generation *state;
	struct pc_answer_ctx actx;
};

struct dns_worker {
	struct pcd_conn_worker tcp; /* first: the engine's hooks find it */
	const struct pcd_room *room;
	pc_dns_scratch *scratch; /* the worker's: TCP and XDP */
	struct pcd_udp_sockets udp;
	struct pcd_udp_lane udp_lanes[PCD_UDP_MAX_LISTEN];
	struct udp_call udp_calls[PCD_UDP_MAX_LISTEN];
	struct pcd_xdp_sockets xdp;
	struct counters counters[1 + PCD_UDP_MAX_LISTEN];
	uint8_t tcp_answer[2 + TCP_MSG];
};

static void count_result(struct counters *counters, const struct pc_dns_result *res)
{
	PCD_BUMP(counters->by_class[res->cls]);
	if (res->decided && res->decision.branch < 4)
		PCD_BUMP(counters->by_branch[res->decision.branch]);
	if (res->truncated)
		PCD_BUMP(counters->misc[C_TRUNCATED]);
}

/* ---- UDP ---- */

static size_t udp_answer(void *ctx, struct pcd_generation *gen, const uint8_t *in, size_t len,
                         const pc_addr *source, uint64_t now_ms, uint8_t *out, size_t out_size)
{
	struct udp_call *call = ctx;
	struct pc_dns_query query = {
	    .wire = in, .len = len, .dns = call->dns, .zones = call->state->zones};
	/* Dropped whatever it holds: no token spent, counted as dropped. */
	if (pc_dns_ignored(in, len)) {
		PCD_BUMP(call->counters->by_class[PC_DNS_DROPPED]);
		return 0;
	}
	/* The limit comes before the answer, as in the CDSR role: a flood must
	 * not spend decisions, agreement capacity or the affinity memory. A
	 * slipped or dropped query is counted as such, not by outcome. */
	switch (pc_rrl_check(call->state->rrl, source, now_ms)) {
	case PC_RRL_PASS:
		break;
	case PC_RRL_SLIP: {
		PCD_BUMP(call->counters->misc[C_RRL_SLIP]);
		return pc_dns_slip(&query, out, out_size);
	}
	case PC_RRL_DROP:
		PCD_BUMP(call->counters->misc[C_RRL_DROP]);
		return 0;
	}
	(void)gen; /* the batch's, in call->actx */
	call->actx.source = *source;
	call->actx.now_ms = now_ms;
	struct pc_dns_result res;
	size_t answer_len = pc_dns_answer(call->scratch, &call->actx, &query, out, out_size, &res);
	count_result(call->counters, &res);
	return answer_len;
}

static void udp_prepare(void *ctx, struct pcd_generation *gen)
{
	struct udp_call *call = ctx;
	call->dns = pcd_room_settings(call->dw->room, gen);
	call->state = pcd_room_generation_state(call->dw->room, gen);
	call->actx = pcd_answer_ctx(call->dw->room->node, gen, &(pc_addr){.family = PC_AF_NONE}, 0);
}

/* The same answers to the frames of an AF_XDP socket (node/xdp.h). */
static void xdp_event(struct pcd_io *io, struct pcd_worker *worker, uint32_t events)
{
	(void)events;
	struct dns_worker *dw = ((struct pcd_xdp_socket *)io)->ctx;
	struct pcd_generation *gen = pcd_node_generation(worker->node);
	struct udp_call call = {.dw = dw, .counters = &dw->counters[0], .scratch = dw->scratch};
	udp_prepare(&call, gen);
	pcd_xdp_serve(io, gen, udp_answer, &call, &dw->counters[0].xdp);
}

/* ---- TCP (RFC 7766), on the connection engine ---- */

static void tcp_limits(void *ctx, struct pcd_conn_limits *out)
{
	struct dns_worker *dw = ctx;
	const struct pc_dns_params *dns =
	    pcd_room_settings(dw->room, pcd_node_generation(dw->room->node));
	/* Queries never make a connection BUSY: the idle timeout is the only
	 * one, and it also bounds a closed peer that does not read (CLOSING). */
	*out = (struct pcd_conn_limits){
	    .max_conns = dns->tcp_max_clients,
	    .max_per_source = dns->tcp_max_per_source,
	    .header_timeout_ms = dns->tcp_idle_ms,
	    .idle_timeout_ms = dns->tcp_idle_ms,
	};
}

/* One frame: a 2-byte length, then a query (pipelined: one call each). */
static size_t tcp_input(struct pcd_conn *conn, void *state, const uint8_t *in, size_t len)
{
	(void)state;
	struct dns_worker *dw = pcd_conn_ctx(conn);
	if (len < 2)
		return 0;
	size_t msg_len = (size_t)in[0] << 8 | in[1];
	if (msg_len < 12) {
		/* RFC 7766 does not allow resynchronising: give up. */
		PCD_BUMP(dw->counters[0].misc[C_TCP_BAD_FRAME]);
		pcd_conn_abort(conn);
		return len;
	}
	if (len - 2 < msg_len)
		return 0;
	PCD_BUMP(dw->counters[0].misc[C_TCP_QUERIES]);
	struct pcd_generation *gen = pcd_node_generation(dw->room->node);
	struct pc_answer_ctx actx =
	    pcd_answer_ctx(dw->room->node, gen, pcd_conn_source(conn), pcd_now_ms());
	const struct dns_generation *dg = pcd_room_generation_state(dw->room, gen);
	struct pc_dns_query query = {.wire = in + 2,
	                             .len = msg_len,
	                             .tcp = true,
	                             .dns = pcd_room_settings(dw->room, gen),
	                             .zones = dg->zones};
	struct pc_dns_result res;
	size_t answer_len =
	    pc_dns_answer(dw->scratch, &actx, &query, dw->tcp_answer + 2, TCP_MSG, &res);
	count_result(&dw->counters[0], &res);
	if (answer_len > 0) {
		dw->tcp_answer[0] = (uint8_t)(answer_len >> 8);
		dw->tcp_answer[1] = (uint8_t)answer_len;
		if (!pc_buf_append(pcd_conn_out(conn), dw->tcp_answer, answer_len + 2))
			pcd_conn_abort(conn);
	}
	return 2 + msg_len;
}

/* No per-connection state; a peer's close ends the connection once its
 * answers are sent (end NULL: CLOSING). */
static const struct pcd_conn_proto tcp_proto = {
    .name = "dns",
    .max_input = 2 + TCP_MSG + 1,
    .limits = tcp_limits,
    .input = tcp_input,
};

/* ---- the role ---- */

static struct pcd_listen dns_listen(const void *settings)
{
	const struct pc_dns_params *dns = settings;
	return (struct pcd_listen){dns->enabled, dns->port, &dns->listen};
}

static bool dns_needs_restart(const void *old_settings, const void *new_settings)
{
	return ((const struct pc_dns_params *)old_settings)->workers !=
	       ((const struct pc_dns_params *)new_settings)->workers;
}

static void dns_generation_free(void *state)
{
	struct dns_generation *dg = state;
	if (dg == NULL)
		return;
	pcd_udp_rrl_free(dg->rrl);
	pc_dns_zones_free(dg->zones);
	free(dg);
}

static int dns_generation_new(const struct pcd_room *room, const struct pcd_generation *gen,
                              void **state)
{
	const struct pc_dns_params *dns = pcd_room_settings(room, gen);
	struct dns_generation *dg = calloc(1, sizeof(*dg));
	if (dg == NULL)
		return -ENOMEM;
	int err = pcd_udp_rrl_new((struct pc_rrl_params){.rate = dns->rrl_rate,
	                                                 .slip = dns->rrl_slip,
	                                                 .prefix4 = dns->rrl_prefix4,
	                                                 .prefix6 = dns->rrl_prefix6},
	                          (void **)&dg->rrl);
	if (err == 0 && pc_dns_zones_new(gen->model, dns, &dg->zones) != 0)
		err = -ENOMEM;
	if (err != 0) {
		dns_generation_free(dg);
		return err;
	}
	*state = dg;
	return 0;
}

/* One UDP socket (and its thread) and one TCP listener per address, on
 * one port. */
static int dns_open(const struct pcd_room *room, struct pcd_worker *worker, void *state)
{
	struct dns_worker *dw = state;
	dw->room = room;
	if (pc_dns_scratch_new(&dw->scratch) != 0 ||
	    pcd_conn_engine_new(worker, room->shared, &tcp_proto, dw, &dw->counters[0].tcp,
	                        &dw->tcp.engine) != 0)
		return -ENOMEM;
	const struct pcd_generation *gen = pcd_node_generation(room->node);
	const struct pc_dns_params *dns = pcd_room_settings(room, gen);
	pc_addr addrs[PCD_UDP_MAX_LISTEN];
	unsigned n =
	    pcd_listen_addresses(gen->model, &dns->listen, "dns", addrs, PCD_UDP_MAX_LISTEN);
	if (n == 0) {
		pcd_log(PCD_LOG_ERROR, "dns-no-listen",
		        "hint=\"set dns.listen or the node's CDNs\"");
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++) {
		struct udp_call *call = &dw->udp_calls[i];
		struct counters *counters = &dw->counters[1 + i];
		*call = (struct udp_call){.dw = dw, .counters = counters};
		if (pc_dns_scratch_new(&call->scratch) != 0)
			return -ENOMEM;
		dw->udp_lanes[i] = (struct pcd_udp_lane){call, &counters->misc[C_UDP_QUERIES],
		                                         &counters->misc[C_UDP_OVERSIZE]};
	}
	struct pcd_udp_listen how = {.room = room,
	                             .worker = worker,
	                             .answer = udp_answer,
	                             .prepare = udp_prepare,
	                             .lanes = dw->udp_lanes,
	                             .tcp = dw->tcp.engine};
	int err = pcd_udp_listen_all(&dw->udp, &how, addrs, n, dns->port);
	return err != 0 ? err : pcd_xdp_open_all(&dw->xdp, room, worker, &dns->xdp, xdp_event, dw);
}

static void dns_close(const struct pcd_room *room, void *state)
{
	struct dns_worker *dw = state;
	pcd_conn_room_close(room, &dw->tcp);
	pcd_xdp_close_all(&dw->xdp);
	pcd_udp_close_all(&dw->udp);
	for (unsigned i = 0; i < PCD_UDP_MAX_LISTEN; i++)
		pc_dns_scratch_free(dw->udp_calls[i].scratch);
	pc_dns_scratch_free(dw->scratch);
}

static const char *outcome_name(unsigned i, char *buf, size_t size)
{
	(void)buf;
	(void)size;
	return pc_dns_class_name((enum pc_dns_class)i);
}

static void dns_metrics(const struct pcd_room *room, FILE *out)
{
	pcd_role_metrics_responses(out, room, "DNS queries by outcome.", "outcome", outcome_name,
	                           PC_DNS__CLASS_COUNT,
	                           offsetof(struct dns_worker, counters[0].by_class));
	pcd_role_metrics_common(out, room, "DNS answers",
	                        offsetof(struct dns_worker, counters[0].by_branch), counter_names,
	                        C__COUNT, offsetof(struct dns_worker, counters[0].misc));
	/* The engine's counters under DNS's names; a closed peer that does
	 * not read its answers (the engine's header timeout) is a timeout too. */
	static const char *const tcp_names[] = {"tcp_accepted", "tcp_refused"};
	pcd_role_metrics_counters(
	    out, room, tcp_names, 2,
	    offsetof(struct dns_worker, counters[0].tcp.n[PCD_CONN_ACCEPTED]));
	uint64_t timeouts =
	    pcd_role_counter_sum(
	        room, offsetof(struct dns_worker, counters[0].tcp.n[PCD_CONN_IDLE_TIMEOUT])) +
	    pcd_role_counter_sum(
	        room, offsetof(struct dns_worker, counters[0].tcp.n[PCD_CONN_HEADER_TIMEOUT]));
	fprintf(out,
	        "# TYPE peercdn_dns_tcp_timeout_total counter\n"
	        "peercdn_dns_tcp_timeout_total %llu\n",
	        (unsigned long long)timeouts);
	static const char *const xdp_names[PCD_XDP__COUNT] = {"xdp_queries", "xdp_answers",
	                                                      "xdp_no_frame"};
	pcd_role_metrics_counters(out, room, xdp_names, PCD_XDP__COUNT,
	                          offsetof(struct dns_worker, counters[0].xdp));
}

static unsigned dns_check_host(const void *settings, const char *source, FILE *out)
{
	return pcd_xdp_check(&((const struct pc_dns_params *)settings)->xdp, "dns", source, out);
}

const struct pcd_role pcd_role_dns = {
    .name = "dns",
    .settings = &pc_dns_section,
    .listen = dns_listen,
    .needs_restart = dns_needs_restart,
    .check_host = dns_check_host,
    .generation_new = dns_generation_new,
    .generation_free = dns_generation_free,
    .start = pcd_conn_room_start,
    .stop = pcd_conn_room_stop,
    .state_size = sizeof(struct dns_worker),
    .counter_copies = 1 + PCD_UDP_MAX_LISTEN,
    .counter_stride = sizeof(struct counters),
    .open = dns_open,
    .tick = pcd_conn_room_tick,
    .close = dns_close,
    .metrics = dns_metrics,
};
