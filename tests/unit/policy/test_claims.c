/* One test per claim the policy engine implements, on the default
 * federation (etc/peercdn.yaml: acme, beta, gamma; AS 500 in acme and
 * beta; AS 700 in none; abc gold and nbc bronze at acme, foo silver at
 * beta, news at gamma; acme and beta peer for web and vod). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "world.h"
#include "lib/model/config.h"
#include "lib/base/err.h"
#include "lib/naming/naming.h"
#include "lib/policy/policy.h"
#include "lib/policy/report.h"

static uint32_t id(uint32_t index)
{
	assert_int_not_equal(index, PC_NONE);
	return index;
}

/* The request a redirector builds for a DNS name from a client address. */
static pc_request from_name(struct world *w, pc_name *name, const char *dns_name,
                            const char *client)
{
	assert_int_equal(pc_name_parse(w->model, dns_name, strlen(dns_name), name), PC_OK);
	pc_request req;
	pc_request_init(&req);
	req.provider = name->provider;
	req.service = name->service;
	req.object = name->object;
	req.object_len = name->object_len;
	assert_int_equal(pc_addr_parse(client, &req.client), PC_OK);
	req.node = w->model->self_node;
	req.now_ms = 1764064800123ULL;
	return req;
}

static const char *cdn_name(const struct world *w, const pc_decision *d)
{
	return d->cdn < w->model->n_cdns ? w->model->cdns[d->cdn].name : "-";
}

static const char *server_name(const struct world *w, const pc_decision *d)
{
	assert_true(d->n_servers > 0);
	return w->model->servers[d->servers[0]].name;
}

/* Claim 1: the client's CDN is a primary CDN of the provider -> a server
 * within the client's CDN. */
static void test_claim1_primary_serves_inside(void **state)
{
	struct world *w = *state;
	pc_name name;
	pc_decision d;
	const char *clients[] = {"127.1.0.5", "127.4.0.5", "127.5.0.5"}; /* AS 100, 400, 500 */
	for (int i = 0; i < 3; i++) {
		pc_request req = from_name(w, &name, "ad102.web.abc.cdn.acme.net", clients[i]);
		assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
		assert_int_equal(d.branch, PC_BRANCH_PRIMARY);
		assert_string_equal(cdn_name(w, &d), "acme");
		assert_int_equal(w->model->servers[d.servers[0]].cdn, d.cdn);
		assert_int_equal(d.agreement, PC_NONE);
	}
	/* AS 500 is in beta too: foo (beta) is served inside beta there. */
	pc_request req = from_name(w, &name, "x.web.foo.cdn.beta.net", "127.5.0.5");
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_PRIMARY);
	assert_string_equal(cdn_name(w, &d), "beta");
	assert_string_equal(server_name(w, &d), "beta-s5");
}

/* Claim 2, first branch: not primary, but the client's CDN peers with a
 * primary CDN -> a server within the client's CDN, counted against the
 * agreement. */
static void test_claim2_peer_serves_inside(void **state)
{
	struct world *w = *state;
	pc_name name;
	pc_decision d;
	uint32_t g = id(pc_model_agreement(w->model, "acme-beta"));
	pc_request req = from_name(w, &name, "ad102.web.abc.cdn.acme.net", "127.2.0.5");
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_PEER);
	assert_string_equal(cdn_name(w, &d), "beta");
	assert_int_equal(d.agreement, g);
	assert_int_equal(pc_live_agreement_window(w->live, g, req.now_ms), 1);
	/* The other direction: foo (beta) to an acme client. */
	req = from_name(w, &name, "movie.vod.foo.cdn.beta.net", "127.1.0.5");
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_PEER);
	assert_string_equal(cdn_name(w, &d), "acme");
	assert_int_equal(pc_live_agreement_total(w->live, g), 2);
	/* Capacity is part of the agreement: once the second is used up,
	 * the client is served outside instead. */
	while (pc_live_agreement_try_take(w->live, g, req.now_ms))
		;
	req = from_name(w, &name, "ad102.web.abc.cdn.acme.net", "127.2.0.5");
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, &w->trace), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_OUTSIDE);
	assert_string_equal(cdn_name(w, &d), "acme");
	assert_true(d.flags & PC_DF_AGREEMENT_FULL);
	assert_int_equal(d.agreement, PC_NONE);
	req.now_ms += 1000; /* the next second has room again */
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_PEER);
}

/* Claim 2, second branch: no peering covering the request -> a server
 * outside the client's CDN, from the provider's primary CDN. */
