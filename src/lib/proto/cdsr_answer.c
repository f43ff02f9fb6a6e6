/* See cdsr_answer.h. The order of checks: the request's own form, the
 * URL's CDN against the node, the URL itself, the signature, the size of
 * the answer, and only then the decision — so that nothing the policy
 * counts (agreement capacity, affinity) is spent on a request that cannot
 * be answered. */
#include "lib/proto/cdsr_answer.h"

#include <string.h>

#include "lib/base/err.h"
#include "lib/naming/naming.h"
#include "lib/proto/redirect.h"

static size_t error(const struct pc_cdsr_request *req, uint8_t status, uint8_t *out,
                    size_t out_size, struct pc_cdsr_result *res)
{
	struct pc_cdsr_response resp = {
	    .version = PC_CDSR_VERSION, .status = status, .nonce = req->nonce};
	int len = pc_cdsr_response_write(&resp, req->len, out, out_size);
	if (len <= 0)
		return 0;
	res->status = status;
	return (size_t)len;
}

static uint8_t outcome_status(enum pc_redirect_outcome outcome)
{
	static const uint8_t statuses[PC_REDIRECT__COUNT] = {
	    [PC_REDIRECT_OK] = PC_CDSR_OK,
	    [PC_REDIRECT_BAD_URL] = PC_CDSR_BAD_REQUEST,
	    [PC_REDIRECT_NOT_AUTHORITATIVE] = PC_CDSR_NOT_AUTHORITATIVE,
	    [PC_REDIRECT_NO_SUCH_CONTENT] = PC_CDSR_NO_SUCH_CONTENT,
	    [PC_REDIRECT_SIGNATURE_REQUIRED] = PC_CDSR_SIGNATURE_REQUIRED,
	    [PC_REDIRECT_NO_SERVER] = PC_CDSR_NO_SERVER,
	    [PC_REDIRECT_ERROR] = PC_CDSR_SERVER_ERROR,
	};
	return outcome < PC_REDIRECT__COUNT ? statuses[outcome] : PC_CDSR_SERVER_ERROR;
}

/* Claim 19: the client's preferences. Names and addresses that match no
 * server are ignored: a preference is advice, not a condition. */
static void apply_preferences(const pc_model *model, const struct pc_cdsr_request *creq,
                              struct pc_redirect_prefs *prefs)
{
	if (creq->prefer_cdn != NULL)
		prefs->preferred_cdn =
		    pc_model_lookup(model->cdn_by_name, creq->prefer_cdn, creq->prefer_cdn_len);
	for (uint32_t i = 0; i < creq->n_avoid && prefs->n_avoid < PC_MAX_AVOID; i++) {
		const struct pc_cdsr_avoid *avoid = &creq->avoid[i];
		if (avoid->name != NULL) {
			uint32_t server =
			    pc_model_lookup(model->server_by_name, avoid->name, avoid->name_len);
			if (server != PC_NONE)
				prefs->avoid[prefs->n_avoid++] = server;
			continue;
		}
		for (uint32_t s = 0; s < model->n_servers && prefs->n_avoid < PC_MAX_AVOID; s++) {
			const struct pc_addr_list *addresses = &model->servers[s].addresses;
			for (uint32_t a = 0; a < addresses->count; a++) {
				if (pc_addr_equal(&addresses->items[a], &avoid->addr)) {
					prefs->avoid[prefs->n_avoid++] = s;
					break;
				}
			}
		}
	}
	prefs->family = creq->family;
}

static uint8_t wire_scheme(enum pc_scheme scheme)
{
	return scheme == PC_SCHEME_HTTPS  ? PC_CDSR_SCHEME_HTTPS
	       : scheme == PC_SCHEME_RTSP ? PC_CDSR_SCHEME_RTSP
	                                  : PC_CDSR_SCHEME_HTTP;
}

/* Hint texts are built in one buffer no larger than any response can be:
 * a hint that does not fit there would not fit the response either. */
struct hint_text {
	char buf[PC_CDSR_REQUEST_MAX];
	size_t used;
};

static void add_hint(struct pc_cdsr_response *resp, struct hint_text *text, uint8_t kind,
                     const char *parts[], const size_t lens[], int n_parts, bool lower)
{
	if (resp->n_hints >= PC_CDSR_MAX_HINTS)
		return;
	size_t total = 0;
	for (int i = 0; i < n_parts; i++)
		total += lens[i];
	if (total == 0 || total > UINT16_MAX || total > sizeof(text->buf) - text->used)
		return;
	char *start = text->buf + text->used;
	char *p = start;
	for (int i = 0; i < n_parts; i++) {
		for (size_t k = 0; k < lens[i]; k++) {
			char c = parts[i][k];
			*p++ = lower && c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		}
	}
	text->used += total;
	resp->hints[resp->n_hints++] =
	    (struct pc_cdsr_hint){.kind = kind, .text = start, .len = (uint16_t)total};
}

/* Predictive hints (§4.4): the domains whose hosts this CDSR system
 * serves, then the URL prefixes of the provider's origins and directories
 * under the URL's own host. */
