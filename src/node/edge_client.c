/* The edge's client side (the patent's §3.2–3.4): an HTTP/1.1 server for the
 * CDN's URLs — the origin host embedded in the path
 * (http://foo.cdn.acme.net/www.foo.com/index.html), or the plain path when
 * the Host is a configured origin host — answered from the node's store
 * (node/edge_store.h) or fetched upstream (edge_fetch.c) once per node:
 * any number of concurrent misses for one object wait on one fill and
 * stream it as it arrives. HTTP caching is RFC 9111's
 * (lib/proto/http_cache.h): freshness, validation, Vary, conditional and
 * Range requests, invalidation. Bodies go out by reference from the
 * store's blocks (pcd_conn_out_ref), never copied per client.
 *
 * Only URLs of configured providers are served: the edge is not an open
 * proxy. */
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

enum { BODY_IOV = 16, CLIENT_MAX_INPUT = 2 * 1048576 + 65536 };

const char *const edge_result_names[EDGE__RESULTS] = {
    "hit", "miss", "revalidated", "stale_error", "pass", "error",
};
/* The upstream failures are one metric with a reason label. */
const char *const edge_counter_names[EC__COUNT] = {
    "connect", "reset",       "timeout",         "bad_response",     "short_body",
    "loop",    "no_upstream", "aborted_clients", "refused_requests",
};
static const char *const x_cache[EDGE__RESULTS] = {
    "HIT", "MISS", "REVALIDATED", "STALE", "PASS", "ERROR",
};

static void object_release(void *arg)
{
	pcd_object_unref(arg);
}

/* ---- the waiting list ---- */

static void unwait(struct edge_client *c)
{
	if (!c->waiting)
		return;
	struct edge_worker *ew = c->ew;
	if (c->wprev != NULL)
		c->wprev->wnext = c->wnext;
	else
		ew->waiting = c->wnext;
	if (c->wnext != NULL)
		c->wnext->wprev = c->wprev;
	c->wprev = c->wnext = NULL;
	c->waiting = false;
}

static void wait_on(struct edge_client *c)
{
	struct edge_worker *ew = c->ew;
	if (!c->waiting) {
		c->wnext = ew->waiting;
		c->wprev = NULL;
		if (ew->waiting != NULL)
			ew->waiting->wprev = c;
		ew->waiting = c;
		c->waiting = true;
	}
	atomic_fetch_or(pcd_object_waiters(c->object), UINT64_C(1) << ew->worker->index);
}

/* ---- ending a request ---- */

/* A text field of a log record: printable, no tabs, at most size-1 bytes,
 * "-" when absent. */
static const char *log_text(const char *text, size_t len, char *out, size_t size)
{
	if (text == NULL || len == 0)
		return "-";
	size_t n = len < size - 1 ? len : size - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)text[i];
		out[i] = ch < 0x20 || ch == 0x7f || ch == '"' ? '_' : (char)ch;
	}
	out[n] = '\0';
	return out;
}

/* One record of RFC 7937's cdni_http_request_v1 (the #fields line that
 * edge_start writes): tab-separated, the client's group its AS. */
