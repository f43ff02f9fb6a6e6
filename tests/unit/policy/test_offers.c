/* Unit tests of offers (claim 9): what a peer CDN announces it offers this
 * node's CDN, kept in the live state (pc_live_offer_set) and respected by
 * the policy when it would send a client to that CDN under an agreement.
 * On the default federation: abc (primary acme) for a beta client is PEER
 * at beta; each rule of an offer (service, footprint, capacity) moves it
 * OUTSIDE to acme, and an expired offer, an offer from a primary CDN, a
 * stale version or no offer at all changes nothing. On exchange.yaml: an
 * exchange's partner is held to its offer too. Also: offers survive a
 * reload (pc_live_carry). */
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
#include "lib/base/err.h"
#include "lib/model/live.h"
#include "lib/policy/policy.h"

#define NOW 1764064800000ULL /* ms: the requests' clock */

static pc_request request(const pc_model *model, const char *provider, const char *service,
                          const char *client)
{
	pc_request req;
	pc_request_init(&req);
	req.provider = pc_model_provider(model, provider);
	req.service = pc_model_service(model, service);
	assert_int_not_equal(req.provider, PC_NONE);
	assert_int_not_equal(req.service, PC_NONE);
	assert_int_equal(pc_addr_parse(client, &req.client), PC_OK);
	req.node = model->self_node;
	req.now_ms = NOW;
	return req;
}

static uint64_t services(const pc_model *model, const char *a, const char *b)
{
	uint64_t mask = 0;
	if (a != NULL)
		mask |= UINT64_C(1) << pc_model_service(model, a);
	if (b != NULL)
		mask |= UINT64_C(1) << pc_model_service(model, b);
	return mask;
}

/* cdn's offer of mask, capacity and footprint (n_asns ASNs, 0: none),
 * received at NOW. */
static int offer(const pc_model *model, pc_live *live, const char *cdn, uint64_t version,
                 uint64_t mask, uint64_t capacity, const uint32_t *asns, uint32_t n_asns)
{
	uint32_t ases[8];
	for (uint32_t i = 0; i < n_asns; i++)
		assert_int_not_equal(ases[i] = pc_model_as_by_asn(model, asns[i]), PC_NONE);
	struct pc_live_offer o = {
	    .version = version, .services = mask, .capacity = capacity, .footprint = n_asns > 0};
	return pc_live_offer_set(live, pc_model_cdn(model, cdn), &o, ases, n_asns, NOW);
}

/* The refusal the trace gives for cdn's offer, or 0. */
static uint32_t refusal(const pc_trace *trace, uint32_t cdn)
{
	for (uint32_t i = 0; i < trace->count; i++)
		if (trace->steps[i].kind == PC_TRACE_OFFER && trace->steps[i].a == cdn)
			return trace->steps[i].b;
	return 0;
}

static const char *cdn_of(const pc_model *model, const pc_decision *d)
{
	return model->cdns[d->cdn].name;
}

/* abc/web for a beta client: PEER at beta unless beta's offer says no. */
static void decide_beta_client(struct world *w, const char *client, pc_decision *d)
{
	pc_request req = request(w->model, "abc", "web", client);
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, d, &w->trace), PC_OK);
	/* Untraced, the same answer (the shortlist's path). */
	pc_decision plain;
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &plain, NULL), PC_OK);
	assert_int_equal(plain.branch, d->branch);
	assert_int_equal(plain.cdn, d->cdn);
}

static void test_no_offer_is_the_agreement_alone(void **state)
{
	struct world *w = *state;
	uint32_t beta = pc_model_cdn(w->model, "beta");
	struct pc_live_offer o;
	assert_false(pc_live_offer(w->live, beta, NOW, &o));
	pc_decision d;
	decide_beta_client(w, "127.2.0.10", &d);
	assert_int_equal(d.branch, PC_BRANCH_PEER);
	assert_string_equal(cdn_of(w->model, &d), "beta");
	assert_false(d.flags & PC_DF_OFFER);
	assert_int_equal(refusal(&w->trace, beta), 0);
}

