/* edge_prefill: the edge's pre-fill request and the replicas it and
 * every stored fill report to the live state (docs/prefill.md). */
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
#include "node/overlay.h"

/* ---- pre-fill and replicas (docs/prefill.md) ----
 *
 * POST /.peercdn/prefill, from an address of edge.control_allow, with a
 * text/uri-list body: each URL is routed as a client's GET would be
 * (edge_client_route()) and filled into the store by a shared fill with no client
 * (the bytes are not sent back), at most max_fetches at a time. The
 * answer comes when every URL has ended: 200 and one line per URL,
 * "<status> <outcome> <url>". Each object the store then holds is
 * reported to the live state as held by the model server the request was
 * addressed to (its local address among servers[].addresses), so the
 * redirectors prefer that server for it (docs/policy.md, "Replicas"); a
 * client's fill that ends stored is reported the same way (edge_filled).
 * The overlay carries each to the redirectors of the CDN's other nodes and
 * of its agreement peers (pcd_overlay_replica, docs/overlay.md). */

enum { PREFILL_MAX_URLS = 1024 };
static const char prefill_path[] = "/.peercdn/prefill";
/* Channel mode (edge_channel.c): stored here, then sent down the
 * provider's channel to every edge of its tree. */
static const char channel_query[] = "?mode=channel";

enum prefill_outcome {
	PF_PENDING,     /* not started yet */
	PF_FILLING,     /* its object is filling */
	PF_FILLED,      /* fetched and stored */
	PF_CACHED,      /* stored and fresh already: nothing fetched */
	PF_UNCACHEABLE, /* fetched, but the response may not be stored */
	PF_FAILED,      /* the upstream failed (status: the edge's error answer) */
	PF_REFUSED,     /* not a URL of a provider of this CDN, or malformed */
	PF_BUSY,        /* never started: fetches stayed at max_fetches */
	PF_SENT,        /* channel mode: stored here and queued down the provider's channel */
};
static const char *const prefill_names[] = {
    "pending", "filling", "filled", "cached", "uncacheable", "failed", "refused", "busy", "sent",
};

struct prefill_item {
	const char *url; /* in the job's text, not NUL-terminated */
	size_t url_len;
	char *key; /* the cache key, once routed */
	size_t key_len;
	struct pcd_object *object; /* while PF_FILLING: a reference */
	enum prefill_outcome outcome;
	unsigned status;
	uint32_t provider; /* its counters' index, once routed */
};

struct edge_prefill {
	char *text;      /* the request body, copied: the items point into it */
	uint32_t holder; /* 1 + the model server addressed, or 0 */
	bool channel;    /* ?mode=channel */
	unsigned n, next, filling;
	struct pc_http_head head; /* a GET made up for the URL being routed */
	struct prefill_item items[];
};

static bool is_channel_mode(const struct pc_http_head *req)
{
	size_t n = sizeof(prefill_path) - 1, q = sizeof(channel_query) - 1;
	return req->target_len == n + q && memcmp(req->target + n, channel_query, q) == 0;
}

bool edge_prefill_target(const struct pc_http_head *req)
{
	size_t n = sizeof(prefill_path) - 1;
	return req->target_len >= n && memcmp(req->target, prefill_path, n) == 0 &&
	       (req->target_len == n || is_channel_mode(req));
}

/* Channel mode: an item held here goes down its provider's channel. */
static void to_channel(struct edge_client *c, struct prefill_item *item)
{
	if (!c->prefill->channel || (item->outcome != PF_FILLED && item->outcome != PF_CACHED))
		return;
	if (edge_channel_send(c->ew, item->provider, item->key, item->key_len)) {
		item->outcome = PF_SENT;
	} else {
		item->outcome = PF_BUSY;
		item->status = 503;
	}
}

/* 1 + the model server one of whose addresses c's connection came to
 * (the one whose http_port is the port too, when several share it), or
 * 0 when none: how the edge knows which server it is. */
