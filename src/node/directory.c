/* The directory role (docs/directory.md): the HTTP/1.1 API that tells
 * edges how a name under a provider's directory host is served. The
 * answers are the library's (lib/proto/directory.h), read from the current
 * generation's "directory" section, so a reload changes them for the next
 * request; requests are parsed by lib/proto/http_msg.h; the bytes move on
 * the connection engine (node/conn.h), with keep-alive and pipelining.
 * A request is one head and no body: a body is refused (413) rather than
 * read, since no method of the API takes one. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/base/err.h"
#include "lib/proto/directory.h"
#include "lib/proto/http_msg.h"
#include "node/conn.h"
#include "node/node.h"
#include "node/role.h"

enum { MAX_LISTEN = 16 };

/* The responses counted by status; anything else is "other". */
static const unsigned counted_statuses[] = {200, 400, 404, 405, 408, 413, 414, 431, 501, 505};
#define N_STATUSES (sizeof(counted_statuses) / sizeof(counted_statuses[0]))

struct dir_worker {
	struct pcd_conn_worker conn; /* first: the engine's hooks find it */
	const struct pcd_room *room;
	_Atomic uint64_t by_status[N_STATUSES + 1];
	struct pcd_conn_counters conn_counters;
};

/* A connection: whether a request's head has begun (for the end's 400
 * or 408). */
struct dir_conn {
	bool busy;
};

static const struct pc_directory_params *params_of(const struct dir_worker *dw)
{
	return pcd_room_settings(dw->room, pcd_node_generation(dw->room->node));
}

static void count(struct dir_worker *dw, unsigned status)
{
	size_t i = 0;
	while (i < N_STATUSES && counted_statuses[i] != status)
		i++;
	PCD_BUMP(dw->by_status[i]);
}

static void format_date(char date[PC_HTTP_DATE_SIZE])
{
	pc_http_date_format((int64_t)(pcd_now_ms() / 1000), date);
}

/* An error that ends the connection: the request cannot be framed, or
 * its rest is not worth reading. */
static void fail(struct pcd_conn *conn, struct dir_conn *dc, unsigned status)
{
	char date[PC_HTTP_DATE_SIZE];
	format_date(date);
	struct dir_worker *dw = pcd_conn_ctx(conn);
	if (pc_directory_error(status, true, date, pcd_conn_out(conn)) == 0) {
		pcd_conn_abort(conn); /* no memory: a short response would be worse */
		return;
	}
	count(dw, status);
	dc->busy = false;
	pcd_conn_set_state(conn, PCD_CONN_CLOSING);
}

/* RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host; 1.0 at most
 * one. */
static bool host_ok(const struct pc_http_head *head)
{
	unsigned hosts = 0;
	for (unsigned i = 0; i < head->n_fields; i++)
		hosts += head->fields[i].name_len == 4 &&
		         strncasecmp(head->fields[i].name, "host", 4) == 0;
	return hosts == 1 || (hosts == 0 && head->version_minor == 0);
}

/* One request at a time: a whole head is answered and consumed, so the
 * engine offers the next pipelined one at once. */
static size_t dir_input(struct pcd_conn *conn, void *state, const uint8_t *in, size_t len)
{
	struct dir_conn *dc = state;
	struct dir_worker *dw = pcd_conn_ctx(conn);
	const struct pc_directory_params *dir = params_of(dw);
	const struct pc_stream_params *limits = &dir->stream;
	if (pcd_conn_state(conn) == PCD_CONN_CLOSING)
		return len;
	if (!dc->busy) {
		dc->busy = true;
		pcd_conn_set_state(conn, PCD_CONN_BUSY);
	}
	/* A request line longer than any target allowed: 414 before the head
	 * limit's 431. */
	const char *text = (const char *)in;
	const char *eol = memchr(text, '\n', len);
	size_t line_len = eol != NULL ? (size_t)(eol - text) : len;
	if (line_len > (size_t)limits->max_target_bytes + 32) {
		fail(conn, dc, 414);
		return len;
	}
	static _Thread_local struct pc_http_head head; /* 2.4 KiB of fields */
	int rc = pc_http_parse_request(text, len, limits->max_header_bytes, &head);
	if (rc == 0)
		return 0; /* more to come; the header timeout bounds the wait */
	if (rc < 0) {
		fail(conn, dc,
		     rc == PC_ERANGE || rc == PC_ENOSPC ? 431
		     : rc == PC_ENOTSUP                 ? 505
		                                        : 400);
		return len;
	}
	enum pc_http_framing framing;
	uint64_t body_len;
	int framing_rc = pc_http_request_framing(&head, &framing, &body_len);
	if (head.target_len > limits->max_target_bytes) {
		fail(conn, dc, 414);
		return len;
	}
	if (framing_rc != 0 || !host_ok(&head)) {
		fail(conn, dc, framing_rc == PC_ENOTSUP ? 501 : 400);
		return len;
	}
	if (framing == PC_HTTP_BODY_CHUNKED || (framing == PC_HTTP_BODY_LENGTH && body_len > 0)) {
		fail(conn, dc, 413);
		return len;
	}
	bool close = pc_http_field_has_token(&head, "Connection", "close") ||
	             (head.version_minor == 0 &&
	              !pc_http_field_has_token(&head, "Connection", "keep-alive"));
	char date[PC_HTTP_DATE_SIZE];
	format_date(date);
	struct pc_dir_request req = {
	    .method = head.method,
	    .method_len = head.method_len,
	    .target = head.target,
	    .target_len = head.target_len,
	    .close = close,
	    .date = date,
	};
	unsigned status = pc_directory_respond(dir, &req, pcd_conn_out(conn));
	if (status == 0) {
		pcd_conn_abort(conn);
		return len;
	}
	count(dw, status);
	dc->busy = false;
	pcd_conn_set_state(conn, close ? PCD_CONN_CLOSING : PCD_CONN_IDLE);
	return (size_t)rc;
}

