/* Unit tests of the overlay's link-state database and shortest paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/err.h"
#include "lib/proto/overlay_lsdb.h"

/* A test topology: undirected edges with a cost each way. */
struct edge {
	uint32_t a, b, cost_ab, cost_ba;
};

struct world {
	uint32_t n_routers;
	const uint32_t *routers;
	uint32_t n_edges;
	const struct edge *edges;
};

static pc_lsdb *db_new(uint32_t self, uint32_t max_routers, uint16_t max_neighbours)
{
	struct pc_lsdb_params params = {.self = self,
	                                .max_routers = max_routers,
	                                .max_neighbours = max_neighbours,
	                                .max_age_ms = 1000,
	                                .refresh_ms = 300};
	pc_lsdb *db = NULL;
	assert_int_equal(pc_lsdb_new(&params, &db), 0);
	return db;
}

/* router's links in w, into links[]; returns how many. */
static uint16_t links_of(const struct world *w, uint32_t router, struct pc_lsa_link *links)
{
	uint16_t n = 0;
	for (uint32_t i = 0; i < w->n_edges; i++) {
		const struct edge *e = &w->edges[i];
		if (e->a == router)
			links[n++] = (struct pc_lsa_link){e->b, e->cost_ab};
		else if (e->b == router)
			links[n++] = (struct pc_lsa_link){e->a, e->cost_ba};
	}
	return n;
}

/* Router self's database holding every router's LSA of w, routes computed. */
static pc_lsdb *db_of(const struct world *w, uint32_t self)
{
	pc_lsdb *db = db_new(self, 1024, 16);
	struct pc_lsa_link links[16];
	for (uint32_t i = 0; i < w->n_routers; i++) {
		uint32_t r = w->routers[i];
		uint16_t n = links_of(w, r, links);
		if (r == self) {
			assert_int_equal(pc_lsdb_originate(db, links, n, 0, NULL), 0);
			continue;
		}
		struct pc_lsa lsa = {.origin = r, .seq = 1, .n_links = n, .links = links};
		enum pc_lsdb_verdict v;
		assert_int_equal(pc_lsdb_install(db, &lsa, 0, &v), 0);
		assert_int_equal(v, PC_LSDB_NEWER);
	}
	assert_true(pc_lsdb_dirty(db));
	assert_int_equal(pc_lsdb_spf(db), 0);
	assert_false(pc_lsdb_dirty(db));
	return db;
}

static void test_router_id(void **state)
{
	(void)state;
	assert_int_equal(pc_overlay_router_id("a"), 0xe40c292cu); /* FNV-1a 32 of "a" */
	assert_int_equal(pc_overlay_router_id("acme-r1"), pc_overlay_router_id("acme-r1"));
	assert_int_not_equal(pc_overlay_router_id("acme-r1"), pc_overlay_router_id("acme-r2"));
	assert_int_not_equal(pc_overlay_router_id(""), PC_OVERLAY_ROUTER_NONE);
}

static enum pc_lsdb_verdict install(pc_lsdb *db, uint32_t origin, uint32_t seq, uint32_t age,
                                    uint64_t now)
{
	struct pc_lsa_link link = {.neighbour = origin + 1000, .cost = 1};
	struct pc_lsa lsa = {
	    .origin = origin, .seq = seq, .age_ms = age, .n_links = 1, .links = &link};
	enum pc_lsdb_verdict v = (enum pc_lsdb_verdict) - 1;
	assert_int_equal(pc_lsdb_install(db, &lsa, now, &v), 0);
	return v;
}

