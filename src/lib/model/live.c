/* The live state of one model generation: per-server load and health,
 * per-agreement usage windows, measured AS path costs, which servers
 * hold which objects and what peer CDNs offer, all in C11
 * atomics so that decisions on any number of threads read them without a
 * lock while control threads write them. */
#include "lib/model/live.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "lib/base/err.h"
#include "lib/base/strmap.h"

/* One agreement's current window: the window number (now_ms / 1000,
 * truncated to 32 bits) in the high half, the decisions taken in it in the
 * low half. One word, so one CAS both resets and counts. */
struct agreement_usage {
	_Atomic uint64_t window;
	_Atomic uint64_t total;
};

/* One CDN's offer (live.h). version 0: none received. The footprint is a
 * bitmap over the model's AS indexes, allocated with the CDN's first
 * footprint and kept until pc_live_free, so a reader never sees it go. */
struct offer {
	_Atomic uint64_t version, received_ms, services, capacity;
	_Atomic bool footprint;
	_Atomic uint64_t *_Atomic ases;
};

struct pc_live {
	const pc_model *model;
	struct offer *offers;               /* [n_cdns] */
	struct pc_live_server *servers;     /* [n_servers] in slot order (model->server_slot) */
	struct agreement_usage *agreements; /* [n_agreements] */
	/* [as * n_server_ases + server_as column]: PC_COST_STATIC = no measurement. */
	_Atomic uint32_t *costs;
	size_t n_costs;
	/* Set once any cost was measured: until then a decision reads only the
	 * model's table, one cache miss per farm instead of two. */
	_Atomic bool measured;
	/* [n_ases]: set once any cost from that AS was measured. */
	_Atomic bool *as_measured;
	/* [PC_REPLICA_BUCKETS * PC_REPLICA_WAYS]: see live.h; 0 is empty. */
	_Atomic uint64_t *replicas;
};

/* A load and a health in one word (struct pc_live_server.state). The
 * writers below change one half and keep the other, by compare-and-swap:
 * load reports and health checks are rare next to decisions. */
static uint64_t state_word(uint32_t load, enum pc_health health)
{
	return (uint64_t)health << 32 | load;
}

int pc_live_new(const pc_model *model, pc_live **out)
{
	if (model == NULL || out == NULL)
		return PC_EINVAL;
	pc_live *live = calloc(1, sizeof(*live));
	if (live == NULL)
		return PC_ENOMEM;
	live->model = model;
	live->n_costs = (size_t)model->n_ases * model->n_server_ases;
	/* +1: calloc(0) may return NULL, and an empty model is legal. */
	live->servers = calloc((size_t)model->n_servers + 1, sizeof(*live->servers));
	live->agreements = calloc((size_t)model->n_agreements + 1, sizeof(*live->agreements));
	live->costs = calloc(live->n_costs + 1, sizeof(*live->costs));
	live->as_measured = calloc((size_t)model->n_ases + 1, sizeof(*live->as_measured));
	live->replicas =
	    calloc((size_t)PC_REPLICA_BUCKETS * PC_REPLICA_WAYS, sizeof(*live->replicas));
	live->offers = calloc((size_t)model->n_cdns + 1, sizeof(*live->offers));
	if (live->offers == NULL || live->servers == NULL || live->agreements == NULL ||
	    live->costs == NULL || live->as_measured == NULL || live->replicas == NULL) {
		pc_live_free(live);
		return PC_ENOMEM;
	}
	for (uint32_t s = 0; s < model->n_servers; s++) {
		atomic_init(&live->servers[s].state, state_word(0, PC_HEALTH_UP));
		if (model->slot_limits != NULL) {
			live->servers[s].full_load[0] = model->slot_limits[s].full_load[0];
			live->servers[s].full_load[1] = model->slot_limits[s].full_load[1];
		}
	}
	for (uint32_t a = 0; a < model->n_agreements; a++) {
		atomic_init(&live->agreements[a].window, 0);
		atomic_init(&live->agreements[a].total, 0);
	}
	for (size_t i = 0; i < live->n_costs; i++)
		atomic_init(&live->costs[i], PC_COST_STATIC);
	for (uint32_t a = 0; a < model->n_ases; a++)
		atomic_init(&live->as_measured[a], false);
	for (size_t i = 0; i < (size_t)PC_REPLICA_BUCKETS * PC_REPLICA_WAYS; i++)
		atomic_init(&live->replicas[i], 0);
	for (uint32_t c = 0; c < model->n_cdns; c++) {
		struct offer *o = &live->offers[c];
		atomic_init(&o->version, 0);
		atomic_init(&o->received_ms, 0);
		atomic_init(&o->services, 0);
		atomic_init(&o->capacity, 0);
		atomic_init(&o->footprint, false);
		atomic_init(&o->ases, NULL);
	}
	*out = live;
	return PC_OK;
}

