/* Unit tests of the model's look-ups over the default federation: names
 * (ASCII case ignored), CDN domains on label boundaries, client networks,
 * AS path costs, footprints, primaries, agreements, address text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "lib/model/config.h"
#include "lib/base/err.h"

static int setup(void **state)
{
	*state = fixture_load_text(pc_default_config_yaml);
	return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	fixture_free(*state);
	return 0;
}

static void test_names(void **state)
{
	const pc_model *m = *state;
	assert_int_equal(pc_model_cdn(m, "ACME"), pc_model_cdn(m, "acme"));
	assert_int_not_equal(pc_model_cdn(m, "acme"), PC_NONE);
	assert_int_equal(pc_model_cdn(m, "acm"), PC_NONE);
	assert_string_equal(m->providers[pc_model_provider(m, "Abc")].name, "abc");
	assert_string_equal(m->services[pc_model_service(m, "TV")].name, "tv");
	assert_string_equal(m->servers[pc_model_server(m, "Beta-S5")].name, "beta-s5");
	assert_string_equal(m->nodes[pc_model_node(m, "SOUTH-n1")].name, "south-n1");
	assert_int_equal(pc_model_agreement(m, "acme-beta"), 0);
	assert_int_equal(m->ases[pc_model_as_by_asn(m, 500)].asn, 500);
	assert_int_equal(pc_model_as_by_asn(m, 800), PC_NONE);
	assert_int_equal(pc_model_lookup(m->cdn_by_name, "betaXYZ", 4), pc_model_cdn(m, "beta"));
}

static void test_cdn_for_name(void **state)
{
	const pc_model *m = *state;
	size_t cp = 99;
	static const char a[] = "a.cdn.acme.net";
	assert_int_equal(pc_model_cdn_for_name(m, a, strlen(a), &cp), pc_model_cdn(m, "acme"));
	assert_int_equal(cp, 1);
	static const char b[] = "ad102.web.abc.CDN.Acme.NET";
	assert_int_equal(pc_model_cdn_for_name(m, b, strlen(b), &cp), pc_model_cdn(m, "acme"));
	assert_int_equal(cp, strlen("ad102.web.abc"));
	static const char apex[] = "cdn.beta.net";
	assert_int_equal(pc_model_cdn_for_name(m, apex, strlen(apex), &cp),
	                 pc_model_cdn(m, "beta"));
	assert_int_equal(cp, 0);
	static const char x[] = "xcdn.acme.net";
	assert_int_equal(pc_model_cdn_for_name(m, x, strlen(x), NULL), PC_NONE);
	static const char other[] = "www.example.com";
	assert_int_equal(pc_model_cdn_for_name(m, other, strlen(other), NULL), PC_NONE);
}

static uint32_t net_of(const pc_model *m, const char *text, unsigned *len)
{
	pc_addr addr;
	assert_int_equal(pc_addr_parse(text, &addr), 0);
	return pc_model_client_net(m, &addr, len);
}

static void test_client_nets(void **state)
{
	const pc_model *m = *state;
	unsigned len = 0;
	uint32_t net = net_of(m, "127.4.12.7", &len);
	assert_int_not_equal(net, PC_NONE);
	assert_int_equal(m->ases[m->client_nets[net].as].asn, 400);
	assert_int_equal(len, 17);
	assert_string_equal(m->client_nets[net].location, "oslo");
	assert_int_equal(net_of(m, "127.4.128.1", NULL), PC_NONE);
	net = net_of(m, "2001:db8:600::42", &len);
	assert_int_equal(m->ases[m->client_nets[net].as].asn, 600);
	assert_int_equal(len, 48);
	assert_int_equal(net_of(m, "2001:db8:601::1", NULL), PC_NONE);
}

static void test_path_costs(void **state)
{
	const pc_model *m = *state;
	uint32_t s1 = pc_model_server(m, "acme-s1");
	assert_int_equal(pc_model_path_cost(m, pc_model_as_by_asn(m, 100), s1), 0);
	assert_int_equal(pc_model_path_cost(m, pc_model_as_by_asn(m, 400), s1), 5);
	/* 600 - 300 - 100: 10 + 10. */
	assert_int_equal(pc_model_path_cost(m, pc_model_as_by_asn(m, 600), s1), 20);
	/* 700 - 100 - 500: 20 + 5. */
	assert_int_equal(
	    pc_model_path_cost(m, pc_model_as_by_asn(m, 700), pc_model_server(m, "beta-s5")), 25);
	/* 400 - 200 is 10, 400 - 100 - 200 would be 15. */
	assert_int_equal(
	    pc_model_path_cost(m, pc_model_as_by_asn(m, 400), pc_model_server(m, "beta-s1")), 10);
}