static void test_ordering(void **state)
{
	(void)state;
	pc_lsdb *db = db_new(1, 0, 0);
	assert_int_equal(install(db, 7, 5, 0, 0), PC_LSDB_NEWER);
	assert_int_equal(install(db, 7, 5, 0, 0), PC_LSDB_DUPLICATE);
	assert_int_equal(install(db, 7, 4, 0, 0), PC_LSDB_OLDER);
	assert_int_equal(install(db, 7, 6, 0, 0), PC_LSDB_NEWER);
	struct pc_lsa got;
	assert_int_equal(pc_lsdb_get(db, 7, 0, &got), 0);
	assert_int_equal(got.seq, 6);
	/* RFC 1982 wraparound: 2 follows 0xffffffff. */
	assert_int_equal(install(db, 8, 0xffffffffu, 0, 0), PC_LSDB_NEWER);
	assert_int_equal(install(db, 8, 2, 0, 0), PC_LSDB_NEWER);
	assert_int_equal(install(db, 8, 0xfffffffeu, 0, 0), PC_LSDB_OLDER);
	/* Exactly half the space apart is undefined: the held copy stays. */
	assert_int_equal(install(db, 8, 2 + 0x80000000u, 0, 0), PC_LSDB_OLDER);
	assert_int_equal(pc_lsdb_get(db, 8, 0, &got), 0);
	assert_int_equal(got.seq, 2);
	const struct pc_lsdb_stats *st = pc_lsdb_stats(db);
	assert_int_equal(st->installed, 4);
	assert_int_equal(st->older, 3);
	assert_int_equal(st->duplicate, 1);
	pc_lsdb_free(db);
}

static void test_expiry_and_flush(void **state)
{
	(void)state;
	pc_lsdb *db = db_new(1, 0, 0); /* max age 1000 ms */
	assert_int_equal(install(db, 7, 1, 0, 0), PC_LSDB_NEWER);
	assert_int_equal(install(db, 8, 1, 900, 0), PC_LSDB_NEWER); /* 100 ms left */
	struct pc_lsa got;
	assert_int_equal(pc_lsdb_get(db, 8, 50, &got), 0);
	assert_int_equal(got.age_ms, 950); /* the age we would flood it with */
	bool refresh = false;
	assert_int_equal(pc_lsdb_tick(db, 99, &refresh), 0);
	assert_int_equal(pc_lsdb_tick(db, 100, &refresh), 1);
	assert_int_equal(pc_lsdb_get(db, 8, 100, &got), PC_ENOENT);
	assert_int_equal(pc_lsdb_tick(db, 999, &refresh), 0);
	assert_int_equal(pc_lsdb_tick(db, 1000, &refresh), 1);
	assert_int_equal(pc_lsdb_count(db), 0);
	assert_int_equal(pc_lsdb_stats(db)->expired, 2);

	/* A flush (age MaxAge) with the same sequence removes the LSA and is
	 * flooded on; one for an LSA we do not hold is not. */
	assert_int_equal(install(db, 9, 3, 0, 2000), PC_LSDB_NEWER);
	assert_int_equal(install(db, 9, 3, 1000, 2000), PC_LSDB_NEWER);
	assert_int_equal(pc_lsdb_get(db, 9, 2000, &got), PC_ENOENT);
	assert_int_equal(install(db, 9, 3, 1000, 2000), PC_LSDB_DUPLICATE);
	/* An older flush does not remove a newer LSA. */
	assert_int_equal(install(db, 9, 4, 0, 2000), PC_LSDB_NEWER);
	assert_int_equal(install(db, 9, 3, 1000, 2000), PC_LSDB_OLDER);
	assert_int_equal(pc_lsdb_get(db, 9, 2000, &got), 0);
	assert_int_equal(pc_lsdb_stats(db)->flushed, 1);
	pc_lsdb_free(db);
}

