/* The health role (docs/health.md): this node probes the servers it
 * watches — by default every server of the CDNs it serves — with an HTTP
 * GET or a TCP connect every interval_ms, and moves each between UP and
 * DOWN in the live state after fall failures or rise successes in a row
 * (lib/proto/health), so DNS, CDSR and the HTTP and RTSP redirectors stop
 * choosing a dead server at their next answer and choose it again once it
 * is back. When the node also runs the edge, the edge's open client
 * connections are published as the load of the servers it listens as.
 *
 * One worker (index 0) runs every probe on its own epoll set: raw
 * non-blocking sockets and one timerfd re-armed to the next due probe or
 * deadline. The connection engine (node/conn.h) is not used: its timeouts
 * are checked once a second, and a probe's are a fraction of that.
 * Verdicts live here, by server name, so they outlast a reload; each is
 * also written into the generation's live state (and again into every new
 * generation's, which pc_live_carry filled a moment before the swap). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lib/model/live.h"
#include "lib/proto/edge_settings.h"
#include "lib/proto/health.h"
#include "lib/proto/health_settings.h"
#include "node/edge.h"
#include "node/health.h"
#include "node/log.h"
#include "node/net.h"
#include "node/node.h"

extern const struct pcd_role pcd_role_health;

/* How often the edge's load is published at most (ms). */
enum { LOAD_EVERY_MS = 100 };

/* Probe results, the label of peercdn_health_probes_total. */
enum result { PROBE_OK, PROBE_FAILED, PROBE_TIMEOUT, PROBE__COUNT };
static const char *const result_names[PROBE__COUNT] = {"ok", "failed", "timeout"};

enum phase { P_IDLE, P_CONNECTING, P_SENDING, P_READING };

/* One watched server. */
struct watch {
	struct pcd_io io; /* first: the probe's socket (fd -1 when idle) */
	struct health_worker *hw;
	char name[128];  /* the server's, copied: it outlives a generation */
	uint32_t server; /* its index in the generation the list was built for */
	pc_addr addr;
	uint16_t port;
	struct pc_health_track track;
	enum phase phase;
	uint64_t due_ms, deadline_ms; /* monotonic */
	size_t sent;
	uint8_t rx[PC_HEALTH_STATUS_NEED];
	size_t rx_len;
	/* Read by the metrics thread. */
	_Atomic uint32_t up;
	_Atomic uint64_t went_down, went_up;
};

/* Node-wide: room->shared. The list is the runner's (worker 0); the
 * lock only keeps the metrics thread off it while a reload replaces it. */
struct health_shared {
	pthread_mutex_t lock;
	struct watch *watches;
	unsigned n_watches;
	_Atomic uint64_t probes[PROBE__COUNT];
};

/* Per worker: only the runner has a timer. */
struct health_worker {
	const struct pcd_room *room;
	struct pcd_worker *worker;
	struct health_shared *shared;
	struct pcd_io timer; /* fd -1: not the runner */
	uint64_t built_for;  /* the generation number the list is of; 0: none yet */
	unsigned in_flight;
	uint64_t load_at_ms;
	char request[1200]; /* the HTTP probe's bytes, made again for every send */
};

static struct health_worker *of_timer(struct pcd_io *io)
{
	return (struct health_worker *)((char *)io - offsetof(struct health_worker, timer));
}

static const struct pc_health_params *params_of(const struct health_worker *hw,
                                                const struct pcd_generation *gen)
{
	return pcd_room_settings(hw->room, gen);
}

/* ---- verdicts into the live state ---- */

/* UP and DOWN only over each other: a drain set by a control stays. */
static void apply(pc_live *live, uint32_t server, bool up)
{
	if (up)
		pc_live_health_change(live, server, PC_HEALTH_DOWN, PC_HEALTH_UP);
	else
		pc_live_health_change(live, server, PC_HEALTH_UP, PC_HEALTH_DOWN);
}

