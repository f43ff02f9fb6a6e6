/* Unit tests of hosts.c: the table must give exactly what the suffix walk
 * (pc_model_cdn_for_name) and pc_name_parse give, for names built from the
 * configured labels in every order and case, with signature and "e-"
 * labels, bad bytes, empty labels and nested domains. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "fixture.h"
#include "lib/base/err.h"
#include "lib/model/config.h"
#include "lib/naming/hosts.h"
#include "lib/naming/naming.h"

/* Nested domains (acme.net inside cdn.acme.net's parent), a provider named
 * like a service, one like a domain label, and one "e-" provider. */
static const char nested_yaml[] = "version: 1\n"
                                  "services:\n"
                                  "  - name: web\n"
                                  "  - name: tv\n"
                                  "  - name: net\n"
                                  "grades:\n"
                                  "  - {name: gold, tiers: [edge]}\n"
                                  "tiers: [edge]\n"
                                  "ases:\n"
                                  "  - {asn: 100}\n"
                                  "cdns:\n"
                                  "  - {name: acme, domain: cdn.acme.net, backbone: [100]}\n"
                                  "  - {name: outer, domain: acme.net, backbone: [100]}\n"
                                  "  - {name: deep, domain: a.b.c.d.example, backbone: [100]}\n"
                                  "providers:\n"
                                  "  - {name: abc, primary: [acme], grade: gold}\n"
                                  "  - {name: web, primary: [acme], grade: gold}\n"
                                  "  - {name: cdn, primary: [outer], grade: gold}\n"
                                  "  - {name: e-x, primary: [acme], grade: gold}\n";

static int group_setup(void **state)
{
	return sodium_init() < 0 ? -1 : 0;
	(void)state;
}

static void check_name(const pc_model *model, const pc_hosts *hosts, const char *name, size_t len,
                       unsigned *ok)
{
	size_t cp_slow = 12345, cp_fast = 12345;
	uint32_t zone_slow = pc_model_cdn_for_name(model, name, len, &cp_slow);
	uint32_t zone_fast = pc_hosts_zone(hosts, name, len, &cp_fast);
	if (zone_slow != zone_fast || cp_slow != cp_fast)
		fail_msg("zone of \"%.*s\": walk %u/%zu, table %u/%zu", (int)len, name, zone_slow,
		         cp_slow, zone_fast, cp_fast);
	/* The same name in wire form, split from there. */
	uint8_t wire[300];
	size_t at = 0, label = 0, wire_len = 0;
	bool wire_ok = len > 0 && name[len - 1] != '.' && len < 254;
	for (size_t i = 0; wire_ok && i <= len; i++) {
		if (i == len || name[i] == '.') {
			wire_ok = i > label && i - label <= 63;
			wire[at++] = (uint8_t)(i - label);
			memcpy(wire + at, name + label, i - label);
			at += i - label;
			label = i + 1;
		}
	}
	wire[at++] = 0;
	struct pc_host_name split;
	if (wire_ok && pc_host_name_from_wire(wire, at, &split, &wire_len)) {
		assert_int_equal(wire_len, at);
		uint32_t zone;
		size_t cp;
		pc_name slow, fast;
		int rc_slow = pc_name_parse(model, name, len, &slow);
		int rc_fast = pc_hosts_split_parse(hosts, &split, true, &fast, &zone, &cp);
		if (rc_slow != rc_fast || zone != zone_slow || (zone != PC_NONE && cp != cp_slow))
			fail_msg("wire \"%.*s\": parse %d zone %u/%zu, split %d zone %u/%zu",
			         (int)len, name, rc_slow, zone_slow, cp_slow, rc_fast, zone, cp);
		if (rc_slow == PC_OK &&
		    (slow.provider != fast.provider || slow.service != fast.service ||
		     strcmp(slow.object, fast.object) != 0))
			fail_msg("wire \"%.*s\": parse and split differ", (int)len, name);
	} else if (wire_ok) {
		/* Not plain: a byte outside the plain set. */
		struct pc_host_name text_split;
		assert_false(pc_host_name_split(name, len, &text_split));
	}
	for (int need = 0; need < 2; need++) {
		pc_name slow, fast;
		int rc_slow = pc__name_parse(model, name, len, need, &slow);
		int rc_fast = pc__hosts_name_parse(hosts, name, len, need, &fast);
		if (rc_slow != rc_fast)
			fail_msg("\"%.*s\" (need_service %d): parse %d, table %d", (int)len, name,
			         need, rc_slow, rc_fast);
		if (rc_slow != PC_OK)
			continue;
		++*ok;
		if (slow.cdn != fast.cdn || slow.provider != fast.provider ||
		    slow.service != fast.service || slow.signature != fast.signature ||
		    slow.encrypted != fast.encrypted || slow.object_len != fast.object_len ||
		    strcmp(slow.object, fast.object) != 0)
			fail_msg(
			    "\"%.*s\": parse %u/%u/%u/%d/%d \"%s\", table %u/%u/%u/%d/%d \"%s\"",
			    (int)len, name, slow.cdn, slow.provider, slow.service, slow.signature,
			    slow.encrypted, slow.object, fast.cdn, fast.provider, fast.service,
			    fast.signature, fast.encrypted, fast.object);
	}
}

