/* Unit tests of the config loader: the embedded default federation loads
 * with the expected counts, and every kind of bad input is rejected with no
 * model and a diagnostic that names the line and column. Bad inputs are the
 * default config with one mistake edited in, so each test shows the one
 * thing that is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "lib/base/err.h"
#include "lib/model/config.h"
#include "lib/model/schema.h"
#include "lib/proto/control_settings.h"
#include "lib/proto/dns_settings.h"
#include "lib/proto/stream_settings.h"
#include "lib/proto/sections.h"

/* Every diagnostic of one load, one per line. */
struct diags {
	char text[16384];
	size_t len;
	unsigned count;
};

static void collect(void *ctx, const char *message)
{
	struct diags *d = ctx;
	d->count++;
	int n = snprintf(d->text + d->len, sizeof(d->text) - d->len, "%s\n", message);
	if (n > 0 && d->len + (size_t)n < sizeof(d->text))
		d->len += (size_t)n;
}

/* The default config with the first occurrence of from replaced by to. */
static char *edit(const char *from, const char *to)
{
	const char *at = strstr(pc_default_config_yaml, from);
	assert_non_null(at);
	size_t head = (size_t)(at - pc_default_config_yaml), from_len = strlen(from);
	size_t to_len = strlen(to), total = pc_default_config_yaml_len - from_len + to_len;
	char *text = malloc(total + 1);
	assert_non_null(text);
	memcpy(text, pc_default_config_yaml, head);
	memcpy(text + head, to, to_len);
	memcpy(text + head + to_len, at + from_len, pc_default_config_yaml_len - head - from_len);
	text[total] = '\0';
	return text;
}

/* Loads len bytes of text with every role section. */
static int load(const char *text, size_t len, const char *source, pc_config_diag_fn diag, void *ctx,
                pc_config **out)
{
	struct pc_config_options opts = {.source = source, .sections = pc_role_sections};
	return pc_config_load(text, len, &opts, diag, ctx, out);
}

/* Loads text, expects it rejected, returns the diagnostics. */
static void reject(const char *text, struct diags *d)
{
	pc_config *config = (pc_config *)(uintptr_t)1;
	memset(d, 0, sizeof(*d));
	int rc = load(text, strlen(text), "t.yaml", collect, d, &config);
	assert_int_equal(rc, PC_ECONFIG);
	assert_null(config);
	assert_true(d->count > 0);
}

/* An edit of the default config that must be rejected with a message at
 * where (a "t.yaml:LINE:COL:" prefix) holding every word. */
static void expect_error(const char *from, const char *to, const char *where, const char *words)
{
	char *text = edit(from, to);
	struct diags d;
	reject(text, &d);
	free(text);
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "t.yaml:%s: ", where);
	const char *line = strstr(d.text, prefix);
	if (line == NULL)
		fail_msg("no diagnostic at %s in:\n%s", where, d.text);
	const char *end = strchr(line, '\n');
	char word[64];
	for (const char *w = words; *w != '\0';) {
		size_t n = strcspn(w, "|");
		snprintf(word, sizeof(word), "%.*s", (int)n, w);
		const char *found = strstr(line, word);
		if (found == NULL || found > end)
			fail_msg("no \"%s\" in diagnostic at %s:\n%s", word, where, d.text);
		w += n + (w[n] == '|');
	}
}

