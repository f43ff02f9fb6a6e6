/* The model's derived indexes (pc_model_finish) and its read-only look-ups.
 * The path-cost table is in paths.c. */
#include "lib/model/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"

int pc_model_paths_build(pc_model *model); /* paths.c */
int pc_model_reach_build(pc_model *model); /* reach.c */

pc_model *pc_model_new(void)
{
	pc_arena *arena = pc_arena_new();
	if (arena == NULL)
		return NULL;
	pc_model *model = pc_arena_alloc(arena, sizeof(*model));
	if (model == NULL) {
		pc_arena_free(arena);
		return NULL;
	}
	model->arena = arena;
	model->source = "";
	model->self_node = PC_NONE;
	model->default_service = PC_NONE;
	return model;
}

const struct pc_addr_list *pc_cdn_anycast(const pc_model *model, const struct pc_cdn *cdn,
                                          const char *role)
{
	static const struct pc_addr_list none = {NULL, 0};
	for (uint32_t r = 0; r < model->n_anycast_roles && cdn->anycast != NULL; r++)
		if (strcmp(model->anycast_roles[r], role) == 0)
			return &cdn->anycast[r];
	return &none;
}

void pc_model_free(pc_model *model)
{
	if (model == NULL)
		return;
	pc_netmap_free(model->netmap);
	/* The model struct itself lives in its arena: free that last. */
	pc_arena_free(model->arena);
}

/* Builds a name map over count records of size stride whose first member
 * is the name. Duplicate names are refused: the config loader reports them
 * with positions before we get here, so this is a last line of defence. */
static int index_names(pc_model *model, pc_strmap **out, const void *records, size_t stride,
                       uint32_t count)
{
	pc_strmap *map = pc_strmap_new(model->arena, count);
	if (map == NULL)
		return PC_ENOMEM;
	for (uint32_t i = 0; i < count; i++) {
		const char *name = *(const char *const *)((const char *)records + i * stride);
		if (name == NULL)
			return PC_EINVAL;
		int rc = pc_strmap_put(map, name, strlen(name), i);
		if (rc != PC_OK)
			return rc;
	}
	*out = map;
	return PC_OK;
}

static int alloc_list(pc_model *model, struct pc_index_list *list, uint32_t count)
{
	list->count = 0;
	list->items = NULL;
	if (count == 0)
		return PC_OK;
	list->items = pc_arena_alloc(model->arena, count * sizeof(uint32_t));
	return list->items == NULL ? PC_ENOMEM : PC_OK;
}

static bool list_has(const struct pc_index_list *list, uint32_t item)
{
	for (uint32_t i = 0; i < list->count; i++)
		if (list->items[i] == item)
			return true;
	return false;
}

/* Which CDNs each AS belongs to (as backbone or affiliate): two passes,
 * count then fill, so each list is one arena block. */
static int build_as_cdns(pc_model *model)
{
	uint32_t *counts = calloc(model->n_ases ? model->n_ases : 1, sizeof(uint32_t));
	if (counts == NULL)
		return PC_ENOMEM;
	for (uint32_t c = 0; c < model->n_cdns; c++) {
		const struct pc_cdn *cdn = &model->cdns[c];
		for (uint32_t i = 0; i < cdn->backbone_as.count; i++)
			counts[cdn->backbone_as.items[i]]++;
		for (uint32_t i = 0; i < cdn->affiliate_as.count; i++)
			counts[cdn->affiliate_as.items[i]]++;
	}
	int rc = PC_OK;
	for (uint32_t a = 0; a < model->n_ases && rc == PC_OK; a++)
		rc = alloc_list(model, &model->ases[a].cdns, counts[a]);
	free(counts);
	if (rc != PC_OK)
		return rc;
	for (uint32_t c = 0; c < model->n_cdns; c++) {
		const struct pc_cdn *cdn = &model->cdns[c];
		const struct pc_index_list *lists[2] = {&cdn->backbone_as, &cdn->affiliate_as};
		for (int l = 0; l < 2; l++) {
			for (uint32_t i = 0; i < lists[l]->count; i++) {
				uint32_t as = lists[l]->items[i];
				if (as >= model->n_ases)
					return PC_EINVAL;
				struct pc_index_list *cdns = &model->ases[as].cdns;
				/* An AS listed twice for one CDN counts once. */
				if (!list_has(cdns, c))
					cdns->items[cdns->count++] = c;
			}
		}
	}
	return PC_OK;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ x >> 31;
}

