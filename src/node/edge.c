/* The edge role (the patent's §3.2–3.4): its room — the node-wide store
 * and access log, each worker's two connection engines (clients, and
 * upstreams: edge_fetch.c) and the eventfd that wakes it when an object
 * some client of it waits on has grown — its ICP look-up and its metrics.
 * What is said to clients is edge_client.c's. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/base/err.h"
#include "lib/proto/directory.h"
#include "lib/proto/edge_route.h"
#include "node/edge.h"
#include "node/edge_internal.h"
#include "node/log.h"
#include "node/net.h"
#include "node/edge_client.h"
#include "node/live.h"

extern const struct pcd_role pcd_role_edge;

enum { MAX_LISTEN = 16 };

/* ---- shared helpers ---- */

const struct pc_edge_params *edge_params(const struct edge_worker *ew)
{
	return pcd_room_settings(ew->room, pcd_node_generation(ew->room->node));
}

const char *edge_node_name(const struct edge_worker *ew)
{
	const pc_model *model = pcd_node_generation(ew->room->node)->model;
	return model->self_node < model->n_nodes ? model->nodes[model->self_node].name : "peercdn";
}

const char *edge_via(const struct edge_worker *ew)
{
	return ew->via;
}

void edge_wake(struct edge_shared *shared, struct pcd_object *object)
{
	uint64_t mask = atomic_exchange(pcd_object_waiters(object), 0);
	while (mask != 0) {
		unsigned i = (unsigned)__builtin_ctzll(mask);
		mask &= mask - 1;
		struct edge_worker *ew = shared->workers[i];
		if (ew != NULL && eventfd_write(ew->wake.fd, 1) != 0)
			pcd_log(PCD_LOG_ERROR, "edge-wake-failed", "worker=%u errno=%d", i, errno);
	}
}

/* ---- ICP's question ---- */

bool pcd_edge_load(struct pcd_node *node, uint64_t *clients, uint64_t *max_clients)
{
	size_t slot = 0;
	while (pcd_roles[slot] != NULL && pcd_roles[slot] != &pcd_role_edge)
		slot++;
	if (pcd_roles[slot] == NULL || node->rooms[slot].shared == NULL)
		return false;
	const struct edge_shared *shared = node->rooms[slot].shared;
	const struct pc_edge_params *params =
	    pcd_room_settings(&node->rooms[slot], pcd_node_generation(node));
	uint64_t open = 0;
	for (unsigned w = 0; w < node->n_workers; w++)
		if (shared->workers[w] != NULL)
			open += atomic_load_explicit(&shared->workers[w]->clients_open,
			                             memory_order_relaxed);
	*clients = open;
	*max_clients = (uint64_t)params->max_clients * node->n_workers;
	return true;
}

