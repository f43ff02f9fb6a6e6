/* peercdnd: the peercdn node daemon. Loads a config generation, opens the
 * sockets of every enabled role on every worker, and then only waits for
 * signals: SIGHUP reloads (a bad file is rejected and the old generation
 * keeps serving), SIGTERM and SIGINT stop. See peercdnd(8). */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <urcu-qsbr.h>

#include "lib/model/config.h"
#include "lib/policy/affinity.h"
#include "lib/base/err.h"
#include "lib/proto/rrl.h"
#include "lib/proto/sections.h"
#include "node/log.h"
#include "node/metrics.h"
#include "node/node.h"
#include "node/worker.h"

static void usage(FILE *out)
{
	fputs("usage: peercdnd [-c FILE] [-n NODE] [-t] [-v] [-V]\n"
	      "  -c FILE  config file (default: the embedded demo federation)\n"
	      "  -n NODE  run as this node of the config (default: its `self`)\n"
	      "  -t       check the config and exit: 0 good, 1 bad\n"
	      "  -v       debug logging\n"
	      "  -V       print the version\n",
	      out);
}

struct diag_ctx {
	bool to_log; /* daemon: log lines; -t: plain lines */
};

static void print_diag(void *ctx, const char *message)
{
	struct diag_ctx *d = ctx;
	if (d->to_log) {
		char quoted[1024];
		pcd_log(PCD_LOG_ERROR, "config-error", "detail=%s",
		        pcd_log_quote(message, quoted, sizeof(quoted)));
	} else {
		fprintf(stderr, "%s\n", message);
	}
}

/* -n: the node this daemon is; NULL keeps the config's `self`. */
static const char *node_name;

/* now_ms: the load time, the default SOA serial. */
static pc_config *load_config(const char *path, bool to_log, uint64_t now_ms)
{
	struct diag_ctx diag = {.to_log = to_log};
	struct pc_config_options opts = {
	    .self_node = node_name,
	    .load_time_s = (uint32_t)(now_ms / 1000),
	    .sections = pc_role_sections,
	};
	pc_config *config = NULL;
	pc_config_load_path(path, &opts, print_diag, &diag, &config);
	return config;
}

static void generation_free(struct pcd_generation *gen)
{
	if (gen == NULL)
		return;
	pc_rrl_free(gen->rrl);
	pc_rrl_free(gen->cdsr_rrl);
	pc_affinity_free(gen->affinity);
	pc_live_free(gen->live);
	pc_config_free(gen->config);
	free(gen);
}

/* Takes config (freed on failure). */
static struct pcd_generation *generation_new(pc_config *config, uint64_t loaded_at_ms,
                                             const struct pcd_generation *old)
{
	struct pcd_generation *gen = calloc(1, sizeof(*gen));
	if (gen == NULL) {
		pc_config_free(config);
		return NULL;
	}
	gen->config = config;
	gen->model = pc_config_model(config);
	gen->dns = pc_dns_settings(config);
	gen->http = pc_http_settings(config);
	gen->rtsp = pc_rtsp_settings(config);
	gen->cdsr = pc_cdsr_settings(config);
	gen->control = pc_control_settings(config);
	gen->loaded_at_ms = loaded_at_ms;
	gen->number = old != NULL ? old->number + 1 : 1;
	const pc_model *model = gen->model;
	struct pc_rrl_params rrl = {
	    .rate = gen->dns->rrl_rate,
	    .slip = gen->dns->rrl_slip,
	    .prefix4 = gen->dns->rrl_prefix4,
	    .prefix6 = gen->dns->rrl_prefix6,
	};
	randombytes_buf(rrl.hash_key, sizeof(rrl.hash_key));
	/* CDSR: every second request over the rate gets RATE_LIMITED (the
	 * client backs off), the others are dropped. */
	struct pc_rrl_params cdsr_rrl = {
	    .rate = gen->cdsr->rate,
	    .slip = 2,
	    .prefix4 = gen->cdsr->prefix4,
	    .prefix6 = gen->cdsr->prefix6,
	};
	randombytes_buf(cdsr_rrl.hash_key, sizeof(cdsr_rrl.hash_key));
	/* About a thousand objects per server, at most a million (8 MiB);
	 * a memory lasts five minutes. */
	size_t affinity_slots = (size_t)model->n_servers * 1024;
	if (affinity_slots > ((size_t)1 << 20))
		affinity_slots = (size_t)1 << 20;
	if (pc_live_new(model, &gen->live) != PC_OK || pc_rrl_new(&rrl, &gen->rrl) != PC_OK ||
	    pc_rrl_new(&cdsr_rrl, &gen->cdsr_rrl) != PC_OK ||
	    pc_affinity_new(affinity_slots, 300, &gen->affinity) != PC_OK) {
		generation_free(gen);
		return NULL;
	}
	if (old != NULL)
		pc_live_carry(gen->live, old->live);
	return gen;
}

