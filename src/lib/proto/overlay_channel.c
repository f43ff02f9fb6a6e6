/* See overlay_channel.h. Channels sit in an array scanned by a 32-bit hash
 * of the name first (hundreds of channels a router: a scan of words is
 * cheaper than keeping a hash table right under removal). The local
 * subscriber is a downstream entry whose neighbour is self, so forwarding,
 * re-joins and pruning treat it like any neighbour. Each downstream entry
 * remembers the highest sequence sent to it, which is what makes "each
 * block at most once per link" hold across re-joins and reroutes; it
 * also remembers the epoch that sequence counts in, so a downstream that
 * already follows a restarted source's new stream is not sent the old one,
 * and one still on the old stream gets the new one from its start. */
#include "lib/proto/overlay_channel.h"

#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"

struct downstream {
	uint32_t neighbour;
	uint64_t epoch;    /* of sent_seq; 0: not known yet (a fresh join before any block) */
	uint64_t sent_seq; /* every block up to this one was sent (or the joiner had it) */
	uint64_t heard_ms; /* its last JOIN: soft state, dropped after the misses */
};

struct stored {
	uint64_t seq;
	uint8_t *data;
	size_t len;
};

struct channel {
	char name[PC_OVCHAN_NAME_MAX + 1];
	uint32_t hash, source, upstream;
	bool have_seq, have_epoch, idle;
	uint64_t epoch; /* the stream last_seq and the window belong to */
	uint64_t last_seq, idle_since_ms, last_data_ms;
	uint64_t refresh_at_ms; /* our JOIN upstream is due again */
	uint32_t n_down;
	struct downstream *down; /* [max_downstream + 1]: the neighbours and self */
	struct stored *ring;     /* [window_blocks], allocated with the first block */
	uint32_t head, count;    /* the oldest block is ring[head] */
	size_t bytes;
};

struct pc_ovchan {
	struct pc_ovchan_params params;
	struct pc_ovchan_stats stats;
	uint32_t n_channels;
	struct channel **channels;      /* [max_channels] */
	uint32_t *to;                   /* [max_downstream]: pc_ovchan_data's answer */
	struct pc_ovchan_block *resend; /* [window_blocks]: pc_ovchan_join's answer */
};

int pc_ovchan_new(const struct pc_ovchan_params *params, pc_ovchan **out)
{
	if (params->self == PC_OVERLAY_ROUTER_NONE)
		return PC_EINVAL;
	pc_ovchan *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return PC_ENOMEM;
	t->params = *params;
	struct pc_ovchan_params *p = &t->params;
	if (p->max_channels == 0)
		p->max_channels = 4096;
	if (p->max_downstream == 0)
		p->max_downstream = 64;
	if (p->window_blocks == 0)
		p->window_blocks = 1024;
	if (p->window_bytes == 0)
		p->window_bytes = (size_t)4 << 20;
	if (p->prune_hold_ms == 0)
		p->prune_hold_ms = 2000;
	if (p->join_refresh_ms == 0)
		p->join_refresh_ms = 10000;
	t->channels = calloc(p->max_channels, sizeof(*t->channels));
	t->to = calloc(p->max_downstream, sizeof(*t->to));
	t->resend = calloc(p->window_blocks, sizeof(*t->resend));
	if (!t->channels || !t->to || !t->resend) {
		pc_ovchan_free(t);
		return PC_ENOMEM;
	}
	*out = t;
	return PC_OK;
}

static void channel_free(const pc_ovchan *t, struct channel *ch)
{
	if (ch->ring != NULL)
		for (uint32_t i = 0; i < ch->count; i++)
			free(ch->ring[(ch->head + i) % t->params.window_blocks].data);
	free(ch->ring);
	free(ch->down);
	free(ch);
}

void pc_ovchan_free(pc_ovchan *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; i < t->n_channels; i++)
		channel_free(t, t->channels[i]);
	free(t->channels);
	free(t->to);
	free(t->resend);
	free(t);
}

