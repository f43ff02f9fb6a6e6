/* generation: loading a config into a generation and swapping it in. See
 * generation.h; the RCU rules are in node.h. */
#include "node/generation.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "lib/base/err.h"
#include "lib/policy/affinity.h"
#include "lib/proto/control_settings.h"
#include "node/log.h"
#include "node/metrics.h"

static const struct pc_section *sections[PC_MAX_ROLES + 2];

void pcd_generation_sections_init(void)
{
	unsigned n = 0;
	for (unsigned r = 0; pcd_roles[r] != NULL; r++)
		sections[n++] = pcd_roles[r]->settings;
	sections[n++] = &pc_control_section;
	sections[n] = NULL;
}

static struct pc_config_options load_options(const char *self_node, uint64_t now_ms)
{
	return (struct pc_config_options){
	    .self_node = self_node,
	    .load_time_s = (uint32_t)(now_ms / 1000),
	    .sections = sections,
	};
}

pc_config *pcd_config_load(const char *path, const char *self_node, uint64_t now_ms,
                           pc_config_diag_fn diag, void *diag_ctx)
{
	struct pc_config_options opts = load_options(self_node, now_ms);
	pc_config *config = NULL;
	pc_config_load_path(path, &opts, diag, diag_ctx, &config);
	return config;
}

void pcd_generation_free(struct pcd_generation *gen)
{
	if (gen == NULL)
		return;
	pcd_rooms_generation_free(gen);
	pc_affinity_free(gen->affinity);
	pc_hosts_free(gen->hosts);
	pc_live_free(gen->live);
	pc_config_free(gen->config);
	free(gen);
}

struct pcd_generation *pcd_generation_new(struct pcd_node *node, pc_config *config,
                                          uint64_t loaded_at_ms, const struct pcd_generation *old)
{
	struct pcd_generation *gen = calloc(1, sizeof(*gen));
	if (gen == NULL) {
		pc_config_free(config);
		return NULL;
	}
	gen->config = config;
	gen->model = pc_config_model(config);
	for (unsigned r = 0; pcd_roles[r] != NULL; r++)
		gen->settings[r] = pc_config_settings(config, pcd_roles[r]->settings);
	gen->control = pc_control_settings(config);
	gen->loaded_at_ms = loaded_at_ms;
	gen->number = old != NULL ? old->number + 1 : 1;
	/* About a thousand objects per server, at most a million (8 MiB);
	 * a memory lasts five minutes. */
	size_t affinity_slots = (size_t)gen->model->n_servers * 1024;
	if (affinity_slots > ((size_t)1 << 20))
		affinity_slots = (size_t)1 << 20;
	if (pc_live_new(gen->model, &gen->live) != PC_OK ||
	    pc_affinity_new(affinity_slots, 300, &gen->affinity) != PC_OK ||
	    pc_hosts_new(gen->model, &gen->hosts) != PC_OK ||
	    pcd_rooms_generation_new(node, gen) != 0) {
		pcd_generation_free(gen);
		return NULL;
	}
	if (old != NULL)
		pc_live_carry(gen->live, old->live);
	return gen;
}

/* ---- replacing ---- */

struct replace_diag {
	pc_config_diag_fn to; /* the caller's, or NULL */
	void *ctx;
};

static void log_diag(void *ctx, const char *message)
{
	struct replace_diag *d = ctx;
	char quoted[1024];
	pcd_log(PCD_LOG_ERROR, "config-error", "detail=%s",
	        pcd_log_quote(message, quoted, sizeof(quoted)));
	if (d->to != NULL)
		d->to(d->ctx, message);
}

static void say(struct replace_diag *d, const char *fmt, const char *a, const char *b)
{
	char message[512];
	snprintf(message, sizeof(message), fmt, a, b);
	log_diag(d, message);
}

static int write_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes text over path the crash-safe way: a new file beside it, synced,
 * renamed over it, and the directory synced, so path holds the old config
 * or the new one, never a part. */
