/* The patent's figures 9, 10, 11, 13 and 14 as fixture federations
 * (tests/fixtures/figNN.yaml; each file's header says what the figure shows
 * and what is asserted here): which branch, CDN and server serve clients in
 * the figure's different ASes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "lib/base/file.h"
#include "lib/proto/sections.h"
#include "lib/model/config.h"
#include "lib/base/err.h"
#include "lib/policy/policy.h"
#include "lib/policy/report.h"

struct world {
	pc_model *model;
	pc_live *live;
};

static struct world load(const char *fixture)
{
	struct world w = {fixture_load(fixture), NULL};
	assert_non_null(w.model);
	assert_int_equal(pc_live_new(w.model, &w.live), PC_OK);
	return w;
}

static void unload(struct world *w)
{
	pc_live_free(w->live);
	fixture_free(w->model);
}

static uint32_t id(uint32_t index)
{
	assert_int_not_equal(index, PC_NONE);
	return index;
}

/* Decides for provider's web content, the client given by address (or
 * unknown when NULL) captured at node (or self when NULL). */
static int decide_at(struct world *w, const char *provider, const char *service, const char *client,
                     const char *node, pc_decision *d)
{
	pc_request req;
	pc_request_init(&req);
	req.provider = id(pc_model_provider(w->model, provider));
	req.service = id(pc_model_service(w->model, service));
	if (client != NULL)
		assert_int_equal(pc_addr_parse(client, &req.client), PC_OK);
	req.node = node ? id(pc_model_node(w->model, node)) : w->model->self_node;
	req.now_ms = 1764064800000ULL;
	return pc_policy_decide(w->model, w->live, &req, d, NULL);
}

static void expect(struct world *w, const pc_decision *d, enum pc_branch branch, const char *cdn,
                   const char *server)
{
	assert_string_equal(pc_branch_name(d->branch), pc_branch_name(branch));
	assert_int_equal(d->cdn, id(pc_model_cdn(w->model, cdn)));
	assert_true(d->n_servers > 0);
	assert_string_equal(w->model->servers[d->servers[0]].name, server);
}

static void count_diag(void *ctx, const char *message)
{
	print_error("%s\n", message);
	(*(unsigned *)ctx)++;
}

/* Every figure loads without a single diagnostic. (Calling the loader
 * directly also makes the linker pull it in for fixture_load.) */
static void test_fixtures_load_cleanly(void **state)
{
	(void)state;
	static const char *const names[] = {"fig09.yaml",   "fig10.yaml", "fig11.yaml",
	                                    "fig13.yaml",   "fig14.yaml", "fig20.yaml",
	                                    "exchange.yaml"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", PC_FIXTURES_DIR, names[i]);
		size_t len = 0;
		char *text = NULL;
		assert_int_equal(pc_file_read(path, &text, &len), 0);
		unsigned diags = 0;
		pc_config *config = NULL;
		struct pc_config_options opts = {.source = path, .sections = pc_role_sections};
		assert_int_equal(pc_config_load(text, len, &opts, count_diag, &diags, &config),
		                 PC_OK);
		assert_int_equal(diags, 0);
		pc_config_free(config);
		free(text);
	}
}

