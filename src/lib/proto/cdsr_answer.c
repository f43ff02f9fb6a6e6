/* See cdsr_answer.h. The order of checks: the request's own form, the
 * URL's CDN against the node, the URL itself, the signature, the size of
 * the answer, and only then the decision — so that nothing the policy
 * counts (agreement capacity, affinity) is spent on a request that cannot
 * be answered. */
#include "lib/proto/cdsr_answer.h"

#include <stdlib.h>
#include <string.h>

#include "lib/base/arena.h"
#include "lib/base/ascii.h"
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

/* Hints are written straight into the response. They keep the limits of
 * the response's hint list, so that the same hints are left out as when
 * they were collected first: at most PC_CDSR_MAX_HINTS, none empty, and
 * no more text in all than a request can hold. */
struct hints {
	struct pc_cdsr_ok_writer *w;
	uint32_t n;
	size_t text;
};

static char *hint_space(struct hints *h, uint8_t kind, size_t len)
{
	if (h->n >= PC_CDSR_MAX_HINTS || len == 0 || len > UINT16_MAX ||
	    len > PC_CDSR_REQUEST_MAX - h->text)
		return NULL;
	h->n++;
	h->text += len;
	return (char *)pc_cdsr_ok_option(h->w, kind, len);
}

static void add_domain(struct hints *h, const struct pc_cdn *cdn)
{
	char *p = hint_space(h, PC_CDSR_OPT_HINT_DOMAIN, cdn->domain_len);
	if (p != NULL)
		memcpy(p, cdn->domain, cdn->domain_len);
}

/* The prefix hints of one plain host and scheme, as options in wire form:
 * what add_hints writes one by one for a URL whose authority is host. */
struct hint_block {
	const char *host; /* "<customer>.<CDN domain>", lower case; NULL: no block */
	size_t host_len;
	const uint8_t *options;
	size_t len;  /* bytes of options */
	uint32_t n;  /* hints in it */
	size_t text; /* their text, without the option headers */
};

#define N_SCHEMES 3 /* PC_CDSR_SCHEME_HTTP .. PC_CDSR_SCHEME_RTSP */

/* A CDN's domain hint as an option in wire form. */
struct domain_option {
	const uint8_t *bytes; /* NULL: none (a domain no hint list holds) */
	size_t len;           /* bytes, option header included */
	size_t text;          /* the domain's length */
};

struct pc_cdsr_prebuilt {
	pc_arena *arena; /* hosts and options of the blocks */
	uint32_t n_cdns, n_providers;
	struct hint_block *blocks; /* [(cdn * n_providers + provider) * N_SCHEMES + scheme - 1] */
	struct domain_option *domains; /* [cdn] */
	pc_request blank;              /* pc_request_init's, for pc_redirect_decide_blank */
};

static const char *provider_host(const struct pc_provider *provider, uint32_t i)
{
	return i < provider->n_origin_hosts
	           ? provider->origin_hosts[i]
	           : provider->directory_hosts[i - provider->n_origin_hosts];
}

static int build_block(pc_arena *arena, const pc_model *model, uint32_t c, uint32_t p,
                       enum pc_scheme scheme, struct hint_block *b)
{
	const struct pc_cdn *cdn = &model->cdns[c];
	const struct pc_provider *provider = &model->providers[p];
	size_t customer_len = strlen(provider->name);
	size_t host_len = customer_len + 1 + cdn->domain_len;
	const char *scheme_text = pc_redirect_scheme_text(scheme);
	size_t scheme_len = strlen(scheme_text);
	size_t stem_len = scheme_len + 3 + host_len + 1;
	uint32_t n_hosts = provider->n_origin_hosts + provider->n_directory_hosts;
	size_t len = 0, text = 0;
	for (uint32_t i = 0; i < n_hosts; i++) {
		size_t hint_len = stem_len + strlen(provider_host(provider, i)) + 1;
		len += 4 + hint_len;
		text += hint_len;
	}
	if (text > PC_CDSR_REQUEST_MAX)
		return PC_OK; /* more than any answer holds: left to add_hints */
	char *host = pc_arena_alloc(arena, host_len);
	uint8_t *options = pc_arena_alloc(arena, len > 0 ? len : 1);
	if (host == NULL || options == NULL)
		return PC_ENOMEM;
	pc_ascii_copy_lower(host, provider->name, customer_len);
	host[customer_len] = '.';
	memcpy(host + customer_len + 1, cdn->domain, cdn->domain_len);
	uint8_t *o = options;
	for (uint32_t i = 0; i < n_hosts; i++) {
		const char *origin = provider_host(provider, i);
		size_t origin_len = strlen(origin), hint_len = stem_len + origin_len + 1;
		o[0] = 0;
		o[1] = PC_CDSR_OPT_HINT_PREFIX;
		o[2] = (uint8_t)(hint_len >> 8);
		o[3] = (uint8_t)hint_len;
		char *t = (char *)o + 4;
		memcpy(t, scheme_text, scheme_len);
		memcpy(t + scheme_len, "://", 3);
		memcpy(t + scheme_len + 3, host, host_len);
		t[stem_len - 1] = '/';
		pc_ascii_copy_lower(t + stem_len, origin, origin_len);
		t[stem_len + origin_len] = '/';
		o += 4 + hint_len;
	}
	*b = (struct hint_block){host, host_len, options, len, n_hosts, text};
	return PC_OK;
}

