/* See redirect.h. Moved here from cdsr_answer.c when the HTTP and RTSP
 * redirectors came, so that the three wire roles cannot drift apart. */
#include "lib/proto/redirect.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/base/err.h"

const char *pc_redirect_outcome_name(unsigned outcome)
{
	static const char *const names[PC_REDIRECT__COUNT] = {
	    "ok",        "bad_url", "not_authoritative", "no_such_content", "signature_required",
	    "no_server", "error"};
	return outcome < PC_REDIRECT__COUNT ? names[outcome] : "unknown";
}

void pc_redirect_prefs_init(struct pc_redirect_prefs *prefs)
{
	memset(prefs, 0, sizeof(*prefs));
	prefs->preferred_cdn = PC_NONE;
}

/* pc_url_parse's failures as outcomes. A host under a CDN this node does
 * not serve is NOT_AUTHORITATIVE whatever else is wrong with the URL: a
 * node says nothing about other CDNs' customers. */
static enum pc_redirect_outcome url_outcome(const pc_model *model, uint32_t node, const pc_url *url,
                                            int rc)
{
	if (url->host_len > 0) {
		size_t codepoint_len;
		uint32_t cdn =
		    pc_model_cdn_for_name(model, url->host, url->host_len, &codepoint_len);
		if (cdn == PC_NONE || !pc_model_node_serves(model, node, cdn))
			return PC_REDIRECT_NOT_AUTHORITATIVE;
	}
	switch (rc) {
	case PC_ENOZONE:
		return PC_REDIRECT_NOT_AUTHORITATIVE;
	case PC_ENOCUSTOMER:
	case PC_ENOSERVICE:
	case PC_ENOORIGIN:
	case PC_EDECRYPT:
		return PC_REDIRECT_NO_SUCH_CONTENT;
	default:
		return PC_REDIRECT_BAD_URL;
	}
}

enum pc_redirect_outcome pc_redirect_check(const struct pc_answer_ctx *ctx, const char *url,
                                           size_t url_len, pc_url *out)
{
	const pc_model *model = ctx->model;
	uint32_t node = ctx->node;
	int rc = pc__url_parse_hosts(model, ctx->hosts, url, url_len, out);
	if (rc != PC_OK)
		return url_outcome(model, node, out, rc);
	if (!pc_model_node_serves(model, node, out->name.cdn))
		return PC_REDIRECT_NOT_AUTHORITATIVE;
	if (!pc_name_signature_ok(model, &out->name))
		return PC_REDIRECT_SIGNATURE_REQUIRED;
	return PC_REDIRECT_OK;
}

/* The server's address: the wanted family, else the family the request
 * came over (the client has it), else the first. */
static const pc_addr *pick_address(const struct pc_server *server, uint8_t wanted,
                                   uint8_t source_family)
{
	const struct pc_addr_list *list = &server->addresses;
	uint8_t order[2] = {wanted, wanted == PC_AF_NONE ? source_family : wanted};
	for (int k = 0; k < 2; k++)
		for (uint32_t a = 0; a < list->count; a++)
			if (list->items[a].family == order[k])
				return &list->items[a];
	if (wanted != PC_AF_NONE || list->count == 0)
		return NULL;
	return &list->items[0];
}

static uint16_t default_port(enum pc_scheme scheme)
{
	return scheme == PC_SCHEME_HTTPS ? 443 : scheme == PC_SCHEME_RTSP ? 554 : 80;
}

static uint16_t server_port(const struct pc_server *server, enum pc_scheme scheme)
{
	uint16_t port = scheme == PC_SCHEME_HTTP   ? server->http_port
	                : scheme == PC_SCHEME_RTSP ? server->rtsp_port
	                                           : 0; /* no TLS port of their own in the model */
	return port != 0 ? port : default_port(scheme);
}

/* pc_answer_sends_fn: a redirect goes to servers[0] when it has an
 * address the client can be given; arg is the target, which keeps it. */
static bool sends_to_server(const struct pc_answer_ctx *ctx, const pc_request *req,
                            const pc_decision *decision, void *arg)
{
	struct pc_redirect_target *target = arg;
	target->address = pick_address(&ctx->model->servers[decision->servers[0]], req->family,
	                               ctx->source.family);
	return target->address != NULL;
}

static enum pc_redirect_outcome decide(const struct pc_answer_ctx *ctx, pc_request req,
                                       const struct pc_redirect_prefs *prefs, const pc_url *url,
                                       struct pc_redirect_target *out);

