/* libFuzzer target: the edge's URL-to-upstream mapping (pc_edge_route and
 * pc_edge_key) over the embedded default federation. The input is a
 * request-target, then optionally a newline and a Host value. Besides not
 * crashing or reading past the input: a route's spans lie inside the
 * input, it names a provider whose origin or directory host is its host,
 * and the key is the lower-cased host and the path, exactly, or does not
 * fit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/base/err.h"
#include "lib/model/config.h"
#include "lib/proto/edge_route.h"
#include "lib/proto/sections.h"

static pc_config *config; /* loaded once: fuzz targets may keep state */
static const pc_model *model;
static const struct pc_config_options fuzz_options = {.source = "default",
                                                      .sections = pc_role_sections};

static void setup(void)
{
	if (pc_config_load(pc_default_config_yaml, pc_default_config_yaml_len, &fuzz_options, NULL,
	                   NULL, &config) != 0)
		abort();
	model = pc_config_model(config);
}

static void check_span(const uint8_t *data, size_t size, const char *at, size_t len)
{
	if (len > 0 &&
	    (at == NULL || (const uint8_t *)at < data || (const uint8_t *)at + len > data + size))
		abort();
}

static bool listed(const char *const *hosts, uint32_t n, const char *host, size_t len)
{
	for (uint32_t i = 0; i < n; i++)
		if (strlen(hosts[i]) == len && strncasecmp(hosts[i], host, len) == 0)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (model == NULL)
		setup();
	const char *in = (const char *)data;
	const char *nl = memchr(in, '\n', size);
	size_t target_len = nl != NULL ? (size_t)(nl - in) : size;
	const char *host = nl != NULL ? nl + 1 : NULL;
	size_t host_len = nl != NULL ? size - target_len - 1 : 0;
	struct pc_edge_route r;
	if (pc_edge_route(model, in, target_len, host, host_len, &r) != 0)
		return 0;
	check_span(data, size, r.host, r.host_len);
	check_span(data, size, r.path, r.path_len);
	if (r.provider >= model->n_providers || r.host_len == 0)
		abort();
	const struct pc_provider *p = &model->providers[r.provider];
	if (!listed(r.directory ? p->directory_hosts : p->origin_hosts,
	            r.directory ? p->n_directory_hosts : p->n_origin_hosts, r.host, r.host_len))
		abort();
	char key[512];
	for (size_t room = 1; room <= sizeof(key); room *= 2) {
		int n = pc_edge_key(&r, key, room);
		if (n == PC_ESPACE)
			continue;
		bool slash = r.path_len == 0 || r.path[0] != '/';
		if (n < 0 || (size_t)n != r.host_len + slash + r.path_len || (size_t)n >= room ||
		    key[n] != '\0' || strncasecmp(key, r.host, r.host_len) != 0 ||
		    memcmp(key + r.host_len + slash, r.path, r.path_len) != 0)
			abort();
		for (size_t i = 0; i < r.host_len; i++)
			if (key[i] >= 'A' && key[i] <= 'Z')
				abort();
		break;
	}
	return 0;
}
