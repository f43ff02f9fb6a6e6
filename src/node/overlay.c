/* The overlay role (docs/overlay.md, "The role"; patent §3.3, claims 5
 * and 7-10): this router's virtual links to its configured neighbours (TCP
 * through the connection engine, authenticated per link and session by
 * lib/proto/overlay_msg), the link-state protocol over them
 * (lib/proto/overlay_lsdb: flooding, acknowledgements, SPF), channels
 * joined and pruned along the reverse shortest path with their windows
 * (lib/proto/overlay_channel), and the control group of load and health:
 * the health role's verdicts go out as LOAD records on this router's load
 * channel, and every router applies the records it receives to its live
 * state, so every redirector of the federation stops naming a dead server.
 *
 * One worker (index 0) runs the whole overlay: its engine, its timer and
 * every table live on that thread. The metrics thread reads atomic copies
 * of the counters, and the routes under a lock. */
#include "node/overlay.h"
#include "node/overlay_border.h"
#include "node/overlay_groups.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "lib/base/err.h"
#include "lib/model/live.h"
#include "lib/proto/overlay_channel.h"
#include "lib/proto/overlay_lsdb.h"
#include "lib/proto/overlay_msg.h"
#include "lib/proto/overlay_settings.h"
#include "node/conn.h"
#include "node/health.h"
#include "node/log.h"
#include "node/net.h"
#include "node/node.h"

enum {
	TICK_MS = 20,          /* the timer: heartbeats, dead intervals, SPF, publishing */
	RESEND_MS = 1000,      /* an unacknowledged LSA is sent again this often */
	PENDING_MAX = 1024,    /* LSAs awaiting an acknowledgement, per link */
	BACKOFF_MIN_MS = 100,  /* reconnect backoff, doubling to BACKOFF_MAX_MS */
	BACKOFF_MAX_MS = 5000, /* docs/overlay.md's timer table */
	MAX_SUBS = 512,        /* local subscriptions */
	MAX_ORIGINS = 1024,    /* routers whose CDN we learnt from their LSAs */
	MAX_VERDICTS = 1024,   /* health verdicts published per block */
	/* Flow control (docs/overlay.md, "Flow control"): a link whose unsent
	 * bytes pass LINK_HIGH is full, and while any link is full this router
	 * reads none of its other links; a full link is free again at
	 * LINK_LOW. OUT_MAX is the safety net beyond: what arrives on a full
	 * link's own connection, and window resends, still queue. */
	LINK_HIGH = 1 << 20,
	LINK_LOW = 256 << 10,
	OUT_MAX = 32 << 20, /* unsent bytes on a link beyond which it is cut */
	LSA_BUDGET = 512,   /* LSAs taken from one link per second; more are dropped */
	NAME_LEN = 64,
};

/* Refusals beyond the codec's faults, counted per link. */
enum refusal {
	REFUSED_POLICY,  /* a channel its peering agreement does not allow */
	REFUSED_CDN,     /* a HELLO whose CDN is not the configured neighbour's */
	REFUSED_LSA,     /* an LSA the database refused (malformed, too many links, full) */
	REFUSED_JOIN,    /* a JOIN the channel table refused */
	REFUSED_UNKNOWN, /* DATA of a channel nobody here joined */
	REFUSED_FLOOD,   /* an LSA over the link's budget for this second */
	REFUSED_BORDER,  /* on a peering link, an LSA not the neighbour's own (overlay_border) */
	REFUSED__COUNT,
};
static const char *const refusal_names[REFUSED__COUNT] = {
    "policy", "cdn", "lsa", "join", "unknown_channel", "flood", "border"};

/* Why we cut a link that was not silent. */
enum cut {
	CUT_SLOW,     /* full for longer than slow_link_ms */
	CUT_OVERFLOW, /* unsent bytes past OUT_MAX */
	CUT_GOODBYE,  /* the peer said GOODBYE: out of our routes at once, open until it closes */
	CUT__COUNT,
};
static const char *const cut_names[CUT__COUNT] = {"slow", "overflow", "goodbye"};

struct ovl;
struct ovl_sess;

struct pending {
	uint32_t origin, seq;
};

/* One configured neighbour: the link and its current session. */
struct ovl_link {
	struct ovl *o;
	uint32_t peer;
	char node[NAME_LEN]; /* as configured */
	uint32_t node_index; /* in the generation the links were made of, or PC_NONE */
	pc_addr addr;
	uint16_t port;
	uint8_t key[PC_OVL_KEY_LEN];
	uint32_t cost;
	bool dials; /* ours is the higher router id: we dial, they accept */
	struct ovl_sess *sess;
	bool up;
	bool allowed; /* not a peering link, or one with an agreement */
	char cdn[NAME_LEN];
	uint64_t last_rx, last_tx, next_dial, backoff_ms, resend_at;
	uint32_t lsa_budget; /* LSAs still taken this second (LSA_BUDGET) */
	uint64_t view_hash;  /* a peering link: the border view our LSA last showed it */
	bool full;           /* unsent above LINK_HIGH, not yet back to LINK_LOW */
	bool peer_held;      /* its last HEARTBEAT said it stopped reading us (F_HELD) */
	/* Its GOODBYE came: not in our LSA any more, still read and fed until
	 * it closes, or until leaving_until (its grace and our dead interval). */
	bool leaving;
	uint64_t leaving_until;
	uint64_t full_since;
	struct pending pending[PENDING_MAX];
	unsigned n_pending;
	/* Read by the metrics thread. */
	_Atomic uint64_t is_up, ups, downs;
	_Atomic uint64_t frames_tx, frames_rx, bytes_tx, bytes_rx, blocks_forwarded;
	_Atomic uint64_t control_blocks_forwarded; /* of the control groups' channels */
	/* Channel blocks that arrived on the link, before any check: a peer
	 * CDN's router that received none of a channel was never fed it. */
	_Atomic uint64_t blocks_received, control_blocks_received;
	_Atomic uint64_t faults[PC_OVL_FAULT__COUNT];
	_Atomic uint64_t refused[REFUSED__COUNT];
	_Atomic uint64_t cuts[CUT__COUNT];
	_Atomic uint64_t fulls; /* times it went above LINK_HIGH */
};

/* One TCP connection, dialled or accepted. */
struct ovl_sess {
	struct ovl *o;
	struct pcd_conn *conn;
	struct ovl_link *link; /* NULL until an accepted one's HELLO names its link */
	struct pc_ovl_link s;
	uint64_t opened_at;
	bool dialled;
};

struct ovl_sub {
	char channel[PC_OVL_CHANNEL_MAX + 1];
	uint32_t source;
	pcd_overlay_deliver_fn *fn;
	void *arg;
};

struct ovl_origin {
	uint32_t id;
	char cdn[NAME_LEN];
};

struct ovl_route {
	uint32_t destination, parent;
};

struct ovl_view; /* the route view: its own block below */

/* Node-wide (room->shared); everything but the counters belongs to worker 0. */
struct ovl {
	const struct pcd_room *room;
	struct pcd_worker *worker;
	struct pcd_conn_group *group;
	struct pcd_conn_engine *engine;
	struct pcd_conn_counters conn_counters;
	struct pcd_io timer;
	bool running;
	uint32_t self;
	char cdn[NAME_LEN];
	uint32_t heartbeat_ms, dead_ms, load_every_ms;
	struct ovl_link *links;
	unsigned n_links;
	pc_lsdb *lsdb;
	pc_ovchan *chans;
	struct ovl_sess *adopting; /* the session pcd_conn_adopt's open takes */
	bool own_dirty;            /* a link went up or down: originate our LSA */
	unsigned n_full;           /* links full: while > 0 the others are not read */
	uint64_t last_service;     /* when the timer last ran: a stopped process's gap */
	uint64_t next_second;
	struct ovl_origin origins[MAX_ORIGINS];
	unsigned n_origins;
	struct ovl_sub subs[MAX_SUBS];
	unsigned n_subs;
	/* Load: what was last published, and what our own health role
	 * watches (records about those are not applied: ours are first-hand). */
	struct pcd_health_verdict verdicts[MAX_VERDICTS];
	unsigned n_verdicts;
	uint64_t verdicts_hash, load_at;
	char load_channel[PC_OVL_CHANNEL_MAX + 1];
	uint64_t *load_time; /* per server of load_gen: newest record applied, unix ms */
	uint32_t load_servers;
	uint64_t load_gen;
	/* The other control groups (overlay_groups.c). */
	struct ovl_groups *groups;
	/* The route view other threads read (RCU); the generation it was made for. */
	struct ovl_view *view;
	uint64_t view_gen;
	/* Our own goodbye (docs/overlay.md, "GOODBYE"): asked by the main
	 * thread (leave_asked, its clock in leave_asked_at), done on worker 0
	 * (leaving from the GOODBYEs to `gone`, at leave_until at the latest). */
	_Atomic bool leave_asked, gone;
	_Atomic uint64_t leave_asked_at, leave_grace_ms;
	bool leaving;
	uint64_t leave_at, leave_until;
	/* Test stream. */
	uint64_t test_at, test_time; /* test_time: the last bench LOAD record's */
	uint32_t test_left;          /* blocks of this interval's burst not yet published */
	uint32_t test_server;
	uint8_t *payload; /* PC_OVL_BODY_MAX bytes: one block being built */
	/* Read by the metrics thread. */
	pthread_mutex_t routes_lock;
	struct ovl_route *routes;
	unsigned n_routes;
	uint32_t *lsa_origins; /* the LSAs held, by origin */
	unsigned n_lsa_origins;
	_Atomic uint64_t unknown_peers, lsas_flooded, lsas_resent, acks_sent;
	_Atomic uint64_t holds, held; /* times reading was held; whether it is now */
	_Atomic uint64_t records_applied, records_stale, records_refused, blocks_published;
	_Atomic uint64_t lsdb_m[9], chan_m[18];
};

static struct ovl *of_node(struct pcd_node *node);
static void view_publish(struct ovl *o, uint64_t gen_number);
static void view_retire(struct ovl *o);
static void close_sess(struct ovl_sess *sess, const char *why);
static void test_publish(struct ovl *o);
static bool route(struct ovl *o, uint64_t now);

static uint64_t now_mono(void)
{
	return pcd_mono_ms();
}

/* ---- flow control (docs/overlay.md, "Flow control") ---- */

/* While any link is full, the others are not read: what they would bring
 * would only queue behind it. A full link itself is still read (its acks
 * and heartbeats; and two routers full toward each other must not wait on
 * each other). The peers we stop reading hear it at the next tick: their
 * HEARTBEAT carries F_HELD (service). */
static void hold_reading(struct ovl *o, bool hold)
{
	uint64_t now = now_mono();
	for (unsigned i = 0; i < o->n_links; i++) {
		struct ovl_link *link = &o->links[i];
		if (link->sess == NULL)
			continue;
		if (hold && !link->full) {
			pcd_conn_pause_read(link->sess->conn);
		} else if (pcd_conn_read_paused(link->sess->conn)) {
			pcd_conn_resume_read(link->sess->conn);
			/* Its silence while we did not read is not its fault. */
			if (link->last_rx < now)
				link->last_rx = now;
		}
		link->last_tx = 0; /* a HEARTBEAT with the news at the next tick */
	}
	atomic_store_explicit(&o->held, hold, memory_order_relaxed);
}

static void link_full(struct ovl_link *link)
{
	struct ovl *o = link->o;
	link->full = true;
	link->full_since = now_mono();
	PCD_BUMP(link->fulls);
	pcd_conn_watch_drained(link->sess->conn);
	if (pcd_conn_read_paused(link->sess->conn))
		pcd_conn_resume_read(link->sess->conn);
	if (o->n_full++ == 0) {
		PCD_BUMP(o->holds);
		hold_reading(o, true);
	}
}

