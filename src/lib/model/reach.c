/* The shortlist of issue 9: for every AS and every CDN, the CDN's farms
 * sorted by static path cost from that AS, so a decision reads the nearest
 * farms first and stops as soon as no farther farm can change its answer,
 * instead of scanning every server of the CDN. Part of the immutable model
 * (built by pc_model_finish after the path costs), so it is swapped with
 * the generation; measured costs (live.h) are not in it, and the policy
 * falls back to the full scan for a client AS that has any. Inside a farm
 * the scan reads only the servers the request's service, grade and family
 * allow, from bit sets over slots made here too. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/base/err.h"
#include "lib/model/model.h"

int pc_model_reach_build(pc_model *model);

static int by_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Keys are cost << 32 | farm: ascending cost, ties in farm order (the
 * stored cost saturates at PC_REACH_FAR, the order is the exact one). Farms
 * per CDN are few (tens), so insertion sort; qsort for large CDNs. */
static void sort_keys(uint64_t *keys, uint32_t n)
{
	if (n > 32) {
		qsort(keys, n, sizeof(*keys), by_key);
		return;
	}
	for (uint32_t i = 1; i < n; i++) {
		uint64_t key = keys[i];
		uint32_t j = i;
		for (; j > 0 && keys[j - 1] > key; j--)
			keys[j] = keys[j - 1];
		keys[j] = key;
	}
}

static int build_farm_first(pc_model *model)
{
	for (uint32_t c = 0; c < model->n_cdns; c++) {
		struct pc_cdn *cdn = &model->cdns[c];
		cdn->farm_first =
		    pc_arena_alloc(model->arena, ((size_t)cdn->n_farms + 1) * sizeof(uint32_t));
		if (cdn->farm_first == NULL)
			return PC_ENOMEM;
		uint32_t farm = 0;
		for (uint32_t i = 0; i < cdn->servers.count; i++)
			if (i == 0 || cdn->members[i].farm != cdn->members[i - 1].farm)
				cdn->farm_first[farm++] = i;
		cdn->farm_first[cdn->n_farms] = cdn->servers.count;
	}
	return PC_OK;
}

/* The combined sets past this many words (32 MiB) are not built: the
 * decision then takes the full scan (policy.c collect), which reads the
 * members themselves. */
#define FILTER_MAX_WORDS ((size_t)1 << 22)

/* The static filter (pc_model.filter_slots): what static_reason in
 * policy.c decides from the model alone, per slot, one set for each
 * (service, grade, family) a request can name, so the scan reads one word
 * where it ANDed three. */
static int build_slot_sets(pc_model *model)
{
	model->n_slot_words = (model->n_servers + 63) / 64;
	model->slot_limits = pc_arena_alloc(
	    model->arena, (model->n_servers ? model->n_servers : 1) * sizeof(*model->slot_limits));
	model->slot_pick = pc_arena_alloc(model->arena, (model->n_servers ? model->n_servers : 1) *
	                                                    sizeof(*model->slot_pick));
	if (model->slot_limits == NULL || model->slot_pick == NULL)
		return PC_ENOMEM;
	uint32_t words = model->n_slot_words;
	uint32_t n_services =
	    model->n_services < PC_MAX_SERVICES ? model->n_services : PC_MAX_SERVICES;
	size_t n_words = (size_t)n_services * model->n_grades * 3 * words;
	model->filter_slots = NULL;
	if (n_words > 0 && n_words <= FILTER_MAX_WORDS) {
		model->filter_slots = pc_arena_alloc(model->arena, n_words * sizeof(uint64_t));
		if (model->filter_slots == NULL)
			return PC_ENOMEM;
	}
	uint64_t *filter = model->filter_slots;
	for (uint32_t c = 0; c < model->n_cdns; c++) {
		const struct pc_cdn *cdn = &model->cdns[c];
		for (uint32_t i = 0; i < cdn->servers.count; i++) {
			const struct pc_cdn_member *member = &cdn->members[i];
			uint32_t slot = cdn->member_base + i, w = slot / 64;
			uint64_t bit = 1ULL << (slot % 64);
			/* the least load with load * 100 >= capacity * pct */
			uint64_t at_pct =
			    ((uint64_t)member->capacity * model->params.high_watermark_pct + 99) /
			    100;
			if (at_pct > UINT32_MAX) /* a watermark past 100 % (never from config) */
				at_pct = UINT32_MAX;
			model->slot_limits[slot] = (struct pc_slot_limits){
			    .full_load = {(uint32_t)at_pct, member->capacity}};
			model->slot_pick[slot] = (struct pc_slot_pick){
			    .name_hash = member->name_hash, .server = member->server};
			for (uint32_t s = 0; filter != NULL && s < n_services; s++) {
				if (!(member->service_mask >> s & 1))
					continue;
				for (uint32_t g = 0; g < model->n_grades; g++) {
					if (member->tier >= PC_MAX_TIERS ||
					    !(model->grades[g].tier_mask >> member->tier & 1))
						continue;
					size_t set = ((size_t)s * model->n_grades + g) * 3;
					/* PC_AF_NONE, then IPv4 and IPv6 */
					filter[set * words + w] |= bit;
					for (uint32_t f = 0; f < 2; f++)
						if (member->families >> f & 1)
							filter[(set + 1 + f) * words + w] |= bit;
				}
			}
		}
	}
	return PC_OK;
}