static void test_default_loads(void **state)
{
	(void)state;
	struct diags d = {0};
	pc_config *config = NULL;
	assert_int_equal(load(pc_default_config_yaml, pc_default_config_yaml_len,
	                      PC_DEFAULT_CONFIG_NAME, collect, &d, &config),
	                 PC_OK);
	assert_int_equal(d.count, 0);
	assert_non_null(config);
	const pc_model *model = pc_config_model(config);
	assert_int_equal(model->n_cdns, 3);
	assert_int_equal(model->n_ases, 7);
	assert_int_equal(model->n_links, 10);
	assert_int_equal(model->n_tiers, 3);
	assert_int_equal(model->n_services, 4);
	assert_int_equal(model->n_grades, 3);
	assert_int_equal(model->n_client_nets, 10);
	assert_int_equal(model->n_providers, 4);
	assert_int_equal(model->n_agreements, 1);
	assert_int_equal(model->n_servers, 8);
	assert_int_equal(model->n_nodes, 4);
	assert_string_equal(model->nodes[model->self_node].name, "acme-n1");
	assert_string_equal(model->services[model->default_service].name, "web");

	const struct pc_cdn *acme = &model->cdns[pc_model_cdn(model, "acme")];
	assert_string_equal(acme->domain, "cdn.acme.net");
	assert_int_equal(acme->backbone_as.count, 1);
	assert_int_equal(acme->affiliate_as.count, 2);
	assert_int_equal(acme->dns_ttl, 0);
	assert_int_equal(pc_cdn_anycast(model, acme, "dns")->count, 1);

	/* Tier order is the list's; masks follow it. */
	assert_string_equal(model->tiers[2], "core");
	const struct pc_grade *gold = &model->grades[0], *bronze = &model->grades[2];
	assert_int_equal(gold->tier_mask, 0x3);
	assert_int_equal(gold->max_path_cost, 30);
	assert_int_equal(bronze->tier_mask, 0x4);
	assert_int_equal(bronze->max_path_cost, PC_COST_INFINITE);

	const struct pc_service *web = &model->services[0], *tv = &model->services[2];
	assert_int_equal(web->scheme_mask, PC_SCHEME_HTTP | PC_SCHEME_HTTPS);
	assert_int_equal(tv->scheme_mask, PC_SCHEME_RTSP);
	assert_int_equal(web->dns_ttl, PC_NONE);

	const struct pc_provider *abc = &model->providers[pc_model_provider(model, "abc")];
	assert_true(abc->has_sign_key && abc->has_enc_key);
	assert_memory_equal(abc->sign_key, "abc-sign-key-only-for-the-demo!!", 32);
	assert_int_equal(abc->n_origin_hosts, 1);
	assert_string_equal(abc->origin_hosts[0], "www.abc.com");
	assert_true(model->providers[pc_model_provider(model, "news")].require_signature);

	const struct pc_agreement *ab = &model->agreements[0];
	assert_int_equal(ab->capacity_rps, 1000);
	assert_true(ab->report_usage);
	assert_int_equal(ab->service_mask, 0x3);

	const struct pc_server *s1 = &model->servers[pc_model_server(model, "acme-s1")];
	assert_int_equal(s1->http_port, 8080);
	assert_int_equal(s1->rtsp_port, 8554);
	assert_int_equal(s1->capacity, 1000);
	assert_int_equal(s1->service_mask, 0xf);
	const struct pc_server *core = &model->servers[pc_model_server(model, "acme-core")];
	assert_int_equal(core->tier, 2);
	assert_int_equal(core->rtsp_port, 0);

	assert_int_equal(model->params.report_prefix4, 24);
	assert_int_equal(model->params.high_watermark_pct, 90);
	assert_true(pc_dns_settings(config)->enabled);
	assert_non_null(pc_dns_settings(config)->hostmaster);
	assert_true(pc_control_settings(config)->metrics_enabled);
	pc_config_free(config);
}

/* Every number of a table fits the field its macro sized: range and
 * default (an explicit default may lie outside the range, not the field). */
static void check_table(const struct pc_item *table)
{
	for (const struct pc_item *item = table; item->key != NULL; item++) {
		bool number = item->type == PC_ITEM_UINT || item->type == PC_ITEM_MS ||
		              item->type == PC_ITEM_ENUM ||
		              (item->type == PC_ITEM_CUSTOM && item->dflt);
		if (number) {
			assert_true(item->size == 1 || item->size == 2 || item->size == 4 ||
			            item->size == 8);
			uint64_t limit =
			    item->size == 8 ? UINT64_MAX : (1ull << (8 * item->size)) - 1;
			assert_true(item->max <= limit);
			assert_true(item->dflt <= limit);
		}
		if (item->items != NULL)
			check_table(item->items);
	}
}

static void test_tables_fit(void **state)
{
	(void)state;
	check_table(pc_config_items);
	for (unsigned s = 0; pc_role_sections[s] != NULL; s++)
		check_table(pc_role_sections[s]->items);
}

