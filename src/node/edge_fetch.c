/* edge_fetch: the edge's upstream side. A fetch sends one request to an
 * upstream — the next hop of the provider's cache-miss tree on the
 * overlay, the parents in their order, then the origin's address — and
 * fills an object of the store with the response as it arrives: the head
 * once it is whole (what RFC 9111 lets a shared cache keep of it), the
 * body block by block, waking the workers whose clients stream it. A
 * response that breaks (a reset, a short body, a bad chunk, a timeout) is
 * never finished: its object is aborted, and a client streaming it has
 * its connection cut, never a short response that looks whole.
 *
 * Upstream connections run on a second connection engine of the worker
 * (dialled and adopted), with the upstream timeout as its header and idle
 * timeouts, and go back to a per-worker keep-alive pool after a response
 * that leaves them usable. */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/base/buf.h"
#include "lib/base/err.h"
#include "node/edge_internal.h"
#include "node/log.h"
#include "node/net.h"
#include "node/overlay.h"

enum {
	MAX_UPSTREAMS = 9, /* the tree's next hop and parents (8 at most), then the origin */
	POOL_MAX = 64,     /* idle upstream connections per worker */
	UP_MAX_INPUT = 2 * 65536,
};

enum phase { PH_WAITING, PH_HEAD, PH_BODY, PH_DONE };

struct edge_fetch {
	struct edge_worker *ew;
	struct edge_fetch *prev, *next;
	struct pcd_object *object;
	struct pcd_object *stale;
	struct edge_client *client;
	struct edge_provider_counters *counters;
	char *key;
	size_t key_len;
	char *host; /* the origin host */
	size_t host_len;
	char *path;
	size_t path_len;
	struct pc_buf fields; /* forwarded request fields, each with its CRLF */
	char *body;
	size_t body_len;
	char method[EDGE_METHOD_MAX + 1];
	bool shared, insert, head_only;
	bool replaces_stale; /* object is indexed in stale's place (a shared revalidation) */
	bool kept;           /* the response is stored under key */
	uint32_t holder;     /* edge_fetch_request.holder */
	struct pc_hostport upstreams[MAX_UPSTREAMS];
	bool to_parent[MAX_UPSTREAMS];
	unsigned n_upstreams, next_upstream;
	bool retried_fresh; /* a reused connection failed at once: tried a new one */
	bool sending;       /* in try_next: a connection lost now is tried again there */
	struct edge_upconn *up;
	struct pc_buf request; /* as sent to the current upstream */
	enum phase phase;
	uint64_t started_ms;
	int64_t request_time;
	enum pc_http_framing framing;
	uint64_t remaining;
	struct pc_http_chunked chunked;
	bool keep_alive;
	bool head_set;
	char *head_buf; /* the stored head being built */
};

static void fetch_free(struct edge_fetch *f)
{
	struct edge_worker *ew = f->ew;
	if (f->stale != NULL && f->insert) /* a background refresh ended: another may start */
		atomic_fetch_and(pcd_object_marks(f->stale), ~(uint32_t)EDGE_MARK_REFRESHING);
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		ew->fetches = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	ew->n_fetches--;
	pcd_object_unref(f->object);
	pcd_object_unref(f->stale);
	pc_buf_free(&f->fields);
	pc_buf_free(&f->request);
	free(f->key);
	free(f->host);
	free(f->path);
	free(f->body);
	free(f->head_buf);
	free(f);
}

static int64_t now_s(void)
{
	return (int64_t)(pcd_now_ms() / 1000);
}

/* ---- upstream connections ---- */

static void pool_unlink(struct edge_worker *ew, struct edge_upconn *up)
{
	if (up->prev != NULL)
		up->prev->next = up->next;
	else if (ew->pool == up)
		ew->pool = up->next;
	if (up->next != NULL)
		up->next->prev = up->prev;
	up->prev = up->next = NULL;
}

static unsigned pool_count(const struct edge_worker *ew)
{
	unsigned n = 0;
	for (const struct edge_upconn *up = ew->pool; up != NULL; up = up->next)
		n++;
	return n;
}

static bool same_upstream(const struct pc_hostport *a, const struct pc_hostport *b)
{
	return a->port == b->port && pc_addr_equal(&a->addr, &b->addr);
}

/* An idle pooled connection to at, or a new one being dialled. */
static struct edge_upconn *upconn_get(struct edge_worker *ew, const struct pc_hostport *at)
{
	for (struct edge_upconn *up = ew->pool; up != NULL; up = up->next)
		if (same_upstream(&up->at, at)) {
			pool_unlink(ew, up);
			up->reused = true;
			return up;
		}
	struct sockaddr_storage ss;
	socklen_t ss_len = pcd_sockaddr_from_addr(&at->addr, at->port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, ss_len) != 0 && errno != EINPROGRESS) {
		close(fd);
		return NULL;
	}
	struct edge_upconn *up = calloc(1, sizeof(*up));
	if (up == NULL) {
		close(fd);
		return NULL;
	}
	up->ew = ew;
	up->at = *at;
	ew->adopting = up;
	struct pcd_conn *conn;
	int err = pcd_conn_adopt(ew->up_engine, fd, &at->addr, &conn);
	ew->adopting = NULL;
	if (err != 0 || conn == NULL)
		return NULL; /* the engine closed fd and freed up (free ran) */
	return up;
}

