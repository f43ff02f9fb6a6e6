/* Unit tests of naming.c: codepoint names of the patent's §3.1.4 over the
 * embedded default federation (etc/peercdn.yaml): classification, limits,
 * bad input, and signed and encrypted names made by pc_name_make. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "fixture.h"
#include "lib/model/config.h"
#include "lib/base/err.h"
#include "lib/naming/naming.h"

static const uint8_t nonce[8] = {0, 1, 2, 3, 4, 5, 6, 7};

static int group_setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	pc_model *model = fixture_load_text(pc_default_config_yaml);
	*state = model;
	return model == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
	fixture_free(*state);
	return 0;
}

static int parse(const pc_model *model, const char *text, pc_name *out)
{
	return pc_name_parse(model, text, strlen(text), out);
}

static uint32_t idx(uint32_t value)
{
	assert_int_not_equal(value, PC_NONE);
	return value;
}

/* Makes a name and checks that it reads back as what was asked. */
static void make(const pc_model *model, const char *provider, const char *cdn, const char *service,
                 const char *object, bool sign, bool encrypt, char out[PC_NAME_MAX + 1])
{
	int len = pc_name_make(model, idx(pc_model_provider(model, provider)),
	                       idx(pc_model_cdn(model, cdn)), idx(pc_model_service(model, service)),
	                       object, sign, encrypt, nonce, out, PC_NAME_MAX + 1);
	assert_true(len > 0);
	assert_int_equal((size_t)len, strlen(out));
}

/* Replaces the first occurrence of from by to in name (same length). */
static void replace(char *name, const char *from, const char *to)
{
	char *at = strstr(name, from);
	assert_non_null(at);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(at, to, strlen(to));
}

static void test_patent_examples(void **state)
{
	const pc_model *model = *state;
	pc_name n;
	assert_int_equal(parse(model, "ad102.web.abc.cdn.acme.net", &n), PC_OK);
	assert_int_equal(n.cdn, pc_model_cdn(model, "acme"));
	assert_int_equal(n.provider, pc_model_provider(model, "abc"));
	assert_int_equal(n.service, pc_model_service(model, "web"));
	assert_string_equal(n.object, "ad102");
	assert_int_equal(n.object_len, 5);
	assert_int_equal(n.signature, PC_SIG_ABSENT);
	assert_false(n.encrypted);
	assert_true(pc_name_signature_ok(model, &n));

	/* fig. 12's lower-grade customer */
	assert_int_equal(parse(model, "ad102.web.nbc.cdn.acme.net", &n), PC_OK);
	assert_int_equal(n.provider, pc_model_provider(model, "nbc"));

	/* customer left of the service: labels are classified, not placed */
	assert_int_equal(parse(model, "chan4.abc.tv.cdn.acme.net", &n), PC_OK);
	assert_int_equal(n.provider, pc_model_provider(model, "abc"));
	assert_int_equal(n.service, pc_model_service(model, "tv"));
	assert_string_equal(n.object, "chan4");
}

static void test_case_and_trailing_dot(void **state)
{
	const pc_model *model = *state;
	pc_name n;
	assert_int_equal(parse(model, "AD102.Web.ABC.CDN.Acme.NET.", &n), PC_OK);
	assert_int_equal(n.cdn, pc_model_cdn(model, "acme"));
	assert_int_equal(n.provider, pc_model_provider(model, "abc"));
	assert_int_equal(n.service, pc_model_service(model, "web"));
	assert_string_equal(n.object, "ad102");
	/* only one trailing dot */
	assert_int_equal(parse(model, "ad102.web.abc.cdn.acme.net..", &n), PC_ESYNTAX);
}