/* Below LINK_LOW again, or the session gone. */
static void link_free(struct ovl_link *link)
{
	struct ovl *o = link->o;
	if (!link->full)
		return;
	link->full = false;
	if (--o->n_full == 0) {
		hold_reading(o, false);
		test_publish(o);
	} else if (link->sess != NULL)
		pcd_conn_pause_read(link->sess->conn);
}

/* ---- sending ---- */

/* Writes msg on the link's session: counted, sent (or queued for the
 * engine when inside a callback). False when the link has no session or
 * the frame could not be written. */
static bool send_msg(struct ovl_link *link, struct pc_ovl_msg *msg)
{
	struct ovl_sess *sess = link->sess;
	if (sess == NULL)
		return false;
	struct pcd_conn *conn = sess->conn;
	struct pc_buf *out = pcd_conn_out(conn);
	if (pcd_conn_unsent(conn) > OUT_MAX || !pc_buf_reserve(out, PC_OVL_FRAME_MAX)) {
		pcd_log(PCD_LOG_WARNING, "overlay-link-stalled", "neighbour=%s unsent=%zu",
		        link->node, pcd_conn_unsent(conn));
		PCD_BUMP(link->cuts[CUT_OVERFLOW]);
		close_sess(sess, "overflow");
		return false;
	}
	/* Encoded in place: a block's payload is copied once, from where it
	 * was received into what the engine sends. */
	int len =
	    pc_ovl_link_write(&sess->s, msg, (uint8_t *)out->data + out->len, out->cap - out->len);
	if (len < 0)
		return false;
	out->len += (size_t)len;
	PCD_BUMP(link->frames_tx);
	atomic_store_explicit(&link->bytes_tx,
	                      atomic_load_explicit(&link->bytes_tx, memory_order_relaxed) +
	                          (uint64_t)len,
	                      memory_order_relaxed);
	link->last_tx = now_mono();
	/* May free the session (then link->sess is no longer it). */
	if (pcd_conn_send(conn) == 0 && link->sess == sess && !link->full &&
	    pcd_conn_unsent(conn) > LINK_HIGH)
		link_full(link);
	return true;
}

static struct ovl_link *link_of(struct ovl *o, uint32_t peer)
{
	for (unsigned i = 0; i < o->n_links; i++)
		if (o->links[i].peer == peer)
			return &o->links[i];
	return NULL;
}

static struct ovl_link *up_link(struct ovl *o, uint32_t peer)
{
	struct ovl_link *link = link_of(o, peer);
	return link != NULL && link->up ? link : NULL;
}

static const char *origin_cdn(const struct ovl *o, uint32_t id)
{
	if (id == o->self)
		return o->cdn;
	for (unsigned i = 0; i < o->n_origins; i++)
		if (o->origins[i].id == id)
			return o->origins[i].cdn;
	/* Known only by a border's summary (no LSA of it crosses a peering
	 * link): the CDN of the config's node whose router id it is. */
	const pc_model *m = pcd_node_generation(o->room->node)->model;
	for (uint32_t i = 0; i < m->n_nodes; i++)
		if (m->nodes[i].cdns.count > 0 && pc_overlay_router_id(m->nodes[i].name) == id)
			return m->cdns[m->nodes[i].cdns.items[0]].name;
	return NULL;
}

static const char *border_cdn_of(void *ctx, uint32_t id)
{
	return origin_cdn(ctx, id);
}

static bool peering(const struct ovl *o, const struct ovl_link *link)
{
	return strcmp(link->cdn, o->cdn) != 0;
}

/* Our LSA as the peering link's neighbour sees it (overlay_border): our
 * adjacency to it from links[] (its two-way check needs it), then
 * summaries — of our other peering neighbours too, whose LSAs it does not
 * get either. */
static uint16_t border_view(struct ovl *o, const struct ovl_link *link,
                            const struct pc_lsa_link *links, uint16_t n_links,
                            struct pc_lsa_link *out)
{
	struct pc_lsa_link adjacency[1];
	uint16_t n = 0;
	for (uint16_t i = 0; i < n_links && n == 0; i++)
		if (links[i].neighbour == link->peer)
			adjacency[n++] = links[i];
	return ovl_border_view(o->lsdb, o->self, link->peer, link->cdn, adjacency, n, border_cdn_of,
	                       o, out, PC_OVERLAY_MAX_NEIGHBOURS);
}

static void origin_learn(struct ovl *o, uint32_t id, const struct pc_ovl_str *cdn)
{
	if (cdn->len >= NAME_LEN || id == o->self)
		return;
	struct ovl_origin *slot = NULL;
	for (unsigned i = 0; i < o->n_origins && slot == NULL; i++)
		if (o->origins[i].id == id)
			slot = &o->origins[i];
	if (slot == NULL) {
		if (o->n_origins == MAX_ORIGINS)
			return;
		slot = &o->origins[o->n_origins++];
		slot->id = id;
	}
	memcpy(slot->cdn, cdn->p, cdn->len);
	slot->cdn[cdn->len] = '\0';
}

/* ---- link state ---- */

static void pending_add(struct ovl_link *link, uint32_t origin, uint32_t seq)
{
	for (unsigned i = 0; i < link->n_pending; i++)
		if (link->pending[i].origin == origin) {
			link->pending[i].seq = seq; /* a newer copy replaces the queued one */
			return;
		}
	if (link->n_pending == PENDING_MAX) {
		memmove(link->pending, link->pending + 1,
		        sizeof(link->pending[0]) * (PENDING_MAX - 1));
		link->n_pending--;
	}
	link->pending[link->n_pending++] = (struct pending){origin, seq};
	if (link->resend_at == 0)
		link->resend_at = now_mono() + RESEND_MS;
}

static void pending_ack(struct ovl_link *link, uint32_t origin, uint32_t seq)
{
	for (unsigned i = 0; i < link->n_pending; i++)
		if (link->pending[i].origin == origin && link->pending[i].seq == seq) {
			link->pending[i] = link->pending[--link->n_pending];
			return;
		}
}

/* Sends one LSA of the database on the link (its age one hop older,
 * MaxAge once the database would drop it) and queues it for an ack. */
static void send_lsa(struct ovl *o, struct ovl_link *link, const struct pc_lsa *lsa)
{
	const char *cdn = origin_cdn(o, lsa->origin);
	if (cdn == NULL)
		cdn = "-";
	struct pc_ovl_lsa_link links[PC_OVL_LSA_LINKS_MAX];
	uint16_t n = lsa->n_links > PC_OVL_LSA_LINKS_MAX ? PC_OVL_LSA_LINKS_MAX : lsa->n_links;
	for (uint16_t i = 0; i < n; i++)
		links[i] = (struct pc_ovl_lsa_link){lsa->links[i].neighbour, lsa->links[i].cost};
	if (peering(o, link)) { /* only our border view, or the neighbour's own back */
		if (!ovl_border_sends(o->self, link->peer, lsa->origin))
			return;
		if (lsa->origin == o->self) {
			struct pc_lsa_link view[PC_OVERLAY_MAX_NEIGHBOURS];
			n = border_view(o, link, lsa->links, lsa->n_links, view);
			link->view_hash = ovl_border_hash(view, n);
			for (uint16_t i = 0; i < n; i++)
				links[i] =
				    (struct pc_ovl_lsa_link){view[i].neighbour, view[i].cost};
		}
	}
	uint32_t age = lsa->age_ms / 1000 + 1;
	struct pc_ovl_msg msg = {
	    .type = PC_OVL_LSA,
	    .u.lsa = {.origin = lsa->origin,
	              .cdn = {cdn, strlen(cdn)},
	              .seq = lsa->seq,
	              .age = (uint16_t)(age >= 60 ? PC_OVL_MAX_AGE : age),
	              .count = n,
	              .links = links},
	};
	if (send_msg(link, &msg))
		pending_add(link, lsa->origin, lsa->seq);
}

static void flood(struct ovl *o, const struct pc_lsa *lsa, uint32_t except)
{
	for (unsigned i = 0; i < o->n_links; i++) {
		struct ovl_link *link = &o->links[i];
		if (link->up && link->peer != except) {
			send_lsa(o, link, lsa);
			PCD_BUMP(o->lsas_flooded);
		}
	}
}

static void originate(struct ovl *o, uint64_t now)
{
	struct pc_lsa_link links[PC_OVERLAY_MAX_NEIGHBOURS];
	uint16_t n = 0;
	for (unsigned i = 0; i < o->n_links && n < PC_OVERLAY_MAX_NEIGHBOURS; i++)
		if (o->links[i].up && !o->links[i].leaving)
			links[n++] = (struct pc_lsa_link){o->links[i].peer, o->links[i].cost};
	struct pc_lsa own;
	if (pc_lsdb_originate(o->lsdb, links, n, now, &own) == 0)
		flood(o, &own, PC_OVERLAY_ROUTER_NONE);
	o->own_dirty = false;
}

static void on_lsa(struct ovl *o, struct ovl_link *link, const struct pc_ovl_lsa *w, uint64_t now)
{
	struct pc_lsa_link links[PC_OVL_LSA_LINKS_MAX];
	for (uint16_t i = 0; i < w->count; i++) {
		struct pc_ovl_lsa_link l = pc_ovl_lsa_link_at(w, i);
		links[i] = (struct pc_lsa_link){l.neighbour, l.cost};
	}
	/* A neighbour that floods LSAs costs every router of the overlay a
	 * flood of its own: past the budget they are dropped unacknowledged,
	 * so an honest sender's copies come back with its next resend. */
	if (link->lsa_budget == 0) {
		PCD_BUMP(link->refused[REFUSED_FLOOD]);
		return;
	}
	link->lsa_budget--;
	struct pc_lsa lsa = {
	    .origin = w->origin,
	    .seq = w->seq,
	    .age_ms = w->age >= 60 ? 60000u : (uint32_t)w->age * 1000u,
	    .n_links = w->count,
	    .links = links,
	};
	/* Acknowledged whatever the verdict: the sender stops resending. */
	struct pc_ovl_ack_entry entry = {w->origin, w->seq};
	struct pc_ovl_msg ack = {.type = PC_OVL_LSA_ACK, .u.ack = {.count = 1, .entries = &entry}};
	send_msg(link, &ack);
	PCD_BUMP(o->acks_sent);
	if (peering(o, link) && !ovl_border_accepts(link->peer, w->origin)) {
		PCD_BUMP(link->refused[REFUSED_BORDER]);
		return;
	}
	enum pc_lsdb_verdict verdict;
	if (pc_lsdb_install(o->lsdb, &lsa, now, &verdict) != 0) {
		PCD_BUMP(link->refused[REFUSED_LSA]);
		return;
	}
	origin_learn(o, w->origin, &w->cdn);
	struct pc_lsa held;
	switch (verdict) {
	case PC_LSDB_NEWER:
		flood(o, &lsa, link->peer);
		break;
	case PC_LSDB_OLDER:
		if (pc_lsdb_get(o->lsdb, w->origin, now, &held) == 0)
			send_lsa(o, link, &held);
		break;
	case PC_LSDB_SELF:
		if (pc_lsdb_get(o->lsdb, o->self, now, &held) == 0)
			flood(o, &held, PC_OVERLAY_ROUTER_NONE);
		break;
	case PC_LSDB_DUPLICATE:
		break;
	}
}

static void resend_pending(struct ovl *o, struct ovl_link *link, uint64_t now)
{
	if (!link->up || link->n_pending == 0 || now < link->resend_at) {
		if (link->n_pending == 0)
			link->resend_at = 0;
		return;
	}
	link->resend_at = now + RESEND_MS;
	struct pending copy[PENDING_MAX];
	unsigned n = link->n_pending;
	memcpy(copy, link->pending, n * sizeof(copy[0]));
	link->n_pending = 0;
	for (unsigned i = 0; i < n && link->up; i++) {
		struct pc_lsa held;
		if (pc_lsdb_get(o->lsdb, copy[i].origin, now, &held) == 0 &&
		    held.seq == copy[i].seq) {
			send_lsa(o, link, &held);
			PCD_BUMP(o->lsas_resent);
		}
	}
}