void pc_live_free(pc_live *live)
{
	if (live == NULL)
		return;
	free(live->servers);
	free(live->agreements);
	free(live->costs);
	free(live->as_measured);
	free(live->replicas);
	for (uint32_t c = 0; live->offers != NULL && c < live->model->n_cdns; c++)
		free((void *)atomic_load(&live->offers[c].ases));
	free(live->offers);
	free(live);
}

const pc_model *pc_live_model(const pc_live *live)
{
	return live->model;
}

const struct pc_live_server *pc_live_servers(const pc_live *live)
{
	return live->servers;
}

static _Atomic uint64_t *state_of(const pc_live *live, uint32_t server)
{
	return &live->servers[live->model->server_slot[server]].state;
}

void pc_live_set_load(pc_live *live, uint32_t server, uint32_t load)
{
	if (server >= live->model->n_servers)
		return;
	_Atomic uint64_t *state = state_of(live, server);
	uint64_t old = atomic_load_explicit(state, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(state, &old,
	                                              (old & ~(uint64_t)UINT32_MAX) | load,
	                                              memory_order_relaxed, memory_order_relaxed))
		;
}

uint32_t pc_live_load(const pc_live *live, uint32_t server)
{
	if (server >= live->model->n_servers)
		return 0;
	return (uint32_t)atomic_load_explicit(state_of(live, server), memory_order_relaxed);
}

void pc_live_set_health(pc_live *live, uint32_t server, enum pc_health health)
{
	if (server >= live->model->n_servers)
		return;
	_Atomic uint64_t *state = state_of(live, server);
	uint64_t old = atomic_load_explicit(state, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(state, &old,
	                                              state_word((uint32_t)old, health),
	                                              memory_order_relaxed, memory_order_relaxed))
		;
}

bool pc_live_health_change(pc_live *live, uint32_t server, enum pc_health from, enum pc_health to)
{
	if (server >= live->model->n_servers)
		return false;
	_Atomic uint64_t *state = state_of(live, server);
	uint64_t old = atomic_load_explicit(state, memory_order_relaxed);
	/* Retried only when the load moved meanwhile: the health decides. */
	while (old >> 32 == (uint64_t)from)
		if (atomic_compare_exchange_weak_explicit(
		        state, &old, state_word((uint32_t)old, to), memory_order_relaxed,
		        memory_order_relaxed))
			return true;
	return false;
}

enum pc_health pc_live_health(const pc_live *live, uint32_t server)
{
	/* An unknown server is never a candidate: call it down. */
	if (server >= live->model->n_servers)
		return PC_HEALTH_DOWN;
	return (enum pc_health)(
	    atomic_load_explicit(state_of(live, server), memory_order_relaxed) >> 32);
}

/* After the cost itself was stored: a reader that sees the flag sees the
 * cost (release/acquire). */
static void mark_measured(pc_live *live, uint32_t as)
{
	atomic_store_explicit(&live->as_measured[as], true, memory_order_release);
	atomic_store_explicit(&live->measured, true, memory_order_release);
}

void pc_live_set_path_cost(pc_live *live, uint32_t as, uint32_t server_as, uint32_t cost)
{
	const pc_model *model = live->model;
	if (as >= model->n_ases || server_as >= model->n_ases)
		return;
	uint32_t column = model->ases[server_as].server_as;
	if (column == PC_NONE)
		return;
	atomic_store_explicit(&live->costs[(size_t)as * model->n_server_ases + column], cost,
	                      memory_order_relaxed);
	if (cost != PC_COST_STATIC)
		mark_measured(live, as);
}

bool pc_live_as_measured(const pc_live *live, uint32_t as)
{
	if (as >= live->model->n_ases)
		return true;
	if (!atomic_load_explicit(&live->measured, memory_order_acquire))
		return false;
	return atomic_load_explicit(&live->as_measured[as], memory_order_acquire);
}

