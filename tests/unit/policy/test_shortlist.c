/* The shortlist of issue 9 against the full scan: an untraced decision
 * reads a CDN's farms nearest first (pc_model.reach) and stops early, a
 * traced one scans every server to give each its reason; both must give
 * the same answer. Random federations built through the model API (many
 * farms per CDN, random loads, health, tunables, preferences and measured
 * costs, a content exchange, full agreements, grades tight enough that
 * OUTSIDE relaxes them) and the default federation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "world.h"
#include "lib/base/err.h"
#include "lib/model/config.h"
#include "lib/model/schema.h"
#include "lib/policy/policy.h"

static uint64_t rng_state;

static uint32_t below(uint32_t n)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)((z ^ (z >> 31)) % n);
}

static void *alloc(pc_arena *arena, size_t n, size_t size)
{
	void *p = pc_arena_alloc(arena, (n ? n : 1) * size);
	assert_non_null(p);
	return p;
}

static const char *name_of(pc_arena *arena, const char *prefix, uint32_t i)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%s%u", prefix, i);
	return pc_arena_strndup(arena, buf, (size_t)n);
}

static void list_of(pc_arena *arena, struct pc_index_list *list, uint32_t count)
{
	list->items = alloc(arena, count, sizeof(uint32_t));
	list->count = count;
}

enum { N_CDNS = 6, N_ASES = 80, N_SERVERS = 360, N_NETS = 200, N_PROVIDERS = 30 };
/* CDN N_CDNS is a content exchange (no footprint, no servers) with
 * agreements with N_EXCHANGE_PEERS of the others. */
enum { EXCHANGE = N_CDNS, N_EXCHANGE_PEERS = 3, N_AGREEMENTS = N_CDNS + N_EXCHANGE_PEERS };

/* How often the differential saw what it is meant to cover. */
static struct {
	uint32_t decisions, relaxed, relaxed_load, exchange, spill_unlimited, agreement_full,
	    affinity;
} seen;

/* A federation like bench/decide's, small: CDNs with a backbone AS and
 * affiliates, servers spread over them in farms of uneven size, a
 * connected AS graph with close costs (so many farms tie or nearly tie),
 * grades with and without a distance limit. */