static int by_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Orders server indexes by (AS, index): keys carry both, so qsort needs no
 * context. */
static int sort_by_as(const pc_model *model, uint32_t *items, uint32_t count)
{
	uint64_t *keys = malloc((count ? count : 1) * sizeof(uint64_t));
	if (keys == NULL)
		return PC_ENOMEM;
	for (uint32_t i = 0; i < count; i++)
		keys[i] = (uint64_t)model->servers[items[i]].as << 32 | items[i];
	qsort(keys, count, sizeof(uint64_t), by_key);
	for (uint32_t i = 0; i < count; i++)
		items[i] = (uint32_t)keys[i];
	free(keys);
	return PC_OK;
}

static int build_cdn_lists(pc_model *model)
{
	for (uint32_t c = 0; c < model->n_cdns; c++) {
		uint32_t n_servers = 0, n_agreements = 0;
		for (uint32_t s = 0; s < model->n_servers; s++)
			n_servers += model->servers[s].cdn == c;
		for (uint32_t g = 0; g < model->n_agreements; g++)
			n_agreements +=
			    model->agreements[g].cdn_a == c || model->agreements[g].cdn_b == c;
		struct pc_cdn *cdn = &model->cdns[c];
		if (alloc_list(model, &cdn->servers, n_servers) != PC_OK ||
		    alloc_list(model, &cdn->agreements, n_agreements) != PC_OK)
			return PC_ENOMEM;
	}
	for (uint32_t s = 0; s < model->n_servers; s++) {
		struct pc_server *server = &model->servers[s];
		if (server->cdn >= model->n_cdns || server->as >= model->n_ases)
			return PC_EINVAL;
		struct pc_index_list *list = &model->cdns[server->cdn].servers;
		list->items[list->count++] = s;
		/* Mixed once here so affinity costs one multiply per candidate. */
		server->name_hash = mix64(pc_hash_ci(server->name, strlen(server->name)));
	}
	/* Farms together: the policy looks up one path cost per AS. */
	model->server_slot = pc_arena_alloc(
	    model->arena, (model->n_servers ? model->n_servers : 1) * sizeof(uint32_t));
	if (model->server_slot == NULL)
		return PC_ENOMEM;
	uint32_t n_slots = 0;
	for (uint32_t c = 0; c < model->n_cdns; c++) {
		struct pc_index_list *list = &model->cdns[c].servers;
		if (sort_by_as(model, list->items, list->count) != PC_OK)
			return PC_ENOMEM;
		struct pc_cdn_member *members = pc_arena_alloc(
		    model->arena, (list->count ? list->count : 1) * sizeof(*members));
		if (members == NULL)
			return PC_ENOMEM;
		for (uint32_t i = 0; i < list->count; i++) {
			const struct pc_server *server = &model->servers[list->items[i]];
			uint8_t families = 0;
			for (uint32_t a = 0; a < server->addresses.count; a++)
				families |= server->addresses.items[a].family == PC_AF_INET ? 1 : 2;
			members[i] = (struct pc_cdn_member){
			    .service_mask = server->service_mask,
			    .server = list->items[i],
			    .as = server->as,
			    .capacity = server->capacity,
			    .tier = (uint8_t)(server->tier < 255 ? server->tier : 255),
			    .families = families,
			    .name_hash = server->name_hash,
			};
			model->server_slot[list->items[i]] = n_slots + i;
		}
		struct pc_cdn *cdn = &model->cdns[c];
		cdn->members = members;
		cdn->member_base = n_slots;
		n_slots += list->count;
		cdn->farm_as = pc_arena_alloc(model->arena,
		                              (list->count ? list->count : 1) * sizeof(uint32_t));
		if (cdn->farm_as == NULL)
			return PC_ENOMEM;
		for (uint32_t i = 0; i < list->count; i++) {
			if (i == 0 || members[i].as != members[i - 1].as) {
				if (cdn->n_farms == UINT16_MAX)
					return PC_ERANGE;
				cdn->farm_as[cdn->n_farms++] = members[i].as;
			}
			members[i].farm = (uint16_t)(cdn->n_farms - 1);
		}
		cdn->farm_base = model->n_farm_cells;
		model->n_farm_cells += cdn->n_farms;
	}
	for (uint32_t g = 0; g < model->n_agreements; g++) {
		const struct pc_agreement *agreement = &model->agreements[g];
		if (agreement->cdn_a >= model->n_cdns || agreement->cdn_b >= model->n_cdns)
			return PC_EINVAL;
		struct pc_index_list *a = &model->cdns[agreement->cdn_a].agreements;
		a->items[a->count++] = g;
		if (agreement->cdn_b != agreement->cdn_a) {
			struct pc_index_list *b = &model->cdns[agreement->cdn_b].agreements;
			b->items[b->count++] = g;
		}
	}
	/* The policy asks of every agreement of a client's CDN whether the
	 * other party is a primary CDN: one short array instead of a
	 * pc_agreement each. */
	for (uint32_t c = 0; c < model->n_cdns; c++) {
		struct pc_cdn *cdn = &model->cdns[c];
		uint32_t n = cdn->agreements.count;
		cdn->partners = pc_arena_alloc(model->arena, (n ? n : 1) * sizeof(uint32_t));
		if (cdn->partners == NULL)
			return PC_ENOMEM;
		for (uint32_t i = 0; i < n; i++) {
			const struct pc_agreement *agreement =
			    &model->agreements[cdn->agreements.items[i]];
			cdn->partners[i] =
			    agreement->cdn_a == c ? agreement->cdn_b : agreement->cdn_a;
		}
	}
	return PC_OK;
}