static void test_own_lsa(void **state)
{
	(void)state;
	pc_lsdb *db = db_new(1, 0, 0); /* refresh 300 ms */
	bool refresh = false;
	pc_lsdb_tick(db, 0, &refresh);
	assert_true(refresh); /* never originated */

	/* After a restart a neighbour hands us our own LSA of seq 10. */
	assert_int_equal(install(db, 1, 10, 200, 0), PC_LSDB_SELF);
	struct pc_lsa_link links[] = {{2, 1}, {3, 4}};
	struct pc_lsa mine;
	assert_int_equal(pc_lsdb_originate(db, links, 2, 0, &mine), 0);
	assert_int_equal(mine.origin, 1);
	assert_int_equal(mine.seq, 11);
	assert_int_equal(mine.n_links, 2);
	assert_int_equal(install(db, 1, 11, 0, 0), PC_LSDB_DUPLICATE);
	assert_int_equal(install(db, 1, 5, 0, 0), PC_LSDB_OLDER);
	/* A newer stale copy: we jump past it and keep our links. */
	assert_int_equal(install(db, 1, 40, 0, 10), PC_LSDB_SELF);
	assert_int_equal(pc_lsdb_get(db, 1, 10, &mine), 0);
	assert_int_equal(mine.seq, 41);
	assert_int_equal(mine.n_links, 2);
	assert_int_equal(mine.links[1].neighbour, 3);

	/* Ours never expires, but is due for refresh. */
	refresh = false;
	assert_int_equal(pc_lsdb_tick(db, 309, &refresh), 0);
	assert_false(refresh);
	assert_int_equal(pc_lsdb_tick(db, 5000, &refresh), 0);
	assert_true(refresh);
	assert_int_equal(pc_lsdb_originate(db, links, 1, 5000, &mine), 0);
	assert_int_equal(mine.seq, 42);
	assert_int_equal(mine.age_ms, 0);
	pc_lsdb_free(db);
}

static void test_bounds_and_malformed(void **state)
{
	(void)state;
	pc_lsdb *db = db_new(1, 3, 2);
	assert_int_equal(pc_lsdb_originate(db, NULL, 0, 0, NULL), 0);
	assert_int_equal(install(db, 7, 1, 0, 0), PC_LSDB_NEWER);
	assert_int_equal(install(db, 8, 1, 0, 0), PC_LSDB_NEWER);
	struct pc_lsa_link link = {2, 1};
	struct pc_lsa lsa = {.origin = 9, .seq = 1, .n_links = 1, .links = &link};
	enum pc_lsdb_verdict v;
	assert_int_equal(pc_lsdb_install(db, &lsa, 0, &v), PC_ENOSPC);
	/* An origin we hold may still be updated in a full database. */
	assert_int_equal(install(db, 8, 2, 0, 0), PC_LSDB_NEWER);

	struct pc_lsa_link three[] = {{2, 1}, {3, 1}, {4, 1}};
	lsa = (struct pc_lsa){.origin = 7, .seq = 9, .n_links = 3, .links = three};
	assert_int_equal(pc_lsdb_install(db, &lsa, 0, &v), PC_ERANGE);

	struct pc_lsa_link self_link = {7, 1}, zero_cost = {2, 0}, huge = {2, PC_LSA_COST_MAX + 1};
	struct pc_lsa_link twice[] = {{2, 1}, {2, 3}}, none = {0, 1};
	const struct pc_lsa_link *bad[] = {&self_link, &zero_cost, &huge, &none};
	for (size_t i = 0; i < 4; i++) {
		lsa = (struct pc_lsa){.origin = 7, .seq = 9, .n_links = 1, .links = bad[i]};
		assert_int_equal(pc_lsdb_install(db, &lsa, 0, &v), PC_ESYNTAX);
	}
	lsa = (struct pc_lsa){.origin = 7, .seq = 9, .n_links = 2, .links = twice};
	assert_int_equal(pc_lsdb_install(db, &lsa, 0, &v), PC_ESYNTAX);
	lsa = (struct pc_lsa){.origin = 0, .seq = 9, .n_links = 0};
	assert_int_equal(pc_lsdb_install(db, &lsa, 0, &v), PC_ESYNTAX);

	const struct pc_lsdb_stats *st = pc_lsdb_stats(db);
	assert_int_equal(st->rejected_full, 1);
	assert_int_equal(st->rejected_links, 1);
	assert_int_equal(st->rejected_malformed, 6);
	struct pc_lsa got;
	assert_int_equal(pc_lsdb_get(db, 7, 0, &got), 0);
	assert_int_equal(got.seq, 1); /* nothing rejected changed it */
	pc_lsdb_free(db);
}

