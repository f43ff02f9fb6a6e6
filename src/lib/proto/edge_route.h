/* edge_route: where an edge request goes — the URL-to-upstream mapping of
 * the patent's §3.2. A request names its content either in the CDN form,
 * the origin (or directory) host as the first path segment
 * (/www.foo.com/index.html), or in the plain form, a path under a Host
 * that is itself a configured origin host. Only hosts of configured
 * providers route: anything else is refused, so the edge is never an
 * open proxy. The cache key is the content host, lower-cased, and the
 * path with its query: two providers' /index.html never mix.
 *
 * Used by the edge for its requests and by ICP for the URLs legacy caches
 * ask about, so both name an object the same way. No I/O. */
#ifndef PC_LIB_EDGE_ROUTE_H
#define PC_LIB_EDGE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/model/model.h"

struct pc_edge_route {
	uint32_t provider; /* index in the model */
	bool directory;    /* the content host is a directory host, not an origin */
	const char *host;  /* the content host (a span of the input, any case) */
	size_t host_len;
	const char *path; /* from its '/', with the query; empty means "/" */
	size_t path_len;
};

/* Routes a request-target (origin-form "/...", or absolute-form
 * "http://host[:port]/...", whose host replaces the Host field) with the
 * Host field's value (NULL when absent). Returns 0, PC_ESYNTAX for a
 * target of another form, or PC_ENOORIGIN when no provider's origin or
 * directory host is named. */
int pc_edge_route(const pc_model *model, const char *target, size_t target_len, const char *host,
                  size_t host_len, struct pc_edge_route *out);

/* Writes the cache key of route, "<host><path>" with the host lower-cased
 * and "/" for an empty path, NUL-terminated. Returns its length, or
 * PC_ESPACE when size is too small. */
int pc_edge_key(const struct pc_edge_route *route, char *out, size_t size);

#endif
