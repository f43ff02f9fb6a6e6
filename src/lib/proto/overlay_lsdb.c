/* See overlay_lsdb.h. The database is an array of LSAs sorted by origin, so
 * an index order is an id order and "lowest id wins" is "lowest index wins".
 * pc_lsdb_spf builds a two-way adjacency (CSR) from it, then runs one
 * Dijkstra per origin over reversed links: d_S(X), the cost from X to S.
 * From one d_S every router's parent toward S follows by one rule, so we
 * learn our own parent and our neighbours' (whether they are our children)
 * from the same run. Wholesale, O(R * E log R): see the measurement in
 * tests/unit/proto/test_overlay_lsdb.c. */
#include "lib/base/minheap.h"
#include "lib/proto/overlay_lsdb.h"

#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"

#define DIST_INF UINT64_MAX

struct lsa_entry {
	uint32_t origin, seq;
	uint64_t installed_ms;
	uint32_t age_at_install_ms;
	uint16_t n_links;
	struct pc_lsa_link *links; /* ascending neighbour */
};

/* One two-way link seen from `from`: out_cost is from's cost toward `to`,
 * in_cost to's cost toward from. */
struct edge {
	uint32_t to; /* an index into entries */
	uint32_t out_cost, in_cost;
};

struct route {
	uint32_t destination, parent;
	uint64_t cost;
	uint32_t children_at, n_children;
};

struct pc_lsdb {
	struct pc_lsdb_params params;
	struct pc_lsdb_stats stats;
	uint32_t self_seq; /* the last sequence we used or must pass */
	bool self_seq_known, dirty;
	uint32_t n_entries;
	struct lsa_entry *entries; /* [max_routers] */

	/* The last SPF's answers: routes ascending by destination. */
	uint32_t n_routes;
	struct route *routes; /* [max_routers] */
	uint32_t *children;   /* [max_routers * max_neighbours] at most */
	/* SPF scratch, sized once */
	uint32_t *edge_start;      /* [max_routers + 1] */
	struct edge *edges;        /* [max_routers * max_neighbours] */
	uint64_t *dist;            /* [max_routers] */
	struct pc_heap_item *heap; /* [max_routers * max_neighbours + 1] */
};

uint32_t pc_overlay_router_id(const char *name)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return h == PC_OVERLAY_ROUTER_NONE ? 1 : h;
}

/* RFC 1982 §3.2: a is newer than b. Exactly half the space apart is
 * undefined there; we call it not newer either way, so the held copy stays. */
static bool seq_newer(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) > 0;
}

int pc_lsdb_new(const struct pc_lsdb_params *params, pc_lsdb **out)
{
	if (params->self == PC_OVERLAY_ROUTER_NONE)
		return PC_EINVAL;
	pc_lsdb *db = calloc(1, sizeof(*db));
	if (db == NULL)
		return PC_ENOMEM;
	db->params = *params;
	struct pc_lsdb_params *p = &db->params;
	if (p->max_routers == 0)
		p->max_routers = 1024;
	if (p->max_neighbours == 0)
		p->max_neighbours = 64;
	if (p->max_age_ms == 0)
		p->max_age_ms = 60000;
	if (p->refresh_ms == 0 || p->refresh_ms >= p->max_age_ms)
		p->refresh_ms = p->max_age_ms / 3;
	size_t n = p->max_routers, links = n * p->max_neighbours;
	db->entries = calloc(n, sizeof(*db->entries));
	db->routes = calloc(n, sizeof(*db->routes));
	db->children = calloc(links, sizeof(*db->children));
	db->edge_start = calloc(n + 1, sizeof(*db->edge_start));
	db->edges = calloc(links, sizeof(*db->edges));
	db->dist = calloc(n, sizeof(*db->dist));
	db->heap = calloc(links + n + 1, sizeof(*db->heap));
	if (!db->entries || !db->routes || !db->children || !db->edge_start || !db->edges ||
	    !db->dist || !db->heap) {
		pc_lsdb_free(db);
		return PC_ENOMEM;
	}
	*out = db;
	return PC_OK;
}

void pc_lsdb_free(pc_lsdb *db)
{
	if (db == NULL)
		return;
	for (uint32_t i = 0; i < db->n_entries; i++)
		free(db->entries[i].links);
	free(db->entries);
	free(db->routes);
	free(db->children);
	free(db->edge_start);
	free(db->edges);
	free(db->dist);
	free(db->heap);
	free(db);
}