static pc_model *random_model(void)
{
	pc_model *m = pc_model_new();
	assert_non_null(m);
	pc_arena *a = m->arena;
	pc_schema_apply_defaults(pc_config_items, m);
	/* Costs at scale 1 (fig. 20's links) or 10: the relative band must
	 * mean the same at both. The band is a % of the best score, sometimes
	 * wider than load_weight. */
	/* Scale 5000: path costs past 65 535, which the reach rows store
	 * saturated (PC_REACH_FAR) and the scan reads exactly. */
	uint32_t scale = below(4) == 0 ? 5000 : below(2) ? 1 : 10;
	m->params.affinity_band = below(3) == 0 ? below(300) : below(30);
	m->params.load_weight = below(4) == 0 ? 0 : below(100) * scale;
	m->params.spill_max_cost = below(3) == 0 ? 0 : below(60) * scale;
	m->params.high_watermark_pct = 50 + below(51);

	static const char *tiers[3] = {"edge", "regional", "core"};
	m->tiers = alloc(a, 3, sizeof(char *));
	memcpy(m->tiers, tiers, sizeof(tiers));
	m->n_tiers = 3;
	static const char *services[3] = {"web", "vod", "tv"};
	m->services = alloc(a, 3, sizeof(*m->services));
	for (uint32_t s = 0; s < 3; s++)
		m->services[s].name = services[s];
	m->n_services = 3;
	m->grades = alloc(a, 4, sizeof(*m->grades));
	m->grades[0] = (struct pc_grade){"gold", 0x3, (10 + below(30)) * scale};
	m->grades[1] = (struct pc_grade){"silver", 0x7, (30 + below(60)) * scale};
	m->grades[2] = (struct pc_grade){"bronze", 0x6, PC_COST_INFINITE};
	/* Hardly any farm in reach: OUTSIDE relaxes it (cost, then load). */
	m->grades[3] = (struct pc_grade){"tight", 0x7, below(4) * scale};
	m->n_grades = 4;

	m->ases = alloc(a, N_ASES, sizeof(*m->ases));
	for (uint32_t i = 0; i < N_ASES; i++)
		m->ases[i].asn = 64512 + i;
	m->n_ases = N_ASES;
	m->links = alloc(a, 3 * N_ASES, sizeof(*m->links));
	for (uint32_t b = 0; b < N_CDNS; b++)
		m->links[m->n_links++] =
		    (struct pc_link){b, (b + 1) % N_CDNS, (1 + below(10)) * scale};
	/* Some ASes stay unlinked: unreachable farms and clients. */
	for (uint32_t i = N_CDNS; i < N_ASES - 3; i++) {
		m->links[m->n_links++] =
		    (struct pc_link){i, below(N_CDNS), (1 + below(12)) * scale};
		m->links[m->n_links++] =
		    (struct pc_link){i, N_CDNS + below(i - N_CDNS + 1), below(8) * scale};
	}

	m->cdns = alloc(a, N_CDNS + 1, sizeof(*m->cdns));
	for (uint32_t c = 0; c < N_CDNS; c++) {
		struct pc_cdn *cdn = &m->cdns[c];
		cdn->name = name_of(a, "cdn", c);
		cdn->domain = name_of(a, "cdn.example.", c);
		list_of(a, &cdn->backbone_as, 1);
		cdn->backbone_as.items[0] = c;
		list_of(a, &cdn->affiliate_as, 12);
		for (uint32_t k = 0; k < 12; k++)
			cdn->affiliate_as.items[k] = N_CDNS + below(N_ASES - N_CDNS);
	}
	m->cdns[EXCHANGE] =
	    (struct pc_cdn){.name = "exchange", .domain = "exchange.example", .exchange = true};
	m->n_cdns = N_CDNS + 1;

	m->servers = alloc(a, N_SERVERS, sizeof(*m->servers));
	for (uint32_t s = 0; s < N_SERVERS; s++) {
		struct pc_server *srv = &m->servers[s];
		uint32_t c = below(N_CDNS), slot = below(13);
		srv->name = name_of(a, "srv", s);
		srv->cdn = c;
		srv->as = slot >= 12 ? c : m->cdns[c].affiliate_as.items[slot];
		srv->addresses.count = below(8) == 0 ? 2 : 1;
		srv->addresses.items = alloc(a, 2, sizeof(pc_addr));
		srv->addresses.items[0] =
		    (pc_addr){.family = below(5) ? PC_AF_INET : PC_AF_INET6,
		              .bytes = {100, (uint8_t)(s >> 8), (uint8_t)s, 1}};
		srv->addresses.items[1] = (pc_addr){.family = PC_AF_INET6, .bytes = {0x20, 1}};
		srv->service_mask = below(3) ? 0x7 : 0x3;
		srv->capacity = below(10) == 0 ? 1 : 1 + below(2000);
		srv->tier = below(3);
	}
	m->n_servers = N_SERVERS;

	m->providers = alloc(a, N_PROVIDERS, sizeof(*m->providers));
	for (uint32_t p = 0; p < N_PROVIDERS; p++) {
		struct pc_provider *prov = &m->providers[p];
		prov->name = name_of(a, "cust", p);
		uint32_t n = 1 + below(3);
		list_of(a, &prov->primary_cdns, n);
		for (uint32_t k = 0; k < n; k++)
			prov->primary_cdns.items[k] = (p + k * 2) % N_CDNS;
		/* A third of the providers go through the exchange too. */
		if (below(3) == 0)
			prov->primary_cdns.items[below(n)] = EXCHANGE;
		prov->grade = below(4);
	}
	m->n_providers = N_PROVIDERS;

	/* Capacity 1 marks an agreement that is full (test_random_federations
	 * takes its one request per second before deciding), 0 unlimited. */
	m->agreements = alloc(a, N_AGREEMENTS, sizeof(*m->agreements));
	for (uint32_t g = 0; g < N_AGREEMENTS; g++)
		m->agreements[g] = (struct pc_agreement){
		    .name = name_of(a, "peer", g),
		    .cdn_a = g < N_CDNS ? g : EXCHANGE,
		    .cdn_b = g < N_CDNS ? (g + 1) % N_CDNS : (g - N_CDNS) * 2 + below(2),
		    .service_mask = below(2) ? 0x7 : 0x1,
		    .capacity_rps = below(5) == 0 ? 1 : 0};
	m->n_agreements = N_AGREEMENTS;

	m->client_nets = alloc(a, N_NETS, sizeof(*m->client_nets));
	for (uint32_t i = 0; i < N_NETS; i++)
		m->client_nets[i] = (struct pc_client_net){
		    .prefix = {.family = PC_AF_INET,
		               .bytes = {10, (uint8_t)(i >> 8), (uint8_t)i, 0}},
		    .prefix_len = 24,
		    .as = below(N_ASES)};
	/* An AS out of range (the model API allows it, a config does not):
	 * such networks rank last, apart (pc_model_client_locate). */
	m->client_nets[below(N_NETS)].as = PC_NONE;
	m->n_client_nets = N_NETS;

	m->nodes = alloc(a, 1, sizeof(*m->nodes));
	m->nodes[0].name = "node";
	m->nodes[0].as = below(N_ASES);
	m->n_nodes = 1;
	assert_int_equal(pc_model_finish(m), PC_OK);
	return m;
}