static void test_minimal_and_case(void **state)
{
	(void)state;
	static const char yaml[] = "version: 1\n"
	                           "ases: [{asn: 1}]\n"
	                           "cdns: [{name: X, domain: CDN.Example.NET., backbone: [1]}]\n"
	                           "providers: [{name: p, primary: [x], grade: g,\n"
	                           "  origins: [WWW.P.COM]}]\n"
	                           "tiers: [t]\n"
	                           "grades: [{name: g, tiers: [t]}]\n";
	pc_config *config = NULL;
	assert_int_equal(load(yaml, strlen(yaml), "m", NULL, NULL, &config), PC_OK);
	const pc_model *model = pc_config_model(config);
	assert_string_equal(model->cdns[0].domain, "cdn.example.net");
	assert_string_equal(model->providers[0].origin_hosts[0], "www.p.com");
	assert_int_equal(model->self_node, PC_NONE);
	assert_int_equal(pc_dns_settings(config)->port, 53);
	/* Durations get their defaults too (they were left 0). */
	assert_int_equal(pc_dns_settings(config)->tcp_idle_ms, 10000);
	assert_int_equal(pc_http_settings(config)->header_timeout_ms, 10000);
	assert_int_equal(pc_rtsp_settings(config)->idle_timeout_ms, 30000);
	assert_string_equal(pc_dns_settings(config)->hostmaster, "hostmaster.cdn.example.net");
	pc_config_free(config);
}

static void test_unknown_key(void **state)
{
	(void)state;
	expect_error("capacity: 4000", "capcity: 4000", "149:38",
	             "unknown key \"capcity\"|server \"acme-core\"|expected one of: name, cdn");
}

/* A hold (up to 2 x slow_link_ms) must end before a child is pruned as
 * silent (3 x join_refresh_ms). */
static void test_overlay_hold_bound(void **state)
{
	(void)state;
	expect_error("control:",
	             "overlay:\n  slow_link_ms: 20000\n  join_refresh_ms: 10000\ncontrol:", "193:3",
	             "slow_link_ms|join_refresh_ms");
}

static void test_unknown_cdn(void **state)
{
	(void)state;
	expect_error("between: [acme, beta]", "between: [acme, gama]", "138:21",
	             "agreement \"acme-beta\"|unknown CDN \"gama\"");
}

static void test_host_bits(void **state)
{
	(void)state;
	expect_error("127.7.0.0/17", "10.1.2.3/16", "106:14",
	             "client prefix 10.1.2.3/16 has host bits set");
}

static void test_duplicate_prefix(void **state)
{
	(void)state;
	expect_error("{prefix: 127.7.0.0/17", "{prefix: 127.1.0.0/17", "106:14",
	             "duplicate client prefix 127.1.0.0/17 (first at line 100)");
	expect_error("{prefix: \"2001:db8:600::/48\"", "{prefix: \"2001:db8:100::/48\"", "109:14",
	             "duplicate client prefix 2001:db8:100::/48|line 107");
}

static void test_affiliation_loop(void **state)
{
	(void)state;
	expect_error("affiliates: [400, 500]", "affiliates: [400, 500, 100]", "74:28",
	             "AS 100 is both backbone and affiliate of CDN \"acme\"");
	expect_error("backbone: [200, 300]", "backbone: [200, 300, 200]", "83:26",
	             "AS 200 is listed twice in CDN \"beta\"");
}

static void test_server_cdn(void **state)
{
	(void)state;
	expect_error("{name: acme-s2, cdn: acme, ", "{name: acme-s2, ", "146:5",
	             "server \"acme-s2\" names no CDN");
	expect_error("{name: acme-s2, cdn: acme, ", "{name: acme-s2, cdn: acmee, ", "146:26",
	             "unknown CDN \"acmee\"");
}

static void test_unknown_references(void **state)
{
	(void)state;
	expect_error("{a: 100, b: 700, cost: 20}", "{a: 100, b: 800, cost: 20}", "68:17",
	             "unknown AS 800|ases");
	expect_error("{name: gamma-n1, as: 600", "{name: gamma-n1, as: 601", "165:26",
	             "unknown AS 601");
	expect_error("[127.1.200.2], tier: edge", "[127.1.200.2], tier: egde", "146:73",
	             "unknown tier \"egde\"");
	expect_error("services: [web, vod]\n    capacity_rps",
	             "services: [web, vdo]\n    capacity_rps", "139:21", "unknown service \"vdo\"");
	expect_error("grade: bronze", "grade: brnze", "122:12", "provider \"nbc\"|unknown grade");
	expect_error("primary: [gamma]", "primary: [gamm]", "130:15", "unknown CDN \"gamm\"");
	expect_error("self: acme-n1", "self: acme-n9", "16:7", "self|unknown node \"acme-n9\"");
	expect_error("default_service: web", "default_service: www", "23:20",
	             "unknown service \"www\"");
}