/* The index of origin, or where it would go (*found false). */
static uint32_t find(const pc_lsdb *db, uint32_t origin, bool *found)
{
	uint32_t lo = 0, hi = db->n_entries;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (db->entries[mid].origin < origin)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < db->n_entries && db->entries[lo].origin == origin;
	return lo;
}

static int link_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct pc_lsa_link *)a)->neighbour;
	uint32_t y = ((const struct pc_lsa_link *)b)->neighbour;
	return (x > y) - (x < y);
}

/* A sorted copy of lsa's links, checked; counts what it rejects. */
static int copy_links(pc_lsdb *db, const struct pc_lsa *lsa, struct pc_lsa_link **out)
{
	if (lsa->origin == PC_OVERLAY_ROUTER_NONE || (lsa->n_links > 0 && lsa->links == NULL)) {
		db->stats.rejected_malformed++;
		return PC_ESYNTAX;
	}
	if (lsa->n_links > db->params.max_neighbours) {
		db->stats.rejected_links++;
		return PC_ERANGE;
	}
	struct pc_lsa_link *links = malloc(((size_t)lsa->n_links + 1) * sizeof(*links));
	if (links == NULL)
		return PC_ENOMEM;
	if (lsa->n_links > 0)
		memcpy(links, lsa->links, lsa->n_links * sizeof(*links));
	qsort(links, lsa->n_links, sizeof(*links), link_cmp);
	for (uint16_t i = 0; i < lsa->n_links; i++) {
		const struct pc_lsa_link *l = &links[i];
		if (l->neighbour == PC_OVERLAY_ROUTER_NONE || l->neighbour == lsa->origin ||
		    (l->cost & ~PC_LSA_SUMMARY) == 0 ||
		    (l->cost & ~PC_LSA_SUMMARY) > PC_LSA_COST_MAX ||
		    (i > 0 && links[i - 1].neighbour == l->neighbour)) {
			free(links);
			db->stats.rejected_malformed++;
			return PC_ESYNTAX;
		}
	}
	*out = links;
	return PC_OK;
}

static void remove_at(pc_lsdb *db, uint32_t i)
{
	free(db->entries[i].links);
	memmove(&db->entries[i], &db->entries[i + 1],
	        (db->n_entries - i - 1) * sizeof(*db->entries));
	db->n_entries--;
	db->dirty = true;
}

/* Puts links (owned from now on) as origin's LSA, at index i. */
static int put(pc_lsdb *db, uint32_t i, bool found, const struct pc_lsa *lsa,
               struct pc_lsa_link *links, uint64_t now_ms)
{
	if (!found) {
		if (db->n_entries >= db->params.max_routers) {
			free(links);
			db->stats.rejected_full++;
			return PC_ENOSPC;
		}
		memmove(&db->entries[i + 1], &db->entries[i],
		        (db->n_entries - i) * sizeof(*db->entries));
		db->n_entries++;
	} else {
		free(db->entries[i].links);
	}
	db->entries[i] = (struct lsa_entry){
	    .origin = lsa->origin,
	    .seq = lsa->seq,
	    .installed_ms = now_ms,
	    .age_at_install_ms = lsa->age_ms,
	    .n_links = lsa->n_links,
	    .links = links,
	};
	db->dirty = true;
	return PC_OK;
}

static int install_own_copy(pc_lsdb *db, const struct pc_lsa *lsa, uint64_t now_ms,
                            enum pc_lsdb_verdict *verdict)
{
	bool found;
	uint32_t i = find(db, lsa->origin, &found);
	if (!found) {
		/* We restarted and have not originated yet: start past it. */
		if (!db->self_seq_known || seq_newer(lsa->seq, db->self_seq))
			db->self_seq = lsa->seq;
		db->self_seq_known = true;
		*verdict = PC_LSDB_SELF;
		return PC_OK;
	}
	struct lsa_entry *e = &db->entries[i];
	if (lsa->seq == e->seq) {
		db->stats.duplicate++;
		*verdict = PC_LSDB_DUPLICATE;
	} else if (seq_newer(lsa->seq, e->seq)) {
		/* Jump past the stale copy, keeping our links (RFC 2328 §13.4). */
		e->seq = lsa->seq + 1;
		e->installed_ms = now_ms;
		db->self_seq = e->seq;
		*verdict = PC_LSDB_SELF;
	} else {
		db->stats.older++;
		*verdict = PC_LSDB_OLDER;
	}
	return PC_OK;
}