static void test_two_way_check(void **state)
{
	(void)state;
	/* 1 - 2 and 3 lists 2, but 2 does not list 3: 3 is unreachable,
	 * and 2's one-sided link to 4 (who has no LSA) leads nowhere either. */
	pc_lsdb *db = db_new(1, 0, 0);
	struct pc_lsa_link l1[] = {{2, 1}}, l2[] = {{1, 1}, {4, 1}}, l3[] = {{2, 1}};
	assert_int_equal(pc_lsdb_originate(db, l1, 1, 0, NULL), 0);
	enum pc_lsdb_verdict v;
	struct pc_lsa lsa2 = {.origin = 2, .seq = 1, .n_links = 2, .links = l2};
	struct pc_lsa lsa3 = {.origin = 3, .seq = 1, .n_links = 1, .links = l3};
	assert_int_equal(pc_lsdb_install(db, &lsa2, 0, &v), 0);
	assert_int_equal(pc_lsdb_install(db, &lsa3, 0, &v), 0);
	assert_int_equal(pc_lsdb_spf(db), 0);
	struct pc_overlay_route r;
	assert_int_equal(pc_lsdb_route(db, 2, &r), 0);
	assert_int_equal(r.parent, 2);
	assert_int_equal(r.cost, 1);
	assert_int_equal(pc_lsdb_route(db, 3, &r), PC_ENOENT);
	assert_int_equal(pc_lsdb_route(db, 4, &r), PC_ENOENT);
	assert_int_equal(pc_lsdb_parent(db, 3), PC_OVERLAY_ROUTER_NONE);
	/* Once 2 lists 3 too the link counts. */
	struct pc_lsa_link l2b[] = {{1, 1}, {3, 1}, {4, 1}};
	lsa2 = (struct pc_lsa){.origin = 2, .seq = 2, .n_links = 3, .links = l2b};
	assert_int_equal(pc_lsdb_install(db, &lsa2, 0, &v), 0);
	assert_true(pc_lsdb_dirty(db));
	assert_int_equal(pc_lsdb_spf(db), 0);
	assert_int_equal(pc_lsdb_route(db, 3, &r), 0);
	assert_int_equal(r.parent, 2);
	assert_int_equal(r.cost, 2);
	assert_int_equal(pc_lsdb_route(db, 4, &r), PC_ENOENT);
	/* Ourselves: no parent, cost 0. */
	assert_int_equal(pc_lsdb_route(db, 1, &r), 0);
	assert_int_equal(r.parent, PC_OVERLAY_ROUTER_NONE);
	assert_int_equal(r.cost, 0);
	pc_lsdb_free(db);
}

/* A border's summary links (PC_LSA_SUMMARY): 1 - 2 are ours, 2 - 3 a
 * peering link; 3 advertises only itself, its adjacency to 2 and the
 * routers 4 (cost 5) and 5 (cost 7) behind it, whose LSAs never reach us.
 * 6 is summarised by 3 at 20 and by 2 at 4: the cheaper path wins. */
