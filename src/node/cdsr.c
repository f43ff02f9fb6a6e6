/* The CDSR responder role (docs/cdsr.md): one request datagram in, one
 * answer datagram out, on the CDSR anycast addresses. The answer is
 * lib/cdsr_answer; this file batches datagrams (node/udp), limits the
 * rate per client prefix and counts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/proto/cdsr_answer.h"
#include "lib/proto/rrl.h"
#include "node/log.h"
#include "node/net.h"
#include "node/node.h"
#include "node/udp.h"

enum { MAX_LISTEN = 16 };

enum counter { C_RECEIVED, C_OVERSIZE, C_RATE_LIMITED, C_RATE_DROPPED, C__COUNT };
static const char *const counter_names[C__COUNT] = {"requests", "oversize", "rate_limited",
                                                    "rate_dropped"};

struct counters {
	_Atomic uint64_t by_status[PC_CDSR__STATUS_COUNT + 1]; /* the last: dropped */
	_Atomic uint64_t by_branch[4];
	_Atomic uint64_t misc[C__COUNT];
};

struct cdsr_worker;

struct listener {
	struct pcd_io io;
	struct cdsr_worker *cw;
};

struct cdsr_worker {
	struct pcd_worker *worker;
	struct listener listeners[MAX_LISTEN];
	unsigned n_listeners;
	struct counters counters;
	struct pcd_udp_batch batch;
};

static size_t answer(void *ctx, struct pcd_generation *gen, const uint8_t *in, size_t len,
                     const pc_addr *source, uint64_t now_ms, uint8_t *out, size_t out_size)
{
	struct cdsr_worker *cw = ctx;
	/* The limit comes before the answer: a flood must not cost decisions. */
	switch (pc_rrl_check(gen->cdsr_rrl, source, now_ms)) {
	case PC_RRL_PASS:
		break;
	case PC_RRL_SLIP: {
		PCD_BUMP(cw->counters.misc[C_RATE_LIMITED]);
		int n = pc_cdsr_error_write(in, len, PC_CDSR_RATE_LIMITED, out, out_size);
		if (n > 0) {
			PCD_BUMP(cw->counters.by_status[PC_CDSR_RATE_LIMITED]);
			return (size_t)n;
		}
		PCD_BUMP(cw->counters.by_status[PC_CDSR__STATUS_COUNT]);
		return 0;
	}
	case PC_RRL_DROP:
		PCD_BUMP(cw->counters.misc[C_RATE_DROPPED]);
		return 0;
	}
	struct pc_answer_ctx actx = pcd_answer_ctx(gen, source, now_ms);
	struct pc_cdsr_query query = {.wire = in, .len = len};
	struct pc_cdsr_result res;
	size_t n = pc_cdsr_answer(&actx, &query, out, out_size, &res);
	PCD_BUMP(
	    cw->counters.by_status[res.status < PC_CDSR__STATUS_COUNT ? res.status
	                                                              : PC_CDSR__STATUS_COUNT]);
	if (res.decided && res.decision.branch < 4)
		PCD_BUMP(cw->counters.by_branch[res.decision.branch]);
	return n;
}

static void udp_event(struct pcd_io *io, struct pcd_worker *worker, uint32_t events)
{
	(void)events;
	struct cdsr_worker *cw = ((struct listener *)io)->cw;
	pcd_udp_serve(io->fd, &cw->batch, pcd_node_generation(worker->node), answer, cw,
	              &cw->counters.misc[C_RECEIVED], &cw->counters.misc[C_OVERSIZE]);
}

static bool cdsr_enabled(const struct pcd_generation *gen)
{
	return gen->cdsr->enabled;
}

static int cdsr_open(struct pcd_node *node, struct pcd_worker *worker)
{
	const struct pcd_generation *gen = pcd_node_generation(node);
	const struct pc_cdsr_params *cdsr = gen->cdsr;
	struct cdsr_worker *cw = calloc(1, sizeof(*cw));
	if (cw == NULL)
		return -ENOMEM;
	cw->worker = worker;
	worker->role_state[pcd_role_cdsr.slot] = cw;
	pc_addr addrs[MAX_LISTEN];
	unsigned n = pcd_listen_addresses(gen->model, &cdsr->listen, "cdsr", addrs, MAX_LISTEN);
	if (n == 0) {
		pcd_log(
		    PCD_LOG_ERROR, "no-listen",
		    "role=cdsr hint=\"set cdsr.listen or the anycast cdsr addresses of the node's "
		    "CDNs\"");
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++) {
		char where[80];
		pcd_net_format(&addrs[i], cdsr->port, where, sizeof(where));
		int fd = pcd_net_bind(SOCK_DGRAM, &addrs[i], cdsr->port);
		if (fd < 0) {
			pcd_log(PCD_LOG_ERROR, "bind-failed", "role=cdsr listen=%s error=\"%s\"",
			        where, strerror(-fd));
			return fd;
		}
		struct listener *l = &cw->listeners[cw->n_listeners++];
		*l = (struct listener){{fd, udp_event}, cw};
		if (pcd_worker_watch(worker, &l->io, EPOLLIN) != 0)
			return -errno;
		if (worker->index == 0)
			pcd_log(PCD_LOG_INFO, "listening", "role=cdsr listen=%s transports=udp",
			        where);
	}
	return 0;
}

static void cdsr_close(struct pcd_worker *worker)
{
	struct cdsr_worker *cw = worker->role_state[pcd_role_cdsr.slot];
	if (cw == NULL)
		return;
	for (unsigned i = 0; i < cw->n_listeners; i++)
		close(cw->listeners[i].io.fd);
}

static uint64_t sum(struct pcd_node *node, size_t offset)
{
	return pcd_role_counter_sum(node, pcd_role_cdsr.slot,
	                            offsetof(struct cdsr_worker, counters) + offset);
}

static void cdsr_metrics(struct pcd_node *node, FILE *out)
{
	fputs("# HELP peercdn_cdsr_responses_total CDSR requests by the status answered.\n"
	      "# TYPE peercdn_cdsr_responses_total counter\n",
	      out);
	for (unsigned s = 0; s <= PC_CDSR__STATUS_COUNT; s++)
		fprintf(out, "peercdn_cdsr_responses_total{status=\"%s\"} %llu\n",
		        pc_cdsr_status_name(s < PC_CDSR__STATUS_COUNT ? s : PC_CDSR_DROPPED),
		        (unsigned long long)sum(node, offsetof(struct counters, by_status[s])));
	pcd_role_metrics_common(out, node, pcd_role_cdsr.slot, "cdsr", "CDSR answers",
	                        offsetof(struct cdsr_worker, counters.by_branch), counter_names,
	                        C__COUNT, offsetof(struct cdsr_worker, counters.misc));
}

const struct pcd_role pcd_role_cdsr = {
    .name = "cdsr",
    .enabled = cdsr_enabled,
    .open = cdsr_open,
    .close = cdsr_close,
    .metrics = cdsr_metrics,
    .slot = 1,
};