static void test_object_labels_keep_order(void **state)
{
	const pc_model *model = *state;
	pc_name n;
	assert_int_equal(parse(model, "img.Spring-Sale.ad_7.web.abc.cdn.beta.net", &n), PC_OK);
	assert_int_equal(n.cdn, pc_model_cdn(model, "beta"));
	assert_string_equal(n.object, "img.spring-sale.ad_7");
	/* object labels on both sides of the customer */
	assert_int_equal(parse(model, "x.abc.y.web.cdn.acme.net", &n), PC_OK);
	assert_string_equal(n.object, "x.y");
	/* right to left, the first provider and service labels win; the
	 * others are object */
	assert_int_equal(parse(model, "nbc.tv.web.abc.cdn.acme.net", &n), PC_OK);
	assert_int_equal(n.provider, pc_model_provider(model, "abc"));
	assert_int_equal(n.service, pc_model_service(model, "web"));
	assert_string_equal(n.object, "nbc.tv");
	/* no object at all */
	assert_int_equal(parse(model, "web.abc.cdn.acme.net", &n), PC_OK);
	assert_int_equal(n.object_len, 0);
	assert_string_equal(n.object, "");
}

static void test_default_service(void **state)
{
	const pc_model *model = *state;
	pc_name n;
	assert_int_equal(parse(model, "ad102.abc.cdn.acme.net", &n), PC_OK);
	assert_int_equal(n.service, model->default_service);
	assert_int_equal(n.service, pc_model_service(model, "web"));
	assert_string_equal(n.object, "ad102");

	/* the same federation without a default service */
	pc_model strict = *model;
	strict.default_service = PC_NONE;
	assert_int_equal(parse(&strict, "ad102.abc.cdn.acme.net", &n), PC_ENOSERVICE);
	assert_int_equal(parse(&strict, "ad102.vod.abc.cdn.acme.net", &n), PC_OK);
	assert_int_equal(n.service, pc_model_service(model, "vod"));
}

static void test_no_customer_no_zone(void **state)
{
	const pc_model *model = *state;
	pc_name n;
	assert_int_equal(parse(model, "ad102.web.cdn.acme.net", &n), PC_ENOCUSTOMER);
	assert_int_equal(parse(model, "cdn.acme.net", &n), PC_ENOCUSTOMER);
	assert_int_equal(parse(model, "cdn.acme.net.", &n), PC_ENOCUSTOMER);
	assert_int_equal(parse(model, "abcd.web.cdn.acme.net", &n), PC_ENOCUSTOMER);
	assert_int_equal(parse(model, "ad102.web.abc.cdn.example.org", &n), PC_ENOZONE);
	assert_int_equal(parse(model, "acme.net", &n), PC_ENOZONE);
	assert_int_equal(parse(model, "ad102.web.abc.xcdn.acme.net", &n), PC_ENOZONE);
	assert_int_equal(parse(model, "ad102.web.abc.cdn.acme.net.org", &n), PC_ENOZONE);
	assert_int_equal(parse(model, "localhost", &n), PC_ENOZONE);
}

static void test_length_limits(void **state)
{
	const pc_model *model = *state;
	pc_name n;
	char name[600];
	/* a 63-byte label is fine, 64 is not */
	snprintf(name, sizeof(name), "%063d.web.abc.cdn.acme.net", 7);
	assert_int_equal(parse(model, name, &n), PC_OK);
	assert_int_equal(n.object_len, 63);
	snprintf(name, sizeof(name), "%064d.web.abc.cdn.acme.net", 7);
	assert_int_equal(parse(model, name, &n), PC_ESYNTAX);

	/* 255 bytes exactly (without the trailing dot), then 256 */
	const char *tail = ".web.abc.cdn.acme.net";
	size_t fill = PC_NAME_MAX - strlen(tail);
	memset(name, 'a', fill);
	for (size_t i = 60; i < fill; i += 61)
		name[i] = '.';
	strcpy(name + fill, tail);
	assert_int_equal(strlen(name), PC_NAME_MAX);
	assert_int_equal(parse(model, name, &n), PC_OK);
	assert_int_equal(n.object_len, fill);
	strcat(name, ".");
	assert_int_equal(parse(model, name, &n), PC_OK);
	memmove(name + 1, name, strlen(name) + 1);
	name[0] = 'b';
	name[strlen(name) - 1] = '\0';
	assert_int_equal(strlen(name), PC_NAME_MAX + 1);
	assert_int_equal(parse(model, name, &n), PC_ESYNTAX);

	/* one-byte labels up to the limit: the most labels a name has */
	size_t at = 0;
	while (at + 2 + strlen(tail) <= PC_NAME_MAX) {
		name[at++] = 'x';
		name[at++] = '.';
	}
	strcpy(name + at - 1, tail);
	assert_int_equal(parse(model, name, &n), PC_OK);

	/* a huge input is refused without being read to the end */
	static char huge[1 << 16];
	memset(huge, 'a', sizeof(huge));
	assert_int_equal(pc_name_parse(model, huge, sizeof(huge), &n), PC_ESYNTAX);
}

