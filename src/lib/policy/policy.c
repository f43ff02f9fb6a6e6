/* The decision of DESIGN.md §2: which branch of claims 1-2 applies, which
 * CDN serves, and which of its servers survive the pruning of claims 15-16
 * (with claim 13's spill to farther farms and claim 19's preferences).
 * Everything lives on the caller's stack: no allocation, no lock, no I/O,
 * so any number of threads may decide at once. docs/policy.md is the
 * operator's description of the same rules. */
#include "lib/policy/policy.h"

#include <string.h>

#include "lib/base/err.h"
#include "lib/base/strmap.h"

/* Survivors kept per CDN. A CDN with more survivors keeps the best by
 * score, so only an affinity band wider than this many servers loses
 * members; the decision stays correct, the spread a little narrower. */
#define MAX_CANDIDATES 256

struct candidate {
	uint32_t server, cost, score;
	bool taken;         /* already placed in the answer */
	bool in_band;       /* within the affinity band of the best (answer) */
	uint64_t name_hash; /* the server's (pc_cdn_member), for the rank */
	uint64_t rank;      /* rendezvous hash, band members with an object only */
};

/* The survivors of one CDN. Unordered until full, then a max-heap on
 * (score, cost, server) so the worst is replaced in O(log n). */
struct pool {
	uint32_t cdn, count;
	uint32_t best;      /* index of the best by better(), once count > 0 */
	uint32_t full_cost; /* nearest path cost of a server pruned for load */
	uint32_t agreement; /* an exchange's partner: the agreement it serves under */
	bool heap, spilled;
	struct candidate items[MAX_CANDIDATES];
};

struct decide {
	const pc_model *model;
	pc_live *live;
	const pc_request *req;
	pc_decision *out;
	pc_trace *trace;
	const struct pc_grade *grade;
	const struct pc_index_list *primaries;   /* the provider's primary CDNs */
	uint64_t primary_bits;                   /* those below 64, as bits: is_primary */
	const struct pc_index_list *client_cdns; /* the client AS's CDNs, or NULL */
	uint32_t max_answers;
	uint32_t preferred_tried; /* CDN tried for the client's preference, or PC_NONE */
	uint32_t relax;           /* 0, or the enum pc_pass RELAX_* in force (OUTSIDE only) */
	/* OUTSIDE's best score so far (try_rival), UINT64_MAX when none: the
	 * shortlist scan stops at a farm farther than it, and says so in
	 * rival_cut. */
	uint64_t rival;
	bool rival_cut;
	/* Found once per decision for every scan: whether the shortlist
	 * applies (collect), and the static filter's set for the request's
	 * service, grade and family (collect_near). */
	bool shortlist;
	const uint64_t *filter;
};

/* The grade's distance limit, lifted by the relaxation of OUTSIDE. */
static uint32_t path_limit(const struct decide *d)
{
	return d->relax >= PC_PASS_RELAX_COST ? PC_COST_INFINITE : d->grade->max_path_cost;
}

static void trace_add(struct decide *d, enum pc_trace_kind kind, uint32_t a, uint32_t b, uint32_t c)
{
	pc_trace *trace = d->trace;
	if (trace == NULL)
		return;
	if (trace->count >= PC_TRACE_MAX) {
		trace->truncated = true;
		return;
	}
	trace->steps[trace->count++] = (struct pc_trace_step){(uint8_t)kind, a, b, c};
}

static void flag(struct decide *d, enum pc_decision_flag f)
{
	if (d->out->flags & f)
		return;
	d->out->flags |= f;
	trace_add(d, PC_TRACE_NOTE, f, 0, 0);
}

