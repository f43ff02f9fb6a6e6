/* config_federation: the federation's keys (docs/config.md) — the top-level
 * table, the lists (tiers, services, grades, ases, links, cdns, clients,
 * providers, agreements, servers, nodes) and the policy — and what reading
 * each means: names checked, references resolved where they appear (pass 1
 * collected every list's names, so order does not matter), duplicates
 * found. Everything is linear in the input: look-ups are hashed, per-list
 * duplicate checks use marks. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"
#include "lib/base/hex.h"
#include "lib/model/config_load.h"

#define MAX_COST 1000000u    /* per link: sums of costs stay far from 2^32 */
#define MAX_TTL  2147483647u /* RFC 2181 §8 */

static const char *const list_names[PC_L__COUNT] = {
    "tiers",   "services",  "grades",     "ases",    "links", "cdns",
    "clients", "providers", "agreements", "servers", "nodes",
};
/* What one item of a list is called in messages. */
static const char *const item_kinds[PC_L__COUNT] = {
    "tier",   "service",  "grade",     "AS",     "link", "CDN",
    "client", "provider", "agreement", "server", "node",
};

struct host_owner {
	const char *host;
	uint32_t provider, line;
};

struct coverage {
	uint32_t cdn_lo, cdn_hi, service, agreement;
};

static struct pc_loader *loader_of(struct pc_reader *rd)
{
	return (struct pc_loader *)rd; /* rd is the loader's first member */
}

/* The index of key in table (a done-check asks whether it was seen). */
static unsigned key_index(const struct pc_item *table, const char *key)
{
	unsigned k = 0;
	while (table[k].key != NULL && strcmp(table[k].key, key) != 0)
		k++;
	return k;
}

static uint32_t fnv(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

typedef bool (*item_eq_fn)(const struct pc_loader *ld, uint32_t a, uint32_t b);

/* Adds item unless an equal one is present; returns that one or PC_NONE. */
static uint32_t itable_add(struct pc_loader *ld, struct pc_itable *t, uint32_t hash, uint32_t item,
                           item_eq_fn eq)
{
	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		uint64_t *slots = calloc(cap, sizeof(*slots));
		if (slots == NULL) {
			ld->rd.oom = ld->rd.stop = true;
			return PC_NONE;
		}
		for (size_t i = 0; i < t->cap; i++) {
			if (t->slots[i] == 0)
				continue;
			size_t j = (t->slots[i] >> 32) & (cap - 1);
			while (slots[j] != 0)
				j = (j + 1) & (cap - 1);
			slots[j] = t->slots[i];
		}
		free(t->slots);
		t->slots = slots;
		t->cap = cap;
	}
	size_t j = hash & (t->cap - 1);
	for (; t->slots[j] != 0; j = (j + 1) & (t->cap - 1)) {
		uint32_t other = (uint32_t)t->slots[j] - 1;
		if ((uint32_t)(t->slots[j] >> 32) == hash && eq(ld, other, item))
			return other;
	}
	t->slots[j] = (uint64_t)hash << 32 | ((uint64_t)item + 1);
	t->n++;
	return PC_NONE;
}

/* ---- names and texts ---- */

enum text_rule {
	TEXT_FREE,  /* anything printable, spaces allowed: AS names, locations */
	TEXT_NAME,  /* printable, no spaces: CDN, server, node, agreement names */
	TEXT_LABEL, /* a DNS label: services and providers appear in codepoints */
};

static bool text_ok(const char *text, size_t len, enum text_rule rule)
{
	if (len == 0 || len > (rule == TEXT_LABEL ? 63 : 255))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c == 0x7f || (c == ' ' && rule != TEXT_FREE))
			return false;
		if (rule == TEXT_LABEL && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '-')
			return false;
	}
	return true;
}

static const char *get_text(struct pc_reader *rd, enum text_rule rule)
{
	static const char *const why[] = {
	    [TEXT_FREE] = "1 to 255 printable characters",
	    [TEXT_NAME] = "1 to 255 printable characters without spaces",
	    [TEXT_LABEL] = "a DNS label: 1 to 63 letters, digits or hyphens",
	};
	if (!pc__want_scalar(rd, "a string"))
		return NULL;
	if (!text_ok(pc__scalar(rd), pc__scalar_len(rd), rule)) {
		pc__item_error(rd, "%s: %s is not valid (%s)", rd->key,
		               pc__quote_n(rd, pc__scalar(rd), pc__scalar_len(rd)), why[rule]);
		return NULL;
	}
	return pc__strndup(rd, pc__scalar(rd), pc__scalar_len(rd));
}

/* Free text (a location, an AS's name) into the field at item->offset. */
static void read_text(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	const char *text = get_text(rd, TEXT_FREE);
	memcpy((char *)target + item->offset, &text, sizeof(text));
}

static bool get_key(struct pc_reader *rd, uint8_t out[PC_KEY_BYTES])
{
	if (!pc__want_scalar(rd, "a key of 64 hex digits"))
		return false;
	const char *text = pc__scalar(rd);
	bool ok = pc__scalar_len(rd) == 2 * PC_KEY_BYTES;
	for (size_t i = 0; ok && i < PC_KEY_BYTES; i++) {
		int hi = pc_hex_digit(text[2 * i]), lo = pc_hex_digit(text[2 * i + 1]);
		ok = hi >= 0 && lo >= 0;
		if (ok)
			out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!ok) {
		/* The key itself stays out of the message: it is a secret. */
		pc__item_error(rd, "%s: expected 64 hex digits (%u bytes), found %zu characters",
		               rd->key, PC_KEY_BYTES, pc__scalar_len(rd));
		memset(out, 0, PC_KEY_BYTES);
	}
	return ok;
}

/* ---- references ---- */

static uint32_t lookup(struct pc_loader *ld, enum pc_fed_list s, const char *text, size_t len)
{
	return pc_model_lookup(ld->maps[s], text, len);
}

/* A name declared in list s; PC_NONE after reporting. */
static uint32_t get_ref(struct pc_loader *ld, enum pc_fed_list s)
{
	struct pc_reader *rd = &ld->rd;
	if (!pc__want_scalar(rd, "a name"))
		return PC_NONE;
	uint32_t index = lookup(ld, s, pc__scalar(rd), pc__scalar_len(rd));
	if (index == PC_NONE)
		pc__item_error(rd, "unknown %s %s", item_kinds[s],
		               pc__quote_n(rd, pc__scalar(rd), pc__scalar_len(rd)));
	return index;
}

static uint32_t get_as_ref(struct pc_loader *ld)
{
	uint64_t asn;
	if (!pc__get_uint(&ld->rd, 0, UINT32_MAX, &asn))
		return PC_NONE;
	char key[16];
	int n = snprintf(key, sizeof(key), "%u", (unsigned)asn);
	uint32_t index = lookup(ld, PC_L_ASES, key, (size_t)n);
	if (index == PC_NONE)
		pc__item_error(&ld->rd, "unknown AS %u (every AS must be declared under ases)",
		               (unsigned)asn);
	return index;
}

