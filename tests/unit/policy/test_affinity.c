/* Unit tests of the affinity memory and of the policy honouring it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "lib/policy/affinity.h"
#include "lib/base/err.h"
#include "lib/policy/policy.h"
#include "world.h"

static void test_remember_and_expire(void **state)
{
	(void)state;
	pc_affinity *a = NULL;
	assert_int_equal(pc_affinity_new(1000, 300, &a), PC_OK);
	uint64_t obj = 0x1234567890abcdefULL, other = 0x0fedcba987654321ULL;
	assert_int_equal(pc_affinity_lookup(a, obj, 1000000), PC_NONE);
	pc_affinity_remember(a, obj, 7, 1000000);
	assert_int_equal(pc_affinity_lookup(a, obj, 1000000), 7);
	assert_int_equal(pc_affinity_lookup(a, obj, 1000000 + 299000), 7);
	assert_int_equal(pc_affinity_lookup(a, obj, 1000000 + 302000), PC_NONE);
	assert_int_equal(pc_affinity_lookup(a, other, 1000000), PC_NONE);
	/* Server 0 is a real server, not "empty". */
	pc_affinity_remember(a, other, 0, 1000000);
	assert_int_equal(pc_affinity_lookup(a, other, 1000000), 0);
	assert_int_equal(pc_affinity_lookup(NULL, obj, 1000000), PC_NONE);
	pc_affinity_free(a);
	assert_int_equal(pc_affinity_new(10, 0, &a), PC_ERANGE);
}

/* Claims the object to a server, then lets another server into the
 * affinity band: the rendezvous hash might move the object, the memory
 * keeps it where its content already is. */
static void test_policy_keeps_remembered_server(void **state)
{
	struct world *w = *state;
	pc_request req;
	pc_request_init(&req);
	req.provider = pc_model_provider(w->model, "abc");
	req.service = pc_model_service(w->model, "web");
	assert_int_equal(pc_addr_parse("127.1.0.10", &req.client), PC_OK);
	uint32_t s1 = world_server(w, "acme-s1"), s2 = world_server(w, "acme-s2");
	/* Find an object the hash gives to acme-s2 when both are in the band. */
	char object[32];
	pc_decision d;
	for (int i = 0;; i++) {
		assert_true(i < 1000);
		snprintf(object, sizeof(object), "obj%d", i);
		req.object = object;
		req.object_len = strlen(object);
		assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
		if (d.servers[0] == s2)
			break;
	}
	/* Remembered on acme-s1 (say it was there before s2 came back). */
	req.sticky_server = s1;
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_equal(d.servers[0], s1);
	/* Not while it is overloaded: pruning comes first. */
	pc_live_set_load(w->live, s1, 1000);
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_not_equal(d.servers[0], s1);
	/* Nor when it falls out of the band (load penalty 35 > band 10). */
	pc_live_set_load(w->live, s1, 880);
	assert_int_equal(pc_policy_decide(w->model, w->live, &req, &d, NULL), PC_OK);
	assert_int_not_equal(d.servers[0], s1);
	pc_live_set_load(w->live, s1, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_remember_and_expire),
	    cmocka_unit_test_setup_teardown(test_policy_keeps_remembered_server, world_setup,
	                                    world_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