/* ---- channels ---- */

static void send_join(struct ovl *o, uint32_t to, const char *name, uint32_t source, uint64_t epoch,
                      uint64_t last_seq, bool prune)
{
	struct ovl_link *link = up_link(o, to);
	if (link == NULL)
		return;
	struct pc_ovl_msg msg = {
	    .type = prune ? PC_OVL_PRUNE : PC_OVL_JOIN,
	    .flags = !prune && last_seq != PC_OVCHAN_FRESH ? PC_OVL_F_RESUME : 0,
	    .u.join = {.channel = {name, strlen(name)},
	               .source = source,
	               .last_seq = !prune && last_seq != PC_OVCHAN_FRESH ? last_seq : 0,
	               .epoch = !prune && last_seq != PC_OVCHAN_FRESH ? epoch : 0},
	};
	send_msg(link, &msg);
}

/* Whether a channel is one of the control groups' ("<cdn>/load/<id>",
 * "<cdn>/replica/<id>", "<cdn>/policy/<id>", "<cdn>/resource/...",
 * "<provider>/report/<id>"): counted apart from content on each link. */
static bool control_channel(const char *name)
{
	static const char *const groups[] = {"/load/",   "/replica/", "/policy/", "/resource/",
	                                     "/report/", "/drain/",   NULL};
	const char *slash = strchr(name, '/');
	for (const char *const *g = groups; slash != NULL && *g != NULL; g++)
		if (strncmp(slash, *g, strlen(*g)) == 0)
			return true;
	return false;
}

static void send_block(struct ovl *o, struct ovl_link *link, const char *name, uint32_t source,
                       uint64_t epoch, uint64_t seq, const uint8_t *data, size_t len)
{
	struct pc_ovl_msg msg = {
	    .type = PC_OVL_DATA,
	    .u.data = {.channel = {name, strlen(name)},
	               .source = source,
	               .epoch = epoch,
	               .block_seq = seq,
	               .payload = data,
	               .payload_len = len},
	};
	(void)o;
	if (!send_msg(link, &msg))
		return;
	if (control_channel(name))
		PCD_BUMP(link->control_blocks_forwarded);
	else
		PCD_BUMP(link->blocks_forwarded);
}

static void deliver(struct ovl *o, const char *name, uint32_t source, uint64_t seq,
                    const uint8_t *data, size_t len)
{
	for (unsigned i = 0; i < o->n_subs; i++)
		if (o->subs[i].source == source && strcmp(o->subs[i].channel, name) == 0)
			o->subs[i].fn(o->subs[i].arg, name, source, seq, data, len);
}

/* Where a block of channel name goes after pc_ovchan_data said so. */
static void forward(struct ovl *o, const char *name, uint32_t source, uint64_t seq,
                    const uint8_t *data, size_t len, const struct pc_ovchan_forward *fw)
{
	/* Copy the list: sending may re-enter the table (a link dropped). */
	uint32_t to[PC_OVERLAY_MAX_NEIGHBOURS];
	uint32_t n = fw->n_to < PC_OVERLAY_MAX_NEIGHBOURS ? fw->n_to : PC_OVERLAY_MAX_NEIGHBOURS;
	memcpy(to, fw->to, n * sizeof(to[0]));
	bool local = fw->deliver;
	for (uint32_t i = 0; i < n; i++) {
		struct ovl_link *link = up_link(o, to[i]);
		if (link != NULL)
			send_block(o, link, name, source, fw->epoch, seq, data, len);
	}
	if (local)
		deliver(o, name, source, seq, data, len);
}

/* What a join answered: blocks to the joiner (or to us), a JOIN upstream. */
static void joined(struct ovl *o, const char *name, uint32_t source, uint32_t from,
                   const struct pc_ovchan_joined *j)
{
	uint32_t upstream = j->upstream;
	uint64_t last_seq = j->last_seq, epoch = j->epoch;
	bool join_upstream = j->join_upstream;
	struct ovl_link *link = from == o->self ? NULL : up_link(o, from);
	for (uint32_t i = 0; i < j->n_blocks; i++) {
		const struct pc_ovchan_block *b = &j->blocks[i];
		if (from == o->self)
			deliver(o, name, source, b->seq, b->data, b->len);
		else if (link != NULL)
			send_block(o, link, name, source, j->blocks_epoch, b->seq, b->data, b->len);
	}
	if (join_upstream && upstream != PC_OVERLAY_ROUTER_NONE)
		send_join(o, upstream, name, source, epoch, last_seq, false);
}

static void on_reroute(void *arg, const struct pc_ovchan_event *ev)
{
	struct ovl *o = arg;
	if (ev->old_upstream != PC_OVERLAY_ROUTER_NONE && ev->old_upstream != ev->upstream)
		send_join(o, ev->old_upstream, ev->name, ev->source, 0, 0, true);
	if (ev->upstream != PC_OVERLAY_ROUTER_NONE)
		send_join(o, ev->upstream, ev->name, ev->source, ev->epoch, ev->last_seq, false);
}

/* Soft state: the JOIN repeated to the parent, with what we hold, so a
 * parent that lost us (restarted, or expired us) takes us back. */
static void on_refresh(void *arg, const struct pc_ovchan_event *ev)
{
	send_join(arg, ev->upstream, ev->name, ev->source, ev->epoch, ev->last_seq, false);
}

static void on_pruned(void *arg, const struct pc_ovchan_event *ev)
{
	struct ovl *o = arg;
	if (ev->old_upstream != PC_OVERLAY_ROUTER_NONE)
		send_join(o, ev->old_upstream, ev->name, ev->source, 0, 0, true);
}

/* A channel may cross a link within a CDN, or a peering link whose two
 * CDNs have an agreement, and then only as that agreement allows
 * (docs/overlay.md, "The role"; overlay_groups.c). */
static bool channel_allowed(const struct ovl *o, const struct ovl_link *link, const char *name)
{
	if (!link->allowed)
		return false;
	return strcmp(link->cdn, o->cdn) == 0 ||
	       ovl_groups_peering_allowed(o->groups, link->cdn, name);
}

static void copy_name(char *out, const struct pc_ovl_str *s)
{
	memcpy(out, s->p, s->len);
	out[s->len] = '\0';
}

static void on_join(struct ovl *o, struct ovl_link *link, const struct pc_ovl_msg *msg,
                    uint64_t now)
{
	char name[PC_OVL_CHANNEL_MAX + 1];
	copy_name(name, &msg->u.join.channel);
	if (!channel_allowed(o, link, name)) {
		PCD_BUMP(link->refused[REFUSED_POLICY]);
		return;
	}
	if (msg->type == PC_OVL_PRUNE) {
		pc_ovchan_prune(o->chans, name, link->peer, now);
		return;
	}
	uint64_t last = msg->flags & PC_OVL_F_RESUME ? msg->u.join.last_seq : PC_OVCHAN_FRESH;
	struct pc_ovchan_joined j;
	if (pc_ovchan_join(o->chans, o->lsdb, name, msg->u.join.source, link->peer,
	                   msg->u.join.epoch, last, now, &j) != 0) {
		PCD_BUMP(link->refused[REFUSED_JOIN]);
		return;
	}
	joined(o, name, msg->u.join.source, link->peer, &j);
}

static void on_data(struct ovl *o, struct ovl_link *link, const struct pc_ovl_data *d, uint64_t now)
{
	char name[PC_OVL_CHANNEL_MAX + 1];
	copy_name(name, &d->channel);
	if (control_channel(name))
		PCD_BUMP(link->control_blocks_received);
	else
		PCD_BUMP(link->blocks_received);
	if (!channel_allowed(o, link, name)) {
		PCD_BUMP(link->refused[REFUSED_POLICY]);
		return;
	}
	struct pc_ovchan_forward fw;
	if (pc_ovchan_data(o->chans, name, link->peer, d->epoch, d->block_seq, d->payload,
	                   d->payload_len, now, &fw) != 0)
		return;
	if (fw.verdict == PC_OVCHAN_FORWARD)
		forward(o, name, d->source, d->block_seq, d->payload, d->payload_len, &fw);
	else if (fw.verdict == PC_OVCHAN_UNKNOWN) {
		PCD_BUMP(link->refused[REFUSED_UNKNOWN]);
		send_join(o, link->peer, name, d->source, 0, 0, true);
	}
}

/* ---- links up and down ---- */

static void link_up(struct ovl *o, struct ovl_link *link, uint64_t now)
{
	link->up = true;
	link->leaving = false;
	link->backoff_ms = BACKOFF_MIN_MS;
	link->n_pending = 0;
	link->resend_at = 0;
	link->lsa_budget = LSA_BUDGET;
	atomic_store_explicit(&link->is_up, 1, memory_order_relaxed);
	PCD_BUMP(link->ups);
	pcd_log(PCD_LOG_INFO, "overlay-link-up", "neighbour=%s id=%u cdn=%s peering=%s", link->node,
	        link->peer, link->cdn,
	        strcmp(link->cdn, o->cdn) == 0 ? "no"
	        : link->allowed                ? "allowed"
	                                       : "closed");
	/* The accepting end becomes UP on our first frame under the keys. */
	struct pc_ovl_msg hb = {.type = PC_OVL_HEARTBEAT, .u.heartbeat = {.sent_at = now}};
	send_msg(link, &hb);
	/* Database exchange: every LSA we hold (ours is re-originated at the
	 * next tick with this link in it). */
	uint32_t n = pc_lsdb_count(o->lsdb);
	for (uint32_t i = 0; i < n && link->up; i++) {
		struct pc_lsa lsa;
		pc_lsdb_at(o->lsdb, i, now, &lsa);
		send_lsa(o, link, &lsa);
	}
	o->own_dirty = true;
}

/* The session is gone (closed, dead, replaced): the link is down until a
 * new one comes up. */
static void link_down(struct ovl *o, struct ovl_link *link, const char *why)
{
	if (link->sess != NULL) {
		link->sess->link = NULL;
		link->sess = NULL;
	}
	link_free(link); /* after: a session being freed is not resumed or paused */
	link->peer_held = false;
	link->leaving = false;
	if (link->dials)
		link->next_dial =
		    now_mono() + link->backoff_ms * (80 + randombytes_uniform(41)) / 100;
	link->backoff_ms =
	    link->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : link->backoff_ms * 2;
	if (!link->up)
		return;
	link->up = false;
	link->n_pending = 0;
	atomic_store_explicit(&link->is_up, 0, memory_order_relaxed);
	PCD_BUMP(link->downs);
	pcd_log(PCD_LOG_WARNING, "overlay-link-down", "neighbour=%s id=%u why=%s", link->node,
	        link->peer, why);
	pc_ovchan_neighbour_down(o->chans, link->peer, now_mono());
	o->own_dirty = true;
}

static void close_sess(struct ovl_sess *sess, const char *why)
{
	if (sess->link != NULL)
		link_down(sess->o, sess->link, why);
	pcd_conn_abort(sess->conn);
}

/* ---- the connection engine's protocol ---- */

static void ovl_limits(void *ctx, struct pcd_conn_limits *out)
{
	struct ovl *o = ctx;
	*out = (struct pcd_conn_limits){
	    .max_conns = 4 * PC_OVERLAY_MAX_NEIGHBOURS,
	    .max_per_source = 2 * PC_OVERLAY_MAX_NEIGHBOURS,
	    /* Our own dead interval ends a silent link first. */
	    .header_timeout_ms = 4 * o->dead_ms,
	    .idle_timeout_ms = 4 * o->dead_ms,
	};
}

