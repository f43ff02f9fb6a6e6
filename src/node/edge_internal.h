/* edge_internal: what the edge role's two halves share — edge.c, which
 * talks to clients and serves objects, and edge_fetch.c, which fetches
 * them from upstreams (parents, origins) into the store. Not for other
 * roles: they use node/edge.h. */
#ifndef PC_NODE_EDGE_INTERNAL_H
#define PC_NODE_EDGE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/proto/edge_settings.h"
#include "lib/proto/http_cache.h"
#include "lib/proto/http_msg.h"
#include "node/conn.h"
#include "node/edge_store.h"
#include "node/node.h"

enum {
	EDGE_KEY_MAX = 8192 + 256,
	EDGE_HEAD_MAX = 65536, /* a stored head, after the fields a cache drops */
	EDGE_VARY_MAX = 1024,  /* a secondary key (pc_cache_vary_key) */
	EDGE_MAX_PROVIDERS = 64,
	EDGE_METHOD_MAX = 31, /* the longest method name forwarded */
	EDGE_META_VERSION = 3,
	/* Via entries a request may carry (docs/edge.md, "The cache-miss
	 * tree"): 508 beyond. */
	EDGE_VIA_MAX = 16,
};

/* How a request was answered, for metrics and the access log. */
enum edge_result {
	EDGE_HIT,         /* from the store, fresh (or stale where allowed) */
	EDGE_MISS,        /* fetched for this request (or collapsed onto a fetch) */
	EDGE_REVALIDATED, /* stale, confirmed by a 304 upstream */
	EDGE_STALE_ERROR, /* stale, served because the upstream failed */
	EDGE_PASS,        /* not cacheable: fetched for this client only */
	EDGE_ERROR,       /* answered by the edge itself: 4xx or 5xx */
	EDGE__RESULTS
};
extern const char *const edge_result_names[EDGE__RESULTS];

/* The edge's record of a stored object (the store's opaque meta): the
 * cache entry, the body's length when known, and the secondary key of
 * the request it answered (Vary), after the struct. */
struct edge_meta {
	uint32_t version;
	uint32_t vary_len; /* bytes of secondary key after the struct */
	uint64_t body_len; /* UINT64_MAX: unknown until complete */
	bool shared;       /* may answer other clients (not private, not a pass) */
	bool error;        /* the edge's own error answer to a failed fill */
	/* A URL whose responses vary keeps, under its key, a stub that holds
	 * only the Vary fields; each variant is under the key, a NUL, the
	 * stub's generation in hex and its secondary key (edge_variant_key).
	 * A new stub (after an invalidation) has a new generation, so older
	 * variants are never found again. */
	bool vary_stub;
	uint8_t took; /* enum edge_result: a revalidation's copy of the stale object, why */
	uint64_t vary_gen;
	struct pc_cache_entry entry;
};

enum { EDGE_VARIANT_EXTRA = 1 + 16 };

/* pcd_object_marks bits. */
enum { EDGE_MARK_REFRESHING = 1 };
/* a stale-while-revalidate fetch is in flight */ /* the NUL and the generation, before the
                                                     secondary key */

/* Writes the key of a variant of key (primary, key_len bytes) for stub
 * generation gen and secondary key vary into out (at least key_len +
 * EDGE_VARIANT_EXTRA + vary_len bytes); returns its length. */
size_t edge_variant_key(const char *key, size_t key_len, uint64_t gen, const char *vary,
                        size_t vary_len, char *out);

/* Per worker, per provider (index in the model; the last one is "other"). */
struct edge_provider_counters {
	_Atomic uint64_t requests[EDGE__RESULTS];
	_Atomic uint64_t bytes_served, upstream_bytes, fetches, collapsed;
};

enum edge_counter {
	EC_UPSTREAM_CONNECT,
	EC_UPSTREAM_RESET,
	EC_UPSTREAM_TIMEOUT,
	EC_UPSTREAM_BAD,   /* a malformed head, bad framing, a broken chunk */
	EC_UPSTREAM_SHORT, /* a body that ended before its length */
	EC_UPSTREAM_LOOP,  /* a parent answered 508: the next upstream was tried */
	EC_NO_UPSTREAM,    /* no parent and no origin address for a host */
	EC_ABORTED_CLIENTS,
	EC_REFUSED, /* not a URL of a configured provider */
	EC__COUNT
};
extern const char *const edge_counter_names[EC__COUNT];

