/* cors: CORS for the edge's live answers (lib/proto/cors.h). */
#include "lib/proto/cors.h"

#include <string.h>
#include <strings.h>

/* Browsers keep a preflight's answer at most this long anyway (Chromium
 * caps Access-Control-Max-Age at two hours), s. */
enum { PREFLIGHT_MAX_AGE = 7200 };

/* The provider's entry's origins: text after "<provider>=", or NULL. */
static const char *entry_of(const char *text, const char *provider)
{
	size_t n = strlen(provider);
	return strncmp(text, provider, n) == 0 && text[n] == '=' ? text + n + 1 : NULL;
}

enum pc_cors_allow pc_cors_allow(const struct pc_text_list *list, const char *provider,
                                 const char *origin, size_t origin_len)
{
	bool listed = false;
	for (uint32_t i = 0; i < list->count; i++) {
		const char *p = entry_of(list->items[i], provider);
		while (p != NULL && *p != '\0') {
			const char *end = strchr(p, ',');
			size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
			if (len == 1 && *p == '*')
				return PC_CORS_ANY;
			listed = true;
			if (origin != NULL && len == origin_len && strncasecmp(p, origin, len) == 0)
				return PC_CORS_ORIGIN;
			p = end != NULL ? end + 1 : NULL;
		}
	}
	return listed ? PC_CORS_DENY : PC_CORS_ANY;
}

/* Appends a string constant: no printf on a live answer's path. */
#define APPEND(out, literal) pc_buf_append(out, literal, sizeof(literal) - 1)

bool pc_cors_write(struct pc_buf *out, enum pc_cors_allow allow, const char *origin,
                   size_t origin_len)
{
	switch (allow) {
	case PC_CORS_ANY:
		return APPEND(out, "Access-Control-Allow-Origin: *\r\n");
	case PC_CORS_ORIGIN:
		return APPEND(out, "Access-Control-Allow-Origin: ") &&
		       pc_buf_append(out, origin, origin_len) &&
		       APPEND(out, "\r\nVary: Origin\r\n");
	case PC_CORS_DENY:
	default:
		return APPEND(out, "Vary: Origin\r\n");
	}
}

bool pc_cors_write_preflight(struct pc_buf *out, enum pc_cors_allow allow, const char *origin,
                             size_t origin_len)
{
	if (!pc_cors_write(out, allow, origin, origin_len))
		return false;
	if (allow == PC_CORS_DENY)
		return true; /* the browser fails the preflight: no more to say */
	/* Players send no other fields by default; Range is what one that
	 * seeks in a segment adds, the conditionals what a caching one does. */
	return pc_buf_printf(out,
	                     "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
	                     "Access-Control-Allow-Headers: Range, If-None-Match, "
	                     "If-Modified-Since, Cache-Control\r\n"
	                     "Access-Control-Max-Age: %d\r\n",
	                     PREFLIGHT_MAX_AGE);
}

static bool host_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '.' || ch == '_';
}

/* A serialized origin (RFC 6454 §6.2 as browsers send it): scheme "://"
 * host [":" port], the host a name, an IPv4 address or a bracketed IPv6
 * one. */
static bool origin_ok(const char *p, size_t len)
{
	size_t i;
	if (len > 7 && strncasecmp(p, "http://", 7) == 0)
		i = 7;
	else if (len > 8 && strncasecmp(p, "https://", 8) == 0)
		i = 8;
	else
		return false;
	size_t host = i;
	if (p[i] == '[') {
		while (i < len && p[i] != ']')
			i++;
		if (i == len || i == host + 1)
			return false;
		i++;
	} else {
		while (i < len && host_char(p[i]))
			i++;
		if (i == host)
			return false;
	}
	if (i < len && p[i] == ':') {
		size_t digits = ++i;
		while (i < len && p[i] >= '0' && p[i] <= '9')
			i++;
		if (i == digits || i - digits > 5)
			return false;
	}
	return i == len;
}

const char *pc_cors_check(const char *text)
{
	const char *eq = strchr(text, '=');
	if (eq == NULL || eq == text || eq[1] == '\0')
		return "not PROVIDER=ORIGIN[,ORIGIN...]";
	for (const char *p = eq + 1;;) {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (!(len == 1 && *p == '*') && !origin_ok(p, len))
			return "an origin is \"*\" or scheme://host[:port] (http or https, no "
			       "path)";
		if (end == NULL)
			return NULL;
		p = end + 1;
	}
}