int pc_lsdb_install(pc_lsdb *db, const struct pc_lsa *lsa, uint64_t now_ms,
                    enum pc_lsdb_verdict *verdict)
{
	struct pc_lsa_link *links = NULL;
	int rc = copy_links(db, lsa, &links);
	if (rc < 0)
		return rc;
	if (lsa->origin == db->params.self) {
		free(links);
		return install_own_copy(db, lsa, now_ms, verdict);
	}
	bool found;
	uint32_t i = find(db, lsa->origin, &found);
	bool flush = lsa->age_ms >= db->params.max_age_ms;
	if (found) {
		const struct lsa_entry *e = &db->entries[i];
		/* OSPF's rule (RFC 2328 §13.1): with equal sequence numbers, a
		 * copy at MaxAge is the newer one, so a flush overrides. */
		bool newer = seq_newer(lsa->seq, e->seq) || (lsa->seq == e->seq && flush);
		if (!newer) {
			free(links);
			if (lsa->seq == e->seq) {
				db->stats.duplicate++;
				*verdict = PC_LSDB_DUPLICATE;
			} else {
				db->stats.older++;
				*verdict = PC_LSDB_OLDER;
			}
			return PC_OK;
		}
	}
	if (flush) {
		free(links);
		if (found) {
			remove_at(db, i);
			db->stats.flushed++;
			*verdict = PC_LSDB_NEWER;
		} else {
			db->stats.duplicate++;
			*verdict = PC_LSDB_DUPLICATE;
		}
		return PC_OK;
	}
	rc = put(db, i, found, lsa, links, now_ms);
	if (rc < 0)
		return rc;
	db->stats.installed++;
	*verdict = PC_LSDB_NEWER;
	return PC_OK;
}

static void fill(const pc_lsdb *db, const struct lsa_entry *e, uint64_t now_ms, struct pc_lsa *out)
{
	uint64_t age =
	    e->age_at_install_ms + (now_ms > e->installed_ms ? now_ms - e->installed_ms : 0);
	if (age > db->params.max_age_ms)
		age = db->params.max_age_ms;
	*out = (struct pc_lsa){.origin = e->origin,
	                       .seq = e->seq,
	                       .age_ms = (uint32_t)age,
	                       .n_links = e->n_links,
	                       .links = e->links};
}

int pc_lsdb_originate(pc_lsdb *db, const struct pc_lsa_link *links, uint16_t n_links,
                      uint64_t now_ms, struct pc_lsa *out)
{
	uint32_t seq = db->self_seq_known ? db->self_seq + 1 : 1;
	struct pc_lsa lsa = {
	    .origin = db->params.self, .seq = seq, .n_links = n_links, .links = links};
	struct pc_lsa_link *copy = NULL;
	int rc = copy_links(db, &lsa, &copy);
	if (rc < 0)
		return rc;
	bool found;
	uint32_t i = find(db, lsa.origin, &found);
	rc = put(db, i, found, &lsa, copy, now_ms);
	if (rc < 0)
		return rc;
	db->self_seq = seq;
	db->self_seq_known = true;
	if (out != NULL)
		fill(db, &db->entries[i], now_ms, out);
	return PC_OK;
}

uint32_t pc_lsdb_tick(pc_lsdb *db, uint64_t now_ms, bool *refresh_own)
{
	uint32_t expired = 0;
	bool own = false;
	for (uint32_t i = 0; i < db->n_entries;) {
		const struct lsa_entry *e = &db->entries[i];
		if (e->origin == db->params.self) {
			own = true;
			if (now_ms >= e->installed_ms + db->params.refresh_ms)
				*refresh_own = true;
			i++;
			continue;
		}
		uint64_t left = db->params.max_age_ms - e->age_at_install_ms;
		if (e->age_at_install_ms >= db->params.max_age_ms ||
		    now_ms >= e->installed_ms + left) {
			remove_at(db, i);
			expired++;
			continue;
		}
		i++;
	}
	if (!own)
		*refresh_own = true;
	db->stats.expired += expired;
	return expired;
}

int pc_lsdb_get(const pc_lsdb *db, uint32_t origin, uint64_t now_ms, struct pc_lsa *out)
{
	bool found;
	uint32_t i = find(db, origin, &found);
	if (!found)
		return PC_ENOENT;
	fill(db, &db->entries[i], now_ms, out);
	return PC_OK;
}