static int write_config(const char *path, const char *text, size_t len)
{
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.push-%ld", path, (long)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	int rc = write_all(fd, text, len);
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	char dir_buf[4096];
	snprintf(dir_buf, sizeof(dir_buf), "%s", path);
	int dir = open(dirname(dir_buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir >= 0) {
		(void)fsync(dir);
		close(dir);
	}
	return 0;
}

/* The config a reload reads: the last push when there is no file. */
static pc_config *load_current(struct pcd_node *node, uint64_t now_ms, struct replace_diag *d)
{
	if (node->config_path == NULL && node->pushed_text != NULL) {
		struct pc_config_options opts = load_options(node->self_name, now_ms);
		opts.source = "push";
		pc_config *config = NULL;
		pc_config_load(node->pushed_text, node->pushed_len, &opts, log_diag, d, &config);
		return config;
	}
	return pcd_config_load(node->config_path, node->self_name, now_ms, log_diag, d);
}

/* Under node->reload_lock: makes the new generation, or says why not. */
static int replace_locked(struct pcd_node *node, const char *text, size_t len,
                          struct replace_diag *d)
{
	const char *source = node->config_path ? node->config_path : PC_DEFAULT_CONFIG_NAME;
	const char *how = text != NULL ? "push" : "reload";
	if (text != NULL)
		pcd_log(PCD_LOG_INFO, "push-started", "config=%s bytes=%zu", source, len);
	else
		pcd_log(PCD_LOG_INFO, "reload-started", "config=%s", source);
	uint64_t now_ms = pcd_now_ms();
	pc_config *config = NULL;
	if (text != NULL) {
		struct pc_config_options opts = load_options(node->self_name, now_ms);
		opts.source = "push";
		pc_config_load(text, len, &opts, log_diag, d, &config);
	} else {
		config = load_current(node, now_ms, d);
	}
	struct pcd_generation *old = node->generation;
	if (config == NULL)
		return PC_ECONFIG;
	struct pcd_generation *fresh = pcd_generation_new(node, config, now_ms, old);
	if (fresh == NULL) {
		say(d, "%s: %s", how, "out of memory making the new generation");
		return PC_ENOMEM;
	}
	if (text != NULL) {
		/* Kept before it serves: what serves is what a restart loads. */
		int rc = 0;
		char *copy = NULL;
		if (node->config_path != NULL)
			rc = write_config(node->config_path, text, len);
		else if ((copy = malloc(len ? len : 1)) == NULL)
			rc = PC_ENOMEM;
		if (rc != 0) {
			say(d, "%s: cannot keep the pushed config: %s", source, pc_strerror(rc));
			pcd_generation_free(fresh);
			return rc;
		}
		if (copy != NULL) {
			memcpy(copy, text, len);
			free(node->pushed_text);
			node->pushed_text = copy;
			node->pushed_len = len;
		}
	}
	if (pcd_rooms_need_restart(old, fresh) ||
	    pcd_metrics_needs_restart(old->control, fresh->control) ||
	    strcmp(old->control->socket_path, fresh->control->socket_path) != 0)
		pcd_log(PCD_LOG_WARNING, "reload-sockets-unchanged",
		        "hint=\"listen addresses, ports, sockets and workers change on restart "
		        "only\"");
	rcu_xchg_pointer(&node->generation, fresh);
	synchronize_rcu(); /* every worker has let go of old */
	pcd_generation_free(old);
	atomic_fetch_add(&node->reloads, 1);
	pcd_log(PCD_LOG_INFO, text != NULL ? "pushed" : "reloaded",
	        "config=%s generation=%llu cdns=%u servers=%u", source,
	        (unsigned long long)fresh->number, fresh->model->n_cdns, fresh->model->n_servers);
	return 0;
}

int pcd_node_replace(struct pcd_node *node, const char *text, size_t len, pc_config_diag_fn diag,
                     void *diag_ctx, uint64_t *number)
{
	struct replace_diag d = {.to = diag, .ctx = diag_ctx};
	pthread_mutex_lock(&node->reload_lock);
	int rc = replace_locked(node, text, len, &d);
	if (rc != 0) {
		atomic_fetch_add(&node->reload_failures, 1);
		pcd_log(PCD_LOG_ERROR, text != NULL ? "push-rejected" : "reload-rejected",
		        "config=%s generation=%llu hint=\"the previous config keeps serving\"",
		        node->config_path ? node->config_path : PC_DEFAULT_CONFIG_NAME,
		        (unsigned long long)node->generation->number);
	}
	if (number != NULL)
		*number = node->generation->number;
	pthread_mutex_unlock(&node->reload_lock);
	return rc;
}