static pc_trace full_trace;

/* The same request untraced (shortlist) and traced (full scan). */
static void assert_same_both_ways(const pc_model *model, pc_live *live, const pc_request *req)
{
	pc_decision fast, full;
	int rc_fast = pc_policy_decide(model, live, req, &fast, NULL);
	int rc_full = pc_policy_decide(model, live, req, &full, &full_trace);
	assert_int_equal(rc_fast, rc_full);
	assert_int_equal(fast.branch, full.branch);
	assert_int_equal(fast.cdn, full.cdn);
	assert_int_equal(fast.flags, full.flags);
	assert_int_equal(fast.agreement, full.agreement);
	assert_int_equal(fast.path_cost, full.path_cost);
	assert_int_equal(fast.n_servers, full.n_servers);
	for (uint32_t i = 0; i < fast.n_servers; i++)
		assert_int_equal(fast.servers[i], full.servers[i]);
	seen.decisions++;
	seen.relaxed += (full.flags & PC_DF_RELAXED) != 0;
	seen.exchange += full.branch == PC_BRANCH_OUTSIDE && full.agreement != PC_NONE;
	seen.agreement_full += (full.flags & PC_DF_AGREEMENT_FULL) != 0;
	seen.affinity += (full.flags & PC_DF_AFFINITY) != 0;
	if (rc_full == PC_OK && (full.flags & PC_DF_SPILL) &&
	    model->grades[model->providers[req->provider].grade].max_path_cost == PC_COST_INFINITE)
		seen.spill_unlimited++;
	/* The second relaxation (the trace may be truncated before it): only
	 * that pass admits a server at or over the watermark. */
	if ((full.flags & PC_DF_RELAXED) && full.n_servers > 0) {
		const struct pc_server *winner = &model->servers[full.servers[0]];
		seen.relaxed_load += (uint64_t)pc_live_load(live, full.servers[0]) * 100 >=
		                     (uint64_t)winner->capacity * model->params.high_watermark_pct;
	}
}

/* pc_model_client_locate finds every network, and its AS, as reading
 * the network would (the AS comes from the rank tables instead). */