static void test_summaries(void **state)
{
	(void)state;
	pc_lsdb *db = db_new(1, 0, 0);
	struct pc_lsa_link l1[] = {{2, 1}};
	struct pc_lsa_link l2[] = {{1, 1}, {3, 10}, {6, 3 | PC_LSA_SUMMARY}};
	struct pc_lsa_link l3[] = {{2, 10},
	                           {4, 5 | PC_LSA_SUMMARY},
	                           {5, 7 | PC_LSA_SUMMARY},
	                           {6, 20 | PC_LSA_SUMMARY},
	                           {1, 1 | PC_LSA_SUMMARY}};
	assert_int_equal(pc_lsdb_originate(db, l1, 1, 0, NULL), 0);
	enum pc_lsdb_verdict v;
	struct pc_lsa lsa2 = {.origin = 2, .seq = 1, .n_links = 3, .links = l2};
	struct pc_lsa lsa3 = {.origin = 3, .seq = 1, .n_links = 5, .links = l3};
	assert_int_equal(pc_lsdb_install(db, &lsa2, 0, &v), 0);
	assert_int_equal(pc_lsdb_install(db, &lsa3, 0, &v), 0);
	assert_int_equal(pc_lsdb_spf(db), 0);
	struct pc_overlay_route r;
	assert_int_equal(pc_lsdb_route(db, 3, &r), 0);
	assert_int_equal(r.parent, 2);
	assert_int_equal(r.cost, 11);
	assert_int_equal(pc_lsdb_route(db, 4, &r), 0);
	assert_int_equal(r.parent, 2);
	assert_int_equal(r.cost, 16);
	assert_int_equal(r.n_children, 0);
	assert_int_equal(pc_lsdb_route(db, 5, &r), 0);
	assert_int_equal(r.cost, 18);
	assert_int_equal(pc_lsdb_route(db, 6, &r), 0);
	assert_int_equal(r.parent, 2);
	assert_int_equal(r.cost, 4);
	assert_int_equal(pc_lsdb_parent(db, 5), 2);
	/* Every route in order, summarised ones included; ourselves once. */
	assert_int_equal(pc_lsdb_route_count(db), 6);
	for (uint32_t i = 0; i < 6; i++) {
		pc_lsdb_route_at(db, i, &r);
		assert_int_equal(r.destination, i + 1);
	}
	/* A summary is no adjacency: 3 summarising 1 gives 2 no edge to 1's
	 * side, and 4 is not reached through a link 3 does not list. Once 4's
	 * own LSA arrives (adjacent to nobody here) it is routed by it:
	 * unreachable, the summary ignored. */
	struct pc_lsa_link l4[] = {{3, 1}};
	struct pc_lsa lsa4 = {.origin = 4, .seq = 1, .n_links = 1, .links = l4};
	assert_int_equal(pc_lsdb_install(db, &lsa4, 0, &v), 0);
	assert_int_equal(pc_lsdb_spf(db), 0);
	assert_int_equal(pc_lsdb_route(db, 4, &r), PC_ENOENT);
	assert_int_equal(pc_lsdb_route(db, 5, &r), 0);
	/* 3 gone: what it summarised goes with it. */
	struct pc_lsa_link l2b[] = {{1, 1}};
	lsa2 = (struct pc_lsa){.origin = 2, .seq = 2, .n_links = 1, .links = l2b};
	assert_int_equal(pc_lsdb_install(db, &lsa2, 0, &v), 0);
	assert_int_equal(pc_lsdb_spf(db), 0);
	assert_int_equal(pc_lsdb_route(db, 5, &r), PC_ENOENT);
	assert_int_equal(pc_lsdb_route(db, 6, &r), PC_ENOENT);
	/* A summary cost out of range is malformed, as a link's. */
	struct pc_lsa_link bad[] = {{2, PC_LSA_SUMMARY}};
	struct pc_lsa lsa9 = {.origin = 9, .seq = 1, .n_links = 1, .links = bad};
	assert_int_equal(pc_lsdb_install(db, &lsa9, 0, &v), PC_ESYNTAX);
	pc_lsdb_free(db);
}

/* Summarised routers count toward max_routers. */
static void test_summaries_bounded(void **state)
{
	(void)state;
	pc_lsdb *db = db_new(1, 4, 0);
	struct pc_lsa_link l1[] = {{2, 1}};
	struct pc_lsa_link l2[] = {
	    {1, 1}, {10, 1 | PC_LSA_SUMMARY}, {11, 2 | PC_LSA_SUMMARY}, {12, 3 | PC_LSA_SUMMARY}};
	assert_int_equal(pc_lsdb_originate(db, l1, 1, 0, NULL), 0);
	enum pc_lsdb_verdict v;
	struct pc_lsa lsa2 = {.origin = 2, .seq = 1, .n_links = 4, .links = l2};
	assert_int_equal(pc_lsdb_install(db, &lsa2, 0, &v), 0);
	assert_int_equal(pc_lsdb_spf(db), 0);
	assert_int_equal(pc_lsdb_route_count(db), 4);
	assert_int_equal(pc_lsdb_stats(db)->summaries_dropped, 1);
	struct pc_overlay_route r;
	assert_int_equal(pc_lsdb_route(db, 10, &r), 0);
	assert_int_equal(pc_lsdb_route(db, 11, &r), 0);
	assert_int_equal(pc_lsdb_route(db, 12, &r), PC_ENOENT);
	pc_lsdb_free(db);
}