enum { RANK_BLOCK_SHIFT = 6 }; /* pc_model.rank_block_as: one AS per 64 ranks */

/* Client networks ranked by AS (then by index): the netmap gives a
 * network's rank, the rank its AS through two small tables (as_of_rank)
 * and its index through net_of_rank, so the look-up a decision waits on
 * reads no pc_client_net (issue 9). Networks whose AS is out of range
 * rank last, in a bucket of their own (n_ases). */
static int build_ranks(pc_model *model)
{
	uint32_t n = model->n_client_nets, n_ases = model->n_ases;
	uint32_t n_blocks = (n >> RANK_BLOCK_SHIFT) + 1;
	/* Read at random by every decision: on huge pages. */
	model->net_of_rank = pc_arena_alloc_table(model->arena, (n ? n : 1) * sizeof(uint32_t));
	model->rank_first = pc_arena_alloc(model->arena, ((size_t)n_ases + 2) * sizeof(uint32_t));
	model->rank_block_as =
	    pc_arena_alloc(model->arena, ((size_t)n_blocks + 1) * sizeof(uint32_t));
	if (model->net_of_rank == NULL || model->rank_first == NULL || model->rank_block_as == NULL)
		return PC_ENOMEM;
	/* A counting sort: rank_first[b + 1] counts bucket b, then sums. */
	uint32_t *first = model->rank_first;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t as = model->client_nets[i].as;
		first[(as < n_ases ? as : n_ases) + 1]++;
	}
	for (uint32_t b = 1; b <= n_ases + 1; b++)
		first[b] += first[b - 1];
	uint32_t *next = malloc(((size_t)n_ases + 1) * sizeof(uint32_t));
	if (next == NULL)
		return PC_ENOMEM;
	memcpy(next, first, ((size_t)n_ases + 1) * sizeof(uint32_t));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t as = model->client_nets[i].as;
		model->net_of_rank[next[as < n_ases ? as : n_ases]++] = i;
	}
	free(next);
	uint32_t bucket = 0;
	for (uint32_t k = 0; k < n_blocks; k++) {
		uint32_t rank = k << RANK_BLOCK_SHIFT;
		while (bucket < n_ases && first[bucket + 1] <= rank)
			bucket++;
		model->rank_block_as[k] = bucket;
	}
	model->rank_block_as[n_blocks] = n_ases;
	return PC_OK;
}

