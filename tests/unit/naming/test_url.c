/* Unit tests of url.c: the CDN URLs of the patent's §3.2 over the embedded
 * default federation: both forms, schemes and services, ports, queries, the
 * open-proxy refusal and a table of malformed URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "fixture.h"
#include "lib/base/base32.h"
#include "lib/model/config.h"
#include "lib/base/err.h"
#include "lib/naming/hosts.h"
#include "lib/naming/naming.h"

static pc_hosts *hosts; /* the model's host table, for pc__url_parse_hosts */

static int group_setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	pc_model *model = fixture_load_text(pc_default_config_yaml);
	*state = model;
	return model == NULL || pc_hosts_new(model, &hosts) != PC_OK ? -1 : 0;
}

static int group_teardown(void **state)
{
	pc_hosts_free(hosts);
	fixture_free(*state);
	return 0;
}

static bool same_url(const pc_url *a, const pc_url *b)
{
	return a->scheme == b->scheme && a->port == b->port && a->form == b->form &&
	       a->host == b->host && a->host_len == b->host_len &&
	       a->content_host == b->content_host && a->content_host_len == b->content_host_len &&
	       a->path == b->path && a->path_len == b->path_len && a->query == b->query &&
	       a->query_len == b->query_len && a->name.cdn == b->name.cdn &&
	       a->name.provider == b->name.provider && a->name.service == b->name.service &&
	       a->name.object_len == b->name.object_len &&
	       strcmp(a->name.object, b->name.object) == 0;
}

/* pc_url_parse, checked against the byte-at-a-time reference and against
 * the parse with the host table (the redirectors'): the same code and,
 * when it is PC_OK, the same URL. */
static int parse_len(const pc_model *model, const char *text, size_t len, pc_url *out)
{
	pc_url ref, with_hosts;
	int rc = pc_url_parse(model, text, len, out);
	int want = pc__url_parse_reference(model, text, len, &ref);
	int rc_hosts = pc__url_parse_hosts(model, hosts, text, len, &with_hosts);
	if (rc != want || rc_hosts != want)
		fail_msg("\"%.*s\": %d, with the host table %d, the reference %d", (int)len, text,
		         rc, rc_hosts, want);
	if (rc == PC_OK && (!same_url(out, &ref) || !same_url(&with_hosts, &ref)))
		fail_msg("\"%.*s\": parsed unlike the reference", (int)len, text);
	return rc;
}

static int parse(const pc_model *model, const char *text, pc_url *out)
{
	return parse_len(model, text, strlen(text), out);
}

static void assert_span(const char *at, uint32_t len, const char *want)
{
	if (want == NULL) {
		assert_int_equal(len, 0);
		return;
	}
	assert_non_null(at);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(at, want, len);
}

static void test_origin_form(void **state)
{
	const pc_model *model = *state;
	pc_url u;
	const char *text = "http://foo.cdn.beta.net/www.foo.com/index.html";
	assert_int_equal(parse(model, text, &u), PC_OK);
	assert_int_equal(u.scheme, PC_SCHEME_HTTP);
	assert_int_equal(u.port, 0);
	assert_int_equal(u.form, PC_URL_ORIGIN);
	assert_int_equal(u.name.cdn, pc_model_cdn(model, "beta"));
	assert_int_equal(u.name.provider, pc_model_provider(model, "foo"));
	assert_int_equal(u.name.service, pc_model_service(model, "web"));
	assert_int_equal(u.name.signature, PC_SIG_ABSENT);
	assert_true(u.host == text + 7);
	assert_span(u.host, u.host_len, "foo.cdn.beta.net");
	assert_span(u.content_host, u.content_host_len, "www.foo.com");
	assert_span(u.path, u.path_len, "/index.html");
	assert_span(u.query, u.query_len, NULL);
	assert_string_equal(u.name.object, "www.foo.com/index.html");
	assert_int_equal(u.name.object_len, strlen("www.foo.com/index.html"));

	/* the patent spells it under acme: naming does not care whose
	 * customer foo is, only policy does */
	assert_int_equal(parse(model, "http://foo.cdn.acme.net/www.foo.com/index.html", &u), PC_OK);
	assert_int_equal(u.name.cdn, pc_model_cdn(model, "acme"));
}