static void test_spf_known_answers(void **state)
{
	(void)state;
	/* 1 -2- 2 -1- 3, 1 -5- 3, 3 -1- 4, and 1 -> 5 cheap one way only
	 * (costs are the sender's: 1 reaches 5 at 1, 5 reaches 1 at 9). */
	static const uint32_t routers[] = {1, 2, 3, 4, 5};
	static const struct edge edges[] = {
	    {1, 2, 2, 2}, {2, 3, 1, 1}, {1, 3, 5, 5}, {3, 4, 1, 1}, {1, 5, 1, 9}, {5, 4, 1, 1},
	};
	struct world w = {5, routers, 6, edges};
	pc_lsdb *db = db_of(&w, 1);
	struct pc_overlay_route r;
	assert_int_equal(pc_lsdb_route(db, 3, &r), 0);
	assert_int_equal(r.parent, 2);
	assert_int_equal(r.cost, 3);
	assert_int_equal(pc_lsdb_route(db, 4, &r), 0);
	assert_int_equal(r.parent, 5); /* 1+1 through 5 beats 2+1+1 through 2 */
	assert_int_equal(r.cost, 2);
	pc_lsdb_free(db);

	/* From 5 toward 1: 9 direct, or 5-4-3-2-1 at 1+1+1+2 = 5. */
	db = db_of(&w, 5);
	assert_int_equal(pc_lsdb_route(db, 1, &r), 0);
	assert_int_equal(r.parent, 4);
	assert_int_equal(r.cost, 5);
	pc_lsdb_free(db);
}

static void test_ties_lowest_id(void **state)
{
	(void)state;
	/* A square 10 - 30 - 40 and 10 - 20 - 40, all cost 1, the links
	 * listed high id first: both paths tie and 20 wins everywhere. */
	static const uint32_t routers[] = {40, 30, 20, 10};
	static const struct edge edges[] = {
	    {10, 30, 1, 1}, {30, 40, 1, 1}, {10, 20, 1, 1}, {20, 40, 1, 1}};
	struct world w = {4, routers, 4, edges};
	pc_lsdb *db = db_of(&w, 10);
	assert_int_equal(pc_lsdb_parent(db, 40), 20);
	struct pc_overlay_route r;
	assert_int_equal(pc_lsdb_route(db, 10, &r), 0);
	assert_int_equal(r.n_children, 2); /* both 20 and 30 reach us direct */
	assert_int_equal(r.children[0], 20);
	assert_int_equal(r.children[1], 30);
	pc_lsdb_free(db);
	db = db_of(&w, 40);
	assert_int_equal(pc_lsdb_parent(db, 10), 20);
	pc_lsdb_free(db);
	/* Toward source 10, 40 is 20's child and not 30's. */
	db = db_of(&w, 20);
	assert_int_equal(pc_lsdb_route(db, 10, &r), 0);
	assert_int_equal(r.n_children, 1);
	assert_int_equal(r.children[0], 40);
	pc_lsdb_free(db);
	db = db_of(&w, 30);
	assert_int_equal(pc_lsdb_route(db, 10, &r), 0);
	assert_int_equal(r.n_children, 0);
	pc_lsdb_free(db);
}

/* The patent's figure 20 in the overlay: three CDNs, A (11, 12, 13),
 * B (21, 22, 23) and C (31, 32), with peering links A-B (13-21) and B-C
 * (23-31) dearer than the links inside a CDN. */