/* The response ended and left the connection usable: back to the pool. */
static void upconn_release(struct edge_worker *ew, struct edge_upconn *up, bool keep)
{
	up->fetch = NULL;
	if (!keep || pool_count(ew) >= POOL_MAX) {
		pcd_conn_set_state(up->conn, PCD_CONN_CLOSING);
		pcd_conn_send(up->conn);
		return;
	}
	up->got_bytes = false;
	up->next = ew->pool;
	if (ew->pool != NULL)
		ew->pool->prev = up;
	ew->pool = up;
	pcd_conn_set_state(up->conn, PCD_CONN_IDLE);
}

/* ---- building the request ---- */

/* Request fields a proxy does not forward: hop-by-hop ones, Host (it is
 * rewritten), and, on a fill shared with other clients, a client's
 * preconditions and Range (the fill must bring the whole object). */
static bool forwarded(const struct pc_http_head *head, const struct pc_http_field *f, bool shared)
{
	static const char *const never[] = {"host", "content-length", "expect", NULL};
	static const char *const not_shared[] = {"range",
	                                         "if-range",
	                                         "if-match",
	                                         "if-none-match",
	                                         "if-modified-since",
	                                         "if-unmodified-since",
	                                         NULL};
	if (pc_http_field_is_hop(head, f))
		return false;
	for (const char *const *n = never; *n != NULL; n++)
		if (f->name_len == strlen(*n) && strncasecmp(f->name, *n, f->name_len) == 0)
			return false;
	for (const char *const *n = not_shared; shared && *n != NULL; n++)
		if (f->name_len == strlen(*n) && strncasecmp(f->name, *n, f->name_len) == 0)
			return false;
	return true;
}

static bool build_request(struct edge_fetch *f, bool to_parent)
{
	struct pc_buf *r = &f->request;
	r->len = 0;
	bool ok = to_parent ? pc_buf_printf(r, "%s /%.*s%.*s HTTP/1.1\r\n", f->method,
	                                    (int)f->host_len, f->host, (int)f->path_len, f->path)
	                    : pc_buf_printf(r, "%s %.*s HTTP/1.1\r\n", f->method, (int)f->path_len,
	                                    f->path);
	ok = ok && pc_buf_printf(r, "Host: %.*s\r\n", (int)f->host_len, f->host) &&
	     pc_buf_append(r, f->fields.data, f->fields.len) &&
	     pc_buf_printf(r, "Via: %s\r\n", f->ew->via);
	if (ok && f->stale != NULL) {
		struct pcd_head *sh = pcd_object_head(f->stale);
		if (sh != NULL) {
			size_t len;
			const char *bytes = pcd_head_bytes(sh, &len);
			struct pc_http_head *stored = malloc(sizeof(*stored));
			char validators[2048];
			int n;
			if (stored != NULL && pc_http_parse_response(bytes, len, len, stored) > 0 &&
			    (n = pc_cache_validators(stored, validators, sizeof(validators))) > 0)
				ok = pc_buf_append(r, validators, (size_t)n);
			free(stored);
			pcd_head_unref(sh);
		}
	}
	if (ok && f->body != NULL)
		ok = pc_buf_printf(r, "Content-Length: %zu\r\n", f->body_len);
	ok = ok && pc_buf_append(r, "\r\n", 2);
	if (ok && f->body != NULL)
		ok = pc_buf_append(r, f->body, f->body_len);
	return ok;
}

/* ---- the cache-miss tree (docs/edge.md, "The cache-miss tree") ---- */

/* The first upstream of a provider's miss: this router's next hop toward
 * the first of the provider's injection points that the overlay routes
 * (the route view, published by worker 0 after every SPF), at the edge
 * edge.tree names for it. False when the node runs no overlay, the
 * provider has no injection point, this router is the first one routed
 * (the root: its parents, then the origin), or the hop has no edge. */
static bool tree_hop(struct edge_worker *ew, const struct pc_edge_params *params, uint32_t provider,
                     struct pc_hostport *out)
{
	for (uint32_t i = 0; i < params->n_injections; i++) {
		const struct pc_edge_injection *inj = &params->injections[i];
		if (inj->provider != provider)
			continue;
		struct pcd_overlay_hop hop;
		int err = pcd_overlay_route_to(ew->room->node, inj->router, &hop);
		if (err == -EEXIST)
			return false; /* the root */
		if (err != 0)
			continue; /* not routed (dead, unknown, or no overlay): the next one */
		if (!hop.has_edge)
			return false;
		*out = hop.edge;
		return true;
	}
	return false;
}

/* ---- outcomes ---- */

static void fetch_done(struct edge_fetch *f)
{
	if (f->up != NULL) {
		struct edge_upconn *up = f->up;
		f->up = NULL;
		upconn_release(f->ew, up, f->keep_alive);
	}
	fetch_free(f);
}

