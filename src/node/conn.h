/* conn: the TCP connection engine of the daemon's TCP roles (DNS over TCP,
 * the HTTP and RTSP redirectors; the edge and overlay to come). It owns
 * listeners, accept limits, the PROXY v2 header, input kept for framed
 * protocols, buffered output with back-pressure, timeouts and the
 * lingering close; a protocol only says what bytes mean and what to answer.
 *
 * Threads: a pcd_conn_group is shared by every worker of a role (atomics
 * only); a pcd_conn_engine and its connections belong to one worker and are
 * used on its thread only. */
#ifndef PC_NODE_CONN_H
#define PC_NODE_CONN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/buf.h"
#include "lib/model/model.h"
#include "node/node.h"

struct pcd_conn;        /* one connection */
struct pcd_conn_engine; /* one worker's listeners and connections of a role */
struct pcd_conn_group;  /* node-wide: what the engines of a role share */

enum {
	PCD_CONN_OUT_HIGH = 256 * 1024, /* unsent bytes above which a peer is not read */
	PCD_CONN_LINGER_MS = 2000,      /* reading and dropping after the last response */
	PCD_CONN_READ_CHUNK = 16384,    /* bytes per recv */
};

/* What the protocol says about a connection; it picks the timeout. */
enum pcd_conn_state {
	/* Between requests, or a response streaming: the idle timeout counts
	 * from the last progress (a byte received or sent, or IDLE set again). */
	PCD_CONN_IDLE,
	/* A request has begun: the header timeout counts from when it began;
	 * bytes trickling in do not extend it (slowloris). */
	PCD_CONN_BUSY,
	/* The last output is queued: the engine reads no more, sends it, then
	 * closes with a linger. The header timeout bounds a peer that does not
	 * read it. */
	PCD_CONN_CLOSING,
};

enum pcd_conn_end {
	PCD_CONN_END_PEER_CLOSED, /* FIN: the peer sends no more (it may still read) */
	PCD_CONN_END_TIMEOUT,     /* the header timeout of a BUSY connection */
};

/* The engine's counters, in the role's own state (so the role's metrics
 * code sums them over workers like its other counters). Written by the
 * engine's worker only (PCD_BUMP). */
enum pcd_conn_counter {
	PCD_CONN_ACCEPTED,
	PCD_CONN_REFUSED,        /* limits, or the protocol's open said no */
	PCD_CONN_HEADER_TIMEOUT, /* BUSY, CLOSING or PROXY phase too long */
	PCD_CONN_IDLE_TIMEOUT,
	PCD_CONN_PROXY_BAD, /* a malformed PROXY v2 header from a balancer */
	PCD_CONN__COUNTER_COUNT
};
struct pcd_conn_counters {
	_Atomic uint64_t n[PCD_CONN__COUNTER_COUNT];
};
/* The metric names the HTTP and RTSP roles publish them under
 * ("connections_accepted", ...); DNS has its own ("tcp_accepted"). */
extern const char *const pcd_conn_counter_names[PCD_CONN__COUNTER_COUNT];

/* Limits that may change with a reload; asked for at accept and tick. */
struct pcd_conn_limits {
	uint32_t max_conns;         /* per worker */
	uint32_t max_per_source;    /* per source address, over the group's workers */
	uint32_t header_timeout_ms; /* BUSY, CLOSING, and waiting for a PROXY header */
	uint32_t idle_timeout_ms;   /* IDLE */
	/* Peers whose connections start with PROXY v2; NULL for none. May point
	 * into the current generation: the engine does not keep it. */
	const struct pc_addr_list *balancers;
};

/* A protocol: a const struct, one per protocol. Callbacks run on the
 * worker's thread and must not free the connection: pcd_conn_abort and the
 * CLOSING state end it once the callback has returned. */
