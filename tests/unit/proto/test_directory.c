/* Unit tests of the directory: the "directory" section's entries as the
 * loader reads and checks them (each mistake named at its line), the
 * answers written from them, the HTTP responses, and the edge's strict
 * parsing of an answer. The config is the embedded default federation
 * (providers foo with cdn.foo.com and abc with cdn.abc.com) with a
 * directory section appended. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/err.h"
#include "lib/model/config.h"
#include "lib/proto/directory.h"
#include "lib/proto/sections.h"

/* The directory's entries; line 1 of it is the line after the default
 * config's last. */
static const char entries_yaml[] =
    "directory:\n"
    "  enabled: true\n"
    "  entries:\n"
    "    - {name: cdn.foo.com/Channel12, channel: foo/ch12, ttl: 30}\n"
    "    - {name: cdn.foo.com/index.html, origin: \"http://www.foo.com/index.html\"}\n"
    "    - {name: cdn.foo.com/videos/, origin: \"http://www.foo.com:8080/v/\", ttl: 300}\n"
    "    - {name: cdn.foo.com/videos/hd/, origin: \"http://127.0.0.1/hd/\"}\n"
    "    - {name: CDN.ABC.com/live, cascade: \"rtsp://www.abc.com/feed\", ttl: 0}\n"
    "    - {name: cdn.abc.com/, channel: \"acme/abc/\"}\n";

