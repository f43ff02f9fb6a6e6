/* The TCP redirector roles, HTTP and RTSP: two rooms over this one file.
 * What is said on a connection is the library's session, driven through
 * its ops (lib/proto/session.h: pc_http_session_ops, pc_rtsp_session_ops);
 * how the bytes move (accept limits, the PROXY v2 header from configured
 * balancers, header and idle timeouts, back-pressure, the lingering close)
 * is the connection engine's (node/conn.h). This file maps one onto the
 * other and counts. Each role runs on every worker, on its own
 * SO_REUSEPORT listening sockets. */
#include <errno.h>
#include <stdlib.h>

#include "lib/proto/http_redirect.h"
#include "lib/proto/rtsp_redirect.h"
#include "lib/proto/stream_settings.h"
#include "node/conn.h"
#include "node/net.h"
#include "node/node.h"

enum { MAX_LISTEN = 16 };

/* The responses counted by status; anything else is "other". */
static const unsigned counted_statuses[] = {204, 302, 307, 400, 403, 404, 405, 408, 413,
                                            414, 417, 421, 431, 500, 501, 503, 505};
#define N_STATUSES (sizeof(counted_statuses) / sizeof(counted_statuses[0]))

enum counter { C_REQUESTS, C__COUNT };
static const char *const counter_names[C__COUNT] = {"requests"};

struct counters {
	_Atomic uint64_t by_status[N_STATUSES + 1];
	_Atomic uint64_t by_branch[4];
	_Atomic uint64_t misc[C__COUNT];
	struct pcd_conn_counters conn; /* connections_accepted, ... (pcd_conn_counter_names) */
};

/* What differs between HTTP and RTSP: a role's .proto. */
struct stream_proto {
	struct pcd_conn_proto conn;           /* its name is the role's, for log lines */
	const struct pc_session_ops *session; /* what is said on a connection */
};

struct stream_worker {
	struct pcd_conn_worker conn; /* first: the engine's hooks find it */
	const struct pcd_room *room;
	const struct stream_proto *proto;
	struct counters counters;
};

/* A connection's state: the session and how it was when last fed. */
struct stream_conn {
	const struct pc_session_ops *session_ops;
	void *session;
	enum pc_http_state state;
};

static const struct pc_stream_params *params_of(const struct stream_worker *sw)
{
	return pcd_room_settings(sw->room, pcd_node_generation(sw->room->node));
}

static void on_result(void *ctx, const struct pc_redirect_result *result)
{
	struct stream_worker *sw = ctx;
	PCD_BUMP(sw->counters.misc[C_REQUESTS]);
	size_t i = 0;
	while (i < N_STATUSES && counted_statuses[i] != result->status)
		i++;
	PCD_BUMP(sw->counters.by_status[i]);
	if (result->decided && result->decision.branch < 4)
		PCD_BUMP(sw->counters.by_branch[result->decision.branch]);
}

static struct pc_redirect_env env_of(struct pcd_conn *conn)
{
	struct stream_worker *sw = pcd_conn_ctx(conn);
	return (struct pc_redirect_env){
	    .answer = pcd_answer_ctx(sw->room->node, pcd_node_generation(sw->room->node),
	                             pcd_conn_source(conn), pcd_now_ms()),
	    .on_result = on_result,
	    .on_result_arg = sw,
	};
}

/* The session's state as the engine's: between requests IDLE (the idle
 * timeout), a request's head or body BUSY (the header timeout), CLOSING. */
static void set_state(struct pcd_conn *conn, struct stream_conn *sc, enum pc_http_state state)
{
	if (state == PC_HTTP_CLOSING) {
		pcd_conn_set_state(conn, PCD_CONN_CLOSING);
	} else if (state == PC_HTTP_IDLE) {
		pcd_conn_set_state(conn, PCD_CONN_IDLE);
	} else {
		/* From head to body the header timeout starts again, as it
		 * always has: each has header_timeout_ms of its own. */
		if (sc->state != PC_HTTP_IDLE && sc->state != state)
			pcd_conn_set_state(conn, PCD_CONN_IDLE);
		pcd_conn_set_state(conn, PCD_CONN_BUSY);
	}
	sc->state = state;
}

static void stream_limits(void *ctx, struct pcd_conn_limits *out)
{
	const struct pc_stream_params *params = params_of(ctx);
	*out = (struct pcd_conn_limits){
	    .max_conns = params->max_clients,
	    .max_per_source = params->max_per_source,
	    .header_timeout_ms = params->header_timeout_ms,
	    .idle_timeout_ms = params->idle_timeout_ms,
	    .balancers = &params->balancers,
	};
}

static void *stream_open_conn(struct pcd_conn *conn, void *ctx)
{
	(void)conn;
	struct stream_worker *sw = ctx;
	const struct pc_stream_params *params = params_of(sw);
	struct pc_http_limits limits = {
	    .max_header_bytes = params->max_header_bytes,
	    .max_target_bytes = params->max_target_bytes,
	    .max_body_bytes = params->max_body_bytes,
	    .redirect_status = params->redirect_status,
	};
	struct stream_conn *sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return NULL;
	sc->session_ops = sw->proto->session;
	sc->session = sc->session_ops->create(&limits);
	sc->state = PC_HTTP_IDLE;
	if (sc->session == NULL) {
		free(sc);
		return NULL;
	}
	return sc;
}