enum pcd_edge_icp pcd_edge_icp_lookup(struct pcd_node *node, const char *url, size_t len)
{
	size_t slot = 0;
	while (pcd_roles[slot] != NULL && pcd_roles[slot] != &pcd_role_edge)
		slot++;
	const struct pcd_room *room = &node->rooms[slot];
	struct edge_shared *shared = room->shared;
	struct pcd_generation *gen = pcd_node_generation(node);
	if (pcd_roles[slot] == NULL || shared == NULL || !pcd_role_enabled(slot, gen))
		return PCD_EDGE_ICP_DENIED;
	/* http://<edge>/<origin host>/<path> or http://<origin host>/<path>:
	 * the object a client of the edge would get for that URL. */
	struct pc_edge_route r;
	char key[EDGE_KEY_MAX];
	int n;
	if (pc_edge_route(gen->model, url, len, NULL, 0, &r) != 0 || r.directory ||
	    (n = pc_edge_key(&r, key, sizeof(key))) < 0)
		return PCD_EDGE_ICP_DENIED;
	/* HIT only for what the next request would be served from the store
	 * as it is (RFC 2187: Squid's own HIT needs the object fresh); one
	 * only on disk is not read for a datagram: held is all that is known. */
	bool on_disk;
	struct pcd_object *held = pcd_store_peek(shared->store, key, (size_t)n, &on_disk);
	if (held != NULL) {
		struct pcd_head *head = pcd_object_head(held);
		size_t meta_len;
		const struct edge_meta *meta = head ? pcd_head_meta(head, &meta_len) : NULL;
		bool fresh = meta != NULL && meta_len >= sizeof(*meta) &&
		             meta->version == EDGE_META_VERSION && !meta->error && meta->shared &&
		             !(meta->entry.flags & PC_CACHE_E_NO_CACHE) &&
		             pc_cache_entry_fresh(&meta->entry, (int64_t)(pcd_now_ms() / 1000));
		pcd_head_unref(head);
		pcd_object_unref(held);
		if (fresh)
			return PCD_EDGE_ICP_HIT;
	} else if (on_disk) {
		return PCD_EDGE_ICP_HIT;
	}
	/* Loaded: fetches in flight near the limit on the workers. */
	const struct pc_edge_params *params = pcd_room_settings(room, gen);
	unsigned busy = 0, workers = 0;
	for (unsigned i = 0; i < node->n_workers; i++)
		if (shared->workers[i] != NULL) {
			workers++;
			busy += shared->workers[i]->n_fetches;
		}
	return workers > 0 && busy >= (uint64_t)params->max_fetches * workers * 9 / 10
	           ? PCD_EDGE_ICP_MISS_NOFETCH
	           : PCD_EDGE_ICP_MISS;
}

/* ---- the role ---- */

static struct pcd_listen edge_listen(const void *settings)
{
	const struct pc_edge_params *params = settings;
	return (struct pcd_listen){params->enabled, params->port, &params->listen};
}

static bool edge_needs_restart(const void *old_settings, const void *new_settings)
{
	const struct pc_edge_params *a = old_settings, *b = new_settings;
	bool same_path = (a->disk_path == NULL) == (b->disk_path == NULL) &&
	                 (a->disk_path == NULL || strcmp(a->disk_path, b->disk_path) == 0);
	bool same_log = (a->access_log == NULL) == (b->access_log == NULL) &&
	                (a->access_log == NULL || strcmp(a->access_log, b->access_log) == 0);
	return a->memory_mb != b->memory_mb || a->max_object_mb != b->max_object_mb ||
	       a->disk_mb != b->disk_mb || !same_path || !same_log;
}

static const char *edge_start_node_name(const struct pcd_room *room)
{
	const pc_model *model = pcd_node_generation(room->node)->model;
	return model->self_node < model->n_nodes ? model->nodes[model->self_node].name : "peercdn";
}

static int edge_start(struct pcd_room *room)
{
	struct edge_shared *shared = calloc(1, sizeof(*shared));
	if (shared == NULL)
		return -ENOMEM;
	room->shared = shared;
	pthread_mutex_init(&shared->log_lock, NULL);
	const struct pc_edge_params *params =
	    pcd_room_settings(room, pcd_node_generation(room->node));
	struct pcd_store_params sp = {
	    .memory_bytes = (uint64_t)params->memory_mb << 20,
	    .max_object_bytes = (uint64_t)params->max_object_mb << 20,
	    .disk_path = params->disk_path,
	    .disk_bytes = (uint64_t)params->disk_mb << 20,
	};
	int err = live_hub_new(room->node, shared, &shared->live);
	if (err == 0)
		live_hub_start_cascades(shared->live, params);
	if (err == 0)
		err = pcd_conn_group_new(&shared->clients);
	if (err == 0)
		err = pcd_conn_group_new(&shared->upstreams);
	if (err == 0)
		err = edge_channels_new(shared, &shared->channels);
	if (err == 0 && (err = pcd_store_new(&sp, &shared->store)) != 0)
		pcd_log(PCD_LOG_ERROR, "edge-store-failed", "disk_path=%s error=\"%s\"",
		        params->disk_path ? params->disk_path : "-", pc_strerror(err));
	if (err == 0 && params->access_log != NULL) {
		if (strcmp(params->access_log, "-") == 0) {
			shared->access_log = stderr;
		} else if ((shared->access_log = fopen(params->access_log, "ae")) == NULL) {
			err = -errno;
			pcd_log(PCD_LOG_ERROR, "edge-access-log-failed", "path=%s error=\"%s\"",
			        params->access_log, pc_strerror(err));
		}
		/* RFC 7937's directives, once per start: a reopened log is
		 * appended to, and a reader takes the last #fields. */
		if (shared->access_log != NULL)
			fprintf(
			    shared->access_log,
			    "#version: cdni/1\n#claimed-origin: %s\n"
			    "#record-type: cdni_http_request_v1\n"
			    "#fields: date\ttime\ttime-taken\tc-groupid\ts-ip\ts-hostname\ts-port\t"
			    "cs-method\tcs-uri\tu-uri\tprotocol\tsc-status\tsc-total-bytes\t"
			    "cs(user-agent)\ts-cached\tx-result\n",
			    edge_start_node_name(room));
	}
	return err;
}