static void test_bad_bytes(void **state)
{
	const pc_model *model = *state;
	static const struct {
		const char *text;
		size_t len; /* 0: strlen */
	} bad[] = {
	    {"", 0},
	    {".", 0},
	    {"..", 0},
	    {".abc.cdn.acme.net", 0},
	    {"a..abc.cdn.acme.net", 0},
	    {"a b.abc.cdn.acme.net", 0},
	    {"a\tb.abc.cdn.acme.net", 0},
	    {"ab\0c.abc.cdn.acme.net", 21},
	    {"a\\046b.abc.cdn.acme.net", 0},
	    {"a*.abc.cdn.acme.net", 0},
	    {"a/b.abc.cdn.acme.net", 0},
	    {"a@b.abc.cdn.acme.net", 0},
	    {"a:80.abc.cdn.acme.net", 0},
	    {"caf\xc3\xa9.abc.cdn.acme.net", 0},
	    {"\xff.abc.cdn.acme.net", 0},
	    {"a.abc.cdn.acme.net\n", 0},
	    {"a.abc.cdn.acme.net\r", 0},
	    {"a%41.abc.cdn.acme.net", 0},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pc_name n;
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
		int rc = pc_name_parse(model, bad[i].text, len, &n);
		if (rc != PC_ESYNTAX)
			fail_msg("\"%s\": %d, want PC_ESYNTAX", bad[i].text, rc);
	}
}

static void test_reads_only_len(void **state)
{
	const pc_model *model = *state;
	pc_name n;
	/* the bytes after len are not part of the name */
	const char *text = "ad102.web.abc.cdn.acme.net!garbage";
	assert_int_equal(pc_name_parse(model, text, 26, &n), PC_OK);
	assert_string_equal(n.object, "ad102");
	assert_int_equal(pc_name_parse(model, text, 22, &n), PC_ENOZONE);
	/* an exact-size heap copy would show an overread under ASan */
	char exact[26];
	memcpy(exact, text, sizeof(exact));
	assert_int_equal(pc_name_parse(model, exact, sizeof(exact), &n), PC_OK);
}

static void test_bad_arguments(void **state)
{
	const pc_model *model = *state;
	pc_name n;
	assert_int_equal(pc_name_parse(NULL, "a.abc.cdn.acme.net", 18, &n), PC_EINVAL);
	assert_int_equal(pc_name_parse(model, "a.abc.cdn.acme.net", 18, NULL), PC_EINVAL);
	assert_int_equal(pc_name_parse(model, NULL, 5, &n), PC_EINVAL);
	assert_int_equal(pc_name_parse(model, NULL, 0, &n), PC_ESYNTAX);
	assert_false(pc_name_signature_ok(NULL, &n));
	assert_false(pc_name_signature_ok(model, NULL));
	n.provider = PC_NONE;
	n.signature = PC_SIG_ABSENT;
	assert_false(pc_name_signature_ok(model, &n));
}

static void test_make_plain_format(void **state)
{
	const pc_model *model = *state;
	char name[PC_NAME_MAX + 1];
	make(model, "abc", "acme", "web", "AD102", false, false, name);
	assert_string_equal(name, "ad102.web.abc.cdn.acme.net");
	make(model, "foo", "beta", "tv", "news.chan4", false, false, name);
	assert_string_equal(name, "news.chan4.tv.foo.cdn.beta.net");
}

