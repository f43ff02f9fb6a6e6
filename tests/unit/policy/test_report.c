/* Unit tests of the claim-3 report line (docs/reporting.md): exact format,
 * UTC time, client prefix truncation for IPv4 and IPv6, escaping of hostile
 * values, which decisions are due, and buffer limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "lib/model/config.h"
#include "lib/base/err.h"
#include "lib/policy/report.h"

#define NOW_MS 1795600800123ULL /* 2026-11-25T10:00:00.123Z */

struct world {
	pc_model *model;
	pc_request req;
	pc_decision decision;
};

static uint32_t id(uint32_t index)
{
	assert_int_not_equal(index, PC_NONE);
	return index;
}

/* A PEER decision made by hand, so the line is known to the byte. */
static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	w->model = fixture_load_text(pc_default_config_yaml);
	assert_non_null(w->model);
	pc_request_init(&w->req);
	w->req.provider = id(pc_model_provider(w->model, "abc"));
	w->req.service = id(pc_model_service(w->model, "web"));
	assert_int_equal(pc_addr_parse("127.2.0.77", &w->req.client), PC_OK);
	w->req.object = "ad102";
	w->req.object_len = 5;
	w->decision = (pc_decision){
	    .branch = PC_BRANCH_PEER,
	    .client_net = PC_NONE,
	    .client_as = id(pc_model_as_by_asn(w->model, 200)),
	    .cdn = id(pc_model_cdn(w->model, "beta")),
	    .agreement = id(pc_model_agreement(w->model, "acme-beta")),
	    .servers = {id(pc_model_server(w->model, "beta-s1"))},
	    .n_servers = 1,
	};
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	fixture_free(w->model);
	free(w);
	return 0;
}

static void test_format(void **state)
{
	struct world *w = *state;
	char line[512];
	const char *want = "ts=2026-11-25T10:00:00.123Z provider=abc client=127.2.0.0/24 as=200 "
	                   "object=ad102 service=web branch=PEER cdn=beta server=beta-s1 "
	                   "agreement=acme-beta reason=PEER flags=-";
	int n = pc_report_format(w->model, &w->req, &w->decision, NOW_MS, line, sizeof(line));
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(line, want);
	/* OUTSIDE after a full agreement, with flags. */
	w->decision.branch = PC_BRANCH_OUTSIDE;
	w->decision.cdn = id(pc_model_cdn(w->model, "acme"));
	w->decision.servers[0] = id(pc_model_server(w->model, "acme-s2"));
	w->decision.agreement = PC_NONE;
	w->decision.flags = PC_DF_AGREEMENT_FULL | PC_DF_AFFINITY;
	assert_true(pc_report_format(w->model, &w->req, &w->decision, NOW_MS, line, sizeof(line)) >
	            0);
	assert_non_null(strstr(line, " branch=OUTSIDE cdn=acme server=acme-s2 agreement=- "
	                             "reason=AGREEMENT_FULL flags=AGREEMENT_FULL,AFFINITY"));
}

static void test_time(void **state)
{
	struct world *w = *state;
	char line[512];
	static const struct {
		uint64_t ms;
		const char *text;
	} cases[] = {
	    {0, "ts=1970-01-01T00:00:00.000Z "},
	    {951868799999ULL, "ts=2000-02-29T23:59:59.999Z "},
	    {4107542400007ULL, "ts=2100-03-01T00:00:00.007Z "},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(pc_report_format(w->model, &w->req, &w->decision, cases[i].ms, line,
		                             sizeof(line)) > 0);
		assert_memory_equal(line, cases[i].text, strlen(cases[i].text));
	}
}