static void test_service_not_offered(void **state)
{
	struct world *w = *state;
	uint32_t beta = pc_model_cdn(w->model, "beta");
	uint32_t ag = pc_model_agreement(w->model, "acme-beta");
	assert_int_equal(offer(w->model, w->live, "beta", 1, services(w->model, "vod", NULL),
	                       UINT64_MAX, NULL, 0),
	                 PC_OK);
	pc_decision d;
	decide_beta_client(w, "127.2.0.10", &d);
	assert_int_equal(d.branch, PC_BRANCH_OUTSIDE);
	assert_string_equal(cdn_of(w->model, &d), "acme");
	assert_true(d.flags & PC_DF_OFFER);
	assert_true(d.flags & PC_DF_FALLBACK);
	assert_int_equal(refusal(&w->trace, beta), PC_OFFER_SERVICE);
	/* The agreement was not used up by a PEER branch that fell back. */
	assert_int_equal(pc_live_agreement_total(w->live, ag), 0);
	/* vod is offered: PEER at beta. */
	pc_request req = request(w->model, "abc", "vod", "127.2.0.10");
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, &w->trace), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_PEER);
	assert_false(d.flags & PC_DF_OFFER);
	/* The service offered again (a newer version): back to beta. */
	assert_int_equal(offer(w->model, w->live, "beta", 2, services(w->model, "web", "vod"),
	                       UINT64_MAX, NULL, 0),
	                 PC_OK);
	decide_beta_client(w, "127.2.0.10", &d);
	assert_int_equal(d.branch, PC_BRANCH_PEER);
	assert_string_equal(cdn_of(w->model, &d), "beta");
}

static void test_footprint(void **state)
{
	struct world *w = *state;
	uint32_t beta = pc_model_cdn(w->model, "beta");
	const uint32_t west[] = {200};
	assert_int_equal(offer(w->model, w->live, "beta", 1, services(w->model, "web", "vod"),
	                       UINT64_MAX, west, 1),
	                 PC_OK);
	pc_decision d;
	decide_beta_client(w, "127.2.0.10", &d); /* AS 200: in the footprint */
	assert_int_equal(d.branch, PC_BRANCH_PEER);
	assert_string_equal(cdn_of(w->model, &d), "beta");
	decide_beta_client(w, "127.3.0.10", &d); /* AS 300: beta's, not offered */
	assert_int_equal(d.branch, PC_BRANCH_OUTSIDE);
	assert_string_equal(cdn_of(w->model, &d), "acme");
	assert_int_equal(refusal(&w->trace, beta), PC_OFFER_FOOTPRINT);
	assert_true(pc_live_offer_covers(w->live, beta, world_as(w, 200)));
	assert_false(pc_live_offer_covers(w->live, beta, world_as(w, 300)));
}

static void test_capacity(void **state)
{
	struct world *w = *state;
	uint32_t beta = pc_model_cdn(w->model, "beta");
	assert_int_equal(
	    offer(w->model, w->live, "beta", 1, services(w->model, "web", "vod"), 100, NULL, 0),
	    PC_OK);
	/* Each server far below its own watermark (capacity 1000). */
	pc_live_set_load(w->live, world_server(w, "beta-s1"), 60);
	pc_decision d;
	decide_beta_client(w, "127.2.0.10", &d);
	assert_int_equal(d.branch, PC_BRANCH_PEER);
	pc_live_set_load(w->live, world_server(w, "beta-s2"), 40); /* 100: all it offers */
	assert_int_equal(pc_live_cdn_load(w->live, beta), 100);
	decide_beta_client(w, "127.2.0.10", &d);
	assert_int_equal(d.branch, PC_BRANCH_OUTSIDE);
	assert_int_equal(refusal(&w->trace, beta), PC_OFFER_CAPACITY);
	bool traced_load = false;
	for (uint32_t i = 0; i < w->trace.count; i++)
		traced_load |=
		    w->trace.steps[i].kind == PC_TRACE_OFFER && w->trace.steps[i].c == 100;
	assert_true(traced_load);
}

static void test_expiry_and_versions(void **state)
{
	struct world *w = *state;
	uint32_t beta = pc_model_cdn(w->model, "beta");
	uint64_t vod = services(w->model, "vod", NULL);
	assert_int_equal(offer(w->model, w->live, "beta", 5, vod, 7, NULL, 0), PC_OK);
	/* Not newer: refused, the held one stays. */
	assert_int_equal(offer(w->model, w->live, "beta", 5, 0, 0, NULL, 0), PC_EEXIST);
	assert_int_equal(offer(w->model, w->live, "beta", 4, 0, 0, NULL, 0), PC_EEXIST);
	struct pc_live_offer o;
	assert_true(pc_live_offer(w->live, beta, NOW + PC_OFFER_TTL_MS - 1, &o));
	assert_int_equal(o.version, 5);
	assert_int_equal(o.services, vod);
	assert_int_equal(o.capacity, 7);
	assert_false(o.footprint);
	/* Not refreshed for the TTL: the agreement alone again. */
	assert_false(pc_live_offer(w->live, beta, NOW + PC_OFFER_TTL_MS, &o));
	pc_request req = request(w->model, "abc", "web", "127.2.0.10");
	pc_decision d;
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, &w->trace), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_OUTSIDE); /* in force at NOW */
	req.now_ms = NOW + PC_OFFER_TTL_MS;
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, &w->trace), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_PEER);
	/* Out of range. */
	struct pc_live_offer bad = {.version = 9};
	uint32_t no_as = w->model->n_ases;
	assert_int_equal(pc_live_offer_set(w->live, w->model->n_cdns, &bad, NULL, 0, NOW),
	                 PC_EINVAL);
	bad.footprint = true;
	assert_int_equal(pc_live_offer_set(w->live, beta, &bad, &no_as, 1, NOW), PC_EINVAL);
}