void edge_object_error(struct edge_shared *shared, struct pcd_object *object, const char *key,
                       size_t key_len, unsigned status, int64_t now)
{
	pcd_store_remove(shared->store, key, key_len, object);
	char body[96];
	int body_len = snprintf(body, sizeof(body), "peercdn: the upstream failed (%u %s)\n",
	                        status, pc_http_reason(status));
	char date[PC_HTTP_DATE_SIZE];
	pc_http_date_format(now, date);
	char head[512];
	int head_len = snprintf(head, sizeof(head),
	                        "HTTP/1.1 %u %s\r\nDate: %s\r\nContent-Type: text/plain\r\n"
	                        "Cache-Control: no-store\r\nContent-Length: %d\r\n\r\n",
	                        status, pc_http_reason(status), date, body_len);
	struct edge_meta meta = {
	    .version = EDGE_META_VERSION,
	    .body_len = (uint64_t)body_len,
	    .shared = true,
	    .error = true,
	    .entry = {.status = status,
	              .date = now,
	              .request_time = now,
	              .response_time = now,
	              .last_modified = -1,
	              .stale_if_error = -1,
	              .stale_while_revalidate = -1},
	};
	if (pcd_object_set_head(object, head, (size_t)head_len, &meta, sizeof(meta)) != 0 ||
	    pcd_object_append(object, body, (size_t)body_len) != 0) {
		pcd_object_abort(object);
	} else {
		pcd_object_finish(object);
	}
	edge_wake(shared, object);
}

static bool try_next(struct edge_fetch *f);
static bool take_stale(struct edge_fetch *f, enum edge_result took);
static bool stale_covers_error(struct edge_fetch *f, bool answered);

/* The fetch failed on its current upstream. Before any byte of a
 * response, another upstream (or a fresh connection after a reused one
 * died at once) is tried; after, the object is lost. */
static void fetch_fail(struct edge_fetch *f, enum edge_counter why, unsigned status)
{
	struct edge_worker *ew = f->ew;
	PCD_BUMP(ew->misc[why]);
	bool began = f->up != NULL && f->up->got_bytes;
	bool fresh_retry = f->up != NULL && f->up->reused && !began && !f->retried_fresh;
	if (f->up != NULL) {
		struct edge_upconn *up = f->up;
		f->up = NULL;
		up->fetch = NULL;
		pcd_conn_abort(up->conn);
	}
	/* A request that is not idempotent (RFC 9110 §9.2.2) is sent again
	 * only when it cannot have arrived: the connection was never made. */
	static const char *const idempotent_methods[] = {"GET",    "HEAD",    "PUT",
	                                                 "DELETE", "OPTIONS", NULL};
	bool idempotent = false;
	for (const char *const *m = idempotent_methods; *m != NULL; m++)
		idempotent |= strcmp(f->method, *m) == 0;
	if (!began && !f->head_set && (idempotent || why == EC_UPSTREAM_CONNECT)) {
		if (fresh_retry) {
			f->retried_fresh = true;
			f->next_upstream--; /* the same upstream, on a new connection */
		}
		if (why != EC_UPSTREAM_TIMEOUT && try_next(f))
			return;
	}
	if (f->head_set) {
		pcd_object_abort(f->object);
		edge_wake(ew->shared, f->object);
	} else if (stale_covers_error(f, false)) {
		take_stale(f, EDGE_STALE_ERROR);
	} else if (f->client != NULL) {
		edge_client_fetched(f->client, NULL, EDGE_ERROR, status);
	} else {
		edge_object_error(ew->shared, f->object, f->key, f->key_len, status, now_s());
	}
	fetch_free(f);
}

/* Sends the request to the next upstream. False when there is none left
 * or none could be reached (the caller reports the failure). */
static bool try_next(struct edge_fetch *f)
{
	while (f->next_upstream < f->n_upstreams) {
		unsigned i = f->next_upstream++;
		struct edge_upconn *up = upconn_get(f->ew, &f->upstreams[i]);
		if (up == NULL) {
			PCD_BUMP(f->ew->misc[EC_UPSTREAM_CONNECT]);
			continue;
		}
		if (!build_request(f, f->to_parent[i])) {
			upconn_release(f->ew, up, true);
			return false;
		}
		up->fetch = f;
		up->got_bytes = up->timed_out = false;
		f->up = up;
		f->phase = PH_HEAD;
		f->started_ms = pcd_mono_ms();
		f->request_time = now_s();
		if (!pc_buf_append(pcd_conn_out(up->conn), f->request.data, f->request.len)) {
			up->fetch = NULL;
			f->up = NULL;
			pcd_conn_abort(up->conn);
			return false;
		}
		pcd_conn_set_state(up->conn, PCD_CONN_BUSY);
		f->sending = true;
		int err = pcd_conn_send(up->conn);
		f->sending = false;
		if (err == 0 && f->up != NULL)
			return true;
		PCD_BUMP(f->ew->misc[EC_UPSTREAM_CONNECT]); /* refused at once: the next one */
	}
	return false;
}