/* The pre-fill channel's counters (edge_channel.c). */
enum edge_channel_counter {
	EDGE_CH_OBJECTS_SENT,
	EDGE_CH_BLOCKS_SENT,
	EDGE_CH_OBJECTS_SKIPPED, /* queued, but not sendable (gone, an error, Vary, too large) */
	EDGE_CH_BLOCKS_RECEIVED,
	EDGE_CH_OBJECTS_STORED,
	EDGE_CH_OBJECTS_DROPPED, /* a block missing: not stored */
	EDGE_CH_BLOCKS_BAD,
	EDGE_CH__COUNT
};
extern const char *const edge_channel_counter_names[EDGE_CH__COUNT];
/* The largest object a channel pre-fill sends: well under what a link
 * queues before it is cut (docs/prefill.md). */
#define EDGE_CHANNEL_OBJECT_MAX ((uint64_t)16 << 20)

struct edge_shared;
struct edge_worker;
struct edge_channels;
struct edge_client;
struct edge_fetch;

/* Node-wide: room->shared. */
struct edge_shared {
	struct pcd_conn_group *clients;   /* accept limits of the client side */
	struct pcd_conn_group *upstreams; /* unused limits of the upstream side */
	struct pcd_store *store;
	struct edge_worker *workers[PC_MAX_WORKERS]; /* by worker index */
	FILE *access_log;                            /* NULL: none */
	struct edge_channels *channels;              /* the pre-fill channel (edge_channel.c) */
	struct live_hub *live;                       /* live streams (node/live.h) */
	pthread_mutex_t log_lock;
};

/* An idle or busy upstream connection of a worker. */
struct edge_upconn {
	struct pcd_conn *conn;
	struct edge_worker *ew;
	struct edge_fetch *fetch; /* NULL: idle in the pool */
	struct pc_hostport at;
	struct edge_upconn *prev, *next; /* the pool, when idle */
	bool reused;                     /* it served a response before this one */
	bool got_bytes;                  /* the current response has begun */
	bool timed_out;
};

/* Per worker: room state. */
struct edge_worker {
	struct pcd_conn_worker conn; /* first: the client engine, for the engine's hooks */
	const struct pcd_room *room;
	struct edge_shared *shared;
	struct pcd_worker *worker;
	struct pcd_conn_engine *up_engine;
	struct pcd_conn_counters up_counters;
	struct pcd_io wake;          /* eventfd: an object some client here waits on has grown */
	struct edge_client *waiting; /* clients waiting for an object's head or bytes */
	struct edge_fetch *fetches;  /* in flight */
	unsigned n_fetches;
	struct edge_upconn *pool;          /* idle upstream connections */
	struct edge_upconn *adopting;      /* handed to the up engine's open */
	struct pcd_conn_counters counters; /* the client engine's */
	struct edge_provider_counters providers[EDGE_MAX_PROVIDERS + 1];
	_Atomic uint64_t misc[EC__COUNT];
	_Atomic uint64_t by_status[6]; /* 1xx..5xx, other */
	_Atomic uint64_t clients_open; /* client connections now: the load it publishes */
	char via[320];                 /* our Via entry: "1.1 <address:port> (peercdn <node>)" */
};

/* ---- edge.c, for edge_fetch.c ---- */

const struct pc_edge_params *edge_params(const struct edge_worker *ew);
/* This node's name, for Via. */
const char *edge_node_name(const struct edge_worker *ew);
/* Wakes the workers whose clients wait on object (it has a head, more
 * bytes, or it ended). Any thread. */
void edge_wake(struct edge_shared *shared, struct pcd_object *object);
/* The answer of a fetch that one client waits for (not a shared fill):
 * object to serve (the new response, or stale refreshed by a 304), or
 * NULL and the status of the edge's own error answer. */
void edge_client_fetched(struct edge_client *client, struct pcd_object *object,
                         enum edge_result result, unsigned error_status);

/* A shared fill of key (the edge's cache key) ended stored: the model
 * server holder - 1 (edge_fetch_request.holder) now holds the object, in
 * the live state's replicas (lib/model/live.h). */
void edge_filled(struct edge_worker *ew, const char *key, size_t key_len, uint32_t holder);

/* ---- edge_fetch.c, for edge.c ---- */

