/* cdsr_answer: the CDSR redirector of the patent's §4 — one request
 * datagram in, one response datagram out. The URL is parsed (naming),
 * checked against the CDNs this node serves and the provider's signature
 * policy, decided (lib/redirect's object decision, with the client's
 * preferences of claim 19) and answered with the chosen server, its
 * validity, reuse scope and hints.
 * Pure: no sockets, no clock, no globals; the CDSR role of the daemon
 * wraps it (batching, rate limiting, counters), the fuzz target and unit
 * tests call it directly. The wire format is lib/cdsr.h (docs/cdsr.md). */
#ifndef PC_LIB_CDSR_ANSWER_H
#define PC_LIB_CDSR_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/policy/answer.h"
#include "lib/policy/policy.h"
#include "lib/proto/cdsr.h"

/* Seconds an answer stays valid when the serving CDN's dns_ttl is 0. DNS
 * answers default to TTL 0 because resolvers cache them for everyone
 * behind them; a CDSR answer is made for one client and kept by that
 * client only, so a short validity saves a round trip per URL without
 * letting a shared cache pin a crowd to one server (docs/cdsr.md §7). */
#define PC_CDSR_VALIDITY_DEFAULT 30

/* The datagram; who sent it, to which node and when is the answer context
 * (ctx->source: the datagram's source address). */
struct pc_cdsr_query {
	const uint8_t *wire;
	size_t len;
	/* What was built for ctx->model at load (pc_cdsr_prebuilt_new); NULL:
	 * everything per answer. The answer is the same either way. */
	const struct pc_cdsr_prebuilt *prebuilt;
};

/* What an answer needs that depends on the model only, built once per
 * model: the prefix hints of each plain host ("<customer>.<CDN domain>")
 * per scheme, in wire form, for the CDNs the model's own node serves
 * (the URL's host is read with ctx->hosts, which every role shares).
 * Immutable: any number of threads may read it. */
typedef struct pc_cdsr_prebuilt pc_cdsr_prebuilt;

/* Returns PC_OK or PC_ENOMEM; *out is freed with pc_cdsr_prebuilt_free and
 * keeps no pointer into model. */
int pc_cdsr_prebuilt_new(const pc_model *model, pc_cdsr_prebuilt **out);
void pc_cdsr_prebuilt_free(pc_cdsr_prebuilt *prebuilt); /* NULL is fine */

struct pc_cdsr_result {
	uint8_t status; /* enum pc_cdsr_status sent, or PC_CDSR_DROPPED */
	bool decided;   /* decision below is valid */
	pc_decision decision;
};

/* Answers query in ctx into out. The response is never longer than query->len
 * (nor out_size; PC_CDSR_REQUEST_MAX is always enough). Returns the
 * response length, or 0 when the datagram is dropped (not a CDSR request,
 * or too short even for an error header). sodium_init() must have run
 * (naming). Any number of threads may answer at once over one model and
 * live state. */
size_t pc_cdsr_answer(const struct pc_answer_ctx *ctx, const struct pc_cdsr_query *query,
                      uint8_t *out, size_t out_size, struct pc_cdsr_result *res);

#endif
