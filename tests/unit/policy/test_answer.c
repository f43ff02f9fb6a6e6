/* Unit tests of the object decision every role makes (lib/policy/answer):
 * the request from the context, the affinity key, and when the memory is
 * written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "lib/base/err.h"
#include "lib/policy/affinity.h"
#include "lib/policy/answer.h"
#include "world.h"

#define NOW_MS 1764000000000ULL

static unsigned sends_calls;

static bool sends_yes(const struct pc_answer_ctx *ctx, const pc_request *req,
                      const pc_decision *decision, void *arg)
{
	(void)ctx, (void)req, (void)decision, (void)arg;
	sends_calls++;
	return true;
}

static bool sends_no(const struct pc_answer_ctx *ctx, const pc_request *req,
                     const pc_decision *decision, void *arg)
{
	(void)ctx, (void)req, (void)decision, (void)arg;
	sends_calls++;
	return false;
}

static struct pc_answer_ctx ctx_for(struct world *w, pc_affinity *affinity)
{
	struct pc_answer_ctx ctx = {.model = w->model,
	                            .live = w->live,
	                            .affinity = affinity,
	                            .node = w->model->self_node,
	                            .now_ms = NOW_MS};
	assert_int_equal(pc_addr_parse("127.1.0.10", &ctx.source), PC_OK);
	return ctx;
}

static void request_for(struct world *w, const struct pc_answer_ctx *ctx, const char *service,
                        const char *object, pc_request *req)
{
	pc_answer_request_init(ctx, req);
	req->provider = pc_model_provider(w->model, "abc");
	req->service = pc_model_service(w->model, service);
	req->object = object;
	req->object_len = strlen(object);
}

static void test_request_from_context(void **state)
{
	struct world *w = *state;
	struct pc_answer_ctx ctx = ctx_for(w, NULL);
	pc_request req;
	pc_answer_request_init(&ctx, &req);
	assert_true(pc_addr_equal(&req.client, &ctx.source));
	assert_int_equal(req.node, ctx.node);
	assert_int_equal(req.now_ms, NOW_MS);
	assert_int_equal(req.preferred_cdn, PC_NONE);
	assert_int_equal(req.sticky_server, PC_NONE);
	assert_int_equal(req.max_answers, 1);
}

/* The memory is written only when the answer sends the client to the
 * server, and read back for the same object on the next decision. */
static void test_remembers_when_sent(void **state)
{
	struct world *w = *state;
	pc_affinity *affinity = NULL;
	assert_int_equal(pc_affinity_new(1024, 300, &affinity), PC_OK);
	struct pc_answer_ctx ctx = ctx_for(w, affinity);
	pc_request req;
	pc_decision d;

	/* sends NULL (a probe) and sends saying no: nothing remembered. */
	request_for(w, &ctx, "web", "ad102", &req);
	assert_int_equal(pc_answer_decide(&ctx, &req, &d, NULL, NULL), PC_OK);
	assert_int_equal(req.sticky_server, PC_NONE);
	sends_calls = 0;
	assert_int_equal(pc_answer_decide(&ctx, &req, &d, sends_no, NULL), PC_OK);
	assert_int_equal(sends_calls, 1);
	assert_int_equal(req.sticky_server, PC_NONE);

	/* Sent: the next decision for the object finds servers[0]. */
	assert_int_equal(pc_answer_decide(&ctx, &req, &d, sends_yes, NULL), PC_OK);
	uint32_t first = d.servers[0];
	request_for(w, &ctx, "web", "AD102", &req); /* case does not make another object */
	assert_int_equal(pc_answer_decide(&ctx, &req, &d, NULL, NULL), PC_OK);
	assert_int_equal(req.sticky_server, first);

	/* Another service of the provider: another object. */
	request_for(w, &ctx, "vod", "ad102", &req);
	assert_int_not_equal(req.service, PC_NONE);
	assert_int_equal(pc_answer_decide(&ctx, &req, &d, NULL, NULL), PC_OK);
	assert_int_equal(req.sticky_server, PC_NONE);
	pc_affinity_free(affinity);
}

/* No server: the policy's error, and the answer is not asked about. */
static void test_no_server_not_remembered(void **state)
{
	struct world *w = *state;
	struct pc_answer_ctx ctx = ctx_for(w, NULL);
	for (uint32_t s = 0; s < w->model->n_servers; s++)
		pc_live_set_health(w->live, s, PC_HEALTH_DOWN);
	pc_request req;
	pc_decision d;
	request_for(w, &ctx, "web", "ad102", &req);
	sends_calls = 0;
	assert_int_equal(pc_answer_decide(&ctx, &req, &d, sends_yes, NULL), PC_ENOSERVER);
	assert_int_equal(sends_calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_request_from_context, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_remembers_when_sent, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_no_server_not_remembered, world_setup,
	                                    world_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