static void assert_locates_every_net(const pc_model *m)
{
	for (uint32_t n = 0; n < m->n_client_nets; n++) {
		const struct pc_client_net *net = &m->client_nets[n];
		pc_addr addr = net->prefix;
		uint32_t found = PC_NONE, as = PC_NONE;
		unsigned len = 0;
		assert_true(pc_model_client_locate(m, &addr, &found, &as, &len));
		assert_int_equal(found, n);
		assert_int_equal(as, net->as);
		assert_int_equal(len, net->prefix_len);
		assert_int_equal(pc_model_client_net(m, &addr, NULL), n);
	}
	pc_addr nowhere = {.family = PC_AF_INET, .bytes = {192, 0, 2, 1}};
	uint32_t found = 7, as = 7;
	assert_false(pc_model_client_locate(m, &nowhere, &found, &as, NULL));
	assert_int_equal(pc_model_client_net(m, &nowhere, NULL), PC_NONE);
}

static pc_request random_request(const pc_model *m, char *object)
{
	pc_request req;
	pc_request_init(&req);
	req.provider = below(m->n_providers);
	req.service = below(m->n_services);
	if (below(8) != 0)
		req.client = (pc_addr){.family = PC_AF_INET,
		                       .bytes = {10, 0, (uint8_t)below(N_NETS + 20), 7}};
	req.node = below(3) ? 0 : PC_NONE;
	if (below(3)) {
		snprintf(object, 16, "obj%u", below(1000));
		req.object = object;
		req.object_len = strlen(object);
	}
	req.max_answers = 1 + below(PC_MAX_ANSWERS);
	if (below(4) == 0)
		req.family = below(2) ? PC_AF_INET : PC_AF_INET6;
	if (below(5) == 0)
		req.preferred_cdn = below(m->n_cdns);
	if (below(4) == 0) {
		req.n_avoid = 1 + below(PC_MAX_AVOID);
		for (uint32_t i = 0; i < req.n_avoid; i++)
			req.avoid[i] = below(N_SERVERS);
	}
	if (below(4) == 0)
		req.sticky_server = below(N_SERVERS);
	req.now_ms = 1764064800000ULL;
	return req;
}

/* The reach rows' layout: apart, inside the AS's row, which starts on a
 * line, and a row of at most 16 farms within one line. */
static void assert_reach_layout(const pc_model *m)
{
	assert_int_equal((uintptr_t)m->reach % 64, 0);
	assert_int_equal(m->n_reach_cells % 16, 0);
	for (uint32_t c = 0; c < m->n_cdns; c++) {
		uint32_t base = m->cdns[c].reach_base, n = m->cdns[c].n_farms;
		assert_true(base + n <= m->n_reach_cells);
		if (c > 0)
			assert_true(base >= m->cdns[c - 1].reach_base + m->cdns[c - 1].n_farms);
		if (n > 0 && n <= 16)
			assert_int_equal(base / 16, (base + n - 1) / 16);
		else if (n > 16)
			assert_int_equal(base % 16, 0);
	}
}

static void test_random_federations(void **state)
{
	(void)state;
	for (uint32_t seed = 1; seed <= 40; seed++) {
		rng_state = seed * 0x51ed2701ULL;
		pc_model *m = random_model();
		assert_locates_every_net(m);
		assert_reach_layout(m);
		pc_live *live;
		assert_int_equal(pc_live_new(m, &live), PC_OK);
		for (uint32_t g = 0; g < m->n_agreements; g++)
			if (m->agreements[g].capacity_rps == 1)
				assert_true(pc_live_agreement_try_take(live, g, 1764064800000ULL));
		for (uint32_t round = 0; round < 6; round++) {
			for (uint32_t s = 0; s < m->n_servers; s++) {
				uint32_t cap = m->servers[s].capacity;
				/* Round 5: most servers between the watermark and full,
				 * so OUTSIDE gets to its second relaxation. */
				uint32_t hw = m->params.high_watermark_pct;
				uint32_t load =
				    round == 5 && below(16)
				        ? (uint32_t)(((uint64_t)cap * (hw + below(101 - hw)) + 99) /
				                     100)
				    : round % 2 ? below(cap + cap / 4 + 1)
				                : 0;
				pc_live_set_load(live, s, load);
				pc_live_set_health(live, s,
				                   below(12) == 0 ? PC_HEALTH_DOWN : PC_HEALTH_UP);
			}
			if (round == 4) /* measured costs: those client ASes take the full scan */
				for (uint32_t k = 0; k < 30; k++)
					pc_live_set_path_cost(live, below(N_ASES), below(N_ASES),
					                      below(4) ? below(60)
					                               : PC_COST_INFINITE);
			for (uint32_t q = 0; q < 300; q++) {
				char object[16];
				pc_request req = random_request(m, object);
				assert_same_both_ways(m, live, &req);
			}
		}
		pc_live_free(live);
		pc_model_free(m);
	}
	print_message("shortlist: %u decisions both ways, RELAXED %u (load pass %u), "
	              "EXCHANGE %u, SPILL without a limit %u, AGREEMENT_FULL %u, AFFINITY %u\n",
	              seen.decisions, seen.relaxed, seen.relaxed_load, seen.exchange,
	              seen.spill_unlimited, seen.agreement_full, seen.affinity);
	assert_true(seen.relaxed > 0 && seen.relaxed_load > 0 && seen.exchange > 0 &&
	            seen.spill_unlimited > 0 && seen.agreement_full > 0 && seen.affinity > 0);
}