static void edge_stop(struct pcd_room *room)
{
	struct edge_shared *shared = room->shared;
	if (shared == NULL)
		return;
	if (shared->access_log != NULL && shared->access_log != stderr)
		fclose(shared->access_log);
	edge_channels_free(shared->channels); /* its objects first: they are the store's */
	pcd_store_free(shared->store);
	live_hub_free(shared->live);
	pcd_conn_group_free(shared->clients);
	pcd_conn_group_free(shared->upstreams);
	pthread_mutex_destroy(&shared->log_lock);
	free(shared);
	room->shared = NULL;
}

static void on_wake(struct pcd_io *io, struct pcd_worker *worker, uint32_t events)
{
	(void)worker;
	(void)events;
	struct edge_worker *ew =
	    (struct edge_worker *)((char *)io - offsetof(struct edge_worker, wake));
	eventfd_t value;
	(void)eventfd_read(io->fd, &value);
	edge_clients_woken(ew);
	edge_channel_woken(ew);
	live_woken(ew);
}

static int edge_open(const struct pcd_room *room, struct pcd_worker *worker, void *state)
{
	struct edge_worker *ew = state;
	struct edge_shared *shared = room->shared;
	ew->room = room;
	ew->shared = shared;
	ew->worker = worker;
	ew->wake.fd = -1;
	if (pcd_conn_engine_new(worker, shared->clients, &edge_client_proto, ew, &ew->counters,
	                        &ew->conn.engine) != 0 ||
	    pcd_conn_engine_new(worker, shared->upstreams, &edge_upstream_proto, ew,
	                        &ew->up_counters, &ew->up_engine) != 0)
		return -ENOMEM;
	ew->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ew->wake.on_event = on_wake;
	if (ew->wake.fd < 0 || pcd_worker_watch(worker, &ew->wake, EPOLLIN) != 0)
		return -errno;
	shared->workers[worker->index] = ew;
	pc_addr addrs[MAX_LISTEN];
	uint16_t port;
	unsigned n = pcd_room_listen_addresses(room, pcd_node_generation(room->node), addrs,
	                                       MAX_LISTEN, &port);
	/* Via's received-by: the first listening address, unique per edge
	 * even where two edges share a node name. */
	char at[64];
	snprintf(ew->via, sizeof(ew->via), "1.1 %s (peercdn %s)",
	         n > 0 ? pcd_net_format(&addrs[0], port, at, sizeof(at)) : "edge",
	         edge_node_name(ew));
	return pcd_conn_listen_all(ew->conn.engine, addrs, n, port);
}

static void edge_tick(const struct pcd_room *room, void *state, uint64_t now_ms)
{
	struct edge_worker *ew = state;
	pcd_conn_room_tick(room, state, now_ms);
	edge_fetch_tick(ew, now_ms);
	edge_channel_tick(ew);
	live_tick(ew, now_ms);
}

