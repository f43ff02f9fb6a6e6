/* Unit tests of the policy engine on the default federation
 * (etc/peercdn.yaml): every prune reason, scoring and the load penalty,
 * affinity, answer counts, address family, avoidance, fallback, no server,
 * the trace, and clients in no known network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "world.h"
#include "lib/model/config.h"
#include "lib/base/err.h"
#include "lib/policy/policy.h"

static pc_request request(const struct world *w, const char *provider, const char *service,
                          const char *client, const char *object)
{
	pc_request req;
	pc_request_init(&req);
	req.provider = pc_model_provider(w->model, provider);
	req.service = pc_model_service(w->model, service);
	assert_int_not_equal(req.provider, PC_NONE);
	assert_int_not_equal(req.service, PC_NONE);
	if (client != NULL)
		assert_int_equal(pc_addr_parse(client, &req.client), PC_OK);
	req.node = w->model->self_node;
	req.object = object;
	req.object_len = object ? strlen(object) : 0;
	req.now_ms = 1764064800000ULL;
	return req;
}

static const char *winner(const struct world *w, const pc_decision *d)
{
	assert_true(d->n_servers > 0);
	return w->model->servers[d->servers[0]].name;
}

/* The reason the trace gives for pruning server, or 0 when it was not. */
static uint32_t pruned(const struct world *w, uint32_t s)
{
	for (uint32_t i = 0; i < w->trace.count; i++)
		if (w->trace.steps[i].kind == PC_TRACE_PRUNE && w->trace.steps[i].a == s)
			return w->trace.steps[i].b;
	return 0;
}

static int decide(struct world *w, const pc_request *req, pc_decision *d)
{
	return pc_policy_decide(w->model, w->live, req, d, &w->trace);
}

static void test_prune_service_and_tier(void **state)
{
	struct world *w = *state;
	pc_request req = request(w, "abc", "tv", "127.1.0.9", NULL);
	pc_decision d;
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_PRIMARY);
	assert_int_equal(pruned(w, world_server(w, "acme-s4")),
	                 PC_PRUNE_SERVICE); /* web, vod only */
	assert_int_equal(pruned(w, world_server(w, "acme-core")), PC_PRUNE_GRADE_TIER); /* gold */
	assert_string_equal(winner(w, &d), "acme-s1");
}

static void test_prune_down_and_draining(void **state)
{
	struct world *w = *state;
	pc_live_set_health(w->live, world_server(w, "acme-s1"), PC_HEALTH_DOWN);
	pc_live_set_health(w->live, world_server(w, "acme-s2"), PC_HEALTH_DRAINING);
	pc_request req = request(w, "abc", "web", "127.1.0.9", NULL);
	pc_decision d;
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(pruned(w, world_server(w, "acme-s1")), PC_PRUNE_DOWN);
	assert_int_equal(pruned(w, world_server(w, "acme-s2")), PC_PRUNE_DOWN);
	assert_string_equal(winner(w, &d), "acme-s4");
	assert_int_equal(d.path_cost, 5);
}

static void test_prune_load_watermark(void **state)
{
	struct world *w = *state;
	uint32_t s1 = world_server(w, "acme-s1");
	pc_request req = request(w, "abc", "web", "127.1.0.9", NULL);
	pc_decision d;
	pc_live_set_load(w->live, s1, 900); /* 90 % of 1000: at the watermark */
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(pruned(w, s1), PC_PRUNE_LOAD);
	for (uint32_t i = 0; i < w->trace.count; i++)
		if (w->trace.steps[i].kind == PC_TRACE_PRUNE && w->trace.steps[i].a == s1)
			assert_int_equal(w->trace.steps[i].c, 90);
	pc_live_set_load(w->live, s1, 899);
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(pruned(w, s1), 0);
}

static void test_prune_path_cost(void **state)
{
	struct world *w = *state;
	/* AS 700 reaches acme's AS 100 at 20 and AS 400 at 25; gold allows 30. */
	pc_live_set_path_cost(w->live, world_as(w, 700), world_as(w, 100), 35);
	pc_request req = request(w, "abc", "web", "127.7.0.1", NULL);
	pc_decision d;
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_OUTSIDE);
	assert_int_equal(pruned(w, world_server(w, "acme-s1")), PC_PRUNE_PATH_COST);
	assert_string_equal(winner(w, &d), "acme-s4");
	assert_int_equal(d.path_cost, 25);
	/* Unreachable is pruned even for a grade with no distance limit. */
	pc_live_set_path_cost(w->live, world_as(w, 700), world_as(w, 100), PC_COST_INFINITE);
	req = request(w, "nbc", "web", "127.7.0.1", NULL);
	assert_int_equal(decide(w, &req, &d), PC_ENOSERVER);
	assert_int_equal(pruned(w, world_server(w, "acme-core")), PC_PRUNE_PATH_COST);
}

