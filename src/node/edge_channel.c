/* edge_channel: pre-fill by reliable hop-by-hop multicast (docs/prefill.md,
 * "Down a provider's channel"). At a provider's injection point a
 * pre-fill in channel mode stores each object as usual, then worker 0
 * publishes it on the overlay channel "<provider>/prefill/<router id>" as
 * blocks that each carry the object's key, the first its stored head and
 * meta, and a chunk of the body. Every other edge with an overlay subscribes to that
 * channel of each of the provider's injection points, rebuilds each
 * object from its blocks and stores it, so every edge of the provider's
 * tree holds it, and reports the replica as a fill would (edge_filled).
 *
 * The overlay's channels are reliable (a window per link, resume after a
 * reroute) and deliver each block once, in order; this module only has to
 * notice what that cannot promise: an epoch change or a window overrun
 * losing blocks, seen as a block whose offset is not the next, which drops
 * the object being rebuilt (it is not stored; a client's miss fetches it).
 *
 * Threads: publishing and subscribing are worker 0's (the overlay's
 * thread). A pre-fill on another worker queues its keys under a lock and
 * wakes worker 0 through its edge eventfd. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>

#include "lib/proto/overlay_msg.h"
#include "lib/proto/prefill_block.h"
#include "node/edge_internal.h"
#include "node/log.h"
#include "node/overlay.h"

enum {
	BLOCK_MAX = PC_OVL_BODY_MAX - 512, /* what pcd_overlay_publish takes */
	MAX_SUBS = 64,                     /* (provider, injection point) pairs */
	QUEUE_MAX = 4096,                  /* objects waiting for worker 0 */
};

/* One subscription: a provider's channel from one injection point, and
 * the object being rebuilt from it. */
struct channel_sub {
	struct edge_channels *ch;
	uint32_t provider, source;
	bool subscribed;
	struct pcd_object *object; /* being rebuilt, or NULL */
	char *key;
	size_t key_len;
	uint64_t next, total;
};

struct queued {
	uint32_t provider;
	char *key;
	size_t key_len;
};

struct edge_channels {
	struct edge_shared *shared;
	pthread_mutex_t lock; /* the queue */
	struct queued *queue;
	unsigned n_queued;
	struct channel_sub subs[MAX_SUBS]; /* worker 0's */
	unsigned n_subs;
	uint8_t *payload; /* worker 0's: a block being built */
	_Atomic uint64_t m[EDGE_CH__COUNT];
};

const char *const edge_channel_counter_names[EDGE_CH__COUNT] = {
    "objects_sent",   "blocks_sent",     "objects_skipped", "blocks_received",
    "objects_stored", "objects_dropped", "blocks_bad",
};

static void bump(struct edge_channels *ch, enum edge_channel_counter c)
{
	atomic_fetch_add_explicit(&ch->m[c], 1, memory_order_relaxed);
}

/* The channel of provider from the injection point source:
 * "<provider>/prefill/<source, 8 hex digits>". A channel name has one
 * source (a relay of two injection points' channels must tell them apart),
 * as the load channels' names do (docs/overlay.md). */
static bool channel_name(const pc_model *m, uint32_t provider, uint32_t source, char *out,
                         size_t size)
{
	if (provider >= m->n_providers || source == 0)
		return false;
	return (size_t)snprintf(out, size, "%s/prefill/%08x", m->providers[provider].name, source) <
	       size;
}

/* ---- sending (the injection point) ---- */

int edge_channels_new(struct edge_shared *shared, struct edge_channels **out)
{
	struct edge_channels *ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return -ENOMEM;
	ch->shared = shared;
	pthread_mutex_init(&ch->lock, NULL);
	*out = ch;
	return 0;
}

static void sub_drop(struct channel_sub *sub)
{
	if (sub->object != NULL) {
		pcd_object_abort(sub->object);
		pcd_object_unref(sub->object);
	}
	sub->object = NULL;
	free(sub->key);
	sub->key = NULL;
}

void edge_channels_free(struct edge_channels *ch)
{
	if (ch == NULL)
		return;
	for (unsigned i = 0; i < ch->n_queued; i++)
		free(ch->queue[i].key);
	free(ch->queue);
	for (unsigned i = 0; i < ch->n_subs; i++)
		sub_drop(&ch->subs[i]);
	free(ch->payload);
	pthread_mutex_destroy(&ch->lock);
	free(ch);
}