/* An offer binds a CDN only where it serves under an agreement: acme is
 * abc's primary, so acme's own offer does not touch abc's PRIMARY branch;
 * for foo (primary beta) an acme client is PEER at acme, which it does. */
static void test_primary_cdn_not_bound(void **state)
{
	struct world *w = *state;
	assert_int_equal(offer(w->model, w->live, "acme", 1, 0, 0, NULL, 0), PC_OK);
	pc_request req = request(w->model, "abc", "web", "127.1.0.10");
	pc_decision d;
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, &w->trace), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_PRIMARY);
	assert_false(d.flags & PC_DF_OFFER);
	req = request(w->model, "foo", "web", "127.4.0.10"); /* AS 400: acme's affiliate */
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, &w->trace), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_OUTSIDE);
	assert_string_equal(cdn_of(w->model, &d), "beta");
	assert_int_equal(refusal(&w->trace, pc_model_cdn(w->model, "acme")), PC_OFFER_SERVICE);
}

static void test_carried_over_a_reload(void **state)
{
	struct world *w = *state;
	uint32_t beta = pc_model_cdn(w->model, "beta");
	const uint32_t west[] = {200};
	assert_int_equal(
	    offer(w->model, w->live, "beta", 3, services(w->model, "vod", NULL), 50, west, 1),
	    PC_OK);
	pc_live *fresh = NULL;
	assert_int_equal(pc_live_new(w->model, &fresh), PC_OK);
	pc_live_carry(fresh, w->live);
	struct pc_live_offer o;
	assert_true(pc_live_offer(fresh, beta, NOW, &o));
	assert_int_equal(o.version, 3);
	assert_int_equal(o.services, services(w->model, "vod", NULL));
	assert_int_equal(o.capacity, 50);
	assert_true(o.footprint);
	assert_true(pc_live_offer_covers(fresh, beta, world_as(w, 200)));
	assert_false(pc_live_offer_covers(fresh, beta, world_as(w, 300)));
	/* It expires when it would have. */
	assert_false(pc_live_offer(fresh, beta, NOW + PC_OFFER_TTL_MS, &o));
	pc_live_free(fresh);
}

/* exchange.yaml: a client of isp3 goes OUTSIDE to the exchange's nearest
 * partner, isp1; isp1 offering tv only sends it to isp2. */
static void test_exchange_partner(void **state)
{
	(void)state;
	pc_model *model = fixture_load("exchange.yaml");
	pc_live *live = NULL;
	assert_int_equal(pc_live_new(model, &live), PC_OK);
	pc_request req = request(model, "bcast", "web", "127.3.0.10");
	pc_decision d;
	static pc_trace trace;
	assert_int_equal(pc_policy_decide(model, live, &req, &d, &trace), PC_OK);
	assert_string_equal(model->servers[d.servers[0]].name, "I1");
	assert_int_equal(
	    offer(model, live, "isp1", 1, services(model, "tv", NULL), UINT64_MAX, NULL, 0), PC_OK);
	assert_int_equal(pc_policy_decide(model, live, &req, &d, &trace), PC_OK);
	assert_int_equal(d.branch, PC_BRANCH_OUTSIDE);
	assert_string_equal(model->servers[d.servers[0]].name, "I2");
	assert_int_equal(refusal(&trace, pc_model_cdn(model, "isp1")), PC_OFFER_SERVICE);
	assert_true(d.flags & PC_DF_OFFER);
	pc_live_free(live);
	fixture_free(model);
}

static void test_flag_name(void **state)
{
	(void)state;
	char text[64];
	assert_true(pc_decision_flags_format(PC_DF_OFFER | PC_DF_FALLBACK, text, sizeof(text)) > 0);
	assert_string_equal(text, "FALLBACK,OFFER");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, world_setup, world_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_no_offer_is_the_agreement_alone),
	    T(test_service_not_offered),
	    T(test_footprint),
	    T(test_capacity),
	    T(test_expiry_and_versions),
	    T(test_primary_cdn_not_bound),
	    T(test_carried_over_a_reload),
	    cmocka_unit_test(test_exchange_partner),
	    cmocka_unit_test(test_flag_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