static void test_score_and_load_penalty(void **state)
{
	struct world *w = *state;
	uint32_t s1 = world_server(w, "acme-s1"), s2 = world_server(w, "acme-s2");
	pc_request req = request(w, "abc", "web", "127.1.0.9", NULL);
	pc_decision d;
	/* Equal scores: the lower index wins, without an object. */
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.servers[0], s1);
	assert_int_equal(d.flags & PC_DF_AFFINITY, 0);
	/* 50 % load costs 20 of the 40 load_weight units. */
	pc_live_set_load(w->live, s1, 500);
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.servers[0], s2);
	bool seen = false;
	for (uint32_t i = 0; i < w->trace.count; i++) {
		const struct pc_trace_step *step = &w->trace.steps[i];
		if (step->kind == PC_TRACE_CANDIDATE && step->a == s1) {
			assert_int_equal(step->b, 0);
			assert_int_equal(step->c, 20);
			seen = true;
		}
	}
	assert_true(seen);
	pc_live_set_load(w->live, s2, 600); /* 24 */
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_string_equal(winner(w, &d), "acme-s4"); /* cost 5, no load */
	req.max_answers = 3;
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.n_servers, 3);
	assert_int_equal(d.servers[1], s1);
	assert_int_equal(d.servers[2], s2);
}

static void test_affinity_stable_and_spread(void **state)
{
	struct world *w = *state;
	pc_decision d;
	unsigned hits[3] = {0};
	const char *names[3] = {"acme-s1", "acme-s2", "acme-s4"};
	for (int i = 0; i < 300; i++) {
		char object[32];
		snprintf(object, sizeof(object), "obj%d", i);
		pc_request req = request(w, "abc", "web", "127.1.0.9", object);
		assert_int_equal(decide(w, &req, &d), PC_OK);
		assert_true(d.flags & PC_DF_AFFINITY);
		uint32_t first = d.servers[0];
		for (int again = 0; again < 5; again++) {
			assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL),
			                 PC_OK);
			assert_int_equal(d.servers[0], first);
		}
		for (int k = 0; k < 3; k++)
			hits[k] += strcmp(w->model->servers[first].name, names[k]) == 0;
	}
	/* Two servers in the band (scores 0, 0): acme-s4 (score 5) is a farm
	 * farther than the client's own, which the relative band never
	 * reaches from a best score of 0. */
	assert_true(hits[0] > 100 && hits[1] > 100);
	assert_int_equal(hits[2], 0);
	/* Case does not move an object: DNS names are case-blind. */
	pc_request lower = request(w, "abc", "web", "127.1.0.9", "ad102");
	pc_request upper = request(w, "abc", "web", "127.1.0.9", "AD102");
	pc_decision d2;
	assert_int_equal(decide(w, &lower, &d), PC_OK);
	assert_int_equal(decide(w, &upper, &d2), PC_OK);
	assert_int_equal(d.servers[0], d2.servers[0]);
	/* Out of the band by load: the object moves, and comes back. */
	uint32_t home = d.servers[0];
	pc_live_set_load(w->live, home, 800); /* +32 */
	assert_int_equal(decide(w, &lower, &d2), PC_OK);
	assert_int_not_equal(d2.servers[0], home);
	pc_live_set_load(w->live, home, 0);
	assert_int_equal(decide(w, &lower, &d2), PC_OK);
	assert_int_equal(d2.servers[0], home);
}

/* Replicas (live.h): within the band a server known to hold the object
 * wins over the rendezvous hash's choice, and over the affinity memory;
 * outside the band, pruned, or forgotten, it does not. */
