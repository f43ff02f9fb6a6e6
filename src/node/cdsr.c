/* The CDSR responder role (docs/cdsr.md): one request datagram in, one
 * answer datagram out, on the CDSR anycast addresses. The answer is
 * lib/cdsr_answer; this file batches datagrams (node/udp: a thread per
 * socket; node/xdp on the workers), limits the rate per client prefix and
 * counts. */
#include <errno.h>
#include <stdlib.h>

#include "lib/proto/cdsr_answer.h"
#include "lib/proto/cdsr_settings.h"
#include "lib/proto/rrl.h"
#include "node/net.h"
#include "node/node.h"
#include "node/udp.h"
#include "node/xdp.h"

enum counter { C_RECEIVED, C_OVERSIZE, C_RATE_LIMITED, C_RATE_DROPPED, C__COUNT };
static const char *const counter_names[C__COUNT] = {"requests", "oversize", "rate_limited",
                                                    "rate_dropped"};

/* One copy per writer: [0] the worker's (XDP), [1 + i] the thread of UDP
 * socket i; each on cache lines of its own. */
struct counters {
	_Alignas(64) _Atomic uint64_t by_status[PC_CDSR__STATUS_COUNT + 1]; /* the last: dropped */
	_Atomic uint64_t by_branch[4];
	_Atomic uint64_t misc[C__COUNT];
	struct pcd_xdp_counters xdp;
};

/* What the role makes per config generation. */
struct cdsr_generation {
	pc_rrl *rrl;                /* requests per client prefix */
	pc_cdsr_prebuilt *prebuilt; /* what the answers need of the model, built once */
};

/* What a thread answering datagrams (a UDP socket's, or the worker for
 * XDP) counts into, and what a batch needs of its generation, looked up
 * once per batch (prepare): the answer context too, of which an answer
 * sets only the client and the time. */
struct udp_call {
	struct cdsr_worker *cw;
	struct counters *counters;
	const struct cdsr_generation *state;
	struct pc_answer_ctx actx;
};

struct cdsr_worker {
	const struct pcd_room *room;
	struct pcd_udp_sockets sockets;
	struct pcd_udp_lane lanes[PCD_UDP_MAX_LISTEN];
	struct udp_call calls[PCD_UDP_MAX_LISTEN];
	struct pcd_xdp_sockets xdp;
	struct counters counters[1 + PCD_UDP_MAX_LISTEN];
};

static size_t answer(void *ctx, struct pcd_generation *gen, const uint8_t *in, size_t len,
                     const pc_addr *source, uint64_t now_ms, uint8_t *out, size_t out_size)
{
	struct udp_call *call = ctx;
	struct counters *counters = call->counters;
	/* The limit comes before the answer: a flood must not cost decisions. */
	switch (pc_rrl_check(call->state->rrl, source, now_ms)) {
	case PC_RRL_PASS:
		break;
	case PC_RRL_SLIP: {
		PCD_BUMP(counters->misc[C_RATE_LIMITED]);
		int n = pc_cdsr_error_write(in, len, PC_CDSR_RATE_LIMITED, out, out_size);
		if (n > 0) {
			PCD_BUMP(counters->by_status[PC_CDSR_RATE_LIMITED]);
			return (size_t)n;
		}
		PCD_BUMP(counters->by_status[PC_CDSR__STATUS_COUNT]);
		return 0;
	}
	case PC_RRL_DROP:
		PCD_BUMP(counters->misc[C_RATE_DROPPED]);
		return 0;
	}
	(void)gen; /* the batch's, in call->actx */
	call->actx.source = *source;
	call->actx.now_ms = now_ms;
	struct pc_cdsr_query query = {.wire = in, .len = len, .prebuilt = call->state->prebuilt};
	struct pc_cdsr_result res;
	size_t n = pc_cdsr_answer(&call->actx, &query, out, out_size, &res);
	PCD_BUMP(counters->by_status[res.status < PC_CDSR__STATUS_COUNT ? res.status
	                                                                : PC_CDSR__STATUS_COUNT]);
	if (res.decided && res.decision.branch < 4)
		PCD_BUMP(counters->by_branch[res.decision.branch]);
	return n;
}

static void prepare(void *ctx, struct pcd_generation *gen)
{
	struct udp_call *call = ctx;
	call->state = pcd_room_generation_state(call->cw->room, gen);
	call->actx = pcd_answer_ctx(call->cw->room->node, gen, &(pc_addr){.family = PC_AF_NONE}, 0);
}

/* The same answers to the frames of an AF_XDP socket (node/xdp.h). */
static void xdp_event(struct pcd_io *io, struct pcd_worker *worker, uint32_t events)
{
	(void)events;
	struct cdsr_worker *cw = ((struct pcd_xdp_socket *)io)->ctx;
	struct pcd_generation *gen = pcd_node_generation(worker->node);
	struct udp_call call = {.cw = cw, .counters = &cw->counters[0]};
	prepare(&call, gen);
	pcd_xdp_serve(io, gen, answer, &call, &cw->counters[0].xdp);
}