uint32_t edge_addressed_server(struct edge_client *c)
{
	struct sockaddr_storage ss;
	socklen_t ss_len = sizeof(ss);
	if (getsockname(pcd_conn_fd(c->conn), (struct sockaddr *)&ss, &ss_len) != 0)
		return 0;
	pc_addr local;
	uint16_t port;
	pcd_addr_from_sockaddr(&ss, &local, &port);
	const pc_model *model = pcd_node_generation(c->ew->room->node)->model;
	uint32_t found = 0;
	for (uint32_t s = 0; s < model->n_servers; s++) {
		const struct pc_server *server = &model->servers[s];
		for (uint32_t a = 0; a < server->addresses.count; a++) {
			if (!pc_addr_equal(&local, &server->addresses.items[a]))
				continue;
			if ((server->http_port != 0 ? server->http_port : 80) == port)
				return s + 1;
			if (found == 0)
				found = s + 1;
		}
	}
	return found;
}

/* The replica's object is the redirector's (pc_url's object): the key
 * without its query. A reload between the fill's start and its end may
 * have renumbered the servers: the index is checked, and at worst one
 * hint is misplaced until it is forgotten. */
void edge_filled(struct edge_worker *ew, const char *key, size_t key_len, uint32_t holder)
{
	struct pcd_generation *gen = pcd_node_generation(ew->room->node);
	if (holder == 0 || holder > gen->model->n_servers)
		return;
	const char *query = memchr(key, '?', key_len);
	size_t len = query != NULL ? (size_t)(query - key) : key_len;
	uint64_t object = pc_live_object_key(key, len);
	pc_live_replica_add(gen->live, object, holder - 1, pcd_now_ms());
	/* The redirectors of other nodes hear of it over the overlay. */
	pcd_overlay_replica(ew->room->node, object, gen->model->servers[holder - 1].name);
}

void edge_prefill_free(struct edge_client *c)
{
	struct edge_prefill *job = c->prefill;
	if (job == NULL)
		return;
	for (unsigned i = 0; i < job->n; i++) {
		pcd_object_unref(job->items[i].object);
		free(job->items[i].key);
	}
	free(job->text);
	free(job);
	c->prefill = NULL;
}

/* Routes item's URL and looks it up; starts its fill when needed.
 * False when it could not start for max_fetches (it stays pending). */
static bool prefill_start(struct edge_client *c, struct prefill_item *item)
{
	struct edge_worker *ew = c->ew;
	struct edge_prefill *job = c->prefill;
	const struct pc_edge_params *params = edge_params(ew);
	struct pcd_store *store = ew->shared->store;
	item->outcome = PF_REFUSED;
	if (item->url_len > params->max_target_bytes) {
		item->status = 414;
		return true;
	}
	/* edge_client_route() reads c->req: a GET of the URL stands in for a moment. */
	struct pc_buf get = {0};
	if (!pc_buf_printf(&get, "GET %.*s HTTP/1.1\r\nHost: prefill.invalid\r\n\r\n",
	                   (int)item->url_len, item->url) ||
	    pc_http_parse_request(get.data, get.len, get.len, &job->head) <= 0) {
		pc_buf_free(&get);
		item->status = 400;
		return true;
	}
	struct pc_http_head *saved = c->req;
	c->req = &job->head;
	const char *why = NULL;
	unsigned refused = edge_client_route(c, &why);
	c->req = saved;
	if (refused == 0 && c->directory)
		refused = 501; /* a name: pre-fill the origin URL the directory gives */
	if (refused != 0 || (item->key = strndup(c->key, c->key_len)) == NULL) {
		pc_buf_free(&get);
		item->status = refused != 0 ? refused : 503;
		return true;
	}
	item->key_len = c->key_len;
	item->provider = c->provider;
	if (job->channel && !edge_channel_root(ew, item->provider)) {
		pc_buf_free(&get);
		item->status = 409; /* sent from anywhere else, no edge would listen */
		return true;
	}
	struct edge_fetch_request req = {.key = item->key,
	                                 .key_len = item->key_len,
	                                 .host = item->key,
	                                 .host_len = c->host_len,
	                                 .path = item->key + c->host_len,
	                                 .path_len = item->key_len - c->host_len,
	                                 .client_head = &job->head,
	                                 .shared = true,
	                                 .counters = c->counters,
	                                 .holder = job->holder};
	struct pcd_object *object = pcd_store_lookup(store, item->key, item->key_len);
	bool stale = false;
	if (object != NULL && pcd_object_state(object) == PCD_OBJECT_COMPLETE) {
		struct pcd_head *head = pcd_object_head(object);
		size_t meta_len;
		const struct edge_meta *meta = head ? pcd_head_meta(head, &meta_len) : NULL;
		struct pc_cache_control cc;
		pc_cache_control_request(&job->head, &cc);
		bool fresh = meta != NULL && meta_len >= sizeof(*meta) && !meta->error &&
		             meta->vary_len == 0 &&
		             pc_cache_decide(&meta->entry, &cc, (int64_t)(pcd_now_ms() / 1000)) ==
		                 PC_CACHE_FRESH;
		if (fresh) {
			item->outcome = PF_CACHED;
			item->status = meta->entry.status;
			edge_filled(ew, item->key, item->key_len, job->holder);
			to_channel(c, item);
		}
		pcd_head_unref(head);
		if (fresh) {
			pcd_object_unref(object);
			pc_buf_free(&get);
			return true;
		}
		stale = true;
	} else if (object != NULL && pcd_object_state(object) == PCD_OBJECT_FILLING) {
		item->object = object; /* another fill: wait for it */
		item->outcome = PF_FILLING;
		job->filling++;
		pc_buf_free(&get);
		return true;
	}
	pcd_object_unref(object);
	if (ew->n_fetches >= params->max_fetches) {
		free(item->key);
		item->key = NULL;
		item->outcome = PF_PENDING;
		pc_buf_free(&get);
		return false;
	}
	bool created = true;
	/* Stale, or another variant: a fresh fill replaces it once stored. */
	object =
	    stale ? pcd_object_new() : pcd_store_begin(store, item->key, item->key_len, &created);
	if (object == NULL) {
		item->outcome = PF_FAILED;
		item->status = 503;
		pc_buf_free(&get);
		return true;
	}
	if (created)
		edge_fetch_start(ew, &req, object, NULL, NULL, stale);
	pc_buf_free(&get);
	item->object = object;
	item->outcome = PF_FILLING;
	job->filling++;
	return true;
}