static void *ovl_open(struct pcd_conn *conn, void *ctx)
{
	struct ovl *o = ctx;
	struct ovl_sess *sess = o->adopting;
	if (sess == NULL) {
		sess = calloc(1, sizeof(*sess));
		if (sess == NULL)
			return NULL;
		sess->o = o;
		sess->opened_at = now_mono();
	}
	sess->conn = conn;
	int one = 1;
	setsockopt(pcd_conn_fd(conn), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return sess;
}

static void ovl_free(void *state)
{
	struct ovl_sess *sess = state;
	if (sess->link != NULL)
		link_down(sess->o, sess->link, "closed");
	pc_ovl_link_wipe(&sess->s);
	free(sess);
}

static void ovl_drained(struct pcd_conn *conn, void *state)
{
	(void)conn;
	struct ovl_sess *sess = state;
	if (sess->link != NULL && sess->link->sess == sess)
		link_free(sess->link);
}

static void ovl_end(struct pcd_conn *conn, void *state, enum pcd_conn_end why)
{
	(void)why;
	struct ovl_sess *sess = state;
	if (sess->link != NULL)
		link_down(sess->o, sess->link, "peer-closed");
	pcd_conn_set_state(conn, PCD_CONN_CLOSING);
}

static void hello_out(struct ovl *o, struct ovl_link *link)
{
	struct pc_ovl_msg msg = {
	    .type = PC_OVL_HELLO,
	    .u.hello = {.cdn = {o->cdn, strlen(o->cdn)},
	                .capabilities = PC_OVL_CAP_CONTROL | PC_OVL_CAP_DATA,
	                .heartbeat_ms = o->heartbeat_ms,
	                .dead_ms = o->dead_ms},
	};
	send_msg(link, &msg);
}

static bool cdn_of_node(const pc_model *m, uint32_t node, const char *cdn)
{
	if (node == PC_NONE || node >= m->n_nodes)
		return true; /* given by id: nothing to check it against */
	const struct pc_index_list *cdns = &m->nodes[node].cdns;
	for (uint32_t c = 0; c < cdns->count; c++)
		if (strcmp(m->cdns[cdns->items[c]].name, cdn) == 0)
			return true;
	return false;
}

static bool serves(const pc_model *m, const char *cdn)
{
	if (m->self_node == PC_NONE)
		return false;
	return cdn_of_node(m, m->self_node, cdn);
}

/* Whether an agreement joins one of our CDNs and cdn. */
static bool agreement_with(const pc_model *m, const char *cdn)
{
	for (uint32_t a = 0; a < m->n_agreements; a++) {
		const char *x = m->cdns[m->agreements[a].cdn_a].name;
		const char *y = m->cdns[m->agreements[a].cdn_b].name;
		if ((strcmp(x, cdn) == 0 && serves(m, y)) || (strcmp(y, cdn) == 0 && serves(m, x)))
			return true;
	}
	return false;
}

/* The peer's HELLO: its CDN must be the neighbour's; then the link's
 * peering status is known. False: refuse the session. */
static bool hello_in(struct ovl *o, struct ovl_link *link, const struct pc_ovl_hello *h)
{
	char cdn[NAME_LEN];
	if (h->cdn.len >= NAME_LEN)
		return false;
	copy_name(cdn, &h->cdn);
	const pc_model *m = pcd_node_generation(o->room->node)->model;
	if (!cdn_of_node(m, link->node_index, cdn)) {
		PCD_BUMP(link->refused[REFUSED_CDN]);
		pcd_log(PCD_LOG_WARNING, "overlay-wrong-cdn", "neighbour=%s cdn=%s", link->node,
		        cdn);
		return false;
	}
	memcpy(link->cdn, cdn, sizeof(cdn));
	link->allowed = serves(m, cdn) || agreement_with(m, cdn);
	return true;
}

/* An accepted connection's first frame names its link: the configured
 * neighbour with that sender id, whose key must verify its HELLO. */
static struct ovl_link *match_link(struct ovl *o, struct ovl_sess *sess, const uint8_t *frame,
                                   size_t len)
{
	if (len < PC_OVL_HEADER_LEN)
		return NULL;
	uint32_t sender = (uint32_t)frame[PC_OVL_OFF_SENDER] << 24 |
	                  (uint32_t)frame[PC_OVL_OFF_SENDER + 1] << 16 |
	                  (uint32_t)frame[PC_OVL_OFF_SENDER + 2] << 8 |
	                  frame[PC_OVL_OFF_SENDER + 3];
	struct ovl_link *link = link_of(o, sender);
	if (link == NULL)
		return NULL;
	uint8_t nonce[PC_OVL_NONCE_LEN];
	randombytes_buf(nonce, sizeof(nonce));
	pc_ovl_link_init(&sess->s, link->key, o->self, link->peer, nonce);
	return link;
}

/* The neighbour is stopping (docs/overlay.md, "GOODBYE"): our LSA drops
 * the link and SPF runs now, so every channel it fed us re-joins through
 * another parent and PRUNEs it while it still forwards. The link stays
 * open: the PRUNEs go over it, and it may still have children we feed. */
static void on_goodbye(struct ovl *o, struct ovl_link *link, const struct pc_ovl_goodbye *g,
                       uint64_t now)
{
	if (link->leaving)
		return;
	uint32_t grace = g->grace_ms < 60000 ? g->grace_ms : 60000;
	link->leaving = true;
	link->leaving_until = now + grace + o->dead_ms;
	PCD_BUMP(link->cuts[CUT_GOODBYE]);
	pcd_log(PCD_LOG_INFO, "overlay-link-goodbye", "neighbour=%s id=%u grace_ms=%u", link->node,
	        link->peer, g->grace_ms);
	o->own_dirty = true;
	uint64_t reroutes = pc_ovchan_stats(o->chans)->reroutes;
	route(o, now);
	pcd_log(PCD_LOG_INFO, "overlay-rerouted", "around=%s channels=%llu", link->node,
	        (unsigned long long)(pc_ovchan_stats(o->chans)->reroutes - reroutes));
}

static void count_fault(struct ovl *o, struct ovl_link *link, unsigned fault)
{
	if (link == NULL) {
		PCD_BUMP(o->unknown_peers);
		return;
	}
	PCD_BUMP(link->faults[fault < PC_OVL_FAULT__COUNT ? fault : PC_OVL_FAULT_FIELD]);
}

static void dispatch(struct ovl *o, struct ovl_link *link, const struct pc_ovl_msg *msg,
                     uint64_t now)
{
	switch (msg->type) {
	case PC_OVL_LSA:
		on_lsa(o, link, &msg->u.lsa, now);
		break;
	case PC_OVL_LSA_ACK:
		for (uint16_t i = 0; i < msg->u.ack.count; i++) {
			struct pc_ovl_ack_entry e = pc_ovl_ack_at(&msg->u.ack, i);
			pending_ack(link, e.origin, e.seq);
		}
		break;
	case PC_OVL_JOIN:
	case PC_OVL_PRUNE:
		on_join(o, link, msg, now);
		break;
	case PC_OVL_DATA:
		on_data(o, link, &msg->u.data, now);
		break;
	case PC_OVL_HEARTBEAT:
		link->peer_held = (msg->flags & PC_OVL_F_HELD) != 0;
		break;
	case PC_OVL_GOODBYE:
		on_goodbye(o, link, &msg->u.goodbye, now);
		break;
	default: /* HELLO: its arrival is all it says */
		break;
	}
}

static size_t ovl_input(struct pcd_conn *conn, void *state, const uint8_t *in, size_t len)
{
	struct ovl_sess *sess = state;
	struct ovl *o = sess->o;
	long n = pc_ovl_frame_find(in, len);
	if (n == 0)
		return 0;
	if (n < 0) { /* cannot be resynchronised */
		count_fault(o, sess->link,
		            n == PC_ENOTSUP  ? PC_OVL_FAULT_VERSION
		            : n == PC_ERANGE ? PC_OVL_FAULT_LENGTH
		                             : PC_OVL_FAULT_MAGIC);
		close_sess(sess, "bad-stream");
		return len;
	}
	uint64_t now = now_mono();
	bool fresh = sess->link == NULL;
	struct ovl_link *link = fresh ? match_link(o, sess, in, (size_t)n) : sess->link;
	if (link == NULL) {
		PCD_BUMP(o->unknown_peers);
		pcd_conn_abort(conn);
		return len;
	}
	struct pc_ovl_msg msg;
	int rc = pc_ovl_link_read(&sess->s, in, (size_t)n, &msg);
	if (rc != PC_OK) {
		count_fault(o, link, msg.fault);
		/* A connection that never showed the key is dropped; a frame of
		 * a proven session that fails is only counted (docs/overlay.md). */
		if (fresh || !sess->s.heard)
			pcd_conn_abort(conn);
		return (size_t)n;
	}
	if (fresh) {
		/* A proven HELLO on an accepted connection: it replaces whatever
		 * session the link had (the peer restarted or re-dialled). */
		if (msg.type != PC_OVL_HELLO || link->dials) {
			count_fault(o, link, PC_OVL_FAULT_STATE);
			pcd_conn_abort(conn);
			return len;
		}
		if (link->sess != NULL) {
			struct ovl_sess *old = link->sess;
			link_down(o, link, "replaced");
			pcd_conn_abort(old->conn);
		}
		sess->link = link;
		link->sess = sess;
	}
	PCD_BUMP(link->frames_rx);
	atomic_store_explicit(&link->bytes_rx,
	                      atomic_load_explicit(&link->bytes_rx, memory_order_relaxed) +
	                          (uint64_t)n,
	                      memory_order_relaxed);
	link->last_rx = now;
	if (msg.type == PC_OVL_HELLO && !hello_in(o, link, &msg.u.hello)) {
		close_sess(sess, "wrong-cdn");
		return len;
	}
	if (pc_ovl_link_hello_owed(&sess->s))
		hello_out(o, link);
	if (!link->up && pc_ovl_link_up(&sess->s))
		link_up(o, link, now);
	if (link->up)
		dispatch(o, link, &msg, now);
	return (size_t)n;
}

static const struct pcd_conn_proto ovl_proto = {
    .name = "overlay",
    .max_input = PC_OVL_FRAME_MAX + 1,
    .read_chunk = 256 * 1024,
    .out_high = OUT_MAX,
    .out_low = LINK_LOW,
    .drained = ovl_drained,
    .limits = ovl_limits,
    .open = ovl_open,
    .input = ovl_input,
    .end = ovl_end,
    .free = ovl_free,
};

static void dial(struct ovl *o, struct ovl_link *link, uint64_t now)
{
	link->next_dial = now + link->backoff_ms;
	struct sockaddr_storage ss;
	socklen_t ss_len = pcd_sockaddr_from_addr(&link->addr, link->port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&ss, ss_len) != 0 && errno != EINPROGRESS) {
		close(fd);
		link_down(o, link, "connect-failed");
		return;
	}
	struct ovl_sess *sess = calloc(1, sizeof(*sess));
	if (sess == NULL) {
		close(fd);
		return;
	}
	sess->o = o;
	sess->dialled = true;
	sess->opened_at = now;
	uint8_t nonce[PC_OVL_NONCE_LEN];
	randombytes_buf(nonce, sizeof(nonce));
	pc_ovl_link_init(&sess->s, link->key, o->self, link->peer, nonce);
	o->adopting = sess;
	struct pcd_conn *conn;
	int err = pcd_conn_adopt(o->engine, fd, &link->addr, &conn);
	o->adopting = NULL;
	if (err != 0 || conn == NULL)
		return; /* the engine closed fd and freed the session */
	sess->link = link;
	link->sess = sess;
	link->last_rx = now;
	hello_out(o, link);
}

/* ---- control group: load and health ---- */