int pc_cdsr_prebuilt_new(const pc_model *model, pc_cdsr_prebuilt **out)
{
	*out = NULL;
	pc_cdsr_prebuilt *pb = calloc(1, sizeof(*pb));
	if (pb == NULL)
		return PC_ENOMEM;
	pc_request_init(&pb->blank);
	pb->n_cdns = model->n_cdns;
	pb->n_providers = model->n_providers;
	size_t n_blocks = (size_t)model->n_cdns * model->n_providers * N_SCHEMES;
	pb->blocks = calloc(n_blocks > 0 ? n_blocks : 1, sizeof(*pb->blocks));
	pb->domains = calloc(model->n_cdns > 0 ? model->n_cdns : 1, sizeof(*pb->domains));
	pb->arena = pc_arena_new();
	int rc = pb->blocks != NULL && pb->domains != NULL && pb->arena != NULL ? PC_OK : PC_ENOMEM;
	for (uint32_t c = 0; rc == PC_OK && c < model->n_cdns; c++) {
		const struct pc_cdn *cdn = &model->cdns[c];
		/* what hint_space takes first in an empty list */
		if (cdn->domain_len == 0 || cdn->domain_len > UINT16_MAX ||
		    cdn->domain_len > PC_CDSR_REQUEST_MAX)
			continue;
		uint8_t *o = pc_arena_alloc(pb->arena, 4 + cdn->domain_len);
		if (o == NULL) {
			rc = PC_ENOMEM;
			break;
		}
		o[0] = 0;
		o[1] = PC_CDSR_OPT_HINT_DOMAIN;
		o[2] = (uint8_t)(cdn->domain_len >> 8);
		o[3] = (uint8_t)cdn->domain_len;
		memcpy(o + 4, cdn->domain, cdn->domain_len);
		pb->domains[c] = (struct domain_option){o, 4 + cdn->domain_len, cdn->domain_len};
	}
	static const enum pc_scheme schemes[N_SCHEMES] = {PC_SCHEME_HTTP, PC_SCHEME_HTTPS,
	                                                  PC_SCHEME_RTSP};
	for (uint32_t c = 0; rc == PC_OK && c < model->n_cdns; c++) {
		if (!pc_model_node_serves(model, model->self_node, c))
			continue; /* never answered here */
		for (uint32_t p = 0; rc == PC_OK && p < model->n_providers; p++)
			for (unsigned k = 0; rc == PC_OK && k < N_SCHEMES; k++)
				rc = build_block(
				    pb->arena, model, c, p, schemes[k],
				    &pb->blocks[((size_t)c * pb->n_providers + p) * N_SCHEMES +
				                wire_scheme(schemes[k]) - 1]);
	}
	if (rc != PC_OK) {
		pc_cdsr_prebuilt_free(pb);
		return rc;
	}
	*out = pb;
	return PC_OK;
}

void pc_cdsr_prebuilt_free(pc_cdsr_prebuilt *prebuilt)
{
	if (prebuilt == NULL)
		return;
	pc_arena_free(prebuilt->arena);
	free(prebuilt->blocks);
	free(prebuilt->domains);
	free(prebuilt);
}

/* The block for url when its authority is a plain host (no port), else
 * NULL. */
static const struct hint_block *find_block(const pc_cdsr_prebuilt *pb, const pc_url *url,
                                           size_t authority_len)
{
	if (pb == NULL || url->name.cdn >= pb->n_cdns || url->name.provider >= pb->n_providers)
		return NULL;
	const struct hint_block *b =
	    &pb->blocks[((size_t)url->name.cdn * pb->n_providers + url->name.provider) * N_SCHEMES +
	                wire_scheme(url->scheme) - 1];
	if (b->host == NULL || b->host_len != authority_len ||
	    !pc_ascii_equal_lower(url->host, b->host, authority_len))
		return NULL;
	return b;
}

/* Every hint at once from what was built at load, when all of them fit:
 * the same bytes as one by one. False, with nothing written, otherwise. */
static bool add_prebuilt(const pc_cdsr_prebuilt *prebuilt, const struct hint_block *block,
                         uint32_t own, uint32_t serving, struct hints *h)
{
	const struct domain_option *d1 = &prebuilt->domains[own];
	const struct domain_option *d2 = &prebuilt->domains[serving];
	if (d1->bytes == NULL || d2->bytes == NULL)
		return false;
	bool two = serving != own;
	size_t n = 1 + two + block->n;
	size_t text = d1->text + (two ? d2->text : 0) + block->text;
	if (h->n + n > PC_CDSR_MAX_HINTS || text > PC_CDSR_REQUEST_MAX - h->text)
		return false;
	uint8_t *p = pc_cdsr_ok_reserve(h->w, d1->len + (two ? d2->len : 0) + block->len);
	if (p == NULL)
		return false;
	memcpy(p, d1->bytes, d1->len);
	p += d1->len;
	if (two) {
		memcpy(p, d2->bytes, d2->len);
		p += d2->len;
	}
	memcpy(p, block->options, block->len);
	h->n += n;
	h->text += text;
	return true;
}