uint32_t pc_live_farm_cost(const pc_live *live, uint32_t as, uint32_t farm_as)
{
	const pc_model *model = live->model;
	if (as >= model->n_ases || farm_as >= model->n_ases)
		return PC_COST_INFINITE;
	uint32_t column = model->ases[farm_as].server_as;
	if (column == PC_NONE)
		return PC_COST_INFINITE;
	size_t cell = (size_t)as * model->n_server_ases + column;
	if (!atomic_load_explicit(&live->measured, memory_order_acquire))
		return model->path_costs[cell];
	uint32_t measured = atomic_load_explicit(&live->costs[cell], memory_order_relaxed);
	if (measured != PC_COST_STATIC)
		return measured;
	return model->path_costs[cell];
}

uint32_t pc_live_cdn_farm_cost(const pc_live *live, uint32_t as, uint32_t cdn, uint32_t farm)
{
	const pc_model *model = live->model;
	if (as >= model->n_ases || cdn >= model->n_cdns || farm >= model->cdns[cdn].n_farms)
		return PC_COST_INFINITE;
	if (atomic_load_explicit(&live->measured, memory_order_acquire))
		return pc_live_farm_cost(live, as, model->cdns[cdn].farm_as[farm]);
	return model
	    ->farm_costs[(size_t)as * model->n_farm_cells + model->cdns[cdn].farm_base + farm];
}

uint32_t pc_live_path_cost(const pc_live *live, uint32_t as, uint32_t server)
{
	if (server >= live->model->n_servers)
		return PC_COST_INFINITE;
	return pc_live_farm_cost(live, as, live->model->servers[server].as);
}

static uint32_t window_of(uint64_t now_ms)
{
	return (uint32_t)(now_ms / 1000);
}

bool pc_live_agreement_try_take(pc_live *live, uint32_t agreement, uint64_t now_ms)
{
	if (agreement >= live->model->n_agreements)
		return false;
	struct agreement_usage *usage = &live->agreements[agreement];
	uint32_t capacity = live->model->agreements[agreement].capacity_rps;
	uint32_t now = window_of(now_ms);
	uint64_t seen = atomic_load_explicit(&usage->window, memory_order_relaxed);
	for (;;) {
		uint32_t window = (uint32_t)(seen >> 32), count = (uint32_t)seen;
		/* A later window starts afresh; the same or an older one (a
		 * thread that read its clock a moment before another) counts
		 * against the current window, so a late caller cannot reopen
		 * a window that was already full. Serial arithmetic: windows
		 * are 32-bit seconds. */
		if ((int32_t)(now - window) > 0) {
			window = now;
			count = 0;
		}
		if (capacity != 0 && count >= capacity)
			return false;
		if (count == UINT32_MAX)
			return false; /* unlimited, but the counter is saturated */
		uint64_t next = (uint64_t)window << 32 | (count + 1);
		if (atomic_compare_exchange_weak_explicit(
		        &usage->window, &seen, next, memory_order_relaxed, memory_order_relaxed))
			break;
	}
	atomic_fetch_add_explicit(&usage->total, 1, memory_order_relaxed);
	return true;
}

uint32_t pc_live_agreement_window(const pc_live *live, uint32_t agreement, uint64_t now_ms)
{
	if (agreement >= live->model->n_agreements)
		return 0;
	uint64_t seen =
	    atomic_load_explicit(&live->agreements[agreement].window, memory_order_relaxed);
	return (uint32_t)(seen >> 32) == window_of(now_ms) ? (uint32_t)seen : 0;
}

uint64_t pc_live_agreement_total(const pc_live *live, uint32_t agreement)
{
	if (agreement >= live->model->n_agreements)
		return 0;
	return atomic_load_explicit(&live->agreements[agreement].total, memory_order_relaxed);
}

/* ---- replicas ---- */

/* Slot layout: tag (24) | server + 1 (24) | seconds (16). The bucket is
 * chosen by the low bits of the key and the tag taken from the high
 * ones, so the two are independent. */
#define REPLICA_SERVER_MAX 0xffffffu

uint64_t pc_live_object_key(const char *object, size_t len)
{
	return pc_hash_ci(object, len);
}

static uint64_t replica_tag(uint64_t key)
{
	return key >> 40;
}

static _Atomic uint64_t *replica_bucket(const pc_live *live, uint64_t key)
{
	return &live->replicas[(key % PC_REPLICA_BUCKETS) * PC_REPLICA_WAYS];
}