static void test_make_parse_round_trip(void **state)
{
	const pc_model *model = *state;
	static const char *objects[] = {"ad102", "promo.AD102", "tv.abc", "nbc",
	                                "a-b_c.0.1.2.3.4.5.6.7.8.9"};
	static const char *services[] = {"web", "tv", "vod", "live"};
	for (unsigned flags = 0; flags < 4; flags++) {
		bool sign = flags & 1, encrypt = flags & 2;
		for (size_t o = 0; o < sizeof(objects) / sizeof(objects[0]); o++) {
			for (size_t s = 0; s < sizeof(services) / sizeof(services[0]); s++) {
				char name[PC_NAME_MAX + 1], lower[PC_NAME_MAX + 1];
				make(model, "abc", s % 2 ? "beta" : "acme", services[s], objects[o],
				     sign, encrypt, name);
				pc_name n;
				assert_int_equal(parse(model, name, &n), PC_OK);
				assert_int_equal(n.provider, pc_model_provider(model, "abc"));
				assert_int_equal(n.service, pc_model_service(model, services[s]));
				assert_int_equal(n.cdn,
				                 pc_model_cdn(model, s % 2 ? "beta" : "acme"));
				size_t i = 0;
				for (; objects[o][i]; i++)
					lower[i] = (char)tolower((unsigned char)objects[o][i]);
				lower[i] = '\0';
				assert_string_equal(n.object, lower);
				assert_int_equal(n.signature, sign ? PC_SIG_VALID : PC_SIG_ABSENT);
				assert_int_equal(n.encrypted, encrypt);
				assert_true(pc_name_signature_ok(model, &n));
				/* the object is hidden in an encrypted name (a
				 * short one may occur in base32 by chance) */
				if (encrypt && strlen(lower) >= 5 && strstr(name, lower) != NULL)
					fail_msg("%s shows %s", name, lower);
			}
		}
	}
}

static void test_make_label_shapes(void **state)
{
	const pc_model *model = *state;
	char name[PC_NAME_MAX + 1];
	make(model, "abc", "acme", "web", "ad102", true, true, name);
	/* s-<16 base32>.e-<...>.abc.cdn.acme.net */
	assert_memory_equal(name, "s-", 2);
	assert_int_equal(strchr(name, '.') - name, 2 + 16);
	assert_memory_equal(name + 19, "e-", 2);
	assert_non_null(strstr(name, ".abc.cdn.acme.net"));

	/* a longer codepoint spreads over several "e-" labels of <= 63 */
	make(model, "abc", "acme", "web", "a-rather-long-object-name.with.several.labels.inside.it",
	     false, true, name);
	unsigned enc_labels = 0;
	for (char *label = name; label != NULL;) {
		char *dot = strchr(label, '.');
		size_t len = dot ? (size_t)(dot - label) : strlen(label);
		assert_true(len <= 63);
		if (len >= 2 && memcmp(label, "e-", 2) == 0)
			enc_labels++;
		label = dot ? dot + 1 : NULL;
	}
	assert_true(enc_labels >= 2);
	pc_name n;
	assert_int_equal(parse(model, name, &n), PC_OK);
	assert_string_equal(n.object, "a-rather-long-object-name.with.several.labels.inside.it");

	/* the same inputs make the same name: the nonce is the caller's */
	char again[PC_NAME_MAX + 1];
	make(model, "abc", "acme", "web", "a-rather-long-object-name.with.several.labels.inside.it",
	     false, true, again);
	assert_string_equal(name, again);
}

