/* Unit tests of CORS for the edge's live answers (lib/proto/cors): the
 * per-provider policy, the exact fields of an answer and a preflight, and
 * the check of edge.live.cors_origins strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/proto/cors.h"

static enum pc_cors_allow allow(const struct pc_text_list *list, const char *provider,
                                const char *origin)
{
	return pc_cors_allow(list, provider, origin, origin != NULL ? strlen(origin) : 0);
}

static void test_policy(void **state)
{
	(void)state;
	static const char *const items[] = {
	    "abc=http://player.abc.com,https://www.abc.com:8443",
	    "abc=http://127.9.2.1:8000",
	    "foo=*",
	    "abcd=http://other.example",
	};
	const struct pc_text_list list = {items, 4};
	const struct pc_text_list none = {NULL, 0};
	/* No entry: any page reads the stream, whatever it sends. */
	assert_int_equal(allow(&none, "abc", "http://evil.example"), PC_CORS_ANY);
	assert_int_equal(allow(&list, "xyz", NULL), PC_CORS_ANY);
	assert_int_equal(allow(&list, "foo", "http://anywhere"), PC_CORS_ANY);
	/* Listed origins, over every entry of the provider, any case. */
	assert_int_equal(allow(&list, "abc", "http://player.abc.com"), PC_CORS_ORIGIN);
	assert_int_equal(allow(&list, "abc", "HTTPS://WWW.abc.com:8443"), PC_CORS_ORIGIN);
	assert_int_equal(allow(&list, "abc", "http://127.9.2.1:8000"), PC_CORS_ORIGIN);
	/* Anything else is refused: another port, scheme, a prefix, none. */
	assert_int_equal(allow(&list, "abc", "http://player.abc.com:80"), PC_CORS_DENY);
	assert_int_equal(allow(&list, "abc", "https://player.abc.com"), PC_CORS_DENY);
	assert_int_equal(allow(&list, "abc", "http://player.abc.co"), PC_CORS_DENY);
	assert_int_equal(allow(&list, "abc", "null"), PC_CORS_DENY);
	assert_int_equal(allow(&list, "abc", NULL), PC_CORS_DENY);
	/* "abcd=" is not abc's entry, nor abc's abcd's. */
	assert_int_equal(allow(&list, "abcd", "http://player.abc.com"), PC_CORS_DENY);
	assert_int_equal(allow(&list, "abcd", "http://other.example"), PC_CORS_ORIGIN);
	assert_int_equal(allow(&list, "ab", "http://player.abc.com"), PC_CORS_ANY);
}

static char *written(bool preflight, enum pc_cors_allow a, const char *origin)
{
	struct pc_buf out = {0};
	size_t n = origin != NULL ? strlen(origin) : 0;
	assert_true(preflight ? pc_cors_write_preflight(&out, a, origin, n)
	                      : pc_cors_write(&out, a, origin, n));
	assert_true(pc_buf_append(&out, "", 1));
	return out.data;
}

static void test_fields(void **state)
{
	(void)state;
	char *s = written(false, PC_CORS_ANY, "http://x");
	assert_string_equal(s, "Access-Control-Allow-Origin: *\r\n");
	free(s);
	s = written(false, PC_CORS_ORIGIN, "http://127.9.2.1:8000");
	assert_string_equal(s, "Access-Control-Allow-Origin: http://127.9.2.1:8000\r\n"
	                       "Vary: Origin\r\n");
	free(s);
	s = written(false, PC_CORS_DENY, "http://x");
	assert_string_equal(s, "Vary: Origin\r\n");
	free(s);
	s = written(true, PC_CORS_ANY, NULL);
	assert_string_equal(s, "Access-Control-Allow-Origin: *\r\n"
	                       "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
	                       "Access-Control-Allow-Headers: Range, If-None-Match, "
	                       "If-Modified-Since, Cache-Control\r\n"
	                       "Access-Control-Max-Age: 7200\r\n");
	free(s);
	/* A refused origin's preflight allows nothing: the browser fails it. */
	s = written(true, PC_CORS_DENY, "http://x");
	assert_string_equal(s, "Vary: Origin\r\n");
	free(s);
}

static void test_check(void **state)
{
	(void)state;
	static const char *const good[] = {
	    "abc=*",
	    "abc=http://a",
	    "abc=https://player.abc.com:443",
	    "abc=http://127.0.0.1:8000,https://[::1]:8443,*",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_null(pc_cors_check(good[i]));
	static const char *const bad[] = {
	    "abc",
	    "=http://a",
	    "abc=",
	    "abc=http://",
	    "abc=ftp://a",
	    "abc=a.com",
	    "abc=http://a/",
	    "abc=http://a,",
	    "abc=http://a:",
	    "abc=http://a:123456",
	    "abc=http://[]",
	    "abc=http://a b",
	    "abc=http://a?x",
	    "abc=**",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_non_null(pc_cors_check(bad[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policy),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