struct diags {
	char text[8192];
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

static unsigned default_lines(void)
{
	unsigned lines = 0;
	for (size_t i = 0; i < pc_default_config_yaml_len; i++)
		lines += pc_default_config_yaml[i] == '\n';
	return lines;
}

/* Loads the default config with extra appended, with every role section
 * and the directory's; returns the load's code. */
static int load(const char *extra, struct diags *d, pc_config **out)
{
	static const struct pc_section *sections[16];
	unsigned n = 0;
	for (unsigned i = 0; pc_role_sections[i] != NULL && n < 14; i++)
		if (pc_role_sections[i] != &pc_directory_section)
			sections[n++] = pc_role_sections[i];
	sections[n++] = &pc_directory_section;
	sections[n] = NULL;
	size_t len = pc_default_config_yaml_len + strlen(extra);
	char *text = malloc(len + 1);
	assert_non_null(text);
	memcpy(text, pc_default_config_yaml, pc_default_config_yaml_len);
	memcpy(text + pc_default_config_yaml_len, extra, strlen(extra) + 1);
	struct pc_config_options opts = {.source = "t.yaml", .sections = sections};
	memset(d, 0, sizeof(*d));
	*out = NULL;
	int rc = pc_config_load(text, len, &opts, collect, d, out);
	free(text);
	return rc;
}

static pc_config *load_ok(const char *extra)
{
	struct diags d;
	pc_config *config;
	if (load(extra, &d, &config) != PC_OK)
		fail_msg("rejected:\n%s", d.text);
	return config;
}

/* The entries plus bad, rejected with a message at line (counted from
 * the appended text's first line) that holds words ('|'-separated). */
static void expect_error(const char *bad, unsigned line, const char *words)
{
	char extra[4096];
	snprintf(extra, sizeof(extra), "%s%s", entries_yaml, bad);
	struct diags d;
	pc_config *config;
	assert_int_equal(load(extra, &d, &config), PC_ECONFIG);
	assert_null(config);
	char where[32];
	snprintf(where, sizeof(where), "t.yaml:%u:", default_lines() + line);
	const char *at = strstr(d.text, where);
	if (at == NULL)
		fail_msg("no diagnostic at %s for %s:\n%s", where, bad, d.text);
	const char *end = strchr(at, '\n');
	char copy[256];
	snprintf(copy, sizeof(copy), "%s", words);
	for (char *word = strtok(copy, "|"); word != NULL; word = strtok(NULL, "|")) {
		const char *hit = strstr(at, word);
		if (hit == NULL || hit > end)
			fail_msg("no \"%s\" in the diagnostic at %s:\n%s", word, where, d.text);
	}
}

static void test_entries_load(void **state)
{
	(void)state;
	pc_config *config = load_ok(entries_yaml);
	const struct pc_directory_params *dir = pc_directory_settings(config);
	assert_non_null(dir);
	assert_true(dir->stream.enabled);
	assert_int_equal(dir->stream.port, PC_DIR_PORT);
	assert_int_equal(dir->n_entries, 6);
	/* Sorted by name, host lower-cased. */
	for (uint32_t i = 1; i < dir->n_entries; i++)
		assert_true(strcmp(dir->entries[i - 1].name, dir->entries[i].name) < 0);
	assert_string_equal(dir->entries[0].name, "cdn.abc.com/");
	assert_true(dir->entries[0].prefix);
	assert_string_equal(dir->entries[1].name, "cdn.abc.com/live");
	assert_int_equal(dir->entries[1].mode, PC_DIR_CASCADE);
	assert_int_equal(dir->entries[1].ttl_s, 0);
	assert_string_equal(dir->entries[2].name, "cdn.foo.com/Channel12");
	assert_int_equal(dir->entries[2].mode, PC_DIR_CHANNEL);
	assert_int_equal(dir->entries[2].ttl_s, 30);
	assert_string_equal(dir->entries[3].name, "cdn.foo.com/index.html");
	assert_int_equal(dir->entries[3].ttl_s, 60); /* the default */
	const pc_model *m = pc_config_model(config);
	assert_string_equal(m->providers[dir->entries[3].provider].name, "foo");
	assert_string_equal(m->providers[dir->entries[0].provider].name, "abc");
	pc_config_free(config);

	/* Without the section: off, no entries. */
	config = load_ok("");
	dir = pc_directory_settings(config);
	assert_false(dir->stream.enabled);
	assert_int_equal(dir->n_entries, 0);
	pc_config_free(config);
}

static void test_entry_errors(void **state)
{
	(void)state;
	/* Line 10 is the first after the 9 lines of entries_yaml. */
	expect_error("    - {name: cdn.bar.com/x, origin: \"http://www.foo.com/x\"}\n", 10,
	             "cdn.bar.com|no provider's directory host");
	expect_error("    - {name: cdn.foo.com/x, origin: \"http://www.abc.com/x\"}\n", 10,
	             "www.abc.com|provider \"foo\"'s origins");
	expect_error("    - {name: cdn.foo.com/x, channel: nobody/x}\n", 10,
	             "\"nobody\"|no provider or CDN");
	expect_error(
	    "    - {name: cdn.foo.com/x, channel: foo/x, origin: \"http://www.foo.com/\"}\n", 10,
	    "exactly one of origin, channel, cascade");
	expect_error("    - {name: cdn.foo.com/x, ttl: 5}\n", 10, "exactly one of");
	expect_error("    - {name: cdn.foo.com/p/, origin: \"http://www.foo.com/p\"}\n", 10,
	             "prefix must end in '/'");
	expect_error("    - {name: cdn.foo.com/../etc, channel: foo/x}\n", 10, "its path");
	expect_error("    - {name: cdn.foo.com, channel: foo/x}\n", 10, "<directory host>/<name>");
	expect_error("    - {name: cdn.foo.com//x, channel: foo/x}\n", 10, "its path");
	expect_error("    - {name: cdn.foo.com/x, channel: foo/x, ttl: 86401}\n", 10,
	             "ttl|out of range");
	expect_error("    - {name: cdn.foo.com/x, origin: \"ftp://www.foo.com/x\"}\n", 10,
	             "origin|not an absolute http URL");
	expect_error("    - {name: cdn.foo.com/x, origin: \"http://u:p@www.foo.com/x\"}\n", 10,
	             "not an absolute http URL");
	expect_error("    - {name: cdn.foo.com/x, cascade: \"http://www.foo.com/x#f\"}\n", 10,
	             "cascade");
	expect_error("    - {name: cdn.foo.com/x, origin: \"http://www.foo.com:0/x\"}\n", 10,
	             "origin");
	expect_error("    - {name: cdn.foo.com/x, channel: foo/x, colour: red}\n", 10,
	             "unknown key \"colour\"");
	expect_error("    - {channel: foo/x}\n", 10, "missing required key \"name\"");
	expect_error("    - {name: cdn.foo.com/Channel12, channel: foo/y}\n", 10,
	             "duplicate name (first at line");
	expect_error("    - [cdn.foo.com/x]\n", 10, "expected a mapping");
}

/* The body of the answer for name, and its status. */
static unsigned answer(const struct pc_directory_params *dir, const char *name, char *body,
                       size_t size)
{
	struct pc_buf out = {0};
	uint32_t ttl;
	unsigned status = pc_directory_answer(dir, name, strlen(name), &out, &ttl);
	assert_true(out.len > 0 && out.len < size);
	memcpy(body, out.data, out.len);
	body[out.len] = '\0';
	pc_buf_free(&out);
	return status;
}

static void test_answers(void **state)
{
	(void)state;
	pc_config *config = load_ok(entries_yaml);
	const struct pc_directory_params *dir = pc_directory_settings(config);
	char body[8192];
	assert_int_equal(answer(dir, "cdn.foo.com/index.html", body, sizeof(body)), 200);
	assert_string_equal(body, "{\"name\":\"cdn.foo.com/index.html\",\"mode\":\"origin\","
	                          "\"url\":\"http://www.foo.com/index.html\",\"ttl\":60}\n");
	assert_int_equal(answer(dir, "cdn.foo.com/Channel12", body, sizeof(body)), 200);
	assert_string_equal(body, "{\"name\":\"cdn.foo.com/Channel12\",\"mode\":\"channel\","
	                          "\"channel\":\"foo/ch12\",\"ttl\":30}\n");
	/* The host in any case; the path as it is. */
	assert_int_equal(answer(dir, "Cdn.Abc.Com/live", body, sizeof(body)), 200);
	assert_non_null(strstr(body, "\"feed\":\"rtsp://www.abc.com/feed\",\"ttl\":0"));
	assert_int_equal(answer(dir, "cdn.foo.com/channel12", body, sizeof(body)), 404);
	assert_string_equal(body,
	                    "{\"error\":\"no such name\",\"name\":\"cdn.foo.com/channel12\"}\n");
	/* Prefixes: the rest appended; the longest wins; not the prefix itself. */
	assert_int_equal(answer(dir, "cdn.foo.com/videos/a/b.mp4", body, sizeof(body)), 200);
	assert_non_null(strstr(body, "\"url\":\"http://www.foo.com:8080/v/a/b.mp4\",\"ttl\":300"));
	assert_int_equal(answer(dir, "cdn.foo.com/videos/hd/x.mp4", body, sizeof(body)), 200);
	assert_non_null(strstr(body, "\"url\":\"http://127.0.0.1/hd/x.mp4\""));
	assert_int_equal(answer(dir, "cdn.foo.com/videos", body, sizeof(body)), 404);
	assert_int_equal(answer(dir, "cdn.abc.com/any/thing", body, sizeof(body)), 200);
	assert_non_null(strstr(body, "\"channel\":\"acme/abc/any/thing\""));
	assert_int_equal(answer(dir, "cdn.abc.com/live/more", body, sizeof(body)), 200);
	assert_non_null(strstr(body, "\"channel\":\"acme/abc/live/more\""));
	/* Malformed names: 400, and nothing of them echoed. */
	static const char *const bad[] = {
	    "cdn.foo.com",      "cdn.foo.com/",      "cdn.foo.com/a//b",
	    "cdn.foo.com/../x", "cdn.foo.com/a/./b", "/x",
	    "cdn foo/x",        "cdn.foo.com/a b",   "cdn.foo.com/%zz",
	    "cdn.foo.com/\"x",  "cdn.foo.com/é",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (answer(dir, bad[i], body, sizeof(body)) != 400)
			fail_msg("not 400: %s", bad[i]);
		assert_string_equal(body, "{\"error\":\"malformed name\"}\n");
	}
	pc_config_free(config);
}

static unsigned respond(const struct pc_directory_params *dir, const char *method,
                        const char *target, bool close, char *text, size_t size)
{
	struct pc_dir_request req = {method,         target, strlen(method),
	                             strlen(target), close,  "Sun, 06 Nov 1994 08:49:37 GMT"};
	struct pc_buf out = {0};
	unsigned status = pc_directory_respond(dir, &req, &out);
	assert_true(out.len < size);
	memcpy(text, out.data, out.len);
	text[out.len] = '\0';
	pc_buf_free(&out);
	return status;
}

static void test_http(void **state)
{
	(void)state;
	pc_config *config = load_ok(entries_yaml);
	const struct pc_directory_params *dir = pc_directory_settings(config);
	char text[8192];
	assert_int_equal(
	    respond(dir, "GET", "/v1/names/cdn.foo.com/Channel12", false, text, sizeof(text)), 200);
	const char *body = "{\"name\":\"cdn.foo.com/Channel12\",\"mode\":\"channel\","
	                   "\"channel\":\"foo/ch12\",\"ttl\":30}\n";
	char expected[1024];
	snprintf(expected, sizeof(expected),
	         "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	         "Cache-Control: max-age=30\r\nContent-Type: application/json\r\n"
	         "Content-Length: %zu\r\n\r\n%s",
	         strlen(body), body);
	assert_string_equal(text, expected);
	/* HEAD: the same head, no body. */
	assert_int_equal(
	    respond(dir, "HEAD", "/v1/names/cdn.foo.com/Channel12", false, text, sizeof(text)),
	    200);
	*strstr(expected, "\r\n\r\n") = '\0';
	assert_memory_equal(text, expected, strlen(expected));
	assert_string_equal(text + strlen(expected), "\r\n\r\n");

	assert_int_equal(
	    respond(dir, "GET", "/v1/names/cdn.foo.com/nope", true, text, sizeof(text)), 404);
	assert_non_null(strstr(text, "Cache-Control: max-age=10\r\n"));
	assert_non_null(strstr(text, "Connection: close\r\n"));
	assert_int_equal(
	    respond(dir, "POST", "/v1/names/cdn.foo.com/Channel12", false, text, sizeof(text)),
	    405);
	assert_non_null(strstr(text, "Allow: GET, HEAD\r\n"));
	assert_non_null(strstr(text, "Cache-Control: no-store\r\n"));
	assert_int_equal(
	    respond(dir, "get", "/v1/names/cdn.foo.com/Channel12", false, text, sizeof(text)),
	    405); /* methods are case-sensitive (RFC 9110 §9.1) */
	assert_int_equal(
	    respond(dir, "GET", "/v1/names/cdn.foo.com/Channel12?x=1", false, text, sizeof(text)),
	    400);
	assert_int_equal(respond(dir, "GET", "/v1/names/cdn.foo.com", false, text, sizeof(text)),
	                 400);
	assert_int_equal(respond(dir, "GET", "/v2/names/cdn.foo.com/x", false, text, sizeof(text)),
	                 404);
	assert_int_equal(respond(dir, "GET", "/v1/names/", false, text, sizeof(text)), 404);
	assert_int_equal(respond(dir, "GET", "http://x/v1/names/cdn.foo.com/Channel12", false, text,
	                         sizeof(text)),
	                 404);
	struct pc_buf error = {0};
	assert_int_equal(pc_directory_error(431, true, NULL, &error), 431);
	pc_buf_free(&error);
	pc_config_free(config);
}

static int parse(const char *json, struct pc_dir_answer *out)
{
	return pc_directory_answer_parse(json, strlen(json), out);
}

static void test_parse_answers(void **state)
{
	(void)state;
	/* What the directory writes, the edge reads back. */
	pc_config *config = load_ok(entries_yaml);
	const struct pc_directory_params *dir = pc_directory_settings(config);
	static const struct {
		const char *name;
		enum pc_dir_mode mode;
		const char *target;
		uint32_t ttl;
	} cases[] = {
	    {"cdn.foo.com/index.html", PC_DIR_ORIGIN, "http://www.foo.com/index.html", 60},
	    {"cdn.foo.com/Channel12", PC_DIR_CHANNEL, "foo/ch12", 30},
	    {"cdn.abc.com/live", PC_DIR_CASCADE, "rtsp://www.abc.com/feed", 0},
	    {"cdn.foo.com/videos/a%20b", PC_DIR_ORIGIN, "http://www.foo.com:8080/v/a%20b", 300},
	};
	char body[8192];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(answer(dir, cases[i].name, body, sizeof(body)), 200);
		struct pc_dir_answer got;
		assert_int_equal(parse(body, &got), PC_OK);
		assert_string_equal(got.name, cases[i].name);
		assert_int_equal(got.mode, cases[i].mode);
		assert_string_equal(got.target, cases[i].target);
		assert_int_equal(got.ttl_s, cases[i].ttl);
	}
	pc_config_free(config);