static int build_netmap(pc_model *model)
{
	int rc = build_ranks(model);
	if (rc != PC_OK)
		return rc;
	pc_netmap_builder *builder;
	rc = pc_netmap_builder_new(&builder);
	if (rc != PC_OK)
		return rc;
	for (uint32_t r = 0; r < model->n_client_nets && rc == PC_OK; r++) {
		const struct pc_client_net *net = &model->client_nets[model->net_of_rank[r]];
		rc = pc_netmap_builder_add(builder, net->prefix.family, net->prefix.bytes,
		                           net->prefix_len, r);
	}
	if (rc == PC_OK)
		rc = pc_netmap_build(builder, &model->netmap);
	pc_netmap_builder_free(builder);
	return rc;
}

static int build_asn_map(pc_model *model)
{
	model->as_by_asn_map = pc_strmap_new(model->arena, model->n_ases);
	if (model->as_by_asn_map == NULL)
		return PC_ENOMEM;
	for (uint32_t a = 0; a < model->n_ases; a++) {
		char key[16];
		int n = snprintf(key, sizeof(key), "%u", model->ases[a].asn);
		const char *stored = pc_arena_strndup(model->arena, key, (size_t)n);
		if (stored == NULL)
			return PC_ENOMEM;
		int rc = pc_strmap_put(model->as_by_asn_map, stored, (size_t)n, a);
		if (rc != PC_OK)
			return rc;
	}
	return PC_OK;
}

int pc_model_finish(pc_model *model)
{
	int rc;
#define INDEX(map, array, count)                                                                   \
	do {                                                                                       \
		rc = index_names(model, &model->map, model->array, sizeof(*model->array),          \
		                 model->count);                                                    \
		if (rc != PC_OK)                                                                   \
			return rc;                                                                 \
	} while (0)
	INDEX(cdn_by_name, cdns, n_cdns);
	INDEX(service_by_name, services, n_services);
	INDEX(grade_by_name, grades, n_grades);
	INDEX(provider_by_name, providers, n_providers);
	INDEX(agreement_by_name, agreements, n_agreements);
	INDEX(server_by_name, servers, n_servers);
	INDEX(node_by_name, nodes, n_nodes);
#undef INDEX
	rc = index_names(model, &model->tier_by_name, model->tiers, sizeof(*model->tiers),
	                 model->n_tiers);
	if (rc != PC_OK)
		return rc;

	model->cdn_by_domain = pc_strmap_new(model->arena, model->n_cdns);
	if (model->cdn_by_domain == NULL)
		return PC_ENOMEM;
	for (uint32_t c = 0; c < model->n_cdns; c++) {
		struct pc_cdn *cdn = &model->cdns[c];
		if (cdn->domain == NULL)
			return PC_EINVAL;
		cdn->domain_len = (uint32_t)strlen(cdn->domain);
		rc = pc_strmap_put(model->cdn_by_domain, cdn->domain, cdn->domain_len, c);
		if (rc != PC_OK)
			return rc;
	}

	if ((rc = build_asn_map(model)) != PC_OK || (rc = build_as_cdns(model)) != PC_OK ||
	    (rc = build_cdn_lists(model)) != PC_OK || (rc = build_netmap(model)) != PC_OK)
		return rc;
	if ((rc = pc_model_paths_build(model)) != PC_OK)
		return rc;
	return pc_model_reach_build(model);
}