static void test_directory_form(void **state)
{
	const pc_model *model = *state;
	pc_url u;
	assert_int_equal(parse(model, "http://foo.cdn.beta.net/cdn.foo.com/Channel12", &u), PC_OK);
	assert_int_equal(u.form, PC_URL_DIRECTORY);
	assert_int_equal(u.name.provider, pc_model_provider(model, "foo"));
	assert_span(u.content_host, u.content_host_len, "cdn.foo.com");
	assert_span(u.path, u.path_len, "/Channel12");
	/* paths keep their case; hosts do not have one */
	assert_string_equal(u.name.object, "cdn.foo.com/Channel12");

	assert_int_equal(parse(model, "HTTP://Foo.CDN.Beta.NET/CDN.Foo.COM/Channel12", &u), PC_OK);
	assert_int_equal(u.form, PC_URL_DIRECTORY);
	assert_span(u.content_host, u.content_host_len, "CDN.Foo.COM");
	assert_string_equal(u.name.object, "cdn.foo.com/Channel12");
}

static void test_schemes_and_services(void **state)
{
	const pc_model *model = *state;
	pc_url u;
	assert_int_equal(parse(model, "rtsp://abc.cdn.acme.net/cdn.abc.com/chan4", &u), PC_OK);
	assert_int_equal(u.scheme, PC_SCHEME_RTSP);
	assert_int_equal(u.name.service, pc_model_service(model, "tv"));
	assert_int_equal(u.form, PC_URL_DIRECTORY);

	assert_int_equal(parse(model, "HTTPS://abc.cdn.acme.net/www.abc.com/", &u), PC_OK);
	assert_int_equal(u.scheme, PC_SCHEME_HTTPS);
	assert_int_equal(u.name.service, pc_model_service(model, "web"));
	assert_span(u.path, u.path_len, "/");

	/* a service label in the host beats the scheme */
	assert_int_equal(parse(model, "http://vod.abc.cdn.acme.net/www.abc.com/movie.mp4", &u),
	                 PC_OK);
	assert_int_equal(u.name.service, pc_model_service(model, "vod"));
	assert_int_equal(parse(model, "rtsp://abc.live.cdn.acme.net/cdn.abc.com/match", &u), PC_OK);
	assert_int_equal(u.name.service, pc_model_service(model, "live"));

	/* no service implied by the scheme: the default one, else an error */
	pc_model copy = *model;
	struct pc_service services[PC_MAX_SERVICES];
	memcpy(services, model->services, model->n_services * sizeof(services[0]));
	for (uint32_t s = 0; s < model->n_services; s++)
		services[s].scheme_mask = 0;
	copy.services = services;
	assert_int_equal(parse(&copy, "rtsp://abc.cdn.acme.net/cdn.abc.com/chan4", &u), PC_OK);
	assert_int_equal(u.name.service, model->default_service);
	copy.default_service = PC_NONE;
	assert_int_equal(parse(&copy, "rtsp://abc.cdn.acme.net/cdn.abc.com/chan4", &u),
	                 PC_ENOSERVICE);
	assert_int_equal(parse(&copy, "rtsp://abc.tv.cdn.acme.net/cdn.abc.com/chan4", &u), PC_OK);
}

