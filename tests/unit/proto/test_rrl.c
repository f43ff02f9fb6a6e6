/* Unit tests of response rate limiting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/base/err.h"
#include "lib/proto/rrl.h"

static pc_rrl *make(uint32_t rate, uint32_t slip)
{
	struct pc_rrl_params params = {
	    .rate = rate,
	    .slip = slip,
	    .prefix4 = 24,
	    .prefix6 = 56,
	    .buckets = 1024,
	    .hash_key = {1, 2},
	};
	pc_rrl *rrl = NULL;
	assert_int_equal(pc_rrl_new(&params, &rrl), 0);
	return rrl;
}

static pc_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (pc_addr){.family = 4, .bytes = {a, b, c, d}};
}

static void test_rate_then_slip_and_drop(void **state)
{
	(void)state;
	pc_rrl *rrl = make(5, 2);
	pc_addr client = v4(192, 0, 2, 1);
	unsigned pass = 0, slip = 0, drop = 0;
	for (int i = 0; i < 25; i++) {
		switch (pc_rrl_check(rrl, &client, 1000)) {
		case PC_RRL_PASS:
			pass++;
			break;
		case PC_RRL_SLIP:
			slip++;
			break;
		case PC_RRL_DROP:
			drop++;
			break;
		}
	}
	assert_int_equal(pass, 5);
	assert_int_equal(slip, 10); /* every second response over the rate */
	assert_int_equal(drop, 10);
	/* A new second starts a new budget. */
	assert_int_equal(pc_rrl_check(rrl, &client, 2000), PC_RRL_PASS);
	pc_rrl_free(rrl);
}

static void test_prefix_shares_budget(void **state)
{
	(void)state;
	pc_rrl *rrl = make(3, 0);
	pc_addr a = v4(198, 51, 100, 1), b = v4(198, 51, 100, 200), other = v4(203, 0, 113, 1);
	assert_int_equal(pc_rrl_check(rrl, &a, 5000), PC_RRL_PASS);
	assert_int_equal(pc_rrl_check(rrl, &b, 5000), PC_RRL_PASS);
	assert_int_equal(pc_rrl_check(rrl, &a, 5000), PC_RRL_PASS);
	/* Same /24: the budget is spent, and slip 0 drops everything. */
	assert_int_equal(pc_rrl_check(rrl, &b, 5000), PC_RRL_DROP);
	/* Another /24 is untouched (a collision would only be stricter). */
	assert_int_equal(pc_rrl_check(rrl, &other, 5000), PC_RRL_PASS);
	pc_rrl_free(rrl);
}

static void test_disabled(void **state)
{
	(void)state;
	pc_rrl *rrl = make(0, 2);
	pc_addr client = v4(192, 0, 2, 1);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(pc_rrl_check(rrl, &client, 1000), PC_RRL_PASS);
	pc_rrl_free(rrl);
	assert_int_equal(pc_rrl_check(NULL, &client, 1000), PC_RRL_PASS);
}

static void test_bad_params(void **state)
{
	(void)state;
	struct pc_rrl_params params = {.rate = 1, .prefix4 = 33};
	pc_rrl *rrl = NULL;
	assert_int_equal(pc_rrl_new(&params, &rrl), PC_ERANGE);
	assert_null(rrl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rate_then_slip_and_drop),
	    cmocka_unit_test(test_prefix_shares_budget),
	    cmocka_unit_test(test_disabled),
	    cmocka_unit_test(test_bad_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