static void test_replica_preferred_in_band(void **state)
{
	struct world *w = *state;
	uint32_t s1 = world_server(w, "acme-s1"), s2 = world_server(w, "acme-s2");
	uint32_t s4 = world_server(w, "acme-s4");
	pc_request req = request(w, "abc", "web", "127.1.0.9", "www.abc.com/big.iso");
	pc_decision d;
	assert_int_equal(decide(w, &req, &d), PC_OK);
	uint32_t hashed = d.servers[0], other = hashed == s1 ? s2 : s1;
	assert_true(hashed == s1 || hashed == s2);
	assert_false(d.flags & PC_DF_REPLICA);
	uint64_t key = pc_live_object_key(req.object, req.object_len);
	pc_live_replica_add(w->live, key, other, req.now_ms);
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.servers[0], other);
	assert_true(d.flags & PC_DF_REPLICA);
	bool traced = false;
	for (uint32_t i = 0; i < w->trace.count; i++)
		traced |=
		    w->trace.steps[i].kind == PC_TRACE_REPLICA && w->trace.steps[i].a == other;
	assert_true(traced);
	/* The holder beats the memory of where the object was sent. */
	req.sticky_server = hashed;
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.servers[0], other);
	req.sticky_server = PC_NONE;
	/* Case-blind, as the affinity key. */
	pc_request upper = request(w, "abc", "web", "127.1.0.9", "WWW.ABC.COM/big.iso");
	assert_int_equal(decide(w, &upper, &d), PC_OK);
	assert_int_equal(d.servers[0], other);
	/* Down: never chosen for holding the object. */
	pc_live_set_health(w->live, other, PC_HEALTH_DOWN);
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.servers[0], hashed);
	pc_live_set_health(w->live, other, PC_HEALTH_UP);
	/* Out of the band by load: the holder loses to a lighter server. */
	pc_live_set_load(w->live, other, 800);
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.servers[0], hashed);
	assert_false(d.flags & PC_DF_REPLICA);
	pc_live_set_load(w->live, other, 0);
	/* A holder in a farther farm (outside the band) is not preferred. */
	pc_request far = request(w, "abc", "web", "127.1.0.9", "www.abc.com/far.iso");
	assert_int_equal(decide(w, &far, &d), PC_OK);
	uint32_t near = d.servers[0];
	pc_live_replica_add(w->live, pc_live_object_key(far.object, far.object_len), s4,
	                    far.now_ms);
	assert_int_equal(decide(w, &far, &d), PC_OK);
	assert_int_equal(d.servers[0], near);
	/* Forgotten after PC_REPLICA_TTL_S: the hash decides again. */
	req.now_ms += (PC_REPLICA_TTL_S + 1) * 1000ULL;
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.servers[0], hashed);
}

static void test_max_answers(void **state)
{
	struct world *w = *state;
	pc_request req = request(w, "abc", "web", "127.1.0.9", "ad102");
	pc_decision d;
	req.max_answers = 0; /* means 1 */
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.n_servers, 1);
	uint32_t first = d.servers[0];
	req.max_answers = PC_MAX_ANSWERS;
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.n_servers, 3); /* only three survive */
	assert_int_equal(d.servers[0], first);
	assert_int_not_equal(d.servers[0], d.servers[1]);
	assert_int_not_equal(d.servers[1], d.servers[2]);
	assert_int_not_equal(d.servers[0], d.servers[2]);
	req.max_answers = PC_MAX_ANSWERS + 1;
	assert_int_equal(decide(w, &req, &d), PC_EINVAL);
}

static void test_family_and_enoserver(void **state)
{
	struct world *w = *state;
	pc_request req = request(w, "abc", "web", "2001:db8:100::7", NULL);
	pc_decision d;
	req.family = PC_AF_INET;
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_PRIMARY);
	assert_int_equal(d.client_scope, 48);
	/* No server of the default federation has an IPv6 address. */
	req.family = PC_AF_INET6;
	assert_int_equal(decide(w, &req, &d), PC_ENOSERVER);
	assert_int_equal(d.branch, PC_BRANCH_NONE);
	assert_int_equal(d.n_servers, 0);
	assert_int_equal(pruned(w, world_server(w, "acme-s1")), PC_PRUNE_FAMILY);
}

static void test_avoid(void **state)
{
	struct world *w = *state;
	pc_request req = request(w, "abc", "web", "127.1.0.9", "ad102");
	req.avoid[0] = world_server(w, "acme-s1");
	req.avoid[1] = world_server(w, "acme-s2");
	req.n_avoid = 2;
	pc_decision d;
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_string_equal(winner(w, &d), "acme-s4");
	assert_int_equal(pruned(w, req.avoid[0]), PC_PRUNE_AVOIDED);
	assert_int_equal(pruned(w, req.avoid[1]), PC_PRUNE_AVOIDED);
	assert_int_equal(d.flags & PC_DF_AFFINITY, 0); /* one in the band */
}