uint32_t pc_model_lookup(const pc_strmap *map, const char *name, size_t len)
{
	uint32_t value;
	if (map == NULL || name == NULL || !pc_strmap_get(map, name, len, &value))
		return PC_NONE;
	return value;
}

static uint32_t lookup(const pc_strmap *map, const char *name)
{
	return name == NULL ? PC_NONE : pc_model_lookup(map, name, strlen(name));
}

uint32_t pc_model_cdn(const pc_model *model, const char *name)
{
	return lookup(model->cdn_by_name, name);
}

uint32_t pc_model_provider(const pc_model *model, const char *name)
{
	return lookup(model->provider_by_name, name);
}

uint32_t pc_model_service(const pc_model *model, const char *name)
{
	return lookup(model->service_by_name, name);
}

uint32_t pc_model_server(const pc_model *model, const char *name)
{
	return lookup(model->server_by_name, name);
}

uint32_t pc_model_node(const pc_model *model, const char *name)
{
	return lookup(model->node_by_name, name);
}

uint32_t pc_model_agreement(const pc_model *model, const char *name)
{
	return lookup(model->agreement_by_name, name);
}

uint32_t pc_model_as_by_asn(const pc_model *model, uint32_t asn)
{
	char key[16];
	int n = snprintf(key, sizeof(key), "%u", asn);
	return pc_model_lookup(model->as_by_asn_map, key, (size_t)n);
}

uint32_t pc_model_cdn_for_name(const pc_model *model, const char *name, size_t len,
                               size_t *codepoint_len)
{
	/* Try every label-boundary suffix from the longest: the first CDN
	 * domain found is the longest match. */
	for (size_t start = 0; start < len;) {
		uint32_t cdn = pc_model_lookup(model->cdn_by_domain, name + start, len - start);
		if (cdn != PC_NONE) {
			if (codepoint_len != NULL)
				*codepoint_len = start == 0 ? 0 : start - 1;
			return cdn;
		}
		const char *dot = memchr(name + start, '.', len - start);
		if (dot == NULL)
			break;
		start = (size_t)(dot - name) + 1;
	}
	return PC_NONE;
}

/* The AS bucket of a rank: the last with rank_first <= rank, between the
 * buckets of its block's first rank and of the next block's. */
