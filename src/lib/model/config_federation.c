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
	uint32_t first = pc_model_lookup(ld->maps[ld->list], pc__scalar(rd), pc__scalar_len(rd));
	if (first != PC_NONE && first != ld->item) {
		const struct pc_decl *decls = ld->decls[ld->list].data;
		pc__item_error(rd, "duplicate %s name %s (first at line %u)", item_kinds[ld->list],
		               pc__quote_n(rd, pc__scalar(rd), pc__scalar_len(rd)),
		               decls[first].line);
	}
}

/* ---- references ---- */

static uint32_t get_as_ref(struct pc_loader *ld)
{
	uint64_t asn;
	if (!pc__get_uint(&ld->rd, 0, UINT32_MAX, &asn))
		return PC_NONE;
	char key[16];
	int n = snprintf(key, sizeof(key), "%u", (unsigned)asn);
	uint32_t index = pc_model_lookup(ld->maps[PC_L_ASES], key, (size_t)n);
	if (index == PC_NONE)
		pc__item_error(&ld->rd, "unknown AS %u (every AS must be declared under ases)",
		               (unsigned)asn);
	return index;
}

/* An item of list s, by name (by number for ases); PC_NONE after
 * reporting. */
static uint32_t get_ref(struct pc_loader *ld, enum pc_fed_list s)
{
	struct pc_reader *rd = &ld->rd;
	if (s == PC_L_ASES)
		return get_as_ref(ld);
	if (!pc__want_scalar(rd, "a name"))
		return PC_NONE;
	uint32_t index = pc_model_lookup(ld->maps[s], pc__scalar(rd), pc__scalar_len(rd));
	if (index == PC_NONE)
		pc__item_error(rd, "unknown %s %s", item_kinds[s],
		               pc__quote_n(rd, pc__scalar(rd), pc__scalar_len(rd)));
	return index;
}

static void read_ref_mask(struct pc_reader *rd, const struct pc_item *item, void *target);

/* One name of a list of names of list item->arg; each at most once. */
static bool ref_elem(struct pc_reader *rd, const struct pc_item *item, void *elem)
{
	struct pc_loader *ld = loader_of(rd);
	enum pc_fed_list s = (enum pc_fed_list)item->arg;
	uint32_t index = get_ref(ld, s);
	/* A mask has 64 bits; more items were reported where declared. */
	if (index == PC_NONE || (item->read == read_ref_mask && index >= 64))
		return false;
	if (ld->marks[s][index] == ld->stamp) {
		pc__item_error(rd, "%s: %s %s is listed twice", rd->key, item_kinds[s],
		               pc__quote(rd, pc__scalar(rd)));
		return false;
	}
	ld->marks[s][index] = ld->stamp;
	memcpy(elem, &index, sizeof(index));
	return true;
}

static struct pc_array get_ref_list(struct pc_reader *rd, const struct pc_item *item, bool keep)
{
	loader_of(rd)->stamp++;
	return pc__read_array(rd, item, sizeof(uint32_t), item->flags & PC_ITEM_NONEMPTY, keep,
	                      ref_elem);
}

static void put_index_list(void *target, const struct pc_item *item, struct pc_array list)
{
	struct pc_index_list *out = (struct pc_index_list *)((char *)target + item->offset);
	out->items = list.items;
	out->count = list.count;
}

/* ---- the federation's kinds of item (arg: what each reader gets) ---- */

/* The item's name (arg: its enum text_rule): pass 1 took it. */
static void read_name(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)target;
	check_name(loader_of(rd), (enum text_rule)item->arg);
}

/* Text (arg: its enum text_rule) into a const char * field. */
static void read_text(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	const char *text = get_text(rd, (enum text_rule)item->arg);
	memcpy((char *)target + item->offset, &text, sizeof(text));
}

/* An item of list arg into a uint32_t field (PC_NONE when wrong). */
static void read_ref(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	uint32_t index = get_ref(loader_of(rd), (enum pc_fed_list)item->arg);
	memcpy((char *)target + item->offset, &index, sizeof(index));
}

/* Items of list arg into a pc_index_list field. */
static void read_ref_list(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	put_index_list(target, item, get_ref_list(rd, item, true));
}