static void test_fallback_to_outside(void **state)
{
	struct world *w = *state;
	/* nbc is bronze (core only); beta has no core server, so a beta
	 * client's PEER branch finds nothing and acme serves it. */
	pc_request req = request(w, "nbc", "web", "127.2.0.1", NULL);
	pc_decision d;
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_OUTSIDE);
	assert_true(d.flags & PC_DF_FALLBACK);
	assert_string_equal(winner(w, &d), "acme-core");
	assert_int_equal(d.agreement, PC_NONE);
	/* The PEER branch that found no server took no capacity. */
	uint32_t g = pc_model_agreement(w->model, "acme-beta");
	assert_int_equal(pc_live_agreement_window(w->live, g, req.now_ms), 0);
}

static void test_enoserver_when_primary_exhausted(void **state)
{
	struct world *w = *state;
	const char *acme[] = {"acme-s1", "acme-s2", "acme-core", "acme-s4"};
	for (int i = 0; i < 4; i++)
		pc_live_set_health(w->live, world_server(w, acme[i]), PC_HEALTH_DOWN);
	pc_request req = request(w, "abc", "web", "127.1.0.9", NULL);
	pc_decision d;
	assert_int_equal(decide(w, &req, &d), PC_ENOSERVER);
	assert_int_equal(d.branch, PC_BRANCH_NONE);
	assert_int_equal(d.cdn, PC_NONE);
	/* PEER needs no server of the primary CDN; OUTSIDE does, and
	 * policy never picks gamma for abc. */
	req = request(w, "abc", "web", "127.2.0.1", NULL);
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_PEER);
	req = request(w, "abc", "web", "127.6.0.1", NULL);
	assert_int_equal(decide(w, &req, &d), PC_ENOSERVER);
}

static void test_trace_contents(void **state)
{
	struct world *w = *state;
	pc_request req = request(w, "abc", "web", "127.2.0.1", "ad102");
	pc_decision d;
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_PEER);
	uint32_t beta = pc_model_cdn(w->model, "beta"), acme = pc_model_cdn(w->model, "acme");
	uint32_t g = pc_model_agreement(w->model, "acme-beta");
	assert_int_equal(d.cdn, beta);
	assert_int_equal(d.agreement, g);
	const struct pc_trace_step *s = w->trace.steps;
	assert_false(w->trace.truncated);
	assert_int_equal(s[0].kind, PC_TRACE_CLIENT);
	assert_int_equal(s[0].a, d.client_net);
	assert_int_equal(s[0].b, world_as(w, 200));
	assert_int_equal(s[1].kind, PC_TRACE_CLIENT_CDN);
	assert_int_equal(s[1].a, beta);
	assert_int_equal(s[2].kind, PC_TRACE_PRIMARY_CDN);
	assert_int_equal(s[2].a, acme);
	assert_int_equal(s[3].kind, PC_TRACE_BRANCH);
	assert_int_equal(s[3].a, PC_BRANCH_PEER);
	assert_int_equal(s[3].b, beta);
	unsigned candidates = 0, agreement_at = 0, winner_at = 0;
	for (uint32_t i = 4; i < w->trace.count; i++) {
		candidates += s[i].kind == PC_TRACE_CANDIDATE;
		if (s[i].kind == PC_TRACE_AGREEMENT) {
			assert_int_equal(s[i].a, g);
			assert_int_equal(s[i].b, 1);
			agreement_at = i;
		}
		if (s[i].kind == PC_TRACE_WINNER) {
			assert_int_equal(s[i].a, d.servers[0]);
			winner_at = i;
		}
	}
	assert_int_equal(candidates, 3); /* beta-s1, beta-s2, beta-s5 */
	assert_true(agreement_at > 0 && winner_at > agreement_at);
	/* beta-s1 is alone at the client's distance (AS 200, cost 0; the
	 * others cost 5): the affinity band does not reach farther farms, so
	 * the last step is the winner, with no AFFINITY note. */
	assert_int_equal(s[w->trace.count - 1].kind, PC_TRACE_WINNER);
	assert_int_equal(d.flags & PC_DF_AFFINITY, 0);
	/* Tracing changes nothing. */
	pc_decision quiet;
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &quiet, NULL), PC_OK);
	assert_int_equal(quiet.servers[0], d.servers[0]);
}