enum { A1 = 11, A2 = 12, A3 = 13, B1 = 21, B2 = 22, B3 = 23, C1 = 31, C2 = 32 };
static const uint32_t fig20_routers[] = {A1, A2, A3, B1, B2, B3, C1, C2};
static const struct edge fig20_edges[] = {
    {A1, A2, 1, 1}, {A2, A3, 1, 1}, {A1, A3, 1, 1},   {B1, B2, 1, 1},   {B2, B3, 1, 1},
    {B1, B3, 3, 3}, {C1, C2, 1, 1}, {A3, B1, 10, 10}, {B3, C1, 10, 10},
};

/* For every pair of routers X and source S of w: X's children toward S are
 * exactly the neighbours whose own database says X is their parent. */
static void check_parents_agree(const struct world *w)
{
	pc_lsdb *dbs[64];
	assert_true(w->n_routers <= 64);
	for (uint32_t i = 0; i < w->n_routers; i++)
		dbs[i] = db_of(w, w->routers[i]);
	for (uint32_t s = 0; s < w->n_routers; s++) {
		uint32_t source = w->routers[s];
		for (uint32_t x = 0; x < w->n_routers; x++) {
			struct pc_overlay_route r;
			assert_int_equal(pc_lsdb_route(dbs[x], source, &r), 0);
			for (uint32_t y = 0; y < w->n_routers; y++) {
				uint32_t their_parent = pc_lsdb_parent(dbs[y], source);
				bool child = false;
				for (uint32_t k = 0; k < r.n_children; k++)
					child |= r.children[k] == w->routers[y];
				assert_int_equal(child, their_parent == w->routers[x]);
			}
		}
	}
	for (uint32_t i = 0; i < w->n_routers; i++)
		pc_lsdb_free(dbs[i]);
}

static void test_figure20_parents_children(void **state)
{
	(void)state;
	struct world w = {8, fig20_routers, 9, fig20_edges};
	/* Toward source A1: A3 -> A1, B1 -> A3, B2 -> B1, B3 -> B2 (13 beats
	 * 14 through B1 direct), C1 -> B3, C2 -> C1. */
	static const uint32_t parent[][2] = {{A2, A1}, {A3, A1}, {B1, A3}, {B2, B1},
	                                     {B3, B2}, {C1, B3}, {C2, C1}};
	for (size_t i = 0; i < sizeof(parent) / sizeof(parent[0]); i++) {
		pc_lsdb *db = db_of(&w, parent[i][0]);
		assert_int_equal(pc_lsdb_parent(db, A1), parent[i][1]);
		pc_lsdb_free(db);
	}
	pc_lsdb *db = db_of(&w, B2);
	struct pc_overlay_route r;
	assert_int_equal(pc_lsdb_route(db, A1, &r), 0);
	assert_int_equal(r.cost, 12);
	assert_int_equal(r.n_children, 1);
	assert_int_equal(r.children[0], B3);
	/* Toward C2 the tree runs the other way: B1 is B2's child. */
	assert_int_equal(pc_lsdb_route(db, C2, &r), 0);
	assert_int_equal(r.parent, B3);
	assert_int_equal(r.n_children, 1);
	assert_int_equal(r.children[0], B1);
	pc_lsdb_free(db);
	check_parents_agree(&w);
}

