/* xdp_listen: see xdp_listen.h. */
#include "lib/proto/xdp_listen.h"

#include <string.h>

bool pc_xdp_listen_parse(const char *text, struct pc_xdp_listen *out)
{
	const char *at = strrchr(text, '@');
	if (at == NULL)
		return false;
	size_t name_len = (size_t)(at - text);
	if (name_len == 0 || name_len >= PC_XDP_IFNAMSIZ)
		return false;
	if ((name_len == 1 && text[0] == '.') || (name_len == 2 && !memcmp(text, "..", 2)))
		return false;
	for (size_t i = 0; i < name_len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c <= ' ' || c >= 0x7f || c == '/' || c == ':' || c == '@')
			return false;
	}
	const char *digits = at + 1;
	size_t n_digits = strlen(digits);
	if (n_digits == 0 || n_digits > 5)
		return false;
	uint32_t port = 0;
	for (size_t i = 0; i < n_digits; i++) {
		if (digits[i] < '0' || digits[i] > '9')
			return false;
		port = port * 10 + (uint32_t)(digits[i] - '0');
	}
	if (port == 0 || port > UINT16_MAX)
		return false;
	memcpy(out->iface, text, name_len);
	out->iface[name_len] = '\0';
	out->port = (uint16_t)port;
	return true;
}

const char *pc_xdp_listen_check(const void *field)
{
	const char *text;
	memcpy(&text, field, sizeof(text));
	struct pc_xdp_listen parsed;
	return pc_xdp_listen_parse(text, &parsed)
	           ? NULL
	           : "expected IFACE@PORT (an interface name of 1-15 characters, a port 1-65535)";
}