static void test_signature_tampering(void **state)
{
	const pc_model *model = *state;
	char name[PC_NAME_MAX + 1], bad[PC_NAME_MAX + 1];
	pc_name n;
	make(model, "abc", "acme", "web", "ad102", true, false, name);
	assert_int_equal(parse(model, name, &n), PC_OK);
	assert_int_equal(n.signature, PC_SIG_VALID);

	/* a different signature character */
	strcpy(bad, name);
	bad[5] = bad[5] == 'a' ? 'b' : 'a';
	assert_int_equal(parse(model, bad, &n), PC_OK);
	assert_int_equal(n.signature, PC_SIG_INVALID);
	assert_false(pc_name_signature_ok(model, &n));

	/* a different object, service or CDN under the same signature */
	strcpy(bad, name);
	replace(bad, "ad102", "ad103");
	assert_int_equal(parse(model, bad, &n), PC_OK);
	assert_int_equal(n.signature, PC_SIG_INVALID);
	strcpy(bad, name);
	replace(bad, ".web.", ".vod.");
	assert_int_equal(parse(model, bad, &n), PC_OK);
	assert_int_equal(n.signature, PC_SIG_INVALID);
	strcpy(bad, name);
	replace(bad, "cdn.acme.net", "cdn.beta.net");
	assert_int_equal(parse(model, bad, &n), PC_OK);
	assert_int_equal(n.cdn, pc_model_cdn(model, "beta"));
	assert_int_equal(n.signature, PC_SIG_INVALID);

	/* case does not matter: resolvers may change it (0x20 bit) */
	strcpy(bad, name);
	for (char *c = bad; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
	assert_int_equal(parse(model, bad, &n), PC_OK);
	assert_int_equal(n.signature, PC_SIG_VALID);
	/* the trailing dot is not signed */
	strcpy(bad, name);
	strcat(bad, ".");
	assert_int_equal(parse(model, bad, &n), PC_OK);
	assert_int_equal(n.signature, PC_SIG_VALID);

	/* a signature label of the wrong length or alphabet */
	static const char *wrong[] = {
	    "s-aaaa.ad102.web.abc.cdn.acme.net",
	    "s-.ad102.web.abc.cdn.acme.net",
	    "s-aaaaaaaaaaaaaaaaa.ad102.web.abc.cdn.acme.net",
	    "s-1111111111111111.ad102.web.abc.cdn.acme.net",
	    "s-aaaaaaaaaaaaaaab.ad102.web.abc.cdn.acme.net",
	    /* nbc has no signing key */
	    "s-aaaaaaaaaaaaaaaa.ad102.web.nbc.cdn.acme.net",
	};
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		assert_int_equal(parse(model, wrong[i], &n), PC_OK);
		assert_int_equal(n.signature, PC_SIG_INVALID);
	}
}

static void test_signature_position(void **state)
{
	const pc_model *model = *state;
	char name[PC_NAME_MAX + 1], moved[2 * PC_NAME_MAX];
	pc_name n;
	make(model, "abc", "acme", "web", "ad102", true, false, name);
	/* "s-" label not leftmost */
	snprintf(moved, sizeof(moved), "x.%s", name);
	assert_int_equal(parse(model, moved, &n), PC_ESYNTAX);
	/* two of them */
	snprintf(moved, sizeof(moved), "%.18s.%s", name, name);
	assert_int_equal(parse(model, moved, &n), PC_ESYNTAX);
	/* a signature and nothing else */
	assert_int_equal(parse(model, "s-aaaaaaaaaaaaaaaa.cdn.acme.net", &n), PC_ENOCUSTOMER);
}

static void test_required_signature(void **state)
{
	const pc_model *model = *state;
	pc_name n;
	assert_int_equal(parse(model, "chan1.live.news.cdn.gamma.net", &n), PC_OK);
	assert_int_equal(n.signature, PC_SIG_ABSENT);
	assert_false(pc_name_signature_ok(model, &n));
	char name[PC_NAME_MAX + 1];
	make(model, "news", "gamma", "live", "chan1", true, false, name);
	assert_int_equal(parse(model, name, &n), PC_OK);
	assert_int_equal(n.signature, PC_SIG_VALID);
	assert_true(pc_name_signature_ok(model, &n));
	/* news has no encryption key */
	assert_int_equal(pc_name_make(model, n.provider, n.cdn, n.service, "chan1", false, true,
	                              nonce, name, sizeof(name)),
	                 PC_EINVAL);
}