/* What to fetch. */
struct edge_fetch_request {
	const char *key;
	size_t key_len;
	const char *host; /* the origin host */
	size_t host_len;
	const char *path; /* from '/', with the query */
	size_t path_len;
	const struct pc_http_head *client_head; /* end-to-end fields forwarded */
	const char *body;                       /* a request body (POST), or NULL */
	size_t body_len;
	bool shared; /* a fill others may collapse onto: no conditional or Range forwarded */
	struct edge_provider_counters *counters; /* the provider's, of the fetch's worker */
	/* When set, the only upstreams, asked in origin-form (the directory);
	 * else the parents, then the host's origin address. */
	const struct pc_hostport *upstreams;
	unsigned n_upstreams;
	/* 1 + the model server whose address the request came to, or 0: a
	 * fill that ends stored is reported as a replica of it
	 * (edge_filled). */
	uint32_t holder;
};

/* Starts fetching req into object (a reference is taken): a shared fill
 * (client NULL), or for one client (client's edge_client_fetched is
 * called once, on the head or the failure, unless edge_fetch_detach ran;
 * a failure to start calls it before this returns).
 * stale: the stored object being revalidated (conditional request; a 304
 * refreshes it), or NULL. A shared revalidation (client NULL, insert
 * false) fills an object the caller already put in stale's place, so that
 * others collapse onto it: on a 304, or a failure stale-if-error covers,
 * it becomes a copy of stale. insert: put the object under the key once its
 * head shows it storable (a refetch replacing a stale or other variant).
 * Returns the fetch, or NULL when it could not start (a shared fill's
 * object then holds the error answer its waiters see). */
struct edge_fetch *edge_fetch_start(struct edge_worker *ew, const struct edge_fetch_request *req,
                                    struct pcd_object *object, struct edge_client *client,
                                    struct pcd_object *stale, bool insert);
/* The client is gone: the fetch goes on for the store, or ends when it
 * was for that client alone. */
void edge_fetch_detach(struct edge_fetch *fetch);
/* Timeouts of connects; about once a second. */
void edge_fetch_tick(struct edge_worker *ew, uint64_t now_ms);
/* Closes every fetch and upstream connection of the worker. */
void edge_fetch_close_all(struct edge_worker *ew);
/* The upstream engine's protocol. */
extern const struct pcd_conn_proto edge_upstream_proto;

/* ---- edge_client.c: the directory's answers, for the live cascade ---- */

struct pc_dir_answer;
enum edge_dir_state {
	EDGE_DIR_ASKING,   /* asked, no answer yet: ask again later */
	EDGE_DIR_ANSWERED, /* *out holds the answer */
	EDGE_DIR_NO_NAME,  /* the directory has no such name (404) */
	EDGE_DIR_FAILED,   /* no directory configured, unreachable, or a bad answer */
};
/* The answer of edge.directories for name ("<directory host>/<path>"),
 * through the same store and TTL as a player's request for it: a fresh
 * answer held is used, else one question goes out (counted as provider's)
 * and ASKING is returned with the answer's object in *pending (a
 * reference, the caller's; NULL at first): the next call with it reads
 * that answer once whole, however short its TTL. Any worker's thread,
 * never blocking. */
enum edge_dir_state edge_directory_ask(struct edge_worker *ew, uint32_t provider, const char *name,
                                       struct pcd_object **pending, struct pc_dir_answer *out);

/* ---- edge_channel.c: pre-fill down a provider's channel ---- */

int edge_channels_new(struct edge_shared *shared, struct edge_channels **out);
void edge_channels_free(struct edge_channels *ch); /* NULL is fine */
/* Whether this router is an injection point of provider (the view says
 * so once the overlay has run an SPF). Any worker. */
bool edge_channel_root(struct edge_worker *ew, uint32_t provider);
/* Queues the stored object under key for provider's channel and wakes
 * worker 0, which sends it. Any worker. False when the queue is full. */
bool edge_channel_send(struct edge_worker *ew, uint32_t provider, const char *key, size_t key_len);
/* Worker 0's: on its wake-up (sends what is queued), and once a second
 * (subscribes to the providers' channels). No-ops elsewhere. */
void edge_channel_woken(struct edge_worker *ew);
void edge_channel_tick(struct edge_worker *ew);
uint64_t edge_channel_counter(const struct edge_channels *ch, enum edge_channel_counter c);

/* Sets a failed shared fill's answer: an error head and body of the
 * edge's own, the object finished and taken out of the index. */
void edge_object_error(struct edge_shared *shared, struct pcd_object *object, const char *key,
                       size_t key_len, unsigned status, int64_t now_s);

#endif