/* Random names from the model's own labels and some odd ones. */
static void differential(const pc_model *model, unsigned rounds)
{
	pc_hosts *hosts = NULL;
	assert_int_equal(pc_hosts_new(model, &hosts), PC_OK);
	const char *pool[64];
	size_t n_pool = 0;
	static const char *const odd[] = {"ad102", "x",     "s-abcdefgh", "e-abcdef", "e-",
	                                  "s-",    "A_b-9", "bad!",       "",         "ns1",
	                                  "acme",  "net",   "cdn",        "é"};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		pool[n_pool++] = odd[i];
	for (uint32_t i = 0; i < model->n_providers && n_pool < 48; i++)
		pool[n_pool++] = model->providers[i].name;
	for (uint32_t i = 0; i < model->n_services && n_pool < 56; i++)
		pool[n_pool++] = model->services[i].name;
	for (uint32_t i = 0; i < model->n_cdns && n_pool < 64; i++)
		pool[n_pool++] = model->cdns[i].domain;
	srand(9);
	unsigned ok = 0;
	for (unsigned r = 0; r < rounds; r++) {
		char name[400];
		size_t len = 0;
		unsigned parts = 1 + (unsigned)rand() % 6;
		for (unsigned p = 0; p < parts; p++) {
			/* Mostly a domain last, as real names have. */
			const char *part =
			    p + 1 == parts && rand() % 4 != 0
			        ? model->cdns[(unsigned)rand() % model->n_cdns].domain
			        : pool[(unsigned)rand() % n_pool];
			size_t plen = strlen(part);
			if (len + plen + 2 > sizeof(name))
				break;
			if (p > 0)
				name[len++] = '.';
			for (size_t i = 0; i < plen; i++) {
				char c = part[i];
				if (rand() % 5 == 0 && c >= 'a' && c <= 'z')
					c = (char)(c - 'a' + 'A');
				name[len++] = c;
			}
		}
		if (rand() % 8 == 0)
			name[len++] = '.';
		check_name(model, hosts, name, len, &ok);
	}
	/* Enough of them were codepoints for the comparison to mean something. */
	assert_true(ok > rounds / 10);
	pc_hosts_free(hosts);
}

static void test_default_federation(void **state)
{
	(void)state;
	pc_model *model = fixture_load_text(pc_default_config_yaml);
	differential(model, 200000);
	fixture_free(model);
}

static void test_nested_domains(void **state)
{
	(void)state;
	pc_model *model = fixture_load_text(nested_yaml);
	differential(model, 200000);
	fixture_free(model);
}

/* The common names, by hand: the table's own answers, not only agreement. */
static void test_examples(void **state)
{
	(void)state;
	pc_model *model = fixture_load_text(nested_yaml);
	pc_hosts *hosts = NULL;
	assert_int_equal(pc_hosts_new(model, &hosts), PC_OK);
	pc_name name;
	const char *text = "Ad102.X.web.ABC.cdn.acme.net";
	assert_int_equal(pc_hosts_name_parse(hosts, text, strlen(text), &name), PC_OK);
	assert_int_equal(name.cdn, pc_model_cdn(model, "acme"));
	assert_int_equal(name.provider, pc_model_provider(model, "abc"));
	assert_int_equal(name.service, pc_model_service(model, "web"));
	assert_string_equal(name.object, "ad102.x");
	size_t cp = 0;
	text = "ns1.cdn.acme.net";
	assert_int_equal(pc_hosts_zone(hosts, text, strlen(text), &cp),
	                 pc_model_cdn(model, "acme"));
	assert_int_equal(cp, 3);
	text = "www.acme.net";
	assert_int_equal(pc_hosts_zone(hosts, text, strlen(text), &cp),
	                 pc_model_cdn(model, "outer"));
	text = "cdn.acme.net";
	assert_int_equal(pc_hosts_zone(hosts, text, strlen(text), &cp),
	                 pc_model_cdn(model, "acme"));
	assert_int_equal(cp, 0);
	text = "cdn.acme.org";
	assert_int_equal(pc_hosts_zone(hosts, text, strlen(text), &cp), PC_NONE);
	/* A DNS answer's usual name, in one probe of its host (no domain of
	 * seven labels here): what the walk gives. */
	pc_model *dflt = fixture_load_text(pc_default_config_yaml);
	pc_hosts *dflt_hosts = NULL;
	assert_int_equal(pc_hosts_new(dflt, &dflt_hosts), PC_OK);
	struct pc_host_name split;
	uint32_t zone;
	text = "AD102.web.abc.cdn.acme.net";
	assert_true(pc_host_name_split(text, strlen(text), &split));
	assert_int_equal(pc_hosts_split_parse(dflt_hosts, &split, true, &name, &zone, &cp), PC_OK);
	assert_int_equal(name.cdn, pc_model_cdn(dflt, "acme"));
	assert_int_equal(zone, name.cdn);
	assert_int_equal(cp, strlen("ad102.web.abc"));
	assert_int_equal(name.provider, pc_model_provider(dflt, "abc"));
	assert_int_equal(name.service, pc_model_service(dflt, "web"));
	assert_string_equal(name.object, "ad102");
	assert_int_equal(name.object_len, 5);
	unsigned ok = 0;
	check_name(dflt, dflt_hosts, text, strlen(text), &ok);
	assert_int_equal(ok, 2);
	pc_hosts_free(dflt_hosts);
	fixture_free(dflt);
	pc_hosts_free(hosts);
	fixture_free(model);
}

