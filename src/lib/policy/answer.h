/* answer: what every redirector role (DNS, CDSR, HTTP, RTSP) shares when it
 * answers one request — the context the answer is made in, and the object
 * decision: the policy's choice of servers, with the affinity memory looked
 * up before it and recorded after it. The roles differ only in how the
 * request arrives and how the answer is written (lib/proto); the decision
 * and its memory live here once, so the four cannot drift apart.
 *
 * Pure: no I/O, no clock, no globals, no allocation; any number of threads
 * over one model, live state and affinity table. */
#ifndef PC_LIB_ANSWER_H
#define PC_LIB_ANSWER_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/model/live.h"
#include "lib/model/model.h"
#include "lib/policy/affinity.h"
#include "lib/policy/policy.h"

/* The context of one answer: the generation's state and who asks. Built
 * by the caller (on its stack, per request or per batch) and only read
 * here; the pointers are borrowed from the model generation. */
struct pc_answer_ctx;
struct pc_hosts; /* lib/naming/hosts.h */

/* Claim 3: told of every PEER and OUTSIDE decision whose answer sends the
 * client to decision->servers[0] (the same answers the affinity memory
 * remembers), on the answering thread, while req's object is still valid.
 * It must not block (the daemon queues the record: node/reports.c). */
typedef void pc_answer_report_fn(void *arg, const struct pc_answer_ctx *ctx, const pc_request *req,
                                 const pc_decision *decision);

struct pc_answer_ctx {
	const pc_model *model;
	pc_live *live;
	pc_affinity *affinity; /* where objects were sent recently; NULL: no memory */
	/* The model's names (lib/naming/hosts.h), built with the generation:
	 * how every role reads a host name. NULL: the name walk, same results. */
	const struct pc_hosts *hosts;
	uint32_t node;               /* capturing node (model->self_node), or PC_NONE: all CDNs */
	pc_addr source;              /* the client as the role sees it (PROXY v2 applied) */
	uint64_t now_ms;             /* wall clock: agreements, affinity, Date headers */
	pc_answer_report_fn *report; /* NULL: no reports */
	void *report_arg;
};

/* pc_request_init, then the client, node and time from ctx. The caller
 * adds what it parsed (provider, service, object), what it wants (family,
 * max_answers, claim 19's preferences) and may replace the client (an
 * EDNS client subnet). */
void pc_answer_request_init(const struct pc_answer_ctx *ctx, pc_request *req);

/* Whether the answer the caller will write from decision sends the client
 * to decision->servers[0] (called only for a decision with a server). The
 * object is remembered there only then: a DNS answer naming redirectors
 * sends the client to a redirector, which decides (and remembers) again;
 * a redirect whose server has no usable address is not sent at all.
 * arg is the caller's, passed through. */
typedef bool pc_answer_sends_fn(const struct pc_answer_ctx *ctx, const pc_request *req,
                                const pc_decision *decision, void *arg);

/* The object decision. Derives the object's affinity key from req
 * (provider, service and object: "ad102" of two customers are two
 * objects), sets req->sticky_server from the memory, runs
 * pc_policy_decide, and when that succeeds with a server and sends (when
 * not NULL) says the answer goes there, remembers servers[0] for the
 * object and, for a PEER or OUTSIDE decision, calls ctx->report. sends
 * NULL: nothing is remembered or reported (a probe whose answer names no
 * server). Returns pc_policy_decide's result: 0, PC_ENOSERVER or
 * PC_EINVAL; out as pc_policy_decide fills it. */
int pc_answer_decide(const struct pc_answer_ctx *ctx, pc_request *req, pc_decision *out,
                     pc_answer_sends_fn *sends, void *arg);

#endif