static void test_footprints_and_agreements(void **state)
{
	const pc_model *m = *state;
	uint32_t acme = pc_model_cdn(m, "acme"), beta = pc_model_cdn(m, "beta"),
	         gamma = pc_model_cdn(m, "gamma");
	uint32_t as500 = pc_model_as_by_asn(m, 500), as700 = pc_model_as_by_asn(m, 700);
	assert_true(pc_model_cdn_has_as(m, acme, as500));
	assert_true(pc_model_cdn_has_as(m, beta, as500));
	assert_false(pc_model_cdn_has_as(m, gamma, as500));
	assert_int_equal(m->ases[as500].cdns.count, 2);
	assert_int_equal(m->ases[as700].cdns.count, 0);
	assert_true(pc_provider_is_primary(m, pc_model_provider(m, "abc"), acme));
	assert_false(pc_provider_is_primary(m, pc_model_provider(m, "abc"), beta));
	assert_true(pc_provider_is_primary(m, pc_model_provider(m, "news"), gamma));
	uint32_t web = pc_model_service(m, "web"), tv = pc_model_service(m, "tv");
	assert_int_equal(pc_model_agreement_between(m, acme, beta, web), 0);
	assert_int_equal(pc_model_agreement_between(m, beta, acme, web), 0);
	assert_int_equal(pc_model_agreement_between(m, acme, beta, tv), PC_NONE);
	assert_int_equal(pc_model_agreement_between(m, acme, gamma, web), PC_NONE);
	assert_int_equal(m->cdns[acme].servers.count, 4);
	assert_int_equal(m->cdns[gamma].agreements.count, 0);
}

static void test_addr_text(void **state)
{
	(void)state;
	static const char *const round[] = {"192.0.2.1",    "0.0.0.0", "2001:db8::1",
	                                    "::",           "::1",     "2001:db8:0:1:1:1:1:1",
	                                    "fe80::1:0:0:1"};
	char text[64];
	for (size_t i = 0; i < sizeof(round) / sizeof(round[0]); i++) {
		pc_addr addr;
		assert_int_equal(pc_addr_parse(round[i], &addr), 0);
		assert_int_equal(pc_addr_format(&addr, text, sizeof(text)), (int)strlen(round[i]));
		assert_string_equal(text, round[i]);
	}
	pc_addr addr;
	assert_int_equal(pc_addr_parse("2001:DB8:0:0:0:0:0:1", &addr), 0);
	pc_addr_format(&addr, text, sizeof(text));
	assert_string_equal(text, "2001:db8::1");
	assert_int_not_equal(pc_addr_parse("192.0.2.0/24", &addr), 0);
	assert_int_not_equal(pc_addr_parse("300.1.1.1", &addr), 0);
	assert_int_equal(pc_addr_parse("192.0.2.1", &addr), 0);
	assert_int_equal(pc_addr_format(&addr, text, 5), PC_ESPACE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_cdn_for_name),
	    cmocka_unit_test(test_client_nets),
	    cmocka_unit_test(test_path_costs),
	    cmocka_unit_test(test_footprints_and_agreements),
	    cmocka_unit_test(test_addr_text),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