/* Providers whose names end a word at every offset (1 to 17 bytes). */
static const char lengths_yaml[] = "version: 1\n"
                                   "services:\n"
                                   "  - name: web\n"
                                   "grades:\n"
                                   "  - {name: gold, tiers: [edge]}\n"
                                   "tiers: [edge]\n"
                                   "ases:\n"
                                   "  - {asn: 100}\n"
                                   "cdns:\n"
                                   "  - {name: acme, domain: cdn.acme.net, backbone: [100]}\n"
                                   "providers:\n"
                                   "  - {name: a, primary: [acme], grade: gold}\n"
                                   "  - {name: ab, primary: [acme], grade: gold}\n"
                                   "  - {name: abc, primary: [acme], grade: gold}\n"
                                   "  - {name: abcde, primary: [acme], grade: gold}\n"
                                   "  - {name: abcdefg, primary: [acme], grade: gold}\n"
                                   "  - {name: abcdefgh, primary: [acme], grade: gold}\n"
                                   "  - {name: abcdefghi, primary: [acme], grade: gold}\n"
                                   "  - {name: abcdefghijklmnop, primary: [acme], grade: gold}\n"
                                   "  - {name: abcdefghijklmnopq, primary: [acme], grade: gold}\n";

/* The look-ups compare a key's bytes only: the slack past a split name
 * (and the stack copy a host is lower-cased into) is never read as part
 * of it. Each name split into a buffer poisoned with 0xAA and one with
 * 0x55 resolves alike, to its provider; a name one byte off in any
 * position of its provider label resolves to no provider of that name. */
static void test_keys_compared_by_their_bytes_only(void **state)
{
	(void)state;
	pc_model *model = fixture_load_text(lengths_yaml);
	pc_hosts *hosts = NULL;
	assert_int_equal(pc_hosts_new(model, &hosts), PC_OK);
	static const char *const providers[] = {"a",
	                                        "ab",
	                                        "abc",
	                                        "abcde",
	                                        "abcdefg",
	                                        "abcdefgh",
	                                        "abcdefghi",
	                                        "abcdefghijklmnop",
	                                        "abcdefghijklmnopq"};
	for (size_t p = 0; p < sizeof(providers) / sizeof(providers[0]); p++) {
		size_t plen = strlen(providers[p]);
		for (size_t off = 0; off <= plen; off++) {
			/* off == plen: the name itself; else its byte off is 'z'. */
			char label[32], text[96];
			memcpy(label, providers[p], plen + 1);
			if (off < plen)
				label[off] = 'z';
			int n = snprintf(text, sizeof(text), "obj.web.%s.cdn.acme.net", label);
			pc_name names[2];
			int rcs[2];
			for (int k = 0; k < 2; k++) {
				struct pc_host_name split;
				memset(&split, k == 0 ? 0xAA : 0x55, sizeof(split));
				assert_true(pc_host_name_split(text, (size_t)n, &split));
				uint32_t zone;
				size_t cp;
				rcs[k] = pc_hosts_split_parse(hosts, &split, true, &names[k], &zone,
				                              &cp);
				assert_int_equal(zone, pc_model_cdn(model, "acme"));
			}
			assert_int_equal(rcs[0], rcs[1]);
			uint32_t want = pc_model_provider(model, providers[p]);
			if (off == plen) {
				assert_int_equal(rcs[0], PC_OK);
				assert_int_equal(names[0].provider, want);
				assert_int_equal(names[1].provider, want);
				assert_string_equal(names[0].object, "obj");
			} else {
				assert_true(rcs[0] != PC_OK || names[0].provider != want);
				assert_true(rcs[1] != PC_OK || names[1].provider != want);
			}
			/* The host alone, through the URL look-up's stack copy. */
			pc_name host;
			int rc = pc__hosts_url_name(hosts, text + 4, (size_t)n - 4, &host);
			assert_true(off == plen ? rc == PC_OK && host.provider == want
			                        : rc != PC_OK || host.provider != want);
		}
	}
	pc_hosts_free(hosts);
	fixture_free(model);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_examples),
	    cmocka_unit_test(test_default_federation),
	    cmocka_unit_test(test_nested_domains),
	    cmocka_unit_test(test_keys_compared_by_their_bytes_only),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
