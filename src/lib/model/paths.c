/* The static AS path-cost table: one Dijkstra run over the undirected link
 * graph from every AS that holds servers. Links are symmetric, so the
 * distance from a server's AS to a client's AS is also the cost the other
 * way. Only ASes with servers are sources, which keeps the table at
 * n_ases x n_server_ases rather than n_ases squared. */
#include <stdlib.h>

#include "lib/base/minheap.h"
#include "lib/base/err.h"
#include "lib/model/model.h"

int pc_model_paths_build(pc_model *model);

struct adjacency {
	uint32_t *start; /* [n_ases + 1] offsets into edges */
	uint32_t *to, *cost;
};

static int build_adjacency(const pc_model *model, struct adjacency *adj)
{
	uint32_t n = model->n_ases;
	adj->start = calloc((size_t)n + 1, sizeof(uint32_t));
	adj->to = malloc(((size_t)model->n_links * 2 + 1) * sizeof(uint32_t));
	adj->cost = malloc(((size_t)model->n_links * 2 + 1) * sizeof(uint32_t));
	if (adj->start == NULL || adj->to == NULL || adj->cost == NULL)
		return PC_ENOMEM;
	for (uint32_t l = 0; l < model->n_links; l++) {
		const struct pc_link *link = &model->links[l];
		if (link->as_a >= n || link->as_b >= n)
			return PC_EINVAL;
		adj->start[link->as_a + 1]++;
		adj->start[link->as_b + 1]++;
	}
	for (uint32_t a = 0; a < n; a++)
		adj->start[a + 1] += adj->start[a];
	uint32_t *fill = malloc(((size_t)n + 1) * sizeof(uint32_t));
	if (fill == NULL)
		return PC_ENOMEM;
	for (uint32_t a = 0; a <= n; a++)
		fill[a] = adj->start[a];
	for (uint32_t l = 0; l < model->n_links; l++) {
		const struct pc_link *link = &model->links[l];
		uint32_t i = fill[link->as_a]++;
		adj->to[i] = link->as_b;
		adj->cost[i] = link->cost;
		i = fill[link->as_b]++;
		adj->to[i] = link->as_a;
		adj->cost[i] = link->cost;
	}
	free(fill);
	return PC_OK;
}

static void dijkstra(const struct adjacency *adj, uint32_t n_ases, uint32_t source, uint32_t *dist,
                     struct pc_heap_item *heap)
{
	for (uint32_t a = 0; a < n_ases; a++)
		dist[a] = PC_COST_INFINITE;
	uint32_t n_heap = 0;
	dist[source] = 0;
	pc_heap_push(heap, &n_heap, (struct pc_heap_item){0, source});
	while (n_heap > 0) {
		struct pc_heap_item item = pc_heap_pop(heap, &n_heap);
		if (item.key != dist[item.value])
			continue; /* stale entry */
		for (uint32_t e = adj->start[item.value]; e < adj->start[item.value + 1]; e++) {
			uint64_t via = (uint64_t)item.key + adj->cost[e];
			if (via >= PC_COST_INFINITE)
				continue;
			if (via < dist[adj->to[e]]) {
				dist[adj->to[e]] = (uint32_t)via;
				pc_heap_push(heap, &n_heap, (struct pc_heap_item){via, adj->to[e]});
			}
		}
	}
}

static int build_farm_costs(pc_model *model)
{
	size_t cells = (size_t)model->n_ases * model->n_farm_cells;
	model->farm_costs = pc_arena_alloc(model->arena, (cells ? cells : 1) * sizeof(uint32_t));
	if (model->farm_costs == NULL)
		return PC_ENOMEM;
	for (uint32_t a = 0; a < model->n_ases; a++) {
		const uint32_t *row = &model->path_costs[(size_t)a * model->n_server_ases];
		uint32_t *out = &model->farm_costs[(size_t)a * model->n_farm_cells];
		for (uint32_t c = 0; c < model->n_cdns; c++) {
			const struct pc_cdn *cdn = &model->cdns[c];
			for (uint32_t f = 0; f < cdn->n_farms; f++)
				out[cdn->farm_base + f] =
				    row[model->ases[cdn->farm_as[f]].server_as];
		}
	}
	return PC_OK;
}

int pc_model_paths_build(pc_model *model)
{
	uint32_t n = model->n_ases;
	for (uint32_t a = 0; a < n; a++)
		model->ases[a].server_as = PC_NONE;
	model->n_server_ases = 0;
	for (uint32_t s = 0; s < model->n_servers; s++) {
		struct pc_as *as = &model->ases[model->servers[s].as];
		if (as->server_as == PC_NONE)
			as->server_as = model->n_server_ases++;
	}
	if (n == 0 || model->n_server_ases == 0)
		return PC_OK;
	size_t cells = (size_t)n * model->n_server_ases;
	model->path_costs = pc_arena_alloc(model->arena, cells * sizeof(uint32_t));
	if (model->path_costs == NULL)
		return PC_ENOMEM;

	struct adjacency adj = {0};
	/* A node is pushed at most once per incoming edge, plus the source. */
	struct pc_heap_item *heap = malloc(((size_t)model->n_links * 2 + 1) * sizeof(*heap));
	uint32_t *dist = malloc((size_t)n * sizeof(uint32_t));
	int rc = heap == NULL || dist == NULL ? PC_ENOMEM : build_adjacency(model, &adj);
	for (uint32_t a = 0; a < n && rc == PC_OK; a++) {
		uint32_t column = model->ases[a].server_as;
		if (column == PC_NONE)
			continue;
		dijkstra(&adj, n, a, dist, heap);
		for (uint32_t b = 0; b < n; b++)
			model->path_costs[(size_t)b * model->n_server_ases + column] = dist[b];
	}
	free(adj.start);
	free(adj.to);
	free(adj.cost);
	free(heap);
	free(dist);
	if (rc == PC_OK)
		rc = build_farm_costs(model);
	return rc;
}

uint32_t pc_model_path_cost(const pc_model *model, uint32_t from_as, uint32_t server)
{
	if (from_as >= model->n_ases || server >= model->n_servers || model->path_costs == NULL)
		return PC_COST_INFINITE;
	uint32_t column = model->ases[model->servers[server].as].server_as;
	return model->path_costs[(size_t)from_as * model->n_server_ases + column];
}