/* ---- the response ---- */

static void finish_body(struct edge_fetch *f)
{
	f->phase = PH_DONE;
	if (f->kept && f->holder != 0)
		edge_filled(f->ew, f->key, f->key_len, f->holder);
	pcd_object_finish(f->object);
	edge_wake(f->ew->shared, f->object);
	fetch_done(f);
}

static void invalidate(struct edge_fetch *f, const struct pc_http_head *req,
                       const struct pc_http_head *resp)
{
	struct pcd_store *store = f->ew->shared->store;
	if (!pc_cache_invalidates(req, resp))
		return;
	pcd_store_remove(store, f->key, f->key_len, NULL);
	char origin[300];
	snprintf(origin, sizeof(origin), "http://%.*s", (int)f->host_len, f->host);
	struct pc_cache_span paths[2];
	unsigned n = pc_cache_invalidation_paths(resp, origin, paths);
	for (unsigned i = 0; i < n; i++) {
		char key[EDGE_KEY_MAX];
		int len = snprintf(key, sizeof(key), "%.*s%.*s", (int)f->host_len, f->host,
		                   (int)paths[i].len, paths[i].ptr);
		if (len > 0 && (size_t)len < sizeof(key))
			pcd_store_remove(store, key, (size_t)len, NULL);
	}
}

/* A 304 to a revalidation: the stored head takes the 304's fields and the
 * entry its times. */
static void refresh_stale(struct edge_fetch *f, const struct pc_http_head *resp)
{
	struct pcd_head *sh = pcd_object_head(f->stale);
	if (sh == NULL)
		return;
	size_t len, meta_len;
	const char *bytes = pcd_head_bytes(sh, &len);
	const struct edge_meta *old = pcd_head_meta(sh, &meta_len);
	struct pc_http_head *stored = malloc(2 * sizeof(*stored));
	char *merged = malloc(EDGE_HEAD_MAX);
	size_t full = sizeof(struct edge_meta) + old->vary_len;
	struct edge_meta *meta = malloc(full);
	int n;
	if (stored != NULL && merged != NULL && meta != NULL &&
	    pc_http_parse_response(bytes, len, len, stored) > 0 &&
	    (n = pc_cache_write_head(stored, resp, merged, EDGE_HEAD_MAX)) > 0 &&
	    pc_http_parse_response(merged, (size_t)n, (size_t)n, &stored[1]) > 0) {
		memcpy(meta, old, full);
		pc_cache_entry_init(&meta->entry, &stored[1], f->request_time, now_s());
		pcd_object_set_head(f->stale, merged, (size_t)n, meta, full);
	}
	free(stored);
	free(merged);
	free(meta);
	pcd_head_unref(sh);
}

size_t edge_variant_key(const char *key, size_t key_len, uint64_t gen, const char *vary,
                        size_t vary_len, char *out)
{
	memmove(out, key, key_len); /* out may be key */
	out[key_len] = '\0';
	snprintf(out + key_len + 1, 17, "%016" PRIx64, gen);
	memcpy(out + key_len + EDGE_VARIANT_EXTRA, vary, vary_len);
	return key_len + EDGE_VARIANT_EXTRA + vary_len;
}

/* The first response with Vary for a URL: a stub of its Vary fields goes
 * under the URL's key, and the object under its variant's key. */
static bool file_variant(struct edge_fetch *f, const struct pc_http_head *resp,
                         struct edge_meta *meta)
{
	struct pcd_store *store = f->ew->shared->store;
	struct pc_buf head = {0};
	bool ok = pc_buf_printf(&head, "HTTP/1.1 200 OK\r\n");
	for (unsigned i = 0; ok && i < resp->n_fields; i++) {
		const struct pc_http_field *field = &resp->fields[i];
		if (field->name_len == 4 && strncasecmp(field->name, "vary", 4) == 0)
			ok = pc_buf_printf(&head, "Vary: %.*s\r\n", (int)field->value_len,
			                   field->value);
	}
	ok = ok && pc_buf_append(&head, "\r\n", 2);
	static _Atomic uint64_t sequence;
	uint64_t gen = (pcd_now_ms() << 20) ^ atomic_fetch_add(&sequence, 1);
	struct edge_meta stub_meta = {.version = EDGE_META_VERSION,
	                              .shared = true,
	                              .vary_stub = true,
	                              .vary_gen = gen,
	                              .entry = meta->entry};
	struct pcd_object *stub = ok ? pcd_object_new() : NULL;
	size_t variant_cap = f->key_len + EDGE_VARIANT_EXTRA + meta->vary_len;
	char *variant = malloc(variant_cap);
	ok = stub != NULL && variant != NULL &&
	     pcd_object_set_head(stub, head.data, head.len, &stub_meta, sizeof(stub_meta)) == 0;
	pc_buf_free(&head);
	if (ok) {
		pcd_object_finish(stub);
		pcd_store_remove(store, f->key, f->key_len, f->object);
		pcd_store_insert(store, f->key, f->key_len, stub);
		size_t len = edge_variant_key(f->key, f->key_len, gen, (const char *)(meta + 1),
		                              meta->vary_len, variant);
		pcd_store_insert(store, variant, len, f->object);
		free(f->key);
		f->key = variant;
		f->key_len = len;
		variant = NULL;
	}
	pcd_object_unref(stub);
	free(variant);
	return ok;
}