static void access_log(struct edge_client *c)
{
	FILE *log = c->ew->shared->access_log;
	if (log == NULL)
		return;
	uint64_t now = pcd_now_ms();
	time_t t = (time_t)(now / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	const pc_model *model = pcd_node_generation(c->ew->room->node)->model;
	const pc_addr *source = pcd_conn_source(c->conn);
	unsigned matched;
	uint32_t net = pc_model_client_net(model, source, &matched);
	char group[32] = "-";
	if (net != PC_NONE && model->client_nets[net].as < model->n_ases)
		snprintf(group, sizeof(group), "AS%" PRIu32,
		         model->ases[model->client_nets[net].as].asn);
	struct sockaddr_storage ss;
	socklen_t ss_len = sizeof(ss);
	pc_addr local = {0};
	uint16_t port = 0;
	char server[64] = "-";
	if (getsockname(pcd_conn_fd(c->conn), (struct sockaddr *)&ss, &ss_len) == 0) {
		pcd_addr_from_sockaddr(&ss, &local, &port);
		pc_addr_format(&local, server, sizeof(server));
	}
	const struct pc_http_head *req = c->req;
	const struct pc_http_field *ua = req ? pc_http_field_find(req, "user-agent", 0) : NULL;
	const struct pc_http_field *host = req ? pc_http_field_find(req, "host", 0) : NULL;
	char method[32], cs_uri[1200], target[1024], agent[256], hostbuf[256], upath[1024];
	const char *host_text =
	    host ? log_text(host->value, host->value_len, hostbuf, sizeof(hostbuf)) : server;
	const char *target_text =
	    req ? log_text(req->target, req->target_len, target, sizeof(target)) : "/";
	if (target_text[0] == '/' || target_text[0] == '-')
		snprintf(cs_uri, sizeof(cs_uri), "http://%s%s", host_text, target_text);
	else /* absolute-form: the URL as sent */
		snprintf(cs_uri, sizeof(cs_uri), "%s", target_text);
	pthread_mutex_lock(&c->ew->shared->log_lock);
	fprintf(log,
	        "%04d-%02d-%02d\t%02d:%02d:%02d.%03u\t%.3f\t%s\t%s\t%s\t%u\t%s\t%s\t%s%s\t"
	        "HTTP/1.%u\t%u\t%" PRIu64 "\t\"%s\"\t%d\t%s\n",
	        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	        (unsigned)(now % 1000), (double)(pcd_mono_ms() - c->started_ms) / 1000.0, group,
	        server, edge_node_name(c->ew), port,
	        req ? log_text(req->method, req->method_len, method, sizeof(method)) : "-", cs_uri,
	        c->key_len > 0 ? "http://" : "",
	        c->key_len > 0 ? log_text(c->key, c->host_len + c->path_len, upath, sizeof(upath))
	                       : "-",
	        req ? req->version_minor : 1, c->status, c->head_bytes + c->bytes_out,
	        ua ? log_text(ua->value, ua->value_len, agent, sizeof(agent)) : "-",
	        c->result == EDGE_HIT || c->result == EDGE_REVALIDATED ||
	            c->result == EDGE_STALE_ERROR,
	        edge_result_names[c->result]);
	fflush(log);
	pthread_mutex_unlock(&c->ew->shared->log_lock);
}

static void count(struct edge_client *c)
{
	struct edge_worker *ew = c->ew;
	struct edge_provider_counters *pc =
	    c->counters != NULL ? c->counters : &ew->providers[EDGE_MAX_PROVIDERS];
	PCD_BUMP(pc->requests[c->result]);
	pc->bytes_served += c->bytes_out;
	unsigned klass = c->status / 100;
	PCD_BUMP(ew->by_status[klass >= 1 && klass <= 5 ? klass - 1 : 5]);
}

static void drop_answer(struct edge_client *c)
{
	unwait(c);
	if (c->fetch != NULL) {
		struct edge_fetch *f = c->fetch;
		c->fetch = NULL;
		edge_fetch_detach(f);
	}
	pcd_head_unref(c->head);
	pcd_object_unref(c->object);
	pcd_object_unref(c->stale);
	c->head = NULL;
	c->object = c->stale = NULL;
}

/* After our last byte of a response: the next request may come. Outside
 * the input callback the kept input is offered again; c may be freed. */
void edge_client_finish(struct edge_client *c)
{
	count(c);
	access_log(c);
	drop_answer(c);
	c->busy = false;
	pcd_conn_set_state(c->conn, c->keep_alive ? PCD_CONN_IDLE : PCD_CONN_CLOSING);
	if (!c->in_input)
		pcd_conn_resume(c->conn);
}

void edge_client_set_provider(struct edge_client *c, uint32_t provider)
{
	c->provider = provider;
	c->counters =
	    &c->ew->providers[provider < EDGE_MAX_PROVIDERS ? provider : EDGE_MAX_PROVIDERS];
}

bool edge_client_cors(const struct edge_client *c, struct pc_buf *out)
{
	return !c->cors || pc_cors_write(out, c->cors_allow, c->origin, c->origin_len);
}

/* Output appended outside the input callback goes out now; c may be freed. */
void edge_client_kick(struct edge_client *c)
{
	if (!c->in_input)
		pcd_conn_send(c->conn);
}

/* Cuts a response short: the client sees a broken connection, never a
 * short answer that looks whole. c may be freed. */
void edge_client_abort(struct edge_client *c)
{
	PCD_BUMP(c->ew->misc[EC_ABORTED_CLIENTS]);
	count(c);
	access_log(c);
	drop_answer(c);
	c->busy = false;
	/* A reset, not a FIN: a client reading to the close (HTTP/1.0, no
	 * length) must not take what it got for the whole body. */
	struct linger reset = {.l_onoff = 1, .l_linger = 0};
	setsockopt(pcd_conn_fd(c->conn), SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	pcd_conn_abort(c->conn);
}

/* The edge's own answer (errors, refusals): a short text body. */
void edge_client_respond(struct edge_client *c, unsigned status, const char *why)
{
	char date[PC_HTTP_DATE_SIZE];
	pc_http_date_format((int64_t)(pcd_now_ms() / 1000), date);
	char body[256];
	int body_len = snprintf(body, sizeof(body), "peercdn edge: %u %s: %s\n", status,
	                        pc_http_reason(status), why);
	bool no_body = c->head_only || status == 304;
	if (status >= 400 && status != 404 && status != 412 && status != 416 && status != 504 &&
	    status != 502 && status != 503)
		c->keep_alive = false; /* a bad request: the stream may be out of step */
	struct pc_buf *out = pcd_conn_out(c->conn);
	size_t before = out->len;
	bool ok = pc_buf_printf(
	    out,
	    "HTTP/1.1 %u %s\r\nDate: %s\r\nServer: peercdn\r\n"
	    "Content-Type: text/plain\r\nCache-Control: no-store\r\n"
	    "Content-Length: %d\r\n%s%s",
	    status, pc_http_reason(status), date, body_len,
	    status == 405 ? "Allow: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS\r\n" : "",
	    c->keep_alive ? "" : "Connection: close\r\n");
	/* A live refusal a page's player can read (a 404 it may retry). */
	ok = ok && edge_client_cors(c, out) && pc_buf_append(out, "\r\n", 2);
	c->head_bytes += out->len - before;
	if (ok && !no_body)
		ok = pc_buf_append(out, body, (size_t)body_len);
	c->status = status;
	c->result = EDGE_ERROR;
	c->bytes_out += no_body ? 0 : (uint64_t)body_len;
	if (!ok) {
		edge_client_abort(c);
		return;
	}
	edge_client_finish(c);
}

/* ---- serving an object ---- */

static void serve(struct edge_client *c);

static void push_body(struct edge_client *c)
{
	struct pc_buf *out = pcd_conn_out(c->conn);
	for (;;) {
		enum pcd_object_state st = pcd_object_state(c->object);
		uint64_t filled = pcd_object_filled(c->object);
		uint64_t limit = filled < c->end ? filled : c->end;
		while (c->sent < limit) {
			struct iovec iov[BODY_IOV];
			int n = pcd_object_body(c->object, c->sent, iov, BODY_IOV);
			if (n <= 0)
				break;
			for (int i = 0; i < n && c->sent < limit; i++) {
				size_t len = iov[i].iov_len;
				if (len > limit - c->sent)
					len = (size_t)(limit - c->sent);
				if (c->chunked && !pc_buf_printf(out, "%zx\r\n", len))
					goto broken;
				pcd_object_ref(c->object);
				if (pcd_conn_out_ref(c->conn, iov[i].iov_base, len, object_release,
				                     c->object) != 0)
					goto broken;
				if (c->chunked && !pc_buf_append(out, "\r\n", 2))
					goto broken;
				c->sent += len;
				c->bytes_out += len;
			}
		}
		if (c->end != UINT64_MAX && c->sent >= c->end) {
			edge_client_finish(c);
			return;
		}
		if (st == PCD_OBJECT_COMPLETE && c->sent >= filled) {
			if (c->end != UINT64_MAX)
				goto broken; /* shorter than it said: never end it cleanly */
			if (c->chunked && !pc_buf_append(out, "0\r\n\r\n", 5))
				goto broken;
			edge_client_finish(c);
			return;
		}
		if (st == PCD_OBJECT_ABORTED)
			goto broken;
		wait_on(c);
		/* It may have grown between the look and the wait: look again. */
		if (pcd_object_filled(c->object) == filled && pcd_object_state(c->object) == st) {
			edge_client_kick(c);
			return;
		}
		unwait(c);
	}
broken:
	edge_client_abort(c);
}

static bool field_is(const struct pc_http_field *f, const char *name)
{
	return f->name_len == strlen(name) && strncasecmp(f->name, name, f->name_len) == 0;
}

/* Writes the response head for the object's head, and decides what of
 * the body goes out. */
static bool write_head(struct edge_client *c, const struct edge_meta *meta)
{
	const struct pc_http_head *stored = c->stored;
	int64_t now = (int64_t)(pcd_now_ms() / 1000);
	uint64_t body_len = pcd_object_state(c->object) == PCD_OBJECT_COMPLETE
	                        ? pcd_object_filled(c->object)
	                        : meta->body_len;
	unsigned status = stored->status;
	struct pc_cache_byte_range range = {0};
	enum pc_cache_range ranged = PC_CACHE_RANGE_NONE;
	bool get = c->req->method_len == 3 && memcmp(c->req->method, "GET", 3) == 0;
	if (!meta->error && (get || c->head_only)) {
		enum pc_cache_cond cond = pc_cache_conditional(c->req, stored);
		if (cond == PC_CACHE_COND_NOT_MODIFIED)
			status = 304;
		else if (cond == PC_CACHE_COND_FAILED)
			status = 412;
		else if (status == 200 && body_len != UINT64_MAX && get)
			ranged = pc_cache_range(c->req, stored, body_len, &range);
	}
	if (ranged == PC_CACHE_RANGE_PARTIAL)
		status = 206;
	else if (ranged == PC_CACHE_RANGE_UNSATISFIABLE)
		status = 416;
	bool has_body = !c->head_only && status != 304 && status != 204 && status != 412 &&
	                !(status >= 100 && status < 200);
	struct pc_buf *out = pcd_conn_out(c->conn);
	size_t before = out->len;
	bool ok = pc_buf_printf(
	    out, "HTTP/1.1 %u %s\r\n", status,
	    status == stored->status && stored->reason_len > 0 ? "" : pc_http_reason(status));
	if (ok && status == stored->status && stored->reason_len > 0) {
		out->len -= 2;
		ok = pc_buf_printf(out, "%.*s\r\n", (int)stored->reason_len, stored->reason);
	}
	for (unsigned i = 0; ok && i < stored->n_fields; i++) {
		const struct pc_http_field *f = &stored->fields[i];
		if (field_is(f, "content-length") || field_is(f, "x-cache"))
			continue; /* framing is ours, and so is X-Cache (a parent's says MISS) */
		if (field_is(f, "content-range") && status != stored->status)
			continue; /* a 206 or 416 of ours has its own; else it is stored (§3.1) */
		if (status == 304 && stored->status != 304 && !pc_cache_field_in_304(stored, f))
			continue; /* our 304: RFC 9110 §15.4.5 */
		if (status == 412 || status == 416) {
			if (field_is(f, "content-type") || field_is(f, "content-encoding"))
				continue;
		}
		ok = pc_buf_printf(out, "%.*s: %.*s\r\n", (int)f->name_len, f->name,
		                   (int)f->value_len, f->value);
	}
	if (ok && !meta->error)
		ok = pc_buf_printf(out, "Age: %" PRId64 "\r\n",
		                   pc_cache_entry_age(&meta->entry, now));
	ok = ok && pc_buf_printf(out, "Via: %s\r\nX-Cache: %s\r\n", c->ew->via, x_cache[c->result]);
	c->sent = 0;
	c->end = 0;
	c->chunked = false;
	if (ranged == PC_CACHE_RANGE_PARTIAL) { /* not an upstream's 206: that goes whole */
		ok = ok &&
		     pc_buf_printf(out,
		                   "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64
		                   "\r\nContent-Length: %" PRIu64 "\r\n",
		                   range.first, range.last, body_len, range.last - range.first + 1);
		c->sent = range.first;
		c->end = range.last + 1;
	} else if (ranged == PC_CACHE_RANGE_UNSATISFIABLE) {
		ok = ok && pc_buf_printf(
		               out, "Content-Range: bytes */%" PRIu64 "\r\nContent-Length: 0\r\n",
		               body_len);
		has_body = false;
	} else if (status == 304 || status == 412 || status == 204) {
		if (status == 412)
			ok = ok && pc_buf_printf(out, "Content-Length: 0\r\n");
	} else if (body_len != UINT64_MAX) {
		ok = ok && pc_buf_printf(out, "Content-Length: %" PRIu64 "\r\n", body_len);
		c->end = body_len;
	} else if (has_body && c->req->version_minor >= 1) {
		ok = ok && pc_buf_printf(out, "Transfer-Encoding: chunked\r\n");
		c->chunked = true;
		c->end = UINT64_MAX;
	} else if (has_body) {
		c->keep_alive = false; /* an HTTP/1.0 client: the close ends the body */
		c->end = UINT64_MAX;
	}
	if (c->keep_alive && c->req->version_minor == 0)
		ok = ok && pc_buf_printf(out, "Connection: keep-alive\r\n");
	else if (!c->keep_alive)
		ok = ok && pc_buf_printf(out, "Connection: close\r\n");
	ok = ok && pc_buf_append(out, "\r\n", 2);
	c->head_bytes += out->len - before;
	c->status = status;
	c->head_sent = true;
	if (!has_body)
		c->end = c->sent; /* nothing to send: push_body finishes */
	return ok;
}

static void start_own_fetch(struct edge_client *c, bool shared, bool insert,
                            struct pcd_object *stale);
static void directory_answered(struct edge_client *c);

/* Serves c->object: its head once there, then its bytes as they come. */
static void serve(struct edge_client *c)
{
	if (c->resolving) {
		directory_answered(c);
		return;
	}
	if (c->prefill != NULL) { /* woken for a pre-fill's objects */
		edge_prefill_progress(c);
		return;
	}
	if (!c->head_sent && c->head == NULL) { /* set: serve_cached parsed it */
		struct pcd_head *head = pcd_object_head(c->object);
		if (head == NULL) {
			enum pcd_object_state st = pcd_object_state(c->object);
			if (st == PCD_OBJECT_ABORTED) {
				drop_answer(c);
				edge_client_respond(c, 502, "the upstream fetch failed");
				return;
			}
			wait_on(c);
			if ((head = pcd_object_head(c->object)) == NULL &&
			    pcd_object_state(c->object) == st) {
				edge_client_kick(c);
				return;
			}
			unwait(c);
			if (head == NULL) {
				serve(c);
				return;
			}
		}
		c->head = head;
		size_t len, meta_len;
		const char *bytes = pcd_head_bytes(head, &len);
		pcd_head_meta(head, &meta_len);
		if (meta_len < sizeof(struct edge_meta) ||
		    pc_http_parse_response(bytes, len, len, c->stored) <= 0) {
			drop_answer(c);
			edge_client_respond(c, 502, "a stored head is unreadable");
			return;
		}
	}
	if (!c->head_sent) {
		size_t meta_len;
		const struct edge_meta *meta = pcd_head_meta(c->head, &meta_len);
		if (c->collapsed && !meta->shared && !meta->error) {
			/* Another client's private or uncacheable answer: fetch ours. */
			drop_answer(c);
			start_own_fetch(c, false, false, NULL);
			return;
		}
		if (c->collapsed && meta->vary_len > 0) {
			char key[EDGE_VARY_MAX];
			int n = pc_cache_vary_key(c->stored, c->req, key, sizeof(key));
			if (n != (int)meta->vary_len ||
			    memcmp(key, meta + 1, meta->vary_len) != 0) {
				drop_answer(c);
				start_own_fetch(c, true, true, NULL);
				return;
			}
		}
		if (meta->error)
			c->result = EDGE_ERROR; /* the failed fill's answer, not a miss */
		else if (c->result == EDGE_MISS && meta->took != 0)
			c->result =
			    (enum edge_result)meta->took; /* a shared revalidation's outcome */
		if (!write_head(c, meta)) {
			edge_client_abort(c);
			return;
		}
	}
	push_body(c);
}

/* What a fetch for c's object asks upstream. */
static struct edge_fetch_request fill_request(struct edge_client *c, bool shared)
{
	return (struct edge_fetch_request){
	    .key = c->key,
	    .key_len = c->key_len,
	    .host = c->key,
	    .host_len = c->host_len,
	    .path = c->path,
	    .path_len = c->path_len,
	    .client_head = c->req,
	    .shared = shared,
	    .counters = c->counters,
	    .holder = shared ? edge_addressed_server(c) : 0,
	};
}

/* A fetch for this client alone (revalidation, a pass, another variant). */
static void start_own_fetch(struct edge_client *c, bool shared, bool insert,
                            struct pcd_object *stale)
{
	struct pcd_object *object = pcd_object_new();
	if (object == NULL) {
		edge_client_respond(c, 503, "out of memory");
		return;
	}
	if (stale != NULL) {
		pcd_object_ref(stale);
		c->stale = stale;
	}
	c->collapsed = false;
	struct edge_fetch_request req = fill_request(c, shared);
	req.body = c->body;
	req.body_len = c->body_len;
	c->fetch = (struct edge_fetch *)1; /* set: a synchronous failure clears it */
	struct edge_fetch *f = edge_fetch_start(c->ew, &req, object, c, stale, insert);
	if (c->fetch != NULL)
		c->fetch = f;
	pcd_object_unref(object);
}

void edge_client_fetched(struct edge_client *c, struct pcd_object *object, enum edge_result result,
                         unsigned error_status)
{
	c->fetch = NULL;
	int64_t now = (int64_t)(pcd_now_ms() / 1000);
	struct pcd_object *fallback = NULL;
	if (c->stale != NULL) {
		/* stale-if-error: the upstream failed, or answered 5xx. */
		bool failed = object == NULL;
		if (!failed && result != EDGE_REVALIDATED) {
			struct pcd_head *h = pcd_object_head(object);
			size_t ml;
			const struct edge_meta *m = h ? pcd_head_meta(h, &ml) : NULL;
			failed = m != NULL && pc_cache_status_is_error(m->entry.status);
			pcd_head_unref(h);
		}
		struct pcd_head *sh = failed ? pcd_object_head(c->stale) : NULL;
		size_t ml;
		const struct edge_meta *sm = sh ? pcd_head_meta(sh, &ml) : NULL;
		/* No answer at all: the edge is disconnected (RFC 9111 §4.2.4). */
		if (sm != NULL &&
		    (object == NULL ? pc_cache_stale_disconnected(&sm->entry, &c->req_cc, now)
		                    : pc_cache_stale_on_error(&sm->entry, &c->req_cc, now)))
			fallback = c->stale;
		pcd_head_unref(sh);
	}
	if (fallback != NULL) {
		pcd_object_ref(fallback);
		drop_answer(c);
		c->object = fallback;
		c->result = EDGE_STALE_ERROR;
	} else if (object == NULL) {
		drop_answer(c);
		edge_client_respond(c, error_status,
		                    error_status == 504 ? "the upstream timed out"
		                                        : "the upstream failed");
		return;
	} else {
		pcd_object_ref(object);
		struct pcd_object *stale = c->stale;
		c->stale = NULL;
		pcd_object_unref(stale);
		unwait(c);
		pcd_object_unref(c->object);
		c->object = object;
		c->result = result;
	}
	serve(c);
}

/* ---- requests ---- */

/* The request's cache key (and its host and path) for route r. Returns 0
 * or the status of a refusal. */
static unsigned set_key(struct edge_client *c, const struct pc_edge_route *r, const char **why)
{
	size_t need = r->host_len + r->path_len + 2;
	if (need > EDGE_KEY_MAX) {
		*why = "the URL is too long";
		return 414;
	}
	char *key = realloc(c->key, need);
	if (key == NULL) {
		*why = "out of memory";
		return 503;
	}
	c->key = key;
	c->key_len = (size_t)pc_edge_key(r, key, need);
	c->host_len = r->host_len;
	c->path = key + r->host_len;
	c->path_len = c->key_len - r->host_len;
	edge_client_set_provider(c, r->provider);
	return 0;
}

/* Where a request goes: the origin host and path, and the cache key (for
 * a directory name, the name: resolve_directory finds the origin).
 * Returns 0, or the status of the refusal. */
unsigned edge_client_route(struct edge_client *c, const char **why)
{
	const struct pc_http_head *req = c->req;
	const pc_model *model = pcd_node_generation(c->ew->room->node)->model;
	const struct pc_http_field *host = pc_http_field_find(req, "host", 0);
	struct pc_edge_route r;
	int err = pc_edge_route(model, req->target, req->target_len, host ? host->value : NULL,
	                        host ? host->value_len : 0, &r);
	if (err == PC_ESYNTAX) {
		*why = "the target is not a path or an http URL";
		return 400;
	}
	if (err != 0) {
		PCD_BUMP(c->ew->misc[EC_REFUSED]);
		*why = "not a URL of a provider of this CDN";
		return 404;
	}
	c->directory = r.directory;
	return set_key(c, &r, why);
}

/* Whether this edge is already on the request's path (a loop of
 * parents): its Via entry, "1.1 <address:port> (peercdn <node>)", is
 * there. */
static bool looped(struct edge_client *c)
{
	const char *token = c->ew->via + 4; /* after "1.1 " */
	size_t n = strlen(token);
	for (unsigned i = 0; i < c->req->n_fields; i++) {
		const struct pc_http_field *f = &c->req->fields[i];
		if (field_is(f, "via") && n <= f->value_len &&
		    memmem(f->value, f->value_len, token, n) != NULL)
			return true;
	}
	return false;
}

/* Whether the request passed more proxies than any tree of edges has
 * hops (EDGE_VIA_MAX): a loop the Via check cannot see (a path that went
 * round through other edges while routes changed), or a forged chain.
 * Counts the entries of every Via field, commas outside comments. */
static bool too_many_hops(struct edge_client *c)
{
	unsigned hops = 0;
	for (unsigned i = 0; i < c->req->n_fields; i++) {
		const struct pc_http_field *f = &c->req->fields[i];
		if (!field_is(f, "via"))
			continue;
		unsigned depth = 0;
		hops++;
		for (size_t k = 0; k < f->value_len; k++) {
			char ch = f->value[k];
			depth += ch == '(';
			depth -= ch == ')' && depth > 0;
			hops += ch == ',' && depth == 0;
		}
	}
	return hops > EDGE_VIA_MAX;
}

bool edge_method_is(const struct pc_http_head *req, const char *m)
{
	return req->method_len == strlen(m) && memcmp(req->method, m, req->method_len) == 0;
}

/* When *object is the stub of a URL whose responses vary, the request's
 * key becomes its variant's and *object that variant (NULL: none yet).
 * False when memory runs out. */
static bool to_variant(struct edge_client *c, struct pcd_object **object)
{
	struct pcd_head *head = pcd_object_head(*object);
	size_t len, meta_len;
	const char *bytes = head ? pcd_head_bytes(head, &len) : NULL;
	const struct edge_meta *meta = head ? pcd_head_meta(head, &meta_len) : NULL;
	if (meta == NULL || meta_len < sizeof(*meta) || meta->version != EDGE_META_VERSION ||
	    !meta->vary_stub || pc_http_parse_response(bytes, len, len, c->stored) <= 0) {
		pcd_head_unref(head);
		return true;
	}
	uint64_t gen = meta->vary_gen;
	pcd_head_unref(head);
	pcd_object_unref(*object);
	*object = NULL;
	char vary[EDGE_VARY_MAX];
	int vary_len = pc_cache_vary_key(c->stored, c->req, vary, sizeof(vary));
	if (vary_len < 0)
		vary_len = 0; /* Vary: * or too long: the URL's own key, fetched anew */
	size_t need = c->key_len + EDGE_VARIANT_EXTRA + (size_t)vary_len;
	char *key = realloc(c->key, need);
	if (key == NULL)
		return false;
	c->key = key;
	c->path = key + c->host_len;
	c->key_len = edge_variant_key(key, c->key_len, gen, vary, (size_t)vary_len, key);
	*object = pcd_store_lookup(c->ew->shared->store, c->key, c->key_len);
	return true;
}

static bool cc_plain(const struct pc_cache_control *cc)
{
	return cc->flags == 0 && cc->max_age == PC_CC_ABSENT && cc->min_fresh == PC_CC_ABSENT &&
	       cc->max_stale == PC_CC_ABSENT && cc->stale_if_error == PC_CC_ABSENT;
}

/* Revalidates stale for every request that comes meanwhile: a new object
 * takes its place in the store at once, so they collapse onto it, and
 * the fetch fills it with the new response or a copy of stale. False when
 * it could not start (memory). */
static bool revalidate_shared(struct edge_client *c, struct pcd_object *stale)
{
	struct pcd_object *fresh = pcd_object_new();
	if (fresh == NULL ||
	    pcd_store_insert(c->ew->shared->store, c->key, c->key_len, fresh) != 0) {
		pcd_object_unref(fresh);
		return false;
	}
	struct edge_fetch_request req = fill_request(c, true);
	edge_fetch_start(c->ew, &req, fresh, NULL, stale, false);
	c->object = fresh;
	serve(c);
	return true;
}

/* A GET or HEAD: from the store, or through a fill. */
static void serve_cached(struct edge_client *c)
{
	struct edge_worker *ew = c->ew;
	struct pcd_store *store = ew->shared->store;
	int64_t now = (int64_t)(pcd_now_ms() / 1000);
	struct pcd_object *object = pcd_store_lookup(store, c->key, c->key_len);
	if (object != NULL && pcd_object_state(object) == PCD_OBJECT_COMPLETE &&
	    !to_variant(c, &object)) {
		edge_client_respond(c, 503, "out of memory");
		return;
	}
	if (object != NULL && pcd_object_state(object) == PCD_OBJECT_COMPLETE) {
		struct pcd_head *head = pcd_object_head(object);
		size_t len, meta_len;
		const char *bytes = head ? pcd_head_bytes(head, &len) : NULL;
		const struct edge_meta *meta = head ? pcd_head_meta(head, &meta_len) : NULL;
		bool usable = meta != NULL && meta_len >= sizeof(*meta) &&
		              meta->version == EDGE_META_VERSION && !meta->error &&
		              !meta->vary_stub &&
		              pc_http_parse_response(bytes, len, len, c->stored) > 0;
		if (usable && meta->vary_len > 0) {
			char key[EDGE_VARY_MAX];
			int n = pc_cache_vary_key(c->stored, c->req, key, sizeof(key));
			usable =
			    n == (int)meta->vary_len && memcmp(key, meta + 1, meta->vary_len) == 0;
			if (!usable) { /* another variant: fetch this one in its place */
				pcd_head_unref(head);
				pcd_object_unref(object);
				c->result = EDGE_MISS;
				start_own_fetch(c, true, true, NULL);
				return;
			}
		}
		enum pc_cache_use use =
		    usable ? pc_cache_decide(&meta->entry, &c->req_cc, now) : PC_CACHE_MISS;
		if (use == PC_CACHE_FRESH || use == PC_CACHE_STALE ||
		    use == PC_CACHE_STALE_REVALIDATE)
			c->head = head; /* parsed into c->stored already: serve uses it */
		else
			pcd_head_unref(head);
		switch (use) {
		case PC_CACHE_FRESH:
		case PC_CACHE_STALE:
			c->object = object;
			c->result = EDGE_HIT;
			serve(c);
			return;
		case PC_CACHE_STALE_REVALIDATE: {
			/* Served stale now; refreshed in the background, once: the
			 * first request of the window claims the object's mark. */
			_Atomic uint32_t *marks = pcd_object_marks(object);
			struct pcd_object *fresh = NULL;
			if (!(atomic_fetch_or(marks, EDGE_MARK_REFRESHING) &
			      EDGE_MARK_REFRESHING) &&
			    (fresh = pcd_object_new()) != NULL) {
				struct edge_fetch_request req = fill_request(c, true);
				edge_fetch_start(ew, &req, fresh, NULL, object, true);
				pcd_object_unref(fresh);
			}
			c->object = object;
			c->result = EDGE_HIT;
			serve(c);
			return;
		}
		case PC_CACHE_REVALIDATE:
			c->result = EDGE_MISS;
			/* A request with directives of its own (no-cache, max-age,
			 * stale-if-error...) decides on stale for itself. */
			if (!cc_plain(&c->req_cc) || !revalidate_shared(c, object))
				start_own_fetch(c, true, true, object);
			pcd_object_unref(object);
			return;
		case PC_CACHE_GATEWAY_TIMEOUT:
			pcd_object_unref(object);
			edge_client_respond(c, 504, "only-if-cached, and nothing fresh is stored");
			return;
		case PC_CACHE_MISS: /* unusable (another version's record): replaced */
			pcd_object_unref(object);
			c->result = EDGE_MISS;
			start_own_fetch(c, true, true, NULL);
			return;
		}
	} else if (object != NULL && pcd_object_state(object) == PCD_OBJECT_FILLING) {
		c->object = object;
		c->collapsed = true;
		c->result = EDGE_MISS;
		PCD_BUMP(c->counters->collapsed);
		serve(c);
		return;
	}
	pcd_object_unref(object);
	if (c->req_cc.flags & PC_CC_ONLY_IF_CACHED) {
		edge_client_respond(c, 504, "only-if-cached, and nothing is stored");
		return;
	}
	if (ew->n_fetches >= edge_params(ew)->max_fetches) {
		edge_client_respond(c, 503, "too many fetches in flight");
		return;
	}
	bool created;
	object = pcd_store_begin(store, c->key, c->key_len, &created);
	if (object == NULL) {
		edge_client_respond(c, 503, "out of memory");
		return;
	}
	c->object = object;
	c->result = EDGE_MISS;
	if (created) {
		struct edge_fetch_request req = fill_request(c, true);
		edge_fetch_start(ew, &req, object, NULL, NULL, false);
	} else {
		c->collapsed = true;
		PCD_BUMP(c->counters->collapsed);
	}
	serve(c);
}

/* ---- directory names (docs/directory.md) ---- */

/* The store's object of the directory's answer for name (its host
 * host_len bytes), asked now through edge.directories when none is held
 * or the one held is past its TTL: a reference, or NULL (*why says: 414
 * or 503). Shared by a player's request and the injection point's
 * question (edge_directory_ask). */
static struct pcd_object *directory_object(struct edge_worker *ew, const char *name,
                                           size_t name_len, size_t host_len,
                                           struct edge_provider_counters *counters, unsigned *why)
{
	const struct pc_edge_params *params = edge_params(ew);
	char dkey[EDGE_KEY_MAX + 8];
	int dkey_len = snprintf(dkey, sizeof(dkey), "\001dir/%.*s", (int)name_len, name);
	char path[EDGE_KEY_MAX + 16];
	int path_len = snprintf(path, sizeof(path), PC_DIR_API_PREFIX "%.*s", (int)name_len, name);
	if (dkey_len < 0 || (size_t)dkey_len >= sizeof(dkey) || path_len < 0 ||
	    (size_t)path_len >= sizeof(path)) {
		*why = 414;
		return NULL;
	}
	struct pcd_object *object = pcd_store_lookup(ew->shared->store, dkey, (size_t)dkey_len);
	if (object != NULL && pcd_object_state(object) == PCD_OBJECT_COMPLETE) {
		struct pcd_head *head = pcd_object_head(object);
		size_t meta_len;
		const struct edge_meta *meta = head ? pcd_head_meta(head, &meta_len) : NULL;
		bool fresh = meta != NULL && meta_len >= sizeof(*meta) &&
		             meta->version == EDGE_META_VERSION && !meta->error &&
		             pc_cache_entry_fresh(&meta->entry, (int64_t)(pcd_now_ms() / 1000));
		pcd_head_unref(head);
		if (!fresh) { /* its TTL ended: ask again */
			pcd_store_remove(ew->shared->store, dkey, (size_t)dkey_len, object);
			pcd_object_unref(object);
			object = NULL;
		}
	}
	bool created = false;
	if (object == NULL)
		object = pcd_store_begin(ew->shared->store, dkey, (size_t)dkey_len, &created);
	if (object == NULL) {
		*why = 503;
		return NULL;
	}
	if (created) {
		struct pc_http_head get = {.method = "GET", .method_len = 3};
		struct edge_fetch_request req = {
		    .key = dkey,
		    .key_len = (size_t)dkey_len,
		    .host = name,
		    .host_len = host_len,
		    .path = path,
		    .path_len = (size_t)path_len,
		    .client_head = &get,
		    .shared = true,
		    .counters = counters,
		    .upstreams = params->directories,
		    .n_upstreams = params->n_directories,
		};
		edge_fetch_start(ew, &req, object, NULL, NULL, false);
	}
	return object;
}

/* A directory name ("cdn.foo.com/Channel12"): the directory's answer,
 * kept in the store like any response for as long as its Cache-Control
 * says (the answer's TTL), fetched once per node however many ask. */
static void resolve_directory(struct edge_client *c)
{
	if (edge_params(c->ew)->n_directories == 0) {
		edge_client_respond(c, 502, "no directory is configured (edge.directories)");
		return;
	}
	size_t name_len = c->key_len;
	const char *query = memchr(c->key, '?', name_len);
	if (query != NULL)
		name_len = (size_t)(query - c->key); /* a query is the origin's, not the name's */
	unsigned why = 0;
	struct pcd_object *object =
	    directory_object(c->ew, c->key, name_len, c->host_len, c->counters, &why);
	if (object == NULL) {
		edge_client_respond(c, why, why == 414 ? "the name is too long" : "out of memory");
		return;
	}
	c->object = object;
	c->resolving = true;
	directory_answered(c);
}

/* The status of a whole answer object (0 when it failed), and a 200's
 * body into json (at most cap bytes). */
static unsigned directory_read(struct pcd_object *object, char *json, size_t cap, size_t *json_len)
{
	enum pcd_object_state st = pcd_object_state(object);
	struct pcd_head *head = st == PCD_OBJECT_COMPLETE ? pcd_object_head(object) : NULL;
	size_t meta_len;
	const struct edge_meta *meta = head ? pcd_head_meta(head, &meta_len) : NULL;
	unsigned status = meta != NULL && meta_len >= sizeof(*meta) ? meta->entry.status : 0;
	pcd_head_unref(head);
	*json_len = 0;
	struct iovec iov[8];
	int n = status == 200 ? pcd_object_body(object, 0, iov, 8) : 0;
	for (int i = 0; i < n && *json_len + iov[i].iov_len <= cap; i++) {
		memcpy(json + *json_len, iov[i].iov_base, iov[i].iov_len);
		*json_len += iov[i].iov_len;
	}
	return status;
}

enum edge_dir_state edge_directory_ask(struct edge_worker *ew, uint32_t provider, const char *name,
                                       struct pcd_object **pending, struct pc_dir_answer *out)
{
	struct pcd_object *object = *pending;
	const char *slash = strchr(name, '/');
	if (object == NULL) {
		unsigned why = 0;
		if (edge_params(ew)->n_directories == 0 || slash == NULL)
			return EDGE_DIR_FAILED;
		object = directory_object(
		    ew, name, strlen(name), (size_t)(slash - name),
		    &ew->providers[provider < EDGE_MAX_PROVIDERS ? provider : EDGE_MAX_PROVIDERS],
		    &why);
		if (object == NULL)
			return EDGE_DIR_FAILED;
	}
	*pending = NULL;
	if (pcd_object_state(object) == PCD_OBJECT_FILLING) {
		*pending = object; /* held: read when whole, however short its TTL */
		return EDGE_DIR_ASKING;
	}
	char json[16384];
	size_t json_len = 0;
	unsigned status = directory_read(object, json, sizeof(json), &json_len);
	pcd_object_unref(object);
	if (status == 404)
		return EDGE_DIR_NO_NAME;
	if (status != 200 || pc_directory_answer_parse(json, json_len, out) != 0)
		return EDGE_DIR_FAILED;
	return EDGE_DIR_ANSWERED;
}

/* The directory's answer, once whole: the request goes on as one for the
 * origin URL it names. */
static void directory_answered(struct edge_client *c)
{
	enum pcd_object_state st = pcd_object_state(c->object);
	if (st == PCD_OBJECT_FILLING) {
		wait_on(c);
		if (pcd_object_state(c->object) == PCD_OBJECT_FILLING) {
			edge_client_kick(c);
			return;
		}
		unwait(c);
		st = pcd_object_state(c->object);
	}
	char json[16384];
	size_t json_len = 0;
	unsigned status = directory_read(c->object, json, sizeof(json), &json_len);
	c->resolving = false;
	drop_answer(c);
	struct pc_dir_answer *answer = malloc(sizeof(*answer));
	const char *why = NULL;
	unsigned refuse = 0;
	struct pc_edge_route r;
	if (status == 404) {
		refuse = 404;
		why = "the directory has no such name";
	} else if (status != 200 || answer == NULL ||
	           pc_directory_answer_parse(json, json_len, answer) != 0) {
		refuse = 502;
		why = "the directory did not answer";
	} else if (answer->mode == PC_DIR_CHANNEL && live_directory_play(c, answer->target)) {
		free(answer); /* a provider's live stream (docs/live.md) */
		return;
	} else if (answer->mode == PC_DIR_CASCADE && live_directory_cascade(c, answer->name)) {
		free(answer); /* the injection point pulls the feed into a channel */
		return;
	} else if (answer->mode != PC_DIR_ORIGIN) {
		refuse = 501;
		why = "the name is a channel or a cascaded feed: the overlay serves those";
	} else if (pc_edge_route(pcd_node_generation(c->ew->room->node)->model, answer->target,
	                         strlen(answer->target), NULL, 0, &r) != 0 ||
	           r.directory) {
		refuse = 502;
		why = "the directory names an origin this edge does not serve";
	} else {
		refuse = set_key(c, &r, &why);
	}
	free(answer);
	if (refuse != 0) {
		edge_client_respond(c, refuse, why);
		return;
	}
	c->directory = false;
	serve_cached(c);
}

unsigned edge_parse_error_status(int err)
{
	switch (err) {
	case PC_ERANGE:
	case PC_ENOSPC:
		return 431;
	case PC_ENOTSUP:
		return 505;
	default:
		return 400;
	}
}

/* Whether the edge forwards a method other than GET and HEAD: all but
 * CONNECT and TRACE (refused, 405), unknown ones included — a proxy passes
 * on what it does not understand, as unsafe (RFC 9110 §9.2.1), and
 * invalidates what it stored for the target (RFC 9111 §4.4). Method names
 * over EDGE_METHOD_MAX bytes are 501. */
static bool forwardable(const struct pc_http_head *req)
{
	return req->method_len <= EDGE_METHOD_MAX;
}

/* What is wrong with a request head before it is routed: the status of
 * the refusal, or 0. */
static unsigned judge(const struct pc_http_head *head, const struct pc_edge_params *params,
                      enum pc_http_framing *framing, uint64_t *body_len, const char **why)
{
	if (edge_method_is(head, "CONNECT") || edge_method_is(head, "TRACE")) {
		*why = "the edge is not a tunnel and does not echo";
		return 405;
	}
	if (!edge_method_is(head, "GET") && !edge_method_is(head, "HEAD") && !forwardable(head)) {
		*why = "a method name too long to forward";
		return 501;
	}
	if (head->target_len > params->max_target_bytes) {
		*why = "the target is too long";
		return 414;
	}
	const struct pc_http_field *host = pc_http_field_find(head, "host", 0);
	if (head->version_minor >= 1 && host == NULL) {
		*why = "no Host field";
		return 400;
	}
	if (host != NULL && pc_http_field_find(head, "host", (unsigned)(host - head->fields) + 1)) {
		*why = "two Host fields"; /* RFC 9112 §3.2: which one would the origin take? */
		return 400;
	}
	/* A coding we do not implement is 501 (RFC 9112 §6.1), before the
	 * rule that chunked be last makes it a 400. */
	struct pc_http_list list;
	const char *coding;
	uint32_t coding_len;
	pc_http_list_begin(&list, head, "transfer-encoding");
	while (pc_http_list_next(&list, &coding, &coding_len))
		if (coding_len != 7 || strncasecmp(coding, "chunked", 7) != 0) {
			*why = "a transfer coding other than chunked";
			return 501;
		}
	int fr = pc_http_request_framing(head, framing, body_len);
	if (fr != 0) {
		*why = "bad body framing";
		return fr == PC_ENOTSUP ? 501 : 400;
	}
	if (*framing == PC_HTTP_BODY_LENGTH && *body_len > params->max_body_bytes) {
		*why = "the request body is too large";
		return 413;
	}
	return 0;
}

/* Decodes a chunked request body from in into c->body_buf: 1 when whole
 * (*consumed input bytes), 0 when more must come, PC_ESYNTAX, or
 * PC_ERANGE past max bytes. */
static int dechunk(struct edge_client *c, const char *in, size_t len, size_t max, size_t *consumed)
{
	struct pc_http_chunked chunked;
	pc_http_chunked_init(&chunked);
	size_t used = 0;
	c->body_len = 0;
	for (;;) {
		size_t n, data_len;
		const char *data;
		int r = pc_http_chunked_feed(&chunked, in + used, len - used, &n, &data, &data_len);
		if (r < 0)
			return r;
		used += n;
		if (data_len > 0) {
			if (c->body_len + data_len > max)
				return PC_ERANGE;
			if (c->body_len + data_len > c->body_cap) {
				size_t cap = (c->body_len + data_len) * 2;
				char *buf = realloc(c->body_buf, cap);
				if (buf == NULL)
					return PC_ERANGE;
				c->body_buf = buf;
				c->body_cap = cap;
			}
			memcpy(c->body_buf + c->body_len, data, data_len);
			c->body_len += data_len;
		}
		if (r == 1) {
			*consumed = used;
			return 1;
		}
		if (n == 0 || used == len)
			return 0;
	}
}

/* While c->live holds the connection: an ingest's body goes to it; a
 * player's input waits (a client sends nothing while it plays). */
static size_t live_input_or_hold(struct edge_client *c, const uint8_t *bytes, size_t len)
{
	if (c->live != NULL && c->busy && live_is_ingest(c))
		return live_input(c, bytes, len);
	return 0;
}

static size_t client_input(struct pcd_conn *conn, void *state, const uint8_t *bytes, size_t len)
{
	struct edge_client *c = state;
	if (c->live != NULL && c->busy)
		return live_input_or_hold(c, bytes, len);
	if (c->busy)
		return 0; /* pipelined: kept until this answer is out */
	const struct pc_edge_params *params = edge_params(c->ew);
	const char *in = (const char *)bytes;
	struct pc_http_head *head = c->req != NULL ? c->req : malloc(sizeof(*head));
	if (head == NULL) {
		pcd_conn_abort(conn);
		return len;
	}
	c->req = head;
	c->busy = true;
	c->head_sent = c->collapsed = false;
	c->bytes_out = c->head_bytes = 0;
	c->result = EDGE_ERROR;
	c->counters = NULL;
	c->provider = PC_NONE;
	c->key_len = 0;
	c->keep_alive = false;
	c->head_only = false;
	c->body = NULL;
	c->body_len = 0;
	c->cors = false;
	c->in_input = true;
	int r = pc_http_parse_request(in, len, params->max_header_bytes, head);
	if (r == 0) {
		c->busy = false;
		c->in_input = false;
		pcd_conn_set_state(conn, PCD_CONN_BUSY);
		return 0;
	}
	c->started_ms = pcd_mono_ms();
	size_t used = r > 0 ? (size_t)r : len;
	if (r < 0) {
		unsigned status = edge_parse_error_status(r);
		const char *eol = memchr(in, '\n', len);
		if (r == PC_ERANGE &&
		    (size_t)((eol != NULL ? eol : in + len) - in) > params->max_target_bytes)
			status = 414; /* it is the request line that is too long */
		c->req = NULL;        /* nothing of it is valid */
		edge_client_respond(c, status, "malformed request head");
		c->req = head;
		c->in_input = false;
		return len;
	}
	/* The head stays put while the answer takes (a fetch): copy it. */
	if (c->req_cap < (size_t)r) {
		char *buf = realloc(c->req_buf, (size_t)r);
		if (buf == NULL) {
			c->in_input = false;
			pcd_conn_abort(conn);
			return len;
		}
		c->req_buf = buf;
		c->req_cap = (size_t)r;
	}
	memcpy(c->req_buf, in, (size_t)r);
	pc_http_parse_request(c->req_buf, (size_t)r, (size_t)r, head);
	c->keep_alive = head->version_minor >= 1
	                    ? !pc_http_field_has_token(head, "connection", "close")
	                    : pc_http_field_has_token(head, "connection", "keep-alive");
	c->head_only = edge_method_is(head, "HEAD");
	enum pc_http_framing framing;
	uint64_t body_len = 0;
	const char *why = NULL;
	unsigned refuse = judge(head, params, &framing, &body_len, &why);
	/* A live ingest reads its body as it streams (node/live.h). */
	if (refuse == 0 && (edge_method_is(head, "POST") || edge_method_is(head, "PUT")) &&
	    memmem(head->target, head->target_len, "/live/", 6) != NULL &&
	    edge_client_route(c, &why) == 0 && live_target(c)) {
		live_ingest_begin(c, framing == PC_HTTP_BODY_CHUNKED, body_len);
		c->in_input = false;
		return used;
	}
	if (refuse == 0 && framing == PC_HTTP_BODY_LENGTH && body_len > 0) {
		if (len - used < body_len) { /* the body is not all here yet */
			c->busy = false;
			c->in_input = false;
			pcd_conn_set_state(conn, PCD_CONN_BUSY);
			return 0;
		}
		c->body = in + used;
		c->body_len = (size_t)body_len;
		used += (size_t)body_len;
	} else if (refuse == 0 && framing == PC_HTTP_BODY_CHUNKED) {
		size_t consumed;
		int dr = dechunk(c, in + used, len - used, params->max_body_bytes, &consumed);
		if (dr == 0) { /* not all here yet: decoded again when more comes */
			c->busy = false;
			c->in_input = false;
			pcd_conn_set_state(conn, PCD_CONN_BUSY);
			return 0;
		}
		if (dr < 0) {
			refuse = dr == PC_ERANGE ? 413 : 400;
			why =
			    dr == PC_ERANGE ? "the request body is too large" : "a malformed chunk";
		} else {
			c->body = c->body_buf;
			used += consumed;
		}
	}
	bool prefill = refuse == 0 && edge_prefill_target(head);
	if (refuse == 0 && !prefill)
		refuse = edge_client_route(c, &why);
	if (refuse == 0 && !prefill && looped(c)) {
		refuse = 508;
		why = "this edge is already on the request's path";
	}
	if (refuse == 0 && !prefill && too_many_hops(c)) {
		refuse = 508;
		why = "the request passed more proxies than a tree has hops";
	}
	if (refuse != 0) {
		edge_client_respond(c, refuse, why);
	} else if (prefill) {
		edge_prefill_begin(c);
	} else if (edge_method_is(head, "GET") || edge_method_is(head, "HEAD")) {
		pc_cache_control_request(head, &c->req_cc);
		if (c->body_len > 0) {
			edge_client_respond(c, 400, "a GET or HEAD with a body");
		} else if (c->directory) {
			resolve_directory(c);
		} else if (live_target(c)) {
			live_play_begin(c);
		} else {
			serve_cached(c);
		}
	} else if (edge_method_is(head, "OPTIONS") && (c->directory || live_target(c))) {
		live_preflight(c); /* a page's player asks whether it may read them */
	} else if (c->directory) {
		edge_client_respond(c, 405, "a directory name is only read");
	} else {
		/* Unsafe and other methods go to the upstream for this client;
		 * the response invalidates what it changed (edge_fetch.c). */
		pc_cache_control_request(head, &c->req_cc);
		c->result = EDGE_PASS;
		start_own_fetch(c, false, false, NULL);
	}
	c->body = NULL; /* it was in the input: forwarded by now */
	c->in_input = false;
	if (c->busy)
		pcd_conn_set_state(conn, PCD_CONN_IDLE);
	return used;
}

static void client_end(struct pcd_conn *conn, void *state, enum pcd_conn_end why)
{
	struct edge_client *c = state;
	if (why == PCD_CONN_END_TIMEOUT && !c->busy) {
		struct pc_http_head *head = c->req;
		c->in_input = true;
		c->busy = true;
		c->keep_alive = false;
		c->req = NULL; /* none arrived whole */
		c->key_len = c->bytes_out = c->head_bytes = 0;
		c->started_ms = pcd_mono_ms();
		edge_client_respond(c, 408, "the request did not arrive in time");
		c->req = head;
		c->in_input = false;
		return;
	}
	if (c->busy && c->live != NULL) {
		live_end(c);
		return;
	}
	if (!c->busy)
		pcd_conn_set_state(conn, PCD_CONN_CLOSING);
	/* Busy: the answer streams on; finish closes (the peer sends no more). */
	c->keep_alive = false;
}

static void *client_open(struct pcd_conn *conn, void *ctx)
{
	struct edge_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->provider = PC_NONE;
	c->stored = malloc(sizeof(*c->stored));
	if (c->stored == NULL) {
		free(c);
		return NULL;
	}
	c->ew = ctx;
	c->conn = conn;
	PCD_BUMP(c->ew->clients_open);
	return c;
}

static void client_free(void *state)
{
	struct edge_client *c = state;
	/* Only this worker writes it: a load and a store, no locked add. */
	atomic_store_explicit(&c->ew->clients_open,
	                      atomic_load_explicit(&c->ew->clients_open, memory_order_relaxed) - 1,
	                      memory_order_relaxed);
	drop_answer(c);
	edge_prefill_free(c);
	live_client_free(c);
	free(c->req);
	free(c->req_buf);
	free(c->body_buf);
	free(c->stored);
	free(c->key);
	free(c);
}

static void client_limits(void *ctx, struct pcd_conn_limits *out)
{
	const struct pc_edge_params *params = edge_params(ctx);
	*out = (struct pcd_conn_limits){
	    .max_conns = params->max_clients,
	    .max_per_source = params->max_per_source,
	    .header_timeout_ms = params->header_timeout_ms,
	    .idle_timeout_ms = params->idle_timeout_ms,
	    .balancers = &params->balancers,
	};
}

const struct pcd_conn_proto edge_client_proto = {
    .name = "edge",
    .max_input = CLIENT_MAX_INPUT,
    .limits = client_limits,
    .open = client_open,
    .input = client_input,
    .end = client_end,
    .free = client_free,
};

/* ---- waking ---- */

void edge_clients_woken(struct edge_worker *ew)
{
	/* Take the list: clients that must wait again put themselves back. */
	struct edge_client *list = ew->waiting;
	ew->waiting = NULL;
	for (struct edge_client *c = list; c != NULL; c = c->wnext)
		c->waiting = false;
	while (list != NULL) {
		struct edge_client *c = list;
		list = c->wnext;
		if (list != NULL)
			list->wprev = NULL;
		c->wnext = c->wprev = NULL;
		serve(c);
	}
}
