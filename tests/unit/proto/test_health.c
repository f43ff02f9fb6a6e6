/* Unit tests of the health role's pure parts (lib/proto/health.h) and
 * its section (lib/proto/health_settings.h): the hysteresis of fall and
 * rise, a flapping server keeping its verdict, the status line read as it
 * trickles in, the probe's request, and the keys with their defaults and
 * rejections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "lib/base/err.h"
#include "lib/model/config.h"
#include "lib/proto/health.h"
#include "lib/proto/health_settings.h"
#include "lib/proto/sections.h"

/* Feeds results ("10" ...: 1 ok, 0 failed) and returns the verdicts after
 * each ("UD" ...). */
static void feed(struct pc_health_track *t, const char *results, uint32_t fall, uint32_t rise,
                 char *verdicts)
{
	size_t i = 0;
	for (; results[i] != '\0'; i++) {
		pc_health_track_feed(t, results[i] == '1', fall, rise);
		verdicts[i] = t->up ? 'U' : 'D';
	}
	verdicts[i] = '\0';
}

static void test_fall_and_rise(void **state)
{
	(void)state;
	struct pc_health_track t;
	pc_health_track_init(&t);
	assert_true(t.up);
	char v[64];
	/* fall 2: the second failure in a row marks it down; rise 3. */
	feed(&t, "1100111", 2, 3, v);
	assert_string_equal(v, "UUUDDDU");
	/* The transitions are reported once, on the result that makes them. */
	pc_health_track_init(&t);
	assert_int_equal(pc_health_track_feed(&t, false, 2, 2), PC_HEALTH_SAME);
	assert_int_equal(pc_health_track_feed(&t, false, 2, 2), PC_HEALTH_WENT_DOWN);
	assert_int_equal(pc_health_track_feed(&t, false, 2, 2), PC_HEALTH_SAME);
	assert_int_equal(pc_health_track_feed(&t, true, 2, 2), PC_HEALTH_SAME);
	assert_int_equal(pc_health_track_feed(&t, true, 2, 2), PC_HEALTH_WENT_UP);
	assert_int_equal(pc_health_track_feed(&t, true, 2, 2), PC_HEALTH_SAME);
}

static void test_flapping_keeps_verdict(void **state)
{
	(void)state;
	struct pc_health_track t;
	pc_health_track_init(&t);
	char v[64];
	/* One failure between successes never reaches fall 2. */
	feed(&t, "1010101010", 2, 2, v);
	assert_string_equal(v, "UUUUUUUUUU");
	/* Down, one success between failures never reaches rise 2. */
	pc_health_track_init(&t);
	feed(&t, "00101010", 2, 2, v);
	assert_string_equal(v, "UDDDDDDD");
}

static void test_fall_one_and_zero(void **state)
{
	(void)state;
	struct pc_health_track t;
	pc_health_track_init(&t);
	char v[16];
	feed(&t, "0101", 1, 1, v);
	assert_string_equal(v, "DUDU");
	/* 0 counts as 1. */
	pc_health_track_init(&t);
	feed(&t, "01", 0, 0, v);
	assert_string_equal(v, "DU");
	/* A long run does not wrap the counter into a false verdict. */
	pc_health_track_init(&t);
	t.run = UINT32_MAX - 1;
	t.up = false;
	assert_int_equal(pc_health_track_feed(&t, false, 2, UINT32_MAX), PC_HEALTH_SAME);
	assert_false(t.up);
}

static enum pc_health_status parse(const char *text, uint16_t *status)
{
	return pc_health_status_parse((const uint8_t *)text, strlen(text), status);
}

static void test_status_line(void **state)
{
	(void)state;
	uint16_t status = 0;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n", &status), PC_HEALTH_STATUS_OK);
	assert_int_equal(status, 200);
	assert_true(pc_health_status_up(status));
	assert_int_equal(parse("HTTP/1.0 404", &status), PC_HEALTH_STATUS_OK);
	assert_int_equal(status, 404);
	assert_true(pc_health_status_up(status));
	assert_int_equal(parse("HTTP/1.1 503 Service Unavailable\r\n", &status),
	                 PC_HEALTH_STATUS_OK);
	assert_false(pc_health_status_up(status));
	assert_true(pc_health_status_up(499));
	assert_false(pc_health_status_up(500));
	/* Byte by byte: more until the code is whole, never a wrong verdict. */
	static const char line[] = "HTTP/1.1 302 Found\r\n";
	for (size_t n = 0; n < PC_HEALTH_STATUS_NEED; n++)
		assert_int_equal(pc_health_status_parse((const uint8_t *)line, n, &status),
		                 PC_HEALTH_STATUS_MORE);
	/* Bad as soon as a byte shows it. */
	assert_int_equal(parse("SSH-2.0-OpenSSH", &status), PC_HEALTH_STATUS_BAD);
	assert_int_equal(parse("H", &status), PC_HEALTH_STATUS_MORE);
	assert_int_equal(parse("HTTP/2", &status), PC_HEALTH_STATUS_BAD);
	assert_int_equal(parse("HTTP/1.1  200", &status), PC_HEALTH_STATUS_BAD);
	assert_int_equal(parse("HTTP/1.1 2x0", &status), PC_HEALTH_STATUS_BAD);
	assert_int_equal(parse("HTTP/1.1 099 ", &status), PC_HEALTH_STATUS_BAD);
	assert_int_equal(parse("HTTP/1.1 600 ", &status), PC_HEALTH_STATUS_BAD);
	assert_int_equal(parse("RTSP/1.0 200 OK", &status), PC_HEALTH_STATUS_BAD);
}

