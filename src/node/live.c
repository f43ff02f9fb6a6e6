/* live: the hub of the edge's live streams (node/live.h) — each channel's
 * ring of recent segments, worker 0's side (the mailbox of blocks to
 * publish, subscriptions, failover between injection points) and the
 * players (progressive MPEG-TS, HLS playlists and segments). Ingest and
 * the segmenter are live_ingest.c's. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "lib/base/buf.h"
#include "lib/base/err.h"
#include "lib/proto/cors.h"
#include "lib/proto/edge_route.h"
#include "lib/proto/hls.h"
#include "lib/proto/http_msg.h"
#include "lib/proto/live_block.h"
#include "lib/proto/overlay_lsdb.h"
#include "node/edge_client.h"
#include "node/edge_internal.h"
#include "node/live.h"
#include "node/live_cascade.h"
#include "node/live_internal.h"
#include "node/log.h"
#include "node/overlay.h"

enum {
	MAX_CHANNELS = 64,
	MAX_SEGS = 128,      /* per ring, whatever their size */
	MAILBOX = 256,       /* blocks waiting for worker 0 */
	MAX_SOURCES = 4,     /* injection points per provider */
	HLS_WAIT_MS = 15000, /* a first playlist waits this long for segments */
	HLS_MIN_SEGS = 2,    /* segments a playlist needs before it is served */
};

static const char *const counter_names[] = {
    "ingest_started", "ingest_ended",    "ingest_forbidden", "ingest_malformed", "ingest_timeouts",
    "blocks_queued",  "blocks_shed",     "blocks_published", "blocks_received",  "blocks_skipped",
    "segments",       "players",         "players_shed",     "playlists",        "segment_gets",
    "not_found",      "not_covered",     "subscribes",       "unsubscribes",     "failovers",
    "block_gaps",     "hls_segments_in", "hls_playlists_in", "hls_missing",      "cascade_segments",
    "cascade_failed", "cascade_stalls",  "cascade_started",  "cascade_stopped",  "cascade_refused",
    "cascade_full",
};
_Static_assert(sizeof(counter_names) / sizeof(counter_names[0]) == LC__COUNT,
               "a name for each live counter");

/* A segment's bytes, shared with the connections sending them whole
 * (pcd_conn_out_ref): the ring holds one reference, each such send one
 * more; whoever drops the last frees it. Only a complete segment is
 * shared: the open one grows by realloc. */
struct live_bytes {
	_Atomic unsigned refs;
	uint8_t data[];
};

struct live_seg {
	struct live_bytes *mem;
	uint8_t *data; /* mem->data, or NULL */
	size_t len, cap;
	uint32_t duration_ms;
	bool complete, discontinuity;
};

struct live_chan {
	bool used;
	char name[LIVE_CHANNEL_MAX + 1];
	uint32_t provider;
	/* The ring: segments [first, next), slot seq % MAX_SEGS; the last is
	 * still arriving when open. */
	struct live_seg segs[MAX_SEGS];
	uint64_t first, next;
	bool open, discont;
	uint64_t discont_gone; /* discontinuities of segments no longer held */
	size_t bytes;
	/* Who wants it: progressive players and waiting playlists, the last
	 * request or leave (mono ms), the workers with players. */
	unsigned players;
	uint64_t wanted_ms;
	uint64_t worker_mask;
	/* Worker 0's: where it comes from. */
	uint32_t sources[MAX_SOURCES];
	unsigned n_sources, cur;
	bool subscribed, ended;
	/* The playlist as last written: every request until the ring changes
	 * (ring_gen) gets these bytes, rendered once (for its window and
	 * host). */
	uint64_t ring_gen;
	struct pc_buf playlist;
	uint64_t playlist_gen; /* ring_gen it was written at; 0: none */
	uint32_t playlist_window;
	char playlist_host[PC_HLS_URI_MAX + 1];
	bool routed; /* the overlay had a route to sub_source since we subscribed */
	bool warned; /* a failed subscription was logged */
	uint32_t sub_source;
	uint64_t last_seq; /* the overlay's block number last taken; 0: none since subscribing */
	struct pc_live_block prev; /* the last block taken (its ts not kept) */
	bool has_prev;
	uint64_t last_block_ms;
};

struct live_msg {
	char channel[LIVE_CHANNEL_MAX + 1];
	uint8_t *payload;
	size_t len;
};

struct live_pending {
	char key[LIVE_CHANNEL_MAX + 1];
	uint8_t *data;
	size_t len;
	uint64_t order;
};

struct live_hls_stream {
	char channel[LIVE_CHANNEL_MAX + 16];
	uint64_t next; /* media sequence number */
};

struct live_push {
	char channel[LIVE_CHANNEL_MAX + 1];
	uint64_t ms; /* mono: its last block */
};

struct live_hub {
	struct pcd_node *node;
	struct edge_shared *shared;
	pthread_mutex_t lock; /* chans, the mailbox */
	struct live_chan chans[MAX_CHANNELS];
	struct live_msg box[MAILBOX];
	unsigned box_head, box_n;
	size_t ring_bytes; /* worker 0 copies the settings here at each tick */
	uint32_t linger_ms, failover_ms;
	struct live_conn *conns[PC_MAX_WORKERS]; /* each worker's own */
	struct live_pending pending[LIVE_HLS_PENDING];
	uint64_t pending_order;
	struct live_hls_stream hls[LIVE_HLS_STREAMS];
	unsigned hls_next; /* the slot a new stream takes when all are used */
	_Atomic uint64_t counters[LC__COUNT];
	_Atomic unsigned chans_used; /* worker 0's wake-ups skip the channels while 0 */
	/* A player joined, or a stream ended: worker 0's next wake-up looks
	 * at the channels (manage) rather than its next tick. Its other
	 * wake-ups (a block for its own players, each ~40 ms) do not. */
	_Atomic bool manage_asked;
	struct live_cascade *cascades; /* the feeds this node pulls */
	struct live_push pushes[LIVE_PUSHES];
};

/* ---- small things ---- */

void live_count(struct live_hub *hub, enum live_counter counter)
{
	atomic_fetch_add_explicit(&hub->counters[counter], 1, memory_order_relaxed);
}

struct live_hub *live_hub_of(const struct edge_client *c)
{
	return c->ew->shared->live;
}

static void wake_worker(struct live_hub *hub, unsigned w)
{
	struct edge_worker *ew = hub->shared->workers[w];
	if (ew != NULL && eventfd_write(ew->wake.fd, 1) != 0)
		pcd_log(PCD_LOG_ERROR, "live-wake-failed", "worker=%u errno=%d", w, errno);
}

static void wake_mask(struct live_hub *hub, uint64_t mask)
{
	while (mask != 0) {
		unsigned w = (unsigned)__builtin_ctzll(mask);
		mask &= mask - 1;
		wake_worker(hub, w);
	}
}

/* Worker 0 looks at the channels at its next wake-up, now. */
static void ask_manage(struct live_hub *hub)
{
	atomic_store_explicit(&hub->manage_asked, true, memory_order_release);
	wake_worker(hub, 0);
}

static struct live_chan *find_chan(struct live_hub *hub, const char *name)
{
	for (int i = 0; i < MAX_CHANNELS; i++)
		if (hub->chans[i].used && strcmp(hub->chans[i].name, name) == 0)
			return &hub->chans[i];
	return NULL;
}