/* A shared revalidation's object becomes a copy of the stale one (its
 * head refreshed by a 304, or as it was when the upstream failed and
 * stale-if-error allows it): one copy of the body, for every client that
 * collapsed onto the revalidation. False when memory ran out. */
static bool take_stale(struct edge_fetch *f, enum edge_result took)
{
	struct pcd_head *sh = pcd_object_head(f->stale);
	size_t len, meta_len;
	const char *bytes = sh ? pcd_head_bytes(sh, &len) : NULL;
	const struct edge_meta *old = sh ? pcd_head_meta(sh, &meta_len) : NULL;
	struct edge_meta *meta = old ? malloc(meta_len) : NULL;
	bool ok = meta != NULL;
	if (ok) {
		memcpy(meta, old, meta_len);
		meta->took = (uint8_t)took;
		ok = pcd_object_set_head(f->object, bytes, len, meta, meta_len) == 0;
	}
	free(meta);
	pcd_head_unref(sh);
	uint64_t size = pcd_object_filled(f->stale);
	pcd_object_reserve(f->object, size);
	for (uint64_t at = 0; ok && at < size;) {
		struct iovec iov[16];
		int n = pcd_object_body(f->stale, at, iov, 16);
		if (n <= 0)
			break;
		for (int i = 0; ok && i < n; i++) {
			ok = pcd_object_append(f->object, iov[i].iov_base, iov[i].iov_len) == 0;
			at += iov[i].iov_len;
		}
	}
	f->head_set = true;
	if (ok)
		pcd_object_finish(f->object);
	else
		pcd_object_abort(f->object);
	edge_wake(f->ew->shared, f->object);
	return ok;
}

/* Whether stale may stand in for a failed shared revalidation: answered
 * with an error (stale-if-error), or not answered at all (RFC 9111
 * §4.2.4: disconnected). */
static bool stale_covers_error(struct edge_fetch *f, bool answered)
{
	if (!f->replaces_stale)
		return false;
	struct pcd_head *sh = pcd_object_head(f->stale);
	size_t meta_len;
	const struct edge_meta *m = sh ? pcd_head_meta(sh, &meta_len) : NULL;
	struct pc_cache_control none = {.max_age = PC_CC_ABSENT,
	                                .s_maxage = PC_CC_ABSENT,
	                                .stale_while_revalidate = PC_CC_ABSENT,
	                                .stale_if_error = PC_CC_ABSENT,
	                                .max_stale = PC_CC_ABSENT,
	                                .min_fresh = PC_CC_ABSENT};
	bool ok = m != NULL && (answered ? pc_cache_stale_on_error(&m->entry, &none, now_s())
	                                 : pc_cache_stale_disconnected(&m->entry, &none, now_s()));
	pcd_head_unref(sh);
	return ok;
}

/* The response head: what to keep of it, where the object goes. Returns
 * false when the fetch ended here (freed). */