static void test_request(void **state)
{
	(void)state;
	char out[256];
	size_t n = pc_health_request("/health?x=1", "127.1.200.1:8080", out, sizeof(out));
	assert_int_equal(n, strlen(out));
	assert_string_equal(out, "GET /health?x=1 HTTP/1.1\r\nHost: 127.1.200.1:8080\r\n"
	                         "User-Agent: peercdn-health\r\nConnection: close\r\n\r\n");
	/* Not origin-form, or something that would split the request. */
	assert_int_equal(pc_health_request("health", "h", out, sizeof(out)), 0);
	assert_int_equal(pc_health_request("/a b", "h", out, sizeof(out)), 0);
	assert_int_equal(pc_health_request("/a\r\nX: 1", "h", out, sizeof(out)), 0);
	assert_int_equal(pc_health_request("/", "h\r\n", out, sizeof(out)), 0);
	/* Too long for out. */
	assert_int_equal(pc_health_request("/", "127.1.200.1:8080", out, 20), 0);
}

static void test_settings(void **state)
{
	(void)state;
	struct pc_model *model = fixture_load_text("version: 1\nhealth:\n  enabled: true\n");
	const struct pc_health_params *h = pc_health_settings(fixture_config(model));
	assert_non_null(h);
	assert_true(h->enabled);
	assert_int_equal(h->mode, PC_HEALTH_MODE_HTTP);
	assert_string_equal(h->path, "/");
	assert_int_equal(h->port, 0);
	assert_int_equal(h->interval_ms, 250);
	assert_int_equal(h->timeout_ms, 200);
	assert_int_equal(h->fall, 2);
	assert_int_equal(h->rise, 2);
	assert_int_equal(h->max_probes, 64);
	assert_int_equal(h->servers.count, 0);
	fixture_free(model);

	model = fixture_load_text("version: 1\n"
	                          "tiers: [edge]\n"
	                          "services: [{name: web}]\n"
	                          "ases: [{asn: 1}]\n"
	                          "cdns: [{name: a, domain: cdn.a.net, backbone: [1]}]\n"
	                          "servers: [{name: s1, cdn: a, as: 1, addresses: [192.0.2.1],\n"
	                          "           tier: edge, services: [web], capacity: 10}]\n"
	                          "health: {mode: tcp, path: /ping, port: 81, fall: 3, rise: 5,\n"
	                          "         interval_ms: 100, timeout_ms: 50, servers: [s1]}\n");
	h = pc_health_settings(fixture_config(model));
	assert_int_equal(h->mode, PC_HEALTH_MODE_TCP);
	assert_string_equal(h->path, "/ping");
	assert_int_equal(h->port, 81);
	assert_int_equal(h->fall, 3);
	assert_int_equal(h->rise, 5);
	assert_int_equal(h->interval_ms, 100);
	assert_int_equal(h->timeout_ms, 50);
	assert_int_equal(h->servers.count, 1);
	assert_string_equal(h->servers.items[0], "s1");
	fixture_free(model);
}

static void test_settings_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "version: 1\nhealth:\n  servers: [nobody]\n", "version: 1\nhealth:\n  path: health\n",
	    "version: 1\nhealth:\n  path: \"/a b\"\n",    "version: 1\nhealth:\n  mode: icmp\n",
	    "version: 1\nhealth:\n  fall: 0\n",           "version: 1\nhealth:\n  interval_ms: 5\n",
	    "version: 1\nhealth:\n  bogus: 1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pc_config_options opts = {.source = "t.yaml", .sections = pc_role_sections};
		pc_config *config = NULL;
		assert_int_equal(pc_config_load(bad[i], strlen(bad[i]), &opts, NULL, NULL, &config),
		                 PC_ECONFIG);
		assert_null(config);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fall_and_rise),     cmocka_unit_test(test_flapping_keeps_verdict),
	    cmocka_unit_test(test_fall_one_and_zero), cmocka_unit_test(test_status_line),
	    cmocka_unit_test(test_request),           cmocka_unit_test(test_settings),
	    cmocka_unit_test(test_settings_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