static void test_prefix_truncation(void **state)
{
	struct world *w = *state;
	char line[512];
	assert_int_equal(pc_addr_parse("2001:db8:200:abcd::1", &w->req.client), PC_OK);
	assert_true(pc_report_format(w->model, &w->req, &w->decision, NOW_MS, line, sizeof(line)) >
	            0);
	assert_non_null(strstr(line, " client=2001:db8:200::/48 "));
	/* Prefixes that cut inside a byte. */
	w->model->params.report_prefix4 = 20;
	w->model->params.report_prefix6 = 36;
	assert_int_equal(pc_addr_parse("2001:db8:fedc::1", &w->req.client), PC_OK);
	assert_true(pc_report_format(w->model, &w->req, &w->decision, NOW_MS, line, sizeof(line)) >
	            0);
	assert_non_null(strstr(line, " client=2001:db8:f000::/36 "));
	assert_int_equal(pc_addr_parse("10.1.47.200", &w->req.client), PC_OK);
	assert_true(pc_report_format(w->model, &w->req, &w->decision, NOW_MS, line, sizeof(line)) >
	            0);
	assert_non_null(strstr(line, " client=10.1.32.0/20 "));
	w->model->params.report_prefix4 = 32;
	assert_true(pc_report_format(w->model, &w->req, &w->decision, NOW_MS, line, sizeof(line)) >
	            0);
	assert_non_null(strstr(line, " client=10.1.47.200/32 "));
	w->model->params.report_prefix4 = 0;
	assert_true(pc_report_format(w->model, &w->req, &w->decision, NOW_MS, line, sizeof(line)) >
	            0);
	assert_non_null(strstr(line, " client=0.0.0.0/0 "));
	/* Unknown client address. */
	w->req.client.family = PC_AF_NONE;
	w->decision.client_as = PC_NONE;
	assert_true(pc_report_format(w->model, &w->req, &w->decision, NOW_MS, line, sizeof(line)) >
	            0);
	assert_non_null(strstr(line, " client=- as=- "));
}

static void test_escaping(void **state)
{
	struct world *w = *state;
	char line[512];
	static const char hostile[] = "a b=c\nd%e\r\"f\\g\x01\xff";
	w->req.object = hostile;
	w->req.object_len = sizeof(hostile) - 1;
	assert_true(pc_report_format(w->model, &w->req, &w->decision, NOW_MS, line, sizeof(line)) >
	            0);
	assert_non_null(strstr(line, " object=a%20b%3Dc%0Ad%25e%0D%22f%5Cg%01%FF service="));
	assert_null(strchr(line, '\n'));
	assert_null(strchr(line, '\r'));
	/* Exactly one '=' per field: nothing injected. */
	unsigned equals = 0, spaces = 0;
	for (const char *p = line; *p; p++) {
		equals += *p == '=';
		spaces += *p == ' ';
	}
	assert_int_equal(equals, spaces + 1);
	/* An object with a NUL inside is cut at nothing: length rules. */
	w->req.object = "x\0y";
	w->req.object_len = 3;
	assert_true(pc_report_format(w->model, &w->req, &w->decision, NOW_MS, line, sizeof(line)) >
	            0);
	assert_non_null(strstr(line, " object=x%00y "));
	w->req.object = NULL;
	w->req.object_len = 0;
	assert_true(pc_report_format(w->model, &w->req, &w->decision, NOW_MS, line, sizeof(line)) >
	            0);
	assert_non_null(strstr(line, " object=- "));
}

static void test_due(void **state)
{
	struct world *w = *state;
	assert_true(pc_report_due(&w->decision));
	w->decision.branch = PC_BRANCH_OUTSIDE;
	assert_true(pc_report_due(&w->decision));
	w->decision.branch = PC_BRANCH_PRIMARY;
	assert_false(pc_report_due(&w->decision));
	w->decision.branch = PC_BRANCH_NONE;
	assert_false(pc_report_due(&w->decision));
	assert_false(pc_report_due(NULL));
}

static void test_limits(void **state)
{
	struct world *w = *state;
	char line[512];
	int n = pc_report_format(w->model, &w->req, &w->decision, NOW_MS, line, sizeof(line));
	assert_true(n > 0);
	char exact[512];
	assert_int_equal(
	    pc_report_format(w->model, &w->req, &w->decision, NOW_MS, exact, (size_t)n + 1), n);
	assert_int_equal(
	    pc_report_format(w->model, &w->req, &w->decision, NOW_MS, exact, (size_t)n), PC_ESPACE);
	assert_string_equal(exact, "");
	w->decision.branch = PC_BRANCH_NONE;
	assert_int_equal(
	    pc_report_format(w->model, &w->req, &w->decision, NOW_MS, line, sizeof(line)),
	    PC_EINVAL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_format),   T(test_time), T(test_prefix_truncation),
	    T(test_escaping), T(test_due),  T(test_limits),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