/* Seconds since slot was written, in serial arithmetic modulo 2^16; a
 * slot a moment in the future (another thread's clock read later) is of
 * age 0. */
static uint16_t replica_age(uint64_t slot, uint64_t now_ms)
{
	int16_t age = (int16_t)(uint16_t)((uint16_t)(now_ms / 1000) - (uint16_t)slot);
	return age < 0 ? 0 : (uint16_t)age;
}

static bool replica_live(uint64_t slot, uint64_t now_ms)
{
	return slot != 0 && replica_age(slot, now_ms) <= PC_REPLICA_TTL_S;
}

void pc_live_replica_add(pc_live *live, uint64_t key, uint32_t server, uint64_t now_ms)
{
	if (server >= live->model->n_servers || server >= REPLICA_SERVER_MAX)
		return;
	_Atomic uint64_t *bucket = replica_bucket(live, key);
	uint64_t mine = replica_tag(key) << 40 | (uint64_t)(server + 1) << 16;
	uint64_t slot = mine | (uint16_t)(now_ms / 1000);
	/* The same holder again refreshes its time; else an empty or
	 * forgotten way, else the oldest. Two writers racing for one way lose
	 * one memory: a hint less, never a wrong one. */
	unsigned pick = 0;
	int best = -1;
	for (unsigned w = 0; w < PC_REPLICA_WAYS; w++) {
		uint64_t seen = atomic_load_explicit(&bucket[w], memory_order_relaxed);
		if ((seen & ~(uint64_t)0xffff) == mine) {
			pick = w;
			break;
		}
		int age = replica_live(seen, now_ms) ? replica_age(seen, now_ms) : 0x10000;
		if (age > best) {
			best = age;
			pick = w;
		}
	}
	atomic_store_explicit(&bucket[pick], slot, memory_order_relaxed);
}

uint32_t pc_live_replicas(const pc_live *live, uint64_t key, uint64_t now_ms, uint32_t *out,
                          uint32_t max)
{
	const _Atomic uint64_t *bucket = replica_bucket(live, key);
	uint32_t n = 0;
	for (unsigned w = 0; w < PC_REPLICA_WAYS && n < max; w++) {
		uint64_t slot = atomic_load_explicit(&bucket[w], memory_order_relaxed);
		if (!replica_live(slot, now_ms) || slot >> 40 != replica_tag(key))
			continue;
		uint32_t server = (uint32_t)((slot >> 16) & REPLICA_SERVER_MAX) - 1;
		if (server >= live->model->n_servers)
			continue;
		bool dup = false;
		for (uint32_t i = 0; i < n; i++)
			dup |= out[i] == server;
		if (!dup)
			out[n++] = server;
	}
	return n;
}

/* Replicas keep their servers by name across a reload: an index of the
 * old model is rewritten to the fresh one's, and a server gone is
 * forgotten. */
static void carry_replicas(pc_live *fresh, const pc_live *old)
{
	const pc_model *fm = fresh->model, *om = old->model;
	uint32_t *to = malloc(((size_t)om->n_servers + 1) * sizeof(uint32_t));
	if (to == NULL)
		return;
	for (uint32_t s = 0; s < om->n_servers; s++)
		to[s] = pc_model_server(fm, om->servers[s].name);
	for (size_t i = 0; i < (size_t)PC_REPLICA_BUCKETS * PC_REPLICA_WAYS; i++) {
		uint64_t slot = atomic_load_explicit(&old->replicas[i], memory_order_relaxed);
		uint32_t server = (uint32_t)((slot >> 16) & REPLICA_SERVER_MAX) - 1;
		if (slot == 0 || server >= om->n_servers || to[server] == PC_NONE ||
		    to[server] >= REPLICA_SERVER_MAX)
			continue;
		slot = (slot & ~((uint64_t)REPLICA_SERVER_MAX << 16)) | (uint64_t)(to[server] + 1)
		                                                            << 16;
		atomic_store_explicit(&fresh->replicas[i], slot, memory_order_relaxed);
	}
	free(to);
}

/* Carries measured costs between ASes known to both models by ASN. The
 * old model's AS index of each fresh AS is looked up once. */
