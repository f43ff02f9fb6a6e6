/* edge_client: one client connection of the edge role, shared by the
 * files that answer its requests: edge_client.c (requests, the store,
 * serving), edge_prefill.c (pre-fill requests and replicas). */
#ifndef PC_NODE_EDGE_CLIENT_H
#define PC_NODE_EDGE_CLIENT_H

#include "lib/proto/cors.h"
#include "node/edge_internal.h"

struct edge_prefill;

struct edge_client {
	struct edge_worker *ew;
	struct pcd_conn *conn;
	struct edge_client *wprev, *wnext;
	bool waiting;  /* in ew->waiting */
	bool in_input; /* inside this connection's input callback */
	bool busy;     /* a request is being answered */
	/* The request: its head copied (req points into req_buf). */
	char *req_buf;
	size_t req_cap;
	struct pc_http_head *req;
	struct pc_http_head *stored; /* the served object's head, parsed */
	struct pc_cache_control req_cc;
	char *key; /* "<host><path>" */
	size_t key_len, host_len;
	const char *path; /* in key, after the host */
	size_t path_len;
	const char *body; /* a request body to forward: in the input, or body_buf */
	size_t body_len;
	char *body_buf; /* a chunked body, decoded */
	size_t body_cap;
	bool keep_alive, head_only, collapsed;
	bool directory; /* the key is a directory name (route) */
	bool resolving; /* object is the directory's answer for it */
	/* The answer. */
	struct pcd_object *object; /* streaming from it, or waiting for its head */
	struct pcd_head *head;
	struct pcd_object *stale; /* a revalidation's fallback (stale-if-error) */
	struct edge_fetch *fetch; /* a fetch for this client alone */
	bool head_sent, chunked;
	uint64_t sent, end; /* body offsets: next to queue, and the end (UINT64_MAX: unknown) */
	enum edge_result result;
	unsigned status;
	uint64_t bytes_out, head_bytes, started_ms; /* body bytes, head bytes */
	struct edge_provider_counters *counters;
	uint32_t provider; /* the request's provider (model index), PC_NONE before routing */
	struct edge_prefill *prefill; /* a pre-fill being answered (its own block below) */
	struct live_conn *live;       /* a live ingest or player (node/live.h) */
	/* The answer's CORS fields (lib/proto/cors.h), when cors is set: the
	 * live answers' (node/live.c), errors included. origin is the
	 * request's Origin field, in req_buf. */
	bool cors;
	enum pc_cors_allow cors_allow;
	const char *origin;
	size_t origin_len;
};

/* ---- edge_client.c, for edge_prefill.c and edge.c ---- */

/* The edge's own answer (errors, refusals): a short text body; then the
 * request is finished. */
void edge_client_respond(struct edge_client *c, unsigned status, const char *why);
/* The request ended: counted, logged; the next may come. */
void edge_client_finish(struct edge_client *c);
/* Cuts the response short with a reset. */
void edge_client_abort(struct edge_client *c);
/* Appends the answer's CORS fields to out when c->cors is set; false
 * when memory runs out. */
bool edge_client_cors(const struct edge_client *c, struct pc_buf *out);
/* The request is provider's: its index, and its counters (providers past
 * EDGE_MAX_PROVIDERS share the last slot's counters, never the index). */
void edge_client_set_provider(struct edge_client *c, uint32_t provider);
/* Output appended outside the input callback goes out now. */
void edge_client_kick(struct edge_client *c);
/* Where the request goes, into c->key (route in edge_client.c). Returns 0
 * or the status of a refusal. */
unsigned edge_client_route(struct edge_client *c, const char **why);
bool edge_method_is(const struct pc_http_head *req, const char *m);
unsigned edge_parse_error_status(int err);
/* The client engine's protocol, and the wake-up of the clients waiting on
 * objects (the worker's eventfd). */
extern const struct pcd_conn_proto edge_client_proto;
void edge_clients_woken(struct edge_worker *ew);

/* ---- edge_prefill.c ---- */

/* Whether a request is the pre-fill request (POST /.peercdn/prefill). */
bool edge_prefill_target(const struct pc_http_head *req);
/* Takes the pre-fill request of c (its body in body[0..len)). */
void edge_prefill_begin(struct edge_client *c);
/* Woken: the pre-fill's objects progressed. */
void edge_prefill_progress(struct edge_client *c);
void edge_prefill_free(struct edge_client *c);
/* 1 + the model server c's connection was addressed to, or 0. */
uint32_t edge_addressed_server(struct edge_client *c);

#endif