/* A list of names of list s as an index list; each at most once. */
static uint32_t get_ref_list(struct pc_loader *ld, enum pc_fed_list s, bool nonempty,
                             struct pc_index_list *out, uint32_t *marks)
{
	struct pc_reader *rd = &ld->rd;
	if (!pc__begin_list(rd))
		return 0;
	yaml_mark_t start = rd->ev.start_mark;
	uint32_t stamp = ++ld->stamp, count = 0;
	rd->scratch_idx.n = 0;
	while (pc__next_item(rd, &count, PC_CFG_MAX_LIST_ITEMS)) {
		uint32_t index = get_ref(ld, s);
		if (index == PC_NONE)
			continue;
		if (marks[index] == stamp) {
			pc__item_error(rd, "%s: %s %s is listed twice", rd->key, item_kinds[s],
			               pc__quote(rd, pc__scalar(rd)));
			continue;
		}
		marks[index] = stamp;
		uint32_t *slot = pc__vec_push(rd, &rd->scratch_idx, sizeof(uint32_t));
		if (slot != NULL)
			*slot = index;
	}
	if (nonempty && count == 0 && !rd->stop)
		pc__error_at(rd, &start, "%s: %s: the list is empty", rd->label, rd->key);
	out->count = (uint32_t)rd->scratch_idx.n;
	out->items = pc__copy(rd, rd->scratch_idx.data, rd->scratch_idx.n * sizeof(uint32_t));
	return count;
}

/* A list of names of services or tiers as a bit mask. */
static void get_mask(struct pc_loader *ld, enum pc_fed_list s, bool nonempty, uint64_t *mask)
{
	struct pc_reader *rd = &ld->rd;
	if (!pc__begin_list(rd))
		return;
	yaml_mark_t start = rd->ev.start_mark;
	uint32_t count = 0;
	*mask = 0;
	while (pc__next_item(rd, &count, PC_CFG_MAX_LIST_ITEMS)) {
		uint32_t index = get_ref(ld, s);
		if (index == PC_NONE || index >= 64)
			continue;
		if (*mask >> index & 1)
			pc__item_error(rd, "%s: %s %s is listed twice", rd->key, item_kinds[s],
			               pc__quote(rd, pc__scalar(rd)));
		*mask |= (uint64_t)1 << index;
	}
	if (nonempty && count == 0 && !rd->stop)
		pc__error_at(rd, &start, "%s: %s: the list is empty", rd->label, rd->key);
}

static void claim_host(struct pc_loader *ld, const char *host);

/* claim: the hosts name this provider (origins and directories). */
static void get_host_list(struct pc_loader *ld, const char ***out, uint32_t *n_out, bool claim)
{
	struct pc_reader *rd = &ld->rd;
	if (!pc__begin_list(rd))
		return;
	uint32_t count = 0;
	rd->scratch_str.n = 0;
	while (pc__next_item(rd, &count, PC_CFG_MAX_LIST_ITEMS)) {
		const char *host = pc__get_hostname(rd);
		if (host == NULL)
			continue;
		if (claim)
			claim_host(ld, host);
		const char **slot = pc__vec_push(rd, &rd->scratch_str, sizeof(char *));
		if (slot != NULL)
			*slot = host;
	}
	*n_out = (uint32_t)rd->scratch_str.n;
	*out = pc__copy(rd, rd->scratch_str.data, rd->scratch_str.n * sizeof(char *));
}

/* Pass 2 reads an item's name again: check it and find duplicates. */
static void check_name(struct pc_loader *ld, enum text_rule rule)
{
	struct pc_reader *rd = &ld->rd;
	if (!pc__want_scalar(rd, "a name"))
		return;
	if (!text_ok(pc__scalar(rd), pc__scalar_len(rd), rule)) {
		get_text(rd, rule); /* reports why */
		return;
	}
	uint32_t first = lookup(ld, ld->list, pc__scalar(rd), pc__scalar_len(rd));
	if (first != PC_NONE && first != ld->item) {
		const struct pc_decl *decls = ld->decls[ld->list].data;
		pc__item_error(rd, "duplicate %s name %s (first at line %u)", item_kinds[ld->list],
		               pc__quote_n(rd, pc__scalar(rd), pc__scalar_len(rd)),
		               decls[first].line);
	}
}

static void read_name(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item, (void)target;
	check_name(loader_of(rd), TEXT_NAME);
}

static void read_label(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item, (void)target;
	check_name(loader_of(rd), TEXT_LABEL);
}

/* An AS reference into the uint32_t field at item->offset. */
static void read_as_ref(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	uint32_t as = get_as_ref(loader_of(rd));
	memcpy((char *)target + item->offset, &as, sizeof(as));
}

/* A list of service names into the uint64_t mask at item->offset. */
static void read_service_mask(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	uint64_t mask = 0;
	get_mask(loader_of(rd), PC_L_SERVICES, true, &mask);
	memcpy((char *)target + item->offset, &mask, sizeof(mask));
}

/* A list of CDN names into the pc_index_list at item->offset. */
static void read_cdn_list(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	struct pc_loader *ld = loader_of(rd);
	get_ref_list(ld, PC_L_CDNS, true, (struct pc_index_list *)((char *)target + item->offset),
	             ld->cdn_mark);
}

static const char *const dns_modes[] = {"server", "redirector", "anycast", NULL};

/* ---- top level and policy ---- */

static void read_version(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item, (void)target;
	uint64_t version;
	if (pc__get_uint(rd, 0, UINT32_MAX, &version) && version != 1)
		pc__item_error(rd, "unsupported version %u (this peercdn reads version 1)",
		               (unsigned)version);
}

static void read_self(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item, (void)target;
	struct pc_loader *ld = loader_of(rd);
	ld->model->self_node = get_ref(ld, PC_L_NODES);
}

static void read_default_service(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item, (void)target;
	struct pc_loader *ld = loader_of(rd);
	ld->model->default_service = get_ref(ld, PC_L_SERVICES);
}

#define POLICY(field) offsetof(pc_model, params.field)
static const struct pc_item policy_items[] = {
    {.key = "load_weight",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = POLICY(load_weight),
     .max = MAX_COST,
     .dflt = 40,
     .help = "cost units a server adds at 100 % load"},
    {.key = "affinity_band",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = POLICY(affinity_band),
     .max = MAX_COST,
     .dflt = 10,
     .help = "servers within this score of the best share objects by hash"},
    {.key = "high_watermark",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = POLICY(high_watermark_pct),
     .min = 1,
     .max = 100,
     .dflt = 90,
     .help = "% of capacity above which a server is skipped"},
    {.key = "spill_max_cost",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = POLICY(spill_max_cost),
     .max = MAX_COST,
     .dflt = 40,
     .help = "extra path cost a spill to a farther farm may add"},
    {.key = "default_service",
     .type = PC_ITEM_CUSTOM,
     .read = read_default_service,
     .type_doc = "service name",
     .help = "service of a codepoint that names none"},
    {0},
};