/* Items of list arg (services, tiers) into a bit mask field. */
static void read_ref_mask(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	struct pc_array list = get_ref_list(rd, item, false);
	uint64_t mask = 0;
	for (uint32_t i = 0; i < list.count; i++)
		mask |= (uint64_t)1 << ((const uint32_t *)list.items)[i];
	pc__schema_store((char *)target + item->offset, item->size, mask);
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

/* A key into the field; arg: the offset of the bool that says it is set. */
static void read_key(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	bool set = get_key(rd, (uint8_t *)target + item->offset);
	memcpy((char *)target + item->arg, &set, sizeof(set));
}

static void claim_host(struct pc_loader *ld, const char *host);

/* The hosts a provider lists name it (claim_host). */
static bool host_elem(struct pc_reader *rd, const struct pc_item *item, void *elem)
{
	(void)item;
	const char *host = pc__get_hostname(rd);
	if (host == NULL)
		return false;
	if (loader_of(rd)->list == PC_L_PROVIDERS)
		claim_host(loader_of(rd), host);
	memcpy(elem, &host, sizeof(host));
	return true;
}

/* Host names into a const char ** field; arg: the offset of its uint32_t
 * count. */
static void read_hosts(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	struct pc_array list = pc__read_array(rd, item, sizeof(char *), false, true, host_elem);
	memcpy((char *)target + item->offset, &list.items, sizeof(list.items));
	memcpy((char *)target + item->arg, &list.count, sizeof(list.count));
}

/* The federation's kinds of item, read by the readers above: NAME the
 * list item's own name, TEXT free text, REF a name of another list (an
 * ASN for ases; PC_NONE until read), REFS a required list of them into a
 * pc_index_list, MASK the same as a bit mask, HOSTS host names with their
 * count in n_<field>, KEY 64 hex digits with has_<field>, LIST a list of
 * the top level. */
// clang-format off
#define NAME(rule, type_doc, help)                                                                 \
	PC_CUSTOM("name", PC_ITEM_REQUIRED, read_name, type_doc, help, .arg = rule)
#define TEXT(k, S, f, help) PC_CUSTOM_AT(k, 0, S, f, read_text, TEXT_FREE, "text", help)
#define REF(k, flags, S, f, list, type_doc, help, ...)                                             \
	PC_CUSTOM_AT(k, flags, S, f, read_ref, list, type_doc, help, .dflt = PC_NONE, __VA_ARGS__)
#define REQUIRED_LIST (PC_ITEM_REQUIRED | PC_ITEM_NONEMPTY) /* and not empty */
#define REFS(k, S, f, list, type_doc, help)                                                        \
	PC_CUSTOM_AT(k, REQUIRED_LIST, S, f, read_ref_list, list, type_doc, help)
#define MASK(k, S, f, list, type_doc, help)                                                        \
	PC_CUSTOM_AT(k, REQUIRED_LIST, S, f, read_ref_mask, list, type_doc, help)
#define HOSTS(k, S, f, help, ...)                                                                  \
	PC_CUSTOM_AT(k, 0, S, f, read_hosts, offsetof(struct S, n_##f), "list of host names",      \
	             help, __VA_ARGS__)
#define KEY(k, S, f, help)                                                                         \
	PC_CUSTOM_AT(k, 0, S, f, read_key, offsetof(struct S, has_##f), "64 hex digits", help)
#define LIST(k, s, items_, help_, ...)                                                             \
	PC__ITEM(k, LIST, .items = items_, .read = read_list, .arg = s, .help = help_, __VA_ARGS__)
// clang-format on

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

// clang-format off
static const struct pc_item policy_items[] = {
	PC_UINT("load_weight",    pc_model, params.load_weight,        0, MAX_COST, 40, NULL,
	        "cost units a server adds at 100 % load"),
	PC_UINT("affinity_band",  pc_model, params.affinity_band,      0, 1000,     10, NULL,
	        "% of the best score (at its distance: of load_weight) within which servers share objects by hash"),
	PC_UINT("high_watermark", pc_model, params.high_watermark_pct, 1, 100,      90, NULL,
	        "% of capacity above which a server is skipped"),
	PC_UINT("spill_max_cost", pc_model, params.spill_max_cost,     0, MAX_COST, 40, NULL,
	        "extra path cost a spill to a farther farm may add"),
	REF("default_service", 0, pc_model, default_service, PC_L_SERVICES, "service name",
	    "service of a codepoint that names none"),
	PC_END,
};

static const struct pc_item reporting_items[] = {
	PC_UINT("ipv4_prefix", pc_model, params.report_prefix4, 0, 32,  24, NULL,
	        "client IPv4 prefix kept in reports to providers"),
	PC_UINT("ipv6_prefix", pc_model, params.report_prefix6, 0, 128, 48, NULL, "same for IPv6"),
	PC_END,
};
// clang-format on

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

// clang-format off
static const struct pc_item service_items[] = {
	NAME(TEXT_LABEL, "label", "codepoint label (`web`, `tv`, ...)"),
	PC_CUSTOM("schemes", 0, read_schemes, "list of `http`, `https`, `rtsp`",
	          "URLs of these schemes imply this service; a scheme implies at most one service"),
	PC_UINT("dns_ttl", pc_service, dns_ttl, 0, MAX_TTL, PC_NONE, "s",
	        "TTL of DNS answers for this service", .default_doc = "the CDN's"),
	PC_ENUM("dns_mode", pc_service, dns_mode, dns_modes, PC_DNS_MODE_INHERIT,
	        "what a DNS answer holds (docs/dns.md)", .default_doc = "the CDN's"),
	PC_END,
};

static const struct pc_item grade_items[] = {
	NAME(TEXT_NAME, "name", ""),
	MASK("tiers", pc_grade, tier_mask, PC_L_TIERS, "non-empty list of tier names",
	     "tiers this grade may be served from"),
	PC_UINT("max_path_cost", pc_grade, max_path_cost, 0, PC_COST_INFINITE - 1, PC_COST_INFINITE,
	        NULL, "how far (AS path cost) it may be served from", .default_doc = "unlimited"),
	PC_END,
};
// clang-format on

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

// clang-format off
static const struct pc_item as_items[] = {
	PC_CUSTOM("asn", PC_ITEM_REQUIRED, read_asn, "1..4294967294", "AS number, declared once"),
	TEXT("name", pc_as, name, "for people"),
	PC_END,
};

static const struct pc_item link_items[] = {
	REF("a", PC_ITEM_REQUIRED, pc_link, as_a, PC_L_ASES, "ASN", "one end: a declared AS"),
	REF("b", PC_ITEM_REQUIRED, pc_link, as_b, PC_L_ASES, "ASN",
	    "the other end: another declared AS; one link per pair"),
	PC_UINT("cost", pc_link, cost, 0, MAX_COST, 0, NULL, "symmetric cost",
	        .flags = PC_ITEM_REQUIRED),
	PC_END,
};
// clang-format on

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

/* One backbone (arg 1) or affiliate (arg 2) AS of CDN ld->item; an AS may
 * appear once per CDN. Being both a backbone and an affiliate of one CDN
 * is the patent's loop of affiliations: the AS would advertise the anycast
 * addresses to the world and keep them to itself at once. */
static bool cdn_as_elem(struct pc_reader *rd, const struct pc_item *item, void *elem)
{
	struct pc_loader *ld = loader_of(rd);
	const struct pc_cdn *cdn = &ld->model->cdns[ld->item];
	uint8_t role = (uint8_t)item->arg;
	uint32_t as = get_as_ref(ld);
	if (as == PC_NONE)
		return false;
	uint32_t asn = ld->model->ases[as].asn;
	if (ld->as_mark[as] == ld->item) {
		if (ld->as_role[as] & role)
			pc__item_error(rd, "AS %u is listed twice in CDN %s", asn,
			               pc__quote(rd, cdn->name));
		else
			pc__item_error(rd, "AS %u is both backbone and affiliate of CDN %s", asn,
			               pc__quote(rd, cdn->name));
		ld->as_role[as] |= role;
		return false;
	}
	ld->as_mark[as] = ld->item;
	ld->as_role[as] = role;
	memcpy(elem, &as, sizeof(as));
	return true;
}

static void read_cdn_ases(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	put_index_list(target, item,
	               pc__read_array(rd, item, sizeof(uint32_t), item->flags & PC_ITEM_NONEMPTY,
	                              true, cdn_as_elem));
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

// clang-format off
static const struct pc_item cdn_dns_items[] = {
	PC_ENUM("mode", pc_cdn, dns_mode, dns_modes, PC_DNS_MODE_SERVER,
	        "what an A/AAAA answer holds"),
	PC_ADDRS("redirectors", pc_cdn, redirectors,
	         "answers in `redirector` mode (required by it)"),
	HOSTS("ns", pc_cdn, ns_names, "the zone's NS names", .default_doc = "`ns1.<domain>`"),
	PC_END,
};

static const struct pc_item cdn_items[] = {
	NAME(TEXT_NAME, "name", ""),
	PC_CUSTOM("domain", PC_ITEM_REQUIRED, read_domain, "host name",
	          "the CDN's DNS zone (`cdn.acme.net`); unique"),
	PC_CUSTOM_AT("backbone", PC_ITEM_NONEMPTY, pc_cdn, backbone_as,
	             read_cdn_ases, 1, "non-empty list of ASNs",
	             "ASes that advertise the anycast addresses to the world",
	             .default_doc = "required (none for an exchange)"),
	PC_CUSTOM_AT("affiliates", 0, pc_cdn, affiliate_as, read_cdn_ases, 2, "list of ASNs",
	             "ASes that advertise them only inside themselves"),
	PC_UINT("dns_ttl", pc_cdn, dns_ttl, 0, MAX_TTL, 0, "s",
	        "TTL of DNS answers (the patent's §3.1.4: 0)"),
	PC_CUSTOM("anycast", PC_ITEM_ROLE_KEYS, read_anycast, "mapping",
	          "the CDN's anycast address(es) per role", .default_doc = "see below"),
	PC_SECTION("dns", cdn_dns_items, "answer mode of this CDN's zone"),
	PC_BOOL("exchange", pc_cdn, exchange, false,
	        "a content exchange: no footprint, no servers; its agreements' CDNs serve"),
	PC_END,
};
// clang-format on

static void cdn_done(struct pc_loader *ld, const yaml_mark_t *start)
{
	const struct pc_cdn *cdn = &ld->model->cdns[ld->item];
	if (cdn->exchange && (cdn->backbone_as.count > 0 || cdn->affiliate_as.count > 0))
		pc__error_at(&ld->rd, start,
		             "%s: an exchange has no footprint: remove backbone and affiliates",
		             ld->rd.label);
	else if (!cdn->exchange && cdn->backbone_as.count == 0)
		pc__error_at(&ld->rd, start,
		             "%s: missing required key \"backbone\" (only an exchange has none)",
		             ld->rd.label);
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

// clang-format off
static const struct pc_item client_items[] = {
	PC_CUSTOM("prefix", PC_ITEM_REQUIRED, read_prefix,
	          "`192.0.2.0/24`, `2001:db8::/32` or a bare address",
	          "no host bits set; each prefix once"),
	REF("as", PC_ITEM_REQUIRED, pc_client_net, as, PC_L_ASES, "ASN",
	    "the AS the network belongs to"),
	TEXT("location", pc_client_net, location, "for people and reports"),
	PC_END,
};
// clang-format on

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

// clang-format off
static const struct pc_item provider_items[] = {
	NAME(TEXT_LABEL, "label", "also the customer label in codepoints"),
	REFS("primary", pc_provider, primary_cdns, PC_L_CDNS, "non-empty list of CDN names",
	     "the provider's primary CDNs"),
	REF("grade", PC_ITEM_REQUIRED, pc_provider, grade, PC_L_GRADES, "grade name",
	    "its service grade (required: there is no implicit grade)"),
	PC_BOOL("require_signature", pc_provider, require_signature, false,
	        "names must carry a valid signature (needs `sign_key`)"),
	KEY("sign_key",    pc_provider, sign_key, "HMAC key for signed codepoints (32 bytes)"),
	KEY("encrypt_key", pc_provider, enc_key,  "key for encrypted codepoints (32 bytes)"),
	HOSTS("origins",     pc_provider, origin_hosts,    "origin hosts embedded in CDN URLs"),
	HOSTS("directories", pc_provider, directory_hosts, "directory hosts (docs/naming.md)"),
	PC_END,
};
// clang-format on

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
	struct pc_agreement *agreement = target;
	yaml_mark_t start = rd->ev.start_mark;
	bool is_list = rd->ev.type == YAML_SEQUENCE_START_EVENT;
	struct pc_array pair = get_ref_list(rd, item, false);
	if (pair.count == 2) {
		agreement->cdn_a = ((const uint32_t *)pair.items)[0];
		agreement->cdn_b = ((const uint32_t *)pair.items)[1];
	} else if (is_list && pair.listed != 2 && !rd->stop) {
		pc__error_at(rd, &start, "%s: between: expected two CDNs, found %u", rd->label,
		             pair.listed);
	}
}

// clang-format off
static const struct pc_item agreement_items[] = {
	NAME(TEXT_NAME, "name", ""),
	PC_CUSTOM("between", PC_ITEM_REQUIRED, read_between, "two different CDN names",
	          "bilateral: each serves the other's primary customers", .arg = PC_L_CDNS),
	MASK("services", pc_agreement, service_mask, PC_L_SERVICES,
	     "non-empty list of service names", "services covered"),
	PC_UINT("capacity_rps", pc_agreement, capacity_rps, 0, UINT32_MAX, 0, NULL,
	        "PEER decisions per second; 0 = unlimited"),
	PC_BOOL("report_usage", pc_agreement, report_usage, true, "report usage for settlement"),
	PC_END,
};
// clang-format on

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

/* Read as a mapping of its own whose messages name the server. */
static void read_ports(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	pc__walk_map(rd, item->items, target, NULL);
}

// clang-format off
static const struct pc_item port_items[] = {
	PC_UINT("http", pc_server, http_port, 0, UINT16_MAX, 0, NULL,
	        "0 = the scheme's default port"),
	PC_UINT("rtsp", pc_server, rtsp_port, 0, UINT16_MAX, 0, NULL,
	        "0 = the scheme's default port"),
	PC_END,
};

static const struct pc_item server_items[] = {
	NAME(TEXT_NAME, "name", ""),
	/* Required too, with its own message (read_items). */
	REF("cdn",  0, pc_server, cdn, PC_L_CDNS, "CDN name", "every server belongs to one CDN",
	    .default_doc = "required"),
	REF("as",   PC_ITEM_REQUIRED, pc_server, as,   PC_L_ASES,  "ASN",       "where it is"),
	PC_ADDRS("addresses", pc_server, addresses, "", .flags = REQUIRED_LIST),
	REF("tier", PC_ITEM_REQUIRED, pc_server, tier, PC_L_TIERS, "tier name", ""),
	MASK("services", pc_server, service_mask, PC_L_SERVICES,
	     "non-empty list of service names", "services it offers"),
	PC_UINT("capacity", pc_server, capacity, 1, UINT32_MAX, 0, NULL,
	        "load units (sessions); load ≥ capacity is overloaded", .flags = PC_ITEM_REQUIRED),
	PC_CUSTOM("ports", 0, read_ports, "mapping", "ports of the server's streams",
	          .items = port_items, .default_doc = "see below"),
	TEXT("location", pc_server, location, ""),
	PC_END,
};

static const struct pc_item node_items[] = {
	NAME(TEXT_NAME, "name", "what `self` and `-n` name"),
	REF("as", PC_ITEM_REQUIRED, pc_node, as, PC_L_ASES, "ASN", ""),
	REFS("cdns", pc_node, cdns, PC_L_CDNS, "non-empty list of CDN names",
	     "CDNs whose domains and anycast addresses it serves"),
	PC_ADDRS("addresses", pc_node, addresses, "unicast (management) addresses"),
	PC_END,
};
// clang-format on

/* ---- the lists ---- */

/* Where the items of a list go in the model: the array, its count, the
 * size of an item, its name field (pass 1 fills it), its table. */
struct list_layout {
	size_t array, count, size, name;
	const struct pc_item *items;
};
#define NO_NAME SIZE_MAX

// clang-format off
#define LIST_OF(a, T, name_, items_)                                                               \
	{offsetof(pc_model, a), offsetof(pc_model, n_##a), sizeof(T), name_, items_}
#define NAMED(a, T, items_) LIST_OF(a, struct T, offsetof(struct T, name), items_)

/* In the order of enum pc_fed_list. */
static const struct list_layout layouts[PC_L__COUNT] = {
	LIST_OF(tiers,       const char *,         0,       NULL),
	NAMED(services,      pc_service,                    service_items),
	NAMED(grades,        pc_grade,                      grade_items),
	LIST_OF(ases,        struct pc_as,         NO_NAME, as_items),
	LIST_OF(links,       struct pc_link,       NO_NAME, link_items),
	NAMED(cdns,          pc_cdn,                        cdn_items),
	LIST_OF(client_nets, struct pc_client_net, NO_NAME, client_items),
	NAMED(providers,     pc_provider,                   provider_items),
	NAMED(agreements,    pc_agreement,                  agreement_items),
	NAMED(servers,       pc_server,                     server_items),
	NAMED(nodes,         pc_node,                       node_items),
};
// clang-format on

/* Item i of list s in the model. */
static void *element(pc_model *m, enum pc_fed_list s, size_t i)
{
	char *array;
	memcpy(&array, (char *)m + layouts[s].array, sizeof(array));
	return array + i * layouts[s].size;
}

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
		struct pc_decl decl = {NULL, (uint32_t)rd->ev.start_mark.line + 1,
		                       (uint32_t)rd->ev.start_mark.column + 1};
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
		if (!pc__walk_map(rd, layouts[s].items, element(ld->model, s, i), &seen))
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

/* A top-level list (arg: which). */
static void read_list(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)target;
	struct pc_loader *ld = loader_of(rd);
	enum pc_fed_list s = (enum pc_fed_list)item->arg;
	if (rd->pass == 1)
		declare_items(ld, s);
	else
		read_items(ld, s);
}

// clang-format off
const struct pc_item pc_config_items[] = {
	PC_CUSTOM("version", PC_ITEM_REQUIRED, read_version, "integer", "must be `1`"),
	REF("self", 0, pc_model, self_node, PC_L_NODES, "node name",
	    "the node this file configures (`-n` overrides)"),
	PC_SECTION("policy",    policy_items,    "tunables of the decision"),
	PC_SECTION("reporting", reporting_items, "what reports to providers keep"),
	LIST("tiers",      PC_L_TIERS,      NULL,            "server tiers, at most 32; the order "
	     "is the tier index", .type_doc = "list of names"),
	LIST("services",   PC_L_SERVICES,   service_items,   "at most 64"),
	LIST("grades",     PC_L_GRADES,     grade_items,     "service grades of providers"),
	LIST("ases",       PC_L_ASES,       as_items,        "every AS the file mentions"),
	LIST("links",      PC_L_LINKS,      link_items,      "the AS graph"),
	LIST("cdns",       PC_L_CDNS,       cdn_items,       "the peering CDNs"),
	LIST("clients",    PC_L_CLIENTS,    client_items,    "client networks: prefix → AS"),
	LIST("providers",  PC_L_PROVIDERS,  provider_items,  "content providers (customers)"),
	LIST("agreements", PC_L_AGREEMENTS, agreement_items, "content peering agreements"),
	LIST("servers",    PC_L_SERVERS,    server_items,    "content servers"),
	LIST("nodes",      PC_L_NODES,      node_items,
	     "redirector nodes (`peercdnd` instances)"),
	PC_END,
};
// clang-format on

/* ---- sizing after pass 1 ---- */

static void *alloc_array(struct pc_loader *ld, size_t n, size_t size)
{
	return n == 0 ? NULL : pc__alloc(&ld->rd, n * size);
}

/* List s's array in the model, n items with the table's defaults and the
 * names pass 1 found. */
static void size_list(struct pc_loader *ld, enum pc_fed_list s, uint32_t n)
{
	pc_model *m = ld->model;
	const struct list_layout *layout = &layouts[s];
	const struct pc_decl *decls = ld->decls[s].data;
	void *array = alloc_array(ld, n, layout->size);
	uint32_t count = array != NULL ? n : 0;
	memcpy((char *)m + layout->array, &array, sizeof(array));
	memcpy((char *)m + layout->count, &count, sizeof(count));
	for (uint32_t i = 0; array != NULL && i < n; i++) {
		char *item = element(m, s, i);
		if (layout->items != NULL)
			pc_schema_apply_defaults(layout->items, item);
		if (layout->name != NO_NAME)
			memcpy(item + layout->name, &decls[i].name, sizeof(decls[i].name));
	}
}

void pc__federation_size(struct pc_loader *ld)
{
	pc_model *m = ld->model;
	uint32_t n[PC_L__COUNT];
	for (int s = 0; s < PC_L__COUNT; s++) {
		n[s] = (uint32_t)ld->decls[s].n;
		size_list(ld, (enum pc_fed_list)s, n[s]);
		bool named = s != PC_L_LINKS && s != PC_L_CLIENTS;
		if (named) {
			ld->maps[s] = pc_strmap_new(m->arena, n[s]);
			ld->marks[s] = calloc(n[s] ? n[s] : 1, sizeof(uint32_t));
			if (ld->maps[s] == NULL || ld->marks[s] == NULL)
				ld->rd.oom = ld->rd.stop = true;
		}
	}
	ld->as_mark = malloc((n[PC_L_ASES] ? n[PC_L_ASES] : 1) * sizeof(uint32_t));
	ld->as_role = calloc(n[PC_L_ASES] ? n[PC_L_ASES] : 1, 1);
	ld->domains = pc_strmap_new(m->arena, n[PC_L_CDNS]);
	if (ld->as_mark == NULL || ld->as_role == NULL || ld->domains == NULL)
		ld->rd.oom = ld->rd.stop = true;
	if (ld->rd.stop)
		return;
	memset(ld->as_mark, 0xff, n[PC_L_ASES] * sizeof(uint32_t));

	/* What neither a table's default nor a name sets. */
	const struct pc_decl *as_decls = ld->decls[PC_L_ASES].data;
	for (uint32_t i = 0; i < n[PC_L_ASES]; i++) {
		const char *asn = as_decls[i].name;
		m->ases[i].asn = asn != NULL ? (uint32_t)strtoul(asn, NULL, 10) : 0;
		m->ases[i].server_as = PC_NONE;
	}
	for (uint32_t i = 0; i < n[PC_L_CDNS]; i++)
		m->cdns[i].anycast =
		    alloc_array(ld, m->n_anycast_roles, sizeof(struct pc_addr_list));
	for (uint32_t i = 0; i < n[PC_L_AGREEMENTS]; i++)
		m->agreements[i].cdn_a = m->agreements[i].cdn_b = PC_NONE;

	/* A duplicate keeps the first; pass 2 reports it. */
	for (int s = 0; s < PC_L__COUNT; s++) {
		const struct pc_decl *decls = ld->decls[s].data;
		for (uint32_t i = 0; ld->maps[s] != NULL && i < n[s]; i++)
			if (decls[i].name != NULL)
				pc_strmap_put(ld->maps[s], decls[i].name, strlen(decls[i].name), i);
	}
}

void pc__federation_free(struct pc_loader *ld)
{
	for (int s = 0; s < PC_L__COUNT; s++) {
		free(ld->decls[s].data);
		free(ld->marks[s]);
	}
	free(ld->as_mark);
	free(ld->as_role);
	free(ld->client_set.slots);
	free(ld->link_set.slots);
	free(ld->host_set.slots);
	free(ld->coverage_set.slots);
	free(ld->hosts.data);
	free(ld->coverages.data);
}

void pc__federation_check(struct pc_loader *ld)
{
	const pc_model *m = ld->model;
	const struct pc_decl *decls = ld->decls[PC_L_SERVERS].data;
	for (uint32_t i = 0; i < m->n_servers && i < ld->decls[PC_L_SERVERS].n; i++) {
		uint32_t cdn = m->servers[i].cdn;
		if (cdn >= m->n_cdns || !m->cdns[cdn].exchange)
			continue;
		yaml_mark_t at = {.line = decls[i].line - 1, .column = decls[i].column - 1};
		pc__error_at(&ld->rd, &at, "server %s: CDN %s is an exchange, which has no servers",
		             pc__quote(&ld->rd, m->servers[i].name),
		             pc__quote(&ld->rd, m->cdns[cdn].name));
	}
}