static bool on_head(struct edge_fetch *f, const struct pc_http_head *resp)
{
	struct edge_worker *ew = f->ew;
	struct pc_http_head *req = malloc(sizeof(*req));
	if (req == NULL ||
	    pc_http_parse_request(f->request.data, f->request.len, f->request.len, req) <= 0) {
		free(req);
		fetch_fail(f, EC_UPSTREAM_BAD, 502);
		return false;
	}
	if (pc_http_response_framing(resp, f->head_only, &f->framing, &f->remaining) != 0) {
		free(req);
		fetch_fail(f, EC_UPSTREAM_BAD, 502);
		return false;
	}
	pc_http_chunked_init(&f->chunked);
	f->keep_alive = resp->version_minor >= 1 && f->framing != PC_HTTP_BODY_CLOSE &&
	                !pc_http_field_has_token(resp, "connection", "close");
	/* A parent met a loop (508: an edge of the tree twice on the path,
	 * while routes changed): the next upstream, as when a parent is down,
	 * before any byte of the answer is used. */
	if (resp->status == 508 && f->next_upstream > 0 && f->to_parent[f->next_upstream - 1] &&
	    f->next_upstream < f->n_upstreams) {
		free(req);
		struct edge_upconn *up = f->up;
		f->up = NULL;
		up->fetch = NULL;
		pcd_conn_abort(up->conn);
		PCD_BUMP(ew->misc[EC_UPSTREAM_LOOP]);
		if (!try_next(f))
			fetch_fail(f, EC_UPSTREAM_CONNECT, 502);
		return false;
	}
	invalidate(f, req, resp);
	int64_t response_time = now_s();

	if (f->stale != NULL && resp->status == 304) {
		refresh_stale(f, resp);
		free(req);
		if (f->client != NULL)
			edge_client_fetched(f->client, f->stale, EDGE_REVALIDATED, 0);
		f->client = NULL;
		f->phase = PH_DONE;
		if (f->replaces_stale)
			take_stale(f, EDGE_REVALIDATED);
		else
			pcd_object_abort(f->object); /* never used: nobody sees it */
		fetch_done(f);
		return false;
	}
	if (pc_cache_status_is_error(resp->status) && stale_covers_error(f, true)) {
		free(req);
		f->phase = PH_DONE;
		f->keep_alive = false; /* its body is not read */
		take_stale(f, EDGE_STALE_ERROR);
		fetch_done(f);
		return false;
	}

	enum pc_cache_store storable = pc_cache_storable(req, resp);
	size_t meta_cap = sizeof(struct edge_meta) + EDGE_VARY_MAX;
	struct edge_meta *meta = calloc(1, meta_cap);
	if (f->head_buf == NULL)
		f->head_buf = malloc(EDGE_HEAD_MAX);
	int head_len = f->head_buf != NULL
	                   ? pc_cache_write_head(resp, NULL, f->head_buf, EDGE_HEAD_MAX)
	                   : PC_ENOMEM;
	int vary_len = pc_cache_vary_key(resp, req, (char *)(meta + 1), EDGE_VARY_MAX);
	free(req);
	if (meta == NULL || head_len <= 0) {
		free(meta);
		fetch_fail(f, EC_UPSTREAM_BAD, 502);
		return false;
	}
	meta->version = EDGE_META_VERSION;
	meta->vary_len = vary_len > 0 ? (uint32_t)vary_len : 0;
	meta->body_len = f->framing == PC_HTTP_BODY_LENGTH ? f->remaining
	                 : f->framing == PC_HTTP_BODY_NONE ? 0
	                                                   : UINT64_MAX;
	meta->shared = storable == PC_CACHE_STORE_OK && vary_len >= 0;
	pc_cache_entry_init(&meta->entry, resp, f->request_time, response_time);

	const struct pc_edge_params *params = edge_params(ew);
	uint64_t max_object = (uint64_t)params->max_object_mb << 20;
	bool keep = meta->shared && f->shared && meta->body_len != UINT64_MAX
	                ? meta->body_len <= max_object
	                : meta->shared;
	f->kept = keep && f->shared;
	bool primary = memchr(f->key, '\0', f->key_len) == NULL;
	if (keep && vary_len > 0 && primary) {
		if (!file_variant(f, resp, meta)) {
			free(meta);
			fetch_fail(f, EC_UPSTREAM_BAD, 502);
			return false;
		}
	} else if (keep && f->insert) {
		pcd_store_insert(ew->shared->store, f->key, f->key_len, f->object);
	} else if (!keep) {
		pcd_store_remove(ew->shared->store, f->key, f->key_len, f->object);
	}
	if (f->framing == PC_HTTP_BODY_LENGTH && f->remaining <= max_object)
		pcd_object_reserve(f->object, f->remaining);
	int err = pcd_object_set_head(f->object, f->head_buf, (size_t)head_len, meta,
	                              sizeof(*meta) + meta->vary_len);
	free(meta);
	if (err != 0) {
		fetch_fail(f, EC_UPSTREAM_BAD, 502);
		return false;
	}
	f->head_set = true;
	if (f->client != NULL)
		edge_client_fetched(f->client, f->object, f->shared ? EDGE_MISS : EDGE_PASS, 0);
	f->client = NULL;
	edge_wake(ew->shared, f->object);
	f->phase = PH_BODY;
	pcd_conn_set_state(f->up->conn, PCD_CONN_IDLE); /* the body: the idle timeout */
	if (f->framing == PC_HTTP_BODY_NONE ||
	    (f->framing == PC_HTTP_BODY_LENGTH && f->remaining == 0)) {
		finish_body(f);
		return false;
	}
	return true;
}

static bool append(struct edge_fetch *f, const char *data, size_t len)
{
	if (len == 0)
		return true;
	if (pcd_object_append(f->object, data, len) != 0) {
		fetch_fail(f, EC_UPSTREAM_BAD, 502);
		return false;
	}
	f->counters->upstream_bytes += len;
	edge_wake(f->ew->shared, f->object);
	return true;
}

/* Body bytes; returns how many were consumed. *gone: the fetch ended. */
static size_t on_body(struct edge_fetch *f, const char *in, size_t len, bool *gone)
{
	size_t used = 0;
	if (f->framing == PC_HTTP_BODY_LENGTH) {
		size_t take = f->remaining < len ? (size_t)f->remaining : len;
		if (!append(f, in, take)) {
			*gone = true;
			return take;
		}
		f->remaining -= take;
		if (f->remaining == 0) {
			finish_body(f);
			*gone = true;
		}
		return take;
	}
	if (f->framing == PC_HTTP_BODY_CLOSE) {
		if (!append(f, in, len))
			*gone = true;
		return len;
	}
	while (used < len) {
		size_t consumed, data_len;
		const char *data;
		int r = pc_http_chunked_feed(&f->chunked, in + used, len - used, &consumed, &data,
		                             &data_len);
		if (r < 0) {
			fetch_fail(f, EC_UPSTREAM_BAD, 502);
			*gone = true;
			return len;
		}
		used += consumed;
		if (!append(f, data, data_len)) {
			*gone = true;
			return used;
		}
		if (r == 1) {
			finish_body(f);
			*gone = true;
			return used;
		}
		if (consumed == 0)
			break;
	}
	return used;
}

