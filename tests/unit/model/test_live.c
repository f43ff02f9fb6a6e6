/* Unit tests of the live state: load, health, measured path costs,
 * agreement windows (including the exact cap under concurrent takers) and
 * carrying state across a reload. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "world.h"
#include "lib/model/config.h"
#include "lib/base/err.h"
#include "lib/model/live.h"

static void test_load_and_health(void **state)
{
	struct world *w = *state;
	uint32_t s = world_server(w, "acme-s1");
	assert_ptr_equal(pc_live_model(w->live), w->model);
	assert_int_equal(pc_live_load(w->live, s), 0);
	assert_int_equal(pc_live_health(w->live, s), PC_HEALTH_UP);
	pc_live_set_load(w->live, s, 777);
	pc_live_set_health(w->live, s, PC_HEALTH_DRAINING);
	assert_int_equal(pc_live_load(w->live, s), 777);
	assert_int_equal(pc_live_health(w->live, s), PC_HEALTH_DRAINING);
	/* Out of range: ignored on write, harmless on read. */
	pc_live_set_load(w->live, 9999, 1);
	assert_int_equal(pc_live_load(w->live, 9999), 0);
	assert_int_equal(pc_live_health(w->live, 9999), PC_HEALTH_DOWN);
	/* A change from a state the server is not in does nothing: a health
	 * check's DOWN does not undo a drain. */
	assert_false(pc_live_health_change(w->live, s, PC_HEALTH_UP, PC_HEALTH_DOWN));
	assert_int_equal(pc_live_health(w->live, s), PC_HEALTH_DRAINING);
	pc_live_set_health(w->live, s, PC_HEALTH_UP);
	assert_true(pc_live_health_change(w->live, s, PC_HEALTH_UP, PC_HEALTH_DOWN));
	assert_int_equal(pc_live_health(w->live, s), PC_HEALTH_DOWN);
	assert_true(pc_live_health_change(w->live, s, PC_HEALTH_DOWN, PC_HEALTH_UP));
	assert_int_equal(pc_live_health(w->live, s), PC_HEALTH_UP);
	assert_false(pc_live_health_change(w->live, 9999, PC_HEALTH_DOWN, PC_HEALTH_UP));
}

/* Load and health share one word (live.h): a write of one keeps the
 * other, and the scan's record holds the full loads of the model's
 * watermark and capacity. */
static void test_load_and_health_one_word(void **state)
{
	struct world *w = *state;
	uint32_t s = world_server(w, "acme-s1");
	pc_live_set_load(w->live, s, 4000000000u);
	pc_live_set_health(w->live, s, PC_HEALTH_DRAINING);
	pc_live_set_load(w->live, s, 321);
	assert_int_equal(pc_live_health(w->live, s), PC_HEALTH_DRAINING);
	assert_true(pc_live_health_change(w->live, s, PC_HEALTH_DRAINING, PC_HEALTH_UP));
	assert_int_equal(pc_live_load(w->live, s), 321);
	assert_false(pc_live_health_change(w->live, s, PC_HEALTH_DOWN, PC_HEALTH_UP));
	assert_int_equal(pc_live_load(w->live, s), 321);
	const struct pc_live_server *record = &pc_live_servers(w->live)[w->model->server_slot[s]];
	uint64_t capacity = w->model->servers[s].capacity;
	uint64_t pct = w->model->params.high_watermark_pct;
	assert_int_equal(record->full_load[1], capacity);
	assert_int_equal(record->full_load[0], (capacity * pct + 99) / 100);
	/* up and below the watermark: one compare */
	assert_true(atomic_load(&record->state) < record->full_load[0]);
	pc_live_set_health(w->live, s, PC_HEALTH_DOWN);
	assert_false(atomic_load(&record->state) < record->full_load[1]);
	pc_live_set_health(w->live, s, PC_HEALTH_UP);
	pc_live_set_load(w->live, s, record->full_load[0]);
	assert_false(atomic_load(&record->state) < record->full_load[0]);
}

