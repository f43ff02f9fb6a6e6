/* The Prometheus endpoint: GET /metrics over plain HTTP/1.0 on its own
 * thread, one short request at a time (scrapes come every few seconds;
 * this never competes with the answer path). */
#include "node/metrics.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "lib/model/live.h"
#include "node/log.h"
#include "node/net.h"

static void write_metrics(struct pcd_node *node, FILE *out)
{
	struct pcd_generation *gen = pcd_node_generation(node);
	const pc_model *model = gen->model;
	fprintf(out,
	        "# HELP peercdn_build_info peercdnd version.\n"
	        "# TYPE peercdn_build_info gauge\n"
	        "peercdn_build_info{version=\"%s\"} 1\n"
	        "# TYPE peercdn_config_generation gauge\n"
	        "peercdn_config_generation %llu\n"
	        "# TYPE peercdn_config_loaded_timestamp_seconds gauge\n"
	        "peercdn_config_loaded_timestamp_seconds %llu\n"
	        "# TYPE peercdn_reloads_total counter\n"
	        "peercdn_reloads_total %llu\n"
	        "# TYPE peercdn_reload_failures_total counter\n"
	        "peercdn_reload_failures_total %llu\n"
	        "# TYPE peercdn_workers gauge\n"
	        "peercdn_workers %u\n",
	        PEERCDN_VERSION, (unsigned long long)gen->number,
	        (unsigned long long)(gen->loaded_at_ms / 1000),
	        (unsigned long long)atomic_load(&node->reloads),
	        (unsigned long long)atomic_load(&node->reload_failures), node->n_workers);
	fputs("# HELP peercdn_agreement_decisions_total PEER decisions counted against an "
	      "agreement (this config generation).\n"
	      "# TYPE peercdn_agreement_decisions_total counter\n",
	      out);
	for (uint32_t a = 0; a < model->n_agreements; a++)
		fprintf(out, "peercdn_agreement_decisions_total{agreement=\"%s\"} %llu\n",
		        model->agreements[a].name,
		        (unsigned long long)pc_live_agreement_total(gen->live, a));
	for (unsigned r = 0; pcd_roles[r] != NULL; r++)
		if (pcd_roles[r]->metrics != NULL && pcd_role_enabled(r, gen))
			pcd_roles[r]->metrics(&node->rooms[r], out);
}

static void serve_one(struct pcd_node *node, int fd)
{
	char request[2048];
	size_t used = 0;
	/* Read the request head, a second at most. */
	while (used < sizeof(request) - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 1000) <= 0)
			return;
		ssize_t n = recv(fd, request + used, sizeof(request) - 1 - used, 0);
		if (n <= 0)
			return;
		used += (size_t)n;
		request[used] = '\0';
		if (strstr(request, "\r\n\r\n") != NULL || strstr(request, "\n\n") != NULL)
			break;
	}
	char *body = NULL;
	size_t body_len = 0;
	const char *status = "404 Not Found";
	if (strncmp(request, "GET /metrics ", 13) == 0 ||
	    strncmp(request, "GET /metrics?", 13) == 0) {
		FILE *out = open_memstream(&body, &body_len);
		if (out == NULL)
			return;
		rcu_thread_online();
		write_metrics(node, out);
		rcu_thread_offline();
		fclose(out);
		status = "200 OK";
	}
	char head[256];
	int head_len = snprintf(head, sizeof(head),
	                        "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
	                        "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	                        status, body_len);
	if (send(fd, head, (size_t)head_len, MSG_NOSIGNAL) == head_len && body_len > 0)
		(void)!send(fd, body, body_len, MSG_NOSIGNAL);
	free(body);
}

struct metrics_server {
	struct pcd_node *node;
	int fd;
	int wake; /* an eventfd: a stop need not wait for a poll's timeout */
	pthread_t thread;
};

static void *metrics_main(void *arg)
{
	struct metrics_server *server = arg;
	rcu_register_thread();
	rcu_thread_offline();
	while (!atomic_load(&server->node->stopping)) {
		struct pollfd p[2] = {{.fd = server->fd, .events = POLLIN},
		                      {.fd = server->wake, .events = POLLIN}};
		if (poll(p, 2, 1000) <= 0 || !(p[0].revents & POLLIN))
			continue;
		int fd = accept4(server->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_one(server->node, fd);
		close(fd);
	}
	rcu_thread_online();
	rcu_unregister_thread();
	return NULL;
}

int pcd_metrics_start(struct pcd_node *node, struct metrics_server **out)
{
	const struct pcd_generation *gen = pcd_node_generation(node);
	const pc_model *model = gen->model;
	const struct pc_control_params *control = gen->control;
	*out = NULL;
	if (!control->metrics_enabled)
		return 0;
	/* Each node of a shared federation file has its own unicast address,
	 * so one metrics port serves them all. */
	pc_addr address = control->metrics_address;
	if (address.family == PC_AF_NONE && model->self_node != PC_NONE &&
	    model->nodes[model->self_node].addresses.count > 0)
		address = model->nodes[model->self_node].addresses.items[0];
	if (address.family == PC_AF_NONE)
		pc_addr_parse("127.0.0.1", &address);
	char where[80];
	pcd_net_format(&address, control->metrics_port, where, sizeof(where));
	int fd = pcd_net_bind(SOCK_STREAM, &address, control->metrics_port);
	if (fd < 0) {
		pcd_log(PCD_LOG_ERROR, "metrics-bind-failed", "listen=%s error=\"%s\"", where,
		        strerror(-fd));
		return fd;
	}
	/* The accept loop polls; a blocking accepted socket is simpler to serve. */
	struct metrics_server *server = calloc(1, sizeof(*server));
	if (server == NULL) {
		close(fd);
		return -ENOMEM;
	}
	server->node = node;
	server->fd = fd;
	server->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (server->wake < 0 || pthread_create(&server->thread, NULL, metrics_main, server) != 0) {
		if (server->wake >= 0)
			close(server->wake);
		close(fd);
		free(server);
		return -EAGAIN;
	}
	pcd_log(PCD_LOG_INFO, "metrics-listening", "listen=%s path=/metrics", where);
	*out = server;
	return 0;
}

bool pcd_metrics_needs_restart(const struct pc_control_params *old,
                               const struct pc_control_params *fresh)
{
	return old->metrics_enabled != fresh->metrics_enabled ||
	       old->metrics_port != fresh->metrics_port;
}

void pcd_metrics_stop(struct metrics_server *server)
{
	if (server == NULL)
		return;
	uint64_t one = 1;
	ssize_t sent = write(server->wake, &one, sizeof(one)); /* or the poll's timeout */
	(void)sent;
	pthread_join(server->thread, NULL);
	close(server->wake);
	close(server->fd);
	free(server);
}