bool edge_channel_root(struct edge_worker *ew, uint32_t provider)
{
	const struct pc_edge_params *params = edge_params(ew);
	for (uint32_t i = 0; i < params->n_injections; i++) {
		struct pcd_overlay_hop hop;
		if (params->injections[i].provider == provider &&
		    pcd_overlay_route_to(ew->room->node, params->injections[i].router, &hop) ==
		        -EEXIST)
			return true;
	}
	return false;
}

bool edge_channel_send(struct edge_worker *ew, uint32_t provider, const char *key, size_t key_len)
{
	struct edge_channels *ch = ew->shared->channels;
	char *copy = malloc(key_len ? key_len : 1);
	if (copy == NULL)
		return false;
	memcpy(copy, key, key_len);
	pthread_mutex_lock(&ch->lock);
	bool ok = ch->n_queued < QUEUE_MAX;
	if (ok && ch->queue == NULL)
		ok = (ch->queue = calloc(QUEUE_MAX, sizeof(*ch->queue))) != NULL;
	if (ok)
		ch->queue[ch->n_queued++] = (struct queued){provider, copy, key_len};
	pthread_mutex_unlock(&ch->lock);
	if (!ok) {
		free(copy);
		return false;
	}
	struct edge_worker *first = ew->shared->workers[0];
	if (first != NULL)
		(void)eventfd_write(first->wake.fd, 1);
	return true;
}

/* Publishes the stored object under key on provider's channel, block by
 * block. False (counted skipped) when it is not there, not complete, an
 * error answer, a Vary stub, or too large for one pre-fill. */
static bool send_object(struct edge_worker *ew, uint32_t provider, const char *key, size_t key_len)
{
	struct edge_channels *ch = ew->shared->channels;
	const pc_model *m = pcd_node_generation(ew->room->node)->model;
	char name[PC_OVL_CHANNEL_MAX + 1];
	if (!channel_name(m, provider, pcd_overlay_self(ew->room->node), name, sizeof(name)))
		return false;
	struct pcd_object *object = pcd_store_lookup(ew->shared->store, key, key_len);
	struct pcd_head *head = object != NULL ? pcd_object_head(object) : NULL;
	size_t head_len = 0, meta_len = 0;
	const char *head_bytes = head != NULL ? pcd_head_bytes(head, &head_len) : NULL;
	const struct edge_meta *meta = head != NULL ? pcd_head_meta(head, &meta_len) : NULL;
	uint64_t total = object != NULL ? pcd_object_filled(object) : 0;
	bool ok = object != NULL && pcd_object_state(object) == PCD_OBJECT_COMPLETE &&
	          meta != NULL && meta_len >= sizeof(*meta) && meta->version == EDGE_META_VERSION &&
	          !meta->error && !meta->vary_stub && meta->vary_len == 0 && meta->shared &&
	          total <= EDGE_CHANNEL_OBJECT_MAX &&
	          PC_PREFILL_HEADER + key_len + head_len + meta_len < BLOCK_MAX - 1024 &&
	          (ch->payload != NULL || (ch->payload = malloc(BLOCK_MAX)) != NULL);
	uint64_t offset = 0;
	bool first = true;
	while (ok && (first || offset < total)) {
		size_t fixed = PC_PREFILL_HEADER + key_len + (first ? head_len + meta_len : 0);
		size_t room = BLOCK_MAX - fixed;
		struct pc_prefill_block b = {
		    .key = key,
		    .key_len = (uint32_t)key_len,
		    .head = first ? head_bytes : NULL,
		    .head_len = first ? (uint32_t)head_len : 0,
		    .meta = first ? meta : NULL,
		    .meta_len = first ? (uint32_t)meta_len : 0,
		    .total = total,
		    .offset = offset,
		    .chunk_len = total - offset < room ? (size_t)(total - offset) : room,
		};
		b.flags = (uint8_t)((first ? PC_PREFILL_FIRST : 0) |
		                    (offset + b.chunk_len == total ? PC_PREFILL_LAST : 0));
		int n = pc_prefill_block_write(&b, ch->payload, BLOCK_MAX);
		uint8_t *at = ch->payload + (n > 0 ? n : 0);
		size_t done = 0;
		while (n > 0 && done < b.chunk_len) { /* the chunk, from the object's blocks */
			struct iovec iov[16];
			int k = pcd_object_body(object, offset + done, iov, 16);
			if (k <= 0)
				break;
			for (int i = 0; i < k && done < b.chunk_len; i++) {
				size_t take = iov[i].iov_len < b.chunk_len - done
				                  ? iov[i].iov_len
				                  : b.chunk_len - done;
				memcpy(at + done, iov[i].iov_base, take);
				done += take;
			}
		}
		ok = n > 0 && done == b.chunk_len && /* a complete object: every byte is there */
		     pcd_overlay_publish(ew->room->node, name, ch->payload,
		                         (size_t)n + b.chunk_len) == 0;
		if (ok)
			bump(ch, EDGE_CH_BLOCKS_SENT);
		offset += b.chunk_len;
		first = false;
	}
	pcd_head_unref(head);
	pcd_object_unref(object);
	bump(ch, ok ? EDGE_CH_OBJECTS_SENT : EDGE_CH_OBJECTS_SKIPPED);
	return ok;
}