static void test_claim2_outside_without_peering(void **state)
{
	struct world *w = *state;
	pc_name name;
	pc_decision d;
	/* gamma peers with nobody. */
	pc_request req = from_name(w, &name, "ad102.web.abc.cdn.acme.net", "127.6.0.5");
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_OUTSIDE);
	assert_string_equal(cdn_name(w, &d), "acme");
	/* beta peers with acme, but not for tv. */
	req = from_name(w, &name, "chan4.tv.abc.cdn.acme.net", "127.2.0.5");
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, &w->trace), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_OUTSIDE);
	assert_string_equal(cdn_name(w, &d), "acme");
	bool not_covering = false;
	for (uint32_t i = 0; i < w->trace.count; i++)
		not_covering |=
		    w->trace.steps[i].kind == PC_TRACE_AGREEMENT && w->trace.steps[i].b == 2;
	assert_true(not_covering);
	/* AS 700 is in no CDN at all. */
	req = from_name(w, &name, "story.web.news.cdn.gamma.net", "127.7.0.5");
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_OUTSIDE);
	assert_string_equal(cdn_name(w, &d), "gamma");
	assert_true(d.flags & PC_DF_NO_CLIENT_CDN);
}

/* Claim 3: client connection information goes to the provider whenever
 * its content is served outside its primary CDN. */
static void test_claim3_reporting(void **state)
{
	struct world *w = *state;
	pc_name name;
	pc_decision d;
	char line[512];
	pc_request req = from_name(w, &name, "ad102.web.abc.cdn.acme.net", "127.1.0.5");
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_false(pc_report_due(&d)); /* PRIMARY */
	req = from_name(w, &name, "ad102.web.abc.cdn.acme.net", "127.2.0.5");
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_true(pc_report_due(&d)); /* PEER */
	assert_true(pc_report_format(w->model, &req, &d, req.now_ms, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, " provider=abc "));
	assert_non_null(strstr(line, " client=127.2.0.0/24 "));
	assert_non_null(strstr(line, " branch=PEER cdn=beta "));
	assert_non_null(strstr(line, " agreement=acme-beta "));
	req = from_name(w, &name, "ad102.web.abc.cdn.acme.net", "127.6.0.5");
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_true(pc_report_due(&d)); /* OUTSIDE */
	assert_true(pc_report_format(w->model, &req, &d, req.now_ms, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, " branch=OUTSIDE cdn=acme "));
	assert_non_null(strstr(line, " reason=NO_AGREEMENT "));
}

/* Claim 13: redirection to server farms in nearby ASes when the nearest
 * farm is full. */
static void test_claim13_spill_to_nearby_farm(void **state)
{
	struct world *w = *state;
	pc_name name;
	pc_decision d;
	/* Measure acme's AS 400 farm at 50 from AS 100: beyond gold's 30,
	 * within 30 + spill_max_cost 40. */
	pc_live_set_path_cost(w->live, id(pc_model_as_by_asn(w->model, 100)),
	                      id(pc_model_as_by_asn(w->model, 400)), 50);
	pc_request req = from_name(w, &name, "ad102.web.abc.cdn.acme.net", "127.1.0.5");
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_not_equal(d.flags & PC_DF_SPILL, PC_DF_SPILL);
	assert_int_not_equal(strcmp(server_name(w, &d), "acme-s4"), 0);
	pc_live_set_load(w->live, id(pc_model_server(w->model, "acme-s1")), 1000);
	pc_live_set_load(w->live, id(pc_model_server(w->model, "acme-s2")), 950);
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, &w->trace), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_PRIMARY);
	assert_string_equal(server_name(w, &d), "acme-s4");
	assert_true(d.flags & PC_DF_SPILL);
	assert_int_equal(d.path_cost, 50);
	bool spill_step = false;
	for (uint32_t i = 0; i < w->trace.count; i++)
		spill_step |= w->trace.steps[i].kind == PC_TRACE_SPILL &&
		              w->trace.steps[i].a == d.servers[0] && w->trace.steps[i].b == 50;
	assert_true(spill_step);
	/* Too far even for a spill: nothing in acme, and abc has no other
	 * primary CDN. */
	pc_live_set_path_cost(w->live, id(pc_model_as_by_asn(w->model, 100)),
	                      id(pc_model_as_by_asn(w->model, 400)), 71);
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_ENOSERVER);
	/* Down near servers are no reason to spill: only load is. */
	pc_live_set_path_cost(w->live, id(pc_model_as_by_asn(w->model, 100)),
	                      id(pc_model_as_by_asn(w->model, 400)), 50);
	pc_live_set_load(w->live, id(pc_model_server(w->model, "acme-s1")), 0);
	pc_live_set_load(w->live, id(pc_model_server(w->model, "acme-s2")), 0);
	pc_live_set_health(w->live, id(pc_model_server(w->model, "acme-s1")), PC_HEALTH_DOWN);
	pc_live_set_health(w->live, id(pc_model_server(w->model, "acme-s2")), PC_HEALTH_DOWN);
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_ENOSERVER);
}

/* Claims 15-16: parse the name into metadata, find the matching servers,
 * prune those that do not match the configuration (network policy, server
 * load, path measurements), return a subset. */
