/* health_settings: the "health" section's keys and defaults; the names in
 * servers are checked against the federation's servers. */
#include "lib/proto/health_settings.h"

#include <string.h>

#include "lib/model/config_reader.h"
#include "lib/model/model.h"

const char *const pc_health_mode_names[] = {"http", "tcp", NULL};

/* An origin-form path (RFC 9112 §3.2.1) that goes into the probe's
 * request line as written: it starts with '/' and holds no space or
 * control character. */
static void read_probe_path(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	if (!pc__want_scalar(rd, "a path"))
		return;
	const char *text = pc__scalar(rd);
	size_t len = pc__scalar_len(rd);
	bool good = len > 0 && len <= 1024 && text[0] == '/';
	for (size_t i = 0; good && i < len; i++)
		good = (unsigned char)text[i] > ' ' && text[i] != 0x7f;
	if (!good) {
		pc__item_error(rd, "%s: %s is not a request path (/, /health, ...)", rd->key,
		               pc__quote_n(rd, text, len));
		return;
	}
	const char *copy = pc__strndup(rd, text, len);
	memcpy((char *)target + item->offset, &copy, sizeof(copy));
}

// clang-format off
static const struct pc_item health_items[] = {
	PC_BOOL("enabled", pc_health_params, enabled, false, "run the role"),
	PC_ENUM("mode", pc_health_params, mode, pc_health_mode_names, PC_HEALTH_MODE_HTTP,
	        "http: a GET whose status is below 500; tcp: a connection accepted"),
	PC_CUSTOM_AT("path", 0, pc_health_params, path, read_probe_path, 0, "path",
	             "the path an HTTP probe asks for", .default_doc = "`/`"),
	PC_UINT("port", pc_health_params, port, 0, UINT16_MAX, 0, NULL,
	        "the port probed", .default_doc = "0 (each server's http port)"),
	PC_MS("interval_ms", pc_health_params, interval_ms, 10, 3600000, 250,
	      "time between two probes of one server"),
	PC_MS("timeout_ms",  pc_health_params, timeout_ms,  10, 600000, 200,
	      "a probe that has not succeeded within this failed"),
	PC_UINT("fall", pc_health_params, fall, 1, 1000, 2, NULL,
	        "failed probes in a row that mark an up server down"),
	PC_UINT("rise", pc_health_params, rise, 1, 1000, 2, NULL,
	        "good probes in a row that mark a down server up"),
	PC_UINT("max_probes", pc_health_params, max_probes, 1, 65536, 64, NULL,
	        "probes in flight at once; more wait their turn"),
	PC_TEXTS("servers", pc_health_params, servers,
	         "names of the servers to watch", .type_doc = "list of server names",
	         .default_doc = "the servers of the CDNs this node serves"),
	PC_END,
};
// clang-format on

static void health_verify(void *settings, const struct pc_section_env *env)
{
	const struct pc_health_params *health = settings;
	const pc_model *m = env->model;
	for (uint32_t i = 0; i < health->servers.count; i++) {
		const char *name = health->servers.items[i];
		bool known = false;
		for (uint32_t s = 0; s < m->n_servers && !known; s++)
			known = m->servers[s].name != NULL && strcmp(m->servers[s].name, name) == 0;
		if (!known)
			pc_section_error(env, 0, 0, "health.servers: \"%.200s\" is no server",
			                 name);
	}
}

static int health_finish(void *settings, const struct pc_section_env *env)
{
	(void)env;
	struct pc_health_params *health = settings;
	if (health->path == NULL)
		health->path = "/";
	return 0;
}

const struct pc_section pc_health_section =
    PC_SETTINGS("health", pc_health_params, health_items, false,
                "the health role: probes servers and marks them down or up in the live state "
                "(docs/health.md)",
                .verify = health_verify, .finish = health_finish);

const struct pc_health_params *pc_health_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_health_section);
}