static uint64_t verdicts_hash(const struct pcd_health_verdict *v, unsigned n)
{
	uint64_t h = 1469598103934665603ull;
	for (unsigned i = 0; i < n; i++) {
		for (const char *p = v[i].name; *p != '\0'; p++)
			h = (h ^ (uint8_t)*p) * 1099511628211ull;
		h = (h ^ (v[i].up ? 0x55u : 0xaau)) * 1099511628211ull;
	}
	return h;
}

/* Our health role's verdicts as LOAD records on our load channel: at
 * every change, and every load_every_ms. */
static void publish_load(struct ovl *o, uint64_t now)
{
	unsigned n = pcd_health_verdicts(o->room->node, o->verdicts, MAX_VERDICTS);
	if (n > MAX_VERDICTS)
		n = MAX_VERDICTS;
	o->n_verdicts = n;
	if (n == 0)
		return;
	uint64_t h = verdicts_hash(o->verdicts, n);
	if (h == o->verdicts_hash && now < o->load_at + o->load_every_ms)
		return;
	o->verdicts_hash = h;
	o->load_at = now;
	const struct pcd_generation *gen = pcd_node_generation(o->room->node);
	size_t used = 0;
	uint64_t wall = pcd_now_ms();
	for (unsigned i = 0; i < n; i++) {
		uint32_t s = pc_model_server(gen->model, o->verdicts[i].name);
		struct pc_ovl_record rec = {
		    .type = PC_OVL_REC_LOAD,
		    .u.load = {.server = {o->verdicts[i].name, strlen(o->verdicts[i].name)},
		               .load = s != PC_NONE ? pc_live_load(gen->live, s) : 0,
		               .health = o->verdicts[i].up ? PC_OVL_UP : PC_OVL_DOWN,
		               .time_ms = wall},
		};
		int len =
		    pc_ovl_record_encode(&rec, o->payload + used, PC_OVL_BODY_MAX - 512 - used);
		if (len < 0)
			break;
		used += (size_t)len;
	}
	if (pcd_overlay_publish(o->room->node, o->load_channel, o->payload, used) == 0)
		PCD_BUMP(o->blocks_published);
}

static bool watched_here(const struct ovl *o, const char *name)
{
	for (unsigned i = 0; i < o->n_verdicts; i++)
		if (strcmp(o->verdicts[i].name, name) == 0)
			return true;
	return false;
}

/* A block of another router's load channel: its records into our live
 * state, the newest per server winning. */
static void apply_load(void *arg, const char *channel, uint32_t source, uint64_t seq,
                       const uint8_t *payload, size_t len)
{
	(void)channel;
	(void)source;
	(void)seq;
	struct ovl *o = arg;
	struct pcd_generation *gen = pcd_node_generation(o->room->node);
	if (o->load_gen != gen->number || o->load_servers != gen->model->n_servers) {
		free(o->load_time);
		o->load_time = calloc(gen->model->n_servers + 1, sizeof(*o->load_time));
		o->load_servers = o->load_time != NULL ? gen->model->n_servers : 0;
		o->load_gen = gen->number;
	}
	size_t at = 0;
	while (at < len) {
		struct pc_ovl_record rec;
		size_t used = 0;
		int rc = pc_ovl_record_decode(payload + at, len - at, &rec, &used);
		if (used == 0) {
			PCD_BUMP(o->records_refused);
			return;
		}
		at += used;
		if (rc != PC_OK || rec.type != PC_OVL_REC_LOAD) {
			PCD_BUMP(o->records_refused);
			continue;
		}
		char name[PC_OVL_NAME_MAX + 1];
		copy_name(name, &rec.u.load.server);
		uint32_t s = pc_model_server(gen->model, name);
		if (s == PC_NONE || s >= o->load_servers) {
			PCD_BUMP(o->records_refused);
			continue;
		}
		if (watched_here(o, name) || rec.u.load.time_ms <= o->load_time[s]) {
			PCD_BUMP(o->records_stale);
			continue;
		}
		o->load_time[s] = rec.u.load.time_ms;
		bool up = rec.u.load.health == PC_OVL_UP;
		/* UP and DOWN only over each other: a drain set by a control stays. */
		if (pc_live_health_change(gen->live, s, up ? PC_HEALTH_DOWN : PC_HEALTH_UP,
		                          up ? PC_HEALTH_UP : PC_HEALTH_DOWN))
			pcd_log(PCD_LOG_INFO, up ? "overlay-server-up" : "overlay-server-down",
			        "server=%s from=%u", name, source);
		pc_live_set_load(gen->live, s, rec.u.load.load);
		PCD_BUMP(o->records_applied);
	}
}

static void load_channel_of(char *out, size_t size, const char *cdn, uint32_t router)
{
	snprintf(out, size, "%s/load/%08x", cdn, router);
}

/* Every router of the database gets our subscription to its load channel. */
static void subscribe_loads(struct ovl *o, uint64_t now)
{
	(void)now;
	uint32_t n = pc_lsdb_route_count(o->lsdb); /* routers behind a border included */
	for (uint32_t i = 0; i < n; i++) {
		struct pc_overlay_route r;
		pc_lsdb_route_at(o->lsdb, i, &r);
		const char *cdn = origin_cdn(o, r.destination);
		if (r.destination == o->self || cdn == NULL)
			continue;
		char channel[PC_OVL_CHANNEL_MAX + 1];
		load_channel_of(channel, sizeof(channel), cdn, r.destination);
		pcd_overlay_subscribe(o->room->node, channel, r.destination, apply_load, o);
	}
}

/* ---- the test stream ---- */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Logs a test block; a block stamped by test_stream (" t=" and the
 * monotonic clock in ns, the same on every process of the machine) also
 * gets its age, which bench/control.sh turns into latency per hop. */
static void log_block(void *arg, const char *channel, uint32_t source, uint64_t seq,
                      const uint8_t *payload, size_t len)
{
	(void)arg;
	uint64_t now = mono_ns();
	size_t shown = len > 32 ? 32 : len;
	const char *t = memmem(payload, shown, " t=", 3);
	unsigned long long sent = 0, age_ns = 0;
	if (t != NULL) {
		sent = strtoull(t + 3, NULL, 10);
		age_ns = now > sent ? now - sent : 0;
	}
	size_t text = t != NULL ? (size_t)(t - (const char *)payload) : shown;
	pcd_log(PCD_LOG_INFO, "overlay-test-block",
	        "channel=%s source=%u seq=%llu payload=%.*s bytes=%zu sent_ns=%llu age_ns=%llu",
	        channel, source, (unsigned long long)seq, (int)text, (const char *)payload, len,
	        sent, age_ns);
}

/* Whether every up link can take another block: the source's side of
 * the flow control (a full link holds the publisher as it holds reading). */
static bool links_drained(const struct ovl *o)
{
	return o->n_full == 0;
}

/* A bench block of LOAD records about the config's servers, in turn, each
 * newer than the last (bench/control.sh: control records one router
 * applies per second). */
static size_t test_load_block(struct ovl *o, uint32_t records)
{
	const pc_model *m = pcd_node_generation(o->room->node)->model;
	if (m->n_servers == 0)
		return 0;
	uint64_t wall = pcd_now_ms();
	size_t used = 0;
	for (uint32_t i = 0; i < records; i++) {
		o->test_time = o->test_time + 1 > wall ? o->test_time + 1 : wall;
		const struct pc_server *srv = &m->servers[o->test_server++ % m->n_servers];
		struct pc_ovl_record rec = {
		    .type = PC_OVL_REC_LOAD,
		    .u.load = {.server = {srv->name, strlen(srv->name)},
		               .load = i,
		               .health = PC_OVL_UP,
		               .time_ms = o->test_time},
		};
		int len =
		    pc_ovl_record_encode(&rec, o->payload + used, PC_OVL_BODY_MAX - 512 - used);
		if (len < 0)
			break;
		used += (size_t)len;
	}
	return used;
}

/* The test stream's blocks still owed this interval, while no link is
 * full (flow control holds the publisher), for at most half a tick: the
 * links' input and heartbeats wait for this loop. Called from the timer,
 * and again when the last full link drains, so a bench source is paced by
 * its links and not by the tick. */
static void test_publish(struct ovl *o)
{
	const struct pc_overlay_params *p =
	    pcd_room_settings(o->room, pcd_node_generation(o->room->node));
	if (!o->running || p->test_channel == NULL || o->test_left == 0)
		return;
	const char *channel = p->test_load_records > 0 ? o->load_channel : p->test_channel;
	uint64_t until = mono_ns() + TICK_MS * 500000ull;
	while (o->test_left > 0 && links_drained(o) && mono_ns() < until) {
		uint64_t last = 0;
		uint32_t upstream, n_down;
		if (pc_ovchan_status(o->chans, channel, &last, &upstream, &n_down) != 0 ||
		    last == PC_OVCHAN_FRESH)
			last = 0;
		if (p->test_count > 0 && last >= p->test_count) {
			o->test_left = 0;
			return;
		}
		size_t len;
		if (p->test_load_records > 0) {
			len = test_load_block(o, p->test_load_records);
		} else {
			int n =
			    snprintf((char *)o->payload, 64, "block-%llu t=%llu ",
			             (unsigned long long)last + 1, (unsigned long long)mono_ns());
			len = (size_t)n;
			if (p->test_block_bytes > len) {
				memset(o->payload + len, 'x', p->test_block_bytes - len);
				len = p->test_block_bytes;
			}
		}
		o->test_left--;
		if (pcd_overlay_publish(o->room->node, channel, o->payload, len) != 0) {
			o->test_left = 0;
			return;
		}
	}
}

/* The test stream: every interval, burst blocks (numbered text, stamped
 * and padded to block_bytes, or LOAD records), until block count. What a
 * burst could not publish before the next interval is dropped from it,
 * not owed: the interval and burst set the rate offered. */
static void test_stream(struct ovl *o, const struct pc_overlay_params *p, uint64_t now)
{
	if (p->test_channel == NULL) {
		o->test_left = 0;
		return;
	}
	if (now < o->test_at + p->test_interval_ms)
		return;
	o->test_at = now;
	o->test_left = p->test_burst > 0 ? p->test_burst : 1;
	test_publish(o);
}

/* ---- the other control groups (overlay_groups.c) ---- */

/* Every tick; with the routers of the database when subscriptions may
 * have changed (every second, after SPF). */
static void groups_tick(struct ovl *o, uint64_t now, bool subscribe)
{
	struct ovl_router routers[MAX_ORIGINS];
	unsigned n = 0;
	uint32_t count = subscribe ? pc_lsdb_route_count(o->lsdb) : 0;
	for (uint32_t i = 0; i < count && n < MAX_ORIGINS; i++) {
		struct pc_overlay_route r;
		pc_lsdb_route_at(o->lsdb, i, &r);
		routers[n++] = (struct ovl_router){r.destination, origin_cdn(o, r.destination)};
	}
	ovl_groups_tick(o->groups, now, subscribe, routers, n);
}

/* ---- the clock ---- */

static void mirror_stats(struct ovl *o)
{
	const struct pc_lsdb_stats *l = pc_lsdb_stats(o->lsdb);
	const uint64_t lv[9] = {l->installed,      l->older,         l->duplicate,
	                        l->flushed,        l->expired,       l->rejected_malformed,
	                        l->rejected_links, l->rejected_full, l->spf_runs};
	for (unsigned i = 0; i < 9; i++)
		atomic_store_explicit(&o->lsdb_m[i], lv[i], memory_order_relaxed);
	const struct pc_ovchan_stats *c = pc_ovchan_stats(o->chans);
	const uint64_t cv[18] = {
	    c->joins,         c->prunes,       c->blocks_in,      c->blocks_forwarded,
	    c->blocks_resent, c->duplicates,   c->not_upstream,   c->unknown,
	    c->gaps,          c->overflows,    c->rejected_joins, c->channels_pruned,
	    c->reroutes,      c->refreshes,    c->joins_expired,  c->new_epochs,
	    c->stale_epochs,  c->epochs_raised};
	for (unsigned i = 0; i < 18; i++)
		atomic_store_explicit(&o->chan_m[i], cv[i], memory_order_relaxed);
}