static void test_path_cost_override(void **state)
{
	struct world *w = *state;
	uint32_t s4 = world_server(w, "acme-s4"), s1 = world_server(w, "acme-s1");
	uint32_t as700 = world_as(w, 700), as400 = world_as(w, 400);
	/* Static: 700 -> 100 -> 400 = 20 + 5. */
	assert_int_equal(pc_live_path_cost(w->live, as700, s4), 25);
	assert_int_equal(pc_live_path_cost(w->live, as700, s1), 20);
	pc_live_set_path_cost(w->live, as700, as400, 7);
	assert_int_equal(pc_live_path_cost(w->live, as700, s4), 7);
	assert_int_equal(pc_live_path_cost(w->live, as700, s1), 20); /* other farm untouched */
	pc_live_set_path_cost(w->live, as700, as400, PC_COST_INFINITE);
	assert_int_equal(pc_live_path_cost(w->live, as700, s4), PC_COST_INFINITE);
	pc_live_set_path_cost(w->live, as700, as400, PC_COST_STATIC);
	assert_int_equal(pc_live_path_cost(w->live, as700, s4), 25);
	/* AS 700 holds no servers: setting a cost to it is ignored. */
	pc_live_set_path_cost(w->live, as400, as700, 1);
	assert_int_equal(pc_live_path_cost(w->live, 9999, s4), PC_COST_INFINITE);
}

static void test_agreement_window(void **state)
{
	struct world *w = *state;
	uint32_t g = pc_model_agreement(w->model, "acme-beta");
	assert_int_not_equal(g, PC_NONE);
	uint32_t cap = w->model->agreements[g].capacity_rps;
	assert_int_equal(cap, 1000);
	uint64_t t = 1700000000000ULL;
	for (uint32_t i = 0; i < cap; i++)
		assert_true(pc_live_agreement_try_take(w->live, g, t + i % 1000));
	assert_false(pc_live_agreement_try_take(w->live, g, t + 999));
	assert_int_equal(pc_live_agreement_window(w->live, g, t), cap);
	assert_int_equal(pc_live_agreement_total(w->live, g), cap);
	/* A late caller from the previous second counts against the
	 * current, full window: it cannot reopen it. */
	assert_false(pc_live_agreement_try_take(w->live, g, t - 5));
	assert_true(pc_live_agreement_try_take(w->live, g, t + 1000));
	assert_true(pc_live_agreement_try_take(w->live, g, t - 5));
	assert_int_equal(pc_live_agreement_window(w->live, g, t + 1000), 2);
	assert_int_equal(pc_live_agreement_window(w->live, g, t), 0);
	assert_int_equal(pc_live_agreement_window(w->live, g, t + 5000), 0);
	assert_int_equal(pc_live_agreement_total(w->live, g), cap + 2);
	assert_false(pc_live_agreement_try_take(w->live, 77, t));
}

struct taker {
	pc_live *live;
	uint32_t agreement;
	uint64_t now_ms;
	unsigned attempts, taken;
};

static void *take_many(void *arg)
{
	struct taker *t = arg;
	for (unsigned i = 0; i < t->attempts; i++)
		t->taken += pc_live_agreement_try_take(t->live, t->agreement, t->now_ms);
	return NULL;
}

static void test_agreement_concurrent_cap(void **state)
{
	struct world *w = *state;
	uint32_t g = pc_model_agreement(w->model, "acme-beta");
	enum { THREADS = 8, ATTEMPTS = 2000, ROUNDS = 5 };
	for (unsigned round = 0; round < ROUNDS; round++) {
		pthread_t threads[THREADS];
		struct taker takers[THREADS];
		for (unsigned i = 0; i < THREADS; i++) {
			/* Half the threads a few ms apart, same window. */
			takers[i] = (struct taker){w->live, g, 5000000ULL + round * 1000 + i % 3,
			                           ATTEMPTS, 0};
			assert_int_equal(pthread_create(&threads[i], NULL, take_many, &takers[i]),
			                 0);
		}
		unsigned total = 0;
		for (unsigned i = 0; i < THREADS; i++) {
			pthread_join(threads[i], NULL);
			total += takers[i].taken;
		}
		assert_int_equal(total, 1000);
		assert_int_equal(pc_live_agreement_window(w->live, g, 5000000ULL + round * 1000),
		                 1000);
	}
	assert_int_equal(pc_live_agreement_total(w->live, g), 1000 * ROUNDS);
}

/* The same default federation with acme-s2 renamed (same length, so the
 * YAML stays aligned). */
static pc_model *renamed_model(void)
{
	char *text = strdup(pc_default_config_yaml);
	char *at = strstr(text, "name: acme-s2");
	assert_non_null(at);
	memcpy(at, "name: acme-s9", 13);
	pc_model *model = fixture_load_text(text);
	free(text);
	return model;
}