static uint64_t mix64(uint64_t x)
{
	/* splitmix64's finaliser: every input bit moves every output bit. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* Lexicographic (score, cost, server): the order without affinity. */
static bool better(const struct candidate *a, const struct candidate *b)
{
	if (a->score != b->score)
		return a->score < b->score;
	if (a->cost != b->cost)
		return a->cost < b->cost;
	return a->server < b->server;
}

static void sift_down(struct pool *pool, uint32_t i)
{
	for (;;) {
		uint32_t worst = i, l = 2 * i + 1, r = l + 1;
		if (l < pool->count && better(&pool->items[worst], &pool->items[l]))
			worst = l;
		if (r < pool->count && better(&pool->items[worst], &pool->items[r]))
			worst = r;
		if (worst == i)
			return;
		struct candidate t = pool->items[i];
		pool->items[i] = pool->items[worst];
		pool->items[worst] = t;
		i = worst;
	}
}

/* pool_add's rare case: the pool is full, keep the best. The heap moves
 * items, so the best is looked for again. */
static void pool_replace_worst(struct pool *pool, struct candidate c)
{
	if (!pool->heap) {
		for (uint32_t i = pool->count / 2; i-- > 0;)
			sift_down(pool, i);
		pool->heap = true;
	}
	if (better(&c, &pool->items[0])) {
		pool->items[0] = c;
		sift_down(pool, 0);
	}
	pool->best = 0;
	for (uint32_t i = 1; i < pool->count; i++)
		if (better(&pool->items[i], &pool->items[pool->best]))
			pool->best = i;
}

/* Keeps the best as it goes: the first of the minimum by better(), as a
 * scan of the items would find it (the order is strict on distinct
 * servers). */
static inline void pool_add(struct pool *pool, struct candidate c)
{
	if (pool->count < MAX_CANDIDATES) {
		pool->items[pool->count] = c;
		if (pool->count == 0 || better(&c, &pool->items[pool->best]))
			pool->best = pool->count;
		pool->count++;
	} else {
		pool_replace_worst(pool, c);
	}
}

/* pool_add for the shortlist scan: the fields stored one by one, as the
 * candidate built whole went through the stack. in_band is answer's to
 * set, and rank too: it reads the rank of band members only, which it
 * has set. */
static inline void pool_push(struct pool *pool, uint32_t server, uint32_t cost, uint32_t score,
                             uint64_t name_hash)
{
	uint32_t n = pool->count;
	if (n >= MAX_CANDIDATES) {
		pool_replace_worst(pool, (struct candidate){.server = server,
		                                            .cost = cost,
		                                            .score = score,
		                                            .name_hash = name_hash});
		return;
	}
	struct candidate *c = &pool->items[n];
	c->server = server;
	c->cost = cost;
	c->score = score;
	c->taken = false;
	c->name_hash = name_hash;
	if (n == 0 || better(c, &pool->items[pool->best]))
		pool->best = n;
	pool->count = n + 1;
}

static const struct candidate *pool_best(const struct pool *pool)
{
	return pool->count > 0 ? &pool->items[pool->best] : NULL;
}

static bool has_family(const struct pc_cdn_member *member, uint8_t family)
{
	if (family == PC_AF_NONE)
		return true;
	return member->families & (family == PC_AF_INET ? 1 : 2);
}

static bool avoided(const pc_request *req, uint32_t server)
{
	for (uint32_t i = 0; i < req->n_avoid; i++)
		if (req->avoid[i] == server)
			return true;
	return false;
}

/* The reasons that do not depend on distance or load, cheapest first. */
static enum pc_prune_reason static_reason(const struct decide *d,
                                          const struct pc_cdn_member *member)
{
	uint32_t s = member->server;
	if (!(member->service_mask >> d->req->service & 1))
		return PC_PRUNE_SERVICE;
	if (member->tier >= PC_MAX_TIERS || !(d->grade->tier_mask >> member->tier & 1))
		return PC_PRUNE_GRADE_TIER;
	if (!has_family(member, d->req->family))
		return PC_PRUNE_FAMILY;
	if (avoided(d->req, s))
		return PC_PRUNE_AVOIDED;
	if (pc_live_health(d->live, s) != PC_HEALTH_UP)
		return PC_PRUNE_DOWN;
	return 0;
}

/* One pass over a CDN's servers. The first pass admits paths within the
 * grade's limit and traces every prune; the spill pass (claim 13) admits
 * only paths in (limit, limit + spill_max_cost] and traces only what it
 * adds, since everything else was traced by the first pass. Returns how
 * many servers within the limit were pruned for load alone. */
/* The full scan: traced, or a client AS with measured costs. */
static uint32_t collect_all(struct decide *d, struct pool *pool, bool spill)
{
	const pc_model *model = d->model;
	const struct pc_cdn *cdn = &model->cdns[pool->cdn];
	uint64_t limit = path_limit(d);
	uint64_t spill_limit = limit + model->params.spill_max_cost;
	uint64_t watermark =
	    d->relax >= PC_PASS_RELAX_LOAD ? 100 : model->params.high_watermark_pct;
	uint32_t client_as = d->out->client_as;
	uint32_t near_load = 0;
	/* A CDN's servers are sorted by AS (pc_model_finish): one cost look-up
	 * per farm. */
	uint32_t farm = PC_NONE, farm_cost = PC_COST_INFINITE;
	bool in_range = false;
	for (uint32_t i = 0; i < cdn->servers.count; i++) {
		const struct pc_cdn_member *member = &cdn->members[i];
		uint32_t s = member->server;
		/* An unknown client AS (no network, no node) has no distance:
		 * everything is unreachable rather than everything near. */
		if (member->farm != farm) {
			farm = member->farm;
			farm_cost = client_as == PC_NONE ? PC_COST_INFINITE
			                                 : pc_live_cdn_farm_cost(d->live, client_as,
			                                                         pool->cdn, farm);
			in_range = spill ? farm_cost > limit && farm_cost <= spill_limit
			                 : farm_cost <= limit;
			/* Untraced, a farm out of range is skipped whole: its servers
			 * could only be pruned. Traced, each gets its reason. */
			if (!in_range && d->trace == NULL) {
				while (i + 1 < cdn->servers.count &&
				       cdn->members[i + 1].farm == farm)
					i++;
				continue;
			}
		}
		enum pc_prune_reason reason = static_reason(d, member);
		if (reason != 0) {
			/* The spill pass lists only the farms it adds. */
			if (!spill || in_range)
				trace_add(d, PC_TRACE_PRUNE, s, reason, 0);
			continue;
		}
		uint32_t cost = farm_cost;
		bool within = cost != PC_COST_INFINITE && cost <= limit;
		if (!spill && !within) {
			trace_add(d, PC_TRACE_PRUNE, s, PC_PRUNE_PATH_COST, cost);
			continue;
		}
		if (spill && (within || cost == PC_COST_INFINITE || cost > spill_limit))
			continue;
		uint64_t load = pc_live_load(d->live, s);
		if (load * 100 >= (uint64_t)member->capacity * watermark) {
			uint64_t pct = member->capacity ? load * 100 / member->capacity : 100;
			trace_add(d, PC_TRACE_PRUNE, s, PC_PRUNE_LOAD,
			          pct > UINT32_MAX ? UINT32_MAX : (uint32_t)pct);
			near_load += !spill;
			if (!spill && cost < pool->full_cost)
				pool->full_cost = cost;
			continue;
		}
		/* Below the watermark, so load < capacity and the penalty is
		 * below load_weight. */
		uint64_t score =
		    cost + (uint64_t)model->params.load_weight * load / member->capacity;
		if (score >= PC_COST_INFINITE)
			score = PC_COST_INFINITE - 1;
		trace_add(d, PC_TRACE_CANDIDATE, s, cost, (uint32_t)score);
		pool_add(pool, (struct candidate){.server = s,
		                                  .cost = cost,
		                                  .score = (uint32_t)score,
		                                  .name_hash = member->name_hash});
	}
	return near_load;
}

/* The widest affinity band answer() can give a best score of best: its
 * band at the best's distance, best + max(best, load_weight) x
 * affinity_band / 100 (near_band = load_weight x affinity_band / 100). The
 * best score only falls as the scan goes on, and this bound with it, so a
 * server above it now is outside the final band too. */
static uint64_t band_top(uint64_t best, uint64_t pct, uint64_t near_band)
{
	uint64_t farther = best * pct / 100;
	return best + (near_band > farther ? near_band : farther);
}

/* For collect_near: a server at path cost cost with load < capacity (it
 * passed the watermark) scores above bound exactly when load_weight *
 * load >= cut * capacity. Its score is cost + load_weight * load /
 * capacity (floored), clamped below PC_COST_INFINITE: above bound when the
 * penalty is at least bound - cost + 1 (bound >= cost, or the farm would
 * have been cut), never when bound is at or past the clamp. The penalty
 * is below load_weight, so a cut of load_weight + 1 never holds: it
 * stands for "no cut" and caps the product. The scan keeps bound as
 * cut_from(bound), so the cut of each farm is a subtraction and a
 * minimum. */
#define NO_CUT (UINT64_C(1) << 62) /* past any cost + load_weight + 1 */

static uint64_t cut_from(uint64_t bound)
{
	return bound >= PC_COST_INFINITE - 1 ? NO_CUT : bound + 1;
}

static uint64_t penalty_cut(uint64_t from, uint64_t cost, uint64_t no_cut)
{
	uint64_t cut = from - cost;
	return cut < no_cut ? cut : no_cut;
}

/* The shortlist scan (issue 9): collect's pass for a client AS without
 * measured costs and no trace, reading the CDN's farms nearest first
 * (model->reach) and stopping at the first farm that cannot change the
 * answer. A server scoring above both the widest affinity band of the best
 * score (band_top) and the max_answers-th best score is outside the band
 * and behind enough better ones: never picked, so it need not enter the
 * pool. Each server scores at least its farm's cost, so once a farm's cost
 * is above both, it and every farther farm hold only such servers. The
 * limits are collect's: path_limit and the watermark as the relaxation of
 * OUTSIDE leaves them. pool->full_cost is exact up to the farm where the
 * scan stops, and the winner is always nearer than that farm, so the SPILL
 * note of a grade without a distance limit comes out the same. Pruned
 * servers leave no mark without a trace, so static_reason's list comes
 * in two parts: what the model alone decides (service, the grade's tier,
 * family) is one word of a bit set made at load, so a server it rules
 * out is never read; avoided servers are cleared from
 * the set too, and health is tested per server left. Keep the rules here in step with collect's:
 * test_shortlist and bench/decide compare the two. */
static inline __attribute__((always_inline)) uint32_t collect_near(struct decide *d,
                                                                   struct pool *pool, bool spill)
{
	const pc_model *model = d->model;
	const pc_request *req = d->req;
	const struct pc_cdn *cdn = &model->cdns[pool->cdn];
	uint32_t client_as = d->out->client_as;
	if (client_as >= model->n_ases || model->reach == NULL)
		return 0; /* no client AS: nothing is reachable, nothing near is full */
	/* pc_model_reach, without the call */
	const struct pc_reach *reach =
	    &model->reach[(size_t)client_as * model->n_reach_cells + cdn->reach_base];
	/* Every farm farther than OUTSIDE's rival (try_rival): the loop below
	 * would stop at the first, so the set-up is not worth making. A
	 * saturated cell (PC_REACH_FAR) is a lower bound of the cost. */
	if (d->rival != UINT64_MAX && cdn->n_farms > 0 && reach[0].cost > d->rival) {
		d->rival_cut = true;
		return 0;
	}
	/* Locals, so that the stores into the pool cannot make the compiler
	 * read them again per server. */
	const struct pc_live_server *states = pc_live_servers(d->live);
	const struct pc_slot_pick *picks = model->slot_pick;
	const uint32_t *farm_first = cdn->farm_first;
	uint32_t base = cdn->member_base, n_farms = cdn->n_farms;
	uint64_t limit = path_limit(d);
	uint64_t spill_limit = limit + model->params.spill_max_cost;
	/* the watermark in force: full_load[1] is the capacity (100 %) */
	uint32_t relaxed = d->relax >= PC_PASS_RELAX_LOAD;
	uint64_t load_weight = model->params.load_weight;
	uint64_t pct = model->params.affinity_band;
	uint64_t near_band = load_weight * pct / 100; /* answer's band at the best's distance */
	/* static_reason's service, tier and family, as one bit set over slots
	 * (pc_model.filter_slots); avoided and health are read per server. */
	const uint64_t *filter = d->filter;
	uint32_t want = d->max_answers, n_top = 0, near_load = 0, n_avoid = req->n_avoid;
	uint64_t rival = d->rival;
	/* avoided, as slots: cleared from each word's set, so the servers
	 * left need no test (server_slot is one-to-one) */
	uint32_t avoid_slots[PC_MAX_AVOID];
	for (uint32_t i = 0; i < n_avoid; i++)
		avoid_slots[i] = req->avoid[i] < model->n_servers
		                     ? model->server_slot[req->avoid[i]]
		                     : UINT32_MAX;
	uint64_t top[PC_MAX_ANSWERS]; /* the want lowest scores so far, ascending */
	/* A score above bound is never picked: max(top[want - 1],
	 * band_top(top[0])) once want scores are in, none before; kept as
	 * from = cut_from(bound). */
	uint64_t from = NO_CUT, no_cut = load_weight + 1;
	for (uint32_t r = 0; r < n_farms; r++) {
		uint64_t cost = reach[r].cost;
		if (cost == PC_REACH_FAR) /* far or unreachable: the exact cost */
			cost = pc_reach_cost(model, client_as, pool->cdn, &reach[r]);
		if (cost == PC_COST_INFINITE || cost > (spill ? spill_limit : limit))
			break;
		if (spill && cost <= limit)
			continue; /* the first pass had these */
		if (cost >= from) /* cost > bound */
			break;
		if (cost > rival) {
			d->rival_cut = true;
			break;
		}
		uint64_t cut = penalty_cut(from, cost, no_cut);
		uint32_t farm = reach[r].farm;
		uint32_t lo = base + farm_first[farm], last = base + farm_first[farm + 1] - 1;
		uint32_t w = lo / 64, w_last = last / 64;
		for (uint64_t left = filter[w] & ~0ULL << (lo % 64);; left = filter[++w]) {
			if (w == w_last)
				left &= ~0ULL >> (63 - last % 64);
			for (uint32_t i = 0; i < n_avoid; i++)
				if (avoid_slots[i] / 64 == w)
					left &= ~(1ULL << avoid_slots[i] % 64);
			for (; left != 0; left &= left - 1) {
				uint32_t slot = w * 64 + (uint32_t)__builtin_ctzll(left);
				/* up and below the watermark: one compare (live.h) */
				uint64_t state =
				    atomic_load_explicit(&states[slot].state, memory_order_relaxed);
				uint64_t load = (uint32_t)state;
				if (state >= states[slot].full_load[relaxed]) {
					if (state >> 32 != PC_HEALTH_UP)
						continue;
					near_load += !spill;
					/* Farms come nearest first: the first is the nearest. */
					if (!spill && cost < pool->full_cost)
						pool->full_cost = (uint32_t)cost;
					continue;
				}
				/* score > bound, without dividing (penalty_cut) */
				uint64_t capacity = states[slot].full_load[1];
				if (load_weight * load >= cut * capacity)
					continue;
				uint64_t score = cost + load_weight * load / capacity;
				if (score >= PC_COST_INFINITE)
					score = PC_COST_INFINITE - 1;
				const struct pc_slot_pick *pick = &picks[slot];
				pool_push(pool, pick->server, (uint32_t)cost, (uint32_t)score,
				          pick->name_hash);
				if (n_top == want && score >= top[want - 1])
					continue;
				uint32_t at = n_top < want ? n_top++ : want - 1;
				for (; at > 0 && top[at - 1] > score; at--)
					top[at] = top[at - 1];
				top[at] = score;
				if (n_top == want) {
					/* band_top(x) >= x: one answer needs no max */
					uint64_t bound = band_top(top[0], pct, near_band);
					if (want > 1 && bound < top[want - 1])
						bound = top[want - 1];
					from = cut_from(bound);
					cut = penalty_cut(from, cost, no_cut);
				}
			}
			if (w == w_last)
				break;
		}
	}
	return near_load;
}

/* The shortlist's two passes, each a function with spill a constant: the
 * first pass's scan tests nothing of the spill pass's. */
static __attribute__((noinline)) uint32_t collect_first(struct decide *d, struct pool *pool)
{
	return collect_near(d, pool, false);
}

static __attribute__((noinline)) uint32_t collect_spill(struct decide *d, struct pool *pool)
{
	return collect_near(d, pool, true);
}

/* d->shortlist: see pc_policy_decide. */
static inline uint32_t collect(struct decide *d, struct pool *pool, bool spill)
{
	if (d->shortlist)
		return spill ? collect_spill(d, pool) : collect_first(d, pool);
	return collect_all(d, pool, spill);
}

/* Claim 9: a CDN that serves here only under an agreement (not a primary
 * CDN of the provider: PEER, or an exchange's partner) is held to what it
 * offers us, when an offer is in force (pc_live_offer; none: the agreement
 * alone decides). Returns whether the offer keeps cdn out of this decision:
 * a service it does not offer, a client outside the footprint it offers,
 * or its servers' summed load at the capacity it offers (docs/policy.md,
 * "Offers"). */
static bool is_primary(const struct decide *d, uint32_t cdn);

static bool offer_refuses(struct decide *d, uint32_t cdn)
{
	struct pc_live_offer offer;
	/* A primary CDN first: the common case reads no live offer. */
	if (is_primary(d, cdn) || !pc_live_offer(d->live, cdn, d->req->now_ms, &offer))
		return false;
	enum pc_offer_refusal why;
	uint64_t load = 0;
	if (!(offer.services >> d->req->service & 1)) {
		why = PC_OFFER_SERVICE;
	} else if (offer.footprint && (d->out->client_as == PC_NONE ||
	                               !pc_live_offer_covers(d->live, cdn, d->out->client_as))) {
		why = PC_OFFER_FOOTPRINT;
	} else {
		load = pc_live_cdn_load(d->live, cdn);
		if (load < offer.capacity)
			return false;
		why = PC_OFFER_CAPACITY;
	}
	trace_add(d, PC_TRACE_OFFER, cdn, why, load > UINT32_MAX ? UINT32_MAX : (uint32_t)load);
	flag(d, PC_DF_OFFER);
	return true;
}

/* Collects a CDN's survivors into pool, spilling to farther farms when
 * every nearer server that could serve was full (claim 13: "redirection in
 * remote autonomous systems to load balance server farms in nearby
 * autonomous systems"; §4: "if the entire local service facility becomes
 * fully loaded, ... redirect the client deeper into the network"). Servers
 * down or avoided do not prevent a spill: it happens when no server within
 * the grade's limit survived and at least one of them was pruned for load.
 * Returns whether any server survived. */
static bool try_cdn(struct decide *d, enum pc_branch branch, uint32_t cdn, struct pool *pool)
{
	pool->cdn = cdn;
	pool->count = 0;
	pool->heap = false;
	pool->spilled = false;
	pool->full_cost = PC_COST_INFINITE;
	pool->agreement = PC_NONE;
	if (branch != PC_BRANCH_NONE)
		trace_add(d, PC_TRACE_BRANCH, branch, cdn, 0);
	if (offer_refuses(d, cdn))
		return false;
	uint32_t near_load = collect(d, pool, false);
	if (pool->count == 0 && near_load > 0 && path_limit(d) != PC_COST_INFINITE &&
	    d->model->params.spill_max_cost > 0) {
		uint64_t to = (uint64_t)d->grade->max_path_cost + d->model->params.spill_max_cost;
		trace_add(d, PC_TRACE_PASS, PC_PASS_SPILL, d->grade->max_path_cost,
		          to >= PC_COST_INFINITE ? PC_COST_INFINITE - 1 : (uint32_t)to);
		collect(d, pool, true);
		pool->spilled = pool->count > 0;
	}
	return pool->count > 0;
}

/* A branch inside one CDN found nothing: later branches are fallbacks. */
static void branch_failed(struct decide *d)
{
	flag(d, PC_DF_FALLBACK);
}

/* Orders the answer: within the affinity band of the best score, by the
 * rendezvous hash of object and server name when an object is given (so
 * one object keeps to one server while its score stays in the band, and
 * objects spread over the band), a server known to hold the object
 * (replicas) and then the one remembered for it coming before the hash's
 * order; then the rest by score. Holders outside the band, or pruned, are
 * not preferred: a replica never overrides distance, load or grade.
 *
 * The band is relative, so it means the same at any cost scale (links of
 * cost 1 as in fig. 20, or of 10): a server is in it when its score is
 * within affinity_band % of the best score, or, at the best's distance or
 * nearer, within affinity_band % of load_weight (a load that much higher).
 * A farther server never joins a best of score 0: nobody is sent past
 * their nearest server by the hash. */
/* answer's first pick: the path cost, the spill and the winner. */
static inline __attribute__((always_inline)) void
answer_first(struct decide *d, const struct pool *pool, const struct candidate *pick)
{
	d->out->path_cost = pick->cost;
	/* Without a distance limit there is no spill pass: a full nearer
	 * server losing to a farther farm is the spill. */
	if (pool->spilled || (path_limit(d) == PC_COST_INFINITE && pick->cost > pool->full_cost)) {
		flag(d, PC_DF_SPILL);
		trace_add(d, PC_TRACE_SPILL, pick->server, pick->cost, 0);
	}
	trace_add(d, PC_TRACE_WINNER, pick->server, pick->score, 0);
}

static void answer(struct decide *d, enum pc_branch branch, struct pool *pool)
{
	const pc_model *model = d->model;
	pc_decision *out = d->out;
	out->branch = branch;
	out->cdn = pool->cdn;
	const struct candidate *best = pool_best(pool);
	/* One candidate (a CDSR decision's PEER on a single server), or one
	 * answer without an object: without affinity the pick loop below
	 * takes the best first (it is in the band, and better() than every
	 * other member). */
	if (pool->count == 1 || (d->max_answers == 1 && d->req->object == NULL)) {
		out->n_servers = 1;
		out->servers[0] = best->server;
		answer_first(d, pool, best);
		return;
	}
	uint64_t pct = model->params.affinity_band;
	uint64_t farther = (uint64_t)best->score * pct / 100;
	uint64_t near = (uint64_t)model->params.load_weight * pct / 100;
	if (near < farther)
		near = farther;
	uint64_t band_far = best->score + farther, band_near = best->score + near;
	uint32_t in_band = 0;
	for (uint32_t i = 0; i < pool->count; i++) {
		struct candidate *c = &pool->items[i];
		c->in_band = c->score <= (c->cost <= best->cost ? band_near : band_far);
		in_band += c->in_band;
	}
	bool affinity = d->req->object != NULL && in_band > 1;
	if (!affinity && d->max_answers == 1) {
		out->n_servers = 1;
		out->servers[0] = best->server;
		answer_first(d, pool, best);
		return;
	}
	if (affinity) {
		uint64_t object = pc_live_object_key(d->req->object, d->req->object_len);
		uint32_t holders[PC_REPLICA_WAYS];
		uint32_t n_holders =
		    pc_live_replicas(d->live, object, d->req->now_ms, holders, PC_REPLICA_WAYS);
		for (uint32_t i = 0; i < pool->count; i++) {
			struct candidate *c = &pool->items[i];
			if (!c->in_band)
				continue;
			/* The rendezvous hash, below two bits of preference: a
			 * server known to hold the object (replicas, live.h)
			 * first, then the one remembered for it (sticky), so a
			 * copy already made is used before another is. */
			c->rank = mix64(object ^ c->name_hash) >> 2;
			for (uint32_t h = 0; h < n_holders; h++)
				if (holders[h] == c->server) {
					c->rank |= UINT64_C(1) << 63;
					trace_add(d, PC_TRACE_REPLICA, c->server, 0, 0);
				}
			if (c->server == d->req->sticky_server)
				c->rank |= UINT64_C(1) << 62;
		}
	}
	out->n_servers = 0;
	while (out->n_servers < d->max_answers) {
		struct candidate *pick = NULL;
		for (uint32_t i = 0; i < pool->count; i++) {
			struct candidate *c = &pool->items[i];
			if (c->taken)
				continue;
			if (pick == NULL) {
				pick = c;
				continue;
			}
			bool c_band = c->in_band, p_band = pick->in_band;
			if (c_band != p_band) {
				if (c_band)
					pick = c;
			} else if (affinity && c_band) {
				if (c->rank > pick->rank ||
				    (c->rank == pick->rank && c->server < pick->server))
					pick = c;
			} else if (better(c, pick)) {
				pick = c;
			}
		}
		if (pick == NULL)
			break;
		pick->taken = true;
		if (out->n_servers == 0) {
			answer_first(d, pool, pick);
			if (affinity && pick->rank >> 63)
				flag(d, PC_DF_REPLICA);
		}
		out->servers[out->n_servers++] = pick->server;
	}
	if (affinity)
		flag(d, PC_DF_AFFINITY);
}

static bool list_holds(const struct pc_index_list *list, uint32_t item)
{
	for (uint32_t i = 0; i < list->count; i++)
		if (list->items[i] == item)
			return true;
	return false;
}

/* pc_model_cdn_has_as and pc_provider_is_primary for the request's client
 * and provider, from lists found once per decision. */
static bool client_in(const struct decide *d, uint32_t cdn)
{
	return d->client_cdns != NULL && list_holds(d->client_cdns, cdn);
}

/* Asked several times per CDN a decision looks at: a bit test for the
 * first 64 CDNs (most federations), the list beyond. */
static bool is_primary(const struct decide *d, uint32_t cdn)
{
	return cdn < 64 ? d->primary_bits >> cdn & 1 : list_holds(d->primaries, cdn);
}

static uint32_t other_party(const struct pc_agreement *agreement, uint32_t cdn)
{
	return agreement->cdn_a == cdn ? agreement->cdn_b : agreement->cdn_a;
}

static bool window_full(const struct decide *d, uint32_t agreement)
{
	uint32_t capacity = d->model->agreements[agreement].capacity_rps;
	return capacity != 0 &&
	       pc_live_agreement_window(d->live, agreement, d->req->now_ms) >= capacity;
}

/* Claim 2, first half: serve inside client CDN cdn under an agreement with
 * a primary CDN of the provider that covers the service and has capacity.
 * The agreement is counted only once a server is found, so a PEER branch
 * that falls back does not use up the peer's capacity. */
static bool try_peer(struct decide *d, uint32_t cdn, struct pool *pool)
{
	const pc_model *model = d->model;
	const struct pc_index_list *list = &model->cdns[cdn].agreements;
	const uint32_t *partners = model->cdns[cdn].partners; /* other_party of each */
	uint32_t service = d->req->service;
	bool with_primary = false, open_far = false;
	/* The open agreements of the first 64 of the list, as bits: the take
	 * below tries those without asking for their windows again (the
	 * answer is the same: nothing between writes them). */
	uint64_t open = 0;
	for (uint32_t i = 0; i < list->count; i++)
		with_primary |= is_primary(d, partners[i]);
	if (!with_primary)
		return false;
	trace_add(d, PC_TRACE_BRANCH, PC_BRANCH_PEER, cdn, 0);
	for (uint32_t i = 0; i < list->count; i++) {
		uint32_t g = list->items[i];
		const struct pc_agreement *agreement = &model->agreements[g];
		if (!is_primary(d, partners[i]))
			continue;
		if (!(agreement->service_mask >> service & 1)) {
			trace_add(d, PC_TRACE_AGREEMENT, g, 2, 0);
		} else if (window_full(d, g)) {
			trace_add(d, PC_TRACE_AGREEMENT, g, 0, 0);
			flag(d, PC_DF_AGREEMENT_FULL);
		} else if (i < 64) {
			open |= 1ULL << i;
		} else {
			open_far = true;
		}
	}
	if (open == 0 && !open_far)
		return false;
	if (!try_cdn(d, PC_BRANCH_NONE, cdn, pool)) {
		branch_failed(d);
		return false;
	}
	for (uint32_t i = 0; i < list->count; i++) {
		uint32_t g = list->items[i];
		if (i < 64 ? !(open >> i & 1)
		           : !is_primary(d, partners[i]) ||
		                 !(model->agreements[g].service_mask >> service & 1) ||
		                 window_full(d, g))
			continue; /* full ones were traced above */
		if (pc_live_agreement_try_take(d->live, g, d->req->now_ms)) {
			trace_add(d, PC_TRACE_AGREEMENT, g, 1, 0);
			d->out->agreement = g;
			return true;
		}
		trace_add(d, PC_TRACE_AGREEMENT, g, 0, 0);
		flag(d, PC_DF_AGREEMENT_FULL);
	}
	return false;
}

/* OUTSIDE keeps the better of two pools in *best; a CDN that had to spill
 * loses to one that did not. */
static void keep_better(struct pool **best, struct pool **spare, bool *found)
{
	if (*found) {
		bool wins = (*best)->spilled != (*spare)->spilled
		                ? !(*spare)->spilled
		                : better(pool_best(*spare), pool_best(*best));
		if (wins) {
			struct pool *t = *best;
			*best = *spare;
			*spare = t;
		}
	}
	*found = true;
}

/* try_cdn for OUTSIDE's CDN cdn when another CDN's pool (best) was found:
 * cdn can only win with a pool that did not spill and a best server that
 * is better() than best's, so of a score at most best's, in a farm at most
 * that far. The shortlist scan stops at a farm farther than that (rival);
 * a pool cut so is right whenever it loses (its best would have been worse
 * than best's anyway, and a spilled pool loses), and is scanned again
 * whole when it may win, since its answer takes the farther servers too
 * (more answers, the affinity band). */
static bool try_rival(struct decide *d, uint32_t cdn, struct pool *pool, const struct pool *best,
                      bool found)
{
	d->rival = found && !best->spilled ? pool_best(best)->score : UINT64_MAX;
	d->rival_cut = false;
	bool ok = try_cdn(d, PC_BRANCH_OUTSIDE, cdn, pool);
	if (ok && d->rival_cut && !pool->spilled && pool_best(pool)->score <= d->rival) {
		d->rival = UINT64_MAX;
		ok = try_cdn(d, PC_BRANCH_OUTSIDE, cdn, pool);
	}
	d->rival = UINT64_MAX;
	return ok;
}

/* A content exchange (the patent's last section) has no servers: its
 * providers are carried by the CDNs it has agreements with. Each partner
 * whose agreement covers the service and has capacity this second (PEER's
 * rules) competes as an OUTSIDE CDN; a partner the client is in was tried
 * as PEER already. */
static void try_exchange(struct decide *d, uint32_t exchange, struct pool **best,
                         struct pool **spare, bool *found)
{
	const pc_model *model = d->model;
	const struct pc_index_list *list = &model->cdns[exchange].agreements;
	trace_add(d, PC_TRACE_BRANCH, PC_BRANCH_OUTSIDE, exchange, 0);
	for (uint32_t i = 0; i < list->count; i++) {
		uint32_t g = list->items[i];
		uint32_t partner = other_party(&model->agreements[g], exchange);
		if (client_in(d, partner) || partner == d->preferred_tried ||
		    model->cdns[partner].exchange)
			continue;
		if (!(model->agreements[g].service_mask >> d->req->service & 1)) {
			trace_add(d, PC_TRACE_AGREEMENT, g, 2, 0);
			continue;
		}
		if (window_full(d, g)) {
			trace_add(d, PC_TRACE_AGREEMENT, g, 0, 0);
			flag(d, PC_DF_AGREEMENT_FULL);
			continue;
		}
		struct pool *pool = *found ? *spare : *best;
		if (!try_rival(d, partner, pool, *best, *found))
			continue;
		pool->agreement = g;
		keep_better(best, spare, found);
	}
}

/* Claim 2, second half: from the provider's primary CDNs that were not
 * tried already, the one whose best server scores lowest. An exchange's
 * partner serving is counted against its agreement (and fails, like PEER,
 * when another thread took the last of the capacity meanwhile). */
static void try_outside_cdn(struct decide *d, uint32_t cdn, struct pool **best, struct pool **spare,
                            bool *found)
{
	if (client_in(d, cdn) || cdn == d->preferred_tried)
		return;
	if (d->model->cdns[cdn].exchange) {
		try_exchange(d, cdn, best, spare, found);
		return;
	}
	struct pool *pool = *found ? *spare : *best;
	if (try_rival(d, cdn, pool, *best, *found))
		keep_better(best, spare, found);
}

/* Untraced, OUTSIDE tries first the primary CDN with the nearest farm (a
 * score can be no lower than its farm's cost), so that try_rival cuts the
 * others soonest. The winner does not depend on the order: better() is a
 * strict order on servers, and a spilled pool loses to any other; but
 * an exchange's partner can be a primary CDN too, the same servers under
 * an agreement or none, and then the first tried wins the tie: with an
 * exchange among the primaries the order stays. Traced, the CDNs are
 * listed in the provider's order. Returns the list index to try first,
 * or PC_NONE for the provider's order. */
static uint32_t nearest_primary(const struct decide *d, const struct pc_index_list *primaries)
{
	const pc_model *model = d->model;
	uint32_t as = d->out->client_as;
	if (d->trace != NULL || primaries->count < 2 || as >= model->n_ases || model->reach == NULL)
		return PC_NONE;
	const struct pc_reach *row = &model->reach[(size_t)as * model->n_reach_cells];
	uint32_t first = PC_NONE, nearest = UINT32_MAX;
	for (uint32_t i = 0; i < primaries->count; i++) {
		const struct pc_cdn *cdn = &model->cdns[primaries->items[i]];
		if (cdn->exchange)
			return PC_NONE; /* see below */
		if (cdn->n_farms == 0)
			continue;
		if (row[cdn->reach_base].cost < nearest) {
			nearest = row[cdn->reach_base].cost;
			first = i;
		}
	}
	return first;
}

static bool try_outside(struct decide *d, struct pool *best, struct pool *spare)
{
	const struct pc_provider *provider = &d->model->providers[d->req->provider];
	const struct pc_index_list *primaries = &provider->primary_cdns;
	bool found = false;
	uint32_t first = nearest_primary(d, primaries);
	if (first != PC_NONE)
		try_outside_cdn(d, primaries->items[first], &best, &spare, &found);
	for (uint32_t i = 0; i < primaries->count; i++)
		if (i != first)
			try_outside_cdn(d, primaries->items[i], &best, &spare, &found);
	if (!found)
		return false;
	if (best->agreement != PC_NONE) {
		if (!pc_live_agreement_try_take(d->live, best->agreement, d->req->now_ms)) {
			trace_add(d, PC_TRACE_AGREEMENT, best->agreement, 0, 0);
			flag(d, PC_DF_AGREEMENT_FULL);
			return false;
		}
		trace_add(d, PC_TRACE_AGREEMENT, best->agreement, 1, 0);
		d->out->agreement = best->agreement;
	}
	answer(d, PC_BRANCH_OUTSIDE, best);
	return true;
}

/* Claim 2 sends a client no peering covers to a primary CDN, whatever its
 * grade: when OUTSIDE found no server within the grade's limits, they are
 * lifted one at a time (enum pc_pass) and OUTSIDE is tried again. Off the
 * common path: only a decision that found nothing anywhere gets here.
 * Service, tier, family, avoidance, health and full capacity are never
 * relaxed. */
static bool try_outside_relaxed(struct decide *d, struct pool *best, struct pool *spare)
{
	const struct pc_provider *provider = &d->model->providers[d->req->provider];
	bool any = false;
	for (uint32_t i = 0; i < provider->primary_cdns.count; i++) {
		uint32_t cdn = provider->primary_cdns.items[i];
		any |= !client_in(d, cdn) && cdn != d->preferred_tried;
	}
	if (!any)
		return false; /* no CDN OUTSIDE may serve from */
	uint32_t from =
	    d->grade->max_path_cost == PC_COST_INFINITE ? PC_PASS_RELAX_LOAD : PC_PASS_RELAX_COST;
	for (uint32_t level = from; level <= PC_PASS_RELAX_LOAD; level++) {
		d->relax = level;
		trace_add(d, PC_TRACE_PASS, level,
		          level == PC_PASS_RELAX_COST ? d->grade->max_path_cost
		                                      : d->model->params.high_watermark_pct,
		          0);
		if (try_outside(d, best, spare)) {
			flag(d, PC_DF_RELAXED);
			return true;
		}
	}
	d->relax = 0;
	return false;
}

/* Claim 19: a CDN the client prefers is tried first, in the branch policy
 * allows for it; a CDN policy does not allow is ignored. */
static bool try_preferred(struct decide *d, struct pool *pool)
{
	uint32_t cdn = d->req->preferred_cdn;
	const pc_model *model = d->model;
	if (cdn >= model->n_cdns)
		return false;
	bool primary = is_primary(d, cdn);
	bool ok = false;
	enum pc_branch branch = PC_BRANCH_NONE;
	if (client_in(d, cdn) && primary) {
		branch = PC_BRANCH_PRIMARY;
		d->preferred_tried = cdn;
		if (!(ok = try_cdn(d, branch, cdn, pool)))
			branch_failed(d);
	} else if (client_in(d, cdn)) {
		branch = PC_BRANCH_PEER;
		d->preferred_tried = cdn;
		ok = try_peer(d, cdn, pool);
	} else if (primary) {
		branch = PC_BRANCH_OUTSIDE;
		d->preferred_tried = cdn;
		if (!(ok = try_cdn(d, branch, cdn, pool)))
			branch_failed(d);
	}
	if (!ok)
		return false;
	answer(d, branch, pool);
	flag(d, PC_DF_PREFERRED);
	return true;
}

static void locate_client(struct decide *d)
{
	const pc_model *model = d->model;
	const pc_request *req = d->req;
	pc_decision *out = d->out;
	unsigned scope = 0;
	uint32_t net = PC_NONE, as = PC_NONE;
	if (req->client.family != PC_AF_NONE &&
	    pc_model_client_locate(model, &req->client, &net, &as, &scope)) {
		out->client_net = net;
		out->client_as = as;
		out->client_scope = scope;
	} else {
		net = PC_NONE;
		/* The capturing node stands in for the client: anycast
		 * already brought the request near it (§3.1.3). */
		out->client_as = req->node != PC_NONE ? model->nodes[req->node].as : PC_NONE;
		out->client_scope = 0;
	}
	trace_add(d, PC_TRACE_CLIENT, out->client_net, out->client_as, 0);
	if (net == PC_NONE)
		flag(d, PC_DF_CLIENT_UNKNOWN);
	const struct pc_index_list *cdns =
	    out->client_as < model->n_ases ? &model->ases[out->client_as].cdns : NULL;
	d->client_cdns = cdns;
	for (uint32_t i = 0; cdns != NULL && i < cdns->count; i++)
		trace_add(d, PC_TRACE_CLIENT_CDN, cdns->items[i], 0, 0);
	if (cdns == NULL || cdns->count == 0)
		flag(d, PC_DF_NO_CLIENT_CDN);
}

/* The reach rows the branches will read, one random line each of a large
 * table: asked for together as soon as the client's AS is known, so they
 * arrive in parallel instead of one CDN's scan after another's. A hint
 * only; the rows of the client's CDNs matter for PRIMARY and PEER, the
 * primary CDNs' for OUTSIDE. */
static void prefetch_reach(const struct decide *d)
{
	const pc_model *model = d->model;
	uint32_t as = d->out->client_as;
	if (as >= model->n_ases || model->reach == NULL)
		return;
	const struct pc_reach *row = &model->reach[(size_t)as * model->n_reach_cells];
	for (uint32_t i = 0; i < d->primaries->count; i++)
		__builtin_prefetch(&row[model->cdns[d->primaries->items[i]].reach_base]);
	for (uint32_t i = 0; d->client_cdns != NULL && i < d->client_cdns->count; i++)
		__builtin_prefetch(&row[model->cdns[d->client_cdns->items[i]].reach_base]);
}

static bool valid(const pc_model *model, pc_live *live, const pc_request *req)
{
	if (model == NULL || live == NULL || req == NULL || pc_live_model(live) != model)
		return false;
	if (req->provider >= model->n_providers || req->service >= model->n_services ||
	    req->service >= PC_MAX_SERVICES)
		return false;
	if (req->node != PC_NONE && req->node >= model->n_nodes)
		return false;
	if (req->n_avoid > PC_MAX_AVOID || req->max_answers > PC_MAX_ANSWERS)
		return false;
	if (req->family != PC_AF_NONE && req->family != PC_AF_INET && req->family != PC_AF_INET6)
		return false;
	if (req->object == NULL && req->object_len != 0)
		return false;
	return model->providers[req->provider].grade < model->n_grades;
}

int pc_policy_decide(const pc_model *model, pc_live *live, const pc_request *req, pc_decision *out,
                     pc_trace *trace)
{
	if (out == NULL)
		return PC_EINVAL;
	*out = (pc_decision){
	    .branch = PC_BRANCH_NONE,
	    .client_net = PC_NONE,
	    .client_as = PC_NONE,
	    .cdn = PC_NONE,
	    .agreement = PC_NONE,
	    .path_cost = PC_COST_INFINITE,
	};
	if (trace != NULL) {
		trace->count = 0;
		trace->truncated = false;
	}
	if (!valid(model, live, req))
		return PC_EINVAL;
	const struct pc_provider *provider = &model->providers[req->provider];
	struct decide d = {
	    .model = model,
	    .live = live,
	    .req = req,
	    .out = out,
	    .trace = trace,
	    .grade = &model->grades[provider->grade],
	    .primaries = &provider->primary_cdns,
	    .max_answers = req->max_answers == 0 ? 1 : req->max_answers,
	    .preferred_tried = PC_NONE,
	    .rival = UINT64_MAX,
	};
	/* Two pools: OUTSIDE compares CDNs and keeps the better. */
	struct pool pools[2];
	for (uint32_t i = 0; i < provider->primary_cdns.count; i++)
		if (provider->primary_cdns.items[i] < 64)
			d.primary_bits |= 1ULL << provider->primary_cdns.items[i];

	locate_client(&d);
	for (uint32_t i = 0; i < provider->primary_cdns.count; i++)
		trace_add(&d, PC_TRACE_PRIMARY_CDN, provider->primary_cdns.items[i], 0, 0);
	prefetch_reach(&d);
	/* Untraced, the shortlist finds the same answer (issue 9); the trace
	 * lists every server with its reason, so it takes the full scan, as
	 * does a client AS with measured costs (the reach rows are static).
	 * After the prefetch: a cache-cold decision is 100 ns slower when
	 * this comes between the client's AS and the prefetch of its rows. */
	d.shortlist = trace == NULL && model->filter_slots != NULL &&
	              !pc_live_as_measured(live, out->client_as);
	if (d.shortlist) {
		size_t set = ((size_t)req->service * model->n_grades + provider->grade) * 3 +
		             (req->family == PC_AF_NONE   ? 0
		              : req->family == PC_AF_INET ? 1
		                                          : 2);
		d.filter = model->filter_slots + set * model->n_slot_words;
	}

	if (try_preferred(&d, &pools[0]))
		return PC_OK;

	/* Claim 1: a client's CDN that is a primary CDN of the provider. */
	const struct pc_index_list *cdns = d.client_cdns;
	for (uint32_t i = 0; cdns != NULL && i < cdns->count; i++) {
		uint32_t cdn = cdns->items[i];
		if (cdn == d.preferred_tried || !is_primary(&d, cdn))
			continue;
		if (try_cdn(&d, PC_BRANCH_PRIMARY, cdn, &pools[0])) {
			answer(&d, PC_BRANCH_PRIMARY, &pools[0]);
			return PC_OK;
		}
		branch_failed(&d);
	}
	/* Claim 2: a client's CDN that peers with a primary CDN. */
	for (uint32_t i = 0; cdns != NULL && i < cdns->count; i++) {
		uint32_t cdn = cdns->items[i];
		if (cdn == d.preferred_tried || is_primary(&d, cdn))
			continue;
		if (try_peer(&d, cdn, &pools[0])) {
			answer(&d, PC_BRANCH_PEER, &pools[0]);
			return PC_OK;
		}
	}
	if (try_outside(&d, &pools[0], &pools[1]))
		return PC_OK;
	if (try_outside_relaxed(&d, &pools[0], &pools[1]))
		return PC_OK;
	out->branch = PC_BRANCH_NONE;
	out->cdn = PC_NONE;
	out->n_servers = 0;
	return PC_ENOSERVER;
}

const char *pc_branch_name(enum pc_branch branch)
{
	switch (branch) {
	case PC_BRANCH_NONE:
		return "NONE";
	case PC_BRANCH_PRIMARY:
		return "PRIMARY";
	case PC_BRANCH_PEER:
		return "PEER";
	case PC_BRANCH_OUTSIDE:
		return "OUTSIDE";
	}
	return "UNKNOWN";
}

const char *pc_prune_reason_name(enum pc_prune_reason reason)
{
	switch (reason) {
	case PC_PRUNE_SERVICE:
		return "SERVICE";
	case PC_PRUNE_DOWN:
		return "DOWN";
	case PC_PRUNE_LOAD:
		return "LOAD";
	case PC_PRUNE_GRADE_TIER:
		return "GRADE_TIER";
	case PC_PRUNE_PATH_COST:
		return "PATH_COST";
	case PC_PRUNE_AVOIDED:
		return "AVOIDED";
	case PC_PRUNE_FAMILY:
		return "FAMILY";
	}
	return "UNKNOWN";
}

int pc_decision_flags_format(uint32_t flags, char *out, size_t out_size)
{
	static const char *const names[] = {
	    "CLIENT_UNKNOWN", "NO_CLIENT_CDN", "SPILL",   "FALLBACK", "PREFERRED",
	    "AGREEMENT_FULL", "AFFINITY",      "RELAXED", "REPLICA",  "OFFER",
	};
	if (out == NULL || out_size == 0)
		return PC_ESPACE;
	size_t n = 0;
	for (unsigned bit = 0; bit < sizeof(names) / sizeof(names[0]); bit++) {
		if (!(flags >> bit & 1))
			continue;
		size_t len = strlen(names[bit]) + (n > 0);
		if (n + len + 1 > out_size) {
			out[0] = '\0';
			return PC_ESPACE;
		}
		if (n > 0)
			out[n++] = ',';
		memcpy(out + n, names[bit], strlen(names[bit]));
		n += strlen(names[bit]);
	}
	if (n == 0) {
		if (out_size < 2) {
			out[0] = '\0';
			return PC_ESPACE;
		}
		out[n++] = '-';
	}
	out[n] = '\0';
	return (int)n;
}

void pc_request_init(pc_request *req)
{
	memset(req, 0, sizeof(*req));
	req->client.family = PC_AF_NONE;
	req->node = PC_NONE;
	req->provider = PC_NONE;
	req->service = PC_NONE;
	req->preferred_cdn = PC_NONE;
	for (uint32_t i = 0; i < PC_MAX_AVOID; i++)
		req->avoid[i] = PC_NONE;
	req->family = PC_AF_NONE;
	req->max_answers = 1;
	req->sticky_server = PC_NONE;
}
