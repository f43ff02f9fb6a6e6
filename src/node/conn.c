/* The TCP connection engine (see conn.h): one connection lifecycle for
 * every TCP role, written once — accept under limits, PROXY v2, input kept
 * until a protocol consumes it, output sent under back-pressure, timeouts,
 * and a lingering close so the kernel never resets a response in flight.
 *
 * Freeing: a connection is freed only by the engine, and never while a
 * protocol callback runs (a callback's pcd_conn_send or pcd_conn_abort
 * only marks or re-arms; the engine acts when it is back in control). */
#include "node/conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/proto/proxy.h"
#include "node/log.h"
#include "node/net.h"

enum {
	SOURCE_SLOTS = 4096,
	MAX_LISTEN = 16,
	ACCEPT_BATCH = 64, /* accepts per event, so other sockets get a turn */
	READ_ROUNDS = 4,   /* recvs per event, likewise */
	OUT_IOV = 64,      /* iovecs per sendmsg */
};

const char *const pcd_conn_counter_names[PCD_CONN__COUNTER_COUNT] = {
    "connections_accepted", "connections_refused", "header_timeouts",
    "idle_timeouts",        "proxy_header_errors",
};

struct pcd_conn_group {
	/* Open connections per source address, over every worker of a role. */
	_Atomic uint32_t per_source[SOURCE_SLOTS];
};

struct listener {
	struct pcd_io io;
	struct pcd_conn_engine *engine;
};

enum phase {
	PHASE_PROXY,  /* waiting for a balancer's PROXY v2 header */
	PHASE_OPEN,   /* the protocol talks */
	PHASE_LINGER, /* our side is shut: reading and dropping until EOF or LINGER_MS */
};

struct pcd_conn {
	struct pcd_io io;
	struct pcd_conn_engine *engine;
	struct pcd_conn *prev, *next;
	void *state; /* the protocol's, freed by proto->free */
	enum phase phase;
	enum pcd_conn_state pstate;
	uint32_t events; /* what the epoll set has: epoll_ctl only when it changes */
	pc_addr peer, source;
	uint32_t source_slot;
	bool counted;      /* holds a per-source count in the group */
	bool peer_closed;  /* EOF read: the peer sends no more */
	bool ended;        /* end(PEER_CLOSED) ran */
	bool stalled;      /* the protocol was offered all of in and wants more */
	bool aborted;      /* to be freed as soon as the engine is in control */
	bool read_paused;  /* pcd_conn_pause_read: neither read nor fed */
	bool over_low;     /* unsent rose above the protocol's out_low: drained owed */
	uint64_t since_ms; /* monotonic: start of the current timeout */
	uint8_t *in;       /* bytes not consumed yet (and the PROXY header) */
	size_t in_len, in_cap;
	struct pc_buf out;
	size_t out_off; /* out.data[out_off..out.len) is unsent */
	/* Bytes sent from where they are (pcd_conn_out_ref), in order with
	 * out's: refs[ref_head..n_refs) are unsent, each after out's bytes
	 * before its at. */
	struct out_ref *refs;
	unsigned ref_head, n_refs, ref_cap;
	size_t ref_bytes; /* unsent bytes of refs */
};

struct out_ref {
	size_t at; /* offset in out: sent once out's bytes before it are */
	const char *data;
	size_t len, off;
	void (*release)(void *arg);
	void *arg;
};

struct pcd_conn_engine {
	struct pcd_worker *worker;
	struct pcd_conn_group *group;
	const struct pcd_conn_proto *proto;
	void *ctx;
	struct pcd_conn_counters *counters;
	struct listener listeners[MAX_LISTEN];
	unsigned n_listeners;
	struct pcd_conn *conns; /* doubly linked, for the sweep */
	unsigned n_conns;
	unsigned in_callback; /* > 0 while a protocol callback runs */
	uint8_t scratch[PCD_CONN_READ_CHUNK];
};

int pcd_conn_group_new(struct pcd_conn_group **out)
{
	*out = calloc(1, sizeof(**out));
	return *out == NULL ? -ENOMEM : 0;
}

void pcd_conn_group_free(struct pcd_conn_group *group)
{
	free(group);
}

int pcd_conn_room_start(struct pcd_room *room)
{
	struct pcd_conn_group *group;
	int err = pcd_conn_group_new(&group);
	room->shared = group;
	return err;
}