static void carry_costs(pc_live *fresh, const pc_live *old)
{
	const pc_model *fm = fresh->model, *om = old->model;
	if (fresh->n_costs == 0 || old->n_costs == 0)
		return;
	uint32_t *old_as = malloc((size_t)fm->n_ases * sizeof(uint32_t));
	if (old_as == NULL)
		return;
	for (uint32_t a = 0; a < fm->n_ases; a++)
		old_as[a] = pc_model_as_by_asn(om, fm->ases[a].asn);
	for (uint32_t to = 0; to < fm->n_ases; to++) {
		uint32_t column = fm->ases[to].server_as;
		if (column == PC_NONE || old_as[to] == PC_NONE)
			continue;
		uint32_t old_column = om->ases[old_as[to]].server_as;
		if (old_column == PC_NONE)
			continue;
		for (uint32_t from = 0; from < fm->n_ases; from++) {
			if (old_as[from] == PC_NONE)
				continue;
			size_t src = (size_t)old_as[from] * om->n_server_ases + old_column;
			size_t dst = (size_t)from * fm->n_server_ases + column;
			uint32_t cost =
			    atomic_load_explicit(&old->costs[src], memory_order_relaxed);
			atomic_store_explicit(&fresh->costs[dst], cost, memory_order_relaxed);
			if (cost != PC_COST_STATIC)
				mark_measured(fresh, from);
		}
	}
	free(old_as);
}

/* ---- offers (claim 9) ---- */

static size_t footprint_words(const pc_model *model)
{
	return ((size_t)model->n_ases + 63) / 64 + 1;
}

/* cdn's footprint bitmap, allocated on first use; NULL when out of memory. */
static _Atomic uint64_t *footprint_of(pc_live *live, struct offer *o)
{
	_Atomic uint64_t *bits = atomic_load(&o->ases);
	if (bits != NULL)
		return bits;
	size_t words = footprint_words(live->model);
	_Atomic uint64_t *fresh = malloc(words * sizeof(*fresh));
	if (fresh == NULL)
		return NULL;
	for (size_t i = 0; i < words; i++)
		atomic_init(&fresh[i], 0);
	if (!atomic_compare_exchange_strong(&o->ases, &bits, fresh)) {
		free((void *)fresh);
		return bits;
	}
	return fresh;
}

int pc_live_offer_set(pc_live *live, uint32_t cdn, const struct pc_live_offer *offer,
                      const uint32_t *ases, uint32_t n_ases, uint64_t now_ms)
{
	const pc_model *model = live->model;
	if (cdn >= model->n_cdns || offer == NULL || (n_ases > 0 && ases == NULL))
		return PC_EINVAL;
	for (uint32_t i = 0; i < n_ases; i++)
		if (ases[i] >= model->n_ases)
			return PC_EINVAL;
	struct offer *o = &live->offers[cdn];
	if (offer->version <= atomic_load_explicit(&o->version, memory_order_relaxed))
		return PC_EEXIST;
	if (offer->footprint) {
		_Atomic uint64_t *bits = footprint_of(live, o);
		size_t words = footprint_words(model);
		uint64_t *next = calloc(words, sizeof(*next));
		if (bits == NULL || next == NULL) {
			free(next);
			return PC_ENOMEM;
		}
		for (uint32_t i = 0; i < n_ases; i++)
			next[ases[i] / 64] |= UINT64_C(1) << (ases[i] % 64);
		/* Word by word: a reader sees each word old or new. */
		for (size_t w = 0; w < words; w++)
			atomic_store_explicit(&bits[w], next[w], memory_order_relaxed);
		free(next);
	}
	atomic_store_explicit(&o->services, offer->services, memory_order_relaxed);
	atomic_store_explicit(&o->capacity, offer->capacity, memory_order_relaxed);
	atomic_store_explicit(&o->footprint, offer->footprint, memory_order_relaxed);
	atomic_store_explicit(&o->received_ms, now_ms, memory_order_relaxed);
	atomic_store_explicit(&o->version, offer->version, memory_order_release);
	return PC_OK;
}

bool pc_live_offer(const pc_live *live, uint32_t cdn, uint64_t now_ms, struct pc_live_offer *out)
{
	if (cdn >= live->model->n_cdns)
		return false;
	struct offer *o = &live->offers[cdn];
	uint64_t version = atomic_load_explicit(&o->version, memory_order_acquire);
	if (version == 0)
		return false;
	uint64_t received = atomic_load_explicit(&o->received_ms, memory_order_relaxed);
	if (now_ms >= received + PC_OFFER_TTL_MS)
		return false;
	*out = (struct pc_live_offer){
	    .version = version,
	    .services = atomic_load_explicit(&o->services, memory_order_relaxed),
	    .capacity = atomic_load_explicit(&o->capacity, memory_order_relaxed),
	    .footprint = atomic_load_explicit(&o->footprint, memory_order_relaxed),
	};
	return true;
}