static void record(struct health_worker *hw, struct watch *w, enum result r)
{
	struct pcd_generation *gen = pcd_node_generation(hw->room->node);
	const struct pc_health_params *params = params_of(hw, gen);
	PCD_BUMP(hw->shared->probes[r]);
	enum pc_health_change change =
	    pc_health_track_feed(&w->track, r == PROBE_OK, params->fall, params->rise);
	if (change == PC_HEALTH_SAME) {
		/* The verdict again: a server undrained while down is DOWN
		 * after its next probe, not UP until it changes. */
		if (hw->built_for == gen->number)
			apply(gen->live, w->server, w->track.up);
		return;
	}
	bool up = change == PC_HEALTH_WENT_UP;
	/* A generation the list is not yet of gets every verdict at rebuild. */
	if (hw->built_for == gen->number)
		apply(gen->live, w->server, up);
	atomic_store_explicit(&w->up, up ? 1 : 0, memory_order_relaxed);
	PCD_BUMP(*(up ? &w->went_up : &w->went_down));
	char at[64];
	pcd_log(up ? PCD_LOG_INFO : PCD_LOG_WARNING, up ? "server-up" : "server-down",
	        "server=%s at=%s result=%s", w->name,
	        pcd_net_format(&w->addr, w->port, at, sizeof(at)), result_names[r]);
}

/* ---- one probe ---- */

