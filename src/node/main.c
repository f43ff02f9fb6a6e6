/* peercdnd: the peercdn node daemon. Loads a config generation, opens the
 * sockets of every enabled role on every worker and the control socket,
 * and then only waits for signals: SIGHUP reloads (a bad file is rejected
 * and the old generation keeps serving), SIGTERM and SIGINT stop — after
 * the roles' goodbyes (the overlay's GOODBYE and its grace; a second
 * SIGTERM or SIGINT cuts them short). See peercdnd(8). */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/base/err.h"
#include "lib/model/config.h"
#include "lib/proto/control_settings.h"
#include "lib/proto/dns_settings.h"
#include "node/control_socket.h"
#include "node/generation.h"
#include "node/log.h"
#include "node/metrics.h"
#include "node/node.h"
#include "node/worker.h"

static void usage(FILE *out)
{
	fputs("usage: peercdnd [-c FILE] [-n NODE] [-S SOCKET] [-t] [-v] [-V] [-h|--help]\n"
	      "  -c FILE  config file (default: the embedded demo federation)\n"
	      "  -n NODE  run as this node of the config (default: its `self`)\n"
	      "  -S SOCKET  the control socket (default: control.socket, " PC_CONTROL_SOCKET_DEFAULT
	      ")\n"
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

/* now_ms: the load time, the default SOA serial. */
static pc_config *load_config(const char *path, const char *self_node, bool to_log, uint64_t now_ms)
{
	struct diag_ctx diag = {.to_log = to_log};
	return pcd_config_load(path, self_node, now_ms, print_diag, &diag);
}

static unsigned worker_count(const struct pcd_generation *gen)
{
	/* dns.workers is the node's: the DNS section has held it from the start. */
	uint32_t workers = pc_dns_settings(gen->config)->workers;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = workers ? workers : (unsigned)(cores > 0 ? cores : 1);
	return n > PC_MAX_WORKERS ? PC_MAX_WORKERS : n;
}

/* The control socket first (no command runs while the node stops), then
 * workers, then the metrics thread (the last reader of the roles'
 * counters), then the roles' state. */
static void shutdown_node(struct pcd_node *node, pthread_t *threads, unsigned started,
                          struct metrics_server *metrics, struct pcd_control_socket *control)
{
	pcd_control_socket_stop(control);
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

/* A clean stop's first part, while every worker still serves: the roles
 * say goodbye (role.h, leave), each within its own bound; a second
 * SIGTERM or SIGINT stops at once. */
static void say_goodbye(struct pcd_node *node, const sigset_t *signals)
{
	pcd_rooms_leave(node);
	while (!pcd_rooms_left(node)) {
		struct timespec poll = {.tv_nsec = 5 * 1000000L};
		int sig = sigtimedwait(signals, NULL, &poll);
		if (sig == SIGTERM || sig == SIGINT) {
			pcd_log(PCD_LOG_INFO, "stopping-now", "signal=%s",
			        sig == SIGTERM ? "TERM" : "INT");
			return;
		}
	}
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
	const char *config_path = NULL, *node_name = NULL, *socket_path = NULL;
	bool check_only = false;
	/* --help as GNU tools have it; everything else is a short option. */
	static const struct option long_options[] = {{"help", no_argument, NULL, 'h'},
	                                             {NULL, 0, NULL, 0}};
	int opt;
	while ((opt = getopt_long(argc, argv, "c:n:S:tvVh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'n':
			node_name = optarg;
			break;
		case 'S':
			socket_path = optarg;
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
	pcd_generation_sections_init();
	uint64_t now_ms = pcd_now_ms();
	pc_config *config = load_config(config_path, node_name, !check_only, now_ms);
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
	node.self_name = node_name;
	node.started_at_ms = now_ms;
	pthread_mutex_init(&node.reload_lock, NULL);
	pcd_rooms_init(&node);
	node.generation = pcd_generation_new(&node, config, now_ms, NULL);
	if (node.generation == NULL)
		return 1;
	const struct pcd_generation *gen = node.generation;
	if (!pcd_rooms_any_enabled(gen)) {
		char names[128];
		pcd_log(PCD_LOG_ERROR, "no-roles",
		        "config=%s hint=\"enable a role (%s) in the config\"", source,
		        role_names(names, sizeof(names)));
		pcd_generation_free(node.generation);
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
	struct pcd_control_socket *control = NULL;
	if (pcd_rooms_start(&node) != 0)
		goto out;
	for (unsigned w = 0; w < node.n_workers; w++)
		if (pcd_worker_init(&node, &node.workers[w], w) != 0 ||
		    pcd_rooms_open(&node, &node.workers[w]) != 0)
			goto out;
	if (pcd_metrics_start(&node, &metrics) != 0 ||
	    pcd_control_socket_start(&node, socket_path, &control) != 0)
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
			pcd_node_replace(&node, NULL, 0, NULL, NULL, NULL);
		} else if (sig == SIGTERM || sig == SIGINT) {
			pcd_log(PCD_LOG_INFO, "stopping", "signal=%s",
			        sig == SIGTERM ? "TERM" : "INT");
			say_goodbye(&node, &signals);
			status = 0;
			break;
		}
	}
out:
	if (status != 0)
		pcd_log(PCD_LOG_ERROR, "start-failed", "config=%s", source);
	shutdown_node(&node, threads, started, metrics, control);
	pcd_generation_free(node.generation);
	free(node.pushed_text);
	if (status == 0)
		pcd_log(PCD_LOG_INFO, "stopped", "pid=%ld", (long)getpid());
	return status;
}