static void test_router_failure_changes_parents(void **state)
{
	(void)state;
	struct world w = {8, fig20_routers, 9, fig20_edges};
	pc_lsdb *db = db_of(&w, B3);
	assert_int_equal(pc_lsdb_parent(db, A1), B2);
	/* B2 dies: its LSA is flushed (or ages out). Its neighbours still
	 * list it until they notice, but the two-way check drops it at once. */
	struct pc_lsa got;
	assert_int_equal(pc_lsdb_get(db, B2, 0, &got), 0);
	struct pc_lsa flush = got;
	flush.age_ms = 1000;
	enum pc_lsdb_verdict v;
	assert_int_equal(pc_lsdb_install(db, &flush, 10, &v), 0);
	assert_int_equal(v, PC_LSDB_NEWER);
	assert_int_equal(pc_lsdb_spf(db), 0);
	struct pc_overlay_route r;
	assert_int_equal(pc_lsdb_route(db, A1, &r), 0);
	assert_int_equal(r.parent, B1);
	assert_int_equal(r.cost, 14);
	assert_int_equal(pc_lsdb_route(db, B2, &r), PC_ENOENT);
	/* C1 is still our child toward A1; nothing hangs below B2 any more. */
	assert_int_equal(pc_lsdb_route(db, A1, &r), 0);
	assert_int_equal(r.n_children, 1);
	assert_int_equal(r.children[0], C1);
	pc_lsdb_free(db);

	/* The same world without B2 agrees everywhere. */
	static const uint32_t routers[] = {A1, A2, A3, B1, B3, C1, C2};
	static const struct edge edges[] = {
	    {A1, A2, 1, 1}, {A2, A3, 1, 1},   {A1, A3, 1, 1},   {B1, B3, 3, 3},
	    {C1, C2, 1, 1}, {A3, B1, 10, 10}, {B3, C1, 10, 10},
	};
	struct world without = {7, routers, 7, edges};
	check_parents_agree(&without);
}

/* 500 routers, each linked to its ring neighbours and to the routers 7
 * away (4 links each), costs 1..10 from a fixed generator. Wholesale SPF
 * (500 Dijkstras, each stopped once we and our neighbours are settled)
 * measured 6-8 ms on the build machine (-O2, one core, a loaded 2-core VM;
 * 10 ms without the early stop), so recomputing after each change, at
 * most a few times a second, is fine at this size. */
static void test_spf_500_routers(void **state)
{
	(void)state;
	enum { N = 500 };
	uint32_t *routers = malloc(N * sizeof(*routers));
	struct edge *edges = malloc(2 * N * sizeof(*edges));
	assert_non_null(routers);
	assert_non_null(edges);
	uint32_t x = 12345;
	for (uint32_t i = 0; i < N; i++)
		routers[i] =
		    pc_overlay_router_id((char[]){(char)('a' + i % 26), (char)('a' + i / 26), 0});
	for (uint32_t i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		uint32_t c1 = 1 + (x >> 16) % 10;
		x = x * 1103515245u + 12345u;
		uint32_t c2 = 1 + (x >> 16) % 10;
		edges[2 * i] = (struct edge){routers[i], routers[(i + 1) % N], c1, c1};
		edges[2 * i + 1] = (struct edge){routers[i], routers[(i + 7) % N], c2, c2};
	}
	struct world w = {N, routers, 2 * N, edges};
	pc_lsdb *db = db_of(&w, routers[0]);
	/* Everyone reachable; every neighbour's parent toward us is us at the
	 * cost of the direct link or less. */
	for (uint32_t i = 0; i < N; i++) {
		struct pc_overlay_route r;
		assert_int_equal(pc_lsdb_route(db, routers[i], &r), 0);
		assert_true(i == 0 || r.parent != PC_OVERLAY_ROUTER_NONE);
	}
	assert_int_equal(pc_lsdb_stats(db)->spf_runs, 1);
	pc_lsdb_free(db);
	free(routers);
	free(edges);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_router_id),
	    cmocka_unit_test(test_ordering),
	    cmocka_unit_test(test_expiry_and_flush),
	    cmocka_unit_test(test_own_lsa),
	    cmocka_unit_test(test_bounds_and_malformed),
	    cmocka_unit_test(test_two_way_check),
	    cmocka_unit_test(test_summaries),
	    cmocka_unit_test(test_summaries_bounded),
	    cmocka_unit_test(test_spf_known_answers),
	    cmocka_unit_test(test_ties_lowest_id),
	    cmocka_unit_test(test_figure20_parents_children),
	    cmocka_unit_test(test_router_failure_changes_parents),
	    cmocka_unit_test(test_spf_500_routers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