static const struct pc_item reporting_items[] = {
    {.key = "ipv4_prefix",
     .type = PC_ITEM_UINT,
     .size = 1,
     .offset = POLICY(report_prefix4),
     .max = 32,
     .dflt = 24,
     .help = "client IPv4 prefix kept in reports to providers"},
    {.key = "ipv6_prefix",
     .type = PC_ITEM_UINT,
     .size = 1,
     .offset = POLICY(report_prefix6),
     .max = 128,
     .dflt = 48,
     .help = "same for IPv6"},
    {0},
};

/* ---- tiers, services, grades, ases, links ---- */

static void tier_item(struct pc_loader *ld)
{
	if (ld->item >= PC_MAX_TIERS) {
		pc__item_error(&ld->rd, "more than %u tiers", PC_MAX_TIERS);
		pc__skip_node(&ld->rd);
		return;
	}
	check_name(ld, TEXT_NAME);
}

static void read_schemes(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	static const char *const schemes[] = {"http", "https", "rtsp", NULL};
	struct pc_loader *ld = loader_of(rd);
	struct pc_service *service = target;
	if (!pc__begin_list(rd))
		return;
	uint32_t count = 0;
	while (pc__next_item(rd, &count, PC_CFG_MAX_LIST_ITEMS)) {
		int scheme = pc__get_enum(rd, schemes);
		if (scheme < 0)
			continue;
		uint32_t other = ld->scheme_service[scheme];
		if (other != PC_NONE && other != ld->item)
			pc__item_error(rd, "scheme %s already implies service %s", schemes[scheme],
			               pc__quote(rd, ld->model->services[other].name));
		ld->scheme_service[scheme] = ld->item;
		service->scheme_mask |= 1u << scheme;
	}
}

static const struct pc_item service_items[] = {
    {.key = "name",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_label,
     .type_doc = "label",
     .help = "codepoint label (`web`, `tv`, ...)"},
    {.key = "schemes",
     .type = PC_ITEM_CUSTOM,
     .read = read_schemes,
     .type_doc = "list of `http`, `https`, `rtsp`",
     .help = "URLs of these schemes imply this service; a scheme implies at most one service"},
    {.key = "dns_ttl",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = offsetof(struct pc_service, dns_ttl),
     .max = MAX_TTL,
     .unit = "s",
     .dflt = PC_NONE,
     .default_doc = "the CDN's",
     .help = "TTL of DNS answers for this service"},
    {.key = "dns_mode",
     .type = PC_ITEM_ENUM,
     .size = 1,
     .offset = offsetof(struct pc_service, dns_mode),
     .names = dns_modes,
     .dflt = PC_DNS_MODE_INHERIT,
     .default_doc = "the CDN's",
     .help = "what a DNS answer holds (docs/dns.md)"},
    {0},
};

static void read_tier_mask(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	uint64_t mask = 0;
	get_mask(loader_of(rd), PC_L_TIERS, true, &mask);
	((struct pc_grade *)target)->tier_mask = (uint32_t)mask;
}

static const struct pc_item grade_items[] = {
    {.key = "name",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_name,
     .type_doc = "name",
     .help = ""},
    {.key = "tiers",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_tier_mask,
     .type_doc = "non-empty list of tier names",
     .help = "tiers this grade may be served from"},
    {.key = "max_path_cost",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = offsetof(struct pc_grade, max_path_cost),
     .max = PC_COST_INFINITE - 1,
     .dflt = PC_COST_INFINITE,
     .default_doc = "unlimited",
     .help = "how far (AS path cost) it may be served from"},
    {0},
};

static void read_asn(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item, (void)target;
	struct pc_loader *ld = loader_of(rd);
	uint64_t asn;
	/* ASN 0 and 4294967295 are reserved (RFC 7607, RFC 7300). */
	if (!pc__get_uint(rd, 1, UINT32_MAX - 1, &asn))
		return;
	uint32_t first = get_as_ref(ld);
	if (first != PC_NONE && first != ld->item) {
		const struct pc_decl *decls = ld->decls[PC_L_ASES].data;
		pc__item_error(rd, "AS %u is declared twice (first at line %u)", (unsigned)asn,
		               decls[first].line);
	}
}

static const struct pc_item as_items[] = {
    {.key = "asn",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_asn,
     .type_doc = "1..4294967294",
     .help = "AS number, declared once"},
    {.key = "name",
     .type = PC_ITEM_CUSTOM,
     .offset = offsetof(struct pc_as, name),
     .read = read_text,
     .type_doc = "text",
     .help = "for people"},
    {0},
};

static const struct pc_item link_items[] = {
    {.key = "a",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .offset = offsetof(struct pc_link, as_a),
     .read = read_as_ref,
     .type_doc = "ASN",
     .help = "one end: a declared AS"},
    {.key = "b",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .offset = offsetof(struct pc_link, as_b),
     .read = read_as_ref,
     .type_doc = "ASN",
     .help = "the other end: another declared AS; one link per pair"},
    {.key = "cost",
     .type = PC_ITEM_UINT,
     .flags = PC_ITEM_REQUIRED,
     .size = 4,
     .offset = offsetof(struct pc_link, cost),
     .max = MAX_COST,
     .help = "symmetric cost"},
    {0},
};

static bool link_eq(const struct pc_loader *ld, uint32_t a, uint32_t b)
{
	const struct pc_link *x = &ld->model->links[a], *y = &ld->model->links[b];
	return (x->as_a == y->as_a && x->as_b == y->as_b) ||
	       (x->as_a == y->as_b && x->as_b == y->as_a);
}

static void link_done(struct pc_loader *ld, const yaml_mark_t *start)
{
	struct pc_link *link = &ld->model->links[ld->item];
	if (link->as_a == PC_NONE || link->as_b == PC_NONE)
		return;
	uint32_t asn_a = ld->model->ases[link->as_a].asn, asn_b = ld->model->ases[link->as_b].asn;
	if (link->as_a == link->as_b) {
		pc__error_at(&ld->rd, start, "link from AS %u to itself", asn_a);
		return;
	}
	uint32_t lo = link->as_a < link->as_b ? link->as_a : link->as_b;
	uint32_t hi = link->as_a ^ link->as_b ^ lo;
	uint32_t pair[2] = {lo, hi};
	uint32_t first = itable_add(ld, &ld->link_set, fnv(pair, sizeof(pair)), ld->item, link_eq);
	if (first != PC_NONE) {
		const struct pc_decl *decls = ld->decls[PC_L_LINKS].data;
		pc__error_at(&ld->rd, start,
		             "duplicate link between AS %u and AS %u (first at line %u)", asn_a,
		             asn_b, decls[first].line);
	}
}

/* ---- cdns ---- */

/* Backbone or affiliate ASes of CDN ld->item; an AS may appear once per
 * CDN. Being both a backbone and an affiliate of one CDN is the patent's
 * loop of affiliations: the AS would advertise the anycast addresses to
 * the world and keep them to itself at once. */
