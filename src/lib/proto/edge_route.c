/* See edge_route.h. */
#include "lib/proto/edge_route.h"

#include <string.h>
#include <strings.h>

#include "lib/base/err.h"

static bool in_hosts(const char *const *hosts, uint32_t n, const char *host, size_t len)
{
	for (uint32_t i = 0; i < n; i++)
		if (strlen(hosts[i]) == len && strncasecmp(hosts[i], host, len) == 0)
			return true;
	return false;
}

/* The provider one of whose origin or directory hosts host is. */
static bool find_provider(const pc_model *model, const char *host, size_t len,
                          struct pc_edge_route *out)
{
	if (len == 0)
		return false;
	for (uint32_t i = 0; i < model->n_providers; i++) {
		const struct pc_provider *p = &model->providers[i];
		bool origin = in_hosts(p->origin_hosts, p->n_origin_hosts, host, len);
		if (origin || in_hosts(p->directory_hosts, p->n_directory_hosts, host, len)) {
			out->provider = i;
			out->directory = !origin;
			out->host = host;
			out->host_len = len;
			return true;
		}
	}
	return false;
}

int pc_edge_route(const pc_model *model, const char *target, size_t target_len, const char *host,
                  size_t host_len, struct pc_edge_route *out)
{
	const char *end = target + target_len, *path;
	if (target_len >= 7 && strncasecmp(target, "http://", 7) == 0) {
		host = target + 7; /* absolute-form: the Host field does not count */
		path = memchr(host, '/', (size_t)(end - host));
		if (path == NULL)
			path = end;
		host_len = (size_t)(path - host);
		const char *at = memchr(host, '@', host_len);
		if (at != NULL) /* userinfo: not ours to interpret */
			return PC_ESYNTAX;
	} else if (target_len > 0 && target[0] == '/') {
		path = target;
	} else {
		return PC_ESYNTAX;
	}
	if (host != NULL) { /* the port is the edge's, not the content's */
		const char *colon = memchr(host, ':', host_len);
		if (colon != NULL)
			host_len = (size_t)(colon - host);
	}
	/* The CDN form first: the first path segment names the content host. */
	const char *seg = path < end ? path + 1 : end, *seg_end = seg;
	while (seg_end < end && *seg_end != '/' && *seg_end != '?')
		seg_end++;
	if (find_provider(model, seg, (size_t)(seg_end - seg), out)) {
		out->path = seg_end;
		out->path_len = (size_t)(end - seg_end);
		return 0;
	}
	if (host != NULL && find_provider(model, host, host_len, out)) {
		out->path = path;
		out->path_len = (size_t)(end - path);
		return 0;
	}
	return PC_ENOORIGIN;
}

int pc_edge_key(const struct pc_edge_route *route, char *out, size_t size)
{
	bool slash = route->path_len == 0 || route->path[0] != '/';
	size_t need = route->host_len + slash + route->path_len + 1;
	if (need > size)
		return PC_ESPACE;
	for (size_t i = 0; i < route->host_len; i++) {
		char c = route->host[i];
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	size_t n = route->host_len;
	if (slash)
		out[n++] = '/';
	memcpy(out + n, route->path, route->path_len);
	n += route->path_len;
	out[n] = '\0';
	return (int)n;
}