static bool same_list(const struct pc_addr_list *a, const struct pc_addr_list *b)
{
	if (a->count != b->count)
		return false;
	for (uint32_t i = 0; i < a->count; i++)
		if (!pc_addr_equal(&a->items[i], &b->items[i]))
			return false;
	return true;
}

/* What a reload cannot change without a restart: sockets. */
static bool same_sockets(const struct pcd_generation *a, const struct pcd_generation *b)
{
	return a->dns->enabled == b->dns->enabled && a->dns->port == b->dns->port &&
	       same_list(&a->dns->listen, &b->dns->listen) && a->dns->workers == b->dns->workers &&
	       a->http->enabled == b->http->enabled && a->http->port == b->http->port &&
	       same_list(&a->http->listen, &b->http->listen) &&
	       a->rtsp->enabled == b->rtsp->enabled && a->rtsp->port == b->rtsp->port &&
	       same_list(&a->rtsp->listen, &b->rtsp->listen) &&
	       a->cdsr->enabled == b->cdsr->enabled && a->cdsr->port == b->cdsr->port &&
	       same_list(&a->cdsr->listen, &b->cdsr->listen) &&
	       a->control->metrics_enabled == b->control->metrics_enabled &&
	       a->control->metrics_port == b->control->metrics_port;
}

static void reload(struct pcd_node *node)
{
	const char *source = node->config_path ? node->config_path : PC_DEFAULT_CONFIG_NAME;
	pcd_log(PCD_LOG_INFO, "reload-started", "config=%s", source);
	uint64_t now_ms = pcd_now_ms();
	pc_config *config = load_config(node->config_path, true, now_ms);
	struct pcd_generation *old = node->generation;
	struct pcd_generation *fresh = config != NULL ? generation_new(config, now_ms, old) : NULL;
	if (fresh == NULL) {
		atomic_fetch_add(&node->reload_failures, 1);
		pcd_log(PCD_LOG_ERROR, "reload-rejected",
		        "config=%s generation=%llu hint=\"the previous config keeps serving\"",
		        source, (unsigned long long)old->number);
		return;
	}
	if (!same_sockets(old, fresh))
		pcd_log(PCD_LOG_WARNING, "reload-sockets-unchanged",
		        "hint=\"listen addresses, ports and workers change on restart only\"");
	rcu_xchg_pointer(&node->generation, fresh);
	synchronize_rcu(); /* every worker has let go of old */
	generation_free(old);
	atomic_fetch_add(&node->reloads, 1);
	pcd_log(PCD_LOG_INFO, "reloaded", "config=%s generation=%llu cdns=%u servers=%u", source,
	        (unsigned long long)fresh->number, fresh->model->n_cdns, fresh->model->n_servers);
}

static unsigned worker_count(const struct pcd_generation *gen)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = gen->dns->workers ? gen->dns->workers : (unsigned)(cores > 0 ? cores : 1);
	return n > PC_MAX_WORKERS ? PC_MAX_WORKERS : n;
}