static void test_encryption_tampering(void **state)
{
	const pc_model *model = *state;
	char name[PC_NAME_MAX + 1], bad[2 * PC_NAME_MAX];
	pc_name n;
	make(model, "abc", "acme", "web", "ad102", false, true, name);
	assert_int_equal(parse(model, name, &n), PC_OK);

	/* a changed character, anywhere in the blob */
	for (size_t i = 2; name[i] != '.'; i++) {
		strcpy(bad, name);
		bad[i] = bad[i] == 'a' ? 'b' : 'a';
		int rc = parse(model, bad, &n);
		if (rc != PC_EDECRYPT)
			fail_msg("byte %zu changed: %d", i, rc);
	}
	/* truncated by one character, by a whole byte, to nothing */
	size_t blob_end = (size_t)(strchr(name, '.') - name);
	snprintf(bad, sizeof(bad), "%.*s%s", (int)blob_end - 1, name, name + blob_end);
	assert_int_equal(parse(model, bad, &n), PC_EDECRYPT);
	snprintf(bad, sizeof(bad), "%.*s%s", (int)blob_end - 8, name, name + blob_end);
	assert_int_equal(parse(model, bad, &n), PC_EDECRYPT);
	assert_int_equal(parse(model, "e-.abc.cdn.acme.net", &n), PC_EDECRYPT);
	assert_int_equal(parse(model, "e-aaaaaaaa.abc.cdn.acme.net", &n), PC_EDECRYPT);
	/* not base32 */
	strcpy(bad, name);
	bad[4] = '1';
	assert_int_equal(parse(model, bad, &n), PC_EDECRYPT);
	/* nbc has no encryption key */
	strcpy(bad, name);
	replace(bad, ".abc.", ".nbc.");
	assert_int_equal(parse(model, bad, &n), PC_EDECRYPT);
	/* "e-" labels apart from each other */
	snprintf(bad, sizeof(bad), "%.*s.x.%s", (int)blob_end, name, name);
	assert_int_equal(parse(model, bad, &n), PC_ESYNTAX);
}

static void test_encryption_multi_label_tampering(void **state)
{
	const pc_model *model = *state;
	char name[PC_NAME_MAX + 1], bad[2 * PC_NAME_MAX];
	pc_name n;
	make(model, "abc", "acme", "vod", "season-01.episode-02.trailer.hd.1080p.main-audio", false,
	     true, name);
	assert_int_equal(parse(model, name, &n), PC_OK);
	assert_string_equal(n.object, "season-01.episode-02.trailer.hd.1080p.main-audio");
	char *second = strchr(name, '.') + 1;
	assert_memory_equal(second, "e-", 2);
	/* the first label dropped */
	assert_int_equal(parse(model, second, &n), PC_EDECRYPT);
	/* the first two labels swapped */
	char *third = strchr(second, '.') + 1;
	snprintf(bad, sizeof(bad), "%.*s.%.*s.%s", (int)(third - second - 1), second,
	         (int)(second - name - 1), name, third);
	assert_int_equal(strlen(bad), strlen(name));
	assert_int_equal(parse(model, bad, &n), PC_EDECRYPT);
	/* split differently: the labels are one run, cut anywhere */
	snprintf(bad, sizeof(bad), "%.10s.e-%s", name, name + 10);
	assert_int_equal(parse(model, bad, &n), PC_OK);
	assert_string_equal(n.object, "season-01.episode-02.trailer.hd.1080p.main-audio");
}

static void test_encryption_bound_to_customer_and_cdn(void **state)
{
	const pc_model *model = *state;
	char name[PC_NAME_MAX + 1], bad[PC_NAME_MAX + 1];
	pc_name n;
	make(model, "abc", "acme", "web", "ad102", false, true, name);

	/* nbc given abc's very key: the blob still does not open as nbc's */
	pc_model shared = *model;
	struct pc_provider providers[16];
	assert_true(model->n_providers <= 16);
	memcpy(providers, model->providers, model->n_providers * sizeof(providers[0]));
	uint32_t nbc = pc_model_provider(model, "nbc"), abc = pc_model_provider(model, "abc");
	providers[nbc].has_enc_key = true;
	memcpy(providers[nbc].enc_key, providers[abc].enc_key, PC_KEY_BYTES);
	shared.providers = providers;
	assert_int_equal(parse(&shared, name, &n), PC_OK);
	strcpy(bad, name);
	replace(bad, ".abc.", ".nbc.");
	assert_int_equal(parse(&shared, bad, &n), PC_EDECRYPT);

	/* nor under another CDN's domain */
	strcpy(bad, name);
	replace(bad, "cdn.acme.net", "cdn.beta.net");
	assert_int_equal(parse(model, bad, &n), PC_EDECRYPT);
}

