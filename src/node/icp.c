/* The ICP responder role (RFC 2186, docs/icp.md): legacy caches (Squid)
 * that have this node as their parent ask it, one datagram per URL,
 * whether it holds the object. The codec is lib/proto/icp; what is held
 * is the edge's (node/edge.h, one call); this file batches datagrams
 * (node/udp), applies the allow list and the overload threshold, and
 * counts. Malformed datagrams and messages that are not queries get no
 * answer: an answer to an answer could loop between two caches. */
#include <errno.h>
#include <stdlib.h>

#include "lib/base/err.h"
#include "lib/proto/icp.h"
#include "lib/proto/icp_settings.h"
#include "node/edge.h"
#include "node/log.h"
#include "node/net.h"
#include "node/node.h"
#include "node/udp.h"

/* The answers sent, by opcode. */
enum answer { A_HIT, A_MISS, A_MISS_NOFETCH, A_DENIED, A_ERR, A__COUNT };
static const uint8_t answer_opcodes[A__COUNT] = {
    PC_ICP_OP_HIT, PC_ICP_OP_MISS, PC_ICP_OP_MISS_NOFETCH, PC_ICP_OP_DENIED, PC_ICP_OP_ERR,
};

/* Drops by reason: the parser's faults (index 0, none, unused), then
 * datagrams over PCD_UDP_MAX, which the UDP loop drops unread. */
enum { D_OVERSIZE = PC_ICP_FAULT__COUNT, D__COUNT };

struct counters {
	_Atomic uint64_t answers[A__COUNT];
	_Atomic uint64_t dropped[D__COUNT];
	_Atomic uint64_t received;
};

struct icp_worker {
	const struct pcd_room *room;
	struct pcd_udp_sockets sockets;
	struct counters counters;
	struct pcd_udp_batch batch;
};

/* Node-wide: queries in the current second, for overload_qps. */
struct icp_shared {
	_Atomic uint64_t second; /* now_ms / 1000 of the window */
	_Atomic uint64_t count;
};

/* Whether this query makes the node's rate over limit (0: never). Two
 * workers crossing a second at once may each restart the count: an
 * estimate off by a few queries is all MISS_NOFETCH needs. */
static bool overloaded(struct icp_shared *shared, uint32_t limit, uint64_t now_ms)
{
	if (limit == 0)
		return false;
	uint64_t second = now_ms / 1000;
	uint64_t seen = atomic_load_explicit(&shared->second, memory_order_relaxed);
	if (seen != second &&
	    atomic_compare_exchange_strong_explicit(&shared->second, &seen, second,
	                                            memory_order_relaxed, memory_order_relaxed))
		atomic_store_explicit(&shared->count, 0, memory_order_relaxed);
	return atomic_fetch_add_explicit(&shared->count, 1, memory_order_relaxed) >= limit;
}

/* What this node answers an allowed query for a usable URL. */
static enum answer lookup(const struct pcd_room *room, const struct pc_icp_params *icp,
                          const struct pc_icp_message *query, uint64_t now_ms)
{
	switch (pcd_edge_icp_lookup(room->node, query->url, query->url_len)) {
	case PCD_EDGE_ICP_HIT:
		return A_HIT;
	case PCD_EDGE_ICP_MISS:
		/* RFC 2186 §2.1: MISS_NOFETCH asks the child to go elsewhere
		 * while we are too busy to fetch. */
		return overloaded(room->shared, icp->overload_qps, now_ms) ? A_MISS_NOFETCH
		                                                           : A_MISS;
	case PCD_EDGE_ICP_MISS_NOFETCH:
		return A_MISS_NOFETCH;
	case PCD_EDGE_ICP_DENIED:
		break;
	}
	return A_DENIED;
}

static size_t answer(void *ctx, struct pcd_generation *gen, const uint8_t *in, size_t len,
                     const pc_addr *source, uint64_t now_ms, uint8_t *out, size_t out_size)
{
	struct icp_worker *iw = ctx;
	struct pc_icp_message query;
	if (pc_icp_parse(in, len, &query) != PC_OK) {
		PCD_BUMP(
		    iw->counters.dropped[query.fault < PC_ICP_FAULT__COUNT ? query.fault
		                                                           : PC_ICP_FAULT_SHORT]);
		return 0;
	}
	/* RFC 2186 §2.1: a responder answers queries; replies we never asked
	 * for, ERR, INVALID and the echo opcodes are ignored. */
	if (query.opcode != PC_ICP_OP_QUERY) {
		PCD_BUMP(iw->counters.dropped[PC_ICP_FAULT_OPCODE]);
		return 0;
	}
	const struct pc_icp_params *icp = pcd_room_settings(iw->room, gen);
	enum answer a;
	if (!pc_icp_allowed(icp, source))
		a = A_DENIED;
	else if (!pc_icp_url_ok(query.url, query.url_len))
		a = A_ERR; /* RFC 2186 §2.1: an error parsing the query */
	else
		a = lookup(iw->room, icp, &query, now_ms);
	/* Shorter than the query by its requester address: always fits. */
	int n = pc_icp_answer_write(&query, answer_opcodes[a], out, out_size);
	if (n <= 0)
		return 0;
	PCD_BUMP(iw->counters.answers[a]);
	return (size_t)n;
}

