/* See redirect_hosts.h. Every entry is the walk's own answer for its host
 * at build time, so a hit cannot differ from a miss. */
#include "lib/proto/redirect_hosts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/arena.h"
#include "lib/base/err.h"
#include "lib/base/strmap.h"

struct host_name {
	uint32_t cdn, provider, service;
};

struct pc_redirect_hosts {
	pc_arena *arena; /* the map, its keys and the names */
	pc_strmap *map;  /* host -> index into names */
	struct host_name *names;
	uint32_t n_names;
};

/* Puts host (arena copy) when the walk gives a plain name for it: no
 * object, signature or encryption (a URL host with object labels is an
 * error, and signed or encrypted hosts are not enumerable anyway). */
static int add(pc_redirect_hosts *t, const pc_model *model, const char *host, size_t len)
{
	pc_name name;
	if (pc__name_parse(model, host, len, false, &name) != PC_OK || name.object_len != 0 ||
	    name.signature != PC_SIG_ABSENT || name.encrypted)
		return PC_OK;
	char *key = pc_arena_strndup(t->arena, host, len);
	if (key == NULL)
		return PC_ENOMEM;
	int rc = pc_strmap_put(t->map, key, len, t->n_names);
	if (rc == PC_EEXIST)
		return PC_OK;
	if (rc != PC_OK)
		return rc;
	t->names[t->n_names++] = (struct host_name){name.cdn, name.provider, name.service};
	return PC_OK;
}

static int build(pc_redirect_hosts *t, const pc_model *model)
{
	char host[PC_NAME_MAX + 2];
	for (uint32_t c = 0; c < model->n_cdns; c++) {
		const struct pc_cdn *cdn = &model->cdns[c];
		for (uint32_t p = 0; p < model->n_providers; p++) {
			const char *customer = model->providers[p].name;
			for (uint32_t s = 0; s <= model->n_services; s++) {
				const char *service =
				    s < model->n_services ? model->services[s].name : NULL;
				int n = service != NULL
				            ? snprintf(host, sizeof(host), "%s.%s.%.*s", service,
				                       customer, (int)cdn->domain_len, cdn->domain)
				            : snprintf(host, sizeof(host), "%s.%.*s", customer,
				                       (int)cdn->domain_len, cdn->domain);
				if (n <= 0 || (size_t)n >= sizeof(host))
					continue;
				int rc = add(t, model, host, (size_t)n);
				if (rc != PC_OK)
					return rc;
			}
		}
	}
	return PC_OK;
}

int pc_redirect_hosts_new(const pc_model *model, pc_redirect_hosts **out)
{
	*out = NULL;
	size_t capacity = (size_t)model->n_cdns * model->n_providers * (model->n_services + 1);
	pc_redirect_hosts *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return PC_ENOMEM;
	t->arena = pc_arena_new();
	if (t->arena != NULL) {
		t->map = pc_strmap_new(t->arena, capacity > 0 ? capacity : 1);
		t->names =
		    pc_arena_alloc(t->arena, (capacity > 0 ? capacity : 1) * sizeof(*t->names));
	}
	int rc = t->map != NULL && t->names != NULL ? build(t, model) : PC_ENOMEM;
	if (rc != PC_OK) {
		pc_redirect_hosts_free(t);
		return rc;
	}
	*out = t;
	return PC_OK;
}

void pc_redirect_hosts_free(pc_redirect_hosts *hosts)
{
	if (hosts == NULL)
		return;
	pc_arena_free(hosts->arena);
	free(hosts);
}

bool pc_redirect_hosts_find(const void *hosts, const char *host, size_t host_len, pc_name *out)
{
	const pc_redirect_hosts *t = hosts;
	uint32_t i;
	if (t == NULL || !pc_strmap_get(t->map, host, host_len, &i))
		return false;
	out->cdn = t->names[i].cdn;
	out->provider = t->names[i].provider;
	out->service = t->names[i].service;
	out->signature = PC_SIG_ABSENT;
	out->encrypted = false;
	out->object[0] = '\0';
	out->object_len = 0;
	return true;
}