uint32_t pc_lsdb_count(const pc_lsdb *db)
{
	return db->n_entries;
}

void pc_lsdb_at(const pc_lsdb *db, uint32_t i, uint64_t now_ms, struct pc_lsa *out)
{
	fill(db, &db->entries[i], now_ms, out);
}

bool pc_lsdb_dirty(const pc_lsdb *db)
{
	return db->dirty;
}

/* The cost entry e gives neighbour, or 0 when it lists none. */
static uint32_t cost_to(const struct lsa_entry *e, uint32_t neighbour)
{
	uint32_t lo = 0, hi = e->n_links;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (e->links[mid].neighbour < neighbour)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < e->n_links && e->links[lo].neighbour == neighbour &&
	               !(e->links[lo].cost & PC_LSA_SUMMARY)
	           ? e->links[lo].cost
	           : 0;
}

/* The two-way adjacency: an edge i -> j only when both list each other.
 * Each row is ascending by index, so by id. */
static void build_edges(pc_lsdb *db)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < db->n_entries; i++) {
		const struct lsa_entry *e = &db->entries[i];
		db->edge_start[i] = n;
		for (uint16_t k = 0; k < e->n_links; k++) {
			if (e->links[k].cost & PC_LSA_SUMMARY)
				continue; /* reachability, not an adjacency */
			bool found;
			uint32_t j = find(db, e->links[k].neighbour, &found);
			if (!found)
				continue;
			uint32_t back = cost_to(&db->entries[j], e->origin);
			if (back == 0)
				continue;
			db->edges[n++] =
			    (struct edge){.to = j, .out_cost = e->links[k].cost, .in_cost = back};
		}
	}
	db->edge_start[db->n_entries] = n;
}

/* dist[x] = the cost from x to source, over reversed two-way edges (lazy
 * deletion: a node may sit in the heap more than once, at most once per
 * edge, which the heap is sized for). */
static void dijkstra_toward(pc_lsdb *db, uint32_t source)
{
	uint64_t *dist = db->dist;
	for (uint32_t i = 0; i < db->n_entries; i++)
		dist[i] = DIST_INF;
	uint32_t n = 0;
	dist[source] = 0;
	pc_heap_push(db->heap, &n, (struct pc_heap_item){0, source});
	while (n > 0) {
		struct pc_heap_item top = pc_heap_pop(db->heap, &n);
		if (top.key > dist[top.value])
			continue;
		for (uint32_t k = db->edge_start[top.value]; k < db->edge_start[top.value + 1];
		     k++) {
			const struct edge *ed = &db->edges[k];
			/* ed->in_cost is the neighbour's cost toward top.value */
			uint64_t d = top.key + ed->in_cost;
			if (d < dist[ed->to]) {
				dist[ed->to] = d;
				pc_heap_push(db->heap, &n, (struct pc_heap_item){d, ed->to});
			}
		}
	}
}

/* x's parent toward the source of the last dijkstra_toward: the lowest-id
 * neighbour on one of x's shortest paths. UINT32_MAX when x is the source or
 * cannot reach it. */
static uint32_t parent_of(const pc_lsdb *db, uint32_t x)
{
	const uint64_t *dist = db->dist;
	if (dist[x] == DIST_INF || dist[x] == 0)
		return UINT32_MAX;
	for (uint32_t k = db->edge_start[x]; k < db->edge_start[x + 1]; k++) {
		const struct edge *ed = &db->edges[k];
		if (dist[ed->to] != DIST_INF && dist[ed->to] + ed->out_cost == dist[x])
			return ed->to;
	}
	return UINT32_MAX; /* not reached: some neighbour lies on the path */
}

static int route_cmp(const void *a, const void *b)
{
	const struct route *x = a, *y = b;
	return x->destination < y->destination ? -1 : x->destination > y->destination;
}

/* The route to destination among the first n routes (ascending). */
static const struct route *known_route(const pc_lsdb *db, uint32_t n, uint32_t destination)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (db->routes[mid].destination < destination)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && db->routes[lo].destination == destination ? &db->routes[lo] : NULL;
}

/* The routers only summaries name (see pc_lsdb_spf), after the routes of
 * the LSAs' origins, which are ascending. Each summary link is a
 * candidate; the best per router is kept in place, so the pass costs one
 * scan of the stubs found so far per candidate — summaries are what
 * border routers advertise across peering links, a few per border. */
