/* control: request lines of the control socket (docs/control.md). */
#include "lib/proto/control.h"

#include <stdbool.h>
#include <string.h>

#include "lib/base/err.h"

static const char *const command_names[] = {
    [PC_CONTROL_STATUS] = "status", [PC_CONTROL_SERVERS] = "servers", [PC_CONTROL_LOAD] = "load",
    [PC_CONTROL_DRAIN] = "drain",   [PC_CONTROL_UNDRAIN] = "undrain", [PC_CONTROL_PUSH] = "push",
    [PC_CONTROL_RELOAD] = "reload",
};

/* How many words each command takes after its own. */
static const unsigned command_args[] = {
    [PC_CONTROL_STATUS] = 0, [PC_CONTROL_SERVERS] = 0, [PC_CONTROL_LOAD] = 2,
    [PC_CONTROL_DRAIN] = 1,  [PC_CONTROL_UNDRAIN] = 1, [PC_CONTROL_PUSH] = 1,
    [PC_CONTROL_RELOAD] = 0,
};

static const char *const command_usage[] = {
    [PC_CONTROL_STATUS] = "usage: status",
    [PC_CONTROL_SERVERS] = "usage: servers",
    [PC_CONTROL_LOAD] = "usage: load SERVER N",
    [PC_CONTROL_DRAIN] = "usage: drain SERVER",
    [PC_CONTROL_UNDRAIN] = "usage: undrain SERVER",
    [PC_CONTROL_PUSH] = "usage: push LENGTH, then LENGTH bytes of config",
    [PC_CONTROL_RELOAD] = "usage: reload",
};

const char *pc_control_command_name(enum pc_control_command command)
{
	return (unsigned)command < sizeof(command_names) / sizeof(command_names[0])
	           ? command_names[command]
	           : "?";
}

struct word {
	const char *text;
	size_t len;
};

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Up to max words of line; returns how many there were (max + 1: more). */
static unsigned split(const char *line, size_t len, struct word *words, unsigned max)
{
	unsigned n = 0;
	size_t i = 0;
	for (;;) {
		while (i < len && blank(line[i]))
			i++;
		if (i == len)
			return n;
		if (n == max)
			return max + 1;
		words[n].text = line + i;
		while (i < len && !blank(line[i]))
			i++;
		words[n].len = (size_t)(line + i - words[n].text);
		n++;
	}
}

/* A decimal number of at most max, no sign, no leading zeros but "0". */
static bool number(const struct word *w, uint64_t max, uint64_t *out)
{
	if (w->len == 0 || w->len > 20 || (w->len > 1 && w->text[0] == '0'))
		return false;
	uint64_t value = 0;
	for (size_t i = 0; i < w->len; i++) {
		char c = w->text[i];
		if (c < '0' || c > '9')
			return false;
		unsigned digit = (unsigned)(c - '0');
		if (value > (max - digit) / 10)
			return false;
		value = value * 10 + digit;
	}
	*out = value;
	return true;
}

/* Server names are the config's: printable, no blanks, no controls. */
static bool name_ok(const struct word *w)
{
	if (w->len == 0 || w->len > 255)
		return false;
	for (size_t i = 0; i < w->len; i++) {
		unsigned char c = (unsigned char)w->text[i];
		if (c <= 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

int pc_control_parse(const char *line, size_t len, struct pc_control_request *req, const char **why)
{
	memset(req, 0, sizeof(*req));
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len >= PC_CONTROL_LINE_MAX) {
		*why = "line too long";
		return PC_ESYNTAX;
	}
	if (memchr(line, '\0', len) != NULL || memchr(line, '\r', len) != NULL ||
	    memchr(line, '\n', len) != NULL) {
		*why = "control bytes in the line";
		return PC_ESYNTAX;
	}
	struct word words[4];
	unsigned n = split(line, len, words, 3);
	if (n == 0) {
		*why = "empty line";
		return PC_ESYNTAX;
	}
	unsigned c = 0;
	for (; c < sizeof(command_names) / sizeof(command_names[0]); c++)
		if (strlen(command_names[c]) == words[0].len &&
		    memcmp(command_names[c], words[0].text, words[0].len) == 0)
			break;
	if (c == sizeof(command_names) / sizeof(command_names[0])) {
		*why = "unknown command (status, servers, load, drain, undrain, push, reload)";
		return PC_ESYNTAX;
	}
	req->command = (enum pc_control_command)c;
	*why = command_usage[c];
	if (n != command_args[c] + 1)
		return PC_ESYNTAX;
	uint64_t value;
	switch (req->command) {
	case PC_CONTROL_LOAD:
		if (!name_ok(&words[1]) || !number(&words[2], UINT32_MAX, &value))
			return PC_ESYNTAX;
		req->load = (uint32_t)value;
		req->server = words[1].text;
		req->server_len = words[1].len;
		break;
	case PC_CONTROL_DRAIN:
	case PC_CONTROL_UNDRAIN:
		if (!name_ok(&words[1]))
			return PC_ESYNTAX;
		req->server = words[1].text;
		req->server_len = words[1].len;
		break;
	case PC_CONTROL_PUSH:
		if (!number(&words[1], PC_CONTROL_PUSH_MAX, &value)) {
			*why = "push LENGTH: a decimal number of bytes, at most 16 MiB";
			return PC_ESYNTAX;
		}
		req->push_len = (size_t)value;
		break;
	default:
		break;
	}
	*why = NULL;
	return PC_OK;
}