static void test_ports(void **state)
{
	const pc_model *model = *state;
	pc_url u;
	assert_int_equal(parse(model, "rtsp://abc.cdn.acme.net:554/cdn.abc.com/chan4", &u), PC_OK);
	assert_int_equal(u.port, 554);
	assert_span(u.host, u.host_len, "abc.cdn.acme.net");
	assert_int_equal(parse(model, "http://foo.cdn.beta.net:65535/www.foo.com/", &u), PC_OK);
	assert_int_equal(u.port, 65535);
	assert_int_equal(parse(model, "http://foo.cdn.beta.net:00080/www.foo.com/", &u), PC_OK);
	assert_int_equal(u.port, 80);
	assert_int_equal(parse(model, "http://foo.cdn.beta.net.:8080/www.foo.com/", &u), PC_OK);
	assert_int_equal(u.port, 8080);
	static const char *bad[] = {
	    "http://foo.cdn.beta.net:/www.foo.com/",
	    "http://foo.cdn.beta.net:0/www.foo.com/",
	    "http://foo.cdn.beta.net:65536/www.foo.com/",
	    "http://foo.cdn.beta.net:123456/www.foo.com/",
	    "http://foo.cdn.beta.net:80a/www.foo.com/",
	    "http://foo.cdn.beta.net:-1/www.foo.com/",
	    "http://foo.cdn.beta.net:80:80/www.foo.com/",
	    "http://foo.cdn.beta.net: 80/www.foo.com/",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(model, bad[i], &u);
		if (rc != PC_ESYNTAX)
			fail_msg("%s: %d, want PC_ESYNTAX", bad[i], rc);
	}
}

static void test_query_and_fragment(void **state)
{
	const pc_model *model = *state;
	pc_url u;
	assert_int_equal(
	    parse(model, "http://foo.cdn.beta.net/www.foo.com/search?q=cdn&x=%20y#results", &u),
	    PC_OK);
	assert_span(u.path, u.path_len, "/search");
	assert_span(u.query, u.query_len, "q=cdn&x=%20y");
	assert_string_equal(u.name.object, "www.foo.com/search");

	assert_int_equal(parse(model, "http://foo.cdn.beta.net/www.foo.com/a#frag?not-query", &u),
	                 PC_OK);
	assert_span(u.path, u.path_len, "/a");
	assert_span(u.query, u.query_len, NULL);
	assert_null(u.query);

	/* an empty query is still a query */
	assert_int_equal(parse(model, "http://foo.cdn.beta.net/www.foo.com?", &u), PC_OK);
	assert_span(u.path, u.path_len, NULL);
	assert_non_null(u.query);
	assert_int_equal(u.query_len, 0);
	assert_string_equal(u.name.object, "www.foo.com");

	assert_int_equal(parse(model, "http://foo.cdn.beta.net/www.foo.com", &u), PC_OK);
	assert_int_equal(u.path_len, 0);
	assert_string_equal(u.name.object, "www.foo.com");
	assert_int_equal(parse(model, "http://foo.cdn.beta.net/www.foo.com#x", &u), PC_OK);
	assert_string_equal(u.name.object, "www.foo.com");
}

static void test_legal_odd_paths(void **state)
{
	const pc_model *model = *state;
	pc_url u;
	static const char *ok[] = {
	    "http://foo.cdn.beta.net/www.foo.com/a..b/...x/.hidden/...",
	    "http://foo.cdn.beta.net/www.foo.com//double//slash",
	    "http://foo.cdn.beta.net/www.foo.com/%2e%2e%2e",
	    "http://foo.cdn.beta.net/www.foo.com/%41%7e~!$&'()*+,;=:@",
	    "http://foo.cdn.beta.net/www.foo.com/a?b=/../c",
	    "http://foo.cdn.beta.net/www.foo.com/x.%2e",
	    "http://foo.cdn.beta.net/www.foo.com/%20%7E%c3%a9%FF%80",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int rc = parse(model, ok[i], &u);
		if (rc != PC_OK)
			fail_msg("%s: %d, want PC_OK", ok[i], rc);
	}
}