static void test_duplicates(void **state)
{
	(void)state;
	expect_error("name: nbc ", "name: ABC ", "120:11",
	             "duplicate provider name \"ABC\" (first at line 112)");
	expect_error("{asn: 700, name: plain-isp}", "{asn: 600, name: plain-isp}", "56:11",
	             "AS 600 is declared twice (first at line 55)");
	expect_error("tiers: [edge, regional, core]", "tiers: [edge, regional, edge]", "29:25",
	             "duplicate tier name");
	expect_error("domain: cdn.gamma.net", "domain: CDN.beta.net", "91:13",
	             "domain \"cdn.beta.net\"|\"beta\"");
	expect_error("{a: 100, b: 700, cost: 20}", "{a: 200, b: 100, cost: 20}", "68:5",
	             "duplicate link between AS 200 and AS 100 (first at line 59)");
	expect_error("origins: [www.foo.com]", "origins: [www.abc.com]", "127:15",
	             "host \"www.abc.com\"|provider \"abc\"");
	expect_error("name: beta-s2", "name: beta-s1", "154:12", "duplicate server name");
}

static void test_keys_and_values(void **state)
{
	(void)state;
	expect_error("6e6577732d7369676e696e672d6b65792d6e6f742d666f722d70726f64212121",
	             "6e6577732d7369676e696e672d6b65792d6e6f742d666f722d70726f642121zz", "133:15",
	             "sign_key|64 hex digits");
	expect_error("backbone: [600]", "backbone: 600", "92:15", "backbone|expected a list");
	expect_error("ports: {http: 8080}}\n  - {name: acme-s4",
	             "ports: {http: 80800}}\n  - {name: acme-s4", "149:68", "http|out of range");
	expect_error("high_watermark: 90", "high_watermark: 101", "21:19", "high_watermark");
	expect_error("ipv4_prefix: 24", "ipv4_prefix: 33", "26:16", "ipv4_prefix|out of range");
	expect_error("capacity: 500, ports: {http: 8080}}\n  - {name: beta-s1",
	             "capacity: -5, ports: {http: 8080}}\n  - {name: beta-s1", "151:38",
	             "capacity|expected an integer");
	expect_error("require_signature: false", "require_signature: maybe", "115:24",
	             "true or false");
	expect_error("version: 1", "version: 2", "15:10", "unsupported version 2");
	expect_error("    domain: cdn.gamma.net\n", "", "90:5",
	             "CDN \"gamma\"|missing required key \"domain\"");
	expect_error("domain: cdn.gamma.net", "domain: cdn..gamma", "91:13", "not a host name");
	expect_error("addresses: [127.6.200.1]", "addresses: [127.6.200.300]", "158:55",
	             "not an IP address");
	expect_error("- name: vod\n", "- name: vod\n    schemes: [http]\n", "35:15",
	             "scheme http already implies service \"web\"");
	expect_error("between: [acme, beta]", "between: [acme, beta, gamma]", "138:14",
	             "expected two CDNs, found 3");
	expect_error("bad_signature: refuse", "bad_signature: decoy\n  dns_mode: x", "172:3",
	             "unknown key \"dns_mode\" in dns");
}

static void test_every_error_reported(void **state)
{
	(void)state;
	char *one = edit("between: [acme, beta]", "between: [acme, gama]");
	const char *at = strstr(one, "grade: bronze");
	memcpy((char *)at, "grade: brnze ", 13);
	at = strstr(one, "self: acme-n1");
	memcpy((char *)at, "self: nobody ", 13);
	struct diags d;
	reject(one, &d);
	free(one);
	assert_int_equal(d.count, 3);
	assert_non_null(strstr(d.text, "t.yaml:16:7: self: unknown node \"nobody\""));
	assert_non_null(strstr(d.text, "t.yaml:122:12: provider \"nbc\": unknown grade \"brnze\""));
	assert_non_null(
	    strstr(d.text, "t.yaml:138:21: agreement \"acme-beta\": unknown CDN \"gama\""));
}