static void udp_event(struct pcd_io *io, struct pcd_worker *worker, uint32_t events)
{
	(void)events;
	struct icp_worker *iw = ((struct pcd_udp_socket *)io)->ctx;
	struct pcd_generation *gen = pcd_node_generation(worker->node);
	pcd_udp_serve(io->fd, &iw->batch, gen, answer, iw, &iw->counters.received,
	              &iw->counters.dropped[D_OVERSIZE]);
}

static struct pcd_listen icp_listen(const void *settings)
{
	const struct pc_icp_params *icp = settings;
	return (struct pcd_listen){icp->enabled, icp->port, &icp->listen};
}

static int icp_start(struct pcd_room *room)
{
	room->shared = calloc(1, sizeof(struct icp_shared));
	return room->shared != NULL ? 0 : -ENOMEM;
}

static void icp_stop(struct pcd_room *room)
{
	free(room->shared);
	room->shared = NULL;
}

/* The configured addresses, else the node's own: ICP has no anycast
 * address, a child names its parent by a unicast one. */
static unsigned listen_addresses(const struct pcd_room *room, const struct pcd_generation *gen,
                                 pc_addr *out, unsigned max, uint16_t *port)
{
	const struct pc_icp_params *icp = pcd_room_settings(room, gen);
	const struct pc_addr_list *addrs = &icp->listen;
	if (addrs->count == 0 && gen->model->self_node != PC_NONE)
		addrs = &gen->model->nodes[gen->model->self_node].addresses;
	unsigned n = 0;
	for (uint32_t i = 0; i < addrs->count && n < max; i++)
		out[n++] = addrs->items[i];
	*port = icp->port;
	if (n == 0)
		pcd_log(PCD_LOG_ERROR, "no-listen",
		        "role=icp hint=\"set icp.listen or the addresses of the node\"");
	return n;
}

static int icp_open(const struct pcd_room *room, struct pcd_worker *worker, void *state)
{
	struct icp_worker *iw = state;
	iw->room = room;
	pc_addr addrs[PCD_UDP_MAX_LISTEN];
	uint16_t port;
	unsigned n = listen_addresses(room, pcd_node_generation(room->node), addrs,
	                              PCD_UDP_MAX_LISTEN, &port);
	struct pcd_udp_listen how = {
	    .room = room, .worker = worker, .on_event = udp_event, .ctx = iw};
	return n > 0 ? pcd_udp_listen_all(&iw->sockets, &how, addrs, n, port) : -EINVAL;
}

static void icp_close(const struct pcd_room *room, void *state)
{
	(void)room;
	pcd_udp_close_all(&((struct icp_worker *)state)->sockets);
}

static void icp_metrics(const struct pcd_room *room, FILE *out)
{
	fputs("# HELP peercdn_icp_queries_total ICP queries by the answer sent.\n"
	      "# TYPE peercdn_icp_queries_total counter\n",
	      out);
	for (unsigned a = 0; a < A__COUNT; a++)
		fprintf(out, "peercdn_icp_queries_total{answer=\"%s\"} %llu\n",
		        pc_icp_opcode_name(answer_opcodes[a]),
		        (unsigned long long)pcd_role_counter_sum(
		            room, offsetof(struct icp_worker, counters.answers) +
		                      a * sizeof(_Atomic uint64_t)));
	fputs("# HELP peercdn_icp_dropped_total ICP datagrams dropped unanswered, by reason.\n"
	      "# TYPE peercdn_icp_dropped_total counter\n",
	      out);
	for (unsigned d = 1; d < D__COUNT; d++)
		fprintf(out, "peercdn_icp_dropped_total{reason=\"%s\"} %llu\n",
		        d == D_OVERSIZE ? "oversize" : pc_icp_fault_name(d),
		        (unsigned long long)pcd_role_counter_sum(
		            room, offsetof(struct icp_worker, counters.dropped) +
		                      d * sizeof(_Atomic uint64_t)));
	static const char *const names[] = {"datagrams"};
	pcd_role_metrics_counters(out, room, names, 1,
	                          offsetof(struct icp_worker, counters.received));
}

const struct pcd_role pcd_role_icp = {
    .name = "icp",
    .settings = &pc_icp_section,
    .listen = icp_listen,
    .start = icp_start,
    .stop = icp_stop,
    .state_size = sizeof(struct icp_worker),
    .open = icp_open,
    .close = icp_close,
    .metrics = icp_metrics,
};