/* The client's half-close cuts a begun request short (400); the header
 * timeout ends a slow one (408). Then the connection closes. */
static void dir_end(struct pcd_conn *conn, void *state, enum pcd_conn_end why)
{
	struct dir_conn *dc = state;
	if (dc->busy)
		fail(conn, dc, why == PCD_CONN_END_TIMEOUT ? 408 : 400);
	pcd_conn_set_state(conn, PCD_CONN_CLOSING);
}

static void *dir_open_conn(struct pcd_conn *conn, void *ctx)
{
	(void)conn;
	(void)ctx;
	return calloc(1, sizeof(struct dir_conn));
}

static void dir_limits(void *ctx, struct pcd_conn_limits *out)
{
	const struct pc_stream_params *params = &params_of(ctx)->stream;
	*out = (struct pcd_conn_limits){
	    .max_conns = params->max_clients,
	    .max_per_source = params->max_per_source,
	    .header_timeout_ms = params->header_timeout_ms,
	    .idle_timeout_ms = params->idle_timeout_ms,
	    .balancers = &params->balancers,
	};
}

static const struct pcd_conn_proto dir_proto = {
    .name = "directory",
    /* The largest head max_header_bytes allows, and a byte to see it. */
    .max_input = 1048576 + 1,
    .limits = dir_limits,
    .open = dir_open_conn,
    .input = dir_input,
    .end = dir_end,
    .free = free,
};

/* ---- the role ---- */

static struct pcd_listen dir_listen(const void *settings)
{
	const struct pc_directory_params *dir = settings;
	return (struct pcd_listen){dir->stream.enabled, dir->stream.port, &dir->stream.listen};
}

static int dir_open(const struct pcd_room *room, struct pcd_worker *worker, void *state)
{
	struct dir_worker *dw = state;
	dw->room = room;
	if (pcd_conn_engine_new(worker, room->shared, &dir_proto, dw, &dw->conn_counters,
	                        &dw->conn.engine) != 0)
		return -ENOMEM;
	pc_addr addrs[MAX_LISTEN];
	uint16_t port;
	unsigned n = pcd_room_listen_addresses(room, pcd_node_generation(room->node), addrs,
	                                       MAX_LISTEN, &port);
	return pcd_conn_listen_all(dw->conn.engine, addrs, n, port);
}

static void dir_metrics(const struct pcd_room *room, FILE *out)
{
	fprintf(out, "# HELP peercdn_directory_requests_total Directory API requests by response "
	             "status.\n# TYPE peercdn_directory_requests_total counter\n");
	for (unsigned i = 0; i <= N_STATUSES; i++) {
		char status[16];
		if (i < N_STATUSES)
			snprintf(status, sizeof(status), "%u", counted_statuses[i]);
		else
			snprintf(status, sizeof(status), "other");
		fprintf(out, "peercdn_directory_requests_total{status=\"%s\"} %llu\n", status,
		        (unsigned long long)pcd_role_counter_sum(
		            room, offsetof(struct dir_worker, by_status) +
		                      (size_t)i * sizeof(_Atomic uint64_t)));
	}
	pcd_role_metrics_counters(out, room, pcd_conn_counter_names, PCD_CONN__COUNTER_COUNT,
	                          offsetof(struct dir_worker, conn_counters));
}

const struct pcd_role pcd_role_directory = {
    .name = "directory",
    .settings = &pc_directory_section,
    .listen = dir_listen,
    .start = pcd_conn_room_start,
    .stop = pcd_conn_room_stop,
    .state_size = sizeof(struct dir_worker),
    .open = dir_open,
    .tick = pcd_conn_room_tick,
    .close = pcd_conn_room_close,
    .metrics = dir_metrics,
};
