/* bench/decide: policy decisions per second and memory on a synthetic
 * federation of 100 CDNs, 10 000 servers, 1 M client prefixes and 1 000
 * content providers, built straight through the model API (a YAML file of
 * that size would measure the loader, not the decision).
 *
 * Prints the build time, memory (RSS), ns per decision for the decision
 * alone and for name parsing plus decision (wall clock, and the thread's
 * CPU time beside it: on a shared machine the wall clock counts time
 * other processes had the core), and as its last line
 *   ratio decide_vs_1us_target VALUE
 * (1000 ns divided by the measured ns per decision: above 1.0 meets the
 * target of issue 2). Before that it checks the shortlist (issue 9): every
 * request of the mix, and variants with client preferences, health, load,
 * measured costs and other tunables, decided untraced (the shortlist) and
 * traced (the full scan every trace takes) must give the same answer;
 * "differential: N decisions compared, M differ" and exit status 1 if any
 * differs. Usage: bench_decide [DECISIONS [--no-check]] (--no-check skips
 * the differential, for profiling the timed loops alone). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "lib/base/err.h"
#include "lib/model/live.h"
#include "lib/model/model.h"
#include "lib/model/schema.h"
#include "lib/naming/naming.h"
#include "lib/policy/policy.h"

enum {
	N_CDNS = 100,
	N_ASES = 3000, /* 100 backbones, the rest access ISPs */
	N_SERVERS = 10000,
	N_PREFIX4 = 900000,
	N_PREFIX6 = 100000,
	N_PROVIDERS = 1000,
	N_AGREEMENTS = 400,
	N_SERVICES = 4,
	N_TIERS = 3,
	N_QUERIES = 1 << 16, /* distinct requests cycled through */
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	/* splitmix64: reproducible across runs and machines */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This thread's CPU time: on a shared machine the time the decisions
 * took, without the time other processes had the core. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return kib;
}

static char *name_of(pc_arena *arena, const char *fmt, uint32_t i)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), fmt, i);
	return pc_arena_strndup(arena, buf, (size_t)n);
}