static void edge_close(const struct pcd_room *room, void *state)
{
	struct edge_worker *ew = state;
	if (ew->shared != NULL && ew->worker != NULL) {
		live_close(ew);
		ew->shared->workers[ew->worker->index] = NULL;
	}
	/* Clients first (their fetches detach), then what is left upstream. */
	if (ew->conn.engine != NULL)
		pcd_conn_room_close(room, state);
	edge_fetch_close_all(ew);
	if (ew->up_engine != NULL)
		pcd_conn_engine_free(ew->up_engine);
	ew->up_engine = NULL;
	if (ew->wake.fd >= 0)
		close(ew->wake.fd);
}

/* ---- metrics ---- */

static uint64_t sum(const struct pcd_room *room, size_t offset)
{
	return pcd_role_counter_sum(room, offset);
}

static void edge_metrics(const struct pcd_room *room, FILE *out)
{
	const pc_model *model = pcd_node_generation(room->node)->model;
	uint32_t n =
	    model->n_providers < EDGE_MAX_PROVIDERS ? model->n_providers : EDGE_MAX_PROVIDERS;
	fprintf(out, "# HELP peercdn_edge_requests_total Edge requests by provider and result.\n"
	             "# TYPE peercdn_edge_requests_total counter\n");
	for (uint32_t p = 0; p <= n; p++) {
		const char *name = p < n ? model->providers[p].name : "other";
		size_t base =
		    offsetof(struct edge_worker, providers) +
		    (p < n ? p : EDGE_MAX_PROVIDERS) * sizeof(struct edge_provider_counters);
		for (int r = 0; r < EDGE__RESULTS; r++)
			fprintf(
			    out,
			    "peercdn_edge_requests_total{provider=\"%s\",result=\"%s\"} %" PRIu64
			    "\n",
			    name, edge_result_names[r],
			    sum(room, base + offsetof(struct edge_provider_counters, requests) +
			                  (size_t)r * sizeof(_Atomic uint64_t)));
	}
	static const struct {
		const char *name, *help;
		size_t offset;
	} per_provider[] = {
	    {"bytes_served", "Body bytes sent to clients.",
	     offsetof(struct edge_provider_counters, bytes_served)},
	    {"upstream_bytes", "Body bytes received from upstreams.",
	     offsetof(struct edge_provider_counters, upstream_bytes)},
	    {"upstream_fetches", "Fetches sent upstream.",
	     offsetof(struct edge_provider_counters, fetches)},
	    {"collapsed", "Requests that waited on another request's fetch.",
	     offsetof(struct edge_provider_counters, collapsed)},
	};
	for (size_t k = 0; k < sizeof(per_provider) / sizeof(per_provider[0]); k++) {
		fprintf(out,
		        "# HELP peercdn_edge_%s_total %s\n# TYPE peercdn_edge_%s_total counter\n",
		        per_provider[k].name, per_provider[k].help, per_provider[k].name);
		for (uint32_t p = 0; p <= n; p++) {
			size_t base = offsetof(struct edge_worker, providers) +
			              (p < n ? p : EDGE_MAX_PROVIDERS) *
			                  sizeof(struct edge_provider_counters);
			fprintf(out, "peercdn_edge_%s_total{provider=\"%s\"} %" PRIu64 "\n",
			        per_provider[k].name, p < n ? model->providers[p].name : "other",
			        sum(room, base + per_provider[k].offset));
		}
	}
	static const char *const classes[6] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
	fprintf(out, "# HELP peercdn_edge_responses_total Edge responses by status class.\n"
	             "# TYPE peercdn_edge_responses_total counter\n");
	for (int i = 0; i < 6; i++)
		fprintf(out, "peercdn_edge_responses_total{class=\"%s\"} %" PRIu64 "\n", classes[i],
		        sum(room, offsetof(struct edge_worker, by_status) +
		                      (size_t)i * sizeof(_Atomic uint64_t)));
	fprintf(out, "# HELP peercdn_edge_upstream_errors_total Upstream fetches that failed, by "
	             "reason.\n# TYPE peercdn_edge_upstream_errors_total counter\n");
	for (int i = 0; i < EC_ABORTED_CLIENTS; i++)
		fprintf(out, "peercdn_edge_upstream_errors_total{reason=\"%s\"} %" PRIu64 "\n",
		        edge_counter_names[i],
		        sum(room, offsetof(struct edge_worker, misc) +
		                      (size_t)i * sizeof(_Atomic uint64_t)));
	pcd_role_metrics_counters(
	    out, room, edge_counter_names + EC_ABORTED_CLIENTS, EC__COUNT - EC_ABORTED_CLIENTS,
	    offsetof(struct edge_worker, misc) + EC_ABORTED_CLIENTS * sizeof(_Atomic uint64_t));
	pcd_role_metrics_counters(out, room, pcd_conn_counter_names, PCD_CONN__COUNTER_COUNT,
	                          offsetof(struct edge_worker, counters));
	struct edge_shared *shared = room->shared;
	if (shared != NULL) {
		fprintf(out, "# HELP peercdn_edge_prefill_channel_total Pre-fill down a provider's "
		             "channel (docs/prefill.md), by event.\n"
		             "# TYPE peercdn_edge_prefill_channel_total counter\n");
		for (int i = 0; i < EDGE_CH__COUNT; i++)
			fprintf(
			    out, "peercdn_edge_prefill_channel_total{event=\"%s\"} %" PRIu64 "\n",
			    edge_channel_counter_names[i],
			    edge_channel_counter(shared->channels, (enum edge_channel_counter)i));
	}
	if (shared != NULL)
		live_metrics(shared->live, out);
	if (shared != NULL && shared->store != NULL) {
		struct pcd_store_stats st;
		pcd_store_stats(shared->store, &st);
		static const struct {
			const char *name, *type, *help;
		} gauges[] = {
		    {"objects", "gauge", "Objects in the edge's memory."},
		    {"memory_bytes", "gauge", "Bytes of the objects in memory."},
		    {"disk_objects", "gauge", "Objects on the disk tier."},
		    {"disk_bytes", "gauge", "Bytes on the disk tier."},
		    {"disk_reads_total", "counter", "Objects read back from the disk tier."},
		    {"disk_writes_total", "counter", "Objects written to the disk tier."},
		    {"disk_errors_total", "counter", "Disk tier reads or writes that failed."},
		};
		const uint64_t values[] = {st.objects,    st.bytes,      st.disk_objects,
		                           st.disk_bytes, st.disk_reads, st.disk_writes,
		                           st.disk_errors};
		for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
			fprintf(out,
			        "# HELP peercdn_edge_%s %s\n# TYPE peercdn_edge_%s %s\n"
			        "peercdn_edge_%s %" PRIu64 "\n",
			        gauges[i].name, gauges[i].help, gauges[i].name, gauges[i].type,
			        gauges[i].name, values[i]);
		fprintf(out, "# HELP peercdn_edge_evictions_total Objects evicted from memory, by "
		             "provider.\n# TYPE peercdn_edge_evictions_total counter\n");
		for (uint32_t p = 0; p <= n; p++)
			fprintf(out, "peercdn_edge_evictions_total{provider=\"%s\"} %" PRIu64 "\n",
			        p < n ? model->providers[p].name : "other",
			        st.evictions_by_tag[p < n ? p : EDGE_MAX_PROVIDERS]);
	}
}

const struct pcd_role pcd_role_edge = {
    .name = "edge",
    .settings = &pc_edge_section,
    .listen = edge_listen,
    .needs_restart = edge_needs_restart,
    .start = edge_start,
    .stop = edge_stop,
    .state_size = sizeof(struct edge_worker),
    .open = edge_open,
    .tick = edge_tick,
    .close = edge_close,
    .metrics = edge_metrics,
};