/* The hub's channel of an overlay channel "<stream>/<source id>". */
static struct live_chan *chan_of_overlay(struct live_hub *hub, const char *channel)
{
	const char *slash = strrchr(channel, '/');
	size_t len = slash != NULL ? (size_t)(slash - channel) : 0;
	for (int i = 0; i < MAX_CHANNELS; i++)
		if (hub->chans[i].used && strlen(hub->chans[i].name) == len &&
		    memcmp(hub->chans[i].name, channel, len) == 0)
			return &hub->chans[i];
	return NULL;
}

static struct live_seg *seg_at(struct live_chan *ch, uint64_t seq)
{
	return &ch->segs[seq % MAX_SEGS];
}

static void bytes_release(void *arg)
{
	struct live_bytes *mem = arg;
	if (mem != NULL && atomic_fetch_sub_explicit(&mem->refs, 1, memory_order_acq_rel) == 1)
		free(mem);
}

static void drop_oldest(struct live_chan *ch)
{
	struct live_seg *s = seg_at(ch, ch->first);
	ch->discont_gone += s->discontinuity;
	ch->bytes -= s->len;
	bytes_release(s->mem);
	*s = (struct live_seg){0};
	ch->first++;
	ch->ring_gen++;
}

static void chan_clear(struct live_chan *ch)
{
	while (ch->first < ch->next)
		drop_oldest(ch);
	pc_buf_free(&ch->playlist);
	*ch = (struct live_chan){0};
}

bool live_delivers(const pc_model *m, uint32_t provider, uint32_t cdn)
{
	if (provider >= m->n_providers || cdn >= m->n_cdns)
		return false;
	uint32_t live = PC_NONE;
	for (uint32_t s = 0; s < m->n_services; s++)
		if (strcmp(m->services[s].name, "live") == 0)
			live = s;
	const struct pc_index_list *primary = &m->providers[provider].primary_cdns;
	for (uint32_t i = 0; i < primary->count; i++) {
		uint32_t p = primary->items[i];
		if (p == cdn)
			return true;
		for (uint32_t a = 0; live != PC_NONE && a < m->n_agreements; a++) {
			const struct pc_agreement *ag = &m->agreements[a];
			if (((ag->cdn_a == p && ag->cdn_b == cdn) ||
			     (ag->cdn_b == p && ag->cdn_a == cdn)) &&
			    (ag->service_mask >> live & 1))
				return true;
		}
	}
	return false;
}

/* ---- the hub ---- */

int live_hub_new(struct pcd_node *node, struct edge_shared *shared, struct live_hub **out)
{
	struct live_hub *hub = calloc(1, sizeof(*hub));
	if (hub == NULL)
		return -ENOMEM;
	hub->node = node;
	hub->shared = shared;
	hub->ring_bytes = 8u << 20;
	hub->linger_ms = 10000;
	hub->failover_ms = 3000;
	pthread_mutex_init(&hub->lock, NULL);
	*out = hub;
	return 0;
}

void live_hub_start_cascades(struct live_hub *hub, const struct pc_edge_params *params)
{
	(void)params; /* the pulls start as their streams are watched (live_tick) */
	if (hub != NULL && hub->cascades == NULL)
		hub->cascades = live_cascade_new(hub, hub->node);
}

void live_hub_free(struct live_hub *hub)
{
	if (hub == NULL)
		return;
	live_cascade_stop(hub->cascades); /* they post blocks: first */
	for (int i = 0; i < MAX_CHANNELS; i++)
		chan_clear(&hub->chans[i]);
	for (unsigned i = 0; i < hub->box_n; i++)
		free(hub->box[(hub->box_head + i) % MAILBOX].payload);
	for (unsigned i = 0; i < LIVE_HLS_PENDING; i++)
		free(hub->pending[i].data);
	pthread_mutex_destroy(&hub->lock);
	free(hub);
}

struct live_conn *live_conn_new(struct edge_client *c, enum live_kind kind)
{
	struct live_conn *lc = calloc(1, sizeof(*lc));
	if (lc == NULL)
		return NULL;
	lc->c = c;
	lc->hub = live_hub_of(c);
	lc->worker = c->ew->worker->index;
	lc->kind = kind;
	lc->chan = -1;
	lc->next = lc->hub->conns[lc->worker];
	if (lc->next != NULL)
		lc->next->prev = lc;
	lc->hub->conns[lc->worker] = lc;
	c->live = lc;
	return lc;
}

static void conn_unlink(struct live_conn *lc)
{
	if (lc->prev != NULL)
		lc->prev->next = lc->next;
	else
		lc->hub->conns[lc->worker] = lc->next;
	if (lc->next != NULL)
		lc->next->prev = lc->prev;
	lc->prev = lc->next = NULL;
}

/* A player (or a waiting playlist) leaves its channel. */
static void player_leave(struct live_conn *lc)
{
	if (lc->chan < 0)
		return;
	struct live_hub *hub = lc->hub;
	pthread_mutex_lock(&hub->lock);
	struct live_chan *ch = &hub->chans[lc->chan];
	ch->players--;
	ch->wanted_ms = pcd_mono_ms();
	pthread_mutex_unlock(&hub->lock);
	lc->chan = -1;
}

void live_client_free(struct edge_client *c)
{
	struct live_conn *lc = c->live;
	if (lc == NULL)
		return;
	c->live = NULL;
	conn_unlink(lc);
	player_leave(lc);
	if (lc->in != NULL) {
		live_ingest_finish(lc->hub, lc->in);
		live_ingest_free(lc->in);
	}
	free(lc);
}

/* ---- HLS ingest's segments ---- */

void live_hls_store(struct live_hub *hub, const char *key, uint8_t *data, size_t len)
{
	pthread_mutex_lock(&hub->lock);
	struct live_pending *slot = &hub->pending[0];
	for (unsigned i = 0; i < LIVE_HLS_PENDING; i++) {
		struct live_pending *p = &hub->pending[i];
		if (p->data != NULL && strcmp(p->key, key) == 0) {
			slot = p; /* sent again: the newer wins */
			break;
		}
		if (p->data == NULL || (slot->data != NULL && p->order < slot->order))
			slot = p;
	}
	uint8_t *old = slot->data;
	snprintf(slot->key, sizeof(slot->key), "%s", key);
	slot->data = data;
	slot->len = len;
	slot->order = ++hub->pending_order;
	pthread_mutex_unlock(&hub->lock);
	free(old);
}