void pcd_conn_room_stop(struct pcd_room *room)
{
	pcd_conn_group_free(room->shared);
	room->shared = NULL;
}

void pcd_conn_room_tick(const struct pcd_room *room, void *state, uint64_t now_ms)
{
	(void)room;
	pcd_conn_tick(((struct pcd_conn_worker *)state)->engine, now_ms);
}

void pcd_conn_room_close(const struct pcd_room *room, void *state)
{
	(void)room;
	struct pcd_conn_worker *cw = state;
	pcd_conn_engine_free(cw->engine);
	cw->engine = NULL;
}

static size_t out_high(const struct pcd_conn_engine *engine)
{
	return engine->proto->out_high ? engine->proto->out_high : PCD_CONN_OUT_HIGH;
}

static size_t unsent(const struct pcd_conn *conn)
{
	return conn->out.len - conn->out_off + conn->ref_bytes;
}

static void refs_free(struct pcd_conn *conn)
{
	for (unsigned i = conn->ref_head; i < conn->n_refs; i++)
		conn->refs[i].release(conn->refs[i].arg);
	free(conn->refs);
	conn->refs = NULL;
	conn->ref_head = conn->n_refs = conn->ref_cap = 0;
	conn->ref_bytes = 0;
}

static void conn_free(struct pcd_conn *conn)
{
	struct pcd_conn_engine *engine = conn->engine;
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		engine->conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	engine->n_conns--;
	if (conn->counted)
		atomic_fetch_sub(&engine->group->per_source[conn->source_slot], 1);
	close(conn->io.fd);
	if (engine->proto->free != NULL) {
		engine->in_callback++;
		engine->proto->free(conn->state);
		engine->in_callback--;
	}
	pc_buf_free(&conn->out);
	refs_free(conn);
	free(conn->in);
	/* An event for it may be later in the worker's batch. */
	conn->io.closed = true;
	pcd_worker_defer_free(engine->worker, conn);
}

/* Progress restarts the idle timeout; a BUSY one runs from its start. */
static void progress(struct pcd_conn *conn)
{
	if (conn->pstate == PCD_CONN_IDLE)
		conn->since_ms = pcd_mono_ms();
}

static bool can_feed(const struct pcd_conn *conn)
{
	return conn->phase == PHASE_OPEN && !conn->aborted && !conn->read_paused &&
	       conn->pstate != PCD_CONN_CLOSING && unsent(conn) < out_high(conn->engine);
}

/* Whether to read: in the linger (to drop), or when the protocol has
 * nothing left to chew on and output is below the high-water mark. */
static bool wants_input(const struct pcd_conn *conn)
{
	if (conn->phase == PHASE_LINGER)
		return true;
	if (conn->aborted || conn->peer_closed || conn->read_paused ||
	    conn->pstate == PCD_CONN_CLOSING || unsent(conn) >= out_high(conn->engine))
		return false;
	return conn->in_len == 0 || conn->stalled || conn->phase == PHASE_PROXY;
}

static uint32_t events_of(const struct pcd_conn *conn)
{
	uint32_t events = wants_input(conn) ? EPOLLIN | EPOLLRDHUP : 0;
	if (unsent(conn) > 0 || conn->aborted)
		events |= EPOLLOUT;
	return events;
}

static void watch(struct pcd_conn *conn, uint32_t events)
{
	if (events != conn->events &&
	    pcd_worker_modify(conn->engine->worker, &conn->io, events) == 0)
		conn->events = events;
}

static bool reserve_in(struct pcd_conn *conn, size_t need)
{
	if (need <= conn->in_cap)
		return true;
	size_t bigger = conn->in_cap ? conn->in_cap : 1024;
	while (bigger < need)
		bigger *= 2;
	uint8_t *p = realloc(conn->in, bigger);
	if (p == NULL)
		return false;
	conn->in = p;
	conn->in_cap = bigger;
	return true;
}

/* Offers data to the protocol until it consumes nothing (it wants more),
 * must wait (output above the mark, CLOSING) or has all. Returns how many
 * bytes it consumed. */
static size_t feed(struct pcd_conn *conn, const uint8_t *data, size_t len)
{
	struct pcd_conn_engine *engine = conn->engine;
	size_t off = 0;
	conn->stalled = false;
	while (off < len && can_feed(conn)) {
		engine->in_callback++;
		size_t n = engine->proto->input(conn, conn->state, data + off, len - off);
		engine->in_callback--;
		if (n == 0) {
			conn->stalled = true;
			break;
		}
		off += n < len - off ? n : len - off;
	}
	return off;
}