struct pcd_conn_proto {
	const char *name; /* the role field of log lines: "dns", "http" */
	/* Unconsumed input the engine keeps, in bytes: more than the largest
	 * frame a framed protocol waits for (DNS: 2 + 65535 + 1). A protocol
	 * that consumes nothing of max_input bytes is closed. A stream
	 * protocol that consumes all may leave it 0. */
	size_t max_input;
	/* Bytes per recv into the kept input (a frame begun); 0:
	 * PCD_CONN_READ_CHUNK. A protocol of large frames (the overlay's)
	 * reads a frame in one or two calls; a protocol with many connections
	 * keeps it small, as the kept input grows by that much. */
	size_t read_chunk;
	/* Unsent output above which the peer is not read; 0: PCD_CONN_OUT_HIGH. */
	size_t out_high;
	/* With drained: once unsent output has been above out_low, drained
	 * runs when it has fallen to out_low again (the peer is reading): a
	 * protocol relaying between connections resumes the ones it paused.
	 * NULL drained: never. */
	size_t out_low;
	void (*drained)(struct pcd_conn *conn, void *state);
	void (*limits)(void *ctx, struct pcd_conn_limits *out);
	/* A new connection; returns its state, owned by the engine from now on
	 * and given to free (NULL refuses the connection, counted). NULL open:
	 * the state is NULL. The source may still change with a PROXY header. */
	void *(*open)(struct pcd_conn *conn, void *ctx);
	/* Received bytes: in is everything not yet consumed. Returns how many
	 * it consumed (at most len); the rest is offered again with what comes
	 * next, so a framed protocol consumes one whole frame per call and 0
	 * while a frame is incomplete. The engine calls again while bytes remain,
	 * output is below the high-water mark and the state is not CLOSING. */
	size_t (*input)(struct pcd_conn *conn, void *state, const uint8_t *in, size_t len);
	/* The peer closed its side (after every byte it sent was offered to
	 * input), or a BUSY connection timed out. May append a last response.
	 * After a timeout the connection is CLOSING whatever it sets; after a
	 * peer close it stays open until the protocol sets CLOSING (an edge
	 * still streaming) or a timeout. NULL: set CLOSING. */
	void (*end)(struct pcd_conn *conn, void *state, enum pcd_conn_end why);
	void (*free)(void *state); /* NULL: nothing to free */
};

/* A role's group: the per-source connection counts all its workers share
 * (hashed by pcd_source_slot; a collision makes the limit stricter, never
 * looser). Create before any worker opens, free after every engine of it
 * is freed. */
int pcd_conn_group_new(struct pcd_conn_group **out);
void pcd_conn_group_free(struct pcd_conn_group *group);

/* ---- the hooks a TCP role (struct pcd_role) takes from here ---- */

/* start and stop: the role's group in room->shared, for its open to give
 * to pcd_conn_engine_new. */
int pcd_conn_room_start(struct pcd_room *room);
void pcd_conn_room_stop(struct pcd_room *room);

/* The first member of a TCP role's per-worker state, so that the hooks
 * below find the engine its open made there. */
struct pcd_conn_worker {
	struct pcd_conn_engine *engine;
};
/* tick: the engine's timeouts. close: frees the engine (a role with
 * more to close calls it from its own). */
void pcd_conn_room_tick(const struct pcd_room *room, void *state, uint64_t now_ms);
void pcd_conn_room_close(const struct pcd_room *room, void *state);

/* A worker's engine for one role. ctx (the role's per-worker state) is
 * given to limits and open; counters live in it and must outlive the
 * engine. Returns 0 or -ENOMEM. */
int pcd_conn_engine_new(struct pcd_worker *worker, struct pcd_conn_group *group,
                        const struct pcd_conn_proto *proto, void *ctx,
                        struct pcd_conn_counters *counters, struct pcd_conn_engine **out);
/* Closes every connection (their free runs) and listener. */
void pcd_conn_engine_free(struct pcd_conn_engine *engine);

/* A listening socket on addr:port for this worker (SO_REUSEPORT, via
 * pcd_net_bind), watched by the worker. Logs nothing: for roles that
 * announce their sockets their own way (DNS: "dns-listening", udp and
 * tcp). Returns 0 or -errno. */