static void test_trace_never_overflows(void **state)
{
	struct world *w = *state;
	/* Fill the trace with junk first: decide must reset it. */
	w->trace.count = PC_TRACE_MAX;
	w->trace.truncated = true;
	pc_request req = request(w, "abc", "web", "127.1.0.9", NULL);
	pc_decision d;
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_false(w->trace.truncated);
	assert_true(w->trace.count < PC_TRACE_MAX);
}

static void test_unknown_client(void **state)
{
	struct world *w = *state;
	pc_decision d;
	/* Not in any client network: the capturing node's AS stands in. */
	pc_request req = request(w, "abc", "web", "192.0.2.1", NULL);
	req.node = pc_model_node(w->model, "beta-n1");
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_true(d.flags & PC_DF_CLIENT_UNKNOWN);
	assert_int_equal(d.client_net, PC_NONE);
	assert_int_equal(d.client_as, world_as(w, 200));
	assert_int_equal(d.client_scope, 0);
	assert_int_equal(d.branch, PC_BRANCH_PEER);
	/* No address at all behaves the same. */
	req = request(w, "abc", "web", NULL, NULL);
	req.node = pc_model_node(w->model, "acme-n1");
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_true(d.flags & PC_DF_CLIENT_UNKNOWN);
	assert_int_equal(d.branch, PC_BRANCH_PRIMARY);
	/* Neither address nor node: no distance is known, nothing serves. */
	req.node = PC_NONE;
	assert_int_equal(decide(w, &req, &d), PC_ENOSERVER);
	assert_true(d.flags & PC_DF_NO_CLIENT_CDN);
	/* A known client ignores the node. */
	req = request(w, "abc", "web", "127.7.0.1", NULL);
	req.node = pc_model_node(w->model, "beta-n1");
	assert_int_equal(decide(w, &req, &d), PC_OK);
	assert_int_equal(d.client_as, world_as(w, 700));
	assert_int_equal(d.client_scope, 17);
	assert_true(d.flags & PC_DF_NO_CLIENT_CDN);
	assert_int_equal(d.branch, PC_BRANCH_OUTSIDE);
}

static void test_invalid_requests(void **state)
{
	struct world *w = *state;
	pc_request req = request(w, "abc", "web", "127.1.0.9", NULL);
	pc_decision d;
	pc_request bad = req;
	bad.provider = 99;
	assert_int_equal(decide(w, &bad, &d), PC_EINVAL);
	bad = req;
	bad.service = PC_NONE;
	assert_int_equal(decide(w, &bad, &d), PC_EINVAL);
	bad = req;
	bad.n_avoid = PC_MAX_AVOID + 1;
	assert_int_equal(decide(w, &bad, &d), PC_EINVAL);
	bad = req;
	bad.family = 5;
	assert_int_equal(decide(w, &bad, &d), PC_EINVAL);
	bad = req;
	bad.node = 1234;
	assert_int_equal(decide(w, &bad, &d), PC_EINVAL);
	assert_int_equal(pc_policy_decide(w->model, w->live, NULL, &d, NULL), PC_EINVAL);
	assert_int_equal(d.branch, PC_BRANCH_NONE);
}

static void test_names(void **state)
{
	(void)state;
	char buf[128];
	assert_string_equal(pc_branch_name(PC_BRANCH_PEER), "PEER");
	assert_string_equal(pc_prune_reason_name(PC_PRUNE_GRADE_TIER), "GRADE_TIER");
	assert_int_equal(pc_decision_flags_format(0, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "-");
	assert_true(pc_decision_flags_format(PC_DF_SPILL | PC_DF_AFFINITY, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "SPILL,AFFINITY");
	assert_int_equal(pc_decision_flags_format(PC_DF_SPILL, buf, 5), PC_ESPACE);
	assert_int_equal(pc_decision_flags_format(PC_DF_SPILL, buf, 6), 5);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, world_setup, world_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_prune_service_and_tier),
	    T(test_prune_down_and_draining),
	    T(test_prune_load_watermark),
	    T(test_prune_path_cost),
	    T(test_score_and_load_penalty),
	    T(test_affinity_stable_and_spread),
	    T(test_replica_preferred_in_band),
	    T(test_max_answers),
	    T(test_family_and_enoserver),
	    T(test_avoid),
	    T(test_fallback_to_outside),
	    T(test_enoserver_when_primary_exhausted),
	    T(test_trace_contents),
	    T(test_trace_never_overflows),
	    T(test_unknown_client),
	    T(test_invalid_requests),
	    T(test_names),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