static void test_sign_and_encrypt(void **state)
{
	const pc_model *model = *state;
	char name[PC_NAME_MAX + 1], bad[PC_NAME_MAX + 1];
	pc_name n;
	make(model, "abc", "acme", "tv", "chan4", true, true, name);
	assert_int_equal(parse(model, name, &n), PC_OK);
	assert_int_equal(n.signature, PC_SIG_VALID);
	assert_true(n.encrypted);
	assert_string_equal(n.object, "chan4");
	assert_int_equal(n.service, pc_model_service(model, "tv"));
	/* the signature covers the ciphertext: a changed blob is a bad
	 * signature and fails to decrypt */
	strcpy(bad, name);
	bad[25] = bad[25] == 'a' ? 'b' : 'a';
	assert_int_equal(parse(model, bad, &n), PC_EDECRYPT);
	/* the signature dropped: still a valid encrypted name, unsigned */
	assert_int_equal(parse(model, strchr(name, '.') + 1, &n), PC_OK);
	assert_int_equal(n.signature, PC_SIG_ABSENT);
}

static void test_make_errors(void **state)
{
	const pc_model *model = *state;
	char name[PC_NAME_MAX + 1];
	uint32_t abc = pc_model_provider(model, "abc"), nbc = pc_model_provider(model, "nbc");
	uint32_t acme = pc_model_cdn(model, "acme"), web = pc_model_service(model, "web");
	static const char *bad_objects[] = {
	    "",
	    ".",
	    "a..b",
	    ".a",
	    "a.",
	    "a b",
	    "a/b",
	    "s-foo",
	    "x.e-foo",
	    "E-Foo",
	    "0123456789012345678901234567890123456789012345678901234567890123",
	};
	for (size_t i = 0; i < sizeof(bad_objects) / sizeof(bad_objects[0]); i++) {
		int rc = pc_name_make(model, abc, acme, web, bad_objects[i], false, false, NULL,
		                      name, sizeof(name));
		if (rc != PC_ESYNTAX)
			fail_msg("object \"%s\": %d", bad_objects[i], rc);
	}
	assert_int_equal(
	    pc_name_make(model, PC_NONE, acme, web, "a", false, false, NULL, name, sizeof(name)),
	    PC_EINVAL);
	assert_int_equal(pc_name_make(model, abc, model->n_cdns, web, "a", false, false, NULL, name,
	                              sizeof(name)),
	                 PC_EINVAL);
	assert_int_equal(pc_name_make(model, abc, acme, model->n_services, "a", false, false, NULL,
	                              name, sizeof(name)),
	                 PC_EINVAL);
	assert_int_equal(
	    pc_name_make(model, nbc, acme, web, "a", true, false, NULL, name, sizeof(name)),
	    PC_EINVAL);
	assert_int_equal(
	    pc_name_make(model, abc, acme, web, "a", false, true, NULL, name, sizeof(name)),
	    PC_EINVAL);
	assert_int_equal(
	    pc_name_make(model, abc, acme, web, NULL, false, false, NULL, name, sizeof(name)),
	    PC_EINVAL);
	/* too long for a name, plainly or once encrypted */
	char object[300];
	memset(object, 'a', sizeof(object));
	for (size_t i = 50; i < sizeof(object); i += 51)
		object[i] = '.';
	object[240] = '\0';
	assert_int_equal(
	    pc_name_make(model, abc, acme, web, object, false, false, NULL, name, sizeof(name)),
	    PC_ERANGE);
	object[150] = '\0';
	assert_true(pc_name_make(model, abc, acme, web, object, false, false, NULL, name,
	                         sizeof(name)) > 0);
	assert_int_equal(
	    pc_name_make(model, abc, acme, web, object, false, true, nonce, name, sizeof(name)),
	    PC_ERANGE);
	/* the output buffer */
	assert_int_equal(pc_name_make(model, abc, acme, web, "ad102", false, false, NULL, name,
	                              strlen("ad102.web.abc.cdn.acme.net")),
	                 PC_ESPACE);
	assert_int_equal(pc_name_make(model, abc, acme, web, "ad102", false, false, NULL, name,
	                              strlen("ad102.web.abc.cdn.acme.net") + 1),
	                 (int)strlen("ad102.web.abc.cdn.acme.net"));
}