static void copy_routes(struct ovl *o, uint64_t now)
{
	uint32_t n = pc_lsdb_route_count(o->lsdb), n_lsas = pc_lsdb_count(o->lsdb);
	struct ovl_route *routes = calloc(n + 1, sizeof(*routes));
	uint32_t *origins = calloc(n_lsas + 1, sizeof(*origins));
	if (routes == NULL || origins == NULL) {
		free(routes);
		free(origins);
		return;
	}
	unsigned k = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct pc_overlay_route r;
		pc_lsdb_route_at(o->lsdb, i, &r);
		if (r.destination != o->self)
			routes[k++] = (struct ovl_route){r.destination, r.parent};
	}
	for (uint32_t i = 0; i < n_lsas; i++) {
		struct pc_lsa lsa;
		pc_lsdb_at(o->lsdb, i, now, &lsa);
		origins[i] = lsa.origin;
	}
	pthread_mutex_lock(&o->routes_lock);
	free(o->routes);
	o->routes = routes;
	o->n_routes = k;
	free(o->lsa_origins);
	o->lsa_origins = origins;
	o->n_lsa_origins = n_lsas;
	pthread_mutex_unlock(&o->routes_lock);
}

/* After an SPF: a peering link whose border view changed (a route behind
 * us came, went or changed cost) gets it with our next LSA. */
static void check_views(struct ovl *o, uint64_t now)
{
	struct pc_lsa own;
	if (pc_lsdb_get(o->lsdb, o->self, now, &own) != 0)
		return;
	for (unsigned i = 0; i < o->n_links; i++) {
		struct ovl_link *link = &o->links[i];
		if (!link->up || !peering(o, link))
			continue;
		struct pc_lsa_link view[PC_OVERLAY_MAX_NEIGHBOURS];
		uint16_t n = border_view(o, link, own.links, own.n_links, view);
		if (ovl_border_hash(view, n) != link->view_hash)
			o->own_dirty = true;
	}
}

/* Our LSA when a link changed, then SPF and what follows from it: the
 * channels re-joined, the route view, the borders' views, the load
 * subscriptions. Whether SPF ran. Not while we leave: our neighbours no
 * longer list us, so SPF would find us cut off and prune every upstream
 * we still forward from. */
static bool route(struct ovl *o, uint64_t now)
{
	if (o->own_dirty)
		originate(o, now);
	if (o->leaving || !pc_lsdb_dirty(o->lsdb) || pc_lsdb_spf(o->lsdb) != 0)
		return false;
	pc_ovchan_reroute(o->chans, o->lsdb, now, on_reroute, o);
	copy_routes(o, now);
	view_publish(o, pcd_node_generation(o->room->node)->number);
	check_views(o, now);
	subscribe_loads(o, now);
	return true;
}

/* Our own goodbye (docs/overlay.md, "GOODBYE"), once the main thread
 * asked: GOODBYE on every up link, then forwarding as before until no
 * child of another source's channel is left here, or the grace is over;
 * then `gone`, which the main thread waits for before it stops us. */
static void leave_tick(struct ovl *o, const struct pc_overlay_params *p, uint64_t now)
{
	if (!atomic_load(&o->leave_asked) || atomic_load(&o->gone))
		return;
	if (!o->leaving) {
		o->leaving = true;
		o->leave_at = now;
		o->leave_until = now + p->stop_grace_ms;
		atomic_store(&o->leave_grace_ms, p->stop_grace_ms);
		unsigned said = 0;
		for (unsigned i = 0; i < o->n_links; i++) {
			struct pc_ovl_msg bye = {.type = PC_OVL_GOODBYE,
			                         .u.goodbye.grace_ms = p->stop_grace_ms};
			if (o->links[i].up && send_msg(&o->links[i], &bye))
				said++;
		}
		pcd_log(PCD_LOG_INFO, "overlay-leaving", "neighbours=%u children=%u grace_ms=%u",
		        said, pc_ovchan_relaying(o->chans), p->stop_grace_ms);
	}
	uint32_t children = pc_ovchan_relaying(o->chans);
	if (children > 0 && now < o->leave_until)
		return;
	pcd_log(PCD_LOG_INFO, "overlay-left", "reason=%s ms=%llu children=%u",
	        children == 0 ? "children-moved" : "grace", (unsigned long long)(now - o->leave_at),
	        children);
	atomic_store(&o->gone, true);
}

static void service(struct ovl *o, uint64_t now)
{
	const struct pcd_generation *gen = pcd_node_generation(o->room->node);
	const struct pc_overlay_params *p = pcd_room_settings(o->room, gen);
	/* A gap between ticks far beyond TICK_MS: this process was stopped or
	 * starved, and could not have read what its peers sent meanwhile. */
	uint64_t gap = o->last_service != 0 && now > o->last_service + 4 * TICK_MS
	                   ? now - o->last_service - TICK_MS
	                   : 0;
	o->last_service = now;
	for (unsigned i = 0; i < o->n_links; i++) {
		struct ovl_link *link = &o->links[i];
		struct ovl_sess *sess = link->sess;
		link->last_rx = link->last_rx + gap < now ? link->last_rx + gap : now;
		/* A link we stopped reading is not silent: we are deaf to it. */
		bool deaf = sess != NULL && pcd_conn_read_paused(sess->conn);
		if (sess != NULL && !deaf && now > link->last_rx + o->dead_ms) {
			close_sess(sess, link->up ? "dead" : "hello-timeout");
			continue;
		}
		if (sess != NULL && link->leaving && now > link->leaving_until) {
			close_sess(sess, "goodbye-timeout"); /* it said it would go */
			continue;
		}
		/* Full for too long: cut, so that the rest of the tree moves on;
		 * its subtree re-joins and resumes through the windows. A peer
		 * that says it is held by a link of its own gets twice as long:
		 * that link is cut first, and it reads again. */
		uint64_t bound = (uint64_t)p->slow_link_ms * (link->peer_held ? 2 : 1);
		if (sess != NULL && link->full && now > link->full_since + gap + bound) {
			PCD_BUMP(link->cuts[CUT_SLOW]);
			pcd_log(PCD_LOG_WARNING, "overlay-link-slow",
			        "neighbour=%s unsent=%zu ms=%llu", link->node,
			        pcd_conn_unsent(sess->conn),
			        (unsigned long long)(now - link->full_since));
			close_sess(sess, "slow");
			continue;
		}
		if (link->full)
			link->full_since += gap;
		if (sess == NULL && link->dials && now >= link->next_dial && !o->leaving)
			dial(o, link, now);
		if (link->up && now >= link->last_tx + o->heartbeat_ms) {
			struct pc_ovl_msg hb = {.type = PC_OVL_HEARTBEAT,
			                        .flags = deaf ? PC_OVL_F_HELD : 0,
			                        .u.heartbeat = {.sent_at = now}};
			send_msg(link, &hb);
		}
		resend_pending(o, link, now);
	}
	bool second = now >= o->next_second;
	if (second) {
		o->next_second = now + 1000;
		for (unsigned i = 0; i < o->n_links; i++)
			o->links[i].lsa_budget = LSA_BUDGET;
		bool refresh = false;
		pc_lsdb_tick(o->lsdb, now, &refresh);
		if (refresh)
			o->own_dirty = true;
		pc_ovchan_tick(o->chans, now, on_pruned, o);
		subscribe_loads(o, now);
	}
	bool spf = route(o, now);
	if (!spf && gen->number != o->view_gen)
		view_publish(o, gen->number); /* edge.tree may have changed */
	pc_ovchan_refresh(o->chans, now, on_refresh, o);
	publish_load(o, now);
	groups_tick(o, now, second || spf);
	test_stream(o, p, now);
	leave_tick(o, p, now);
	pcd_conn_tick(o->engine, now);
	mirror_stats(o);
}

static void on_timer(struct pcd_io *io, struct pcd_worker *worker, uint32_t events)
{
	(void)worker;
	(void)events;
	struct ovl *o = (struct ovl *)((char *)io - offsetof(struct ovl, timer));
	uint64_t expirations;
	ssize_t n = read(io->fd, &expirations, sizeof(expirations));
	(void)n; /* non-blocking: nothing to read is fine */
	service(o, now_mono());
}

/* ---- the route view (docs/overlay.md, "The route view") ----
 *
 * Built on worker 0 after every SPF from the routes just computed, read
 * by any worker without a lock: a reader copies its entry out while
 * online, and a replaced view is freed by call_rcu once every worker has
 * passed a quiescent state (worker 0 is itself a reader and may not wait
 * for a grace period, so it hands the old view over instead). */
struct ovl_view {
	struct rcu_head rcu;
	uint32_t self, n;
	struct ovl_view_entry {
		uint32_t source;
		struct pcd_overlay_hop hop;
	} entries[]; /* ascending by source */
};

static void view_free_rcu(struct rcu_head *head)
{
	free(caa_container_of(head, struct ovl_view, rcu));
}

static void view_publish(struct ovl *o, uint64_t gen_number)
{
	const struct pcd_generation *gen = pcd_node_generation(o->room->node);
	const struct pc_edge_params *edge = pc_edge_settings(gen->config);
	uint32_t n = pc_lsdb_route_count(o->lsdb);
	struct ovl_view *view = calloc(1, sizeof(*view) + (n + 1) * sizeof(view->entries[0]));
	if (view == NULL)
		return; /* the old view stays: a hop a moment old, and the Via check */
	view->self = o->self;
	for (uint32_t i = 0; i < n; i++) {
		struct pc_overlay_route r;
		pc_lsdb_route_at(o->lsdb, i, &r);
		if (r.destination == o->self || r.parent == PC_OVERLAY_ROUTER_NONE)
			continue;
		struct ovl_view_entry *e = &view->entries[view->n++];
		e->source = r.destination;
		e->hop.next_hop = r.parent;
		e->hop.cost = r.cost;
		const struct pc_hostport *at =
		    edge != NULL ? pc_edge_tree_find(edge, r.parent) : NULL;
		if (at != NULL) {
			e->hop.has_edge = true;
			e->hop.edge = *at;
		}
	}
	o->view_gen = gen_number;
	struct ovl_view *old = rcu_xchg_pointer(&o->view, view);
	if (old != NULL)
		call_rcu(&old->rcu, view_free_rcu);
}

/* At stop, every worker closed: the last view, and every one handed to call_rcu. */
static void view_retire(struct ovl *o)
{
	struct ovl_view *old = rcu_xchg_pointer(&o->view, NULL);
	if (old != NULL)
		call_rcu(&old->rcu, view_free_rcu);
	rcu_barrier();
}

int pcd_overlay_route_to(struct pcd_node *node, uint32_t source, struct pcd_overlay_hop *out)
{
	struct ovl *o = of_node(node);
	if (o == NULL)
		return -ENOENT;
	const struct ovl_view *view = rcu_dereference(o->view);
	if (view == NULL)
		return -ENOENT;
	if (source == view->self)
		return -EEXIST;
	uint32_t lo = 0, hi = view->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (view->entries[mid].source < source)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == view->n || view->entries[lo].source != source)
		return -ENOENT;
	*out = view->entries[lo].hop;
	return 0;
}

/* ---- the API for other roles ---- */

uint32_t pcd_overlay_self(struct pcd_node *node)
{
	struct ovl *o = of_node(node);
	return o != NULL && o->running ? o->self : 0;
}

bool pcd_overlay_held(struct pcd_node *node)
{
	struct ovl *o = of_node(node);
	return o != NULL && o->running && o->n_full > 0;
}