/* item's object ended: what became of it. */
static void prefill_ended(struct edge_client *c, struct prefill_item *item)
{
	struct edge_prefill *job = c->prefill;
	struct pcd_object *object = item->object;
	item->outcome = PF_FAILED;
	item->status = 502;
	if (pcd_object_state(object) == PCD_OBJECT_COMPLETE) {
		struct pcd_head *head = pcd_object_head(object);
		size_t meta_len;
		const struct edge_meta *meta = head ? pcd_head_meta(head, &meta_len) : NULL;
		if (meta != NULL && meta_len >= sizeof(*meta)) {
			item->status = meta->entry.status;
			if (!meta->error) {
				struct pcd_object *stored = pcd_store_lookup(
				    c->ew->shared->store, item->key, item->key_len);
				item->outcome = stored == object ? PF_FILLED : PF_UNCACHEABLE;
				pcd_object_unref(stored);
			}
		}
		pcd_head_unref(head);
	}
	if (item->outcome == PF_FILLED) {
		edge_filled(c->ew, item->key, item->key_len, job->holder);
		to_channel(c, item);
	}
	pcd_object_unref(object);
	item->object = NULL;
	job->filling--;
}

/* The answer, once every URL has ended; c may be freed. */
static void prefill_answer(struct edge_client *c)
{
	struct edge_prefill *job = c->prefill;
	struct pc_buf body = {0};
	bool ok = true;
	for (unsigned i = 0; ok && i < job->n; i++) {
		const struct prefill_item *item = &job->items[i];
		ok = pc_buf_printf(&body, "%u %s %.*s\n", item->status,
		                   prefill_names[item->outcome], (int)item->url_len, item->url);
	}
	char date[PC_HTTP_DATE_SIZE];
	pc_http_date_format((int64_t)(pcd_now_ms() / 1000), date);
	struct pc_buf *out = pcd_conn_out(c->conn);
	size_t before = out->len;
	ok = ok && pc_buf_printf(out,
	                         "HTTP/1.1 200 OK\r\nDate: %s\r\nServer: peercdn\r\n"
	                         "Content-Type: text/plain\r\nCache-Control: no-store\r\n"
	                         "Content-Length: %zu\r\n%s\r\n",
	                         date, body.len, c->keep_alive ? "" : "Connection: close\r\n");
	c->head_bytes += out->len - before;
	ok = ok && pc_buf_append(out, body.data, body.len);
	c->bytes_out += body.len;
	pc_buf_free(&body);
	c->status = 200;
	c->result = EDGE_PASS;
	c->key_len = 0; /* the log's u-uri: the URLs are in the body */
	c->counters = NULL;
	c->provider = PC_NONE;
	edge_prefill_free(c);
	if (!ok) {
		edge_client_abort(c);
		return;
	}
	edge_client_finish(c);
}