static void cdn_as_list(struct pc_loader *ld, uint8_t role, struct pc_index_list *out)
{
	struct pc_reader *rd = &ld->rd;
	const struct pc_cdn *cdn = &ld->model->cdns[ld->item];
	if (!pc__begin_list(rd))
		return;
	yaml_mark_t start = rd->ev.start_mark;
	uint32_t count = 0;
	rd->scratch_idx.n = 0;
	while (pc__next_item(rd, &count, PC_CFG_MAX_LIST_ITEMS)) {
		uint32_t as = get_as_ref(ld);
		if (as == PC_NONE)
			continue;
		uint32_t asn = ld->model->ases[as].asn;
		if (ld->as_mark[as] == ld->item) {
			if (ld->as_role[as] & role)
				pc__item_error(rd, "AS %u is listed twice in CDN %s", asn,
				               pc__quote(rd, cdn->name));
			else
				pc__item_error(rd, "AS %u is both backbone and affiliate of CDN %s",
				               asn, pc__quote(rd, cdn->name));
			ld->as_role[as] |= role;
			continue;
		}
		ld->as_mark[as] = ld->item;
		ld->as_role[as] = role;
		uint32_t *slot = pc__vec_push(rd, &rd->scratch_idx, sizeof(uint32_t));
		if (slot != NULL)
			*slot = as;
	}
	if (role == 1 && count == 0 && !rd->stop)
		pc__error_at(rd, &start, "%s: %s: the list is empty", rd->label, rd->key);
	out->count = (uint32_t)rd->scratch_idx.n;
	out->items = pc__copy(rd, rd->scratch_idx.data, rd->scratch_idx.n * sizeof(uint32_t));
}

static void read_backbone(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	cdn_as_list(loader_of(rd), 1, &((struct pc_cdn *)target)->backbone_as);
}

static void read_affiliates(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	cdn_as_list(loader_of(rd), 2, &((struct pc_cdn *)target)->affiliate_as);
}

static void read_domain(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	struct pc_loader *ld = loader_of(rd);
	struct pc_cdn *cdn = target;
	cdn->domain = pc__get_hostname(rd);
	if (cdn->domain == NULL)
		return;
	size_t len = strlen(cdn->domain);
	uint32_t first;
	if (pc_strmap_get(ld->domains, cdn->domain, len, &first))
		pc__item_error(rd, "domain %s is also the domain of CDN %s",
		               pc__quote(rd, cdn->domain),
		               pc__quote(rd, ld->model->cdns[first].name));
	else
		pc_strmap_put(ld->domains, cdn->domain, len, ld->item);
}

/* The keys are the names of the load's sections that have anycast
 * addresses (ld->anycast), so a new role adds its own key. */
static void read_anycast(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	struct pc_loader *ld = loader_of(rd);
	pc__walk_nested(rd, "anycast", ld->anycast, ((struct pc_cdn *)target)->anycast);
}

static void read_ns(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	struct pc_cdn *cdn = target;
	get_host_list(loader_of(rd), &cdn->ns_names, &cdn->n_ns_names, false);
}

static const struct pc_item cdn_dns_items[] = {
    {.key = "mode",
     .type = PC_ITEM_ENUM,
     .size = 1,
     .offset = offsetof(struct pc_cdn, dns_mode),
     .names = dns_modes,
     .dflt = PC_DNS_MODE_SERVER,
     .help = "what an A/AAAA answer holds"},
    {.key = "redirectors",
     .type = PC_ITEM_ADDRS,
     .offset = offsetof(struct pc_cdn, redirectors),
     .help = "answers in `redirector` mode (required by it)"},
    {.key = "ns",
     .type = PC_ITEM_CUSTOM,
     .read = read_ns,
     .type_doc = "list of host names",
     .default_doc = "`ns1.<domain>`",
     .help = "the zone's NS names"},
    {0},
};

static const struct pc_item cdn_items[] = {
    {.key = "name",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_name,
     .type_doc = "name",
     .help = ""},
    {.key = "domain",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_domain,
     .type_doc = "host name",
     .help = "the CDN's DNS zone (`cdn.acme.net`); unique"},
    {.key = "backbone",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_backbone,
     .type_doc = "non-empty list of ASNs",
     .help = "ASes that advertise the anycast addresses to the world"},
    {.key = "affiliates",
     .type = PC_ITEM_CUSTOM,
     .read = read_affiliates,
     .type_doc = "list of ASNs",
     .help = "ASes that advertise them only inside themselves"},
    {.key = "dns_ttl",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = offsetof(struct pc_cdn, dns_ttl),
     .max = MAX_TTL,
     .unit = "s",
     .dflt = 0,
     .help = "TTL of DNS answers (the patent's §3.1.4: 0)"},
    {.key = "anycast",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_ROLE_KEYS,
     .read = read_anycast,
     .type_doc = "mapping",
     .default_doc = "see below",
     .help = "the CDN's anycast address(es) per role"},
    {.key = "dns",
     .type = PC_ITEM_SECTION,
     .items = cdn_dns_items,
     .help = "answer mode of this CDN's zone"},
    {0},
};

static void cdn_done(struct pc_loader *ld, const yaml_mark_t *start)
{
	const struct pc_cdn *cdn = &ld->model->cdns[ld->item];
	if (cdn->dns_mode == PC_DNS_MODE_REDIRECTOR && cdn->redirectors.count == 0)
		pc__error_at(&ld->rd, start, "%s: dns mode redirector needs a redirectors list",
		             ld->rd.label);
}

/* ---- clients ---- */

static bool host_bits_set(const uint8_t *bytes, unsigned bits, unsigned len)
{
	for (unsigned bit = len; bit < bits; bit++)
		if (bytes[bit / 8] >> (7 - bit % 8) & 1)
			return true;
	return false;
}

static bool client_eq(const struct pc_loader *ld, uint32_t a, uint32_t b)
{
	const struct pc_client_net *x = &ld->model->client_nets[a], *y = &ld->model->client_nets[b];
	return x->prefix_len == y->prefix_len && pc_addr_equal(&x->prefix, &y->prefix);
}

static void read_prefix(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	struct pc_loader *ld = loader_of(rd);
	struct pc_client_net *net = target;
	if (!pc__want_scalar(rd, "a prefix"))
		return;
	const char *text = pc__scalar(rd);
	size_t len = pc__scalar_len(rd);
	int family;
	unsigned plen;
	uint8_t bytes[16] = {0};
	if (pc_prefix_parse(text, len, &family, bytes, &plen) != PC_OK ||
	    (family != PC_AF_INET && family != PC_AF_INET6)) {
		pc__item_error(rd, "%s is not an address prefix", pc__quote_n(rd, text, len));
		return;
	}
	if (host_bits_set(bytes, family == PC_AF_INET ? 32 : 128, plen)) {
		pc__error_at(rd, &rd->ev.start_mark, "client prefix %.*s has host bits set",
		             (int)(len < 64 ? len : 64), text);
		return;
	}
	net->prefix.family = (uint8_t)family;
	memcpy(net->prefix.bytes, bytes, sizeof(bytes));
	net->prefix_len = (uint8_t)plen;
	uint32_t first =
	    itable_add(ld, &ld->client_set, fnv(&net->prefix, sizeof(net->prefix)) ^ plen, ld->item,
	               client_eq);
	if (first != PC_NONE) {
		const struct pc_decl *decls = ld->decls[PC_L_CLIENTS].data;
		pc__error_at(rd, &rd->ev.start_mark,
		             "duplicate client prefix %.*s (first at line %u)",
		             (int)(len < 64 ? len : 64), text, decls[first].line);
	}
}