/* Keeps rest[0..len) as the unconsumed input (rest may point into in).
 * False when it is more than the protocol may leave unconsumed. */
static bool keep(struct pcd_conn *conn, const uint8_t *rest, size_t len)
{
	if (conn->stalled && len >= conn->engine->proto->max_input)
		return false; /* a frame larger than the protocol allows */
	if (len > 0 && !reserve_in(conn, len))
		return false;
	if (len > 0)
		memmove(conn->in, rest, len);
	conn->in_len = len;
	return true;
}

/* Offers the kept input (again). False as keep. */
static bool feed_kept(struct pcd_conn *conn)
{
	if (conn->phase != PHASE_OPEN || conn->in_len == 0)
		return true;
	size_t used = feed(conn, conn->in, conn->in_len);
	return keep(conn, conn->in + used, conn->in_len - used);
}

/* Bytes before the PROXY header is complete, in conn->in. False when the
 * connection is to be closed (counted). */
static bool take_proxy(struct pcd_conn *conn)
{
	pc_addr client;
	uint16_t port;
	long n = pc_proxy_v2_parse(conn->in, conn->in_len, &client, &port);
	if (n == 0 && conn->in_len < PC_PROXY_V2_MAX)
		return true;
	if (n <= 0) {
		PCD_BUMP(conn->engine->counters->n[PCD_CONN_PROXY_BAD]);
		pcd_log(PCD_LOG_WARNING, "proxy-header-invalid", "role=%s",
		        conn->engine->proto->name);
		return false;
	}
	if (client.family != PC_AF_NONE)
		conn->source = client;
	conn->phase = PHASE_OPEN;
	return keep(conn, conn->in + n, conn->in_len - (size_t)n);
}

/* Reads what the peer sent, a few chunks at most. Returns false when the
 * connection is to be freed. */