static void shutdown_node(struct pcd_node *node, pthread_t *threads, unsigned started)
{
	atomic_store(&node->stopping, true);
	for (unsigned w = 0; w < node->n_workers; w++)
		pcd_worker_wake(&node->workers[w]);
	for (unsigned w = 0; w < started; w++)
		pthread_join(threads[w], NULL);
	for (unsigned w = 0; w < node->n_workers; w++) {
		struct pcd_worker *worker = &node->workers[w];
		for (unsigned r = 0; pcd_roles[r] != NULL; r++) {
			if (worker->role_state[r] == NULL)
				continue;
			pcd_roles[r]->close(worker);
			free(worker->role_state[r]);
		}
		pcd_worker_release(worker);
	}
	for (unsigned r = 0; r < PC_MAX_ROLES; r++)
		free(node->role_shared[r]);
}

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	bool check_only = false;
	int opt;
	while ((opt = getopt(argc, argv, "c:n:tvVh")) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'n':
			node_name = optarg;
			break;
		case 't':
			check_only = true;
			break;
		case 'v':
			pcd_log_set_level(PCD_LOG_DEBUG);
			break;
		case 'V':
			printf("peercdnd %s\n", PEERCDN_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fputs("peercdnd: libsodium failed to initialise\n", stderr);
		return 1;
	}
	const char *source = config_path ? config_path : PC_DEFAULT_CONFIG_NAME;
	uint64_t now_ms = pcd_now_ms();
	pc_config *config = load_config(config_path, !check_only, now_ms);
	if (check_only) {
		if (config == NULL) {
			fprintf(stderr, "%s: config rejected\n", source);
			return 1;
		}
		printf("%s: ok\n", source);
		pc_config_free(config);
		return 0;
	}
	if (config == NULL) {
		pcd_log(PCD_LOG_ERROR, "config-rejected", "config=%s", source);
		return 1;
	}

	static struct pcd_node node;
	node.config_path = config_path;
	node.started_at_ms = now_ms;
	node.generation = generation_new(config, now_ms, NULL);
	if (node.generation == NULL)
		return 1;
	const struct pcd_generation *gen = node.generation;
	bool any_role = false;
	for (unsigned r = 0; pcd_roles[r] != NULL; r++)
		any_role |= pcd_roles[r]->enabled(gen);
	if (!any_role) {
		pcd_log(PCD_LOG_ERROR, "no-roles",
		        "config=%s hint=\"enable a role (dns, http, rtsp, cdsr) in the config\"",
		        source);
		generation_free(node.generation);
		return 1;
	}

	/* Workers inherit this mask; only the main thread takes signals. */
	sigset_t signals;
	sigemptyset(&signals);
	sigaddset(&signals, SIGHUP);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	node.n_workers = worker_count(gen);
	pthread_t threads[PC_MAX_WORKERS];
	unsigned started = 0;
	int status = 1;
	struct metrics_server *metrics = NULL;
	for (unsigned w = 0; w < node.n_workers; w++) {
		if (pcd_worker_init(&node, &node.workers[w], w) != 0)
			goto out;
		for (unsigned r = 0; pcd_roles[r] != NULL; r++)
			if (pcd_roles[r]->enabled(gen) &&
			    pcd_roles[r]->open(&node, &node.workers[w]) != 0)
				goto out;
	}
	if (pcd_metrics_start(&node, &metrics) != 0)
		goto out;
	for (; started < node.n_workers; started++)
		if (pthread_create(&threads[started], NULL, pcd_worker_main,
		                   &node.workers[started]) != 0)
			goto out;
	pcd_log(PCD_LOG_INFO, "started", "version=%s config=%s workers=%u pid=%ld self=%s",
	        PEERCDN_VERSION, source, node.n_workers, (long)getpid(),
	        gen->model->self_node != PC_NONE ? gen->model->nodes[gen->model->self_node].name
	                                         : "-");

	for (;;) {
		int sig = sigwaitinfo(&signals, NULL);
		if (sig == SIGHUP) {
			reload(&node);
		} else if (sig == SIGTERM || sig == SIGINT) {
			pcd_log(PCD_LOG_INFO, "stopping", "signal=%s",
			        sig == SIGTERM ? "TERM" : "INT");
			status = 0;
			break;
		}
	}
out:
	if (status != 0)
		pcd_log(PCD_LOG_ERROR, "start-failed", "config=%s", source);
	shutdown_node(&node, threads, started);
	pcd_metrics_stop(metrics);
	generation_free(node.generation);
	if (status == 0)
		pcd_log(PCD_LOG_INFO, "stopped", "pid=%ld", (long)getpid());
	return status;
}