int pcd_overlay_publish(struct pcd_node *node, const char *channel, const uint8_t *payload,
                        size_t len)
{
	struct ovl *o = of_node(node);
	if (o == NULL || !o->running)
		return -ENOENT;
	if (!pc_ovl_channel_ok(channel, strlen(channel)) || len > PC_OVL_BODY_MAX - 512)
		return -EINVAL;
	uint64_t last = 0;
	uint32_t upstream, n_down;
	if (pc_ovchan_status(o->chans, channel, &last, &upstream, &n_down) != 0 ||
	    last == PC_OVCHAN_FRESH)
		last = 0;
	uint64_t now = now_mono();
	struct pc_ovchan_forward fw;
	if (pc_ovchan_data(o->chans, channel, o->self, 0, last + 1, payload, len, now, &fw) != 0)
		return -ENOMEM;
	if (fw.verdict != PC_OVCHAN_FORWARD)
		return -EINVAL; /* a channel of another source by that name */
	forward(o, channel, o->self, last + 1, payload, len, &fw);
	return 0;
}

int pcd_overlay_subscribe(struct pcd_node *node, const char *channel, uint32_t source,
                          pcd_overlay_deliver_fn *fn, void *arg)
{
	struct ovl *o = of_node(node);
	if (o == NULL || !o->running)
		return -ENOENT;
	size_t len = strlen(channel);
	if (!pc_ovl_channel_ok(channel, len) || source == PC_OVERLAY_ROUTER_NONE)
		return -EINVAL;
	for (unsigned i = 0; i < o->n_subs; i++)
		if (o->subs[i].source == source && strcmp(o->subs[i].channel, channel) == 0)
			return -EEXIST;
	if (o->n_subs == MAX_SUBS)
		return -ENOSPC;
	struct pc_ovchan_joined j;
	if (pc_ovchan_join(o->chans, o->lsdb, channel, source, o->self, 0, PC_OVCHAN_FRESH,
	                   now_mono(), &j) != 0)
		return -EINVAL;
	struct ovl_sub *sub = &o->subs[o->n_subs++];
	memcpy(sub->channel, channel, len + 1);
	sub->source = source;
	sub->fn = fn;
	sub->arg = arg;
	joined(o, channel, source, o->self, &j);
	return 0;
}

int pcd_overlay_unsubscribe(struct pcd_node *node, const char *channel, uint32_t source)
{
	struct ovl *o = of_node(node);
	if (o == NULL || !o->running)
		return -ENOENT;
	for (unsigned i = 0; i < o->n_subs; i++)
		if (o->subs[i].source == source && strcmp(o->subs[i].channel, channel) == 0) {
			o->subs[i] = o->subs[--o->n_subs];
			/* The table PRUNEs upstream once nobody else here wants it. */
			pc_ovchan_prune(o->chans, channel, o->self, now_mono());
			return 0;
		}
	return -ENOENT;
}

void pcd_overlay_own_wanted(struct pcd_node *node, void (*fn)(void *arg, const char *channel),
                            void *arg)
{
	struct ovl *o = of_node(node);
	if (o != NULL && o->running)
		pc_ovchan_own_wanted(o->chans, fn, arg);
}

void pcd_overlay_replica(struct pcd_node *node, uint64_t key, const char *server)
{
	struct ovl *o = of_node(node);
	if (o != NULL && o->groups != NULL)
		ovl_groups_replica(o->groups, key, server);
}

void pcd_overlay_policy_pushed(struct pcd_node *node, const char *text, size_t len)
{
	struct ovl *o = of_node(node);
	if (o != NULL && o->groups != NULL)
		ovl_groups_policy_pushed(o->groups, text, len);
}

void pcd_overlay_drain(struct pcd_node *node, const char *server, bool drained)
{
	struct ovl *o = of_node(node);
	if (o != NULL && o->groups != NULL)
		ovl_groups_drain(o->groups, server, drained);
}

/* ---- the room ---- */

/* SIGTERM (main.c, before the workers stop): worker 0 says goodbye at its
 * next tick (leave_tick). */
static void overlay_leave(const struct pcd_room *room)
{
	struct ovl *o = room->shared;
	if (o == NULL || !o->running)
		return;
	const struct pc_overlay_params *p =
	    pcd_room_settings(room, pcd_node_generation(room->node));
	atomic_store(&o->leave_grace_ms, p->stop_grace_ms);
	atomic_store(&o->leave_asked_at, pcd_mono_ms());
	atomic_store(&o->leave_asked, true);
}

/* Whether we may stop: worker 0 said it is gone, or it has not in the
 * grace and a few ticks more (it is stuck: the stop must not be). */
static bool overlay_left(const struct pcd_room *room)
{
	struct ovl *o = room->shared;
	if (o == NULL || !o->running || !atomic_load(&o->leave_asked) || atomic_load(&o->gone))
		return true;
	uint64_t bound =
	    atomic_load(&o->leave_asked_at) + atomic_load(&o->leave_grace_ms) + 10 * TICK_MS;
	return pcd_mono_ms() > bound;
}

static const struct pcd_room *overlay_room(struct pcd_node *node)
{
	for (size_t slot = 0; pcd_roles[slot] != NULL; slot++)
		if (strcmp(pcd_roles[slot]->name, "overlay") == 0)
			return node->rooms[slot].started ? &node->rooms[slot] : NULL;
	return NULL;
}

static struct ovl *of_node(struct pcd_node *node)
{
	const struct pcd_room *room = overlay_room(node);
	return room != NULL ? room->shared : NULL;
}

static struct pcd_listen overlay_listen(const void *settings)
{
	const struct pc_overlay_params *p = settings;
	return (struct pcd_listen){p->enabled, p->port, &p->listen};
}

/* Neighbours, the router id and the timers are read once, at start. */
static bool overlay_needs_restart(const void *old_settings, const void *new_settings)
{
	const struct pc_overlay_params *a = old_settings, *b = new_settings;
	if (a->router_id != b->router_id || a->n_neighbours != b->n_neighbours ||
	    a->heartbeat_ms != b->heartbeat_ms || a->dead_ms != b->dead_ms ||
	    a->join_refresh_ms != b->join_refresh_ms)
		return true;
	for (uint32_t i = 0; i < a->n_neighbours; i++) {
		const struct pc_overlay_neighbour *x = &a->neighbours[i], *y = &b->neighbours[i];
		if (x->id != y->id || x->port != y->port || x->cost != y->cost ||
		    !pc_addr_equal(&x->addr, &y->addr) ||
		    memcmp(x->key, y->key, sizeof(x->key)) != 0)
			return true;
	}
	return false;
}

static void overlay_free(struct ovl *o)
{
	if (o == NULL)
		return;
	view_retire(o);
	ovl_groups_free(o->groups);
	pc_lsdb_free(o->lsdb);
	pc_ovchan_free(o->chans);
	if (o->group != NULL)
		pcd_conn_group_free(o->group);
	if (o->links != NULL)
		sodium_memzero(o->links, o->n_links * sizeof(*o->links));
	free(o->links);
	free(o->payload);
	free(o->routes);
	free(o->lsa_origins);
	free(o->load_time);
	pthread_mutex_destroy(&o->routes_lock);
	free(o);
}

static int overlay_start(struct pcd_room *room)
{
	const struct pcd_generation *gen = room->node->generation;
	const struct pc_overlay_params *p = pcd_room_settings(room, gen);
	const pc_model *m = gen->model;
	if (m->self_node == PC_NONE || m->nodes[m->self_node].cdns.count == 0) {
		pcd_log(PCD_LOG_ERROR, "overlay-no-node", "hint=%s",
		        "the overlay needs `self` (or -n) naming a node of a CDN");
		return -EINVAL;
	}
	if (sodium_init() < 0)
		return -EIO;
	struct ovl *o = calloc(1, sizeof(*o));
	if (o == NULL)
		return -ENOMEM;
	pthread_mutex_init(&o->routes_lock, NULL);
	room->shared = o;
	o->room = room;
	o->self = p->router_id;
	o->heartbeat_ms = p->heartbeat_ms;
	o->dead_ms = p->dead_ms;
	o->load_every_ms = p->load_every_ms;
	const struct pc_node *self = &m->nodes[m->self_node];
	snprintf(o->cdn, sizeof(o->cdn), "%s", m->cdns[self->cdns.items[0]].name);
	load_channel_of(o->load_channel, sizeof(o->load_channel), o->cdn, o->self);
	o->links = calloc(p->n_neighbours + 1, sizeof(*o->links));
	o->payload = malloc(PC_OVL_BODY_MAX);
	struct pc_lsdb_params lp = {.self = o->self};
	/* Our channels' epoch: the start time, so our streams after a
	 * restart replace the old ones at every subscriber. */
	struct pc_ovchan_params cp = {
	    .self = o->self, .join_refresh_ms = p->join_refresh_ms, .epoch = pcd_now_ms()};
	if (o->links == NULL || o->payload == NULL || pc_lsdb_new(&lp, &o->lsdb) != 0 ||
	    pc_ovchan_new(&cp, &o->chans) != 0 || pcd_conn_group_new(&o->group) != 0 ||
	    ovl_groups_new(room->node, o->self, o->cdn, &o->groups) != 0) {
		overlay_free(o);
		room->shared = NULL;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < p->n_neighbours; i++) {
		const struct pc_overlay_neighbour *n = &p->neighbours[i];
		if (n->id == o->self) {
			pcd_log(PCD_LOG_ERROR, "overlay-self-neighbour", "neighbour=%s id=%u",
			        n->node, n->id);
			overlay_free(o);
			room->shared = NULL;
			return -EINVAL;
		}
		struct ovl_link *link = &o->links[o->n_links++];
		link->o = o;
		link->peer = n->id;
		snprintf(link->node, sizeof(link->node), "%s", n->node);
		link->node_index = n->node_index;
		link->addr = n->addr;
		link->port = n->port;
		memcpy(link->key, n->key, sizeof(link->key));
		link->cost = n->cost;
		link->dials = o->self > n->id;
		link->backoff_ms = BACKOFF_MIN_MS;
	}
	pcd_log(PCD_LOG_INFO, "overlay-router", "id=%u cdn=%s neighbours=%u", o->self, o->cdn,
	        o->n_links);
	return 0;
}

static void overlay_stop(struct pcd_room *room)
{
	overlay_free(room->shared);
	room->shared = NULL;
}

/* Per worker: only worker 0 runs the overlay. */
struct overlay_worker {
	struct ovl *o;
};

static int overlay_open(const struct pcd_room *room, struct pcd_worker *worker, void *state)
{
	struct overlay_worker *ow = state;
	if (worker->index != 0)
		return 0;
	struct ovl *o = room->shared;
	ow->o = o;
	o->worker = worker;
	o->timer.fd = -1;
	int err =
	    pcd_conn_engine_new(worker, o->group, &ovl_proto, o, &o->conn_counters, &o->engine);
	if (err != 0)
		return err;
	const struct pcd_generation *gen = pcd_node_generation(room->node);
	const struct pc_overlay_params *p = pcd_room_settings(room, gen);
	pc_addr addrs[16];
	unsigned n = 0;
	const struct pc_addr_list *listen =
	    p->listen.count > 0 ? &p->listen : &gen->model->nodes[gen->model->self_node].addresses;
	for (uint32_t i = 0; i < listen->count && n < 16; i++)
		addrs[n++] = listen->items[i];
	if (n == 0) {
		pcd_log(PCD_LOG_ERROR, "no-listen", "role=overlay hint=%s",
		        "set overlay.listen or the node's addresses");
		return -EINVAL;
	}
	err = pcd_conn_listen_all(o->engine, addrs, n, p->port);
	if (err != 0)
		return err;
	o->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	o->timer.on_event = on_timer;
	if (o->timer.fd < 0 || pcd_worker_watch(worker, &o->timer, EPOLLIN) != 0)
		return -errno;
	struct itimerspec its = {.it_value = {.tv_nsec = 1},
	                         .it_interval = {.tv_nsec = TICK_MS * 1000000L}};
	if (timerfd_settime(o->timer.fd, 0, &its, NULL) != 0)
		return -errno;
	o->running = true;
	ovl_groups_open(o->groups);
	/* Our own LSA at the first tick, and the test channels. */
	o->own_dirty = true;
	for (uint32_t i = 0; i < p->test_subscribe.count; i++) {
		const char *text = p->test_subscribe.items[i];
		const char *at = strrchr(text, '@');
		char channel[PC_OVL_CHANNEL_MAX + 1];
		snprintf(channel, sizeof(channel), "%.*s", (int)(at - text), text);
		pcd_overlay_subscribe(room->node, channel, pc_overlay_router_id(at + 1), log_block,
		                      o);
	}
	return 0;
}