static void add_summaries(pc_lsdb *db)
{
	uint32_t n_known = db->n_routes;
	for (uint32_t i = 0; i < db->n_entries; i++) {
		const struct lsa_entry *e = &db->entries[i];
		const struct route *via = NULL;
		for (uint16_t k = 0; k < e->n_links; k++) {
			const struct pc_lsa_link *l = &e->links[k];
			bool found;
			if (!(l->cost & PC_LSA_SUMMARY) || l->neighbour == db->params.self)
				continue;
			find(db, l->neighbour, &found);
			if (found)
				continue;
			if (via == NULL && (via = known_route(db, n_known, e->origin)) == NULL)
				break; /* we do not reach the summarising router */
			if (via->parent == PC_OVERLAY_ROUTER_NONE)
				break; /* ours: we summarise, we do not route by it */
			uint64_t cost = via->cost + (l->cost & ~PC_LSA_SUMMARY);
			struct route *r = NULL;
			for (uint32_t j = n_known; j < db->n_routes && r == NULL; j++)
				if (db->routes[j].destination == l->neighbour)
					r = &db->routes[j];
			if (r == NULL) {
				if (db->n_routes == db->params.max_routers) {
					db->stats.summaries_dropped++;
					continue;
				}
				r = &db->routes[db->n_routes++];
				*r =
				    (struct route){.destination = l->neighbour, .cost = UINT64_MAX};
			}
			/* Entries are ascending by origin: at equal cost the first
			 * summarising router, the lowest id, stays. */
			if (cost < r->cost) {
				r->cost = cost;
				r->parent = via->parent;
			}
		}
	}
	if (db->n_routes > n_known)
		qsort(db->routes, db->n_routes, sizeof(db->routes[0]), route_cmp);
}

int pc_lsdb_spf(pc_lsdb *db)
{
	db->stats.spf_runs++;
	db->n_routes = 0;
	db->dirty = false;
	bool found;
	uint32_t self = find(db, db->params.self, &found);
	if (!found)
		return PC_OK; /* not originated yet: we reach nobody */
	build_edges(db);
	uint32_t n_children = 0;
	for (uint32_t s = 0; s < db->n_entries; s++) {
		dijkstra_toward(db, s);
		if (db->dist[self] == DIST_INF)
			continue;
		uint32_t parent = parent_of(db, self);
		struct route *r = &db->routes[db->n_routes++];
		*r = (struct route){
		    .destination = db->entries[s].origin,
		    .parent =
		        parent == UINT32_MAX ? PC_OVERLAY_ROUTER_NONE : db->entries[parent].origin,
		    .cost = db->dist[self],
		    .children_at = n_children,
		};
		for (uint32_t k = db->edge_start[self]; k < db->edge_start[self + 1]; k++) {
			uint32_t nb = db->edges[k].to;
			if (parent_of(db, nb) == self)
				db->children[n_children++] = db->entries[nb].origin;
		}
		r->n_children = n_children - r->children_at;
	}
	add_summaries(db);
	return PC_OK;
}

static const struct route *route_of(const pc_lsdb *db, uint32_t destination)
{
	return known_route(db, db->n_routes, destination);
}

int pc_lsdb_route(const pc_lsdb *db, uint32_t destination, struct pc_overlay_route *out)
{
	const struct route *r = route_of(db, destination);
	if (r == NULL)
		return PC_ENOENT;
	*out = (struct pc_overlay_route){.destination = r->destination,
	                                 .parent = r->parent,
	                                 .cost = r->cost,
	                                 .n_children = r->n_children,
	                                 .children = &db->children[r->children_at]};
	return PC_OK;
}

uint32_t pc_lsdb_route_count(const pc_lsdb *db)
{
	return db->n_routes;
}

void pc_lsdb_route_at(const pc_lsdb *db, uint32_t i, struct pc_overlay_route *out)
{
	pc_lsdb_route(db, db->routes[i].destination, out);
}

uint32_t pc_lsdb_parent(const pc_lsdb *db, uint32_t destination)
{
	const struct route *r = route_of(db, destination);
	return r == NULL ? PC_OVERLAY_ROUTER_NONE : r->parent;
}

const struct pc_lsdb_stats *pc_lsdb_stats(const pc_lsdb *db)
{
	return &db->stats;
}