static void test_claims15_16_pruning(void **state)
{
	struct world *w = *state;
	pc_name name;
	pc_decision d;
	pc_request req = from_name(w, &name, "ad102.web.nbc.cdn.acme.net", "127.1.0.5");
	assert_int_equal(req.provider, id(pc_model_provider(w->model, "nbc")));
	req.max_answers = PC_MAX_ANSWERS;
	/* Network policy: bronze nbc gets only the core server (fig. 12's
	 * "farther away ... lower grade"). */
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, &w->trace), PC_OK);
	assert_int_equal(d.n_servers, 1);
	assert_string_equal(server_name(w, &d), "acme-core");
	unsigned tier = 0;
	for (uint32_t i = 0; i < w->trace.count; i++)
		tier += w->trace.steps[i].kind == PC_TRACE_PRUNE &&
		        w->trace.steps[i].b == PC_PRUNE_GRADE_TIER;
	assert_int_equal(tier, 3);
	/* The same name for gold abc: the edge servers, not the core. */
	req = from_name(w, &name, "ad102.web.abc.cdn.acme.net", "127.1.0.5");
	req.max_answers = PC_MAX_ANSWERS;
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_equal(d.n_servers, 3);
	for (uint32_t i = 0; i < d.n_servers; i++)
		assert_string_not_equal(w->model->servers[d.servers[i]].name, "acme-core");
	/* Server load measurements. */
	pc_live_set_load(w->live, id(pc_model_server(w->model, "acme-s1")), 990);
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_equal(d.n_servers, 2);
	/* Network path measurements: AS 400 unreachable from AS 100. */
	pc_live_set_path_cost(w->live, id(pc_model_as_by_asn(w->model, 100)),
	                      id(pc_model_as_by_asn(w->model, 400)), PC_COST_INFINITE);
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_equal(d.n_servers, 1);
	assert_string_equal(server_name(w, &d), "acme-s2");
}

/* Claim 19: configured client preferences, used in addition to policy. */
static void test_claim19_client_preferences(void **state)
{
	struct world *w = *state;
	pc_name name;
	pc_decision d;
	uint32_t acme = id(pc_model_cdn(w->model, "acme")),
	         beta = id(pc_model_cdn(w->model, "beta"));
	uint32_t gamma = id(pc_model_cdn(w->model, "gamma"));
	/* AS 500 is in acme and beta. abc would be PRIMARY in acme; the
	 * client prefers beta, which policy allows as PEER. */
	pc_request req = from_name(w, &name, "ad102.web.abc.cdn.acme.net", "127.5.0.5");
	req.preferred_cdn = beta;
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_PEER);
	assert_int_equal(d.cdn, beta);
	assert_true(d.flags & PC_DF_PREFERRED);
	/* gamma is not allowed for abc: ignored, never served from. */
	req.preferred_cdn = gamma;
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_PRIMARY);
	assert_int_equal(d.cdn, acme);
	assert_int_equal(d.flags & PC_DF_PREFERRED, 0);
	/* A gamma client preferring acme (the provider's primary) gets it
	 * as an OUTSIDE answer, flagged. */
	req = from_name(w, &name, "ad102.web.abc.cdn.acme.net", "127.6.0.5");
	req.preferred_cdn = acme;
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_OUTSIDE);
	assert_true(d.flags & PC_DF_PREFERRED);
	/* Avoided servers (a client's failed servers) are never returned. */
	req = from_name(w, &name, "ad102.web.abc.cdn.acme.net", "127.1.0.5");
	req.max_answers = PC_MAX_ANSWERS;
	req.avoid[0] = id(pc_model_server(w->model, "acme-s2"));
	req.n_avoid = 1;
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	for (uint32_t i = 0; i < d.n_servers; i++)
		assert_int_not_equal(d.servers[i], req.avoid[0]);
	/* Preferred beta with beta's servers all down: policy falls back to
	 * acme, never to a forbidden CDN. */
	const char *betas[] = {"beta-s1", "beta-s2", "beta-s5"};
	for (int i = 0; i < 3; i++)
		pc_live_set_health(w->live, id(pc_model_server(w->model, betas[i])),
		                   PC_HEALTH_DOWN);
	req = from_name(w, &name, "ad102.web.abc.cdn.acme.net", "127.5.0.5");
	req.preferred_cdn = beta;
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_PRIMARY);
	assert_int_equal(d.cdn, acme);
	assert_int_equal(d.flags & PC_DF_PREFERRED, 0);
	assert_true(d.flags & PC_DF_FALLBACK);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, world_setup, world_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_claim1_primary_serves_inside),   T(test_claim2_peer_serves_inside),
	    T(test_claim2_outside_without_peering), T(test_claim3_reporting),
	    T(test_claim13_spill_to_nearby_farm),   T(test_claims15_16_pruning),
	    T(test_claim19_client_preferences),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