	struct pc_dir_answer got;
	/* Unknown keys are for later versions. */
	assert_int_equal(parse("{\"name\":\"a.b/c\",\"mode\":\"channel\",\"channel\":\"x/y\","
	                       "\"ttl\":86400,\"weight\":[1]}",
	                       &got),
	                 PC_OK);
	assert_int_equal(got.ttl_s, 86400);
}

static void test_parse_rejects(void **state)
{
	(void)state;
	static const struct {
		const char *json;
		int rc;
	} bad[] = {
	    {"", PC_ESYNTAX},
	    {"null", PC_ESYNTAX},
	    {"[]", PC_ESYNTAX},
	    {"{\"name\":\"a.b/c\",\"mode\":\"channel\",\"channel\":\"x/y\",\"ttl\":1", PC_ESYNTAX},
	    {"{\"name\":\"a.b/c\",\"mode\":\"channel\",\"channel\":\"x/y\",\"ttl\":1}x",
	     PC_ESYNTAX},
	    /* missing fields */
	    {"{\"mode\":\"channel\",\"channel\":\"x/y\",\"ttl\":1}", PC_ESYNTAX},
	    {"{\"name\":\"a.b/c\",\"channel\":\"x/y\",\"ttl\":1}", PC_ESYNTAX},
	    {"{\"name\":\"a.b/c\",\"mode\":\"channel\",\"ttl\":1}", PC_ESYNTAX},
	    {"{\"name\":\"a.b/c\",\"mode\":\"channel\",\"channel\":\"x/y\"}", PC_ESYNTAX},
	    /* wrong types */
	    {"{\"name\":1,\"mode\":\"channel\",\"channel\":\"x/y\",\"ttl\":1}", PC_ESYNTAX},
	    {"{\"name\":\"a.b/c\",\"mode\":\"channel\",\"channel\":\"x/y\",\"ttl\":\"1\"}",
	     PC_ESYNTAX},
	    {"{\"name\":\"a.b/c\",\"mode\":\"channel\",\"channel\":\"x/y\",\"ttl\":1.0}",
	     PC_ESYNTAX},
	    {"{\"name\":\"a.b/c\",\"mode\":\"channel\",\"channel\":[\"x/y\"],\"ttl\":1}",
	     PC_ESYNTAX},
	    {"{\"name\":\"a.b/c\",\"mode\":true,\"channel\":\"x/y\",\"ttl\":1}", PC_ESYNTAX},
	    /* values out of their form */
	    {"{\"name\":\"a.b/c\",\"mode\":\"mirror\",\"channel\":\"x/y\",\"ttl\":1}", PC_ESYNTAX},
	    {"{\"name\":\"a.b/../c\",\"mode\":\"channel\",\"channel\":\"x/y\",\"ttl\":1}",
	     PC_ESYNTAX},
	    {"{\"name\":\"a.b/c\",\"mode\":\"channel\",\"channel\":\"xy\",\"ttl\":1}", PC_ESYNTAX},
	    {"{\"name\":\"a.b/c\",\"mode\":\"origin\",\"url\":\"rtsp://a/b\",\"ttl\":1}",
	     PC_ESYNTAX},
	    {"{\"name\":\"a.b/c\",\"mode\":\"origin\",\"url\":\"http://a b/\",\"ttl\":1}",
	     PC_ESYNTAX},
	    {"{\"name\":\"a.b/c\",\"mode\":\"cascade\",\"feed\":\"file:///etc/passwd\",\"ttl\":1}",
	     PC_ESYNTAX},
	    {"{\"name\":\"a.b/c\",\"mode\":\"origin\",\"url\":\"http://a/\\u0000\",\"ttl\":1}",
	     PC_ESYNTAX},
	    /* ambiguity */
	    {"{\"name\":\"a.b/c\",\"mode\":\"origin\",\"url\":\"http://a/\",\"channel\":\"x/y\","
	     "\"ttl\":1}",
	     PC_ESYNTAX},
	    {"{\"name\":\"a.b/c\",\"name\":\"a.b/d\",\"mode\":\"channel\",\"channel\":\"x/y\","
	     "\"ttl\":1}",
	     PC_ESYNTAX},
	    /* absurd TTLs */
	    {"{\"name\":\"a.b/c\",\"mode\":\"channel\",\"channel\":\"x/y\",\"ttl\":-1}", PC_ERANGE},
	    {"{\"name\":\"a.b/c\",\"mode\":\"channel\",\"channel\":\"x/y\",\"ttl\":86401}",
	     PC_ERANGE},
	    {"{\"name\":\"a.b/c\",\"mode\":\"channel\",\"channel\":\"x/y\","
	     "\"ttl\":99999999999999999999}",
	     PC_ESYNTAX},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pc_dir_answer got;
		memset(&got, 0x55, sizeof(got));
		int rc = parse(bad[i].json, &got);
		if (rc != bad[i].rc)
			fail_msg("%s: %d, expected %d", bad[i].json, rc, bad[i].rc);
		assert_int_equal(got.name[0], '\0'); /* nothing half-filled */
	}
	/* Too long: a name over PC_DIR_MAX_NAME, a body over 64 KiB. */
	char *big = malloc(70000);
	assert_non_null(big);
	int n = snprintf(big, 70000, "{\"name\":\"a.b/");
	memset(big + n, 'c', PC_DIR_MAX_NAME);
	snprintf(big + n + PC_DIR_MAX_NAME, 70000 - (size_t)n - PC_DIR_MAX_NAME,
	         "\",\"mode\":\"channel\",\"channel\":\"x/y\",\"ttl\":1}");
	struct pc_dir_answer got;
	assert_int_equal(parse(big, &got), PC_ERANGE);
	memset(big, ' ', 69999);
	big[69999] = '\0';
	assert_int_equal(parse(big, &got), PC_ERANGE);
	free(big);
	assert_int_equal(pc_directory_answer_parse(NULL, 0, &got), PC_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_entries_load),  cmocka_unit_test(test_entry_errors),
	    cmocka_unit_test(test_answers),       cmocka_unit_test(test_http),
	    cmocka_unit_test(test_parse_answers), cmocka_unit_test(test_parse_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
