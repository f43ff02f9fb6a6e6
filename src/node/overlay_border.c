/* See overlay_border.h: the filter at a peering link and the border view
 * that replaces our interior there. */
#include "node/overlay_border.h"

#include <stdlib.h>
#include <string.h>

bool ovl_border_sends(uint32_t self, uint32_t peer, uint32_t origin)
{
	return origin == self || origin == peer;
}

bool ovl_border_accepts(uint32_t peer, uint32_t origin)
{
	return origin == peer;
}

static int by_cost(const void *a, const void *b)
{
	const struct pc_lsa_link *x = a, *y = b;
	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	return x->neighbour < y->neighbour ? -1 : x->neighbour > y->neighbour;
}

uint16_t ovl_border_view(const pc_lsdb *lsdb, uint32_t self, uint32_t peer, const char *peer_cdn,
                         const struct pc_lsa_link *adjacencies, uint16_t n_adjacencies,
                         ovl_border_cdn_fn *cdn_of, void *ctx, struct pc_lsa_link *out,
                         uint16_t max)
{
	uint16_t n = 0;
	for (uint16_t i = 0; i < n_adjacencies && n < max; i++)
		out[n++] = adjacencies[i];
	uint32_t count = pc_lsdb_route_count(lsdb);
	struct pc_lsa_link *summaries = malloc(((size_t)count + 1) * sizeof(*summaries));
	if (summaries == NULL)
		return n; /* the adjacencies alone: routes behind us wait for the next try */
	uint32_t k = 0;
	for (uint32_t i = 0; i < count; i++) {
		struct pc_overlay_route r;
		pc_lsdb_route_at(lsdb, i, &r);
		if (r.destination == self || r.parent == peer || r.destination == peer)
			continue; /* ourselves; and what the peer reaches without us */
		bool adjacent = false;
		for (uint16_t a = 0; a < n_adjacencies && !adjacent; a++)
			adjacent = adjacencies[a].neighbour == r.destination;
		const char *cdn = cdn_of(ctx, r.destination);
		if (adjacent || (cdn != NULL && strcmp(cdn, peer_cdn) == 0))
			continue; /* its own CDN's routers the peer routes itself */
		uint64_t cost = r.cost == 0 ? 1 : r.cost;
		summaries[k++] = (struct pc_lsa_link){
		    r.destination, (cost > PC_LSA_COST_MAX ? PC_LSA_COST_MAX : (uint32_t)cost)};
	}
	qsort(summaries, k, sizeof(*summaries), by_cost);
	for (uint32_t i = 0; i < k && n < max; i++)
		out[n++] = (struct pc_lsa_link){summaries[i].neighbour,
		                                summaries[i].cost | PC_LSA_SUMMARY};
	free(summaries);
	return n;
}

uint64_t ovl_border_hash(const struct pc_lsa_link *links, uint16_t n)
{
	uint64_t h = 14695981039346656037ULL;
	for (uint16_t i = 0; i < n; i++) {
		uint32_t v[2] = {links[i].neighbour, links[i].cost};
		const unsigned char *p = (const unsigned char *)v;
		for (size_t b = 0; b < sizeof(v); b++) {
			h ^= p[b];
			h *= 1099511628211ULL;
		}
	}
	return h;
}