/* ---- the upstream engine's protocol ---- */

static void up_limits(void *ctx, struct pcd_conn_limits *out)
{
	const struct pc_edge_params *params = edge_params(ctx);
	*out = (struct pcd_conn_limits){
	    .max_conns = UINT32_MAX,
	    .max_per_source = UINT32_MAX,
	    .header_timeout_ms = params->upstream_timeout_ms,
	    .idle_timeout_ms = params->upstream_timeout_ms,
	};
}

static void *up_open(struct pcd_conn *conn, void *ctx)
{
	struct edge_worker *ew = ctx;
	struct edge_upconn *up = ew->adopting;
	if (up != NULL)
		up->conn = conn;
	return up;
}

static size_t up_input(struct pcd_conn *conn, void *state, const uint8_t *bytes, size_t len)
{
	struct edge_upconn *up = state;
	struct edge_fetch *f = up->fetch;
	const char *in = (const char *)bytes;
	if (f == NULL) { /* an idle connection talks: it is not in a state to reuse */
		pcd_conn_abort(conn);
		return len;
	}
	up->got_bytes = true;
	size_t used = 0;
	while (used < len && f->phase == PH_HEAD) {
		struct pc_http_head *resp = malloc(sizeof(*resp));
		if (resp == NULL) {
			fetch_fail(f, EC_UPSTREAM_BAD, 502);
			return len;
		}
		int r = pc_http_parse_response(in + used, len - used,
		                               edge_params(up->ew)->max_header_bytes, resp);
		if (r == 0) {
			free(resp);
			return used;
		}
		if (r < 0) {
			free(resp);
			fetch_fail(f, EC_UPSTREAM_BAD, 502);
			return len;
		}
		used += (size_t)r;
		if (resp->status < 200) { /* interim (100, 103): the final one follows */
			bool switching = resp->status == 101;
			free(resp);
			if (switching) {
				fetch_fail(f, EC_UPSTREAM_BAD, 502);
				return len;
			}
			continue;
		}
		bool alive = on_head(f, resp);
		free(resp);
		if (!alive)
			return used;
	}
	if (used < len && f->phase == PH_BODY) {
		bool gone = false;
		used += on_body(f, in + used, len - used, &gone);
		if (gone)
			return used;
	}
	return used;
}

static void up_end(struct pcd_conn *conn, void *state, enum pcd_conn_end why)
{
	struct edge_upconn *up = state;
	struct edge_fetch *f = up->fetch;
	pcd_conn_set_state(conn, PCD_CONN_CLOSING);
	if (f == NULL)
		return;
	if (why == PCD_CONN_END_TIMEOUT) {
		fetch_fail(f, EC_UPSTREAM_TIMEOUT, 504);
	} else if (f->phase == PH_BODY && f->framing == PC_HTTP_BODY_CLOSE) {
		f->keep_alive = false;
		finish_body(f);
	} else {
		fetch_fail(f, f->phase == PH_BODY ? EC_UPSTREAM_SHORT : EC_UPSTREAM_RESET, 502);
	}
}

static void up_free(void *state)
{
	struct edge_upconn *up = state;
	if (up == NULL)
		return;
	if (up->fetch != NULL) {
		struct edge_fetch *f = up->fetch;
		up->fetch = NULL;
		f->up = NULL;
		if (!f->sending)
			fetch_fail(f, f->phase == PH_BODY ? EC_UPSTREAM_SHORT : EC_UPSTREAM_RESET,
			           502);
	}
	pool_unlink(up->ew, up);
	free(up);
}

const struct pcd_conn_proto edge_upstream_proto = {
    .name = "edge-upstream",
    .max_input = UP_MAX_INPUT,
    .limits = up_limits,
    .open = up_open,
    .input = up_input,
    .end = up_end,
    .free = up_free,
};

/* ---- starting ---- */

