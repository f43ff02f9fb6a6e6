/* Unit tests of the control socket's request lines (lib/proto/control). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/err.h"
#include "lib/proto/control.h"

static int parse(const char *line, struct pc_control_request *req, const char **why)
{
	return pc_control_parse(line, strlen(line), req, why);
}

static void test_every_command(void **state)
{
	(void)state;
	struct pc_control_request req;
	const char *why = "unset";
	static const struct {
		const char *line;
		enum pc_control_command command;
	} cases[] = {
	    {"status", PC_CONTROL_STATUS},       {"servers", PC_CONTROL_SERVERS},
	    {"reload", PC_CONTROL_RELOAD},       {"load acme-s1 7", PC_CONTROL_LOAD},
	    {"drain acme-s1", PC_CONTROL_DRAIN}, {"undrain acme-s1", PC_CONTROL_UNDRAIN},
	    {"push 12", PC_CONTROL_PUSH},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].line, &req, &why), PC_OK);
		assert_null(why);
		assert_int_equal(req.command, cases[i].command);
		assert_true(strncmp(cases[i].line, pc_control_command_name(req.command),
		                    strlen(pc_control_command_name(req.command))) == 0);
	}
}

static void test_arguments(void **state)
{
	(void)state;
	struct pc_control_request req;
	const char *why;
	assert_int_equal(parse("  load\tacme-s1   4294967295 \r", &req, &why), PC_OK);
	assert_int_equal(req.load, UINT32_MAX);
	assert_int_equal(req.server_len, 7);
	assert_memory_equal(req.server, "acme-s1", 7);
	assert_int_equal(parse("push 0", &req, &why), PC_OK);
	assert_int_equal(req.push_len, 0);
	assert_int_equal(parse("push 16777216", &req, &why), PC_OK);
	assert_int_equal(req.push_len, PC_CONTROL_PUSH_MAX);
	assert_int_equal(parse("drain a", &req, &why), PC_OK);
	assert_int_equal(req.server_len, 1);
}

static void test_rejections(void **state)
{
	(void)state;
	struct pc_control_request req;
	static const char *const bad[] = {
	    "",           "   ",        "stat",          "STATUS",    "status x",
	    "load",       "load s",     "load s -1",     "load s 1x", "load s 4294967296",
	    "load s 01",  "load s 1 2", "drain",         "drain a b", "undrain",
	    "push",       "push -1",    "push 16777217", "push 1e3",  "reload now",
	    "drain \x7f", "status\rx",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;
		assert_int_equal(parse(bad[i], &req, &why), PC_ESYNTAX);
		assert_non_null(why);
	}
	const char *why = NULL;
	assert_int_equal(pc_control_parse("status\0", 7, &req, &why), PC_ESYNTAX);
	char long_line[PC_CONTROL_LINE_MAX + 8];
	memset(long_line, 'a', sizeof(long_line));
	memcpy(long_line, "drain ", 6);
	assert_int_equal(pc_control_parse(long_line, sizeof(long_line), &req, &why), PC_ESYNTAX);
	assert_string_equal(why, "line too long");
	/* A usage line names the command's arguments. */
	assert_int_equal(parse("load x", &req, &why), PC_ESYNTAX);
	assert_string_equal(why, "usage: load SERVER N");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_command),
	    cmocka_unit_test(test_arguments),
	    cmocka_unit_test(test_rejections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