static void overlay_close(const struct pcd_room *room, void *state)
{
	(void)room;
	struct overlay_worker *ow = state;
	struct ovl *o = ow->o;
	if (o == NULL)
		return;
	o->running = false;
	ovl_groups_close(o->groups);
	if (o->timer.fd >= 0)
		close(o->timer.fd);
	o->timer.fd = -1;
	if (o->engine != NULL)
		pcd_conn_engine_free(o->engine);
	o->engine = NULL;
}

/* ---- metrics ---- */

static uint64_t ld(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static void counter_head(FILE *out, const char *name, const char *help, const char *type)
{
	fprintf(out, "# HELP peercdn_overlay_%s %s\n# TYPE peercdn_overlay_%s %s\n", name, help,
	        name, type);
}

static void overlay_metrics(const struct pcd_room *room, FILE *out)
{
	struct ovl *o = room->shared;
	if (o == NULL)
		return;
	counter_head(out, "router_id", "This router's id.", "gauge");
	fprintf(out, "peercdn_overlay_router_id %u\n", o->self);
	counter_head(out, "link_up", "Whether the link to a neighbour is up.", "gauge");
	for (unsigned i = 0; i < o->n_links; i++)
		fprintf(out, "peercdn_overlay_link_up{neighbour=\"%s\",id=\"%u\"} %llu\n",
		        o->links[i].node, o->links[i].peer,
		        (unsigned long long)ld(&o->links[i].is_up));
	counter_head(out, "link_transitions_total", "Links that came up or went down.", "counter");
	for (unsigned i = 0; i < o->n_links; i++)
		fprintf(
		    out,
		    "peercdn_overlay_link_transitions_total{neighbour=\"%s\",to=\"up\"} %llu\n"
		    "peercdn_overlay_link_transitions_total{neighbour=\"%s\",to=\"down\"} %llu\n",
		    o->links[i].node, (unsigned long long)ld(&o->links[i].ups), o->links[i].node,
		    (unsigned long long)ld(&o->links[i].downs));
	counter_head(out, "frames_total", "Frames per link and direction.", "counter");
	for (unsigned i = 0; i < o->n_links; i++)
		fprintf(out,
		        "peercdn_overlay_frames_total{neighbour=\"%s\",direction=\"sent\"} %llu\n"
		        "peercdn_overlay_frames_total{neighbour=\"%s\",direction=\"received\"} "
		        "%llu\n",
		        o->links[i].node, (unsigned long long)ld(&o->links[i].frames_tx),
		        o->links[i].node, (unsigned long long)ld(&o->links[i].frames_rx));
	counter_head(out, "bytes_total", "Bytes per link and direction.", "counter");
	for (unsigned i = 0; i < o->n_links; i++)
		fprintf(
		    out,
		    "peercdn_overlay_bytes_total{neighbour=\"%s\",direction=\"sent\"} %llu\n"
		    "peercdn_overlay_bytes_total{neighbour=\"%s\",direction=\"received\"} %llu\n",
		    o->links[i].node, (unsigned long long)ld(&o->links[i].bytes_tx),
		    o->links[i].node, (unsigned long long)ld(&o->links[i].bytes_rx));
	counter_head(out, "blocks_sent_total",
	             "Channel blocks sent on each link: content, or the control groups'.",
	             "counter");
	for (unsigned i = 0; i < o->n_links; i++)
		fprintf(
		    out,
		    "peercdn_overlay_blocks_sent_total{neighbour=\"%s\",kind=\"content\"} %llu\n"
		    "peercdn_overlay_blocks_sent_total{neighbour=\"%s\",kind=\"control\"} %llu\n",
		    o->links[i].node, (unsigned long long)ld(&o->links[i].blocks_forwarded),
		    o->links[i].node,
		    (unsigned long long)ld(&o->links[i].control_blocks_forwarded));
	counter_head(out, "blocks_received_total",
	             "Channel blocks that arrived on each link: content, or the control groups'.",
	             "counter");
	for (unsigned i = 0; i < o->n_links; i++)
		fprintf(out,
		        "peercdn_overlay_blocks_received_total{neighbour=\"%s\",kind=\"content\"} "
		        "%llu\n"
		        "peercdn_overlay_blocks_received_total{neighbour=\"%s\",kind=\"control\"} "
		        "%llu\n",
		        o->links[i].node, (unsigned long long)ld(&o->links[i].blocks_received),
		        o->links[i].node,
		        (unsigned long long)ld(&o->links[i].control_blocks_received));
	counter_head(out, "rejected_total", "Frames refused, per link and reason.", "counter");
	for (unsigned i = 0; i < o->n_links; i++) {
		struct ovl_link *l = &o->links[i];
		for (unsigned f = 1; f < PC_OVL_FAULT__COUNT; f++)
			fprintf(
			    out,
			    "peercdn_overlay_rejected_total{neighbour=\"%s\",reason=\"%s\"} %llu\n",
			    l->node, pc_ovl_fault_name(f), (unsigned long long)ld(&l->faults[f]));
		for (unsigned r = 0; r < REFUSED__COUNT; r++)
			fprintf(
			    out,
			    "peercdn_overlay_rejected_total{neighbour=\"%s\",reason=\"%s\"} %llu\n",
			    l->node, refusal_names[r], (unsigned long long)ld(&l->refused[r]));
	}
	counter_head(out, "link_cuts_total",
	             "Links we cut though the peer was not silent: full for longer than "
	             "slow_link_ms, past the overflow bound, or taken out of our routes by the "
	             "peer's GOODBYE.",
	             "counter");
	for (unsigned i = 0; i < o->n_links; i++)
		for (unsigned c = 0; c < CUT__COUNT; c++)
			fprintf(out,
			        "peercdn_overlay_link_cuts_total{neighbour=\"%s\",reason=\"%s\"} "
			        "%llu\n",
			        o->links[i].node, cut_names[c],
			        (unsigned long long)ld(&o->links[i].cuts[c]));
	counter_head(out, "link_full_total",
	             "Times a link's unsent output passed the high-water mark (flow control).",
	             "counter");
	for (unsigned i = 0; i < o->n_links; i++)
		fprintf(out, "peercdn_overlay_link_full_total{neighbour=\"%s\"} %llu\n",
		        o->links[i].node, (unsigned long long)ld(&o->links[i].fulls));
	counter_head(out, "reading_held_total",
	             "Times this router stopped reading its other links for a full one.",
	             "counter");
	fprintf(out, "peercdn_overlay_reading_held_total %llu\n",
	        (unsigned long long)ld(&o->holds));
	counter_head(out, "reading_held", "Whether reading is held now.", "gauge");
	fprintf(out, "peercdn_overlay_reading_held %llu\n", (unsigned long long)ld(&o->held));
	counter_head(out, "leaving",
	             "Whether this router is stopping: it said GOODBYE and forwards until its "
	             "children have moved.",
	             "gauge");
	fprintf(out, "peercdn_overlay_leaving %d\n",
	        atomic_load(&o->leave_asked) && !atomic_load(&o->gone));
	counter_head(out, "unknown_peers_total",
	             "Accepted connections whose first frame named no configured neighbour.",
	             "counter");
	fprintf(out, "peercdn_overlay_unknown_peers_total %llu\n",
	        (unsigned long long)ld(&o->unknown_peers));
	static const char *const lsdb_names[9] = {
	    "installed",          "older",          "duplicate",     "flushed", "expired",
	    "rejected_malformed", "rejected_links", "rejected_full", "spf_runs"};
	counter_head(out, "lsdb_total", "Link-state database events.", "counter");
	for (unsigned i = 0; i < 9; i++)
		fprintf(out, "peercdn_overlay_lsdb_total{event=\"%s\"} %llu\n", lsdb_names[i],
		        (unsigned long long)ld(&o->lsdb_m[i]));
	fprintf(out,
	        "peercdn_overlay_lsdb_total{event=\"flooded\"} %llu\n"
	        "peercdn_overlay_lsdb_total{event=\"resent\"} %llu\n"
	        "peercdn_overlay_lsdb_total{event=\"acks_sent\"} %llu\n",
	        (unsigned long long)ld(&o->lsas_flooded), (unsigned long long)ld(&o->lsas_resent),
	        (unsigned long long)ld(&o->acks_sent));
	static const char *const chan_names[18] = {
	    "joins",         "prunes",       "blocks_in",      "blocks_forwarded",
	    "blocks_resent", "duplicates",   "not_upstream",   "unknown",
	    "gaps",          "overflows",    "rejected_joins", "channels_pruned",
	    "reroutes",      "refreshes",    "joins_expired",  "new_epochs",
	    "stale_epochs",  "epochs_raised"};
	counter_head(out, "channel_total", "Channel events (overlay_channel).", "counter");
	for (unsigned i = 0; i < 18; i++)
		fprintf(out, "peercdn_overlay_channel_total{event=\"%s\"} %llu\n", chan_names[i],
		        (unsigned long long)ld(&o->chan_m[i]));
	counter_head(out, "records_total", "LOAD records received, by what became of them.",
	             "counter");
	fprintf(out,
	        "peercdn_overlay_records_total{result=\"applied\"} %llu\n"
	        "peercdn_overlay_records_total{result=\"stale\"} %llu\n"
	        "peercdn_overlay_records_total{result=\"refused\"} %llu\n",
	        (unsigned long long)ld(&o->records_applied),
	        (unsigned long long)ld(&o->records_stale),
	        (unsigned long long)ld(&o->records_refused));
	counter_head(out, "load_blocks_published_total", "Blocks of LOAD records published.",
	             "counter");
	fprintf(out, "peercdn_overlay_load_blocks_published_total %llu\n",
	        (unsigned long long)ld(&o->blocks_published));
	counter_head(out, "route_parent", "The next hop toward each reachable router.", "gauge");
	pthread_mutex_lock(&o->routes_lock);
	for (unsigned i = 0; i < o->n_routes; i++)
		fprintf(out, "peercdn_overlay_route_parent{destination=\"%u\"} %u\n",
		        o->routes[i].destination, o->routes[i].parent);
	pthread_mutex_unlock(&o->routes_lock);
	counter_head(out, "lsa_held",
	             "The routers whose LSA this router holds (1 each); a router behind a "
	             "peering link's border is routed by the border's summary instead.",
	             "gauge");
	pthread_mutex_lock(&o->routes_lock);
	for (unsigned i = 0; i < o->n_lsa_origins; i++)
		fprintf(out, "peercdn_overlay_lsa_held{origin=\"%u\"} 1\n", o->lsa_origins[i]);
	pthread_mutex_unlock(&o->routes_lock);
	ovl_groups_metrics(o->groups, out);
}

const struct pcd_role pcd_role_overlay = {
    .name = "overlay",
    .settings = &pc_overlay_section,
    .start = overlay_start,
    .stop = overlay_stop,
    .listen = overlay_listen,
    .needs_restart = overlay_needs_restart,
    .state_size = sizeof(struct overlay_worker),
    .open = overlay_open,
    .close = overlay_close,
    .leave = overlay_leave,
    .left = overlay_left,
    .metrics = overlay_metrics,
};
