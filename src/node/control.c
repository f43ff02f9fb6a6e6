/* control: the operator's commands (control.h, docs/control.md). They
 * read the generation under node->reload_lock instead of RCU: only a
 * holder of the lock replaces it, so it stays while the lock is held. */
#include "node/control.h"

#include <inttypes.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/err.h"
#include "lib/model/live.h"
#include "node/generation.h"
#include "node/overlay.h"

static const char *health_name(enum pc_health health)
{
	switch (health) {
	case PC_HEALTH_UP:
		return "up";
	case PC_HEALTH_DOWN:
		return "down";
	case PC_HEALTH_DRAINING:
		return "draining";
	}
	return "?";
}

static void print_time(FILE *out, const char *key, uint64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char text[32];
	gmtime_r(&s, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(out, "%s %s\n", key, text);
}

int pcd_control_status(struct pcd_node *node, FILE *out)
{
	pthread_mutex_lock(&node->reload_lock);
	const struct pcd_generation *gen = node->generation;
	const pc_model *model = gen->model;
	uint64_t now = pcd_now_ms();
	fprintf(out, "version %s\npid %ld\n", PEERCDN_VERSION, (long)getpid());
	print_time(out, "started", node->started_at_ms);
	fprintf(out, "uptime_s %" PRIu64 "\n",
	        now > node->started_at_ms ? (now - node->started_at_ms) / 1000 : 0);
	fprintf(out, "config %s\n",
	        node->config_path   ? node->config_path
	        : node->pushed_text ? "push"
	                            : PC_DEFAULT_CONFIG_NAME);
	fprintf(out, "self %s\n",
	        model->self_node != PC_NONE ? model->nodes[model->self_node].name : "-");
	fprintf(out, "generation %" PRIu64 "\n", gen->number);
	print_time(out, "loaded", gen->loaded_at_ms);
	fprintf(out, "reloads %" PRIu64 "\nreload_failures %" PRIu64 "\n",
	        (uint64_t)atomic_load(&node->reloads),
	        (uint64_t)atomic_load(&node->reload_failures));
	fputs("roles", out);
	unsigned n = 0;
	for (unsigned r = 0; pcd_roles[r] != NULL; r++)
		if (node->rooms[r].started) {
			fprintf(out, " %s", pcd_roles[r]->name);
			n++;
		}
	fputs(n == 0 ? " -\n" : "\n", out);
	fprintf(out, "workers %u\n", node->n_workers);
	fprintf(out, "cdns %" PRIu32 "\nservers %" PRIu32 "\n", model->n_cdns, model->n_servers);
	pthread_mutex_unlock(&node->reload_lock);
	return 0;
}

int pcd_control_servers(struct pcd_node *node, FILE *out)
{
	pthread_mutex_lock(&node->reload_lock);
	const struct pcd_generation *gen = node->generation;
	const pc_model *model = gen->model;
	for (uint32_t s = 0; s < model->n_servers; s++) {
		const struct pc_server *server = &model->servers[s];
		enum pc_health health = pc_live_health(gen->live, s);
		fprintf(out,
		        "%s cdn=%s health=%s drained=%s load=%" PRIu32 " capacity=%" PRIu32 "\n",
		        server->name, model->cdns[server->cdn].name, health_name(health),
		        health == PC_HEALTH_DRAINING ? "yes" : "no", pc_live_load(gen->live, s),
		        server->capacity);
	}
	pthread_mutex_unlock(&node->reload_lock);
	return 0;
}

/* The server's index in the serving generation (the lock held), or
 * PC_NONE with the line that says so. */
static uint32_t find_server(const struct pcd_generation *gen, const char *name, FILE *out)
{
	uint32_t s = pc_model_server(gen->model, name);
	if (s == PC_NONE)
		fprintf(out, "no server \"%s\" in config generation %" PRIu64 "\n", name,
		        gen->number);
	return s;
}

int pcd_control_load(struct pcd_node *node, const char *server, uint32_t load, FILE *out)
{
	pthread_mutex_lock(&node->reload_lock);
	const struct pcd_generation *gen = node->generation;
	uint32_t s = find_server(gen, server, out);
	if (s != PC_NONE) {
		pc_live_set_load(gen->live, s, load);
		fprintf(out, "%s load=%" PRIu32 " capacity=%" PRIu32 "\n", server, load,
		        gen->model->servers[s].capacity);
	}
	pthread_mutex_unlock(&node->reload_lock);
	return s != PC_NONE ? 0 : PC_ENOENT;
}

int pcd_control_drain(struct pcd_node *node, const char *server, bool drain, FILE *out)
{
	pthread_mutex_lock(&node->reload_lock);
	const struct pcd_generation *gen = node->generation;
	uint32_t s = find_server(gen, server, out);
	if (s != PC_NONE) {
		if (drain)
			pc_live_set_health(gen->live, s, PC_HEALTH_DRAINING);
		else
			pc_live_health_change(gen->live, s, PC_HEALTH_DRAINING, PC_HEALTH_UP);
		fprintf(out, "%s health=%s\n", server, health_name(pc_live_health(gen->live, s)));
	}
	pthread_mutex_unlock(&node->reload_lock);
	if (s != PC_NONE) /* and at every redirector of the server's CDN and its peers */
		pcd_overlay_drain(node, server, drain);
	return s != PC_NONE ? 0 : PC_ENOENT;
}

static void diag_line(void *ctx, const char *message)
{
	FILE *out = ctx;
	if (*message != '\0')
		fprintf(out, "%s\n", message);
}

/* Both end with the generation serving afterwards. */
int pcd_control_push(struct pcd_node *node, const char *text, size_t len, FILE *out)
{
	uint64_t number = 0;
	int rc = pcd_node_replace(node, text, len, diag_line, out, &number);
	fprintf(out, "generation %" PRIu64 "\n", number);
	if (rc == 0) /* the CDN's other routers apply it too */
		pcd_overlay_policy_pushed(node, text, len);
	return rc;
}

int pcd_control_reload(struct pcd_node *node, FILE *out)
{
	uint64_t number = 0;
	int rc = pcd_node_replace(node, NULL, 0, diag_line, out, &number);
	fprintf(out, "generation %" PRIu64 "\n", number);
	return rc;
}