void edge_channel_woken(struct edge_worker *ew)
{
	struct edge_channels *ch = ew->shared->channels;
	if (ew->worker->index != 0 || ch == NULL)
		return;
	/* Flow control's publisher side: while a link is full the rest
	 * waits (for edge_channel_tick), so the objects queued do not pile
	 * up on it past what it holds before it is cut; one object, at most
	 * EDGE_CHANNEL_OBJECT_MAX, fits. */
	while (!pcd_overlay_held(ew->room->node)) {
		pthread_mutex_lock(&ch->lock);
		struct queued q = {0};
		if (ch->n_queued > 0) {
			q = ch->queue[0];
			memmove(ch->queue, ch->queue + 1, --ch->n_queued * sizeof(*ch->queue));
		}
		pthread_mutex_unlock(&ch->lock);
		if (q.key == NULL)
			return;
		if (!send_object(ew, q.provider, q.key, q.key_len))
			pcd_log(PCD_LOG_WARNING, "edge-prefill-channel-skipped", "key=%.*s",
			        (int)(q.key_len < 200 ? q.key_len : 200), q.key);
		free(q.key);
	}
}

/* ---- receiving (every other edge of the tree) ---- */

/* 1 + the model server this edge is (one of edge.listen with its port),
 * or 0: whose replica a received object is. */
static uint32_t own_server(struct edge_worker *ew)
{
	const struct pcd_generation *gen = pcd_node_generation(ew->room->node);
	const struct pc_edge_params *params = edge_params(ew);
	uint32_t found = 0;
	for (uint32_t s = 0; s < gen->model->n_servers; s++) {
		const struct pc_server *server = &gen->model->servers[s];
		for (uint32_t a = 0; a < server->addresses.count; a++)
			for (uint32_t l = 0; l < params->listen.count; l++) {
				if (!pc_addr_equal(&server->addresses.items[a],
				                   &params->listen.items[l]))
					continue;
				if ((server->http_port != 0 ? server->http_port : 80) ==
				    params->port)
					return s + 1;
				if (found == 0)
					found = s + 1;
			}
	}
	return found;
}