static void test_open_proxy_refused(void **state)
{
	const pc_model *model = *state;
	pc_url u;
	static const char *bad[] = {
	    "http://foo.cdn.beta.net/www.evil.com/index.html",
	    "http://foo.cdn.beta.net/www.abc.com/index.html", /* another provider's */
	    "http://foo.cdn.beta.net/cdn.abc.com/chan4",      /* another provider's */
	    "http://foo.cdn.beta.net/www.foo.com.evil.com/",
	    "http://foo.cdn.beta.net/www.foo.co/",
	    "http://foo.cdn.beta.net/ww.foo.com/",
	    "http://foo.cdn.beta.net/www.foo.com:8080/",
	    "http://foo.cdn.beta.net/www.foo.com%2findex.html",
	    "http://foo.cdn.beta.net/www%2efoo.com/",
	    "http://foo.cdn.beta.net/127.0.0.1/",
	    "http://foo.cdn.beta.net/",
	    "http://foo.cdn.beta.net//www.foo.com/",
	    "http://foo.cdn.beta.net",
	    "http://foo.cdn.beta.net?www.foo.com",
	    "http://foo.cdn.beta.net#www.foo.com",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(model, bad[i], &u);
		if (rc != PC_ENOORIGIN)
			fail_msg("%s: %d, want PC_ENOORIGIN", bad[i], rc);
	}
}

static void test_zone_and_customer(void **state)
{
	const pc_model *model = *state;
	pc_url u;
	assert_int_equal(parse(model, "http://www.foo.com/index.html", &u), PC_ENOZONE);
	assert_int_equal(parse(model, "http://foo.cdn.example.net/www.foo.com/", &u), PC_ENOZONE);
	assert_int_equal(parse(model, "http://cdn.beta.net/www.foo.com/", &u), PC_ENOCUSTOMER);
	assert_int_equal(parse(model, "http://web.cdn.beta.net/www.foo.com/", &u), PC_ENOCUSTOMER);
	/* the object is in the path, never in the host */
	assert_int_equal(parse(model, "http://ad102.foo.cdn.beta.net/www.foo.com/", &u),
	                 PC_ESYNTAX);
}

static void test_signed_host(void **state)
{
	const pc_model *model = *state;
	const struct pc_provider *abc = &model->providers[pc_model_provider(model, "abc")];
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	const char *rest = "abc.cdn.acme.net";
	crypto_auth_hmacsha256(mac, (const unsigned char *)rest, strlen(rest), abc->sign_key);
	char sig[PC_BASE32_LEN(PC_SIG_BYTES) + 1] = {0};
	assert_int_equal(pc_base32_encode(mac, PC_SIG_BYTES, sig, sizeof(sig)), 16);
	char url[200];
	snprintf(url, sizeof(url), "http://s-%s.abc.cdn.acme.net/www.abc.com/x", sig);
	pc_url u;
	assert_int_equal(parse(model, url, &u), PC_OK);
	assert_int_equal(u.name.signature, PC_SIG_VALID);
	assert_true(pc_name_signature_ok(model, &u.name));
	url[12] = url[12] == 'a' ? 'b' : 'a';
	assert_int_equal(parse(model, url, &u), PC_OK);
	assert_int_equal(u.name.signature, PC_SIG_INVALID);
	assert_false(pc_name_signature_ok(model, &u.name));
}