/* The longest object that still fits once signed and encrypted. */
static void test_make_longest_encrypted(void **state)
{
	const pc_model *model = *state;
	uint32_t abc = pc_model_provider(model, "abc"), acme = pc_model_cdn(model, "acme"),
	         web = pc_model_service(model, "web");
	char object[PC_NAME_MAX + 1], name[PC_NAME_MAX + 1];
	size_t longest = 0;
	for (size_t len = 1; len < 200; len++) {
		for (size_t i = 0; i < len; i++)
			object[i] = i % 50 == 49 && i != len - 1 ? '.' : 'o';
		object[len] = '\0';
		int rc = pc_name_make(model, abc, acme, web, object, true, true, nonce, name,
		                      sizeof(name));
		if (rc < 0) {
			assert_int_equal(rc, PC_ERANGE);
			break;
		}
		if (len <= 63) {
			pc_name n;
			assert_int_equal(parse(model, name, &n), PC_OK);
			assert_int_equal(n.object_len, len);
		}
		longest = len;
	}
	assert_true(longest >= 63);
}

static void test_garbage_never_crashes(void **state)
{
	const pc_model *model = *state;
	uint8_t buf[300];
	uint32_t seed = 12345;
	static const char alphabet[] = "abcs-e.ABC0123457_.....";
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(seed % sizeof(buf));
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (round & 1)
			             ? (uint8_t)(seed >> 16)
			             : (uint8_t)alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		static const char tail[] = ".abc.cdn.acme.net";
		if (round % 3 == 0 && len + sizeof(tail) < sizeof(buf)) {
			memcpy(buf + len, tail, sizeof(tail) - 1);
			len += sizeof(tail) - 1;
		}
		pc_name n;
		if (pc_name_parse(model, (const char *)buf, len, &n) == PC_OK) {
			assert_int_equal(strlen(n.object), n.object_len);
			assert_true(n.provider < model->n_providers);
		}
		seed = seed * 1103515245u + 12345u;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_patent_examples),
	    cmocka_unit_test(test_case_and_trailing_dot),
	    cmocka_unit_test(test_object_labels_keep_order),
	    cmocka_unit_test(test_default_service),
	    cmocka_unit_test(test_no_customer_no_zone),
	    cmocka_unit_test(test_length_limits),
	    cmocka_unit_test(test_bad_bytes),
	    cmocka_unit_test(test_reads_only_len),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_make_plain_format),
	    cmocka_unit_test(test_make_parse_round_trip),
	    cmocka_unit_test(test_make_label_shapes),
	    cmocka_unit_test(test_signature_tampering),
	    cmocka_unit_test(test_signature_position),
	    cmocka_unit_test(test_required_signature),
	    cmocka_unit_test(test_encryption_tampering),
	    cmocka_unit_test(test_encryption_multi_label_tampering),
	    cmocka_unit_test(test_encryption_bound_to_customer_and_cdn),
	    cmocka_unit_test(test_sign_and_encrypt),
	    cmocka_unit_test(test_make_errors),
	    cmocka_unit_test(test_make_longest_encrypted),
	    cmocka_unit_test(test_garbage_never_crashes),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