/* Every provider, service and client network of the default federation,
 * idle and then loaded to spill. */
static void test_default_federation(void **state)
{
	struct world *w = *state;
	const pc_model *m = w->model;
	assert_locates_every_net(m);
	for (uint32_t round = 0; round < 3; round++) {
		for (uint32_t s = 0; s < m->n_servers; s++)
			pc_live_set_load(w->live, s, round * m->servers[s].capacity * 9 / 20);
		for (uint32_t p = 0; p < m->n_providers; p++)
			for (uint32_t sv = 0; sv < m->n_services; sv++)
				for (uint32_t n = 0; n < m->n_client_nets; n++) {
					pc_request req;
					pc_request_init(&req);
					req.provider = p;
					req.service = sv;
					req.client = m->client_nets[n].prefix;
					req.node = m->self_node;
					req.object = "x";
					req.object_len = 1;
					req.max_answers = 1 + n % PC_MAX_ANSWERS;
					req.now_ms = 1764064800000ULL;
					assert_same_both_ways(m, w->live, &req);
				}
	}
}

static void test_measured_as(void **state)
{
	struct world *w = *state;
	const pc_model *m = w->model;
	assert_false(pc_live_as_measured(w->live, 0));
	assert_true(pc_live_as_measured(w->live, m->n_ases)); /* out of range */
	uint32_t farm_as = m->servers[0].as;
	pc_live_set_path_cost(w->live, 0, farm_as, PC_COST_STATIC);
	assert_false(pc_live_as_measured(w->live, 0));
	pc_live_set_path_cost(w->live, 0, farm_as, 7);
	assert_true(pc_live_as_measured(w->live, 0));
	if (m->n_ases > 1)
		assert_false(pc_live_as_measured(w->live, 1));
	/* The reach rows list every farm of a CDN once, nearest first. */
	for (uint32_t a = 0; a < m->n_ases; a++)
		for (uint32_t c = 0; c < m->n_cdns; c++) {
			const struct pc_reach *reach = pc_model_reach(m, a, c);
			assert_non_null(reach);
			uint64_t seen = 0;
			for (uint32_t r = 0; r < m->cdns[c].n_farms; r++) {
				if (r > 0)
					assert_true(pc_reach_cost(m, a, c, &reach[r - 1]) <=
					            pc_reach_cost(m, a, c, &reach[r]));
				assert_int_equal(
				    pc_reach_cost(m, a, c, &reach[r]),
				    pc_model_path_cost(
				        m, a,
				        m->cdns[c]
				            .servers.items[m->cdns[c].farm_first[reach[r].farm]]));
				seen += 1ULL << (reach[r].farm % 64);
			}
			assert_int_equal(seen, m->cdns[c].n_farms >= 64
			                           ? seen
			                           : (1ULL << m->cdns[c].n_farms) - 1);
		}
	assert_null(pc_model_reach(m, m->n_ases, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_federations),
	    cmocka_unit_test_setup_teardown(test_default_federation, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_measured_as, world_setup, world_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