static void test_malformed(void **state)
{
	const pc_model *model = *state;
	static const struct {
		const char *text;
		size_t len; /* 0: strlen */
		int want;
	} bad[] = {
	    {"", 0, PC_ESYNTAX},
	    {"http", 0, PC_ESYNTAX},
	    {"http:", 0, PC_ESYNTAX},
	    {"http:/", 0, PC_ESYNTAX},
	    {"http://", 0, PC_ESYNTAX},
	    {"://foo.cdn.beta.net/www.foo.com/", 0, PC_ESYNTAX},
	    {"ftp://foo.cdn.beta.net/www.foo.com/", 0, PC_ESYNTAX},
	    {"httpx://foo.cdn.beta.net/www.foo.com/", 0, PC_ESYNTAX},
	    {"htt://foo.cdn.beta.net/www.foo.com/", 0, PC_ESYNTAX},
	    {"http:/foo.cdn.beta.net/www.foo.com/", 0, PC_ESYNTAX},
	    {"http//foo.cdn.beta.net/www.foo.com/", 0, PC_ESYNTAX},
	    {"http:\\\\foo.cdn.beta.net/www.foo.com/", 0, PC_ESYNTAX},
	    {"//foo.cdn.beta.net/www.foo.com/", 0, PC_ESYNTAX},
	    {"/www.foo.com/index.html", 0, PC_ESYNTAX},
	    {"http:///www.foo.com/", 0, PC_ESYNTAX},
	    {"http://:80/www.foo.com/", 0, PC_ESYNTAX},
	    {"http://user@foo.cdn.beta.net/www.foo.com/", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net@evil.example/www.foo.com/", 0, PC_ESYNTAX},
	    {"http://a:b@foo.cdn.beta.net/www.foo.com/", 0, PC_ESYNTAX},
	    {"http://[::1]/www.foo.com/", 0, PC_ESYNTAX},
	    {"http://foo..cdn.beta.net/www.foo.com/", 0, PC_ESYNTAX},
	    {"http://.foo.cdn.beta.net/www.foo.com/", 0, PC_ESYNTAX},
	    {"http://foo%2ecdn.beta.net/www.foo.com/", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/a b", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/a\tb", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/a\r\nHost: x", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/a\0b", 39, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/\x7f", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/caf\xc3\xa9", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/%zz", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/%2", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/%", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/%g0", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/?q=%", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/#%x1", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/a%00b", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/a%0d%0aHost:%20x", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/?q=%1F", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/%7F", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/<script>", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/a\\b", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/a|b", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/a\"b", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/{x}", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/a^b", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/a`b", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/..", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/../cdn.foo.com/x", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/./x", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/a/.", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/%2e%2E/x", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/.%2e?x", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/%2E#x", 0, PC_ESYNTAX},
	    {" http://foo.cdn.beta.net/www.foo.com/", 0, PC_ESYNTAX},
	    {"http://foo.cdn.beta.net/www.foo.com/ ", 0, PC_ESYNTAX},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pc_url u;
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
		int rc = parse_len(model, bad[i].text, len, &u);
		if (rc != bad[i].want)
			fail_msg("\"%s\": %d, want %d", bad[i].text, rc, bad[i].want);
	}
}

static void test_lengths(void **state)
{
	const pc_model *model = *state;
	pc_url u;
	static char url[PC_URL_MAX + 2];
	const char *head = "http://foo.cdn.beta.net/www.foo.com/";
	size_t head_len = strlen(head);

	/* object = content host + path: at most PC_NAME_MAX */
	size_t path_room = PC_NAME_MAX - strlen("www.foo.com/");
	memcpy(url, head, head_len);
	memset(url + head_len, 'p', path_room);
	url[head_len + path_room] = '\0';
	assert_int_equal(parse(model, url, &u), PC_OK);
	assert_int_equal(u.name.object_len, PC_NAME_MAX);
	assert_int_equal(strlen(u.name.object), PC_NAME_MAX);
	strcat(url, "p");
	assert_int_equal(parse(model, url, &u), PC_ERANGE);

	/* a long query is fine up to PC_URL_MAX */
	memcpy(url, head, head_len);
	url[head_len] = '?';
	memset(url + head_len + 1, 'q', PC_URL_MAX - head_len - 1);
	url[PC_URL_MAX] = '\0';
	assert_int_equal(parse(model, url, &u), PC_OK);
	assert_int_equal(u.query_len, PC_URL_MAX - head_len - 1);
	/* A fragment in the last byte and in the last block: the vector
	 * scan's last mask word, at the end of its array. */
	for (size_t back = 1; back <= 17; back++) {
		url[PC_URL_MAX - back] = '#';
		assert_int_equal(parse(model, url, &u), PC_OK);
		assert_int_equal(u.query_len, PC_URL_MAX - head_len - 1 - back);
		url[PC_URL_MAX - back] = 'q';
	}
	strcat(url, "q");
	assert_int_equal(parse(model, url, &u), PC_ERANGE);
}

static void test_reads_only_len(void **state)
{
	const pc_model *model = *state;
	pc_url u;
	const char *text = "http://foo.cdn.beta.net/www.foo.com/index.html garbage";
	size_t len = strlen("http://foo.cdn.beta.net/www.foo.com/index");
	assert_int_equal(pc_url_parse(model, text, len, &u), PC_OK);
	assert_span(u.path, u.path_len, "/index");
	assert_int_equal(pc_url_parse(model, text, strlen(text), &u), PC_ESYNTAX);
	assert_int_equal(pc_url_parse(NULL, text, len, &u), PC_EINVAL);
	assert_int_equal(pc_url_parse(model, text, len, NULL), PC_EINVAL);
	assert_int_equal(pc_url_parse(model, NULL, 3, &u), PC_EINVAL);
	assert_int_equal(pc_url_parse(model, NULL, 0, &u), PC_ESYNTAX);
}

/* The vector scan (16 bytes at a time, masks of 64 bits) against the
 * byte-at-a-time reference: URLs of every length from 16 to 300 with
 * their delimiters on both sides of every block and word boundary, and
 * every byte value at every place of a few of them. */
static void test_vector_scan_matches_reference(void **state)
{
	const pc_model *model = *state;
	pc_url u;
	static const char *const shapes[] = {
	    "http://foo.cdn.beta.net/www.foo.com/%s",
	    "http://foo.cdn.beta.net/www.foo.com/%s?q=1#f",
	    "http://foo.cdn.beta.net:8080/www.foo.com/a/%s/b?%s#%s",
	    "rtsp://foo.cdn.beta.net/cdn.foo.com/%s:%s@x",
	    "http://foo.cdn.beta.net/www.foo.com/%s%%41%s",
	    "HTTPS://FOO.cdn.beta.net/WWW.FOO.COM/%s/./%s",
	    "http://foo.cdn.beta.net/%s/www.foo.com/",
	};
	static char fill[320], url[1024];
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		for (size_t n = 0; n < 300; n++) {
			memset(fill, 'a' + (int)(n % 26), n);
			fill[n] = '\0';
			int len =
			    snprintf(url, sizeof(url), shapes[s], fill, fill + n / 2, fill + n / 3);
			assert_true(len > 0 && (size_t)len < sizeof(url));
			parse_len(model, url, (size_t)len, &u);
			parse_len(model, url, (size_t)len - n % 17, &u); /* cut anywhere */
		}
	}
	const char *base = "http://foo.cdn.beta.net/www.foo.com/path/to/an/object.mp4?x=1#frag";
	size_t base_len = strlen(base);
	for (size_t at = 0; at < base_len; at++) {
		for (unsigned byte = 0; byte < 256; byte++) {
			memcpy(url, base, base_len);
			url[at] = (char)byte;
			parse_len(model, url, base_len, &u);
			parse_len(model, url + 1, base_len - 1, &u);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_origin_form),
	    cmocka_unit_test(test_directory_form),
	    cmocka_unit_test(test_schemes_and_services),
	    cmocka_unit_test(test_ports),
	    cmocka_unit_test(test_query_and_fragment),
	    cmocka_unit_test(test_legal_odd_paths),
	    cmocka_unit_test(test_open_proxy_refused),
	    cmocka_unit_test(test_zone_and_customer),
	    cmocka_unit_test(test_signed_host),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_reads_only_len),
	    cmocka_unit_test(test_vector_scan_matches_reference),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