struct edge_fetch *edge_fetch_start(struct edge_worker *ew, const struct edge_fetch_request *req,
                                    struct pcd_object *object, struct edge_client *client,
                                    struct pcd_object *stale, bool insert)
{
	const struct pc_edge_params *params = edge_params(ew);
	struct edge_fetch *f = calloc(1, sizeof(*f));
	if (f == NULL)
		goto fail;
	f->ew = ew;
	f->next = ew->fetches;
	if (ew->fetches != NULL)
		ew->fetches->prev = f;
	ew->fetches = f;
	ew->n_fetches++;
	pcd_object_ref(object);
	f->object = object;
	if (stale != NULL) {
		pcd_object_ref(stale);
		f->stale = stale;
	}
	f->client = client;
	f->shared = req->shared;
	f->insert = insert;
	f->replaces_stale = client == NULL && stale != NULL && !insert;
	f->counters = req->counters != NULL ? req->counters : &ew->providers[EDGE_MAX_PROVIDERS];
	f->holder = req->holder;
	pcd_object_set_tag(object,
	                   (uint8_t)(f->counters - ew->providers)); /* evictions by provider */
	f->key = strndup(req->key, req->key_len);
	f->key_len = req->key_len;
	f->host = strndup(req->host, req->host_len);
	f->host_len = req->host_len;
	f->path = strndup(req->path, req->path_len);
	f->path_len = req->path_len;
	const struct pc_http_head *ch = req->client_head;
	size_t mlen =
	    ch->method_len < sizeof(f->method) - 1 ? ch->method_len : sizeof(f->method) - 1;
	memcpy(f->method, ch->method, mlen);
	if (req->shared && strcmp(f->method, "HEAD") == 0)
		memcpy(f->method, "GET", 4); /* a shared fill brings the body for the store */
	f->head_only = strcmp(f->method, "HEAD") == 0;
	if (req->body != NULL) {
		f->body = malloc(req->body_len ? req->body_len : 1);
		if (f->body != NULL)
			memcpy(f->body, req->body, req->body_len);
		f->body_len = req->body_len;
	}
	if (f->key == NULL || f->host == NULL || f->path == NULL || (req->body && f->body == NULL))
		goto fail_fetch;
	for (unsigned i = 0; i < ch->n_fields; i++) {
		const struct pc_http_field *field = &ch->fields[i];
		if (forwarded(ch, field, req->shared) &&
		    !pc_buf_printf(&f->fields, "%.*s: %.*s\r\n", (int)field->name_len, field->name,
		                   (int)field->value_len, field->value))
			goto fail_fetch;
	}
	for (unsigned i = 0; i < req->n_upstreams && f->n_upstreams < MAX_UPSTREAMS; i++)
		f->upstreams[f->n_upstreams++] = req->upstreams[i];
	struct pc_hostport tree_parent;
	if (req->upstreams == NULL &&
	    tree_hop(ew, params, (uint32_t)(f->counters - ew->providers), &tree_parent)) {
		f->upstreams[f->n_upstreams] = tree_parent;
		f->to_parent[f->n_upstreams++] = true;
	}
	for (uint32_t i = 0;
	     req->upstreams == NULL && i < params->n_parents && f->n_upstreams < MAX_UPSTREAMS - 1;
	     i++) {
		f->upstreams[f->n_upstreams] = params->parents[i];
		f->to_parent[f->n_upstreams++] = true;
	}
	const struct pc_edge_origin *origin =
	    req->upstreams == NULL ? pc_edge_origin_find(params, req->host, req->host_len) : NULL;
	if (origin != NULL)
		f->upstreams[f->n_upstreams++] = origin->at;
	if (f->n_upstreams == 0) {
		PCD_BUMP(ew->misc[EC_NO_UPSTREAM]);
		goto fail_fetch;
	}
	f->counters->fetches++;
	if (!try_next(f)) {
		fetch_fail(f, EC_UPSTREAM_CONNECT, 502);
		return NULL;
	}
	return f;
fail_fetch:
	f->client = NULL;
	fetch_free(f);
fail:
	if (client != NULL)
		edge_client_fetched(client, NULL, EDGE_ERROR, 502);
	else
		edge_object_error(ew->shared, object, req->key, req->key_len, 502, now_s());
	return NULL;
}

void edge_fetch_detach(struct edge_fetch *fetch)
{
	fetch->client = NULL;
	if (!fetch->shared && !fetch->head_set) {
		/* For that client alone and nothing to keep: stop. */
		if (fetch->up != NULL) {
			struct edge_upconn *up = fetch->up;
			fetch->up = NULL;
			up->fetch = NULL;
			pcd_conn_abort(up->conn);
		}
		pcd_object_abort(fetch->object);
		fetch_free(fetch);
	}
}

void edge_fetch_tick(struct edge_worker *ew, uint64_t now_ms)
{
	uint32_t limit = edge_params(ew)->connect_timeout_ms;
	for (struct edge_fetch *f = ew->fetches, *next; f != NULL; f = next) {
		next = f->next;
		if (f->up == NULL || f->up->got_bytes || f->phase != PH_HEAD ||
		    now_ms - f->started_ms < limit)
			continue;
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		if (getpeername(pcd_conn_fd(f->up->conn), (struct sockaddr *)&ss, &len) != 0)
			fetch_fail(f, EC_UPSTREAM_CONNECT,
			           504); /* not connected yet: next upstream */
	}
	pcd_conn_tick(ew->up_engine, now_ms);
}

void edge_fetch_close_all(struct edge_worker *ew)
{
	while (ew->fetches != NULL) {
		struct edge_fetch *f = ew->fetches;
		f->client = NULL;
		if (f->up != NULL) {
			f->up->fetch = NULL;
			f->up = NULL;
		}
		if (f->head_set)
			pcd_object_abort(f->object);
		else
			edge_object_error(ew->shared, f->object, f->key, f->key_len, 503, now_s());
		fetch_free(f);
	}
}