uint8_t *live_hls_take(struct live_hub *hub, const char *key, size_t *len)
{
	uint8_t *data = NULL;
	pthread_mutex_lock(&hub->lock);
	for (unsigned i = 0; i < LIVE_HLS_PENDING; i++) {
		struct live_pending *p = &hub->pending[i];
		if (p->data != NULL && strcmp(p->key, key) == 0) {
			data = p->data;
			*len = p->len;
			p->data = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&hub->lock);
	return data;
}

/* The stream's slot, made when missing (the oldest made goes). Lock held. */
static struct live_hls_stream *hls_stream(struct live_hub *hub, const char *channel)
{
	for (unsigned i = 0; i < LIVE_HLS_STREAMS; i++)
		if (strcmp(hub->hls[i].channel, channel) == 0)
			return &hub->hls[i];
	struct live_hls_stream *st = &hub->hls[hub->hls_next++ % LIVE_HLS_STREAMS];
	snprintf(st->channel, sizeof(st->channel), "%s", channel);
	st->next = 0;
	return st;
}

uint64_t live_hls_next(struct live_hub *hub, const char *channel)
{
	pthread_mutex_lock(&hub->lock);
	uint64_t next = hls_stream(hub, channel)->next;
	pthread_mutex_unlock(&hub->lock);
	return next;
}

void live_hls_set_next(struct live_hub *hub, const char *channel, uint64_t next)
{
	pthread_mutex_lock(&hub->lock);
	hls_stream(hub, channel)->next = next;
	pthread_mutex_unlock(&hub->lock);
}

/* ---- encoders' streams, for the cascade ---- */

void live_note_pushed(struct live_hub *hub, const char *channel)
{
	pthread_mutex_lock(&hub->lock);
	struct live_push *slot = &hub->pushes[0];
	for (unsigned i = 0; i < LIVE_PUSHES; i++) {
		struct live_push *p = &hub->pushes[i];
		if (strcmp(p->channel, channel) == 0) {
			slot = p;
			break;
		}
		if (p->ms < slot->ms)
			slot = p; /* the one pushed to longest ago goes */
	}
	snprintf(slot->channel, sizeof(slot->channel), "%s", channel);
	slot->ms = pcd_mono_ms();
	pthread_mutex_unlock(&hub->lock);
}

bool live_pushed_since(struct live_hub *hub, const char *channel, uint64_t since_ms)
{
	bool pushed = false;
	pthread_mutex_lock(&hub->lock);
	for (unsigned i = 0; i < LIVE_PUSHES && !pushed; i++)
		pushed = hub->pushes[i].ms >= since_ms && hub->pushes[i].ms != 0 &&
		         strcmp(hub->pushes[i].channel, channel) == 0;
	pthread_mutex_unlock(&hub->lock);
	return pushed;
}

/* ---- the mailbox: any worker to worker 0 ---- */

void live_post_block(struct live_hub *hub, const char *channel, const uint8_t *payload, size_t len)
{
	uint8_t *copy = malloc(len);
	bool queued = false;
	if (copy != NULL) {
		memcpy(copy, payload, len);
		pthread_mutex_lock(&hub->lock);
		if (hub->box_n < MAILBOX) {
			struct live_msg *m = &hub->box[(hub->box_head + hub->box_n++) % MAILBOX];
			snprintf(m->channel, sizeof(m->channel), "%s", channel);
			m->payload = copy;
			m->len = len;
			queued = true;
		}
		pthread_mutex_unlock(&hub->lock);
	}
	if (!queued) {
		free(copy);
		live_count(hub, LC_BLOCKS_SHED);
		return;
	}
	live_count(hub, LC_BLOCKS_QUEUED);
	wake_worker(hub, 0);
}

static void drain_mailbox(struct live_hub *hub)
{
	for (;;) {
		struct live_msg m;
		pthread_mutex_lock(&hub->lock);
		bool any = hub->box_n > 0;
		if (any) {
			m = hub->box[hub->box_head];
			hub->box_head = (hub->box_head + 1) % MAILBOX;
			hub->box_n--;
		}
		pthread_mutex_unlock(&hub->lock);
		if (!any)
			return;
		int rc = pcd_overlay_publish(hub->node, m.channel, m.payload, m.len);
		live_count(hub, rc == 0 ? LC_BLOCKS_PUBLISHED : LC_BLOCKS_SHED);
		free(m.payload);
	}
}

/* ---- deliveries (worker 0) ---- */

static bool seg_append(struct live_seg *s, const uint8_t *data, size_t len)
{
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 65536;
		while (cap < s->len + len)
			cap *= 2;
		struct live_bytes *mem = realloc(s->mem, sizeof(*mem) + cap);
		if (mem == NULL)
			return false;
		if (s->mem == NULL)
			atomic_init(&mem->refs, 1); /* the ring's */
		s->mem = mem;
		s->data = mem->data;
		s->cap = cap;
	}
	memcpy(s->data + s->len, data, len);
	s->len += len;
	return true;
}

/* Closes the open segment, whole or cut short (its source went away). */
static void seg_close(struct live_hub *hub, struct live_chan *ch, uint32_t duration_ms)
{
	if (!ch->open)
		return;
	struct live_seg *s = seg_at(ch, ch->next - 1);
	s->complete = true;
	s->duration_ms = duration_ms;
	ch->open = false;
	ch->ring_gen++;
	live_count(hub, LC_SEGMENTS);
}

/* Opens the next segment of the ring. */
static void seg_open(struct live_chan *ch, bool discontinuity)
{
	if (ch->next - ch->first == MAX_SEGS)
		drop_oldest(ch);
	struct live_seg *s = seg_at(ch, ch->next++);
	*s = (struct live_seg){.discontinuity = discontinuity || ch->discont};
	ch->discont = false;
	ch->open = true;
	ch->ring_gen++;
}

/* One block of a channel into its ring (lib/proto/live_block: what to do
 * with it given the one before). Called with the lock held. */
static void take_block(struct live_hub *hub, struct live_chan *ch, const uint8_t *payload,
                       size_t len)
{
	struct pc_live_block b;
	if (pc_live_block_decode(payload, len, &b) != 0) {
		live_count(hub, LC_BLOCKS_SKIPPED);
		return;
	}
	if (b.ts_len == 0) { /* an end-of-stream mark alone */
		seg_close(hub, ch, 0);
		ch->ended = true;
		ch->discont = true;
		ch->has_prev = false;
		return;
	}
	switch (pc_live_block_step(ch->has_prev ? &ch->prev : NULL, &b)) {
	case PC_LIVE_STEP_ABANDON:
		/* Its players have part of it; a playlist lists it cut short,
		 * and what follows as a discontinuity. */
		seg_close(hub, ch, 0);
		seg_open(ch, true);
		break;
	case PC_LIVE_STEP_START:
		seg_close(hub, ch, 0); /* none open unless the source changed */
		seg_open(ch, b.flags & PC_LIVE_DISCONTINUITY);
		break;
	case PC_LIVE_STEP_CONTINUE:
		break;
	case PC_LIVE_STEP_SKIP:
	default:
		seg_close(hub, ch, 0);
		live_count(hub, LC_BLOCKS_SKIPPED);
		ch->has_prev = false;
		return;
	}
	ch->prev = b;
	ch->prev.ts = NULL;
	ch->has_prev = true;
	if (ch->open) {
		struct live_seg *s = seg_at(ch, ch->next - 1);
		if (!seg_append(s, b.ts, b.ts_len)) {
			seg_close(hub, ch, 0); /* cut: the rest of it is skipped */
			ch->has_prev = false;
		} else {
			ch->bytes += b.ts_len;
		}
		if (b.flags & PC_LIVE_SEG_END)
			seg_close(hub, ch, b.duration_ms);
	}
	if (b.flags & PC_LIVE_END_OF_STREAM) {
		seg_close(hub, ch, 0);
		ch->ended = true;
		ch->discont = true;
		ch->has_prev = false;
	}
	/* Bounded in bytes: the oldest go, never the one arriving. */
	while (ch->bytes > hub->ring_bytes && ch->next - ch->first > 1)
		drop_oldest(ch);
	if (ch->bytes > hub->ring_bytes && ch->open) { /* one segment over the whole ring */
		seg_close(hub, ch, 0);
		drop_oldest(ch);
	}
}