static void on_block(void *arg, const char *channel, uint32_t source, uint64_t seq,
                     const uint8_t *payload, size_t len)
{
	(void)channel;
	(void)source;
	(void)seq;
	struct channel_sub *sub = arg;
	struct edge_channels *ch = sub->ch;
	struct edge_worker *ew = ch->shared->workers[0];
	bump(ch, EDGE_CH_BLOCKS_RECEIVED);
	struct pc_prefill_block b;
	if (ew == NULL || pc_prefill_block_parse(payload, len, EDGE_KEY_MAX, &b) != 0) {
		bump(ch, EDGE_CH_BLOCKS_BAD);
		return;
	}
	if (b.flags & PC_PREFILL_FIRST) {
		if (sub->object != NULL)
			bump(ch, EDGE_CH_OBJECTS_DROPPED); /* its last block never came */
		sub_drop(sub);
		const struct edge_meta *meta = b.meta;
		struct edge_meta aligned;
		/* The bound the sender keeps, kept here too: the object grows
		 * outside the store until its last block, to what total says. */
		if (b.meta_len < sizeof(aligned) || b.head_len == 0 ||
		    b.total > EDGE_CHANNEL_OBJECT_MAX) {
			bump(ch, EDGE_CH_BLOCKS_BAD);
			return;
		}
		memcpy(&aligned, meta, sizeof(aligned));
		if (aligned.version != EDGE_META_VERSION || aligned.vary_len != 0) {
			bump(ch, EDGE_CH_BLOCKS_BAD);
			return;
		}
		sub->object = pcd_object_new();
		sub->key = malloc(b.key_len);
		if (sub->object == NULL || sub->key == NULL) {
			sub_drop(sub);
			return;
		}
		memcpy(sub->key, b.key, b.key_len);
		sub->key_len = b.key_len;
		sub->next = 0;
		sub->total = b.total;
		pcd_object_set_tag(sub->object, (uint8_t)(sub->provider < EDGE_MAX_PROVIDERS
		                                              ? sub->provider
		                                              : EDGE_MAX_PROVIDERS));
		if (pcd_object_set_head(sub->object, b.head, b.head_len, b.meta, b.meta_len) != 0) {
			sub_drop(sub);
			return;
		}
		pcd_object_reserve(sub->object, b.total);
	} else if (sub->object == NULL || b.key_len != sub->key_len ||
	           memcmp(b.key, sub->key, b.key_len) != 0 || b.offset != sub->next ||
	           b.total != sub->total) {
		if (sub->object != NULL)
			bump(ch, EDGE_CH_OBJECTS_DROPPED); /* a block lost: not stored */
		sub_drop(sub);
		return;
	}
	if (b.chunk_len > 0 && pcd_object_append(sub->object, b.chunk, b.chunk_len) != 0) {
		bump(ch, EDGE_CH_OBJECTS_DROPPED);
		sub_drop(sub);
		return;
	}
	sub->next += b.chunk_len;
	if (!(b.flags & PC_PREFILL_LAST))
		return;
	if (sub->next != sub->total) {
		bump(ch, EDGE_CH_OBJECTS_DROPPED);
		sub_drop(sub);
		return;
	}
	pcd_object_finish(sub->object);
	if (pcd_store_insert(ch->shared->store, sub->key, sub->key_len, sub->object) == 0) {
		bump(ch, EDGE_CH_OBJECTS_STORED);
		edge_filled(ew, sub->key, sub->key_len, own_server(ew));
	}
	pcd_object_unref(sub->object);
	sub->object = NULL;
	free(sub->key);
	sub->key = NULL;
}

/* Worker 0, once a second: the objects still queued (held back while a
 * link was full), and a subscription to each provider's channel of each
 * of its injection points but this router, until the overlay takes it
 * (it runs on this worker too, and may open after the edge). */
void edge_channel_tick(struct edge_worker *ew)
{
	struct edge_channels *ch = ew->shared->channels;
	if (ew->worker->index != 0 || ch == NULL)
		return;
	edge_channel_woken(ew);
	const struct pc_edge_params *params = edge_params(ew);
	const pc_model *m = pcd_node_generation(ew->room->node)->model;
	uint32_t self = pcd_overlay_self(ew->room->node); /* this thread's to ask */
	for (uint32_t i = 0; self != 0 && i < params->n_injections; i++) {
		const struct pc_edge_injection *inj = &params->injections[i];
		if (inj->router == self)
			continue; /* we are its source */
		struct channel_sub *sub = NULL;
		for (unsigned k = 0; k < ch->n_subs && sub == NULL; k++)
			if (ch->subs[k].provider == inj->provider &&
			    ch->subs[k].source == inj->router)
				sub = &ch->subs[k];
		if (sub == NULL) {
			if (ch->n_subs == MAX_SUBS)
				continue;
			sub = &ch->subs[ch->n_subs++];
			*sub = (struct channel_sub){
			    .ch = ch, .provider = inj->provider, .source = inj->router};
		}
		char name[PC_OVL_CHANNEL_MAX + 1];
		if (sub->subscribed ||
		    !channel_name(m, inj->provider, inj->router, name, sizeof(name)))
			continue;
		int err = pcd_overlay_subscribe(ew->room->node, name, inj->router, on_block, sub);
		sub->subscribed = err == 0 || err == -EEXIST;
		if (sub->subscribed)
			pcd_log(PCD_LOG_INFO, "edge-prefill-channel-subscribed",
			        "channel=%s source=%u", name, inj->router);
	}
}

uint64_t edge_channel_counter(const struct edge_channels *ch, enum edge_channel_counter c)
{
	return ch != NULL ? atomic_load_explicit(&ch->m[c], memory_order_relaxed) : 0;
}