static const struct pc_item client_items[] = {
    {.key = "prefix",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_prefix,
     .type_doc = "`192.0.2.0/24`, `2001:db8::/32` or a bare address",
     .help = "no host bits set; each prefix once"},
    {.key = "as",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .offset = offsetof(struct pc_client_net, as),
     .read = read_as_ref,
     .type_doc = "ASN",
     .help = "the AS the network belongs to"},
    {.key = "location",
     .type = PC_ITEM_CUSTOM,
     .offset = offsetof(struct pc_client_net, location),
     .read = read_text,
     .type_doc = "text",
     .help = "for people and reports"},
    {0},
};

/* ---- providers ---- */

static bool host_eq(const struct pc_loader *ld, uint32_t a, uint32_t b)
{
	const struct host_owner *hosts = ld->hosts.data;
	return strcmp(hosts[a].host, hosts[b].host) == 0;
}

/* An origin or directory host names exactly one provider: a URL's path
 * must lead to one customer. */
static void claim_host(struct pc_loader *ld, const char *host)
{
	struct pc_reader *rd = &ld->rd;
	struct host_owner *owner = pc__vec_push(rd, &ld->hosts, sizeof(*owner));
	if (owner == NULL)
		return;
	*owner = (struct host_owner){host, ld->item, (uint32_t)rd->ev.start_mark.line + 1};
	uint32_t first = itable_add(ld, &ld->host_set, fnv(host, strlen(host)),
	                            (uint32_t)(ld->hosts.n - 1), host_eq);
	if (first == PC_NONE)
		return;
	const struct host_owner *other = &((struct host_owner *)ld->hosts.data)[first];
	if (other->provider == ld->item)
		pc__item_error(rd, "%s: host %s is listed twice", rd->key, pc__quote(rd, host));
	else
		pc__item_error(rd, "%s: host %s already belongs to provider %s (line %u)", rd->key,
		               pc__quote(rd, host),
		               pc__quote(rd, ld->model->providers[other->provider].name),
		               other->line);
}

static void read_primary(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	struct pc_loader *ld = loader_of(rd);
	get_ref_list(ld, PC_L_CDNS, true, &((struct pc_provider *)target)->primary_cdns,
	             ld->cdn_mark);
}

static void read_grade_ref(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	((struct pc_provider *)target)->grade = get_ref(loader_of(rd), PC_L_GRADES);
}

static void read_sign_key(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	struct pc_provider *provider = target;
	provider->has_sign_key = get_key(rd, provider->sign_key);
}

static void read_enc_key(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	struct pc_provider *provider = target;
	provider->has_enc_key = get_key(rd, provider->enc_key);
}

static void read_origins(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	struct pc_provider *provider = target;
	get_host_list(loader_of(rd), &provider->origin_hosts, &provider->n_origin_hosts, true);
}

static void read_directories(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	struct pc_provider *provider = target;
	get_host_list(loader_of(rd), &provider->directory_hosts, &provider->n_directory_hosts,
	              true);
}

static const struct pc_item provider_items[] = {
    {.key = "name",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_label,
     .type_doc = "label",
     .help = "also the customer label in codepoints"},
    {.key = "primary",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_primary,
     .type_doc = "non-empty list of CDN names",
     .help = "the provider's primary CDNs"},
    {.key = "grade",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_grade_ref,
     .type_doc = "grade name",
     .help = "its service grade (required: there is no implicit grade)"},
    {.key = "require_signature",
     .type = PC_ITEM_BOOL,
     .offset = offsetof(struct pc_provider, require_signature),
     .dflt = false,
     .help = "names must carry a valid signature (needs `sign_key`)"},
    {.key = "sign_key",
     .type = PC_ITEM_CUSTOM,
     .read = read_sign_key,
     .type_doc = "64 hex digits",
     .help = "HMAC key for signed codepoints (32 bytes)"},
    {.key = "encrypt_key",
     .type = PC_ITEM_CUSTOM,
     .read = read_enc_key,
     .type_doc = "64 hex digits",
     .help = "key for encrypted codepoints (32 bytes)"},
    {.key = "origins",
     .type = PC_ITEM_CUSTOM,
     .read = read_origins,
     .type_doc = "list of host names",
     .help = "origin hosts embedded in CDN URLs"},
    {.key = "directories",
     .type = PC_ITEM_CUSTOM,
     .read = read_directories,
     .type_doc = "list of host names",
     .help = "directory hosts (docs/naming.md)"},
    {0},
};

static void provider_done(struct pc_loader *ld, const yaml_mark_t *start, uint64_t seen)
{
	const struct pc_provider *provider = &ld->model->providers[ld->item];
	if (provider->require_signature && !(seen >> key_index(provider_items, "sign_key") & 1))
		pc__error_at(&ld->rd, start, "%s: require_signature needs a sign_key",
		             ld->rd.label);
}

/* ---- agreements ---- */

static void read_between(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	struct pc_loader *ld = loader_of(rd);
	struct pc_agreement *agreement = target;
	struct pc_index_list pair = {0};
	yaml_mark_t start = rd->ev.start_mark;
	bool is_list = rd->ev.type == YAML_SEQUENCE_START_EVENT;
	uint32_t listed = get_ref_list(ld, PC_L_CDNS, false, &pair, ld->cdn_mark);
	if (pair.count == 2) {
		agreement->cdn_a = pair.items[0];
		agreement->cdn_b = pair.items[1];
	} else if (is_list && listed != 2 && !rd->stop) {
		pc__error_at(rd, &start, "%s: between: expected two CDNs, found %u", rd->label,
		             listed);
	}
}

static const struct pc_item agreement_items[] = {
    {.key = "name",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_name,
     .type_doc = "name",
     .help = ""},
    {.key = "between",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_between,
     .type_doc = "two different CDN names",
     .help = "bilateral: each serves the other's primary customers"},
    {.key = "services",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .offset = offsetof(struct pc_agreement, service_mask),
     .read = read_service_mask,
     .type_doc = "non-empty list of service names",
     .help = "services covered"},
    {.key = "capacity_rps",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = offsetof(struct pc_agreement, capacity_rps),
     .max = UINT32_MAX,
     .dflt = 0,
     .help = "PEER decisions per second; 0 = unlimited"},
    {.key = "report_usage",
     .type = PC_ITEM_BOOL,
     .offset = offsetof(struct pc_agreement, report_usage),
     .dflt = true,
     .help = "report usage for settlement"},
    {0},
};

static bool coverage_eq(const struct pc_loader *ld, uint32_t a, uint32_t b)
{
	const struct coverage *x = &((const struct coverage *)ld->coverages.data)[a];
	const struct coverage *y = &((const struct coverage *)ld->coverages.data)[b];
	return x->cdn_lo == y->cdn_lo && x->cdn_hi == y->cdn_hi && x->service == y->service;
}