static void on_block(void *arg, const char *channel, uint32_t source, uint64_t seq,
                     const uint8_t *payload, size_t len)
{
	struct live_hub *hub = arg;
	uint64_t mask = 0;
	bool ended = false;
	pthread_mutex_lock(&hub->lock);
	struct live_chan *ch = chan_of_overlay(hub, channel);
	if (ch != NULL && ch->subscribed && ch->sub_source == source) {
		bool was_ended = ch->ended;
		live_count(hub, LC_BLOCKS_RECEIVED);
		/* The overlay promises each block once, in order, across
		 * reroutes: anything else is counted (tests assert none). */
		if (ch->last_seq != 0 && seq != ch->last_seq + 1)
			live_count(hub, LC_BLOCK_GAPS);
		ch->last_seq = seq;
		ch->last_block_ms = pcd_mono_ms();
		take_block(hub, ch, payload, len);
		mask = ch->worker_mask;
		ended = ch->ended && !was_ended;
	}
	pthread_mutex_unlock(&hub->lock);
	if (ended)
		ask_manage(hub); /* the next injection point now, not at the tick */
	wake_mask(hub, mask);
}

/* ---- subscriptions (worker 0) ---- */

/* The injection points of provider from edge.live.sources, as router ids. */
static unsigned sources_of(const struct pc_edge_params *params, const pc_model *m,
                           uint32_t provider, uint32_t out[MAX_SOURCES])
{
	const char *name = m->providers[provider].name;
	size_t name_len = strlen(name);
	unsigned n = 0;
	for (uint32_t i = 0; i < params->live_sources_text.count; i++) {
		const char *text = params->live_sources_text.items[i];
		if (strncmp(text, name, name_len) != 0 || text[name_len] != '=')
			continue;
		const char *p = text + name_len + 1;
		while (*p != '\0' && n < MAX_SOURCES) {
			const char *end = strchr(p, ',');
			size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
			char node[128];
			if (len > 0 && len < sizeof(node)) {
				memcpy(node, p, len);
				node[len] = '\0';
				out[n++] = pc_overlay_router_id(node);
			}
			p += len + (end != NULL);
		}
	}
	return n;
}

enum action { ACT_NONE, ACT_SUBSCRIBE, ACT_SWITCH, ACT_LEAVE };

/* Whether the overlay lost its route to the channel's injection point
 * since it had one (its router said GOODBYE, or died with no way around):
 * its stream cannot come, so no need to wait for failover_ms. */
static bool source_lost(struct live_hub *hub, struct live_chan *ch)
{
	struct pcd_overlay_hop hop;
	int rc = pcd_overlay_route_to(hub->node, ch->sub_source, &hop);
	bool routed = rc == 0 || rc == -EEXIST;
	bool lost = ch->routed && !routed;
	ch->routed = routed;
	return lost;
}

/* Keeps each channel subscribed while it is wanted, from its current
 * injection point, and moves to the next one when that one ends, goes
 * silent for failover_ms, or the overlay has no route to it any more
 * (docs/live.md, "Failover"). */
static void manage(struct live_hub *hub, const struct pc_edge_params *params, uint64_t now)
{
	const pc_model *m = pcd_node_generation(hub->node)->model;
	for (int i = 0; i < MAX_CHANNELS; i++) {
		enum action act = ACT_NONE;
		uint32_t old_source = 0, new_source = 0;
		const char *why = "";
		pthread_mutex_lock(&hub->lock);
		struct live_chan *ch = &hub->chans[i];
		if (!ch->used) {
			pthread_mutex_unlock(&hub->lock);
			continue;
		}
		bool wanted = ch->players > 0 || now - ch->wanted_ms < hub->linger_ms;
		if (ch->n_sources == 0 && ch->provider < m->n_providers)
			ch->n_sources = sources_of(params, m, ch->provider, ch->sources);
		bool lost = ch->subscribed && source_lost(hub, ch);
		if (wanted && !ch->subscribed && ch->n_sources > 0) {
			act = ACT_SUBSCRIBE;
			new_source = ch->sources[ch->cur % ch->n_sources];
			ch->subscribed = true;
			ch->sub_source = new_source;
			ch->last_seq = 0;
			ch->has_prev = false;
			ch->last_block_ms = now;
			ch->ended = false;
			ch->routed = false;
		} else if (wanted && ch->subscribed && ch->n_sources > 1 &&
		           (ch->ended || lost || now - ch->last_block_ms > hub->failover_ms)) {
			act = ACT_SWITCH;
			why = ch->ended ? "ended" : lost ? "unrouted" : "silent";
			ch->routed = false;
			old_source = ch->sub_source;
			ch->cur = (ch->cur + 1) % ch->n_sources;
			new_source = ch->sources[ch->cur];
			ch->sub_source = new_source;
			ch->last_seq = 0;
			ch->has_prev = false;
			ch->last_block_ms = now;
			ch->ended = false;
			seg_close(hub, ch, 0);
			ch->discont = true;
		} else if (!wanted && ch->subscribed) {
			act = ACT_LEAVE;
			old_source = ch->sub_source;
			ch->subscribed = false;
		} else if (!wanted && ch->players == 0) {
			chan_clear(ch); /* nobody wants it and nothing comes: forget it */
			atomic_fetch_sub_explicit(&hub->chans_used, 1, memory_order_relaxed);
		}
		char stream[LIVE_CHANNEL_MAX + 1];
		memcpy(stream, ch->name, sizeof(stream));
		pthread_mutex_unlock(&hub->lock);
		/* On the overlay each injection point's stream is its own channel,
		 * "<stream>/<source id>" (a channel name has one source). */
		char name[LIVE_CHANNEL_MAX + 16];
		/* Outside the lock: subscribing delivers the window at once. */
		if (act == ACT_SWITCH || act == ACT_LEAVE) {
			snprintf(name, sizeof(name), "%s/%08" PRIx32, stream, old_source);
			pcd_overlay_unsubscribe(hub->node, name, old_source);
			live_count(hub, LC_UNSUBSCRIBES);
		}
		if (act == ACT_SWITCH) {
			live_count(hub, LC_FAILOVERS);
			pcd_log(PCD_LOG_INFO, "live-failover",
			        "channel=%s from=%" PRIu32 " to=%" PRIu32 " why=%s", name,
			        old_source, new_source, why);
		}
		if (act == ACT_SUBSCRIBE || act == ACT_SWITCH) {
			snprintf(name, sizeof(name), "%s/%08" PRIx32, stream, new_source);
			int rc = pcd_overlay_subscribe(hub->node, name, new_source, on_block, hub);
			if (rc == 0 || rc == -EEXIST) {
				live_count(hub, LC_SUBSCRIBES);
			} else { /* tried again at the next turn; said once */
				pthread_mutex_lock(&hub->lock);
				bool said = ch->warned;
				ch->warned = true;
				if (ch->used && ch->sub_source == new_source)
					ch->subscribed = false;
				pthread_mutex_unlock(&hub->lock);
				if (!said)
					pcd_log(PCD_LOG_WARNING, "live-subscribe-failed",
					        "channel=%s error=%d", name, rc);
			}
		}
	}
}