static void test_carry(void **state)
{
	struct world *w = *state;
	uint32_t s1 = world_server(w, "acme-s1"), s2 = world_server(w, "acme-s2");
	uint32_t g = pc_model_agreement(w->model, "acme-beta");
	pc_live_set_load(w->live, s1, 321);
	pc_live_set_health(w->live, s1, PC_HEALTH_DOWN);
	pc_live_set_load(w->live, s2, 55);
	pc_live_set_path_cost(w->live, world_as(w, 700), world_as(w, 400), 3);
	assert_true(pc_live_agreement_try_take(w->live, g, 42000));
	assert_true(pc_live_agreement_try_take(w->live, g, 42001));

	pc_model *fresh_model = renamed_model();
	pc_live *fresh = NULL;
	assert_int_equal(pc_live_new(fresh_model, &fresh), PC_OK);
	pc_live_carry(fresh, w->live);
	uint32_t f1 = pc_model_server(fresh_model, "acme-s1");
	uint32_t f9 = pc_model_server(fresh_model, "acme-s9");
	uint32_t f4 = pc_model_server(fresh_model, "acme-s4");
	uint32_t fg = pc_model_agreement(fresh_model, "acme-beta");
	assert_int_equal(pc_live_load(fresh, f1), 321);
	assert_int_equal(pc_live_health(fresh, f1), PC_HEALTH_DOWN);
	assert_int_equal(pc_live_load(fresh, f9), 0); /* renamed: starts afresh */
	assert_int_equal(pc_live_health(fresh, f9), PC_HEALTH_UP);
	assert_int_equal(pc_live_path_cost(fresh, pc_model_as_by_asn(fresh_model, 700), f4), 3);
	assert_int_equal(pc_live_agreement_window(fresh, fg, 42500), 2);
	assert_int_equal(pc_live_agreement_total(fresh, fg), 2);
	pc_live_free(fresh);
	fixture_free(fresh_model);
	pc_live_carry(NULL, w->live); /* harmless */
	pc_live_free(NULL);
}

/* The replica table: holders per object, refreshed, bounded, forgotten
 * after the TTL, carried across a reload by server name. */
static void test_replicas(void **state)
{
	struct world *w = *state;
	uint32_t s1 = world_server(w, "acme-s1"), s2 = world_server(w, "acme-s2");
	uint64_t now = 1764064800000ULL;
	uint64_t key = pc_live_object_key("www.abc.com/a", 13);
	assert_true(key == pc_live_object_key("WWW.ABC.COM/a", 13));
	uint32_t out[PC_REPLICA_WAYS];
	assert_int_equal(pc_live_replicas(w->live, key, now, out, PC_REPLICA_WAYS), 0);
	pc_live_replica_add(w->live, key, s1, now);
	pc_live_replica_add(w->live, key, s1, now + 1000); /* the same: refreshed, once */
	pc_live_replica_add(w->live, key, s2, now);
	pc_live_replica_add(w->live, key, 99999, now); /* out of range: ignored */
	assert_int_equal(pc_live_replicas(w->live, key, now + 1000, out, PC_REPLICA_WAYS), 2);
	assert_true((out[0] == s1 && out[1] == s2) || (out[0] == s2 && out[1] == s1));
	assert_int_equal(pc_live_replicas(w->live, key, now, out, 1), 1);
	/* Another object is not held. */
	uint64_t other = pc_live_object_key("www.abc.com/b", 13);
	assert_int_equal(pc_live_replicas(w->live, other, now, out, PC_REPLICA_WAYS), 0);
	/* s2 is forgotten after the TTL; s1, reported a second later, not yet. */
	uint64_t later = now + (PC_REPLICA_TTL_S + 1) * 1000ULL;
	assert_int_equal(pc_live_replicas(w->live, key, later, out, PC_REPLICA_WAYS), 1);
	assert_int_equal(out[0], s1);
	/* A full bucket drops its oldest holder. */
	for (uint32_t s = 0; s < PC_REPLICA_WAYS + 1; s++)
		pc_live_replica_add(w->live, other, s, now + s * 1000);
	assert_int_equal(pc_live_replicas(w->live, other, now + 10000, out, PC_REPLICA_WAYS),
	                 PC_REPLICA_WAYS);
	for (uint32_t i = 0; i < PC_REPLICA_WAYS; i++)
		assert_int_not_equal(out[i], 0);
	/* Carried across a reload by name. */
	pc_live *fresh;
	assert_int_equal(pc_live_new(w->model, &fresh), PC_OK);
	pc_live_carry(fresh, w->live);
	assert_int_equal(pc_live_replicas(fresh, key, now + 1000, out, PC_REPLICA_WAYS), 2);
	pc_live_free(fresh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_load_and_health, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_load_and_health_one_word, world_setup,
	                                    world_teardown),
	    cmocka_unit_test_setup_teardown(test_path_cost_override, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_agreement_window, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_agreement_concurrent_cap, world_setup,
	                                    world_teardown),
	    cmocka_unit_test_setup_teardown(test_carry, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_replicas, world_setup, world_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