static bool conn_read(struct pcd_conn *conn)
{
	struct pcd_conn_engine *engine = conn->engine;
	for (int round = 0; round < READ_ROUNDS && wants_input(conn); round++) {
		/* An empty input buffer reads into the worker's scratch: a stream
		 * protocol that consumes everything never needs a buffer of its own. */
		bool scratch =
		    conn->phase == PHASE_LINGER || (conn->phase == PHASE_OPEN && conn->in_len == 0);
		uint8_t *buf = engine->scratch;
		size_t room = sizeof(engine->scratch);
		if (!scratch) {
			if (engine->proto->read_chunk > room)
				room = engine->proto->read_chunk;
			size_t limit =
			    conn->phase == PHASE_PROXY ? PC_PROXY_V2_MAX : engine->proto->max_input;
			if (conn->in_len >= limit)
				return false;
			if (room > limit - conn->in_len)
				room = limit - conn->in_len;
			if (!reserve_in(conn, conn->in_len + room))
				return false;
			buf = conn->in + conn->in_len;
		}
		ssize_t n = recv(conn->io.fd, buf, room, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		if (n < 0)
			return false; /* reset */
		if (n == 0) {
			if (conn->phase != PHASE_OPEN)
				return false; /* lingered to the end, or no PROXY header came */
			conn->peer_closed = true;
			break;
		}
		if (conn->phase == PHASE_LINGER)
			continue; /* dropped */
		progress(conn);
		if (scratch) {
			size_t used = feed(conn, buf, (size_t)n);
			if (!keep(conn, buf + used, (size_t)n - used))
				return false;
		} else {
			conn->in_len += (size_t)n;
			if (conn->phase == PHASE_PROXY && !take_proxy(conn))
				return false;
			if (!feed_kept(conn))
				return false;
		}
		if (conn->aborted)
			return false;
		if ((size_t)n < room)
			break; /* drained: epoll says when more comes */
	}
	return true;
}

/* The unsent bytes, out's and refs' in order, as at most max iovecs. */
static int gather(const struct pcd_conn *conn, struct iovec *iov, int max)
{
	int n = 0;
	size_t cursor = conn->out_off;
	for (unsigned i = conn->ref_head; i < conn->n_refs && n + 2 <= max; i++) {
		const struct out_ref *ref = &conn->refs[i];
		if (ref->at > cursor) {
			iov[n++] = (struct iovec){conn->out.data + cursor, ref->at - cursor};
			cursor = ref->at;
		}
		iov[n++] = (struct iovec){(void *)(ref->data + ref->off), ref->len - ref->off};
		if (i + 1 == conn->n_refs && n < max && conn->out.len > cursor)
			iov[n++] = (struct iovec){conn->out.data + cursor, conn->out.len - cursor};
	}
	if (conn->ref_head == conn->n_refs && conn->out.len > cursor)
		iov[n++] = (struct iovec){conn->out.data + cursor, conn->out.len - cursor};
	return n;
}

/* Marks sent bytes sent, releasing the refs sent whole. */
static void advance(struct pcd_conn *conn, size_t sent)
{
	while (sent > 0 && conn->ref_head < conn->n_refs) {
		struct out_ref *ref = &conn->refs[conn->ref_head];
		if (ref->at > conn->out_off) {
			size_t take =
			    ref->at - conn->out_off < sent ? ref->at - conn->out_off : sent;
			conn->out_off += take;
			sent -= take;
			continue;
		}
		size_t take = ref->len - ref->off < sent ? ref->len - ref->off : sent;
		ref->off += take;
		conn->ref_bytes -= take;
		sent -= take;
		if (ref->off < ref->len)
			return;
		ref->release(ref->arg);
		conn->ref_head++;
	}
	conn->out_off += sent;
	if (conn->ref_head == conn->n_refs)
		conn->ref_head = conn->n_refs = 0;
}

/* Sends what is pending. False when the peer is gone. */
static bool flush(struct pcd_conn *conn)
{
	while (unsent(conn) > 0) {
		struct iovec iov[OUT_IOV];
		struct msghdr msg = {.msg_iov = iov,
		                     .msg_iovlen = (size_t)gather(conn, iov, OUT_IOV)};
		ssize_t n = sendmsg(conn->io.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		if (n <= 0)
			return false;
		advance(conn, (size_t)n);
		progress(conn);
	}
	if (conn->out_off == conn->out.len && conn->n_refs == 0) {
		conn->out.len = conn->out_off = 0;
	} else if (conn->out_off > 0 && conn->out_off >= conn->out.len - conn->out_off) {
		/* A response streamed for long never drains to empty: move the
		 * unsent tail to the front, copying no more than was sent. */
		pc_buf_consume(&conn->out, conn->out_off);
		for (unsigned i = conn->ref_head; i < conn->n_refs; i++)
			conn->refs[i].at -= conn->out_off;
		conn->out_off = 0;
	}
	return true;
}

/* After our last byte: stop sending and read (dropping) for a while, so
 * that what the peer still sends does not make the kernel reset the
 * connection and destroy the response in flight. */
static void start_linger(struct pcd_conn *conn)
{
	shutdown(conn->io.fd, SHUT_WR);
	conn->phase = PHASE_LINGER;
	conn->since_ms = pcd_mono_ms();
	conn->in_len = 0;
}

static void end(struct pcd_conn *conn, enum pcd_conn_end why)
{
	struct pcd_conn_engine *engine = conn->engine;
	if (engine->proto->end == NULL) {
		pcd_conn_set_state(conn, PCD_CONN_CLOSING);
		return;
	}
	engine->in_callback++;
	engine->proto->end(conn, conn->state, why);
	engine->in_callback--;
}

/* The protocol's drained, once unsent falls to its out_low after having
 * been above it. False when the callback aborted conn. */
static bool drained(struct pcd_conn *conn)
{
	struct pcd_conn_engine *engine = conn->engine;
	if (engine->proto->drained == NULL || conn->phase != PHASE_OPEN)
		return true;
	if (unsent(conn) > engine->proto->out_low) {
		conn->over_low = true;
		return true;
	}
	if (!conn->over_low)
		return true;
	conn->over_low = false;
	engine->in_callback++;
	engine->proto->drained(conn, conn->state);
	engine->in_callback--;
	return !conn->aborted;
}

/* After anything happened: input waiting behind back-pressure, the end of
 * a closed peer, sending, the close after the last byte, the epoll
 * events. Returns false when conn was freed. Terminates: every round
 * consumes input or leaves. */
static bool settle(struct pcd_conn *conn)
{
	for (;;) {
		if (conn->aborted)
			goto gone;
		if (conn->phase == PHASE_OPEN && conn->peer_closed && !conn->ended &&
		    (conn->in_len == 0 || conn->stalled || conn->pstate == PCD_CONN_CLOSING)) {
			conn->ended = true;
			end(conn, PCD_CONN_END_PEER_CLOSED);
			if (conn->aborted)
				goto gone;
		}
		if (!flush(conn))
			goto gone;
		if (!drained(conn))
			goto gone;
		if (conn->phase == PHASE_OPEN && conn->pstate == PCD_CONN_CLOSING &&
		    unsent(conn) == 0) {
			if (conn->peer_closed)
				goto gone; /* it sent FIN and we read all: nothing to linger for */
			start_linger(conn);
		}
		if (conn->in_len == 0 || conn->stalled || !can_feed(conn))
			break;
		if (!feed_kept(conn))
			goto gone;
	}
	watch(conn, events_of(conn));
	return true;
gone:
	conn_free(conn);
	return false;
}

static void conn_event(struct pcd_io *io, struct pcd_worker *worker, uint32_t events)
{
	(void)worker;
	struct pcd_conn *conn = (struct pcd_conn *)io;
	/* ERR: reset. HUP: both directions are shut (a reset, or the peer's
	 * FIN in the linger): nobody is left to answer. */
	if (conn->aborted || (events & (EPOLLERR | EPOLLHUP))) {
		conn_free(conn);
		return;
	}
	if ((events & (EPOLLIN | EPOLLRDHUP)) && !conn_read(conn)) {
		conn_free(conn);
		return;
	}
	settle(conn);
}

/* A connection with its protocol state, not yet in the list; NULL when
 * memory runs out or the protocol refuses. */
static struct pcd_conn *conn_new(struct pcd_conn_engine *engine, int fd, const pc_addr *peer)
{
	struct pcd_conn *conn = calloc(1, sizeof(*conn));
	if (conn == NULL)
		return NULL;
	conn->io = (struct pcd_io){.fd = fd, .on_event = conn_event};
	conn->engine = engine;
	if (peer != NULL)
		conn->peer = conn->source = *peer;
	conn->phase = PHASE_OPEN;
	conn->pstate = PCD_CONN_IDLE;
	conn->since_ms = pcd_mono_ms();
	if (engine->proto->open != NULL) {
		engine->in_callback++;
		conn->state = engine->proto->open(conn, engine->ctx);
		engine->in_callback--;
		if (conn->state == NULL) {
			pc_buf_free(&conn->out);
			free(conn);
			return NULL;
		}
	}
	return conn;
}

/* Links conn into the engine and its worker. False when it was freed. */
static bool conn_start(struct pcd_conn *conn)
{
	struct pcd_conn_engine *engine = conn->engine;
	conn->next = engine->conns;
	if (engine->conns != NULL)
		engine->conns->prev = conn;
	engine->conns = conn;
	engine->n_conns++;
	conn->events = events_of(conn);
	if (pcd_worker_watch(engine->worker, &conn->io, conn->events) != 0) {
		conn_free(conn);
		return false;
	}
	return true;
}

static bool is_balancer(const struct pc_addr_list *balancers, const pc_addr *peer)
{
	for (uint32_t i = 0; balancers != NULL && i < balancers->count; i++)
		if (pc_addr_equal(&balancers->items[i], peer))
			return true;
	return false;
}

static void accept_event(struct pcd_io *io, struct pcd_worker *worker, uint32_t events)
{
	(void)worker;
	(void)events;
	struct pcd_conn_engine *engine = ((struct listener *)io)->engine;
	struct pcd_conn_limits limits = {0};
	engine->proto->limits(engine->ctx, &limits);
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		int fd = accept4(io->fd, (struct sockaddr *)&from, &from_len,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		pc_addr peer;
		pcd_addr_from_sockaddr(&from, &peer, NULL);
		uint32_t slot = pcd_source_slot(&peer, SOURCE_SLOTS);
		_Atomic uint32_t *per_source = &engine->group->per_source[slot];
		struct pcd_conn *conn = NULL;
		if (engine->n_conns < limits.max_conns) {
			if (atomic_fetch_add(per_source, 1) < limits.max_per_source)
				conn = conn_new(engine, fd, &peer);
			if (conn == NULL)
				atomic_fetch_sub(per_source, 1);
		}
		if (conn == NULL) {
			PCD_BUMP(engine->counters->n[PCD_CONN_REFUSED]);
			close(fd);
			continue;
		}
		conn->counted = true;
		conn->source_slot = slot;
		if (is_balancer(limits.balancers, &peer))
			conn->phase = PHASE_PROXY;
		PCD_BUMP(engine->counters->n[PCD_CONN_ACCEPTED]);
		conn_start(conn);
	}
}

int pcd_conn_engine_new(struct pcd_worker *worker, struct pcd_conn_group *group,
                        const struct pcd_conn_proto *proto, void *ctx,
                        struct pcd_conn_counters *counters, struct pcd_conn_engine **out)
{
	struct pcd_conn_engine *engine = calloc(1, sizeof(*engine));
	*out = engine;
	if (engine == NULL)
		return -ENOMEM;
	engine->worker = worker;
	engine->group = group;
	engine->proto = proto;
	engine->ctx = ctx;
	engine->counters = counters;
	return 0;
}

void pcd_conn_engine_free(struct pcd_conn_engine *engine)
{
	if (engine == NULL)
		return;
	while (engine->conns != NULL)
		conn_free(engine->conns);
	for (unsigned i = 0; i < engine->n_listeners; i++)
		close(engine->listeners[i].io.fd);
	free(engine);
}

int pcd_conn_listen(struct pcd_conn_engine *engine, const pc_addr *addr, uint16_t port)
{
	if (engine->n_listeners == MAX_LISTEN)
		return -ENOSPC;
	struct listener *l = &engine->listeners[engine->n_listeners];
	*l = (struct listener){.io = {.fd = -1, .on_event = accept_event}, .engine = engine};
	int err = pcd_worker_listen(engine->worker, &l->io, SOCK_STREAM, addr, port);
	if (err == 0)
		engine->n_listeners++;
	return err;
}

int pcd_conn_listen_all(struct pcd_conn_engine *engine, const pc_addr *addrs, unsigned n,
                        uint16_t port)
{
	if (n == 0)
		return -EINVAL;
	const char *role = engine->proto->name;
	for (unsigned i = 0; i < n; i++) {
		char where[80];
		pcd_net_format(&addrs[i], port, where, sizeof(where));
		int err = pcd_conn_listen(engine, &addrs[i], port);
		if (err != 0) {
			pcd_log(PCD_LOG_ERROR, "bind-failed", "role=%s listen=%s error=\"%s\"",
			        role, where, strerror(-err));
			return err;
		}
		if (engine->worker->index == 0)
			pcd_log(PCD_LOG_INFO, "listening", "role=%s listen=%s transports=tcp", role,
			        where);
	}
	return 0;
}

int pcd_conn_adopt(struct pcd_conn_engine *engine, int fd, const pc_addr *peer,
                   struct pcd_conn **out)
{
	if (out != NULL)
		*out = NULL;
	if (fd < 0)
		return -EBADF;
	struct pcd_conn *conn = conn_new(engine, fd, peer);
	if (conn == NULL) {
		close(fd);
		return -ENOMEM;
	}
	if (!conn_start(conn))
		return -EIO;
	if (out != NULL)
		*out = conn;
	return 0;
}

void pcd_conn_tick(struct pcd_conn_engine *engine, uint64_t now_ms)
{
	struct pcd_conn_limits limits = {0};
	engine->proto->limits(engine->ctx, &limits);
	struct pcd_conn_counters *c = engine->counters;
	for (struct pcd_conn *conn = engine->conns, *next; conn != NULL; conn = next) {
		next = conn->next;
		uint64_t age = now_ms > conn->since_ms ? now_ms - conn->since_ms : 0;
		if (conn->aborted) {
			conn_free(conn);
		} else if (conn->phase == PHASE_LINGER) {
			if (age >= PCD_CONN_LINGER_MS)
				conn_free(conn);
		} else if (conn->phase == PHASE_PROXY || conn->pstate == PCD_CONN_CLOSING) {
			/* A PROXY header that does not come, or a last response the
			 * peer does not read. */
			if (age >= limits.header_timeout_ms) {
				PCD_BUMP(c->n[PCD_CONN_HEADER_TIMEOUT]);
				conn_free(conn);
			}
		} else if (conn->pstate == PCD_CONN_IDLE) {
			if (age >= limits.idle_timeout_ms) {
				PCD_BUMP(c->n[PCD_CONN_IDLE_TIMEOUT]);
				conn_free(conn);
			}
		} else if (age >= limits.header_timeout_ms) {
			/* A request that does not finish: the protocol may answer it
			 * (HTTP 408), then the connection ends. */
			PCD_BUMP(c->n[PCD_CONN_HEADER_TIMEOUT]);
			end(conn, PCD_CONN_END_TIMEOUT);
			pcd_conn_set_state(conn, PCD_CONN_CLOSING);
			settle(conn);
		}
	}
}

unsigned pcd_conn_count(const struct pcd_conn_engine *engine)
{
	return engine->n_conns;
}

void *pcd_conn_ctx(const struct pcd_conn *conn)
{
	return conn->engine->ctx;
}

const pc_addr *pcd_conn_source(const struct pcd_conn *conn)
{
	return &conn->source;
}

const pc_addr *pcd_conn_peer(const struct pcd_conn *conn)
{
	return &conn->peer;
}

int pcd_conn_fd(const struct pcd_conn *conn)
{
	return conn->io.fd;
}

struct pc_buf *pcd_conn_out(struct pcd_conn *conn)
{
	return &conn->out;
}

int pcd_conn_out_ref(struct pcd_conn *conn, const void *data, size_t len,
                     void (*release)(void *arg), void *arg)
{
	if (len == 0) {
		release(arg);
		return 0;
	}
	if (conn->n_refs == conn->ref_cap) {
		if (conn->ref_head > 0) {
			memmove(conn->refs, conn->refs + conn->ref_head,
			        (conn->n_refs - conn->ref_head) * sizeof(*conn->refs));
			conn->n_refs -= conn->ref_head;
			conn->ref_head = 0;
		} else {
			unsigned cap = conn->ref_cap ? conn->ref_cap * 2 : 8;
			struct out_ref *refs = realloc(conn->refs, cap * sizeof(*refs));
			if (refs == NULL) {
				release(arg);
				return -ENOMEM;
			}
			conn->refs = refs;
			conn->ref_cap = cap;
		}
	}
	conn->refs[conn->n_refs++] = (struct out_ref){
	    .at = conn->out.len, .data = data, .len = len, .release = release, .arg = arg};
	conn->ref_bytes += len;
	return 0;
}

size_t pcd_conn_unsent(const struct pcd_conn *conn)
{
	return unsent(conn);
}

void pcd_conn_set_state(struct pcd_conn *conn, enum pcd_conn_state state)
{
	if (conn->pstate == PCD_CONN_CLOSING)
		return; /* final */
	if (state != conn->pstate || state == PCD_CONN_IDLE)
		conn->since_ms = pcd_mono_ms();
	conn->pstate = state;
}

enum pcd_conn_state pcd_conn_state(const struct pcd_conn *conn)
{
	return conn->pstate;
}

void pcd_conn_abort(struct pcd_conn *conn)
{
	conn->aborted = true;
	if (conn->engine->in_callback == 0) {
		conn_free(conn);
		return;
	}
	/* In a callback: the engine frees it when that returns (this
	 * connection's), at its next event (writable at once unless its
	 * buffer is full) or at the next tick. */
	watch(conn, events_of(conn));
}

void pcd_conn_pause_read(struct pcd_conn *conn)
{
	if (conn->read_paused)
		return;
	conn->read_paused = true;
	watch(conn, events_of(conn));
}

void pcd_conn_resume_read(struct pcd_conn *conn)
{
	if (!conn->read_paused)
		return;
	conn->read_paused = false;
	if (conn->in_len > 0 && !conn->stalled) {
		/* Input kept when the pause came is offered again from the
		 * engine's own event (writable at once), never from inside
		 * another connection's callback. */
		watch(conn, events_of(conn) | EPOLLOUT);
		return;
	}
	watch(conn, events_of(conn));
}

void pcd_conn_watch_drained(struct pcd_conn *conn)
{
	conn->over_low = true;
	/* The engine checks at its next settle: writable at once if the
	 * output already went. */
	watch(conn, events_of(conn) | EPOLLOUT);
}

bool pcd_conn_read_paused(const struct pcd_conn *conn)
{
	return conn->read_paused;
}

int pcd_conn_resume(struct pcd_conn *conn)
{
	conn->stalled = false;
	return pcd_conn_send(conn);
}

int pcd_conn_send(struct pcd_conn *conn)
{
	if (conn->engine->in_callback > 0) {
		/* Ask epoll to bring the engine back to it, then send. */
		watch(conn, events_of(conn) | EPOLLOUT);
		return 0;
	}
	return settle(conn) ? 0 : -EPIPE;
}