bool pc_live_offer_covers(const pc_live *live, uint32_t cdn, uint32_t as)
{
	if (cdn >= live->model->n_cdns || as >= live->model->n_ases)
		return false;
	_Atomic uint64_t *bits =
	    atomic_load_explicit(&live->offers[cdn].ases, memory_order_acquire);
	return bits != NULL &&
	       (atomic_load_explicit(&bits[as / 64], memory_order_relaxed) >> (as % 64) & 1);
}

uint64_t pc_live_cdn_load(const pc_live *live, uint32_t cdn)
{
	if (cdn >= live->model->n_cdns)
		return 0;
	const struct pc_cdn *c = &live->model->cdns[cdn];
	uint64_t sum = 0;
	for (uint32_t i = 0; i < c->servers.count; i++)
		sum += (uint32_t)atomic_load_explicit(&live->servers[c->member_base + i].state,
		                                      memory_order_relaxed);
	return sum;
}

/* Services map by name, footprints by ASN; the time received carries, so
 * an offer expires when it would have without the reload. */
static void carry_offers(pc_live *fresh, const pc_live *old)
{
	const pc_model *fm = fresh->model, *om = old->model;
	uint32_t *ases = calloc((size_t)fm->n_ases + 1, sizeof(*ases));
	if (ases == NULL)
		return;
	for (uint32_t c = 0; c < fm->n_cdns; c++) {
		uint32_t oc = pc_model_cdn(om, fm->cdns[c].name);
		struct pc_live_offer offer;
		const struct offer *from = oc != PC_NONE ? &old->offers[oc] : NULL;
		if (from == NULL || atomic_load(&from->version) == 0)
			continue;
		offer = (struct pc_live_offer){
		    .version = atomic_load(&from->version),
		    .capacity = atomic_load(&from->capacity),
		    .footprint = atomic_load(&from->footprint),
		};
		uint64_t services = atomic_load(&from->services);
		for (uint32_t v = 0; v < om->n_services && v < 64; v++) {
			uint32_t to = pc_model_service(fm, om->services[v].name);
			if ((services >> v & 1) && to != PC_NONE && to < 64)
				offer.services |= UINT64_C(1) << to;
		}
		uint32_t n = 0;
		for (uint32_t a = 0; offer.footprint && a < om->n_ases; a++) {
			uint32_t to = pc_live_offer_covers(old, oc, a)
			                  ? pc_model_as_by_asn(fm, om->ases[a].asn)
			                  : PC_NONE;
			if (to != PC_NONE && n < fm->n_ases)
				ases[n++] = to;
		}
		pc_live_offer_set(fresh, c, &offer, ases, n, atomic_load(&from->received_ms));
	}
	free(ases);
}

void pc_live_carry(pc_live *fresh, const pc_live *old)
{
	if (fresh == NULL || old == NULL)
		return;
	const pc_model *fm = fresh->model, *om = old->model;
	for (uint32_t s = 0; s < fm->n_servers; s++) {
		uint32_t o = pc_model_server(om, fm->servers[s].name);
		if (o == PC_NONE)
			continue;
		pc_live_set_load(fresh, s, pc_live_load(old, o));
		pc_live_set_health(fresh, s, pc_live_health(old, o));
	}
	for (uint32_t a = 0; a < fm->n_agreements; a++) {
		uint32_t o = pc_model_agreement(om, fm->agreements[a].name);
		if (o == PC_NONE)
			continue;
		const struct agreement_usage *from = &old->agreements[o];
		struct agreement_usage *to = &fresh->agreements[a];
		atomic_store_explicit(&to->window,
		                      atomic_load_explicit(&from->window, memory_order_relaxed),
		                      memory_order_relaxed);
		atomic_store_explicit(&to->total,
		                      atomic_load_explicit(&from->total, memory_order_relaxed),
		                      memory_order_relaxed);
	}
	carry_costs(fresh, old);
	carry_replicas(fresh, old);
	carry_offers(fresh, old);
}