static uint32_t name_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 16777619u;
	}
	return h;
}

/* `<provider-or-cdn>/<name>`: both parts non-empty, printable ASCII. */
static bool name_ok(const char *name, size_t *len)
{
	size_t n = strnlen(name, PC_OVCHAN_NAME_MAX + 1);
	if (n == 0 || n > PC_OVCHAN_NAME_MAX)
		return false;
	const char *slash = memchr(name, '/', n);
	if (slash == NULL || slash == name || slash == name + n - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return false;
	*len = n;
	return true;
}

static uint32_t find(const pc_ovchan *t, const char *name)
{
	size_t len = strnlen(name, PC_OVCHAN_NAME_MAX + 1);
	uint32_t h = name_hash(name, len);
	for (uint32_t i = 0; i < t->n_channels; i++)
		if (t->channels[i]->hash == h && strcmp(t->channels[i]->name, name) == 0)
			return i;
	return UINT32_MAX;
}

static struct channel *channel_new(pc_ovchan *t, const char *name, size_t len, uint32_t source,
                                   uint32_t upstream)
{
	struct channel *ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return NULL;
	ch->down = calloc((size_t)t->params.max_downstream + 1, sizeof(*ch->down));
	if (ch->down == NULL) {
		free(ch);
		return NULL;
	}
	memcpy(ch->name, name, len);
	ch->hash = name_hash(name, len);
	ch->source = source;
	ch->upstream = upstream;
	t->channels[t->n_channels++] = ch;
	return ch;
}

static void channel_remove(pc_ovchan *t, uint32_t i)
{
	channel_free(t, t->channels[i]);
	t->channels[i] = t->channels[--t->n_channels];
}

static struct stored *stored_at(const struct channel *ch, const pc_ovchan *t, uint32_t i)
{
	return &ch->ring[(ch->head + i) % t->params.window_blocks];
}

static void drop_oldest(pc_ovchan *t, struct channel *ch)
{
	struct stored *s = stored_at(ch, t, 0);
	ch->bytes -= s->len;
	free(s->data);
	s->data = NULL;
	ch->head = (ch->head + 1) % t->params.window_blocks;
	ch->count--;
}

/* Keeps a copy of the block, dropping the oldest to stay within both
 * bounds. A block larger than the byte bound empties the window and is not
 * kept: joiners behind it then see an overflow. */
static int window_put(pc_ovchan *t, struct channel *ch, uint64_t seq, const uint8_t *data,
                      size_t len)
{
	if (ch->ring == NULL) {
		ch->ring = calloc(t->params.window_blocks, sizeof(*ch->ring));
		if (ch->ring == NULL)
			return PC_ENOMEM;
	}
	if (len > t->params.window_bytes) {
		while (ch->count > 0)
			drop_oldest(t, ch);
		return PC_OK;
	}
	while (ch->count > 0 &&
	       (ch->count == t->params.window_blocks || ch->bytes + len > t->params.window_bytes))
		drop_oldest(t, ch);
	uint8_t *copy = malloc(len > 0 ? len : 1);
	if (copy == NULL)
		return PC_ENOMEM;
	if (len > 0)
		memcpy(copy, data, len);
	*stored_at(ch, t, ch->count) = (struct stored){.seq = seq, .data = copy, .len = len};
	ch->count++;
	ch->bytes += len;
	return PC_OK;
}

static struct downstream *downstream_of(struct channel *ch, uint32_t neighbour)
{
	for (uint32_t i = 0; i < ch->n_down; i++)
		if (ch->down[i].neighbour == neighbour)
			return &ch->down[i];
	return NULL;
}

static void downstream_remove(struct channel *ch, struct downstream *d, uint64_t now_ms)
{
	*d = ch->down[--ch->n_down];
	if (ch->n_down == 0) {
		ch->idle = true;
		ch->idle_since_ms = now_ms;
	}
}

/* Sets a joiner's position from what it holds (last_seq of epoch) and
 * fills out with the window's blocks it lacks, saying whether its next
 * block is gone. */
static void position(pc_ovchan *t, struct channel *ch, struct downstream *d, uint64_t epoch,
                     uint64_t last_seq, struct pc_ovchan_joined *out)
{
	out->blocks_epoch = ch->epoch;
	if (last_seq == PC_OVCHAN_FRESH) {
		d->epoch = ch->have_epoch ? ch->epoch : 0;
		d->sent_seq = ch->have_seq ? ch->last_seq : 0;
		return;
	}
	if (!ch->have_epoch || epoch > ch->epoch) {
		/* The joiner is ahead of us (a newer stream we have not seen
		 * yet): nothing here for it. */
		d->epoch = epoch;
		d->sent_seq = last_seq;
		return;
	}
	if (epoch < ch->epoch)
		last_seq = 0; /* the source restarted: the new stream from its start */
	d->epoch = ch->epoch;
	d->sent_seq = last_seq;
	if (!ch->have_seq || last_seq >= ch->last_seq)
		return; /* nothing here the joiner lacks */
	uint64_t oldest = ch->count > 0 ? stored_at(ch, t, 0)->seq : ch->last_seq + 1;
	out->overflow = last_seq + 1 < oldest;
	for (uint32_t i = 0; i < ch->count; i++) {
		const struct stored *s = stored_at(ch, t, i);
		if (s->seq > last_seq)
			t->resend[out->n_blocks++] =
			    (struct pc_ovchan_block){.seq = s->seq, .data = s->data, .len = s->len};
	}
	d->sent_seq = ch->last_seq;
}

int pc_ovchan_join(pc_ovchan *t, const pc_lsdb *lsdb, const char *name, uint32_t source,
                   uint32_t from, uint64_t epoch, uint64_t last_seq, uint64_t now_ms,
                   struct pc_ovchan_joined *out)
{
	*out = (struct pc_ovchan_joined){.blocks = t->resend, .upstream = PC_OVERLAY_ROUTER_NONE};
	size_t len;
	uint32_t self = t->params.self;
	if (!name_ok(name, &len) || source == PC_OVERLAY_ROUTER_NONE ||
	    from == PC_OVERLAY_ROUTER_NONE) {
		t->stats.rejected_joins++;
		return PC_EINVAL;
	}
	uint32_t i = find(t, name);
	struct channel *ch = i == UINT32_MAX ? NULL : t->channels[i];
	if (source == self && (ch == NULL || ch->source == self) && last_seq != PC_OVCHAN_FRESH &&
	    epoch > t->params.epoch && epoch < UINT64_MAX) {
		/* A joiner holds a stream of ours newer than ours: we restarted
		 * with a clock behind our last start. Ours goes past it, or the
		 * tree would take nothing we send as newer than what it has
		 * (STALE at every relay, and this joiner "ahead" here). */
		t->params.epoch = epoch + 1;
		t->stats.epochs_raised++;
	}
	bool created = false;
	if (ch == NULL) {
		uint32_t up =
		    source == self ? PC_OVERLAY_ROUTER_NONE : pc_lsdb_parent(lsdb, source);
		if (t->n_channels >= t->params.max_channels || (from != self && from == up)) {
			t->stats.rejected_joins++;
			return from == up ? PC_EINVAL : PC_ENOSPC;
		}
		ch = channel_new(t, name, len, source, up);
		if (ch == NULL)
			return PC_ENOMEM;
		created = true;
		ch->refresh_at_ms = now_ms + t->params.join_refresh_ms;
		if (source == self) {
			/* Our own stream: a joiner of our epoch resumes in it (the
			 * window was pruned), any other starts it from block 1. */
			ch->have_epoch = true;
			ch->epoch = t->params.epoch;
			if (last_seq != PC_OVCHAN_FRESH && epoch == t->params.epoch) {
				ch->have_seq = true;
				ch->last_seq = last_seq;
			}
		} else if (last_seq != PC_OVCHAN_FRESH) {
			/* We hold nothing up to last_seq and will not be sent it. */
			ch->have_epoch = true;
			ch->epoch = epoch;
			ch->have_seq = true;
			ch->last_seq = last_seq;
		}
	} else if (ch->source != source || (from != self && from == ch->upstream)) {
		/* Another source for the name, or a loop: our parent joining us. */
		t->stats.rejected_joins++;
		return PC_EINVAL;
	}
	struct downstream *d = downstream_of(ch, from);
	if (d != NULL && from != self &&
	    (last_seq == PC_OVCHAN_FRESH || (d->epoch != 0 && epoch <= d->epoch))) {
		/* A refresh, written before the blocks in flight to the child
		 * (even those of a newer epoch) reached it: the child keeps its
		 * place, and nothing is sent twice. */
		d->heard_ms = now_ms;
		t->stats.refreshes++;
		return PC_OK;
	}
	if (d == NULL) {
		uint32_t neighbours = ch->n_down - (downstream_of(ch, self) != NULL);
		if (from != self && neighbours >= t->params.max_downstream) {
			t->stats.rejected_joins++;
			return PC_ENOSPC;
		}
		d = &ch->down[ch->n_down++];
		d->neighbour = from;
	}
	position(t, ch, d, epoch, last_seq, out);
	d->heard_ms = now_ms;
	ch->idle = false;
	t->stats.joins++;
	if (from != self)
		t->stats.blocks_resent += out->n_blocks;
	if (out->overflow)
		t->stats.overflows++;
	if (created && source != self) {
		out->join_upstream = true;
		out->upstream = ch->upstream;
		out->last_seq = last_seq;
		out->epoch = last_seq == PC_OVCHAN_FRESH ? 0 : epoch;
	}
	return PC_OK;
}

int pc_ovchan_prune(pc_ovchan *t, const char *name, uint32_t from, uint64_t now_ms)
{
	uint32_t i = find(t, name);
	struct downstream *d = i == UINT32_MAX ? NULL : downstream_of(t->channels[i], from);
	if (d == NULL)
		return PC_ENOENT;
	downstream_remove(t->channels[i], d, now_ms);
	t->stats.prunes++;
	return PC_OK;
}

int pc_ovchan_data(pc_ovchan *t, const char *name, uint32_t from, uint64_t epoch, uint64_t seq,
                   const uint8_t *data, size_t len, uint64_t now_ms, struct pc_ovchan_forward *out)
{
	*out = (struct pc_ovchan_forward){.to = t->to};
	uint32_t self = t->params.self;
	if (from == self)
		epoch = t->params.epoch;
	if (seq == 0 || seq == PC_OVCHAN_FRESH)
		return PC_EINVAL;
	uint32_t i = find(t, name);
	struct channel *ch = i == UINT32_MAX ? NULL : t->channels[i];
	if (ch == NULL && from == self) {
		/* The source publishes before anyone joined: keep a window. */
		size_t name_len;
		if (!name_ok(name, &name_len))
			return PC_EINVAL;
		if (t->n_channels >= t->params.max_channels)
			return PC_ENOSPC;
		ch = channel_new(t, name, name_len, self, PC_OVERLAY_ROUTER_NONE);
		if (ch == NULL)
			return PC_ENOMEM;
		ch->have_epoch = true;
		ch->epoch = epoch;
		ch->idle = true;
		ch->idle_since_ms = now_ms;
	}
	if (ch == NULL) {
		t->stats.unknown++;
		out->verdict = PC_OVCHAN_UNKNOWN;
		return PC_OK;
	}
	bool from_ok = from == self ? ch->source == self : from == ch->upstream;
	if (!from_ok) {
		t->stats.not_upstream++;
		out->verdict = PC_OVCHAN_NOT_UPSTREAM;
		return PC_OK;
	}
	if (ch->have_epoch && epoch < ch->epoch) {
		t->stats.stale_epochs++;
		out->verdict = PC_OVCHAN_STALE;
		return PC_OK;
	}
	if (!ch->have_epoch || epoch > ch->epoch) {
		/* The source restarted (or this is the first block we see): its
		 * stream replaces what we held, whose numbers mean nothing now. */
		out->new_epoch = ch->have_epoch;
		t->stats.new_epochs += ch->have_epoch;
		while (ch->count > 0)
			drop_oldest(t, ch);
		ch->have_epoch = true;
		ch->epoch = epoch;
		ch->have_seq = false;
	}
	if (ch->have_seq && seq <= ch->last_seq) {
		t->stats.duplicates++;
		out->verdict = PC_OVCHAN_DUPLICATE;
		return PC_OK;
	}
	int rc = window_put(t, ch, seq, data, len);
	if (rc < 0)
		return rc;
	out->epoch = epoch;
	out->gap = ch->have_seq && seq > ch->last_seq + 1;
	t->stats.gaps += out->gap;
	ch->have_seq = true;
	ch->last_seq = seq;
	ch->last_data_ms = now_ms;
	for (uint32_t k = 0; k < ch->n_down; k++) {
		struct downstream *d = &ch->down[k];
		if (d->epoch > epoch)
			continue; /* it follows a newer stream than this one */
		if (d->epoch < epoch) {
			d->epoch = epoch; /* the source restarted: the new stream from here */
			d->sent_seq = 0;
		}
		if (d->sent_seq >= seq)
			continue; /* it had this one: a re-join from ahead of us */
		d->sent_seq = seq;
		if (d->neighbour == self)
			out->deliver = true;
		else
			t->to[out->n_to++] = d->neighbour;
	}
	t->stats.blocks_in++;
	t->stats.blocks_forwarded += out->n_to;
	out->verdict = PC_OVCHAN_FORWARD;
	return PC_OK;
}

static struct pc_ovchan_event event_of(const struct channel *ch)
{
	return (struct pc_ovchan_event){.name = ch->name,
	                                .source = ch->source,
	                                .upstream = ch->upstream,
	                                .old_upstream = PC_OVERLAY_ROUTER_NONE,
	                                .last_seq = ch->have_seq ? ch->last_seq : PC_OVCHAN_FRESH,
	                                .epoch = ch->have_seq ? ch->epoch : 0};
}

uint32_t pc_ovchan_reroute(pc_ovchan *t, const pc_lsdb *lsdb, uint64_t now_ms, pc_ovchan_emit *emit,
                           void *arg)
{
	uint32_t changed = 0;
	for (uint32_t i = 0; i < t->n_channels; i++) {
		struct channel *ch = t->channels[i];
		if (ch->source == t->params.self)
			continue;
		uint32_t up = pc_lsdb_parent(lsdb, ch->source);
		if (up == ch->upstream)
			continue;
		/* Our new parent cannot also be our child: it re-joins its own
		 * new parent when it recomputes. */
		struct downstream *d = downstream_of(ch, up);
		if (d != NULL)
			downstream_remove(ch, d, now_ms);
		struct pc_ovchan_event ev = event_of(ch);
		ev.old_upstream = ch->upstream;
		ev.upstream = up;
		ch->upstream = up;
		ch->refresh_at_ms = now_ms + t->params.join_refresh_ms;
		changed++;
		emit(arg, &ev);
	}
	t->stats.reroutes += changed;
	return changed;
}

void pc_ovchan_neighbour_down(pc_ovchan *t, uint32_t neighbour, uint64_t now_ms)
{
	for (uint32_t i = 0; i < t->n_channels; i++) {
		struct downstream *d = downstream_of(t->channels[i], neighbour);
		if (d != NULL && neighbour != t->params.self)
			downstream_remove(t->channels[i], d, now_ms);
	}
}

/* Drops ch's downstream neighbours whose JOIN was not repeated for the
 * misses: a child that left without a PRUNE (or whose PRUNE was lost). */
static void expire_downstream(pc_ovchan *t, struct channel *ch, uint64_t now_ms)
{
	uint64_t limit = (uint64_t)PC_OVCHAN_REFRESH_MISSES * t->params.join_refresh_ms;
	for (uint32_t k = 0; k < ch->n_down;) {
		struct downstream *d = &ch->down[k];
		if (d->neighbour != t->params.self && now_ms >= d->heard_ms + limit) {
			downstream_remove(ch, d, now_ms);
			t->stats.joins_expired++;
		} else {
			k++;
		}
	}
}

uint32_t pc_ovchan_tick(pc_ovchan *t, uint64_t now_ms, pc_ovchan_emit *emit, void *arg)
{
	uint32_t pruned = 0;
	uint64_t hold = t->params.prune_hold_ms;
	for (uint32_t i = 0; i < t->n_channels;) {
		struct channel *ch = t->channels[i];
		expire_downstream(t, ch, now_ms);
		bool expired = ch->idle && now_ms >= ch->idle_since_ms + hold;
		/* A source's window outlives its subscribers while it publishes,
		 * so one that re-joins after a failure finds its blocks. */
		if (expired && ch->source == t->params.self && ch->have_seq)
			expired = now_ms >= ch->last_data_ms + hold;
		if (!expired) {
			i++;
			continue;
		}
		struct pc_ovchan_event ev = event_of(ch);
		ev.old_upstream = ch->upstream;
		ev.upstream = PC_OVERLAY_ROUTER_NONE;
		emit(arg, &ev);
		channel_remove(t, i);
		pruned++;
	}
	t->stats.channels_pruned += pruned;
	return pruned;
}

uint32_t pc_ovchan_refresh(pc_ovchan *t, uint64_t now_ms, pc_ovchan_emit *emit, void *arg)
{
	uint32_t due = 0;
	for (uint32_t i = 0; i < t->n_channels; i++) {
		struct channel *ch = t->channels[i];
		if (ch->source == t->params.self || ch->upstream == PC_OVERLAY_ROUTER_NONE ||
		    ch->n_down == 0 || now_ms < ch->refresh_at_ms)
			continue;
		ch->refresh_at_ms = now_ms + t->params.join_refresh_ms;
		struct pc_ovchan_event ev = event_of(ch);
		due++;
		emit(arg, &ev);
	}
	return due;
}

int pc_ovchan_status(const pc_ovchan *t, const char *name, uint64_t *last_seq, uint32_t *upstream,
                     uint32_t *n_downstream)
{
	uint32_t i = find(t, name);
	if (i == UINT32_MAX)
		return PC_ENOENT;
	const struct channel *ch = t->channels[i];
	*last_seq = ch->have_seq ? ch->last_seq : PC_OVCHAN_FRESH;
	*upstream = ch->upstream;
	*n_downstream = ch->n_down;
	return PC_OK;
}

uint32_t pc_ovchan_own_wanted(const pc_ovchan *t, pc_ovchan_name_fn *fn, void *arg)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < t->n_channels; i++) {
		const struct channel *ch = t->channels[i];
		if (ch->source != t->params.self || ch->n_down == 0)
			continue;
		fn(arg, ch->name);
		n++;
	}
	return n;
}

uint32_t pc_ovchan_relaying(const pc_ovchan *t)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < t->n_channels; i++) {
		const struct channel *ch = t->channels[i];
		if (ch->source == t->params.self)
			continue;
		for (uint32_t k = 0; k < ch->n_down; k++)
			n += ch->down[k].neighbour != t->params.self;
	}
	return n;
}

const struct pc_ovchan_stats *pc_ovchan_stats(const pc_ovchan *t)
{
	return &t->stats;
}