static void test_fig09_backbones_without_peering(void **state)
{
	(void)state;
	struct world w = load("fig09.yaml");
	pc_decision d;
	/* Inside cb2: served from the client's own AS. */
	assert_int_equal(decide_at(&w, "two", "web", "127.2.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb2", "B1");
	assert_int_equal(decide_at(&w, "two", "web", "127.3.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb2", "B3");
	/* C1 (AS 400) and C2 (AS 500) are in no CDN: OUTSIDE, nearest farm. */
	assert_int_equal(decide_at(&w, "two", "web", "127.4.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_OUTSIDE, "cb2", "B1");
	assert_true(d.flags & PC_DF_NO_CLIENT_CDN);
	assert_int_equal(d.path_cost, 5);
	assert_int_equal(decide_at(&w, "two", "web", "127.5.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_OUTSIDE, "cb2", "B3");
	assert_int_equal(decide_at(&w, "one", "web", "127.4.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_OUTSIDE, "cb1", "A1");
	/* A cb1 client and cb2's content: no peering, OUTSIDE from cb2. */
	assert_int_equal(decide_at(&w, "two", "web", "127.1.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_OUTSIDE, "cb2", "B1");
	assert_int_equal(d.flags & PC_DF_NO_CLIENT_CDN, 0);
	assert_true(pc_report_due(&d));
	/* C1 over IPv6 asking for an AAAA: only B1 has one. */
	pc_request req;
	pc_request_init(&req);
	req.provider = id(pc_model_provider(w.model, "two"));
	req.service = id(pc_model_service(w.model, "web"));
	assert_int_equal(pc_addr_parse("2001:db8:4::1", &req.client), PC_OK);
	req.family = PC_AF_INET6;
	req.max_answers = 4;
	assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, NULL), PC_OK);
	expect(&w, &d, PC_BRANCH_OUTSIDE, "cb2", "B1");
	assert_int_equal(d.n_servers, 1);
	unload(&w);
}

static void test_fig10_affiliates(void **state)
{
	(void)state;
	struct world w = load("fig10.yaml");
	pc_decision d;
	/* C2 in AS 500, affiliate of both: served inside its own AS. */
	assert_int_equal(decide_at(&w, "one", "web", "127.5.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb1", "A5");
	assert_int_equal(d.path_cost, 0);
	assert_int_equal(decide_at(&w, "two", "web", "127.5.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb2", "B5");
	assert_false(pc_report_due(&d));
	/* AS 400 is cb1's alone: cb2's web content via the agreement ... */
	assert_int_equal(decide_at(&w, "two", "web", "127.4.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PEER, "cb1", "A4");
	assert_int_equal(d.agreement, id(pc_model_agreement(w.model, "cb1-cb2")));
	assert_true(pc_report_due(&d));
	/* ... but vod is not covered: from cb2's nearest farm. */
	assert_int_equal(decide_at(&w, "two", "vod", "127.4.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_OUTSIDE, "cb2", "B1");
	assert_int_equal(d.agreement, PC_NONE);
	unload(&w);
}

static void test_fig11_mutual_affiliates(void **state)
{
	(void)state;
	struct world w = load("fig11.yaml");
	pc_decision d;
	assert_int_equal(decide_at(&w, "two", "web", "127.1.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb2", "B5");
	assert_int_equal(decide_at(&w, "one", "web", "127.3.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb1", "A4");
	assert_int_equal(decide_at(&w, "one", "web", "127.2.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb1", "A3");
	assert_int_equal(decide_at(&w, "one", "web", "127.1.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb1", "A1");
	/* AS 400 is in no CDN: the nearest farm of each backbone is in AS 100. */
	assert_int_equal(decide_at(&w, "two", "web", "127.4.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_OUTSIDE, "cb2", "B5");
	assert_int_equal(decide_at(&w, "one", "web", "127.4.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_OUTSIDE, "cb1", "A1");
	/* Claim 19 in this figure: the AS 100 client prefers cb2. */
	pc_request req;
	pc_request_init(&req);
	req.provider = id(pc_model_provider(w.model, "one"));
	req.service = id(pc_model_service(w.model, "web"));
	assert_int_equal(pc_addr_parse("127.1.0.1", &req.client), PC_OK);
	req.preferred_cdn = id(pc_model_cdn(w.model, "cb2"));
	assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, NULL), PC_OK);
	expect(&w, &d, PC_BRANCH_PEER, "cb2", "B5");
	assert_true(d.flags & PC_DF_PREFERRED);
	unload(&w);
}

static void test_fig13_overloaded_colocated_server(void **state)
{
	(void)state;
	struct world w = load("fig13.yaml");
	uint32_t s1 = id(pc_model_server(w.model, "S1")), s2 = id(pc_model_server(w.model, "S2"));
	uint32_t s3 = id(pc_model_server(w.model, "S3"));
	pc_decision d;
	/* Unknown clients: the capturing node's AS stands in. */
	assert_int_equal(decide_at(&w, "abc", "web", "198.51.100.7", "N2", &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb", "S2");
	assert_true(d.flags & PC_DF_CLIENT_UNKNOWN);
	assert_int_equal(decide_at(&w, "abc", "web", NULL, "N3", &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb", "S3");
	assert_int_equal(decide_at(&w, "abc", "web", NULL, "N1", &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb", "S1");
	/* S2 overloaded: N2 sends clients to S1. */
	pc_live_set_load(w.live, s2, 95);
	assert_int_equal(decide_at(&w, "abc", "web", NULL, "N2", &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb", "S1");
	assert_int_equal(d.flags & PC_DF_SPILL, 0);
	/* Half loaded (penalty 20) loses to S1 ten cost units away. */
	pc_live_set_load(w.live, s2, 50);
	assert_int_equal(decide_at(&w, "abc", "web", NULL, "N2", &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb", "S1");
	/* S1 and S2 full: spill to S3, beyond gold's reach (claim 13). */
	pc_live_set_load(w.live, s1, 100);
	pc_live_set_load(w.live, s2, 100);
	assert_int_equal(decide_at(&w, "abc", "web", NULL, "N2", &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb", "S3");
	assert_true(d.flags & PC_DF_SPILL);
	assert_int_equal(d.path_cost, 30);
	pc_live_set_load(w.live, s3, 100);
	assert_int_equal(decide_at(&w, "abc", "web", NULL, "N2", &d), PC_ENOSERVER);
	unload(&w);
}

static void test_fig14_affiliate_without_servers(void **state)
{
	(void)state;
	struct world w = load("fig14.yaml");
	pc_decision d;
	assert_int_equal(decide_at(&w, "abc", "web", "127.3.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb", "S3");
	assert_int_equal(d.path_cost, 5);
	assert_int_equal(decide_at(&w, "abc", "web", "203.0.113.9", "N3", &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb", "S3");
	/* Measurements say AS 100 is now nearer. */
	uint32_t as300 = id(pc_model_as_by_asn(w.model, 300));
	pc_live_set_path_cost(w.live, as300, id(pc_model_as_by_asn(w.model, 100)), 1);
	assert_int_equal(decide_at(&w, "abc", "web", "127.3.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb", "S1");
	/* cb degrades entirely: divert to the ISP's X1/X2 under the SLA. */
	const char *cb[] = {"S1", "S2", "S3", "S4"};
	for (int i = 0; i < 4; i++)
		pc_live_set_health(w.live, id(pc_model_server(w.model, cb[i])), PC_HEALTH_DOWN);
	assert_int_equal(decide_at(&w, "abc", "web", "127.3.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PEER, "isp", "X1");
	assert_true(d.flags & PC_DF_FALLBACK);
	assert_int_equal(d.agreement, id(pc_model_agreement(w.model, "cb-isp")));
	assert_true(pc_report_due(&d));
	unload(&w);
}

/* Claim 13 without a distance limit: the nearest farm full, a farther one
 * serves, and the answer says so (SPILL and the spill step), as it does
 * under a limit. */
static void test_spill_note_without_distance_limit(void **state)
{
	(void)state;
	struct world w = load("fig09.yaml"); /* grade "any": no distance limit */
	pc_decision d;
	pc_trace trace;
	pc_request req;
	pc_request_init(&req);
	req.provider = id(pc_model_provider(w.model, "two"));
	req.service = id(pc_model_service(w.model, "web"));
	assert_int_equal(pc_addr_parse("127.2.0.1", &req.client), PC_OK);
	req.node = w.model->self_node;
	assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, &trace), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb2", "B1");
	assert_int_equal(d.flags & PC_DF_SPILL, 0);
	/* B1 and B2 (AS 200) full: B3 in AS 300 serves, a spill. */
	pc_live_set_load(w.live, id(pc_model_server(w.model, "B1")), 95);
	pc_live_set_load(w.live, id(pc_model_server(w.model, "B2")), 100);
	assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, &trace), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb2", "B3");
	assert_true(d.flags & PC_DF_SPILL);
	bool spill_step = false;
	for (uint32_t i = 0; i < trace.count; i++)
		spill_step |= trace.steps[i].kind == PC_TRACE_SPILL &&
		              trace.steps[i].a == d.servers[0] && trace.steps[i].b == 10;
	assert_true(spill_step);
	/* Only a full nearer server is a spill: a down one is not. */
	pc_live_set_load(w.live, id(pc_model_server(w.model, "B1")), 0);
	pc_live_set_load(w.live, id(pc_model_server(w.model, "B2")), 0);
	pc_live_set_health(w.live, id(pc_model_server(w.model, "B1")), PC_HEALTH_DOWN);
	pc_live_set_health(w.live, id(pc_model_server(w.model, "B2")), PC_HEALTH_DOWN);
	assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, &trace), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb2", "B3");
	assert_int_equal(d.flags & PC_DF_SPILL, 0);
	unload(&w);
}

/* The trace of a spill lists each server once per pass: the first pass
 * with its reason, then a PC_TRACE_PASS step, then the spill pass. */
static void test_spill_trace_one_line_per_server_per_pass(void **state)
{
	(void)state;
	struct world w = load("fig13.yaml");
	pc_live_set_load(w.live, id(pc_model_server(w.model, "S1")), 100);
	pc_live_set_load(w.live, id(pc_model_server(w.model, "S2")), 100);
	pc_request req;
	pc_request_init(&req);
	req.provider = id(pc_model_provider(w.model, "abc"));
	req.service = id(pc_model_service(w.model, "web"));
	req.node = id(pc_model_node(w.model, "N2"));
	pc_decision d;
	pc_trace trace;
	assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, &trace), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "cb", "S3");
	uint32_t seen[8] = {0}, passes = 0;
	for (uint32_t i = 0; i < trace.count; i++) {
		const struct pc_trace_step *s = &trace.steps[i];
		if (s->kind == PC_TRACE_PASS) {
			assert_int_equal(s->a, PC_PASS_SPILL);
			assert_int_equal(s->b, 10); /* beyond gold's 10 */
			assert_int_equal(s->c, 50); /* up to 10 + spill_max_cost 40 */
			memset(seen, 0, sizeof(seen));
			passes++;
		} else if (s->kind == PC_TRACE_PRUNE || s->kind == PC_TRACE_CANDIDATE) {
			assert_true(s->a < 8);
			assert_int_equal(seen[s->a]++, 0); /* once per pass */
		}
	}
	assert_int_equal(passes, 1);
	unload(&w);
}

/* Figure 20, links of cost 1: the affinity band never sends a client past
 * its nearest server, whatever the cost scale. */
static void test_fig20_affinity_band_at_cost_one(void **state)
{
	(void)state;
	struct world w = load("fig20.yaml");
	unsigned used[2] = {0, 0};
	for (unsigned i = 0; i < 64; i++) {
		char object[16];
		snprintf(object, sizeof(object), "clip%u", i);
		pc_request req;
		pc_request_init(&req);
		req.provider = id(pc_model_provider(w.model, "src10"));
		req.service = id(pc_model_service(w.model, "web"));
		req.object = object;
		req.object_len = strlen(object);
		req.node = w.model->self_node;
		pc_decision d;
		/* Client 403: 302 is one hop away, 102 and 104 two. */
		assert_int_equal(pc_addr_parse("127.4.0.3", &req.client), PC_OK);
		assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, NULL), PC_OK);
		expect(&w, &d, PC_BRANCH_OUTSIDE, "a", "s302");
		/* A client in AS 100: 102 or 104 (both used), never 302. */
		assert_int_equal(pc_addr_parse("127.1.0.3", &req.client), PC_OK);
		assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, NULL), PC_OK);
		assert_int_equal(d.branch, PC_BRANCH_PRIMARY);
		assert_int_equal(d.path_cost, 0);
		used[strcmp(w.model->servers[d.servers[0]].name, "s104") == 0]++;
	}
	assert_true(used[0] > 0 && used[1] > 0);
	/* Load within the band's slack keeps both in the band: 5 % on s102
	 * (score 2) is within 10 % of load_weight (4). */
	pc_live_set_load(w.live, id(pc_model_server(w.model, "s102")), 5);
	unsigned again[2] = {0, 0};
	for (unsigned i = 0; i < 64; i++) {
		char object[16];
		snprintf(object, sizeof(object), "clip%u", i);
		pc_request req;
		pc_request_init(&req);
		req.provider = id(pc_model_provider(w.model, "src10"));
		req.service = id(pc_model_service(w.model, "web"));
		req.object = object;
		req.object_len = strlen(object);
		req.node = w.model->self_node;
		assert_int_equal(pc_addr_parse("127.1.0.3", &req.client), PC_OK);
		pc_decision d;
		assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, NULL), PC_OK);
		again[strcmp(w.model->servers[d.servers[0]].name, "s104") == 0]++;
	}
	assert_int_equal(again[0], used[0]);
	pc_decision d;
	assert_int_equal(decide_at(&w, "src11", "web", "127.4.0.3", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PRIMARY, "b", "s402");
	unload(&w);
}

/* The patent's OUTSIDE rule always sends the client to the primary CDN: a
 * grade's limits that leave no server there are relaxed, in order (first
 * max_path_cost, then high_watermark), and the decision says so. */
static void test_outside_relaxes_the_grade(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(pc_file_read(PC_FIXTURES_DIR "/fig09.yaml", &text, &len), 0);
	const char *from = "  - name: any\n    tiers: [edge, core]\n";
	char *at = strstr(text, from);
	assert_non_null(at);
	char yaml[8192];
	snprintf(yaml, sizeof(yaml),
	         "%.*s  - name: any\n    tiers: [edge, core]\n"
	         "    max_path_cost: 3\n%s",
	         (int)(at - text), text, at + strlen(from));
	free(text);
	struct world w = {fixture_load_text(yaml), NULL};
	assert_non_null(w.model);
	assert_int_equal(pc_live_new(w.model, &w.live), PC_OK);
	pc_decision d;
	pc_trace trace;
	pc_request req;
	pc_request_init(&req);
	req.provider = id(pc_model_provider(w.model, "two"));
	req.service = id(pc_model_service(w.model, "web"));
	assert_int_equal(pc_addr_parse("127.1.0.1", &req.client), PC_OK); /* cb1, AS 100 */
	req.node = w.model->self_node;
	/* cb2's servers are 10 and 20 away, over the grade's 3: relaxed. */
	assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, &trace), PC_OK);
	expect(&w, &d, PC_BRANCH_OUTSIDE, "cb2", "B1");
	assert_true(d.flags & PC_DF_RELAXED);
	assert_int_equal(d.path_cost, 10);
	bool relax_cost = false;
	for (uint32_t i = 0; i < trace.count; i++)
		relax_cost |=
		    trace.steps[i].kind == PC_TRACE_PASS && trace.steps[i].a == PC_PASS_RELAX_COST;
	assert_true(relax_cost);
	char flags[128];
	assert_true(pc_decision_flags_format(d.flags, flags, sizeof(flags)) > 0);
	assert_non_null(strstr(flags, "RELAXED"));
	/* Every cb2 server over the watermark but under capacity: then the
	 * watermark is lifted too. */
	const char *cb2[] = {"B1", "B2", "B3", "B4"};
	for (int i = 0; i < 4; i++)
		pc_live_set_load(w.live, id(pc_model_server(w.model, cb2[i])), 95);
	assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, &trace), PC_OK);
	expect(&w, &d, PC_BRANCH_OUTSIDE, "cb2", "B1");
	assert_true(d.flags & PC_DF_RELAXED);
	bool relax_load = false;
	for (uint32_t i = 0; i < trace.count; i++)
		relax_load |=
		    trace.steps[i].kind == PC_TRACE_PASS && trace.steps[i].a == PC_PASS_RELAX_LOAD;
	assert_true(relax_load);
	/* Full, down, or of no service: never relaxed. */
	for (int i = 0; i < 4; i++)
		pc_live_set_load(w.live, id(pc_model_server(w.model, cb2[i])), 100);
	assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, NULL), PC_ENOSERVER);
	/* A client inside cb2 within the limit: not relaxed. */
	for (int i = 0; i < 4; i++)
		pc_live_set_load(w.live, id(pc_model_server(w.model, cb2[i])), 0);
	assert_int_equal(pc_addr_parse("127.2.0.1", &req.client), PC_OK);
	assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, NULL), PC_OK);
	assert_int_equal(d.flags & PC_DF_RELAXED, 0);
	unload(&w);
}

/* A content exchange: no footprint, no servers; OUTSIDE for its providers
 * goes to the nearest server among the CDNs it has agreements with, under
 * PEER's rules of service and capacity, reported to both. */
static void test_content_exchange(void **state)
{
	(void)state;
	struct world w = load("exchange.yaml");
	uint32_t xchg = id(pc_model_cdn(w.model, "xchg"));
	assert_true(w.model->cdns[xchg].exchange);
	pc_decision d;
	/* Inside a partner: PEER, as for any primary CDN. */
	assert_int_equal(decide_at(&w, "bcast", "web", "127.1.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_PEER, "isp1", "I1");
	/* isp3 has no agreement with the exchange: OUTSIDE through it. */
	pc_request req;
	pc_request_init(&req);
	req.provider = id(pc_model_provider(w.model, "bcast"));
	req.service = id(pc_model_service(w.model, "web"));
	assert_int_equal(pc_addr_parse("127.3.0.1", &req.client), PC_OK);
	req.node = w.model->self_node;
	req.now_ms = 1764064800000ULL;
	pc_trace trace;
	assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, &trace), PC_OK);
	expect(&w, &d, PC_BRANCH_OUTSIDE, "isp1", "I1");
	uint32_t g1 = id(pc_model_agreement(w.model, "xchg-isp1"));
	assert_int_equal(d.agreement, g1);
	assert_int_equal(pc_live_agreement_total(w.live, g1), 2);
	assert_int_equal(d.path_cost, 5);
	/* Reported to the provider, and to the exchange. */
	assert_true(pc_report_due(&d));
	assert_int_equal(pc_report_exchange(w.model, &d), xchg);
	char line[512];
	assert_true(pc_report_format(w.model, &req, &d, req.now_ms, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, " agreement=xchg-isp1 reason=EXCHANGE "));
	/* The trace shows the path: the exchange, then its partner. */
	bool via = false, taken = false;
	for (uint32_t i = 0; i < trace.count; i++) {
		via |= trace.steps[i].kind == PC_TRACE_BRANCH &&
		       trace.steps[i].a == PC_BRANCH_OUTSIDE && trace.steps[i].b == xchg;
		taken |= trace.steps[i].kind == PC_TRACE_AGREEMENT && trace.steps[i].a == g1 &&
		         trace.steps[i].b == 1;
	}
	assert_true(via && taken);
	/* A client in no CDN too. */
	assert_int_equal(decide_at(&w, "bcast", "web", "127.4.0.1", NULL, &d), PC_OK);
	expect(&w, &d, PC_BRANCH_OUTSIDE, "isp1", "I1");
	/* I1 down: isp2's I2, until xchg-isp2's 1 per second is used. */
	pc_live_set_health(w.live, id(pc_model_server(w.model, "I1")), PC_HEALTH_DOWN);
	assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, NULL), PC_OK);
	expect(&w, &d, PC_BRANCH_OUTSIDE, "isp2", "I2");
	assert_int_equal(d.agreement, id(pc_model_agreement(w.model, "xchg-isp2")));
	assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, NULL), PC_ENOSERVER);
	/* tv: xchg-isp1 does not cover it, so I1 (up again) is never used. */
	pc_live_set_health(w.live, id(pc_model_server(w.model, "I1")), PC_HEALTH_UP);
	req.service = id(pc_model_service(w.model, "tv"));
	req.now_ms += 1000;
	assert_int_equal(pc_policy_decide(w.model, w.live, &req, &d, NULL), PC_OK);
	expect(&w, &d, PC_BRANCH_OUTSIDE, "isp2", "I2");
	unload(&w);
}

static void collect_diag(void *ctx, const char *message)
{
	char *all = ctx;
	strncat(all, message, 4095 - strlen(all));
	strncat(all, "\n", 4095 - strlen(all));
}

/* An exchange has no footprint and no servers; a CDN that is not one
 * needs its backbone. Errors carry file:line:column. */
static void test_content_exchange_validated(void **state)
{
	(void)state;
	static const char yaml[] =
	    "version: 1\n"
	    "tiers: [edge]\n"
	    "services: [{name: web}]\n"
	    "ases: [{asn: 100}]\n"
	    "cdns:\n"
	    "  - {name: x, domain: x.example, exchange: true, backbone: [100]}\n"
	    "  - {name: y, domain: y.example}\n"
	    "  - {name: z, domain: z.example, exchange: true}\n"
	    "servers:\n"
	    "  - {name: s, cdn: z, as: 100, addresses: [127.0.0.1], tier: edge,\n"
	    "     services: [web], capacity: 1}\n";
	char all[4096] = "";
	pc_config *config = NULL;
	struct pc_config_options opts = {.source = "ex.yaml", .sections = pc_role_sections};
	assert_int_not_equal(pc_config_load(yaml, strlen(yaml), &opts, collect_diag, all, &config),
	                     PC_OK);
	assert_null(config);
	print_message("%s", all);
	assert_non_null(strstr(all, "ex.yaml:6:5: "));
	assert_non_null(strstr(all, "exchange"));
	assert_non_null(strstr(all, "ex.yaml:7:5: "));
	assert_non_null(strstr(all, "backbone"));
	assert_non_null(strstr(all, "ex.yaml:10:5: "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixtures_load_cleanly),
	    cmocka_unit_test(test_fig09_backbones_without_peering),
	    cmocka_unit_test(test_fig10_affiliates),
	    cmocka_unit_test(test_fig11_mutual_affiliates),
	    cmocka_unit_test(test_fig13_overloaded_colocated_server),
	    cmocka_unit_test(test_fig14_affiliate_without_servers),
	    cmocka_unit_test(test_spill_note_without_distance_limit),
	    cmocka_unit_test(test_spill_trace_one_line_per_server_per_pass),
	    cmocka_unit_test(test_fig20_affinity_band_at_cost_one),
	    cmocka_unit_test(test_outside_relaxes_the_grade),
	    cmocka_unit_test(test_content_exchange),
	    cmocka_unit_test(test_content_exchange_validated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