static void probe_close(struct health_worker *hw, struct watch *w)
{
	if (w->io.fd >= 0) {
		/* An RST instead of a FIN: thousands of probes a minute leave no
		 * TIME_WAIT behind. */
		struct linger hard = {.l_onoff = 1, .l_linger = 0};
		setsockopt(w->io.fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
		close(w->io.fd);
		w->io.fd = -1;
	}
	if (w->phase != P_IDLE)
		hw->in_flight--;
	w->phase = P_IDLE;
}

static void probe_end(struct health_worker *hw, struct watch *w, enum result r)
{
	probe_close(hw, w);
	record(hw, w, r);
}

static void on_probe(struct pcd_io *io, struct pcd_worker *worker, uint32_t events);

static void probe_start(struct health_worker *hw, struct watch *w, uint64_t now,
                        const struct pc_health_params *params)
{
	w->due_ms = now + params->interval_ms;
	w->deadline_ms = now + params->timeout_ms;
	w->sent = 0;
	w->rx_len = 0;
	struct sockaddr_storage ss;
	socklen_t len = pcd_sockaddr_from_addr(&w->addr, w->port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		record(hw, w, PROBE_FAILED);
		return;
	}
	w->io.fd = fd;
	w->io.on_event = on_probe;
	w->phase = P_CONNECTING;
	hw->in_flight++;
	if ((connect(fd, (struct sockaddr *)&ss, len) != 0 && errno != EINPROGRESS) ||
	    pcd_worker_watch(hw->worker, &w->io, EPOLLOUT) != 0)
		probe_end(hw, w, PROBE_FAILED); /* refused at once, as loopback may be */
}

/* Connected: TCP mode is done; HTTP sends its request. */
static void probe_connected(struct health_worker *hw, struct watch *w,
                            const struct pc_health_params *params)
{
	int err = 0;
	socklen_t err_len = sizeof(err);
	if (getsockopt(w->io.fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0 || err != 0) {
		probe_end(hw, w, PROBE_FAILED);
		return;
	}
	if (params->mode == PC_HEALTH_MODE_TCP) {
		probe_end(hw, w, PROBE_OK);
		return;
	}
	w->phase = P_SENDING;
}

static void probe_send(struct health_worker *hw, struct watch *w,
                       const struct pc_health_params *params)
{
	char host[64];
	size_t len = pc_health_request(params->path != NULL ? params->path : "/",
	                               pcd_net_format(&w->addr, w->port, host, sizeof(host)),
	                               hw->request, sizeof(hw->request));
	if (len <= w->sent) {
		probe_end(hw, w, PROBE_FAILED); /* cannot happen: the path was checked at load */
		return;
	}
	ssize_t n = send(w->io.fd, hw->request + w->sent, len - w->sent, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		probe_end(hw, w, PROBE_FAILED);
		return;
	}
	w->sent += (size_t)n;
	if (w->sent == len) {
		w->phase = P_READING;
		if (pcd_worker_modify(hw->worker, &w->io, EPOLLIN) != 0)
			probe_end(hw, w, PROBE_FAILED);
	}
}

static void probe_read(struct health_worker *hw, struct watch *w)
{
	ssize_t n = recv(w->io.fd, w->rx + w->rx_len, sizeof(w->rx) - w->rx_len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		probe_end(hw, w, PROBE_FAILED); /* closed or reset before a status */
		return;
	}
	w->rx_len += (size_t)n;
	uint16_t status = 0;
	switch (pc_health_status_parse(w->rx, w->rx_len, &status)) {
	case PC_HEALTH_STATUS_MORE:
		return;
	case PC_HEALTH_STATUS_OK:
		probe_end(hw, w, pc_health_status_up(status) ? PROBE_OK : PROBE_FAILED);
		return;
	case PC_HEALTH_STATUS_BAD:
		probe_end(hw, w, PROBE_FAILED);
		return;
	}
}

static void rearm(struct health_worker *hw, uint64_t now);

static void on_probe(struct pcd_io *io, struct pcd_worker *worker, uint32_t events)
{
	(void)worker;
	struct watch *w = (struct watch *)io;
	struct health_worker *hw = w->hw;
	const struct pc_health_params *params = params_of(hw, pcd_node_generation(hw->room->node));
	if (w->phase == P_CONNECTING)
		probe_connected(hw, w, params);
	if (w->phase == P_SENDING)
		probe_send(hw, w, params);
	else if (w->phase == P_READING && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		probe_read(hw, w);
	rearm(hw, pcd_mono_ms());
}

/* ---- the list of watched servers ---- */

/* Whether server s is watched under params: named, or of a CDN self
 * serves. */
static bool watched(const pc_model *model, const struct pc_health_params *params, uint32_t s)
{
	const struct pc_server *server = &model->servers[s];
	if (server->addresses.count == 0)
		return false;
	if (params->servers.count > 0) {
		for (uint32_t i = 0; i < params->servers.count; i++)
			if (strcmp(params->servers.items[i], server->name) == 0)
				return true;
		return false;
	}
	if (model->self_node == PC_NONE)
		return false;
	const struct pc_index_list *cdns = &model->nodes[model->self_node].cdns;
	for (uint32_t c = 0; c < cdns->count; c++)
		if (cdns->items[c] == server->cdn)
			return true;
	return false;
}

static struct watch *find(struct watch *watches, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(watches[i].name, name) == 0)
			return &watches[i];
	return NULL;
}

/* The watch list for gen, carrying verdicts and counters by name. Probes
 * in flight are dropped (their servers are probed again at once). A server
 * no longer watched is set UP in gen's live state: what an unwatched server
 * is. Every verdict is written into gen's live state again. */
static void rebuild(struct health_worker *hw, struct pcd_generation *gen, uint64_t now)
{
	struct health_shared *shared = hw->shared;
	const pc_model *model = gen->model;
	const struct pc_health_params *params = params_of(hw, gen);
	unsigned n = 0;
	for (uint32_t s = 0; s < model->n_servers; s++)
		n += watched(model, params, s);
	struct watch *fresh = calloc((size_t)n + 1, sizeof(*fresh));
	if (fresh == NULL) {
		pcd_log(PCD_LOG_ERROR, "health-no-memory", "servers=%u", n);
		return; /* the old list goes on probing; try again next time */
	}
	struct watch *old = shared->watches;
	unsigned n_old = shared->n_watches;
	for (unsigned i = 0; i < n_old; i++)
		probe_close(hw, &old[i]);
	unsigned k = 0;
	for (uint32_t s = 0; s < model->n_servers; s++) {
		if (!watched(model, params, s))
			continue;
		const struct pc_server *server = &model->servers[s];
		struct watch *w = &fresh[k];
		w->io.fd = -1;
		w->hw = hw;
		snprintf(w->name, sizeof(w->name), "%s", server->name);
		w->server = s;
		w->addr = server->addresses.items[0];
		w->port = params->port != 0        ? params->port
		          : server->http_port != 0 ? server->http_port
		                                   : 80;
		/* Spread the first probes over one interval. */
		w->due_ms = now + (uint64_t)params->interval_ms * k / (n ? n : 1);
		pc_health_track_init(&w->track);
		atomic_init(&w->up, 1);
		const struct watch *was = find(old, n_old, w->name);
		if (was != NULL) {
			w->track = was->track;
			w->due_ms = now;
			atomic_init(&w->up, atomic_load(&was->up));
			atomic_init(&w->went_down, atomic_load(&was->went_down));
			atomic_init(&w->went_up, atomic_load(&was->went_up));
		}
		apply(gen->live, s, w->track.up);
		k++;
	}
	for (unsigned i = 0; i < n_old; i++) {
		uint32_t s = pc_model_server(model, old[i].name);
		if (s != PC_NONE && find(fresh, n, old[i].name) == NULL)
			apply(gen->live, s, true);
	}
	pthread_mutex_lock(&shared->lock);
	shared->watches = fresh;
	shared->n_watches = n;
	pthread_mutex_unlock(&shared->lock);
	free(old);
	hw->built_for = gen->number;
	if (hw->built_for > 1 || n > 0)
		pcd_log(PCD_LOG_INFO, "health-watching", "servers=%u mode=%s interval_ms=%u", n,
		        pc_health_mode_names[params->mode], params->interval_ms);
}

/* ---- the runner's clock ---- */

/* The edge's open clients, shared out over the servers it listens as
 * (its listen addresses), as their load in session units. */
static void publish_load(struct health_worker *hw, struct pcd_generation *gen, uint64_t now)
{
	if (now < hw->load_at_ms + LOAD_EVERY_MS)
		return;
	hw->load_at_ms = now;
	uint64_t clients, max_clients;
	const struct pc_edge_params *edge = pc_edge_settings(gen->config);
	if (edge == NULL || !pcd_edge_load(hw->room->node, &clients, &max_clients))
		return;
	const pc_model *model = gen->model;
	uint32_t own[64], n = 0;
	for (uint32_t s = 0; s < model->n_servers && n < 64; s++) {
		const struct pc_addr_list *at = &model->servers[s].addresses;
		bool mine = false;
		for (uint32_t a = 0; a < at->count && !mine; a++)
			for (uint32_t l = 0; l < edge->listen.count && !mine; l++)
				mine = pc_addr_equal(&at->items[a], &edge->listen.items[l]);
		if (mine)
			own[n++] = s;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t share = (clients + n - 1) / n;
		pc_live_set_load(gen->live, own[i],
		                 share > UINT32_MAX ? UINT32_MAX : (uint32_t)share);
	}
}

/* Timeouts, then due probes while there is room. */
static void service(struct health_worker *hw, uint64_t now)
{
	struct pcd_generation *gen = pcd_node_generation(hw->room->node);
	if (gen->number != hw->built_for)
		rebuild(hw, gen, now);
	const struct pc_health_params *params = params_of(hw, gen);
	struct health_shared *shared = hw->shared;
	for (unsigned i = 0; i < shared->n_watches; i++) {
		struct watch *w = &shared->watches[i];
		if (w->phase != P_IDLE && now >= w->deadline_ms)
			probe_end(hw, w, PROBE_TIMEOUT);
	}
	for (unsigned i = 0; i < shared->n_watches && hw->in_flight < params->max_probes; i++) {
		struct watch *w = &shared->watches[i];
		if (w->phase == P_IDLE && now >= w->due_ms)
			probe_start(hw, w, now, params);
	}
	publish_load(hw, gen, now);
}

/* The timer at the next deadline or due probe (due ones only while there
 * is room for them), at most one interval away: a reload is noticed
 * then. */
static void rearm(struct health_worker *hw, uint64_t now)
{
	const struct pc_health_params *params = params_of(hw, pcd_node_generation(hw->room->node));
	uint64_t next = now + params->interval_ms;
	if (next > now + LOAD_EVERY_MS)
		next = now + LOAD_EVERY_MS;
	struct health_shared *shared = hw->shared;
	bool room = hw->in_flight < params->max_probes;
	for (unsigned i = 0; i < shared->n_watches; i++) {
		const struct watch *w = &shared->watches[i];
		uint64_t at = w->phase != P_IDLE ? w->deadline_ms : room ? w->due_ms : UINT64_MAX;
		if (at < next)
			next = at;
	}
	uint64_t wait = next > now ? next - now : 0;
	struct itimerspec its = {
	    .it_value = {.tv_sec = (time_t)(wait / 1000),
	                 .tv_nsec = (long)(wait % 1000) * 1000000 + (wait == 0 ? 1 : 0)},
	};
	timerfd_settime(hw->timer.fd, 0, &its, NULL);
}

static void on_timer(struct pcd_io *io, struct pcd_worker *worker, uint32_t events)
{
	(void)worker;
	(void)events;
	struct health_worker *hw = of_timer(io);
	uint64_t expirations;
	ssize_t n = read(io->fd, &expirations, sizeof(expirations));
	(void)n; /* non-blocking: nothing to read is fine */
	uint64_t now = pcd_mono_ms();
	service(hw, now);
	rearm(hw, now);
}

/* ---- the room ---- */

static struct pcd_listen health_listen(const void *settings)
{
	static const struct pc_addr_list none = {0};
	const struct pc_health_params *health = settings;
	return (struct pcd_listen){health->enabled, 0, &none};
}

static int health_start(struct pcd_room *room)
{
	struct health_shared *shared = calloc(1, sizeof(*shared));
	if (shared == NULL)
		return -ENOMEM;
	pthread_mutex_init(&shared->lock, NULL);
	room->shared = shared;
	return 0;
}

static void health_stop(struct pcd_room *room)
{
	struct health_shared *shared = room->shared;
	if (shared == NULL)
		return;
	pthread_mutex_destroy(&shared->lock);
	free(shared->watches);
	free(shared);
	room->shared = NULL;
}

static int health_open(const struct pcd_room *room, struct pcd_worker *worker, void *state)
{
	struct health_worker *hw = state;
	hw->room = room;
	hw->worker = worker;
	hw->shared = room->shared;
	hw->timer.fd = -1;
	if (worker->index != 0)
		return 0; /* one worker probes */
	hw->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	hw->timer.on_event = on_timer;
	if (hw->timer.fd < 0 || pcd_worker_watch(worker, &hw->timer, EPOLLIN) != 0)
		return -errno;
	/* The first run as soon as the worker loops. */
	struct itimerspec its = {.it_value = {.tv_sec = 0, .tv_nsec = 1}};
	return timerfd_settime(hw->timer.fd, 0, &its, NULL) == 0 ? 0 : -errno;
}

static void health_close(const struct pcd_room *room, void *state)
{
	(void)room;
	struct health_worker *hw = state;
	if (hw->timer.fd < 0)
		return;
	struct health_shared *shared = hw->shared;
	for (unsigned i = 0; i < shared->n_watches; i++)
		probe_close(hw, &shared->watches[i]);
	close(hw->timer.fd);
	hw->timer.fd = -1;
}

static void health_metrics(const struct pcd_room *room, FILE *out)
{
	struct health_shared *shared = room->shared;
	if (shared == NULL)
		return;
	fputs("# HELP peercdn_health_probes_total Health probes by result.\n"
	      "# TYPE peercdn_health_probes_total counter\n",
	      out);
	for (unsigned r = 0; r < PROBE__COUNT; r++)
		fprintf(out, "peercdn_health_probes_total{result=\"%s\"} %llu\n", result_names[r],
		        (unsigned long long)atomic_load_explicit(&shared->probes[r],
		                                                 memory_order_relaxed));
	pthread_mutex_lock(&shared->lock);
	fputs("# HELP peercdn_health_server_up Whether the health role holds a server up (1) or "
	      "down (0).\n"
	      "# TYPE peercdn_health_server_up gauge\n",
	      out);
	for (unsigned i = 0; i < shared->n_watches; i++)
		fprintf(out, "peercdn_health_server_up{server=\"%s\"} %u\n",
		        shared->watches[i].name,
		        atomic_load_explicit(&shared->watches[i].up, memory_order_relaxed));
	fputs("# HELP peercdn_health_transitions_total Servers marked down or up.\n"
	      "# TYPE peercdn_health_transitions_total counter\n",
	      out);
	for (unsigned i = 0; i < shared->n_watches; i++) {
		const struct watch *w = &shared->watches[i];
		fprintf(
		    out,
		    "peercdn_health_transitions_total{server=\"%s\",to=\"down\"} %llu\n"
		    "peercdn_health_transitions_total{server=\"%s\",to=\"up\"} %llu\n",
		    w->name,
		    (unsigned long long)atomic_load_explicit(&w->went_down, memory_order_relaxed),
		    w->name,
		    (unsigned long long)atomic_load_explicit(&w->went_up, memory_order_relaxed));
	}
	pthread_mutex_unlock(&shared->lock);
}

unsigned pcd_health_verdicts(struct pcd_node *node, struct pcd_health_verdict *out, unsigned max)
{
	struct health_shared *shared = NULL;
	for (size_t slot = 0; pcd_roles[slot] != NULL; slot++)
		if (pcd_roles[slot] == &pcd_role_health && node->rooms[slot].started)
			shared = node->rooms[slot].shared;
	if (shared == NULL)
		return 0;
	pthread_mutex_lock(&shared->lock);
	unsigned n = shared->n_watches;
	for (unsigned i = 0; i < n && i < max; i++) {
		snprintf(out[i].name, sizeof(out[i].name), "%s", shared->watches[i].name);
		out[i].up = atomic_load_explicit(&shared->watches[i].up, memory_order_relaxed) != 0;
	}
	pthread_mutex_unlock(&shared->lock);
	return n;
}

const struct pcd_role pcd_role_health = {
    .name = "health",
    .settings = &pc_health_section,
    .start = health_start,
    .stop = health_stop,
    .listen = health_listen,
    .state_size = sizeof(struct health_worker),
    .open = health_open,
    .close = health_close,
    .metrics = health_metrics,
};