/* A session takes every byte; its state says what comes next. */
static size_t stream_input(struct pcd_conn *conn, void *state, const uint8_t *in, size_t len)
{
	struct stream_conn *sc = state;
	struct pc_redirect_env env = env_of(conn);
	set_state(
	    conn, sc,
	    sc->session_ops->feed(sc->session, &env, (const char *)in, len, pcd_conn_out(conn)));
	return len;
}

/* The client's half-close answers a cut-short request (400), the header
 * timeout a slow one (408); then the connection closes. */
static void stream_end(struct pcd_conn *conn, void *state, enum pcd_conn_end why)
{
	struct stream_conn *sc = state;
	struct pc_redirect_env env = env_of(conn);
	set_state(conn, sc,
	          sc->session_ops->end(sc->session, &env, why == PCD_CONN_END_TIMEOUT,
	                               pcd_conn_out(conn)));
}

static void stream_free_conn(void *state)
{
	struct stream_conn *sc = state;
	sc->session_ops->destroy(sc->session);
	free(sc);
}

/* ---- the role: hooks shared by HTTP and RTSP ---- */

static struct pcd_listen stream_listen(const void *settings)
{
	const struct pc_stream_params *params = settings;
	return (struct pcd_listen){params->enabled, params->port, &params->listen};
}

static int stream_open(const struct pcd_room *room, struct pcd_worker *worker, void *state)
{
	struct stream_worker *sw = state;
	sw->room = room;
	sw->proto = room->role->proto;
	if (pcd_conn_engine_new(worker, room->shared, &sw->proto->conn, sw, &sw->counters.conn,
	                        &sw->conn.engine) != 0)
		return -ENOMEM;
	pc_addr addrs[MAX_LISTEN];
	uint16_t port;
	unsigned n = pcd_room_listen_addresses(room, pcd_node_generation(room->node), addrs,
	                                       MAX_LISTEN, &port);
	/* No address: -EINVAL, and "no-listen" was logged. */
	return pcd_conn_listen_all(sw->conn.engine, addrs, n, port);
}

static const char *status_name(unsigned i, char *buf, size_t size)
{
	if (i == N_STATUSES)
		return "other";
	snprintf(buf, size, "%u", counted_statuses[i]);
	return buf;
}

static void stream_metrics(const struct pcd_room *room, FILE *out)
{
	const char *name = room->role->name;
	char help[48], what[32];
	snprintf(help, sizeof(help), "%s responses by status.", name);
	snprintf(what, sizeof(what), "%s redirects", name);
	pcd_role_metrics_responses(out, room, help, "status", status_name, N_STATUSES + 1,
	                           offsetof(struct stream_worker, counters.by_status));
	pcd_role_metrics_common(out, room, what, offsetof(struct stream_worker, counters.by_branch),
	                        counter_names, C__COUNT,
	                        offsetof(struct stream_worker, counters.misc));
	pcd_role_metrics_counters(out, room, pcd_conn_counter_names, PCD_CONN__COUNTER_COUNT,
	                          offsetof(struct stream_worker, counters.conn));
}

/* ---- the two protocols, and their rooms ---- */

/* One implementation, two roles: they differ in name, config section and
 * session ops only. */
// clang-format off
#define STREAM_CONN_PROTO(role_name) {                                                             \
	.name = role_name,                                                                         \
	.limits = stream_limits,                                                                   \
	.open = stream_open_conn,                                                                  \
	.input = stream_input,                                                                     \
	.end = stream_end,                                                                         \
	.free = stream_free_conn,                                                                  \
}
#define STREAM_ROLE(role_name, section, proto_of_role) {                                           \
	.name = role_name,                                                                         \
	.settings = section,                                                                       \
	.proto = proto_of_role,                                                                    \
	.listen = stream_listen,                                                                   \
	.start = pcd_conn_room_start,                                                              \
	.stop = pcd_conn_room_stop,                                                                \
	.state_size = sizeof(struct stream_worker),                                                \
	.open = stream_open,                                                                       \
	.tick = pcd_conn_room_tick,                                                                \
	.close = pcd_conn_room_close,                                                              \
	.metrics = stream_metrics,                                                                 \
}
// clang-format on

static const struct stream_proto http_proto = {STREAM_CONN_PROTO("http"), &pc_http_session_ops};
static const struct stream_proto rtsp_proto = {STREAM_CONN_PROTO("rtsp"), &pc_rtsp_session_ops};

const struct pcd_role pcd_role_http = STREAM_ROLE("http", &pc_http_section, &http_proto);
const struct pcd_role pcd_role_rtsp = STREAM_ROLE("rtsp", &pc_rtsp_section, &rtsp_proto);