/* ---- players (each worker) ---- */

static bool path_is(const char *p, size_t len, const char *prefix)
{
	return len >= strlen(prefix) && memcmp(p, prefix, strlen(prefix)) == 0;
}

bool live_target(const struct edge_client *c)
{
	return !c->directory && path_is(c->path, c->path_len, "/live/");
}

/* "/live/<name>" + suffix: the name's span, checked. */
static bool stream_name(const char *p, size_t len, const char **name, size_t *name_len)
{
	const char *q = memchr(p, '?', len);
	if (q != NULL)
		len = (size_t)(q - p);
	p += 6;
	len -= 6;
	*name = p;
	size_t n = 0;
	while (n < len && (p[n] == '-' || p[n] == '_' || (p[n] >= 'a' && p[n] <= 'z') ||
	                   (p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9')))
		n++;
	*name_len = n;
	return n > 0 && n <= LIVE_NAME_MAX;
}

/* The answer's head; false (nothing of it left in the output) when the
 * output could not take it: the caller aborts the connection. */
static bool player_head(struct edge_client *c, unsigned status, const char *type, size_t length,
                        bool close)
{
	char date[PC_HTTP_DATE_SIZE];
	pc_http_date_format((int64_t)(pcd_now_ms() / 1000), date);
	struct pc_buf *out = pcd_conn_out(c->conn);
	size_t before = out->len;
	char len_field[48] = "";
	if (!close)
		snprintf(len_field, sizeof(len_field), "Content-Length: %zu\r\n", length);
	else
		c->keep_alive = false;
	bool ok = pc_buf_printf(out,
	                        "HTTP/1.1 %u %s\r\nDate: %s\r\nServer: peercdn\r\nContent-Type: "
	                        "%s\r\nCache-Control: no-cache\r\n%s%s",
	                        status, pc_http_reason(status), date, type, len_field,
	                        c->keep_alive ? "" : "Connection: close\r\n") &&
	          edge_client_cors(c, out) && pc_buf_append(out, "\r\n", 2);
	if (!ok) {
		out->len = before;
		return false;
	}
	c->head_bytes += out->len - before;
	c->status = status;
	c->result = EDGE_HIT;
	c->head_sent = true;
	return true;
}

static void answer_body(struct edge_client *c, const char *type, const void *body, size_t len)
{
	if (!player_head(c, 200, type, len, false)) {
		edge_client_abort(c);
		return;
	}
	if (!c->head_only) {
		if (!pc_buf_append(pcd_conn_out(c->conn), body, len)) {
			edge_client_abort(c);
			return;
		}
		c->bytes_out += len;
	}
	edge_client_finish(c);
}

/* The channel slot for provider's stream name, made when missing. Called
 * with the lock held; -1 when every slot is taken. */
static int chan_slot(struct live_hub *hub, uint32_t provider, const char *channel)
{
	struct live_chan *ch = find_chan(hub, channel);
	if (ch != NULL)
		return (int)(ch - hub->chans);
	for (int i = 0; i < MAX_CHANNELS; i++)
		if (!hub->chans[i].used) {
			ch = &hub->chans[i];
			*ch = (struct live_chan){.used = true, .provider = provider};
			atomic_fetch_add_explicit(&hub->chans_used, 1, memory_order_relaxed);
			snprintf(ch->name, sizeof(ch->name), "%s", channel);
			return i;
		}
	return -1;
}

/* Writes the playlist of ch (at least HLS_MIN_SEGS complete segments)
 * into out through lib/proto/hls's writer; false when there are not
 * enough yet (or memory runs out). Lock held. */
static bool playlist(struct live_chan *ch, const char *name, size_t name_len, uint32_t window,
                     const char *host, struct pc_buf *out)
{
	uint64_t last = ch->open ? ch->next - 1 : ch->next; /* complete: [first, last) */
	if (last < ch->first || last - ch->first < HLS_MIN_SEGS)
		return false;
	uint64_t from = last - ch->first > window ? last - window : ch->first;
	/* RFC 8216 §4.3.3.3: the discontinuities that slid out of the window. */
	uint64_t dseq = ch->discont_gone;
	for (uint64_t s = ch->first; s < from; s++)
		dseq += seg_at(ch, s)->discontinuity;
	enum { URI_MAX = LIVE_CHANNEL_MAX + 32 }; /* "<name>/<seq>.ts" */
	struct pc_hls_segment segs[MAX_SEGS];
	char uris[MAX_SEGS][URI_MAX];
	size_t n = 0;
	for (uint64_t s = from; s < last && n < MAX_SEGS; s++, n++) {
		const struct live_seg *seg = seg_at(ch, s);
		int len = snprintf(uris[n], URI_MAX, "%.*s/%" PRIu64 ".ts", (int)name_len, name, s);
		segs[n] = (struct pc_hls_segment){
		    .uri = uris[n],
		    .uri_len = len > 0 && len < URI_MAX ? (size_t)len : 0,
		    .duration_ms = seg->duration_ms ? seg->duration_ms : 1000,
		    .seq = s,
		    .discontinuity = seg->discontinuity,
		};
	}
	/* Absolute in the CDN form when the provider has an origin host: a
	 * playlist reached through a directory name resolves them too. */
	char prefix[PC_HLS_URI_MAX + 1] = "";
	if (host)
		snprintf(prefix, sizeof(prefix), "/%s/live/", host);
	struct pc_hls_live live = {
	    .segs = segs, .n = n, .discontinuity_sequence = dseq, .uri_prefix = prefix};
	size_t cap = 160 + n * (strlen(prefix) + URI_MAX + 48);
	if (!pc_buf_reserve(out, cap))
		return false;
	int len = pc_hls_write_live(&live, out->data + out->len, cap);
	if (len < 0) {
		pcd_log(PCD_LOG_WARNING, "live-playlist-failed", "channel=%s err=%s", ch->name,
		        pc_strerror(len));
		return false;
	}
	out->len += (size_t)len;
	return true;
}

/* Answers a waiting or new playlist request when its channel has enough
 * segments: true when answered. */
/* The playlist of the channel in slot into text (the caller frees it),
 * when it has enough segments; the channel counts as asked for. */
static bool make_playlist(struct edge_client *c, int slot, const char *name, size_t name_len,
                          struct pc_buf *text)
{
	struct live_hub *hub = live_hub_of(c);
	const pc_model *m = pcd_node_generation(c->ew->room->node)->model;
	pthread_mutex_lock(&hub->lock);
	struct live_chan *ch = &hub->chans[slot];
	ch->wanted_ms = pcd_mono_ms();
	const char *host =
	    ch->provider < m->n_providers && m->providers[ch->provider].n_origin_hosts
	        ? m->providers[ch->provider].origin_hosts[0]
	        : NULL;
	uint32_t window = edge_params(c->ew)->live_window;
	bool cached = ch->playlist.len > 0 && ch->playlist_gen == ch->ring_gen &&
	              ch->playlist_window == window &&
	              strcmp(ch->playlist_host, host != NULL ? host : "") == 0;
	if (!cached) {
		ch->playlist.len = 0;
		cached = playlist(ch, name, name_len, window, host, &ch->playlist);
		if (cached) {
			ch->playlist_gen = ch->ring_gen;
			ch->playlist_window = window;
			snprintf(ch->playlist_host, sizeof(ch->playlist_host), "%s",
			         host != NULL ? host : "");
		} else {
			ch->playlist.len = 0;
		}
	}
	bool ready = cached && pc_buf_append(text, ch->playlist.data, ch->playlist.len);
	pthread_mutex_unlock(&hub->lock);
	return ready;
}

static void send_playlist(struct edge_client *c, struct pc_buf *text)
{
	live_count(live_hub_of(c), LC_PLAYLISTS);
	answer_body(c, "application/vnd.apple.mpegurl", text->data, text->len);
	pc_buf_free(text);
}

/* Answers a new playlist request when its channel has enough segments:
 * true when answered. */
static bool try_playlist(struct edge_client *c, int slot, const char *name, size_t name_len)
{
	struct pc_buf text = {0};
	if (!make_playlist(c, slot, name, name_len, &text)) {
		pc_buf_free(&text);
		return false;
	}
	send_playlist(c, &text);
	return true;
}

/* Copies what the player has not had yet into its output; sheds it when
 * it does not keep up. With flush_ms, new bytes wait until the first of
 * them has waited that long, or its segment is complete: a write (and
 * the kernel's work for it) per flush_ms rather than per block, which is
 * most of a progressive player's cost. *sent: bytes queued. Returns false
 * when it was shed (c may be gone). */
static bool feed(struct live_conn *lc, size_t max_unsent, uint32_t flush_ms, uint64_t now_ms,
                 size_t *queued)
{
	struct edge_client *c = lc->c;
	struct live_hub *hub = lc->hub;
	struct pc_buf *out = pcd_conn_out(c->conn);
	bool shed = false;
	size_t sent = 0;
	*queued = 0;
	pthread_mutex_lock(&hub->lock);
	struct live_chan *ch = &hub->chans[lc->chan];
	bool hold = false;
	if (flush_ms > 0 && lc->seg >= ch->first && lc->seg < ch->next &&
	    !seg_at(ch, lc->seg)->complete && seg_at(ch, lc->seg)->len > lc->off) {
		/* Something new, its segment still open: hold it for a while. */
		if (lc->held_since_ms == 0)
			lc->held_since_ms = now_ms;
		hold = now_ms - lc->held_since_ms < flush_ms;
	}
	if (hold) {
		/* held: the next wake-up (a block, or the tick) looks again */
	} else if (lc->seg < ch->first) {
		shed = true; /* its position left the ring */
	} else {
		lc->held_since_ms = 0;
		while (lc->seg < ch->next) {
			const struct live_seg *s = seg_at(ch, lc->seg);
			size_t n = s->len - lc->off;
			if (n > 0 && pcd_conn_unsent(c->conn) > max_unsent) {
				shed = true;
				break;
			}
			if (n > 0 && !pc_buf_append(out, s->data + lc->off, n)) {
				shed = true;
				break;
			}
			sent += n;
			lc->off += n;
			if (!s->complete)
				break;
			lc->seg++;
			lc->off = 0;
		}
	}
	pthread_mutex_unlock(&hub->lock);
	c->bytes_out += sent;
	*queued = sent;
	if (shed) {
		live_count(hub, LC_PLAYERS_SHED);
		pcd_log(PCD_LOG_INFO, "live-player-shed", "channel=%s", ch->name);
		edge_client_abort(c);
		return false;
	}
	return true;
}

static void begin_stream(struct edge_client *c, uint32_t provider, const char *channel)
{
	struct live_hub *hub = live_hub_of(c);
	struct live_conn *lc = live_conn_new(c, LIVE_TS);
	if (lc == NULL) {
		edge_client_respond(c, 503, "out of memory");
		return;
	}
	pthread_mutex_lock(&hub->lock);
	int slot = chan_slot(hub, provider, channel);
	if (slot >= 0) {
		struct live_chan *ch = &hub->chans[slot];
		ch->players++;
		ch->worker_mask |= UINT64_C(1) << lc->worker;
		ch->wanted_ms = pcd_mono_ms();
		/* Late joiners start at the newest segment boundary. */
		lc->seg = ch->next > ch->first ? ch->next - 1 : ch->next;
		lc->chan = slot;
	}
	pthread_mutex_unlock(&hub->lock);
	if (slot < 0) {
		edge_client_respond(c, 503, "too many live channels");
		return;
	}
	live_count(hub, LC_PLAYERS);
	ask_manage(hub); /* subscribe now, not at the next tick */
	if (!player_head(c, 200, "video/mp2t", 0, true)) {
		edge_client_abort(c); /* the player goes with the connection */
		return;
	}
	if (c->head_only) {
		edge_client_finish(c);
		return;
	}
	pcd_conn_set_state(c->conn, PCD_CONN_IDLE);
	/* The kernel's buffer too is the player's: bounded the same, so a
	 * player that stops reading is noticed (and shed) within about three
	 * times player_buffer_kb (Linux doubles the value given). */
	int sndbuf = (int)edge_params(c->ew)->live_player_buffer_kb << 10;
	setsockopt(pcd_conn_fd(c->conn), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	size_t queued;
	feed(lc, (size_t)sndbuf, 0, 0, &queued);
}

/* The answer's CORS fields (lib/proto/cors.h): provider's policy for the
 * request's Origin. Browsers' players (hls.js) read the edge's playlists
 * and segments from pages of other origins. */
static void set_cors(struct edge_client *c, uint32_t provider)
{
	const pc_model *m = pcd_node_generation(c->ew->room->node)->model;
	const struct pc_http_field *origin = pc_http_field_find(c->req, "origin", 0);
	c->origin = origin != NULL ? origin->value : NULL;
	c->origin_len = origin != NULL ? origin->value_len : 0;
	c->cors_allow = pc_cors_allow(&edge_params(c->ew)->live_cors_text,
	                              m->providers[provider].name, c->origin, c->origin_len);
	c->cors = true;
}

void live_preflight(struct edge_client *c)
{
	const pc_model *m = pcd_node_generation(c->ew->room->node)->model;
	uint32_t provider = c->provider;
	if (provider >= m->n_providers) {
		edge_client_respond(c, 404, "not a live stream");
		return;
	}
	set_cors(c, provider);
	char date[PC_HTTP_DATE_SIZE];
	pc_http_date_format((int64_t)(pcd_now_ms() / 1000), date);
	struct pc_buf *out = pcd_conn_out(c->conn);
	size_t before = out->len;
	bool ok = pc_buf_printf(out,
	                        "HTTP/1.1 204 No Content\r\nDate: %s\r\nServer: peercdn\r\n"
	                        "Allow: GET, HEAD, OPTIONS\r\n%s",
	                        date, c->keep_alive ? "" : "Connection: close\r\n") &&
	          pc_cors_write_preflight(out, c->cors_allow, c->origin, c->origin_len) &&
	          pc_buf_append(out, "\r\n", 2);
	c->head_bytes += out->len - before;
	c->status = 204;
	c->result = EDGE_HIT;
	if (!ok) {
		edge_client_abort(c);
		return;
	}
	edge_client_finish(c);
}

/* A live request of provider's stream name: rest is what follows the
 * name (".ts", ".m3u8", "/<n>.ts"). */
static void play(struct edge_client *c, uint32_t provider, const char *name, size_t name_len,
                 const char *rest, size_t rest_len)
{
	struct live_hub *hub = live_hub_of(c);
	const pc_model *m = pcd_node_generation(c->ew->room->node)->model;
	set_cors(c, provider);
	bool covered = false;
	if (m->self_node < m->n_nodes) {
		const struct pc_index_list *cdns = &m->nodes[m->self_node].cdns;
		for (uint32_t i = 0; i < cdns->count && !covered; i++)
			covered = live_delivers(m, provider, cdns->items[i]);
	}
	if (!covered) {
		live_count(hub, LC_NOT_COVERED);
		edge_client_respond(c, 403, "the provider's agreements do not cover live here");
		return;
	}
	char channel[LIVE_CHANNEL_MAX + 1];
	snprintf(channel, sizeof(channel), "%s/live/%.*s", m->providers[provider].name,
	         (int)name_len, name);
	if (rest_len == 3 && memcmp(rest, ".ts", 3) == 0) {
		begin_stream(c, provider, channel);
		return;
	}
	if (rest_len == 5 && memcmp(rest, ".m3u8", 5) == 0) {
		pthread_mutex_lock(&hub->lock);
		int slot = chan_slot(hub, provider, channel);
		if (slot >= 0)
			hub->chans[slot].wanted_ms = pcd_mono_ms();
		pthread_mutex_unlock(&hub->lock);
		if (slot < 0) {
			edge_client_respond(c, 503, "too many live channels");
			return;
		}
		if (try_playlist(c, slot, name, name_len))
			return;
		/* Not yet: wait (as a player, so the channel is joined) for the
		 * first segments. */
		struct live_conn *lc = live_conn_new(c, LIVE_HLS_WAIT);
		if (lc == NULL) {
			edge_client_respond(c, 503, "out of memory");
			return;
		}
		pthread_mutex_lock(&hub->lock);
		hub->chans[slot].players++;
		hub->chans[slot].worker_mask |= UINT64_C(1) << lc->worker;
		pthread_mutex_unlock(&hub->lock);
		lc->chan = slot;
		lc->deadline_ms = pcd_mono_ms() + HLS_WAIT_MS;
		memcpy(lc->stream, name, name_len);
		lc->stream[name_len] = '\0';
		ask_manage(hub);
		return;
	}
	/* "<name>/<seq>.ts": a segment from the ring. */
	uint64_t seq = 0;
	size_t i = 1;
	bool ok = rest_len > 4 && rest[0] == '/' && memcmp(rest + rest_len - 3, ".ts", 3) == 0;
	for (; ok && i < rest_len - 3; i++) {
		ok = rest[i] >= '0' && rest[i] <= '9' && seq < UINT64_MAX / 10;
		seq = seq * 10 + (uint64_t)(rest[i] - '0');
	}
	bool found = false;
	struct live_bytes *mem = NULL;
	const uint8_t *data = NULL;
	size_t len = 0;
	if (ok) {
		pthread_mutex_lock(&hub->lock);
		struct live_chan *ch = find_chan(hub, channel);
		if (ch != NULL && seq >= ch->first && seq < ch->next && seg_at(ch, seq)->complete) {
			const struct live_seg *s = seg_at(ch, seq);
			ch->wanted_ms = pcd_mono_ms();
			found = true;
			/* Sent from the ring (a complete segment never moves); our
			 * reference keeps it past its drop from the ring. */
			mem = s->mem;
			data = s->data;
			len = s->len;
			if (mem != NULL)
				atomic_fetch_add_explicit(&mem->refs, 1, memory_order_relaxed);
		}
		pthread_mutex_unlock(&hub->lock);
	}
	if (!found) {
		live_count(hub, LC_NOT_FOUND);
		edge_client_respond(c, 404, "no such live segment (any more)");
		return;
	}
	live_count(hub, LC_SEGMENT_GETS);
	if (!player_head(c, 200, "video/mp2t", len, false)) {
		bytes_release(mem);
		edge_client_abort(c);
		return;
	}
	if (c->head_only) {
		bytes_release(mem);
	} else if (pcd_conn_out_ref(c->conn, data, len, bytes_release, mem) != 0) {
		edge_client_abort(c); /* released */
		return;
	} else {
		c->bytes_out += len;
	}
	edge_client_finish(c);
}

void live_play_begin(struct edge_client *c)
{
	struct live_hub *hub = live_hub_of(c);
	const pc_model *m = pcd_node_generation(c->ew->room->node)->model;
	uint32_t provider = c->provider;
	const char *name;
	size_t name_len;
	if (provider < m->n_providers)
		set_cors(c, provider); /* a page's player reads the 404 too */
	if (hub == NULL || provider >= m->n_providers ||
	    !stream_name(c->path, c->path_len, &name, &name_len)) {
		live_count(hub, LC_NOT_FOUND);
		edge_client_respond(c, 404, "not a live stream");
		return;
	}
	const char *rest = name + name_len;
	size_t rest_len = c->path_len - (size_t)(rest - c->path);
	const char *q = memchr(rest, '?', rest_len);
	if (q != NULL)
		rest_len = (size_t)(q - rest);
	play(c, provider, name, name_len, rest, rest_len);
}

bool live_directory_play(struct edge_client *c, const char *channel)
{
	const pc_model *m = pcd_node_generation(c->ew->room->node)->model;
	const char *slash = strchr(channel, '/');
	if (slash == NULL || live_hub_of(c) == NULL)
		return false;
	uint32_t provider = PC_NONE;
	for (uint32_t p = 0; p < m->n_providers; p++)
		if (strlen(m->providers[p].name) == (size_t)(slash - channel) &&
		    memcmp(m->providers[p].name, channel, (size_t)(slash - channel)) == 0)
			provider = p;
	const char *name = slash + 1;
	size_t name_len = strlen(name);
	size_t ok = 0;
	while (ok < name_len &&
	       (name[ok] == '-' || name[ok] == '_' || (name[ok] >= 'a' && name[ok] <= 'z') ||
	        (name[ok] >= 'A' && name[ok] <= 'Z') || (name[ok] >= '0' && name[ok] <= '9')))
		ok++;
	if (provider == PC_NONE || ok != name_len || name_len == 0 || name_len > LIVE_NAME_MAX)
		return false; /* a CDN's channel, or not a stream's name */
	edge_client_set_provider(c, provider);
	/* The name the player asked for says the form. */
	const char *q = memchr(c->key, '?', c->key_len);
	size_t asked = q != NULL ? (size_t)(q - c->key) : c->key_len;
	bool hls = asked > 5 && memcmp(c->key + asked - 5, ".m3u8", 5) == 0;
	play(c, provider, name, name_len, hls ? ".m3u8" : ".ts", hls ? 5 : 3);
	return true;
}

bool live_directory_cascade(struct edge_client *c, const char *name)
{
	const pc_model *m = pcd_node_generation(c->ew->room->node)->model;
	const char *slash = strchr(name, '/');
	char stream[LIVE_NAME_MAX + 1];
	if (slash == NULL || !live_cascade_stream(name, strlen(name), stream, sizeof(stream)))
		return false;
	/* The provider whose directory host the name is under. */
	for (uint32_t p = 0; p < m->n_providers; p++)
		for (uint32_t h = 0; h < m->providers[p].n_directory_hosts; h++) {
			const char *host = m->providers[p].directory_hosts[h];
			if (strlen(host) == (size_t)(slash - name) &&
			    strncasecmp(host, name, (size_t)(slash - name)) == 0) {
				char channel[LIVE_CHANNEL_MAX + 1];
				snprintf(channel, sizeof(channel), "%s/%s", m->providers[p].name,
				         stream);
				return live_directory_play(c, channel);
			}
		}
	return false;
}

bool live_is_ingest(const struct edge_client *c)
{
	return c->live != NULL && c->live->kind == LIVE_INGEST;
}

void live_end(struct edge_client *c)
{
	struct live_conn *lc = c->live;
	if (lc->kind == LIVE_INGEST)
		return; /* the body's end says more; a close without it is the free */
	/* A player that hangs up: no more to say. */
	edge_client_abort(c);
}

/* ---- the worker's turn ---- */

void live_woken(struct edge_worker *ew)
{
	struct live_hub *hub = ew->shared->live;
	if (hub == NULL)
		return;
	unsigned w = ew->worker->index;
	const struct pc_edge_params *params = edge_params(ew);
	if (w == 0) {
		drain_mailbox(hub);
		/* Every edge wake-up comes here (on-demand objects and every
		 * block too): the channels only when asked; the tick looks at
		 * them every second anyway (silence, lost routes, lingering). */
		if (atomic_exchange_explicit(&hub->manage_asked, false, memory_order_acq_rel) &&
		    atomic_load_explicit(&hub->chans_used, memory_order_relaxed) > 0)
			manage(hub, params, pcd_mono_ms());
	}
	size_t max_unsent = (size_t)params->live_player_buffer_kb << 10;
	uint64_t now = params->live_player_flush_ms > 0 ? pcd_mono_ms() : 0;
	struct live_conn *next;
	for (struct live_conn *lc = hub->conns[w]; lc != NULL; lc = next) {
		next = lc->next;
		struct edge_client *c = lc->c;
		if (lc->kind == LIVE_TS) {
			size_t queued;
			if (feed(lc, max_unsent, params->live_player_flush_ms, now, &queued) &&
			    queued > 0)
				edge_client_kick(c);
		} else if (lc->kind == LIVE_HLS_WAIT) {
			/* Still registered while it asks: the channel cannot be
			 * forgotten meanwhile. */
			struct pc_buf text = {0};
			if (!make_playlist(c, lc->chan, lc->stream, strlen(lc->stream), &text)) {
				pc_buf_free(&text);
				continue;
			}
			player_leave(lc);
			conn_unlink(lc);
			c->live = NULL;
			free(lc);
			send_playlist(c, &text);
		}
	}
}

void live_tick(struct edge_worker *ew, uint64_t now_ms)
{
	struct live_hub *hub = ew->shared->live;
	if (hub == NULL)
		return;
	const struct pc_edge_params *params = edge_params(ew);
	unsigned w = ew->worker->index;
	if (w == 0) {
		pthread_mutex_lock(&hub->lock);
		hub->ring_bytes = (size_t)params->live_ring_kb << 10;
		hub->linger_ms = params->live_linger_ms;
		hub->failover_ms = params->live_failover_ms;
		for (int i = 0; i < MAX_CHANNELS; i++)
			hub->chans[i].n_sources = 0; /* read again: a reload may change them */
		pthread_mutex_unlock(&hub->lock);
		drain_mailbox(hub);
		manage(hub, params, now_ms);
		live_cascade_tick(hub->cascades, ew, params, now_ms);
	}
	struct live_conn *next;
	for (struct live_conn *lc = hub->conns[w]; lc != NULL; lc = next) {
		next = lc->next;
		if (lc->kind == LIVE_INGEST && lc->in != NULL &&
		    now_ms - live_ingest_last_rx(lc->in) > params->live_ingest_timeout_ms) {
			live_count(hub, LC_INGEST_TIMEOUT);
			pcd_log(PCD_LOG_INFO, "live-ingest-timeout", "after_ms=%" PRIu32,
			        params->live_ingest_timeout_ms);
			edge_client_abort(lc->c); /* its free ends the stream */
		} else if (lc->kind == LIVE_TS && lc->held_since_ms != 0) {
			/* Held (player_flush_ms) and no block since: the stream
			 * paused; what was held goes now. */
			size_t queued;
			if (feed(lc, (size_t)params->live_player_buffer_kb << 10, 0, now_ms,
			         &queued) &&
			    queued > 0)
				edge_client_kick(lc->c);
		} else if (lc->kind == LIVE_HLS_WAIT && now_ms > lc->deadline_ms) {
			struct edge_client *c = lc->c;
			player_leave(lc);
			conn_unlink(lc);
			c->live = NULL;
			free(lc);
			edge_client_respond(c, 504, "no live segments arrived in time");
		}
	}
}

void live_close(struct edge_worker *ew)
{
	struct live_hub *hub = ew->shared->live;
	if (hub == NULL || ew->worker->index != 0)
		return;
	for (int i = 0; i < MAX_CHANNELS; i++) {
		struct live_chan *ch = &hub->chans[i];
		if (ch->used && ch->subscribed) {
			char name[LIVE_CHANNEL_MAX + 16];
			snprintf(name, sizeof(name), "%s/%08" PRIx32, ch->name, ch->sub_source);
			pcd_overlay_unsubscribe(hub->node, name, ch->sub_source);
			ch->subscribed = false;
		}
	}
	drain_mailbox(hub);
	live_cascade_close(hub->cascades);
}

void live_metrics(struct live_hub *hub, FILE *out)
{
	if (hub == NULL)
		return;
	fprintf(out, "# HELP peercdn_edge_live_total Live ingest and playback events, by kind.\n"
	             "# TYPE peercdn_edge_live_total counter\n");
	for (int i = 0; i < LC__COUNT; i++)
		fprintf(out, "peercdn_edge_live_total{event=\"%s\"} %" PRIu64 "\n",
		        counter_names[i],
		        atomic_load_explicit(&hub->counters[i], memory_order_relaxed));
	fprintf(out, "# HELP peercdn_edge_live_channel_bytes Bytes of a channel's ring.\n"
	             "# TYPE peercdn_edge_live_channel_bytes gauge\n"
	             "# HELP peercdn_edge_live_channel_players Progressive players of a channel.\n"
	             "# TYPE peercdn_edge_live_channel_players gauge\n");
	pthread_mutex_lock(&hub->lock);
	for (int i = 0; i < MAX_CHANNELS; i++) {
		const struct live_chan *ch = &hub->chans[i];
		if (!ch->used)
			continue;
		fprintf(out, "peercdn_edge_live_channel_bytes{channel=\"%s\"} %zu\n", ch->name,
		        ch->bytes);
		fprintf(out, "peercdn_edge_live_channel_players{channel=\"%s\"} %u\n", ch->name,
		        ch->players);
		fprintf(out, "peercdn_edge_live_channel_segments{channel=\"%s\"} %" PRIu64 "\n",
		        ch->name, ch->next);
		fprintf(out, "peercdn_edge_live_channel_source{channel=\"%s\"} %" PRIu32 "\n",
		        ch->name, ch->subscribed ? ch->sub_source : 0);
	}
	pthread_mutex_unlock(&hub->lock);
}
