/* libFuzzer target: pc_url_parse over the embedded default federation.
 * Besides not crashing or reading past the input: every span of a parsed
 * URL lies inside the input, the object is the content host and path, and
 * the byte-at-a-time reference parse gives the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "lib/model/config.h"
#include "lib/proto/sections.h"
#include "lib/base/err.h"
#include "lib/naming/naming.h"

static pc_config *config; /* loaded once: fuzz targets may keep state */
static const pc_model *model;
static const struct pc_config_options fuzz_options = {.source = "default",
                                                      .sections = pc_role_sections};

static void setup(void)
{
	if (sodium_init() < 0 || pc_config_load(pc_default_config_yaml, pc_default_config_yaml_len,
	                                        &fuzz_options, NULL, NULL, &config) != 0)
		abort();
	model = pc_config_model(config);
}

static void check_span(const uint8_t *data, size_t size, const char *at, uint32_t len)
{
	if (len == 0)
		return;
	if (at == NULL || (const uint8_t *)at < data || (const uint8_t *)at + len > data + size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (model == NULL)
		setup();
	pc_url u, ref;
	int rc = pc_url_parse(model, (const char *)data, size, &u);
	/* The vector scan and the byte-at-a-time one agree. */
	if (rc != pc__url_parse_reference(model, (const char *)data, size, &ref))
		abort();
	if (rc != PC_OK)
		return 0;
	if (u.host != ref.host || u.host_len != ref.host_len ||
	    u.content_host != ref.content_host || u.content_host_len != ref.content_host_len ||
	    u.path != ref.path || u.path_len != ref.path_len || u.query != ref.query ||
	    u.query_len != ref.query_len || u.port != ref.port || u.scheme != ref.scheme ||
	    u.form != ref.form || u.name.cdn != ref.name.cdn ||
	    u.name.provider != ref.name.provider || u.name.service != ref.name.service ||
	    strcmp(u.name.object, ref.name.object) != 0)
		abort();
	check_span(data, size, u.host, u.host_len);
	check_span(data, size, u.content_host, u.content_host_len);
	check_span(data, size, u.path, u.path_len);
	check_span(data, size, u.query, u.query_len);
	if (u.host_len == 0 || u.content_host_len == 0 ||
	    (u.form != PC_URL_ORIGIN && u.form != PC_URL_DIRECTORY) ||
	    (u.path_len > 0 && u.path[0] != '/'))
		abort();
	if (u.name.cdn >= model->n_cdns || u.name.provider >= model->n_providers ||
	    u.name.service >= model->n_services || strlen(u.name.object) != u.name.object_len ||
	    u.name.object_len != u.content_host_len + u.path_len ||
	    strncasecmp(u.name.object, u.content_host, u.content_host_len) != 0 ||
	    memcmp(u.name.object + u.content_host_len, u.path, u.path_len) != 0)
		abort();
	return 0;
}