static void *alloc(pc_arena *arena, size_t n, size_t size)
{
	void *p = pc_arena_alloc(arena, n * size);
	if (p == NULL) {
		fputs("out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static void list_of(pc_arena *arena, struct pc_index_list *list, uint32_t count)
{
	list->items = alloc(arena, count ? count : 1, sizeof(uint32_t));
	list->count = count;
}

static pc_model *build_model(void)
{
	pc_model *m = pc_model_new();
	pc_arena *a = m->arena;
	pc_schema_apply_defaults(pc_config_items, m); /* the policy's defaults */
	m->source = "<synthetic>";

	static const char *tier_names[N_TIERS] = {"edge", "regional", "core"};
	m->tiers = alloc(a, N_TIERS, sizeof(char *));
	for (uint32_t t = 0; t < N_TIERS; t++)
		m->tiers[t] = tier_names[t];
	m->n_tiers = N_TIERS;

	static const char *service_names[N_SERVICES] = {"web", "vod", "tv", "live"};
	m->services = alloc(a, N_SERVICES, sizeof(*m->services));
	for (uint32_t s = 0; s < N_SERVICES; s++)
		m->services[s].name = service_names[s];
	m->services[0].scheme_mask = PC_SCHEME_HTTP | PC_SCHEME_HTTPS;
	m->services[2].scheme_mask = PC_SCHEME_RTSP;
	m->n_services = N_SERVICES;
	m->default_service = 0;

	m->grades = alloc(a, 3, sizeof(*m->grades));
	m->grades[0] = (struct pc_grade){"gold", 0x3, 40};
	m->grades[1] = (struct pc_grade){"silver", 0x7, 80};
	m->grades[2] = (struct pc_grade){"bronze", 0x4, PC_COST_INFINITE};
	m->n_grades = 3;

	m->ases = alloc(a, N_ASES, sizeof(*m->ases));
	for (uint32_t i = 0; i < N_ASES; i++)
		m->ases[i].asn = 64512 + i;
	m->n_ases = N_ASES;

	/* A connected AS graph: a ring of backbones, each access AS homed to
	 * two random backbones, plus random shortcuts. */
	uint32_t max_links = N_CDNS + 2 * (N_ASES - N_CDNS) + N_ASES;
	m->links = alloc(a, max_links, sizeof(*m->links));
	for (uint32_t b = 0; b < N_CDNS; b++)
		m->links[m->n_links++] = (struct pc_link){b, (b + 1) % N_CDNS, 10};
	for (uint32_t i = N_CDNS; i < N_ASES; i++) {
		m->links[m->n_links++] = (struct pc_link){i, below(N_CDNS), 5 + below(20)};
		m->links[m->n_links++] = (struct pc_link){i, below(N_CDNS), 5 + below(20)};
		m->links[m->n_links++] =
		    (struct pc_link){i, N_CDNS + below(N_ASES - N_CDNS), 5 + below(30)};
	}

	/* CDN c: backbone AS c, affiliates 10 access ASes (some shared). */
	m->cdns = alloc(a, N_CDNS, sizeof(*m->cdns));
	for (uint32_t c = 0; c < N_CDNS; c++) {
		struct pc_cdn *cdn = &m->cdns[c];
		cdn->name = name_of(a, "cdn%u", c);
		cdn->domain = name_of(a, "cdn%u.example.net", c);
		list_of(a, &cdn->backbone_as, 1);
		cdn->backbone_as.items[0] = c;
		list_of(a, &cdn->affiliate_as, 10);
		for (uint32_t k = 0; k < 10; k++)
			cdn->affiliate_as.items[k] = N_CDNS + (c * 29 + k * 7) % (N_ASES - N_CDNS);
	}
	m->n_cdns = N_CDNS;

	/* 100 servers per CDN, in its backbone and affiliate ASes. */
	m->servers = alloc(a, N_SERVERS, sizeof(*m->servers));
	for (uint32_t s = 0; s < N_SERVERS; s++) {
		struct pc_server *srv = &m->servers[s];
		uint32_t c = s % N_CDNS;
		srv->name = name_of(a, "srv%u", s);
		srv->cdn = c;
		uint32_t slot = below(11);
		srv->as = slot == 10 ? c : m->cdns[c].affiliate_as.items[slot];
		srv->addresses.items = alloc(a, 1, sizeof(pc_addr));
		srv->addresses.count = 1;
		srv->addresses.items[0] = (pc_addr){
		    .family = PC_AF_INET, .bytes = {100, (uint8_t)(s >> 8), (uint8_t)s, 1}};
		srv->service_mask = below(4) == 0 ? 0x3 : 0xf;
		srv->capacity = 1000;
		srv->tier = below(N_TIERS);
	}
	m->n_servers = N_SERVERS;

	m->providers = alloc(a, N_PROVIDERS, sizeof(*m->providers));
	for (uint32_t p = 0; p < N_PROVIDERS; p++) {
		struct pc_provider *prov = &m->providers[p];
		prov->name = name_of(a, "cust%u", p);
		uint32_t n_primary = 1 + below(2);
		list_of(a, &prov->primary_cdns, n_primary);
		prov->primary_cdns.items[0] = below(N_CDNS);
		if (n_primary == 2)
			prov->primary_cdns.items[1] =
			    (prov->primary_cdns.items[0] + 1 + below(98)) % N_CDNS;
		prov->grade = below(3);
	}
	m->n_providers = N_PROVIDERS;

	m->agreements = alloc(a, N_AGREEMENTS, sizeof(*m->agreements));
	for (uint32_t g = 0; g < N_AGREEMENTS; g++) {
		struct pc_agreement *ag = &m->agreements[g];
		ag->name = name_of(a, "peer%u", g);
		ag->cdn_a = g % N_CDNS;
		ag->cdn_b = (ag->cdn_a + 1 + g / N_CDNS * 7 + below(3)) % N_CDNS;
		ag->service_mask = below(2) ? 0x3 : 0xf;
		ag->capacity_rps = 0; /* unlimited: measure the decision, not the window */
	}
	m->n_agreements = N_AGREEMENTS;

	/* Client prefixes: distinct /24s scattered by an odd multiplier (a
	 * bijection mod 2^24) and /48s, each in a random AS. */
	m->client_nets = alloc(a, N_PREFIX4 + N_PREFIX6, sizeof(*m->client_nets));
	for (uint32_t i = 0; i < N_PREFIX4; i++) {
		struct pc_client_net *net = &m->client_nets[i];
		uint32_t block = (i * 2654435761u) & 0xffffff;
		net->prefix = (pc_addr){
		    .family = PC_AF_INET,
		    .bytes = {(uint8_t)(block >> 16), (uint8_t)(block >> 8), (uint8_t)block, 0}};
		net->prefix_len = 24;
		net->as = below(N_ASES);
	}
	for (uint32_t i = 0; i < N_PREFIX6; i++) {
		struct pc_client_net *net = &m->client_nets[N_PREFIX4 + i];
		net->prefix = (pc_addr){
		    .family = PC_AF_INET6,
		    .bytes = {0x20, 0x01, 0x0d, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i}};
		net->prefix_len = 48;
		net->as = below(N_ASES);
	}
	m->n_client_nets = N_PREFIX4 + N_PREFIX6;

	m->nodes = alloc(a, 1, sizeof(*m->nodes));
	m->nodes[0].name = "bench-node";
	m->nodes[0].as = 0;
	list_of(a, &m->nodes[0].cdns, 1);
	m->nodes[0].cdns.items[0] = 0;
	m->n_nodes = 1;
	m->self_node = 0;

	int rc = pc_model_finish(m);
	if (rc != PC_OK) {
		fprintf(stderr, "model: %s\n", pc_strerror(rc));
		exit(1);
	}
	return m;
}

struct query {
	pc_request req;
	char name[128];
	size_t name_len;
};

/* One decision two ways: untraced (the shortlist scan of issue 9) and
 * traced (the full scan, which lists every server). Returns whether they
 * agree on everything a caller sees. */
static pc_trace full_trace;
static uint64_t differential_flags[9]; /* how often each flag was seen: coverage */
/* Every decision of the differential folded into one number, printed: two
 * builds that decide alike print the same (a check across versions, where
 * the differential compares two scans of one build). */
static uint64_t differential_digest = 0x84222325cbf29ce4ULL;

static void digest_add(uint64_t value)
{
	differential_digest = (differential_digest ^ value) * 0x100000001b3ULL;
}

static void digest_decision(int rc, const pc_decision *d)
{
	digest_add((uint64_t)(uint32_t)rc << 32 | d->branch);
	digest_add((uint64_t)d->flags << 32 | d->cdn);
	digest_add((uint64_t)d->agreement << 32 | d->path_cost);
	digest_add((uint64_t)d->client_net << 32 | d->client_as);
	digest_add((uint64_t)d->client_scope << 32 | d->n_servers);
	for (uint32_t i = 0; i < d->n_servers; i++)
		digest_add(d->servers[i]);
}

static bool same_both_ways(const pc_model *model, pc_live *live, const pc_request *req)
{
	pc_decision fast, full;
	int rc_fast = pc_policy_decide(model, live, req, &fast, NULL);
	int rc_full = pc_policy_decide(model, live, req, &full, &full_trace);
	bool same = rc_fast == rc_full && fast.branch == full.branch && fast.flags == full.flags &&
	            fast.cdn == full.cdn && fast.agreement == full.agreement &&
	            fast.n_servers == full.n_servers && fast.path_cost == full.path_cost &&
	            fast.client_net == full.client_net && fast.client_as == full.client_as &&
	            fast.client_scope == full.client_scope;
	for (uint32_t i = 0; same && i < fast.n_servers; i++)
		same = fast.servers[i] == full.servers[i];
	digest_decision(rc_fast, &fast);
	for (uint32_t bit = 0; bit < 8; bit++)
		differential_flags[bit] += full.flags >> bit & 1;
	differential_flags[8] += full.n_servers > 1;
	if (!same)
		fprintf(stderr,
		        "differential: provider %u service %u: shortlist %s cdn %u server %u "
		        "flags %#x, full scan %s cdn %u server %u flags %#x\n",
		        req->provider, req->service, pc_branch_name(fast.branch), fast.cdn,
		        fast.n_servers ? fast.servers[0] : PC_NONE, fast.flags,
		        pc_branch_name(full.branch), full.cdn,
		        full.n_servers ? full.servers[0] : PC_NONE, full.flags);
	return same;
}

/* A variant of a request: client preferences (claim 19), another family,
 * more answers, no object, a remembered server. */
static pc_request variant(const pc_model *model, const pc_request *base, uint32_t round)
{
	pc_request req = *base;
	const struct pc_provider *prov = &model->providers[req.provider];
	const struct pc_cdn *cdn =
	    &model->cdns[prov->primary_cdns.items[below(prov->primary_cdns.count)]];
	switch (round % 6) {
	case 0:
		req.preferred_cdn = below(2) ? below(N_CDNS) : (uint32_t)(cdn - model->cdns);
		break;
	case 1:
		/* Avoid a few servers of a primary CDN: the nearest ones too, often. */
		req.n_avoid = 1 + below(PC_MAX_AVOID);
		for (uint32_t i = 0; i < req.n_avoid; i++)
			req.avoid[i] = cdn->servers.items[below(cdn->servers.count)];
		break;
	case 2:
		req.max_answers = 1 + below(PC_MAX_ANSWERS);
		req.family = below(4) == 0 ? PC_AF_INET6 : PC_AF_INET;
		break;
	case 3:
		req.object = NULL;
		req.object_len = 0;
		req.max_answers = 1 + below(PC_MAX_ANSWERS);
		break;
	case 4:
		req.sticky_server = cdn->servers.items[below(cdn->servers.count)];
		break;
	default:
		req.client.family = PC_AF_NONE; /* the capturing node's AS stands in */
		req.node = below(2) ? 0 : PC_NONE;
		break;
	}
	return req;
}

/* Runs the mix and its variants through both scans under several live
 * states and tunables; returns how many decisions differ. */
static uint64_t differential(pc_model *model, pc_live *live, const struct query *queries,
                             uint64_t *compared)
{
	uint64_t differ = 0;
	struct pc_policy_params saved = model->params;
	for (uint32_t q = 0; q < N_QUERIES; q++)
		differ += !same_both_ways(model, live, &queries[q].req);
	*compared = N_QUERIES;
	for (uint32_t round = 0; round < 24; round++) {
		/* Live state: loads shift (round 8 on: most farms near full, so
		 * grades with a distance limit spill), servers go down or drain. */
		for (uint32_t s = 0; s < model->n_servers; s++) {
			pc_live_set_load(live, s,
			                 round >= 8 && below(8) ? 880 + below(150) : below(1000));
			pc_live_set_health(live, s,
			                   below(20) == 0
			                       ? (below(2) ? PC_HEALTH_DOWN : PC_HEALTH_DRAINING)
			                       : PC_HEALTH_UP);
		}
		/* Tunables: the band, the weight and the spill reach. */
		/* The band is a %: narrow, off, or wide (past load_weight). */
		model->params.affinity_band = round % 4 == 3   ? 0
		                              : round % 4 == 2 ? 50 + below(250)
		                                               : 5 + below(40);
		model->params.load_weight = below(3) == 0 ? 0 : 10 + below(80);
		model->params.spill_max_cost = below(4) == 0 ? 0 : 10 + below(60);
		if (round == 12) {
			/* A third of the agreements full for this second. */
			for (uint32_t g = 0; g < N_AGREEMENTS; g += 3) {
				model->agreements[g].capacity_rps = 1;
				pc_live_agreement_try_take(live, g, queries[0].req.now_ms);
			}
		}
		if (round == 16) {
			/* Measured costs for a tenth of the ASes: their decisions
			 * take the full scan; the others keep the shortlist. */
			for (uint32_t a = 0; a < N_ASES; a += 10)
				for (uint32_t k = 0; k < 20; k++)
					pc_live_set_path_cost(live, a, below(N_ASES),
					                      below(5) ? below(100)
					                               : PC_COST_INFINITE);
		}
		for (uint32_t q = round; q < N_QUERIES; q += 6) {
			pc_request req = variant(model, &queries[q].req, q);
			differ += !same_both_ways(model, live, &req);
			++*compared;
		}
	}
	model->params = saved;
	for (uint32_t g = 0; g < N_AGREEMENTS; g++)
		model->agreements[g].capacity_rps = 0;
	return differ;
}

/* The timed loops, one function each (never inlined) so that a profiler
 * (callgrind's inclusive costs, --toggle-collect) can tell the phases
 * apart: cache-cold over the whole mix, cache-warm over its first 64
 * requests, and name parsing plus decision. */
__attribute__((noinline)) static void run_cold(const pc_model *model, pc_live *live,
                                               const struct query *queries, uint64_t n,
                                               uint64_t by_branch[4], uint64_t *errors)
{
	pc_decision decision;
	for (uint64_t i = 0; i < n; i++) {
		const pc_request *req = &queries[i & (N_QUERIES - 1)].req;
		if (pc_policy_decide(model, live, req, &decision, NULL) == PC_OK)
			by_branch[decision.branch]++;
		else
			++*errors;
	}
}

__attribute__((noinline)) static void run_warm(const pc_model *model, pc_live *live,
                                               const struct query *queries, uint64_t n)
{
	pc_decision decision;
	for (uint64_t i = 0; i < n; i++)
		pc_policy_decide(model, live, &queries[i & 63].req, &decision, NULL);
}

/* Returns how many names failed to parse. */
__attribute__((noinline)) static uint64_t run_parse(const pc_model *model, pc_live *live,
                                                    const struct query *queries, uint64_t n)
{
	pc_decision decision;
	uint64_t failures = 0;
	for (uint64_t i = 0; i < n; i++) {
		const struct query *q = &queries[i & (N_QUERIES - 1)];
		pc_name name;
		if (pc_name_parse(model, q->name, q->name_len, &name) != PC_OK) {
			failures++;
			continue;
		}
		pc_request req = q->req;
		req.provider = name.provider;
		req.service = name.service;
		req.object = name.object;
		req.object_len = name.object_len;
		pc_policy_decide(model, live, &req, &decision, NULL);
	}
	return failures;
}

int main(int argc, char **argv)
{
	uint64_t n_decisions = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000;
	if (sodium_init() < 0)
		return 1;
	long rss_before = rss_kib();
	double t0 = now_s();
	pc_model *model = build_model();
	double build_s = now_s() - t0;
	pc_live *live;
	if (pc_live_new(model, &live) != PC_OK)
		return 1;
	for (uint32_t s = 0; s < model->n_servers; s++)
		pc_live_set_load(live, s, below(1000)); /* some over the watermark */
	long rss_model = rss_kib();

	struct query *queries = calloc(N_QUERIES, sizeof(*queries));
	for (uint32_t q = 0; q < N_QUERIES; q++) {
		pc_request *req = &queries[q].req;
		pc_request_init(req);
		const struct pc_client_net *net = &model->client_nets[below(model->n_client_nets)];
		req->client = net->prefix;
		req->client.bytes[net->prefix.family == PC_AF_INET ? 3 : 15] =
		    (uint8_t)(1 + below(250));
		req->node = 0;
		req->provider = below(N_PROVIDERS);
		req->service = below(N_SERVICES);
		const struct pc_provider *prov = &model->providers[req->provider];
		const struct pc_cdn *cdn = &model->cdns[prov->primary_cdns.items[0]];
		queries[q].name_len = (size_t)snprintf(
		    queries[q].name, sizeof(queries[q].name), "obj%u.%s.%s.%s", below(100000),
		    model->services[req->service].name, prov->name, cdn->domain);
		/* The affinity key is the object label, as naming produces it. */
		req->object = queries[q].name;
		req->object_len = strcspn(queries[q].name, ".");
		req->now_ms = 1764000000000ULL;
	}

	uint64_t by_branch[4] = {0}, errors = 0;
	double c0 = cpu_s();
	t0 = now_s();
	run_cold(model, live, queries, n_decisions, by_branch, &errors);
	double decide_ns = (now_s() - t0) * 1e9 / (double)n_decisions;
	double decide_cpu_ns = (cpu_s() - c0) * 1e9 / (double)n_decisions;

	/* The same over 64 requests: what a node sees when its traffic has
	 * locality (popular objects, busy client networks), caches warm. */
	c0 = cpu_s();
	t0 = now_s();
	run_warm(model, live, queries, n_decisions);
	double warm_ns = (now_s() - t0) * 1e9 / (double)n_decisions;
	double warm_cpu_ns = (cpu_s() - c0) * 1e9 / (double)n_decisions;

	uint64_t n_parse = n_decisions / 4;
	c0 = cpu_s();
	t0 = now_s();
	uint64_t parse_failures = run_parse(model, live, queries, n_parse);
	double parse_decide_ns = (now_s() - t0) * 1e9 / (double)n_parse;
	double parse_cpu_ns = (cpu_s() - c0) * 1e9 / (double)n_parse;

	printf("federation: %u CDNs, %u ASes, %u servers, %u client prefixes (%u IPv4, %u IPv6),"
	       " %u providers, %u agreements\n",
	       N_CDNS, N_ASES, N_SERVERS, N_PREFIX4 + N_PREFIX6, N_PREFIX4, N_PREFIX6, N_PROVIDERS,
	       N_AGREEMENTS);
	printf("model build: %.2f s (netmap %.1f MB, path table %.1f MB)\n", build_s,
	       (double)pc_netmap_memory(model->netmap) / 1e6,
	       (double)model->n_ases * model->n_server_ases * 4 / 1e6);
	printf("memory: %.1f MB resident after build (process total), %.1f MB for the model\n",
	       (double)rss_model / 1024, (double)(rss_model - rss_before) / 1024);
	printf("decisions: %" PRIu64 " (PRIMARY %" PRIu64 ", PEER %" PRIu64 ", OUTSIDE %" PRIu64
	       ", no server %" PRIu64 ")\n",
	       n_decisions, by_branch[PC_BRANCH_PRIMARY], by_branch[PC_BRANCH_PEER],
	       by_branch[PC_BRANCH_OUTSIDE], errors);
	printf("decide: %.0f ns per decision, %.2f M decisions/s on one core "
	       "(65536 distinct requests, random over the federation: cache-cold; "
	       "%.0f ns of this thread's CPU time)\n",
	       decide_ns, 1e3 / decide_ns, decide_cpu_ns);
	printf("decide, 64 distinct requests (cache-warm): %.0f ns per decision "
	       "(%.0f ns CPU time)\n",
	       warm_ns, warm_cpu_ns);
	printf("parse name + decide: %.0f ns per request (%.0f ns CPU time; %" PRIu64
	       " parse failures)\n",
	       parse_decide_ns, parse_cpu_ns, parse_failures);
	/* Last, as it changes the live state and the tunables it restores. */
	uint64_t compared = 0, differ = 0;
	if (argc <= 2 || strcmp(argv[2], "--no-check") != 0)
		differ = differential(model, live, queries, &compared);
	printf("differential: %" PRIu64 " decisions compared (shortlist vs full scan), %" PRIu64
	       " differ\n",
	       compared, differ);
	char flag_names[128];
	printf("differential coverage:");
	for (uint32_t bit = 0; bit < 8; bit++) {
		pc_decision_flags_format(1u << bit, flag_names, sizeof(flag_names));
		printf(" %s %" PRIu64, flag_names, differential_flags[bit]);
	}
	printf(", several answers %" PRIu64 "\n", differential_flags[8]);
	if (compared > 0)
		printf("differential digest: %016" PRIx64
		       " (the same from builds that decide alike)\n",
		       differential_digest);
	printf("ratio decide_vs_1us_target %.2f\n", 1000.0 / decide_ns);

	free(queries);
	pc_live_free(live);
	pc_model_free(model);
	return errors == n_decisions || parse_failures > 0 || differ > 0;
}