/* Starts what may start, collects what ended, and waits for the rest:
 * on every wake of one of its objects. */
void edge_prefill_progress(struct edge_client *c)
{
	struct edge_prefill *job = c->prefill;
	struct edge_worker *ew = c->ew;
	bool ended;
	do {
		while (job->next < job->n && prefill_start(c, &job->items[job->next]))
			job->next++;
		if (job->next < job->n && job->filling == 0) {
			/* Nothing of ours in flight to make room: the rest is busy. */
			for (; job->next < job->n; job->next++) {
				job->items[job->next].outcome = PF_BUSY;
				job->items[job->next].status = 503;
			}
		}
		ended = false;
		for (unsigned i = 0; i < job->next; i++) {
			struct prefill_item *item = &job->items[i];
			if (item->outcome != PF_FILLING)
				continue;
			/* The bit first, then the state: an end after the look
			 * still wakes us. */
			atomic_fetch_or(pcd_object_waiters(item->object), UINT64_C(1)
			                                                      << ew->worker->index);
			if (pcd_object_state(item->object) == PCD_OBJECT_FILLING)
				continue;
			prefill_ended(c, item);
			ended = true;
		}
	} while (ended && job->next < job->n);
	if (job->filling > 0) {
		if (!c->waiting) { /* wait_on's list, with the bits set above */
			c->wnext = ew->waiting;
			c->wprev = NULL;
			if (ew->waiting != NULL)
				ew->waiting->wprev = c;
			ew->waiting = c;
			c->waiting = true;
		}
		return;
	}
	prefill_answer(c);
}

/* POST /.peercdn/prefill: checks who asks and what, then starts. */
void edge_prefill_begin(struct edge_client *c)
{
	if (!edge_method_is(c->req, "POST")) {
		edge_client_respond(c, 405, "a pre-fill is a POST of URLs");
		return;
	}
	if (!pc_edge_control_allowed(edge_params(c->ew), pcd_conn_source(c->conn))) {
		edge_client_respond(
		    c, 403, "pre-fill is not allowed from this address (edge.control_allow)");
		return;
	}
	/* text/uri-list (RFC 2483): a URL a line; '#' lines are comments. */
	unsigned n = 0;
	for (size_t at = 0; at < c->body_len;) {
		const char *eol = memchr(c->body + at, '\n', c->body_len - at);
		size_t end = eol != NULL ? (size_t)(eol - c->body) : c->body_len;
		size_t len = end - at;
		if (len > 0 && c->body[at + len - 1] == '\r')
			len--;
		n += len > 0 && c->body[at] != '#';
		at = end + 1;
	}
	if (n == 0) {
		edge_client_respond(c, 400, "no URLs: the body is a URL a line");
		return;
	}
	if (n > PREFILL_MAX_URLS) {
		edge_client_respond(c, 413, "too many URLs in one pre-fill (at most 1024)");
		return;
	}
	struct edge_prefill *job = calloc(1, sizeof(*job) + n * sizeof(job->items[0]));
	char *text = job != NULL ? malloc(c->body_len) : NULL;
	if (text == NULL) {
		free(job);
		edge_client_respond(c, 503, "out of memory");
		return;
	}
	memcpy(text, c->body, c->body_len);
	job->text = text;
	for (size_t at = 0; at < c->body_len;) {
		const char *eol = memchr(text + at, '\n', c->body_len - at);
		size_t end = eol != NULL ? (size_t)(eol - text) : c->body_len;
		size_t len = end - at;
		if (len > 0 && text[at + len - 1] == '\r')
			len--;
		if (len > 0 && text[at] != '#')
			job->items[job->n++] =
			    (struct prefill_item){.url = text + at, .url_len = len};
		at = end + 1;
	}
	job->holder = edge_addressed_server(c);
	job->channel = is_channel_mode(c->req);
	c->prefill = job;
	c->result = EDGE_PASS;
	edge_prefill_progress(c);
}