static struct pcd_listen cdsr_listen(const void *settings)
{
	const struct pc_cdsr_params *cdsr = settings;
	return (struct pcd_listen){cdsr->enabled, cdsr->port, &cdsr->listen};
}

static void cdsr_generation_free(void *state)
{
	struct cdsr_generation *cg = state;
	if (cg == NULL)
		return;
	pcd_udp_rrl_free(cg->rrl);
	pc_cdsr_prebuilt_free(cg->prebuilt);
	free(cg);
}

/* The generation's rate limit per client prefix: every second request
 * over the rate gets RATE_LIMITED (the client backs off), the others are
 * dropped. And what the answers need of its model, built once. */
static int cdsr_generation_new(const struct pcd_room *room, const struct pcd_generation *gen,
                               void **state)
{
	const struct pc_cdsr_params *cdsr = pcd_room_settings(room, gen);
	struct cdsr_generation *cg = calloc(1, sizeof(*cg));
	if (cg == NULL)
		return -ENOMEM;
	void *rrl = NULL;
	int err = pcd_udp_rrl_new(
	    (struct pc_rrl_params){
	        .rate = cdsr->rate, .slip = 2, .prefix4 = cdsr->prefix4, .prefix6 = cdsr->prefix6},
	    &rrl);
	cg->rrl = rrl;
	if (err == 0 && cdsr->enabled) /* NULL answers the same, only slower */
		err = pc_cdsr_prebuilt_new(gen->model, &cg->prebuilt);
	if (err != 0) {
		cdsr_generation_free(cg);
		return err;
	}
	*state = cg;
	return 0;
}

static int cdsr_open(const struct pcd_room *room, struct pcd_worker *worker, void *state)
{
	struct cdsr_worker *cw = state;
	cw->room = room;
	pc_addr addrs[PCD_UDP_MAX_LISTEN];
	uint16_t port;
	unsigned n = pcd_room_listen_addresses(room, pcd_node_generation(room->node), addrs,
	                                       PCD_UDP_MAX_LISTEN, &port);
	for (unsigned i = 0; i < n; i++) {
		struct counters *counters = &cw->counters[1 + i];
		cw->calls[i] = (struct udp_call){.cw = cw, .counters = counters};
		cw->lanes[i] = (struct pcd_udp_lane){&cw->calls[i], &counters->misc[C_RECEIVED],
		                                     &counters->misc[C_OVERSIZE]};
	}
	struct pcd_udp_listen how = {.room = room,
	                             .worker = worker,
	                             .answer = answer,
	                             .prepare = prepare,
	                             .lanes = cw->lanes};
	int err = n > 0 ? pcd_udp_listen_all(&cw->sockets, &how, addrs, n, port) : -EINVAL;
	const struct pc_cdsr_params *cdsr =
	    pcd_room_settings(room, pcd_node_generation(room->node));
	return err != 0 ? err : pcd_xdp_open_all(&cw->xdp, room, worker, &cdsr->xdp, xdp_event, cw);
}

static void cdsr_close(const struct pcd_room *room, void *state)
{
	(void)room;
	pcd_xdp_close_all(&((struct cdsr_worker *)state)->xdp);
	pcd_udp_close_all(&((struct cdsr_worker *)state)->sockets);
}

/* by_status[PC_CDSR__STATUS_COUNT] counts requests dropped unanswered. */
static const char *status_name(unsigned i, char *buf, size_t size)
{
	(void)buf;
	(void)size;
	return pc_cdsr_status_name(i < PC_CDSR__STATUS_COUNT ? i : PC_CDSR_DROPPED);
}

static void cdsr_metrics(const struct pcd_room *room, FILE *out)
{
	pcd_role_metrics_responses(out, room, "CDSR requests by the status answered.", "status",
	                           status_name, PC_CDSR__STATUS_COUNT + 1,
	                           offsetof(struct cdsr_worker, counters[0].by_status));
	pcd_role_metrics_common(out, room, "CDSR answers",
	                        offsetof(struct cdsr_worker, counters[0].by_branch), counter_names,
	                        C__COUNT, offsetof(struct cdsr_worker, counters[0].misc));
	static const char *const xdp_names[PCD_XDP__COUNT] = {"xdp_requests", "xdp_answers",
	                                                      "xdp_no_frame"};
	pcd_role_metrics_counters(out, room, xdp_names, PCD_XDP__COUNT,
	                          offsetof(struct cdsr_worker, counters[0].xdp));
}

static unsigned cdsr_check_host(const void *settings, const char *source, FILE *out)
{
	return pcd_xdp_check(&((const struct pc_cdsr_params *)settings)->xdp, "cdsr", source, out);
}

const struct pcd_role pcd_role_cdsr = {
    .name = "cdsr",
    .settings = &pc_cdsr_section,
    .listen = cdsr_listen,
    .check_host = cdsr_check_host,
    .generation_new = cdsr_generation_new,
    .generation_free = cdsr_generation_free,
    .state_size = sizeof(struct cdsr_worker),
    .counter_copies = 1 + PCD_UDP_MAX_LISTEN,
    .counter_stride = sizeof(struct counters),
    .open = cdsr_open,
    .close = cdsr_close,
    .metrics = cdsr_metrics,
};