enum pc_redirect_outcome pc_redirect_decide(const struct pc_answer_ctx *ctx,
                                            const struct pc_redirect_prefs *prefs,
                                            const pc_url *url, struct pc_redirect_target *out)
{
	pc_request req;
	pc_answer_request_init(ctx, &req);
	return decide(ctx, req, prefs, url, out);
}

enum pc_redirect_outcome pc_redirect_decide_blank(const struct pc_answer_ctx *ctx,
                                                  const pc_request *blank,
                                                  const struct pc_redirect_prefs *prefs,
                                                  const pc_url *url, struct pc_redirect_target *out)
{
	pc_request req = *blank; /* a copy, not a memset and a loop per answer */
	req.client = ctx->source;
	req.node = ctx->node;
	req.now_ms = ctx->now_ms;
	return decide(ctx, req, prefs, url, out);
}

static inline __attribute__((always_inline)) enum pc_redirect_outcome
decide(const struct pc_answer_ctx *ctx, pc_request req, const struct pc_redirect_prefs *prefs,
       const pc_url *url, struct pc_redirect_target *out)
{
	req.provider = url->name.provider;
	req.service = url->name.service;
	req.object = url->name.object;
	req.object_len = url->name.object_len;
	req.max_answers = 1;
	if (prefs != NULL) {
		req.preferred_cdn = prefs->preferred_cdn;
		req.n_avoid = prefs->n_avoid < PC_MAX_AVOID ? prefs->n_avoid : PC_MAX_AVOID;
		if (req.n_avoid > 0) /* seldom: no call for nothing */
			memcpy(req.avoid, prefs->avoid, req.n_avoid * sizeof(req.avoid[0]));
		req.family = prefs->family;
	}
	out->address = NULL;
	int rc = pc_answer_decide(ctx, &req, &out->decision, sends_to_server, out);
	if (rc == PC_ENOSERVER)
		return PC_REDIRECT_NO_SERVER;
	if (rc != PC_OK || out->decision.n_servers == 0)
		return PC_REDIRECT_ERROR;
	out->server = out->decision.servers[0];
	if (out->address == NULL)
		return PC_REDIRECT_NO_SERVER;
	out->port = server_port(&ctx->model->servers[out->server], url->scheme);
	return PC_REDIRECT_OK;
}

const char *pc_redirect_scheme_text(enum pc_scheme scheme)
{
	return scheme == PC_SCHEME_HTTPS ? "https" : scheme == PC_SCHEME_RTSP ? "rtsp" : "http";
}

size_t pc_redirect_location(const pc_url *url, const struct pc_redirect_target *target, char *out,
                            size_t out_size)
{
	char address[64];
	if (pc_addr_format(target->address, address, sizeof(address)) < 0)
		return 0;
	const char *open = target->address->family == PC_AF_INET6 ? "[" : "";
	const char *close = target->address->family == PC_AF_INET6 ? "]" : "";
	char port[8] = "";
	if (target->port != default_port(url->scheme))
		snprintf(port, sizeof(port), ":%u", (unsigned)target->port);
	int n = snprintf(out, out_size, "%s://%s%s%s%s/%.*s%.*s%s%.*s",
	                 pc_redirect_scheme_text(url->scheme), open, address, close, port,
	                 (int)url->content_host_len, url->content_host, (int)url->path_len,
	                 url->path, url->query != NULL ? "?" : "", (int)url->query_len,
	                 url->query != NULL ? url->query : "");
	return n > 0 && (size_t)n < out_size ? (size_t)n : 0;
}

enum pc_redirect_outcome pc_redirect_url(const struct pc_redirect_env *env, const char *url,
                                         size_t url_len, char *location, size_t location_size,
                                         struct pc_redirect_result *result)
{
	pc_url parsed;
	enum pc_redirect_outcome outcome = pc_redirect_check(&env->answer, url, url_len, &parsed);
	if (outcome == PC_REDIRECT_OK) {
		struct pc_redirect_target target;
		outcome = pc_redirect_decide(&env->answer, NULL, &parsed, &target);
		if (outcome == PC_REDIRECT_OK) {
			result->decided = true;
			result->decision = target.decision;
			if (pc_redirect_location(&parsed, &target, location, location_size) == 0)
				outcome = PC_REDIRECT_ERROR;
		}
	}
	result->outcome = outcome;
	return outcome;
}

void pc_redirect_date(uint64_t now_s, char out[PC_REDIRECT_DATE_SIZE])
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)now_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, PC_REDIRECT_DATE_SIZE, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	         days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	         (tm.tm_year + 1900) % 10000, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