/* One agreement per pair of CDNs and service: the decision counts a PEER
 * answer against exactly one. */
static void agreement_done(struct pc_loader *ld, const yaml_mark_t *start)
{
	struct pc_reader *rd = &ld->rd;
	const struct pc_agreement *agreement = &ld->model->agreements[ld->item];
	if (agreement->cdn_a == PC_NONE || agreement->cdn_b == PC_NONE)
		return;
	struct coverage cover = {
	    .cdn_lo = agreement->cdn_a < agreement->cdn_b ? agreement->cdn_a : agreement->cdn_b,
	    .cdn_hi = agreement->cdn_a < agreement->cdn_b ? agreement->cdn_b : agreement->cdn_a,
	    .agreement = ld->item,
	};
	for (uint32_t s = 0; s < ld->model->n_services && s < PC_MAX_SERVICES; s++) {
		if (!(agreement->service_mask >> s & 1))
			continue;
		cover.service = s;
		struct coverage *slot = pc__vec_push(rd, &ld->coverages, sizeof(cover));
		if (slot == NULL)
			return;
		*slot = cover;
		uint32_t first = itable_add(ld, &ld->coverage_set, fnv(&cover, 12),
		                            (uint32_t)ld->coverages.n - 1, coverage_eq);
		if (first != PC_NONE) {
			uint32_t other = ((struct coverage *)ld->coverages.data)[first].agreement;
			pc__error_at(rd, start,
			             "%s: agreement %s already covers service %s between %s and %s",
			             rd->label, pc__quote(rd, ld->model->agreements[other].name),
			             pc__quote(rd, ld->model->services[s].name),
			             pc__quote(rd, ld->model->cdns[cover.cdn_lo].name),
			             pc__quote(rd, ld->model->cdns[cover.cdn_hi].name));
		}
	}
}

/* ---- servers, nodes ---- */

static void read_cdn_ref(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	((struct pc_server *)target)->cdn = get_ref(loader_of(rd), PC_L_CDNS);
}

static void read_tier_ref(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	((struct pc_server *)target)->tier = get_ref(loader_of(rd), PC_L_TIERS);
}

static const struct pc_item port_items[] = {
    {.key = "http",
     .type = PC_ITEM_UINT,
     .size = 2,
     .offset = offsetof(struct pc_server, http_port),
     .max = UINT16_MAX,
     .dflt = 0,
     .help = "0 = the scheme's default port"},
    {.key = "rtsp",
     .type = PC_ITEM_UINT,
     .size = 2,
     .offset = offsetof(struct pc_server, rtsp_port),
     .max = UINT16_MAX,
     .dflt = 0,
     .help = "0 = the scheme's default port"},
    {0},
};

static void read_ports(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	pc__walk_map(rd, item->items, target, NULL);
}

static const struct pc_item server_items[] = {
    {.key = "name",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_name,
     .type_doc = "name",
     .help = ""},
    /* Required too, with its own message (read_items). */
    {.key = "cdn",
     .type = PC_ITEM_CUSTOM,
     .read = read_cdn_ref,
     .type_doc = "CDN name",
     .default_doc = "required",
     .help = "every server belongs to one CDN"},
    {.key = "as",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .offset = offsetof(struct pc_server, as),
     .read = read_as_ref,
     .type_doc = "ASN",
     .help = "where it is"},
    {.key = "addresses",
     .type = PC_ITEM_ADDRS,
     .flags = PC_ITEM_REQUIRED | PC_ITEM_NONEMPTY,
     .offset = offsetof(struct pc_server, addresses),
     .help = ""},
    {.key = "tier",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_tier_ref,
     .type_doc = "tier name",
     .help = ""},
    {.key = "services",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .offset = offsetof(struct pc_server, service_mask),
     .read = read_service_mask,
     .type_doc = "non-empty list of service names",
     .help = "services it offers"},
    {.key = "capacity",
     .type = PC_ITEM_UINT,
     .flags = PC_ITEM_REQUIRED,
     .size = 4,
     .offset = offsetof(struct pc_server, capacity),
     .min = 1,
     .max = UINT32_MAX,
     .help = "load units (sessions); load ≥ capacity is overloaded"},
    /* Read by read_ports: its messages name the server, not "ports". */
    {.key = "ports",
     .type = PC_ITEM_CUSTOM,
     .items = port_items,
     .read = read_ports,
     .type_doc = "mapping",
     .default_doc = "see below",
     .help = "ports of the server's streams"},
    {.key = "location",
     .type = PC_ITEM_CUSTOM,
     .offset = offsetof(struct pc_server, location),
     .read = read_text,
     .type_doc = "text",
     .help = ""},
    {0},
};

static const struct pc_item node_items[] = {
    {.key = "name",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_name,
     .type_doc = "name",
     .help = "what `self` and `-n` name"},
    {.key = "as",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .offset = offsetof(struct pc_node, as),
     .read = read_as_ref,
     .type_doc = "ASN",
     .help = ""},
    {.key = "cdns",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .offset = offsetof(struct pc_node, cdns),
     .read = read_cdn_list,
     .type_doc = "non-empty list of CDN names",
     .help = "CDNs whose domains and anycast addresses it serves"},
    {.key = "addresses",
     .type = PC_ITEM_ADDRS,
     .offset = offsetof(struct pc_node, addresses),
     .help = "unicast (management) addresses"},
    {0},
};

/* ---- the lists ---- */

/* Item i of list s in the model, and the table it is read by. */
static void *element(pc_model *m, enum pc_fed_list s, size_t i)
{
	switch (s) {
	case PC_L_SERVICES:
		return &m->services[i];
	case PC_L_GRADES:
		return &m->grades[i];
	case PC_L_ASES:
		return &m->ases[i];
	case PC_L_LINKS:
		return &m->links[i];
	case PC_L_CDNS:
		return &m->cdns[i];
	case PC_L_CLIENTS:
		return &m->client_nets[i];
	case PC_L_PROVIDERS:
		return &m->providers[i];
	case PC_L_AGREEMENTS:
		return &m->agreements[i];
	case PC_L_SERVERS:
		return &m->servers[i];
	case PC_L_NODES:
		return &m->nodes[i];
	default:
		return NULL;
	}
}

static const struct pc_item *const element_items[PC_L__COUNT] = {
    [PC_L_SERVICES] = service_items,
    [PC_L_GRADES] = grade_items,
    [PC_L_ASES] = as_items,
    [PC_L_LINKS] = link_items,
    [PC_L_CDNS] = cdn_items,
    [PC_L_CLIENTS] = client_items,
    [PC_L_PROVIDERS] = provider_items,
    [PC_L_AGREEMENTS] = agreement_items,
    [PC_L_SERVERS] = server_items,
    [PC_L_NODES] = node_items,
};