static uint32_t as_of_rank(const pc_model *model, uint32_t rank)
{
	uint32_t block = rank >> RANK_BLOCK_SHIFT;
	uint32_t lo = model->rank_block_as[block], hi = model->rank_block_as[block + 1];
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;
		if (model->rank_first[mid] <= rank)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

bool pc_model_client_locate(const pc_model *model, const pc_addr *addr, uint32_t *net, uint32_t *as,
                            unsigned *matched_len)
{
	uint32_t rank;
	unsigned len = 0;
	bool hit = false;
	if (model->netmap == NULL)
		return false;
	if (addr->family == PC_AF_INET)
		hit = pc_netmap_lookup4(model->netmap, addr->bytes, &rank, &len);
	else if (addr->family == PC_AF_INET6)
		hit = pc_netmap_lookup6(model->netmap, addr->bytes, &rank, &len);
	if (!hit)
		return false;
	/* Nothing below waits for this load: the caller stores it. */
	*net = model->net_of_rank[rank];
	uint32_t bucket = as_of_rank(model, rank);
	*as = bucket < model->n_ases ? bucket : model->client_nets[*net].as;
	if (matched_len != NULL)
		*matched_len = len;
	return true;
}

uint32_t pc_model_client_net(const pc_model *model, const pc_addr *addr, unsigned *matched_len)
{
	uint32_t net, as;
	return pc_model_client_locate(model, addr, &net, &as, matched_len) ? net : PC_NONE;
}

bool pc_model_cdn_has_as(const pc_model *model, uint32_t cdn, uint32_t as)
{
	if (as >= model->n_ases)
		return false;
	return list_has(&model->ases[as].cdns, cdn);
}

bool pc_provider_is_primary(const pc_model *model, uint32_t provider, uint32_t cdn)
{
	if (provider >= model->n_providers)
		return false;
	return list_has(&model->providers[provider].primary_cdns, cdn);
}

uint32_t pc_model_agreement_between(const pc_model *model, uint32_t cdn_a, uint32_t cdn_b,
                                    uint32_t service)
{
	if (cdn_a >= model->n_cdns || service >= PC_MAX_SERVICES)
		return PC_NONE;
	const struct pc_index_list *list = &model->cdns[cdn_a].agreements;
	for (uint32_t i = 0; i < list->count; i++) {
		const struct pc_agreement *agreement = &model->agreements[list->items[i]];
		bool pair = (agreement->cdn_a == cdn_a && agreement->cdn_b == cdn_b) ||
		            (agreement->cdn_a == cdn_b && agreement->cdn_b == cdn_a);
		if (pair && (agreement->service_mask >> service & 1))
			return list->items[i];
	}
	return PC_NONE;
}

int pc_addr_parse(const char *text, pc_addr *out)
{
	int family;
	unsigned len;
	uint8_t bytes[16] = {0};
	if (text == NULL || strchr(text, '/') != NULL)
		return PC_ESYNTAX;
	int rc = pc_prefix_parse(text, strlen(text), &family, bytes, &len);
	if (rc != PC_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)family;
	memcpy(out->bytes, bytes, family == PC_AF_INET ? 4 : 16);
	return PC_OK;
}

/* RFC 5952: lower case, the longest run (first if tied) of two or more
 * zero groups becomes "::". */
static int format6(const uint8_t *bytes, char *out, size_t out_size)
{
	uint16_t groups[8];
	for (int i = 0; i < 8; i++)
		groups[i] = (uint16_t)(bytes[2 * i] << 8 | bytes[2 * i + 1]);
	int best = -1, best_len = 0;
	for (int i = 0; i < 8;) {
		if (groups[i] != 0) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && groups[j] == 0)
			j++;
		if (j - i > best_len && j - i >= 2) {
			best = i;
			best_len = j - i;
		}
		i = j;
	}
	char buf[48];
	size_t n = 0;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			buf[n++] = ':';
			if (i == 0)
				buf[n++] = ':';
			i += best_len - 1;
			continue;
		}
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%x", groups[i]);
		if (i < 7)
			buf[n++] = ':';
	}
	buf[n] = '\0';
	if (n + 1 > out_size)
		return PC_ESPACE;
	memcpy(out, buf, n + 1);
	return (int)n;
}

int pc_addr_format(const pc_addr *addr, char *out, size_t out_size)
{
	if (addr->family == PC_AF_INET6)
		return format6(addr->bytes, out, out_size);
	if (addr->family != PC_AF_INET)
		return PC_EINVAL;
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%u.%u.%u.%u", addr->bytes[0], addr->bytes[1],
	                 addr->bytes[2], addr->bytes[3]);
	if ((size_t)n + 1 > out_size)
		return PC_ESPACE;
	memcpy(out, buf, (size_t)n + 1);
	return n;
}

bool pc_addr_equal(const pc_addr *a, const pc_addr *b)
{
	if (a->family != b->family)
		return false;
	return memcmp(a->bytes, b->bytes, a->family == PC_AF_INET ? 4 : 16) == 0;
}

bool pc_model_node_serves(const pc_model *model, uint32_t node, uint32_t cdn)
{
	if (node == PC_NONE || node >= model->n_nodes)
		return true;
	const struct pc_index_list *cdns = &model->nodes[node].cdns;
	for (uint32_t i = 0; i < cdns->count; i++)
		if (cdns->items[i] == cdn)
			return true;
	return false;
}