static void add_hints(const pc_model *model, const pc_url *url, const pc_decision *decision,
                      struct pc_cdsr_response *resp, struct hint_text *text)
{
	const struct pc_cdn *own = &model->cdns[url->name.cdn];
	const struct pc_cdn *serving = &model->cdns[decision->cdn];
	const char *parts[6];
	size_t lens[6];
	parts[0] = own->domain;
	lens[0] = own->domain_len;
	add_hint(resp, text, PC_CDSR_OPT_HINT_DOMAIN, parts, lens, 1, false);
	if (serving != own) {
		parts[0] = serving->domain;
		lens[0] = serving->domain_len;
		add_hint(resp, text, PC_CDSR_OPT_HINT_DOMAIN, parts, lens, 1, false);
	}
	const struct pc_provider *provider = &model->providers[url->name.provider];
	/* "http://abc.cdn.acme.net" [":8080"] "/" host "/" */
	const char *scheme = pc_redirect_scheme_text(url->scheme);
	/* The authority, port included, is everything up to the '/' before
	 * the content host (pc_url_parse found both). */
	size_t authority_len = (size_t)(url->content_host - 1 - url->host);
	parts[0] = scheme;
	lens[0] = strlen(scheme);
	parts[1] = "://";
	lens[1] = 3;
	parts[2] = url->host;
	lens[2] = authority_len;
	parts[3] = "/";
	lens[3] = 1;
	parts[5] = "/";
	lens[5] = 1;
	for (uint32_t i = 0; i < provider->n_origin_hosts + provider->n_directory_hosts; i++) {
		parts[4] = i < provider->n_origin_hosts
		               ? provider->origin_hosts[i]
		               : provider->directory_hosts[i - provider->n_origin_hosts];
		lens[4] = strlen(parts[4]);
		add_hint(resp, text, PC_CDSR_OPT_HINT_PREFIX, parts, lens, 6, true);
	}
}

size_t pc_cdsr_answer(const struct pc_answer_ctx *ctx, const struct pc_cdsr_query *query,
                      uint8_t *out, size_t out_size, struct pc_cdsr_result *res)
{
	memset(res, 0, sizeof(*res));
	res->status = PC_CDSR_DROPPED;
	if (ctx == NULL || ctx->model == NULL || ctx->live == NULL || query == NULL || out == NULL)
		return 0;
	const pc_model *model = ctx->model;
	struct pc_cdsr_request req;
	int rc = pc_cdsr_request_parse(query->wire, query->len, &req);
	if (!req.header_ok)
		return 0; /* not a request: answering could feed a reflection loop */
	if (rc != PC_OK)
		return error(&req,
		             req.version != PC_CDSR_VERSION ? PC_CDSR_UNSUPPORTED_VERSION
		                                            : PC_CDSR_BAD_REQUEST,
		             out, out_size, res);

	pc_url url;
	enum pc_redirect_outcome outcome = pc_redirect_check(ctx, req.url, req.url_len, &url);
	if (outcome != PC_REDIRECT_OK)
		return error(&req, outcome_status(outcome), out, out_size, res);
	/* The smallest answer of the family asked for must fit before the
	 * policy is asked: a decision counts against agreements. */
	size_t smallest = PC_CDSR_HEADER_LEN + 16 + (req.family == PC_AF_INET6 ? 16 : 4);
	if (req.len < smallest || out_size < smallest)
		return error(&req, PC_CDSR_TOO_SMALL, out, out_size, res);

	struct pc_redirect_prefs prefs;
	pc_redirect_prefs_init(&prefs);
	apply_preferences(model, &req, &prefs);
	struct pc_redirect_target target;
	outcome = pc_redirect_decide(ctx, &prefs, &url, &target);
	if (outcome != PC_REDIRECT_OK)
		return error(&req, outcome_status(outcome), out, out_size, res);
	res->decided = true;
	res->decision = target.decision;
	const pc_decision *decision = &res->decision;

	const struct pc_cdn *serving = &model->cdns[decision->cdn];
	struct pc_cdsr_response resp = {
	    .version = PC_CDSR_VERSION,
	    .status = PC_CDSR_OK,
	    .nonce = req.nonce,
	    .validity_s = serving->dns_ttl != 0 ? serving->dns_ttl : PC_CDSR_VALIDITY_DEFAULT,
	    .reason_flags = decision->flags,
	    .branch = (uint8_t)decision->branch,
	    .reuse = PC_CDSR_REUSE_HOST,
	    .scheme = wire_scheme(url.scheme),
	    .port = target.port,
	    .server = *target.address,
	};
	struct hint_text text;
	text.used = 0;
	if (req.flags & PC_CDSR_F_HINTS)
		add_hints(model, &url, decision, &resp, &text);
	int len = pc_cdsr_response_write(&resp, req.len, out, out_size);
	if (len <= 0)
		return 0;
	res->status = out[PC_CDSR_OFF_STATUS];
	return (size_t)len;
}