int pc_model_reach_build(pc_model *model)
{
	int rc = build_farm_first(model);
	if (rc == PC_OK)
		rc = build_slot_sets(model);
	if (rc != PC_OK)
		return rc;
	/* The layout: a row of at most a line's worth of farms starts on the
	 * next line when it would cross one; longer rows start on a line. */
	enum { LINE = 64 / sizeof(struct pc_reach) };
	uint32_t at = 0;
	for (uint32_t c = 0; c < model->n_cdns; c++) {
		uint32_t n = model->cdns[c].n_farms;
		if (at % LINE != 0 && (n > LINE || at % LINE + n > LINE))
			at += LINE - at % LINE;
		model->cdns[c].reach_base = at;
		at += n;
	}
	model->n_reach_cells = at + (LINE - at % LINE) % LINE;
	size_t cells = (size_t)model->n_ases * model->n_reach_cells;
	/* +64 and rounded up: the arena aligns to 16 bytes only. Read at
	 * random by every decision: on huge pages (pc_arena_alloc_table). */
	uintptr_t raw = (uintptr_t)pc_arena_alloc_table(model->arena, ((cells ? cells : 1) + LINE) *
	                                                                  sizeof(*model->reach));
	if (raw == 0)
		return PC_ENOMEM;
	model->reach = (struct pc_reach *)((raw + 63) & ~(uintptr_t)63);
	uint32_t max_farms = 1;
	for (uint32_t c = 0; c < model->n_cdns; c++)
		if (model->cdns[c].n_farms > max_farms)
			max_farms = model->cdns[c].n_farms;
	uint64_t *keys = malloc(max_farms * sizeof(*keys));
	if (keys == NULL)
		return PC_ENOMEM;
	for (uint32_t a = 0; a < model->n_ases && cells > 0; a++) {
		size_t row = (size_t)a * model->n_farm_cells;
		for (uint32_t c = 0; c < model->n_cdns; c++) {
			const struct pc_cdn *cdn = &model->cdns[c];
			const uint32_t *costs = &model->farm_costs[row + cdn->farm_base];
			for (uint32_t f = 0; f < cdn->n_farms; f++)
				keys[f] = (uint64_t)costs[f] << 32 | f;
			sort_keys(keys, cdn->n_farms);
			struct pc_reach *out =
			    &model->reach[(size_t)a * model->n_reach_cells + cdn->reach_base];
			for (uint32_t f = 0; f < cdn->n_farms; f++) {
				uint64_t cost = keys[f] >> 32;
				out[f] = (struct pc_reach){
				    .cost = (uint16_t)(cost < PC_REACH_FAR ? cost : PC_REACH_FAR),
				    .farm = (uint16_t)keys[f]};
			}
		}
	}
	free(keys);
	return PC_OK;
}

const struct pc_reach *pc_model_reach(const pc_model *model, uint32_t as, uint32_t cdn)
{
	if (as >= model->n_ases || cdn >= model->n_cdns || model->reach == NULL)
		return NULL;
	return &model->reach[(size_t)as * model->n_reach_cells + model->cdns[cdn].reach_base];
}