/* Predictive hints (§4.4): the domains whose hosts this CDSR system
 * serves, then the URL prefixes of the provider's origins and directories
 * under the URL's own host, in lower case. */
static void add_hints(const pc_model *model, const pc_cdsr_prebuilt *prebuilt, const pc_url *url,
                      const pc_decision *decision, struct hints *h)
{
	/* "http://abc.cdn.acme.net" [":8080"] "/" host "/": the stem before
	 * the host is the same in every prefix, lower-cased once into the
	 * first and copied from there. The authority, port included, is
	 * everything up to the '/' before the content host (pc_url_parse
	 * found both). */
	size_t authority_len = (size_t)(url->content_host - 1 - url->host);
	const struct hint_block *block = find_block(prebuilt, url, authority_len);
	if (block != NULL && add_prebuilt(prebuilt, block, url->name.cdn, decision->cdn, h))
		return;
	const struct pc_cdn *own = &model->cdns[url->name.cdn];
	const struct pc_cdn *serving = &model->cdns[decision->cdn];
	add_domain(h, own);
	if (serving != own)
		add_domain(h, serving);
	const struct pc_provider *provider = &model->providers[url->name.provider];
	/* Written at once when they were built at load and all fit, within
	 * the hint list's limits as one by one. */
	if (block != NULL && h->n + block->n <= PC_CDSR_MAX_HINTS &&
	    h->text + block->text <= PC_CDSR_REQUEST_MAX &&
	    pc_cdsr_ok_options(h->w, block->options, block->len)) {
		h->n += block->n;
		h->text += block->text;
		return;
	}
	const char *scheme = pc_redirect_scheme_text(url->scheme); /* "http" */
	size_t scheme_len = strlen(scheme);
	size_t stem_len = scheme_len + 3 + authority_len + 1;
	const char *stem = NULL;
	uint32_t n_hosts = provider->n_origin_hosts + provider->n_directory_hosts;
	for (uint32_t i = 0; i < n_hosts; i++) {
		const char *host = provider_host(provider, i);
		size_t host_len = strlen(host);
		char *p = hint_space(h, PC_CDSR_OPT_HINT_PREFIX, stem_len + host_len + 1);
		if (p == NULL)
			continue; /* too long for the hint list, or the answer is full */
		if (stem != NULL) {
			memcpy(p, stem, stem_len);
		} else {
			memcpy(p, scheme, scheme_len); /* lower case already */
			memcpy(p + scheme_len, "://", 3);
			pc_ascii_copy_lower(p + scheme_len + 3, url->host, authority_len);
			p[stem_len - 1] = '/';
			stem = p;
		}
		pc_ascii_copy_lower(p + stem_len, host, host_len);
		p[stem_len + host_len] = '/';
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

	/* pc_redirect_prefs_init's values, with no call */
	struct pc_redirect_prefs prefs = {.preferred_cdn = PC_NONE};
	apply_preferences(model, &req, &prefs);
	struct pc_redirect_target target;
	outcome = query->prebuilt != NULL ? pc_redirect_decide_blank(ctx, &query->prebuilt->blank,
	                                                             &prefs, &url, &target)
	                                  : pc_redirect_decide(ctx, &prefs, &url, &target);
	if (outcome != PC_REDIRECT_OK)
		return error(&req, outcome_status(outcome), out, out_size, res);
	res->decided = true;
	res->decision = target.decision;
	const pc_decision *decision = &res->decision;

	const struct pc_cdn *serving = &model->cdns[decision->cdn];
	/* Only the body: the hints go straight into out (add_hints). */
	struct pc_cdsr_response resp;
	resp.version = PC_CDSR_VERSION;
	resp.status = PC_CDSR_OK;
	resp.nonce = req.nonce;
	resp.validity_s = serving->dns_ttl != 0 ? serving->dns_ttl : PC_CDSR_VALIDITY_DEFAULT;
	resp.reason_flags = decision->flags;
	resp.branch = (uint8_t)decision->branch;
	resp.reuse = PC_CDSR_REUSE_HOST;
	resp.scheme = wire_scheme(url.scheme);
	resp.port = target.port;
	resp.server = *target.address;
	resp.reuse_prefix = NULL;
	resp.reuse_prefix_len = 0;
	resp.n_hints = 0;
	struct pc_cdsr_ok_writer w;
	if (pc_cdsr_ok_begin(&w, &resp, req.len, out, out_size) != PC_OK)
		return 0;
	struct hints h = {&w, 0, 0};
	if (req.flags & PC_CDSR_F_HINTS)
		add_hints(model, query->prebuilt, &url, decision, &h);
	size_t len = pc_cdsr_ok_end(&w);
	res->status = out[PC_CDSR_OFF_STATUS];
	return len;
}
