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

#include "lib/base/err.h"
#include "lib/model/config.h"
#include "lib/policy/affinity.h"
#include "lib/proto/control_settings.h"
#include "lib/proto/dns_settings.h"
#include "node/log.h"
#include "node/metrics.h"
#include "node/node.h"
#include "node/worker.h"

static void usage(FILE *out)
{
	fputs("usage: peercdnd [-c FILE] [-n NODE] [-t] [-v] [-V] [-h|--help]\n"
	      "  -c FILE  config file (default: the embedded demo federation)\n"
	      "  -n NODE  run as this node of the config (default: its `self`)\n"
	      "  -t       check the config and exit: 0 good, 1 bad\n"
	      "  -v       debug logging\n"
	      "  -V       print the version\n"
	      "  -h, --help  print this and exit\n",
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

/* The sections the loader reads: every role's, then the node's own. */
static const struct pc_section *sections[PC_MAX_ROLES + 2];

static void list_sections(void)
{
	unsigned n = 0;
	for (unsigned r = 0; pcd_roles[r] != NULL; r++)
		sections[n++] = pcd_roles[r]->settings;
	sections[n++] = &pc_control_section;
	sections[n] = NULL;
}

/* now_ms: the load time, the default SOA serial. */
static pc_config *load_config(const char *path, bool to_log, uint64_t now_ms)
{
	struct diag_ctx diag = {.to_log = to_log};
	struct pc_config_options opts = {
	    .self_node = node_name,
	    .load_time_s = (uint32_t)(now_ms / 1000),
	    .sections = sections,
	};
	pc_config *config = NULL;
	pc_config_load_path(path, &opts, print_diag, &diag, &config);
	return config;
}

static void generation_free(struct pcd_generation *gen)
{
	if (gen == NULL)
		return;
	pcd_rooms_generation_free(gen);
	pc_affinity_free(gen->affinity);
	pc_live_free(gen->live);
	pc_config_free(gen->config);
	free(gen);
}

/* Takes config (freed on failure). */
static struct pcd_generation *generation_new(struct pcd_node *node, pc_config *config,
                                             uint64_t loaded_at_ms,
                                             const struct pcd_generation *old)
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
	    pcd_rooms_generation_new(node, gen) != 0) {
		generation_free(gen);
		return NULL;
	}
	if (old != NULL)
		pc_live_carry(gen->live, old->live);
	return gen;
}

static void reload(struct pcd_node *node)
{
	const char *source = node->config_path ? node->config_path : PC_DEFAULT_CONFIG_NAME;
	pcd_log(PCD_LOG_INFO, "reload-started", "config=%s", source);
	uint64_t now_ms = pcd_now_ms();
	pc_config *config = load_config(node->config_path, true, now_ms);
	struct pcd_generation *old = node->generation;
	struct pcd_generation *fresh =
	    config != NULL ? generation_new(node, config, now_ms, old) : NULL;
	if (fresh == NULL) {
		atomic_fetch_add(&node->reload_failures, 1);
		pcd_log(PCD_LOG_ERROR, "reload-rejected",
		        "config=%s generation=%llu hint=\"the previous config keeps serving\"",
		        source, (unsigned long long)old->number);
		return;
	}
	if (pcd_rooms_need_restart(old, fresh) ||
	    pcd_metrics_needs_restart(old->control, fresh->control))
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
	/* dns.workers is the node's: the DNS section has held it from the start. */
	uint32_t workers = pc_dns_settings(gen->config)->workers;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = workers ? workers : (unsigned)(cores > 0 ? cores : 1);
	return n > PC_MAX_WORKERS ? PC_MAX_WORKERS : n;
}

/* Workers first, then the metrics thread (the last reader of the roles'
 * counters), then the roles' state. */
static void shutdown_node(struct pcd_node *node, pthread_t *threads, unsigned started,
                          struct metrics_server *metrics)
{
	atomic_store(&node->stopping, true);
	for (unsigned w = 0; w < node->n_workers; w++)
		pcd_worker_wake(&node->workers[w]);
	for (unsigned w = 0; w < started; w++)
		pthread_join(threads[w], NULL);
	pcd_metrics_stop(metrics);
	for (unsigned w = 0; w < node->n_workers; w++) {
		pcd_rooms_close(node, &node->workers[w]);
		pcd_worker_release(&node->workers[w]);
	}
	pcd_rooms_stop(node);
}

/* "dns, cdsr, http, rtsp": the roles a config may enable. */
static const char *role_names(char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (unsigned r = 0; pcd_roles[r] != NULL && used < size; r++) {
		int n =
		    snprintf(buf + used, size - used, "%s%s", r ? ", " : "", pcd_roles[r]->name);
		used += n > 0 ? (size_t)n : 0;
	}
	return buf;
}

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	bool check_only = false;
	/* --help as GNU tools have it; everything else is a short option. */
	static const struct option long_options[] = {{"help", no_argument, NULL, 'h'},
	                                             {NULL, 0, NULL, 0}};
	int opt;
	while ((opt = getopt_long(argc, argv, "c:n:tvVh", long_options, NULL)) != -1) {
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
	list_sections();
	uint64_t now_ms = pcd_now_ms();
	pc_config *config = load_config(config_path, !check_only, now_ms);
	if (check_only) {
		if (config == NULL || pcd_roles_check_host(config, source, stderr) > 0) {
			fprintf(stderr, "%s: config rejected\n", source);
			pc_config_free(config);
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
	pcd_rooms_init(&node);
	node.generation = generation_new(&node, config, now_ms, NULL);
	if (node.generation == NULL)
		return 1;
	const struct pcd_generation *gen = node.generation;
	if (!pcd_rooms_any_enabled(gen)) {
		char names[128];
		pcd_log(PCD_LOG_ERROR, "no-roles",
		        "config=%s hint=\"enable a role (%s) in the config\"", source,
		        role_names(names, sizeof(names)));
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
	if (pcd_rooms_start(&node) != 0)
		goto out;
	for (unsigned w = 0; w < node.n_workers; w++)
		if (pcd_worker_init(&node, &node.workers[w], w) != 0 ||
		    pcd_rooms_open(&node, &node.workers[w]) != 0)
			goto out;
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
	shutdown_node(&node, threads, started, metrics);
	generation_free(node.generation);
	if (status == 0)
		pcd_log(PCD_LOG_INFO, "stopped", "pid=%ld", (long)getpid());
	return status;
}
