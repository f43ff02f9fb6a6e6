/* See answer.h. The key derivation and the remember rule were in the DNS
 * answer and again in lib/redirect; they are here once. */
#include "lib/policy/answer.h"

#include "lib/base/err.h"
#include "lib/base/strmap.h"
#include "lib/policy/report.h"

void pc_answer_request_init(const struct pc_answer_ctx *ctx, pc_request *req)
{
	pc_request_init(req);
	req->client = ctx->source;
	req->node = ctx->node;
	req->now_ms = ctx->now_ms;
}

/* The object's memory is per provider and service: "ad102" of two
 * customers are two objects. The object text is case-insensitive, as
 * names are. */
static uint64_t object_key(const pc_request *req)
{
	return pc_hash_ci(req->object, req->object_len) ^
	       ((uint64_t)req->provider << 32 | req->service) * 0x9e3779b97f4a7c15ULL;
}

int pc_answer_decide(const struct pc_answer_ctx *ctx, pc_request *req, pc_decision *out,
                     pc_answer_sends_fn *sends, void *arg)
{
	uint64_t key = object_key(req);
	req->sticky_server = pc_affinity_lookup(ctx->affinity, key, ctx->now_ms);
	int rc = pc_policy_decide(ctx->model, ctx->live, req, out, NULL);
	if (rc == PC_OK && out->n_servers > 0 && sends != NULL && sends(ctx, req, out, arg)) {
		pc_affinity_remember(ctx->affinity, key, out->servers[0], ctx->now_ms);
		/* Claim 3: the provider hears of the answers that send a client
		 * to a server outside its primary CDNs, once each: an answer
		 * naming redirectors is decided (and reported) again there. */
		if (ctx->report != NULL && pc_report_due(out))
			ctx->report(ctx->report_arg, ctx, req, out);
	}
	return rc;
}