/* Pass 1: the items of one list, their names and lines. */
static void declare_items(struct pc_loader *ld, enum pc_fed_list s)
{
	static const char *const name_key[PC_L__COUNT] = {
	    [PC_L_ASES] = "asn",     [PC_L_SERVICES] = "name",  [PC_L_GRADES] = "name",
	    [PC_L_CDNS] = "name",    [PC_L_PROVIDERS] = "name", [PC_L_AGREEMENTS] = "name",
	    [PC_L_SERVERS] = "name", [PC_L_NODES] = "name"};
	struct pc_reader *rd = &ld->rd;
	if (rd->ev.type != YAML_SEQUENCE_START_EVENT) {
		pc__skip_node(rd);
		return;
	}
	struct pc_vec *decls = &ld->decls[s];
	while (pc__advance(rd) && rd->ev.type != YAML_SEQUENCE_END_EVENT) {
		if (decls->n == PC_CFG_MAX_SECTION_ITEMS) {
			pc__fatal_at(rd, &rd->ev.start_mark, "more than %u %s",
			             PC_CFG_MAX_SECTION_ITEMS, list_names[s]);
			return;
		}
		struct pc_decl decl = {NULL, (uint32_t)rd->ev.start_mark.line + 1};
		if (s == PC_L_TIERS && rd->ev.type == YAML_SCALAR_EVENT) {
			decl.name = pc__strndup(rd, pc__scalar(rd), pc__scalar_len(rd));
		} else if (name_key[s] != NULL && rd->ev.type == YAML_MAPPING_START_EVENT) {
			while (pc__advance(rd) && rd->ev.type != YAML_MAPPING_END_EVENT) {
				bool is_name = pc__scalar_is(rd, name_key[s]);
				pc__skip_node(rd);
				if (!pc__advance(rd))
					return;
				if (is_name && decl.name == NULL &&
				    rd->ev.type == YAML_SCALAR_EVENT) {
					uint64_t asn;
					char key[16];
					if (s != PC_L_ASES)
						decl.name = pc__strndup(rd, pc__scalar(rd),
						                        pc__scalar_len(rd));
					else if (pc__parse_u64(pc__scalar(rd), pc__scalar_len(rd),
					                       &asn) &&
					         asn <= UINT32_MAX)
						decl.name = pc__strndup(
						    rd, key,
						    (size_t)snprintf(key, sizeof(key), "%u",
						                     (unsigned)asn));
				}
				pc__skip_node(rd);
			}
		} else {
			pc__skip_node(rd);
		}
		struct pc_decl *slot = pc__vec_push(rd, decls, sizeof(decl));
		if (slot != NULL)
			*slot = decl;
	}
}

/* Pass 2: one list; item i fills the model's item i. */
static void read_items(struct pc_loader *ld, enum pc_fed_list s)
{
	struct pc_reader *rd = &ld->rd;
	ld->list = s;
	snprintf(rd->label, sizeof(rd->label), "%s", list_names[s]);
	if (!pc__begin_list(rd))
		return;
	const struct pc_decl *decls = ld->decls[s].data;
	for (uint32_t i = 0; i < ld->decls[s].n && pc__advance(rd); i++) {
		ld->item = i;
		if (s == PC_L_ASES && decls[i].name != NULL)
			snprintf(rd->label, sizeof(rd->label), "AS %s", decls[i].name);
		else if (decls[i].name != NULL)
			snprintf(rd->label, sizeof(rd->label), "%s %s", item_kinds[s],
			         pc__quote(rd, decls[i].name));
		else
			snprintf(rd->label, sizeof(rd->label), "%s #%u", item_kinds[s], i + 1);
		rd->key = list_names[s];
		if (s == PC_L_TIERS) {
			tier_item(ld);
			continue;
		}
		if (s == PC_L_SERVICES && i >= PC_MAX_SERVICES) {
			pc__item_error(rd, "more than %u services", PC_MAX_SERVICES);
			pc__skip_node(rd);
			continue;
		}
		yaml_mark_t start = rd->ev.start_mark;
		uint64_t seen = 0;
		if (!pc__walk_map(rd, element_items[s], element(ld->model, s, i), &seen))
			continue;
		if (s == PC_L_SERVERS && !(seen >> key_index(server_items, "cdn") & 1))
			pc__error_at(rd, &start, "%s names no CDN", rd->label);
		else if (s == PC_L_LINKS)
			link_done(ld, &start);
		else if (s == PC_L_CDNS)
			cdn_done(ld, &start);
		else if (s == PC_L_PROVIDERS)
			provider_done(ld, &start, seen);
		else if (s == PC_L_AGREEMENTS)
			agreement_done(ld, &start);
	}
	/* Pass 1 counted the same items: the next event ends the list. */
	pc__advance(rd);
}

static void read_list(struct pc_loader *ld, enum pc_fed_list s)
{
	if (ld->rd.pass == 1)
		declare_items(ld, s);
	else
		read_items(ld, s);
}

#define LIST_READER(fn, list)                                                                      \
	static void fn(struct pc_reader *rd, const struct pc_item *item, void *target)             \
	{                                                                                          \
		(void)item, (void)target;                                                          \
		read_list(loader_of(rd), list);                                                    \
	}
LIST_READER(read_tiers, PC_L_TIERS)
LIST_READER(read_services, PC_L_SERVICES)
LIST_READER(read_grades, PC_L_GRADES)
LIST_READER(read_ases, PC_L_ASES)
LIST_READER(read_links, PC_L_LINKS)
LIST_READER(read_cdns, PC_L_CDNS)
LIST_READER(read_clients, PC_L_CLIENTS)
LIST_READER(read_providers, PC_L_PROVIDERS)
LIST_READER(read_agreements, PC_L_AGREEMENTS)
LIST_READER(read_servers, PC_L_SERVERS)
LIST_READER(read_nodes, PC_L_NODES)

const struct pc_item pc_config_items[] = {
    {.key = "version",
     .type = PC_ITEM_CUSTOM,
     .flags = PC_ITEM_REQUIRED,
     .read = read_version,
     .type_doc = "integer",
     .help = "must be `1`"},
    {.key = "self",
     .type = PC_ITEM_CUSTOM,
     .read = read_self,
     .type_doc = "node name",
     .help = "the node this file configures (`-n` overrides)"},
    {.key = "policy",
     .type = PC_ITEM_SECTION,
     .items = policy_items,
     .help = "tunables of the decision"},
    {.key = "reporting",
     .type = PC_ITEM_SECTION,
     .items = reporting_items,
     .help = "what reports to providers keep"},
    {.key = "tiers",
     .type = PC_ITEM_LIST,
     .read = read_tiers,
     .type_doc = "list of names",
     .help = "server tiers, at most 32; the order is the tier index"},
    {.key = "services",
     .type = PC_ITEM_LIST,
     .items = service_items,
     .read = read_services,
     .help = "at most 64"},
    {.key = "grades",
     .type = PC_ITEM_LIST,
     .items = grade_items,
     .read = read_grades,
     .help = "service grades of providers"},
    {.key = "ases",
     .type = PC_ITEM_LIST,
     .items = as_items,
     .read = read_ases,
     .help = "every AS the file mentions"},
    {.key = "links",
     .type = PC_ITEM_LIST,
     .items = link_items,
     .read = read_links,
     .help = "the AS graph"},
    {.key = "cdns",
     .type = PC_ITEM_LIST,
     .items = cdn_items,
     .read = read_cdns,
     .help = "the peering CDNs"},
    {.key = "clients",
     .type = PC_ITEM_LIST,
     .items = client_items,
     .read = read_clients,
     .help = "client networks: prefix → AS"},
    {.key = "providers",
     .type = PC_ITEM_LIST,
     .items = provider_items,
     .read = read_providers,
     .help = "content providers (customers)"},
    {.key = "agreements",
     .type = PC_ITEM_LIST,
     .items = agreement_items,
     .read = read_agreements,
     .help = "content peering agreements"},
    {.key = "servers",
     .type = PC_ITEM_LIST,
     .items = server_items,
     .read = read_servers,
     .help = "content servers"},
    {.key = "nodes",
     .type = PC_ITEM_LIST,
     .items = node_items,
     .read = read_nodes,
     .help = "redirector nodes (`peercdnd` instances)"},
    {0},
};