int pcd_conn_listen(struct pcd_conn_engine *engine, const pc_addr *addr, uint16_t port);
/* pcd_conn_listen for each address, logging "bind-failed" (role, listen,
 * error) and, on worker 0, "listening" (role, listen, transports=tcp) as
 * the redirectors do. Stops at the first failure. n == 0 is -EINVAL,
 * unlogged: the role knows which setting to hint at. */
int pcd_conn_listen_all(struct pcd_conn_engine *engine, const pc_addr *addrs, unsigned n,
                        uint16_t port);

/* Takes fd (connected, or connecting, non-blocking) as a connection of
 * this engine: an overlay link we dialled, or a test's socketpair. No
 * limit, counter or PROXY header applies. The engine owns fd even on
 * failure. peer may be NULL (unknown). Returns 0 or -errno; *out may be
 * NULL. */
int pcd_conn_adopt(struct pcd_conn_engine *engine, int fd, const pc_addr *peer,
                   struct pcd_conn **out);

/* Timeouts and lingering closes; from the role's tick, about once a
 * second. now_ms is monotonic (pcd_mono_ms). */
void pcd_conn_tick(struct pcd_conn_engine *engine, uint64_t now_ms);

unsigned pcd_conn_count(const struct pcd_conn_engine *engine);

/* ---- for protocols, on a connection ---- */

void *pcd_conn_ctx(const struct pcd_conn *conn);
/* The client: from the PROXY header when the peer is a balancer. */
const pc_addr *pcd_conn_source(const struct pcd_conn *conn);
const pc_addr *pcd_conn_peer(const struct pcd_conn *conn);
/* For socket options only; never read, write or close it. */
int pcd_conn_fd(const struct pcd_conn *conn);
/* Where output goes: append only; the engine sends from its front. */
struct pc_buf *pcd_conn_out(struct pcd_conn *conn);
/* Appends len bytes at data without copying them (a cached object's body,
 * shared by every client it is sent to): sent in order with what out
 * holds, then release(arg) runs — also when the connection ends first.
 * data must stay put until then. Returns 0, or -ENOMEM (release has run). */
int pcd_conn_out_ref(struct pcd_conn *conn, const void *data, size_t len,
                     void (*release)(void *arg), void *arg);
/* Bytes not sent yet: out's and the refs'. */
size_t pcd_conn_unsent(const struct pcd_conn *conn);
void pcd_conn_set_state(struct pcd_conn *conn, enum pcd_conn_state state);
enum pcd_conn_state pcd_conn_state(const struct pcd_conn *conn);
/* Closes at once, dropping unsent output (a bad frame, a failed upstream).
 * In a callback it happens when the callback returns. */
void pcd_conn_abort(struct pcd_conn *conn);
/* Outside callbacks (an upstream fill arrived): sends what was appended
 * and applies a CLOSING state. Returns 0, or -EPIPE when the connection
 * is gone (freed, free ran): drop every pointer to it. In a callback it
 * does nothing and returns 0: the engine sends after the callback. */
int pcd_conn_send(struct pcd_conn *conn);
/* Flow control between connections (a relay whose downstream cannot keep
 * up stops reading its upstream): a paused connection is neither read nor
 * offered its kept input, so the peer's sends back up into its own buffers;
 * output still goes, and a peer close or reset is still noticed when the
 * pause ends (EPOLLHUP/ERR are always reported). Resume offers kept input
 * again from the engine's own event, so it is safe in any callback. The
 * timeouts still run: an IDLE connection paused longer than the idle
 * timeout with nothing sent either is closed. */
void pcd_conn_pause_read(struct pcd_conn *conn);
void pcd_conn_resume_read(struct pcd_conn *conn);
bool pcd_conn_read_paused(const struct pcd_conn *conn);
/* Arms the protocol's drained: it runs once unsent output is at out_low or
 * below — soon, from the engine's own event, if it already is. (The engine
 * arms it by itself whenever it sees output above out_low after a send.) */
void pcd_conn_watch_drained(struct pcd_conn *conn);

/* pcd_conn_send, and input kept while the protocol was busy (it consumed
 * nothing: a response still streaming) is offered again: the protocol is
 * ready for the next pipelined request. */
int pcd_conn_resume(struct pcd_conn *conn);

#endif