static void test_syntax_and_structure(void **state)
{
	(void)state;
	struct diags d;
	char *text = edit("  - {asn: 300, name: beta-east}", "  - {asn: 300, name: beta-east");
	reject(text, &d);
	free(text);
	assert_int_equal(d.count, 1);
	assert_non_null(strstr(d.text, "t.yaml:53:5: YAML syntax error"));

	reject("", &d);
	assert_non_null(strstr(d.text, "t.yaml:1:1: the file is empty"));
	reject("just text\n", &d);
	assert_non_null(strstr(d.text, "expected a mapping"));
	reject("version: 1\nversion: 1\n", &d);
	assert_non_null(strstr(d.text, "t.yaml:2:1:"));
	assert_non_null(strstr(d.text, "duplicate key \"version\" (first at line 1)"));
	reject("version: 1\n---\nversion: 1\n", &d);
	assert_non_null(strstr(d.text, "more than one YAML document"));
	reject("tiers: [a]\n", &d);
	assert_non_null(strstr(d.text, "missing required key \"version\""));
	reject("version: 1\ntiers: &t [a]\ngrades: [{name: g, tiers: *t}]\n", &d);
	assert_non_null(strstr(d.text, "t.yaml:3:27:"));
	assert_non_null(strstr(d.text, "aliases are not supported"));

	/* Nesting is bounded before the parser's stacks grow. */
	char deep[2100] = "version: 1\npolicy: ";
	size_t n = strlen(deep);
	memset(deep + n, '[', 1000);
	memset(deep + n + 1000, ']', 1000);
	deep[n + 2000] = '\0';
	reject(deep, &d);
	assert_non_null(strstr(d.text, "nested deeper"));

	/* Not NUL-terminated: the loader reads len bytes only. */
	pc_config *config = NULL;
	assert_int_equal(load("version: 1xyz", 10, "t", NULL, NULL, &config), PC_OK);
	pc_config_free(config);
}

static void test_error_cap(void **state)
{
	(void)state;
	/* Thousands of bad items: the report is bounded and ends with why. */
	size_t items = 5000, cap = 64 + items * 24;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t len = (size_t)snprintf(text, cap, "version: 1\nclients:\n");
	for (size_t i = 0; i < items; i++)
		len += (size_t)snprintf(text + len, cap - len, "  - {prefix: x, as: 1}\n");
	struct diags *d = malloc(sizeof(*d));
	assert_non_null(d);
	reject(text, d);
	assert_true(d->count <= 1001);
	free(text);
	free(d);
}

/* A million client prefixes load in linear time (the bench builds bigger
 * models directly; this guards the loader's own complexity). */
static void test_many_clients(void **state)
{
	(void)state;
	const size_t items = 1000000;
	size_t cap = 64 + items * 40;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t len = (size_t)snprintf(text, cap, "version: 1\nases: [{asn: 1}]\nclients:\n");
	for (size_t i = 0; i < items; i++)
		len +=
		    (size_t)snprintf(text + len, cap - len, "- {prefix: 10.%zu.%zu.0/24, as: 1}\n",
		                     i >> 8 & 0xff, i & 0xff);
	/* 65536 distinct /24s exist under 10/8; the rest repeat: use /32s too. */
	len = (size_t)snprintf(text, cap, "version: 1\nases: [{asn: 1}]\nclients:\n");
	for (size_t i = 0; i < items; i++)
		len += (size_t)snprintf(text + len, cap - len,
		                        "- {prefix: 10.%zu.%zu.%zu/32, as: 1}\n", i >> 16 & 0xff,
		                        i >> 8 & 0xff, i & 0xff);
	pc_config *config = NULL;
	assert_int_equal(load(text, len, "big", NULL, NULL, &config), PC_OK);
	assert_int_equal(pc_config_model(config)->n_client_nets, items);
	pc_config_free(config);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_loads),
	    cmocka_unit_test(test_minimal_and_case),
	    cmocka_unit_test(test_tables_fit),
	    cmocka_unit_test(test_unknown_key),
	    cmocka_unit_test(test_overlay_hold_bound),
	    cmocka_unit_test(test_unknown_cdn),
	    cmocka_unit_test(test_host_bits),
	    cmocka_unit_test(test_duplicate_prefix),
	    cmocka_unit_test(test_affiliation_loop),
	    cmocka_unit_test(test_server_cdn),
	    cmocka_unit_test(test_unknown_references),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_keys_and_values),
	    cmocka_unit_test(test_every_error_reported),
	    cmocka_unit_test(test_syntax_and_structure),
	    cmocka_unit_test(test_error_cap),
	    cmocka_unit_test(test_many_clients),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