/* ---- sizing after pass 1 ---- */

static void *alloc_array(struct pc_loader *ld, size_t n, size_t size)
{
	return n == 0 ? NULL : pc__alloc(&ld->rd, n * size);
}

void pc__federation_size(struct pc_loader *ld)
{
	pc_model *m = ld->model;
	size_t n[PC_L__COUNT];
	for (int s = 0; s < PC_L__COUNT; s++)
		n[s] = ld->decls[s].n;
	m->tiers = alloc_array(ld, n[PC_L_TIERS], sizeof(*m->tiers));
	m->services = alloc_array(ld, n[PC_L_SERVICES], sizeof(*m->services));
	m->grades = alloc_array(ld, n[PC_L_GRADES], sizeof(*m->grades));
	m->ases = alloc_array(ld, n[PC_L_ASES], sizeof(*m->ases));
	m->links = alloc_array(ld, n[PC_L_LINKS], sizeof(*m->links));
	m->cdns = alloc_array(ld, n[PC_L_CDNS], sizeof(*m->cdns));
	m->client_nets = alloc_array(ld, n[PC_L_CLIENTS], sizeof(*m->client_nets));
	m->providers = alloc_array(ld, n[PC_L_PROVIDERS], sizeof(*m->providers));
	m->agreements = alloc_array(ld, n[PC_L_AGREEMENTS], sizeof(*m->agreements));
	m->servers = alloc_array(ld, n[PC_L_SERVERS], sizeof(*m->servers));
	m->nodes = alloc_array(ld, n[PC_L_NODES], sizeof(*m->nodes));
	ld->as_mark = malloc((n[PC_L_ASES] ? n[PC_L_ASES] : 1) * sizeof(uint32_t));
	ld->as_role = calloc(n[PC_L_ASES] ? n[PC_L_ASES] : 1, 1);
	ld->cdn_mark = calloc(n[PC_L_CDNS] ? n[PC_L_CDNS] : 1, sizeof(uint32_t));
	ld->domains = pc_strmap_new(m->arena, n[PC_L_CDNS]);
	if (ld->as_mark == NULL || ld->as_role == NULL || ld->cdn_mark == NULL ||
	    ld->domains == NULL)
		ld->rd.oom = ld->rd.stop = true;
	if (ld->rd.stop)
		return;
	memset(ld->as_mark, 0xff, n[PC_L_ASES] * sizeof(uint32_t));
	m->n_tiers = (uint32_t)n[PC_L_TIERS];
	m->n_services = (uint32_t)n[PC_L_SERVICES];
	m->n_grades = (uint32_t)n[PC_L_GRADES];
	m->n_ases = (uint32_t)n[PC_L_ASES];
	m->n_links = (uint32_t)n[PC_L_LINKS];
	m->n_cdns = (uint32_t)n[PC_L_CDNS];
	m->n_client_nets = (uint32_t)n[PC_L_CLIENTS];
	m->n_providers = (uint32_t)n[PC_L_PROVIDERS];
	m->n_agreements = (uint32_t)n[PC_L_AGREEMENTS];
	m->n_servers = (uint32_t)n[PC_L_SERVERS];
	m->n_nodes = (uint32_t)n[PC_L_NODES];

	for (int s = 0; s < PC_L__COUNT; s++) {
		const struct pc_decl *decls = ld->decls[s].data;
		bool named = s != PC_L_LINKS && s != PC_L_CLIENTS;
		if (named) {
			ld->maps[s] = pc_strmap_new(m->arena, n[s]);
			if (ld->maps[s] == NULL) {
				ld->rd.oom = ld->rd.stop = true;
				return;
			}
		}
		for (size_t i = 0; i < n[s]; i++) {
			const char *name = decls[i].name;
			if (s == PC_L_TIERS) {
				m->tiers[i] = name;
			} else {
				/* The table's defaults, then what no key sets: names from
				 * pass 1 and references not (yet) resolved. */
				pc_schema_apply_defaults(element_items[s],
				                         element(m, (enum pc_fed_list)s, i));
			}
			switch (s) {
			case PC_L_SERVICES:
				m->services[i].name = name;
				break;
			case PC_L_GRADES:
				m->grades[i].name = name;
				break;
			case PC_L_ASES:
				m->ases[i].asn =
				    name != NULL ? (uint32_t)strtoul(name, NULL, 10) : 0;
				m->ases[i].server_as = PC_NONE;
				break;
			case PC_L_LINKS:
				m->links[i].as_a = m->links[i].as_b = PC_NONE;
				break;
			case PC_L_CDNS:
				m->cdns[i].name = name;
				m->cdns[i].anycast = alloc_array(ld, m->n_anycast_roles,
				                                 sizeof(struct pc_addr_list));
				break;
			case PC_L_CLIENTS:
				m->client_nets[i].as = PC_NONE;
				break;
			case PC_L_PROVIDERS:
				m->providers[i].name = name;
				m->providers[i].grade = PC_NONE;
				break;
			case PC_L_AGREEMENTS:
				m->agreements[i].name = name;
				m->agreements[i].cdn_a = m->agreements[i].cdn_b = PC_NONE;
				break;
			case PC_L_SERVERS:
				m->servers[i].name = name;
				m->servers[i].cdn = m->servers[i].as = m->servers[i].tier = PC_NONE;
				break;
			case PC_L_NODES:
				m->nodes[i].name = name;
				m->nodes[i].as = PC_NONE;
				break;
			default:
				break;
			}
			/* A duplicate keeps the first; pass 2 reports it. */
			if (named && name != NULL)
				pc_strmap_put(ld->maps[s], name, strlen(name), (uint32_t)i);
		}
	}
}

void pc__federation_free(struct pc_loader *ld)
{
	for (int s = 0; s < PC_L__COUNT; s++)
		free(ld->decls[s].data);
	free(ld->as_mark);
	free(ld->as_role);
	free(ld->cdn_mark);
	free(ld->client_set.slots);
	free(ld->link_set.slots);
	free(ld->host_set.slots);
	free(ld->coverage_set.slots);
	free(ld->hosts.data);
	free(ld->coverages.data);
}
