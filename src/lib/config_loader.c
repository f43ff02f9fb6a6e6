/* The YAML config loader (config.h, docs/config.md).
 *
 * libyaml builds the document tree with a line and column on every node;
 * the loader walks it section by section in dependency order (whatever the
 * order in the file), resolving names to indexes as it goes, and reports
 * every problem it finds as "FILE:LINE:COL: message" before giving up. No
 * model escapes unless the whole file is good. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "lib/config.h"
#include "lib/err.h"

enum { MAX_ERRORS = 100 };

struct loader {
	const char *source;
	pc_config_diag_fn diag;
	void *diag_ctx;
	unsigned errors;
	yaml_document_t doc;
	pc_model *model;
	pc_arena *scratch; /* name tables used while loading only */
	/* Name -> index while loading; also where each item was defined. */
	pc_strmap *as_by_asn, *prefixes;
	uint32_t *cdn_line, *provider_line, *server_line, *prefix_line;
};

static void report(struct loader *l, const yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct loader *l, const yaml_node_t *at, const char *fmt, ...)
{
	l->errors++;
	if (l->diag == NULL || l->errors > MAX_ERRORS)
		return;
	char msg[768];
	int n = 0;
	if (at != NULL)
		n = snprintf(msg, sizeof(msg), "%s:%zu:%zu: ", l->source, at->start_mark.line + 1,
		             at->start_mark.column + 1);
	else
		n = snprintf(msg, sizeof(msg), "%s: ", l->source);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	l->diag(l->diag_ctx, msg);
	if (l->errors == MAX_ERRORS)
		l->diag(l->diag_ctx, "too many errors; stopping here");
}

static yaml_node_t *node_at(struct loader *l, int index)
{
	return yaml_document_get_node(&l->doc, index);
}

static const char *scalar(const yaml_node_t *node)
{
	return node != NULL && node->type == YAML_SCALAR_NODE
	           ? (const char *)node->data.scalar.value
	           : NULL;
}

static bool is_seq(const yaml_node_t *node)
{
	return node != NULL && node->type == YAML_SEQUENCE_NODE;
}

static bool is_map(const yaml_node_t *node)
{
	return node != NULL && node->type == YAML_MAPPING_NODE;
}

/* The value of key in a mapping, or NULL. */
static yaml_node_t *get(struct loader *l, const yaml_node_t *map, const char *key)
{
	if (!is_map(map))
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(node_at(l, p->key));
		if (k != NULL && strcmp(k, key) == 0)
			return node_at(l, p->value);
	}
	return NULL;
}

/* Reports keys of map not in allowed (a NULL-terminated list) and keys
 * given twice. */
static void check_keys(struct loader *l, const yaml_node_t *map, const char *what,
                       const char *const *allowed)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *key = node_at(l, p->key);
		const char *k = scalar(key);
		if (k == NULL) {
			report(l, key, "%s: keys must be plain words", what);
			continue;
		}
		bool known = false;
		for (const char *const *a = allowed; *a != NULL; a++)
			known |= strcmp(*a, k) == 0;
		if (!known) {
			char list[512] = "";
			size_t n = 0;
			for (const char *const *a = allowed; *a != NULL && n < sizeof(list) - 1;
			     a++)
				n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
				                      a == allowed ? "" : ", ", *a);
			report(l, key, "unknown key \"%s\" in %s (expected one of: %s)", k, what,
			       list);
		}
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
			const char *other = scalar(node_at(l, q->key));
			if (other != NULL && strcmp(other, k) == 0) {
				report(l, key, "key \"%s\" given twice in %s", k, what);
				break;
			}
		}
	}
}

static const yaml_node_t *need_map(struct loader *l, const yaml_node_t *node, const char *what)
{
	if (is_map(node))
		return node;
	report(l, node, "%s must be a mapping (key: value ...)", what);
	return NULL;
}

static bool need_seq(struct loader *l, const yaml_node_t *node, const char *what)
{
	if (is_seq(node))
		return true;
	report(l, node, "%s must be a list", what);
	return false;
}

static uint32_t seq_len(const yaml_node_t *node)
{
	return is_seq(node)
	           ? (uint32_t)(node->data.sequence.items.top - node->data.sequence.items.start)
	           : 0;
}

static yaml_node_t *seq_item(struct loader *l, const yaml_node_t *node, uint32_t i)
{
	return node_at(l, node->data.sequence.items.start[i]);
}

static const char *need_string(struct loader *l, const yaml_node_t *node, const char *what)
{
	const char *s = scalar(node);
	if (s == NULL || s[0] == '\0') {
		report(l, node, "%s must be a non-empty string", what);
		return NULL;
	}
	return s;
}

static char *copy(struct loader *l, const char *text)
{
	return pc_arena_strdup(l->model->arena, text);
}

static char *copy_lower(struct loader *l, const char *text)
{
	char *s = copy(l, text);
	for (char *p = s; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

static bool parse_uint(struct loader *l, const yaml_node_t *node, const char *what, uint64_t min,
                       uint64_t max, uint64_t *out)
{
	const char *s = scalar(node);
	char *end = NULL;
	if (s != NULL && isdigit((unsigned char)s[0])) {
		unsigned long long v = strtoull(s, &end, 10);
		if (*end == '\0' && v >= min && v <= max) {
			*out = v;
			return true;
		}
	}
	report(l, node, "%s must be a whole number from %llu to %llu", what,
	       (unsigned long long)min, (unsigned long long)max);
	return false;
}

/* Optional unsigned field of a mapping: keeps *out when absent. */
static void opt_u32(struct loader *l, const yaml_node_t *map, const char *key, uint64_t min,
                    uint64_t max, uint32_t *out)
{
	const yaml_node_t *node = get(l, map, key);
	uint64_t v;
	if (node != NULL && parse_uint(l, node, key, min, max, &v))
		*out = (uint32_t)v;
}

static void opt_bool(struct loader *l, const yaml_node_t *map, const char *key, bool *out)
{
	const yaml_node_t *node = get(l, map, key);
	if (node == NULL)
		return;
	const char *s = scalar(node);
	if (s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)) {
		*out = true;
	} else if (s != NULL && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)) {
		*out = false;
	} else {
		report(l, node, "%s must be true or false", key);
	}
}

static bool required(struct loader *l, const yaml_node_t *map, const char *key, const char *what,
                     yaml_node_t **out)
{
	*out = get(l, map, key);
	if (*out == NULL)
		report(l, map, "%s: missing \"%s\"", what, key);
	return *out != NULL;
}

/* Host names: letters, digits, '-', '_' and dots between non-empty labels
 * of at most 63; at most 253 in all. */
static bool valid_hostname(const char *s)
{
	size_t len = strlen(s), label = 0;
	if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)*p) || *p == '-' || *p == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

static void *alloc_array(struct loader *l, uint32_t count, size_t size)
{
	void *p = pc_arena_alloc(l->model->arena, (count ? count : 1) * size);
	if (p == NULL)
		report(l, NULL, "out of memory");
	return p;
}

/* A name table for one section: reports duplicates with the first line. */
static pc_strmap *name_table(struct loader *l, uint32_t count)
{
	pc_strmap *map = pc_strmap_new(l->scratch, count);
	if (map == NULL)
		report(l, NULL, "out of memory");
	return map;
}

static bool add_name(struct loader *l, pc_strmap *map, uint32_t *lines, const yaml_node_t *at,
                     const char *what, const char *name, uint32_t index)
{
	uint32_t first;
	if (pc_strmap_get(map, name, strlen(name), &first)) {
		report(l, at, "duplicate %s \"%s\" (first at line %u)", what, name,
		       lines != NULL ? lines[first] : 0);
		return false;
	}
	pc_strmap_put(map, name, strlen(name), index);
	if (lines != NULL)
		lines[index] = (uint32_t)at->start_mark.line + 1;
	return true;
}

/* Resolves a name with a model map built while loading. */
static uint32_t resolve(struct loader *l, pc_strmap *map, const yaml_node_t *node, const char *what,
                        const char *context)
{
	const char *name = need_string(l, node, what);
	uint32_t index;
	if (name == NULL)
		return PC_NONE;
	if (map == NULL || !pc_strmap_get(map, name, strlen(name), &index)) {
		report(l, node, "%s: unknown %s \"%s\"", context, what, name);
		return PC_NONE;
	}
	return index;
}

static uint32_t resolve_as(struct loader *l, const yaml_node_t *node, const char *context)
{
	uint64_t asn;
	if (!parse_uint(l, node, "an AS number", 1, UINT32_MAX, &asn))
		return PC_NONE;
	char key[16];
	snprintf(key, sizeof(key), "%llu", (unsigned long long)asn);
	uint32_t index;
	if (!pc_strmap_get(l->as_by_asn, key, strlen(key), &index)) {
		report(l, node, "%s: unknown AS %llu (declare it under \"ases\")", context,
		       (unsigned long long)asn);
		return PC_NONE;
	}
	return index;
}

/* A list of names resolved to an index list. */
static void resolve_list(struct loader *l, pc_strmap *map, const yaml_node_t *node,
                         const char *what, const char *context, struct pc_index_list *out)
{
	if (!need_seq(l, node, context))
		return;
	uint32_t n = seq_len(node);
	out->items = alloc_array(l, n, sizeof(uint32_t));
	if (out->items == NULL)
		return;
	for (uint32_t i = 0; i < n; i++) {
		const yaml_node_t *item = seq_item(l, node, i);
		uint32_t index = resolve(l, map, item, what, context);
		if (index == PC_NONE)
			continue;
		bool dup = false;
		for (uint32_t j = 0; j < out->count; j++)
			dup |= out->items[j] == index;
		if (dup)
			report(l, item, "%s: %s \"%s\" listed twice", context, what, scalar(item));
		else
			out->items[out->count++] = index;
	}
}

static uint64_t resolve_mask(struct loader *l, pc_strmap *map, const yaml_node_t *node,
                             const char *what, const char *context)
{
	struct pc_index_list list = {0};
	resolve_list(l, map, node, what, context, &list);
	uint64_t mask = 0;
	for (uint32_t i = 0; i < list.count; i++)
		mask |= 1ULL << list.items[i];
	return mask;
}

static void parse_addresses(struct loader *l, const yaml_node_t *node, const char *context,
                            struct pc_addr_list *out)
{
	if (!need_seq(l, node, context))
		return;
	uint32_t n = seq_len(node);
	out->items = alloc_array(l, n, sizeof(pc_addr));
	if (out->items == NULL)
		return;
	for (uint32_t i = 0; i < n; i++) {
		const yaml_node_t *item = seq_item(l, node, i);
		const char *text = scalar(item);
		if (text == NULL || pc_addr_parse(text, &out->items[out->count]) != PC_OK)
			report(l, item, "%s: \"%s\" is not an IPv4 or IPv6 address", context,
			       text ? text : "");
		else
			out->count++;
	}
}

static bool parse_key(struct loader *l, const yaml_node_t *node, const char *what,
                      uint8_t out[PC_KEY_BYTES])
{
	const char *s = scalar(node);
	if (s != NULL && strlen(s) == 2 * PC_KEY_BYTES) {
		bool ok = true;
		for (int i = 0; i < PC_KEY_BYTES && ok; i++) {
			unsigned v = 0;
			ok = isxdigit((unsigned char)s[2 * i]) &&
			     isxdigit((unsigned char)s[2 * i + 1]) &&
			     sscanf(s + 2 * i, "%2x", &v) == 1;
			out[i] = (uint8_t)v;
		}
		if (ok)
			return true;
	}
	report(l, node, "%s must be %d hexadecimal digits (%d bytes)", what, 2 * PC_KEY_BYTES,
	       PC_KEY_BYTES);
	return false;
}

static void parse_hosts(struct loader *l, const yaml_node_t *node, const char *context,
                        const char ***out, uint32_t *count)
{
	if (node == NULL || !need_seq(l, node, context))
		return;
	uint32_t n = seq_len(node);
	*out = alloc_array(l, n, sizeof(char *));
	if (*out == NULL)
		return;
	for (uint32_t i = 0; i < n; i++) {
		const yaml_node_t *item = seq_item(l, node, i);
		const char *s = scalar(item);
		if (s == NULL || !valid_hostname(s))
			report(l, item, "%s: \"%s\" is not a host name", context, s ? s : "");
		else
			(*out)[(*count)++] = copy_lower(l, s);
	}
}

/* Iterates a top-level list section whose items are mappings. */
#define FOR_ITEMS(l, section, what, i, item)                                                       \
	for (uint32_t i = 0, n_ = seq_len(section); i < n_; i++)                                   \
		for (const yaml_node_t *item = seq_item(l, section, i); item != NULL; item = NULL) \
			if (need_map(l, item, what) != NULL)

static const char *item_name(struct loader *l, const yaml_node_t *item, const char *what)
{
	yaml_node_t *node;
	if (!required(l, item, "name", what, &node))
		return NULL;
	const char *name = need_string(l, node, "name");
	if (name != NULL && !valid_hostname(name)) {
		report(l, node, "%s name \"%s\" may hold letters, digits, '-', '_' and dots only",
		       what, name);
		return NULL;
	}
	return name;
}

/* Section loaders, in dependency order. */

static void load_tiers(struct loader *l, const yaml_node_t *section)
{
	pc_model *m = l->model;
	uint32_t n = seq_len(section);
	if (n > PC_MAX_TIERS) {
		report(l, section, "at most %d tiers", PC_MAX_TIERS);
		return;
	}
	m->tiers = alloc_array(l, n, sizeof(char *));
	pc_strmap *names = name_table(l, n);
	if (m->tiers == NULL || names == NULL)
		return;
	for (uint32_t i = 0; i < n; i++) {
		const yaml_node_t *item = seq_item(l, section, i);
		const char *name = need_string(l, item, "a tier");
		if (name != NULL && add_name(l, names, NULL, item, "tier", name, m->n_tiers))
			m->tiers[m->n_tiers++] = copy(l, name);
	}
	m->tier_by_name = names;
}

static void load_services(struct loader *l, const yaml_node_t *section)
{
	static const char *const keys[] = {"name", "schemes", "dns_ttl", "dns_mode", NULL};
	pc_model *m = l->model;
	uint32_t n = seq_len(section);
	if (n > PC_MAX_SERVICES) {
		report(l, section, "at most %d services", PC_MAX_SERVICES);
		return;
	}
	m->services = alloc_array(l, n, sizeof(*m->services));
	pc_strmap *names = name_table(l, n);
	if (m->services == NULL || names == NULL)
		return;
	FOR_ITEMS(l, section, "a service", i, item)
	{
		check_keys(l, item, "service", keys);
		const char *name = item_name(l, item, "service");
		if (name == NULL || !add_name(l, names, NULL, item, "service", name, m->n_services))
			continue;
		struct pc_service *svc = &m->services[m->n_services++];
		svc->name = copy_lower(l, name);
		svc->dns_ttl = PC_NONE;
		svc->dns_mode = PC_DNS_MODE_INHERIT;
		const yaml_node_t *schemes = get(l, item, "schemes");
		for (uint32_t s = 0;
		     schemes != NULL && need_seq(l, schemes, "schemes") && s < seq_len(schemes);
		     s++) {
			const yaml_node_t *scheme = seq_item(l, schemes, s);
			const char *text = scalar(scheme);
			if (text != NULL && strcmp(text, "http") == 0)
				svc->scheme_mask |= PC_SCHEME_HTTP;
			else if (text != NULL && strcmp(text, "https") == 0)
				svc->scheme_mask |= PC_SCHEME_HTTPS;
			else if (text != NULL && strcmp(text, "rtsp") == 0)
				svc->scheme_mask |= PC_SCHEME_RTSP;
			else
				report(l, scheme,
				       "service %s: unknown scheme \"%s\" (http, https, rtsp)",
				       name, text ? text : "");
		}
		opt_u32(l, item, "dns_ttl", 0, 604800, &svc->dns_ttl);
		const yaml_node_t *mode = get(l, item, "dns_mode");
		if (mode != NULL) {
			const char *text = scalar(mode);
			if (text != NULL && strcmp(text, "server") == 0)
				svc->dns_mode = PC_DNS_MODE_SERVER;
			else if (text != NULL && strcmp(text, "redirector") == 0)
				svc->dns_mode = PC_DNS_MODE_REDIRECTOR;
			else if (text != NULL && strcmp(text, "anycast") == 0)
				svc->dns_mode = PC_DNS_MODE_ANYCAST;
			else
				report(l, mode, "dns_mode must be server, redirector or anycast");
		}
	}
	m->service_by_name = names;
}

static void load_grades(struct loader *l, const yaml_node_t *section)
{
	static const char *const keys[] = {"name", "tiers", "max_path_cost", NULL};
	pc_model *m = l->model;
	uint32_t n = seq_len(section);
	m->grades = alloc_array(l, n, sizeof(*m->grades));
	pc_strmap *names = name_table(l, n);
	if (m->grades == NULL || names == NULL)
		return;
	FOR_ITEMS(l, section, "a grade", i, item)
	{
		check_keys(l, item, "grade", keys);
		const char *name = item_name(l, item, "grade");
		if (name == NULL || !add_name(l, names, NULL, item, "grade", name, m->n_grades))
			continue;
		struct pc_grade *grade = &m->grades[m->n_grades++];
		grade->name = copy(l, name);
		grade->max_path_cost = PC_COST_INFINITE;
		yaml_node_t *tiers;
		if (required(l, item, "tiers", "grade", &tiers))
			grade->tier_mask =
			    (uint32_t)resolve_mask(l, m->tier_by_name, tiers, "tier", "grade");
		opt_u32(l, item, "max_path_cost", 0, PC_COST_INFINITE - 1, &grade->max_path_cost);
	}
	m->grade_by_name = names;
}

static void load_ases(struct loader *l, const yaml_node_t *section)
{
	static const char *const keys[] = {"asn", "name", NULL};
	pc_model *m = l->model;
	uint32_t n = seq_len(section);
	m->ases = alloc_array(l, n, sizeof(*m->ases));
	l->as_by_asn = name_table(l, n);
	uint32_t *lines = pc_arena_alloc(l->scratch, (n ? n : 1) * sizeof(uint32_t));
	if (m->ases == NULL || l->as_by_asn == NULL || lines == NULL)
		return;
	FOR_ITEMS(l, section, "an AS", i, item)
	{
		check_keys(l, item, "AS", keys);
		yaml_node_t *asn_node;
		uint64_t asn;
		if (!required(l, item, "asn", "AS", &asn_node) ||
		    !parse_uint(l, asn_node, "asn", 1, UINT32_MAX, &asn))
			continue;
		char *key = pc_arena_alloc(l->scratch, 16);
		snprintf(key, 16, "%llu", (unsigned long long)asn);
		if (!add_name(l, l->as_by_asn, lines, item, "AS", key, m->n_ases))
			continue;
		struct pc_as *as = &m->ases[m->n_ases++];
		as->asn = (uint32_t)asn;
		const yaml_node_t *name = get(l, item, "name");
		if (name != NULL && need_string(l, name, "AS name") != NULL)
			as->name = copy(l, scalar(name));
	}
}

static void load_links(struct loader *l, const yaml_node_t *section)
{
	static const char *const keys[] = {"a", "b", "cost", NULL};
	pc_model *m = l->model;
	m->links = alloc_array(l, seq_len(section), sizeof(*m->links));
	if (m->links == NULL)
		return;
	FOR_ITEMS(l, section, "a link", i, item)
	{
		check_keys(l, item, "link", keys);
		yaml_node_t *a, *b, *cost;
		bool complete = required(l, item, "a", "link", &a);
		complete &= required(l, item, "b", "link", &b);
		complete &= required(l, item, "cost", "link", &cost);
		if (!complete)
			continue;
		struct pc_link link = {resolve_as(l, a, "link"), resolve_as(l, b, "link"), 0};
		uint64_t c;
		if (!parse_uint(l, cost, "cost", 0, 1000000, &c) || link.as_a == PC_NONE ||
		    link.as_b == PC_NONE)
			continue;
		if (link.as_a == link.as_b) {
			report(l, item, "link from AS %u to itself", m->ases[link.as_a].asn);
			continue;
		}
		link.cost = (uint32_t)c;
		m->links[m->n_links++] = link;
	}
}

static void resolve_as_list(struct loader *l, const yaml_node_t *node, const char *context,
                            struct pc_index_list *out)
{
	if (!need_seq(l, node, context))
		return;
	uint32_t n = seq_len(node);
	out->items = alloc_array(l, n, sizeof(uint32_t));
	for (uint32_t i = 0; out->items != NULL && i < n; i++) {
		const yaml_node_t *item = seq_item(l, node, i);
		uint32_t as = resolve_as(l, item, context);
		if (as == PC_NONE)
			continue;
		bool dup = false;
		for (uint32_t j = 0; j < out->count; j++)
			dup |= out->items[j] == as;
		if (dup)
			report(l, item, "%s: AS %u listed twice", context, l->model->ases[as].asn);
		else
			out->items[out->count++] = as;
	}
}

static uint8_t parse_dns_mode(struct loader *l, const yaml_node_t *node)
{
	const char *text = scalar(node);
	if (text != NULL && strcmp(text, "server") == 0)
		return PC_DNS_MODE_SERVER;
	if (text != NULL && strcmp(text, "redirector") == 0)
		return PC_DNS_MODE_REDIRECTOR;
	if (text != NULL && strcmp(text, "anycast") == 0)
		return PC_DNS_MODE_ANYCAST;
	report(l, node, "mode must be server, redirector or anycast");
	return PC_DNS_MODE_SERVER;
}

static void load_cdn_dns(struct loader *l, const yaml_node_t *node, struct pc_cdn *cdn)
{
	static const char *const keys[] = {"mode", "redirectors", "ns", NULL};
	if (need_map(l, node, "cdn dns") == NULL)
		return;
	check_keys(l, node, "cdn dns", keys);
	const yaml_node_t *mode = get(l, node, "mode");
	if (mode != NULL)
		cdn->dns_mode = parse_dns_mode(l, mode);
	const yaml_node_t *redirectors = get(l, node, "redirectors");
	if (redirectors != NULL)
		parse_addresses(l, redirectors, "redirectors", &cdn->redirectors);
	if (cdn->dns_mode == PC_DNS_MODE_REDIRECTOR && cdn->redirectors.count == 0)
		report(l, node, "CDN %s: dns mode redirector needs redirectors", cdn->name);
	parse_hosts(l, get(l, node, "ns"), "ns", &cdn->ns_names, &cdn->n_ns_names);
}

static void load_cdns(struct loader *l, const yaml_node_t *section)
{
	static const char *const keys[] = {"name",    "domain",  "backbone", "affiliates",
	                                   "dns_ttl", "anycast", "dns",      NULL};
	static const char *const anycast_keys[] = {"dns", "cdsr", "http", "rtsp", NULL};
	pc_model *m = l->model;
	uint32_t n = seq_len(section);
	m->cdns = alloc_array(l, n, sizeof(*m->cdns));
	pc_strmap *names = name_table(l, n), *domains = name_table(l, n);
	l->cdn_line = pc_arena_alloc(l->scratch, (n ? n : 1) * sizeof(uint32_t));
	uint32_t *domain_lines = pc_arena_alloc(l->scratch, (n ? n : 1) * sizeof(uint32_t));
	if (m->cdns == NULL || names == NULL || domains == NULL || l->cdn_line == NULL ||
	    domain_lines == NULL)
		return;
	FOR_ITEMS(l, section, "a CDN", i, item)
	{
		check_keys(l, item, "cdn", keys);
		const char *name = item_name(l, item, "CDN");
		if (name == NULL || !add_name(l, names, l->cdn_line, item, "CDN", name, m->n_cdns))
			continue;
		struct pc_cdn *cdn = &m->cdns[m->n_cdns++];
		cdn->name = copy(l, name);
		yaml_node_t *domain, *backbone;
		if (required(l, item, "domain", "cdn", &domain) &&
		    need_string(l, domain, "domain") != NULL) {
			if (!valid_hostname(scalar(domain)))
				report(l, domain, "CDN %s: \"%s\" is not a domain name", name,
				       scalar(domain));
			cdn->domain = copy_lower(l, scalar(domain));
			add_name(l, domains, domain_lines, domain, "CDN domain", cdn->domain,
			         m->n_cdns - 1);
		}
		if (required(l, item, "backbone", "cdn", &backbone))
			resolve_as_list(l, backbone, "backbone", &cdn->backbone_as);
		const yaml_node_t *affiliates = get(l, item, "affiliates");
		if (affiliates != NULL)
			resolve_as_list(l, affiliates, "affiliates", &cdn->affiliate_as);
		/* An AS cannot both carry the CDN's backbone and be affiliated to it:
		 * the affiliation would point back at the CDN itself. */
		for (uint32_t a = 0; a < cdn->affiliate_as.count; a++)
			for (uint32_t b = 0; b < cdn->backbone_as.count; b++)
				if (cdn->affiliate_as.items[a] == cdn->backbone_as.items[b])
					report(l, affiliates,
					       "affiliation loop: AS %u is both backbone and "
					       "affiliate "
					       "of CDN %s",
					       m->ases[cdn->affiliate_as.items[a]].asn, name);
		opt_u32(l, item, "dns_ttl", 0, 604800, &cdn->dns_ttl);
		const yaml_node_t *anycast = get(l, item, "anycast");
		if (anycast != NULL && need_map(l, anycast, "anycast") != NULL) {
			check_keys(l, anycast, "anycast", anycast_keys);
			for (int r = 0; r < PC_ROLE__COUNT; r++) {
				const yaml_node_t *list = get(l, anycast, anycast_keys[r]);
				if (list != NULL)
					parse_addresses(l, list, "anycast", &cdn->anycast[r]);
			}
		}
		const yaml_node_t *dns = get(l, item, "dns");
		if (dns != NULL)
			load_cdn_dns(l, dns, cdn);
	}
	m->cdn_by_name = names;
}

static void load_clients(struct loader *l, const yaml_node_t *section)
{
	static const char *const keys[] = {"prefix", "as", "location", NULL};
	pc_model *m = l->model;
	uint32_t n = seq_len(section);
	m->client_nets = alloc_array(l, n, sizeof(*m->client_nets));
	l->prefixes = name_table(l, n);
	l->prefix_line = pc_arena_alloc(l->scratch, (n ? n : 1) * sizeof(uint32_t));
	if (m->client_nets == NULL || l->prefixes == NULL || l->prefix_line == NULL)
		return;
	FOR_ITEMS(l, section, "a client network", i, item)
	{
		check_keys(l, item, "client network", keys);
		yaml_node_t *prefix_node, *as_node;
		bool complete = required(l, item, "prefix", "client network", &prefix_node);
		complete &= required(l, item, "as", "client network", &as_node);
		if (!complete)
			continue;
		const char *text = need_string(l, prefix_node, "prefix");
		int family;
		uint8_t addr[16] = {0};
		unsigned len;
		if (text == NULL)
			continue;
		if (pc_prefix_parse(text, strlen(text), &family, addr, &len) != PC_OK) {
			report(l, prefix_node, "\"%s\" is not an IPv4 or IPv6 prefix", text);
			continue;
		}
		unsigned bits = family == PC_AF_INET ? 32 : 128;
		bool host_bits = false;
		for (unsigned b = len; b < bits; b++)
			host_bits |= (addr[b / 8] >> (7 - b % 8)) & 1;
		if (host_bits) {
			report(l, prefix_node, "client prefix %s has host bits set", text);
			continue;
		}
		uint32_t as = resolve_as(l, as_node, "client network");
		if (as == PC_NONE)
			continue;
		/* Canonical text, so 10.0.0.0/8 and 010.0.0.0/8 are one prefix. */
		char key[64];
		int k = snprintf(key, sizeof(key), "%d/%u/", family, len);
		for (unsigned b = 0; b < bits / 8; b++)
			k += snprintf(key + k, sizeof(key) - (size_t)k, "%02x", addr[b]);
		uint32_t first;
		if (pc_strmap_get(l->prefixes, key, (size_t)k, &first)) {
			report(l, prefix_node, "duplicate client prefix %s (first at line %u)",
			       text, l->prefix_line[first]);
			continue;
		}
		const char *stored = pc_arena_strndup(l->scratch, key, (size_t)k);
		if (stored == NULL ||
		    pc_strmap_put(l->prefixes, stored, (size_t)k, m->n_client_nets) != PC_OK) {
			report(l, prefix_node, "out of memory");
			continue;
		}
		l->prefix_line[m->n_client_nets] = (uint32_t)prefix_node->start_mark.line + 1;
		struct pc_client_net *net = &m->client_nets[m->n_client_nets++];
		net->prefix.family = (uint8_t)family;
		memcpy(net->prefix.bytes, addr, 16);
		net->prefix_len = (uint8_t)len;
		net->as = as;
		const yaml_node_t *location = get(l, item, "location");
		if (location != NULL && need_string(l, location, "location") != NULL)
			net->location = copy(l, scalar(location));
	}
}

static void load_providers(struct loader *l, const yaml_node_t *section)
{
	static const char *const keys[] = {
	    "name",    "primary",     "grade", "require_signature", "sign_key", "encrypt_key",
	    "origins", "directories", NULL};
	pc_model *m = l->model;
	uint32_t n = seq_len(section);
	m->providers = alloc_array(l, n, sizeof(*m->providers));
	pc_strmap *names = name_table(l, n);
	l->provider_line = pc_arena_alloc(l->scratch, (n ? n : 1) * sizeof(uint32_t));
	if (m->providers == NULL || names == NULL || l->provider_line == NULL)
		return;
	FOR_ITEMS(l, section, "a provider", i, item)
	{
		check_keys(l, item, "provider", keys);
		const char *name = item_name(l, item, "provider");
		if (name == NULL ||
		    !add_name(l, names, l->provider_line, item, "provider", name, m->n_providers))
			continue;
		if (strchr(name, '.') != NULL) {
			report(l, item, "provider name \"%s\" must be one DNS label", name);
			continue;
		}
		struct pc_provider *p = &m->providers[m->n_providers++];
		p->name = copy_lower(l, name);
		p->grade = PC_NONE;
		yaml_node_t *primary, *grade;
		if (required(l, item, "primary", "provider", &primary)) {
			resolve_list(l, m->cdn_by_name, primary, "CDN", "provider primary",
			             &p->primary_cdns);
			if (p->primary_cdns.count == 0 && seq_len(primary) == 0)
				report(l, primary, "provider %s: needs at least one primary CDN",
				       name);
		}
		if (required(l, item, "grade", "provider", &grade))
			p->grade = resolve(l, m->grade_by_name, grade, "grade", "provider");
		opt_bool(l, item, "require_signature", &p->require_signature);
		const yaml_node_t *key = get(l, item, "sign_key");
		if (key != NULL)
			p->has_sign_key = parse_key(l, key, "sign_key", p->sign_key);
		key = get(l, item, "encrypt_key");
		if (key != NULL)
			p->has_enc_key = parse_key(l, key, "encrypt_key", p->enc_key);
		if (p->require_signature && !p->has_sign_key)
			report(l, item, "provider %s: require_signature needs a sign_key", name);
		parse_hosts(l, get(l, item, "origins"), "origins", &p->origin_hosts,
		            &p->n_origin_hosts);
		parse_hosts(l, get(l, item, "directories"), "directories", &p->directory_hosts,
		            &p->n_directory_hosts);
	}
	m->provider_by_name = names;
}

static void load_agreements(struct loader *l, const yaml_node_t *section)
{
	static const char *const keys[] = {"name",         "between",      "services",
	                                   "capacity_rps", "report_usage", NULL};
	pc_model *m = l->model;
	uint32_t n = seq_len(section);
	m->agreements = alloc_array(l, n, sizeof(*m->agreements));
	pc_strmap *names = name_table(l, n);
	if (m->agreements == NULL || names == NULL)
		return;
	FOR_ITEMS(l, section, "an agreement", i, item)
	{
		check_keys(l, item, "agreement", keys);
		const char *name = item_name(l, item, "agreement");
		if (name == NULL ||
		    !add_name(l, names, NULL, item, "agreement", name, m->n_agreements))
			continue;
		char context[160];
		snprintf(context, sizeof(context), "agreement \"%s\"", name);
		yaml_node_t *between, *services;
		bool complete = required(l, item, "between", "agreement", &between);
		complete &= required(l, item, "services", "agreement", &services);
		if (!complete)
			continue;
		struct pc_index_list cdns = {0};
		resolve_list(l, m->cdn_by_name, between, "CDN", context, &cdns);
		if (seq_len(between) != 2) {
			report(l, between, "%s: \"between\" names exactly two CDNs", context);
			continue;
		}
		if (cdns.count != 2)
			continue;
		struct pc_agreement *a = &m->agreements[m->n_agreements++];
		a->name = copy(l, name);
		a->cdn_a = cdns.items[0];
		a->cdn_b = cdns.items[1];
		a->service_mask = resolve_mask(l, m->service_by_name, services, "service", context);
		a->report_usage = true;
		opt_u32(l, item, "capacity_rps", 0, UINT32_MAX, &a->capacity_rps);
		opt_bool(l, item, "report_usage", &a->report_usage);
	}
	m->agreement_by_name = names;
}

static void load_servers(struct loader *l, const yaml_node_t *section)
{
	static const char *const keys[] = {"name",     "cdn",      "as",    "addresses", "tier",
	                                   "services", "capacity", "ports", "location",  NULL};
	static const char *const port_keys[] = {"http", "rtsp", NULL};
	pc_model *m = l->model;
	uint32_t n = seq_len(section);
	m->servers = alloc_array(l, n, sizeof(*m->servers));
	pc_strmap *names = name_table(l, n);
	l->server_line = pc_arena_alloc(l->scratch, (n ? n : 1) * sizeof(uint32_t));
	if (m->servers == NULL || names == NULL || l->server_line == NULL)
		return;
	FOR_ITEMS(l, section, "a server", i, item)
	{
		check_keys(l, item, "server", keys);
		const char *name = item_name(l, item, "server");
		if (name == NULL ||
		    !add_name(l, names, l->server_line, item, "server", name, m->n_servers))
			continue;
		char context[160];
		snprintf(context, sizeof(context), "server \"%s\"", name);
		yaml_node_t *cdn, *as, *addresses, *tier, *services, *capacity;
		bool complete = true;
		if ((cdn = get(l, item, "cdn")) == NULL) {
			report(l, item, "server \"%s\" names no CDN: every server belongs to one",
			       name);
			complete = false;
		}
		complete &= required(l, item, "as", context, &as);
		complete &= required(l, item, "addresses", context, &addresses);
		complete &= required(l, item, "tier", context, &tier);
		complete &= required(l, item, "services", context, &services);
		complete &= required(l, item, "capacity", context, &capacity);
		if (!complete)
			continue;
		struct pc_server *s = &m->servers[m->n_servers];
		s->name = copy(l, name);
		s->cdn = resolve(l, m->cdn_by_name, cdn, "CDN", context);
		s->as = resolve_as(l, as, context);
		s->tier = resolve(l, m->tier_by_name, tier, "tier", context);
		parse_addresses(l, addresses, context, &s->addresses);
		if (s->addresses.count == 0 && seq_len(addresses) == 0)
			report(l, addresses, "%s: needs at least one address", context);
		s->service_mask = resolve_mask(l, m->service_by_name, services, "service", context);
		uint64_t cap;
		if (parse_uint(l, capacity, "capacity", 1, UINT32_MAX, &cap))
			s->capacity = (uint32_t)cap;
		const yaml_node_t *ports = get(l, item, "ports");
		if (ports != NULL && need_map(l, ports, "ports") != NULL) {
			check_keys(l, ports, "ports", port_keys);
			uint32_t http = 0, rtsp = 0;
			opt_u32(l, ports, "http", 1, 65535, &http);
			opt_u32(l, ports, "rtsp", 1, 65535, &rtsp);
			s->http_port = (uint16_t)http;
			s->rtsp_port = (uint16_t)rtsp;
		}
		const yaml_node_t *location = get(l, item, "location");
		if (location != NULL && need_string(l, location, "location") != NULL)
			s->location = copy(l, scalar(location));
		if (s->cdn != PC_NONE && s->as != PC_NONE && s->tier != PC_NONE)
			m->n_servers++;
	}
	m->server_by_name = names;
}

static void load_nodes(struct loader *l, const yaml_node_t *section)
{
	static const char *const keys[] = {"name", "as", "cdns", "addresses", NULL};
	pc_model *m = l->model;
	uint32_t n = seq_len(section);
	m->nodes = alloc_array(l, n, sizeof(*m->nodes));
	pc_strmap *names = name_table(l, n);
	if (m->nodes == NULL || names == NULL)
		return;
	FOR_ITEMS(l, section, "a node", i, item)
	{
		check_keys(l, item, "node", keys);
		const char *name = item_name(l, item, "node");
		if (name == NULL || !add_name(l, names, NULL, item, "node", name, m->n_nodes))
			continue;
		char context[160];
		snprintf(context, sizeof(context), "node \"%s\"", name);
		yaml_node_t *as, *cdns;
		bool complete = required(l, item, "as", context, &as);
		complete &= required(l, item, "cdns", context, &cdns);
		if (!complete)
			continue;
		struct pc_node *node = &m->nodes[m->n_nodes];
		node->name = copy(l, name);
		node->as = resolve_as(l, as, context);
		resolve_list(l, m->cdn_by_name, cdns, "CDN", context, &node->cdns);
		const yaml_node_t *addresses = get(l, item, "addresses");
		if (addresses != NULL)
			parse_addresses(l, addresses, context, &node->addresses);
		if (node->as != PC_NONE)
			m->n_nodes++;
	}
	m->node_by_name = names;
}

static void load_policy(struct loader *l, const yaml_node_t *section)
{
	static const char *const keys[] = {"load_weight",    "affinity_band",   "high_watermark",
	                                   "spill_max_cost", "default_service", NULL};
	struct pc_policy_params *p = &l->model->params;
	check_keys(l, section, "policy", keys);
	opt_u32(l, section, "load_weight", 0, 1000000, &p->load_weight);
	opt_u32(l, section, "affinity_band", 0, 1000000, &p->affinity_band);
	opt_u32(l, section, "high_watermark", 1, 100, &p->high_watermark_pct);
	opt_u32(l, section, "spill_max_cost", 0, 1000000, &p->spill_max_cost);
	const yaml_node_t *svc = get(l, section, "default_service");
	if (svc != NULL)
		l->model->default_service =
		    resolve(l, l->model->service_by_name, svc, "service", "policy default_service");
}

static void load_reporting(struct loader *l, const yaml_node_t *section)
{
	static const char *const keys[] = {"ipv4_prefix", "ipv6_prefix", NULL};
	struct pc_policy_params *p = &l->model->params;
	check_keys(l, section, "reporting", keys);
	uint32_t v4 = p->report_prefix4, v6 = p->report_prefix6;
	opt_u32(l, section, "ipv4_prefix", 0, 32, &v4);
	opt_u32(l, section, "ipv6_prefix", 0, 128, &v6);
	p->report_prefix4 = (uint8_t)v4;
	p->report_prefix6 = (uint8_t)v6;
}

static void load_dns(struct loader *l, const yaml_node_t *section)
{
	static const char *const keys[] = {"enabled",
	                                   "listen",
	                                   "port",
	                                   "workers",
	                                   "edns_payload",
	                                   "max_answers",
	                                   "tcp_idle_timeout_ms",
	                                   "tcp_max_clients",
	                                   "tcp_max_per_source",
	                                   "bad_signature",
	                                   "decoy",
	                                   "rrl",
	                                   "hostmaster",
	                                   "soa_serial",
	                                   "negative_ttl",
	                                   NULL};
	static const char *const rrl_keys[] = {"rate", "slip", "ipv4_prefix", "ipv6_prefix", NULL};
	struct pc_dns_params *d = &l->model->dns;
	check_keys(l, section, "dns", keys);
	d->enabled = true;
	opt_bool(l, section, "enabled", &d->enabled);
	const yaml_node_t *listen = get(l, section, "listen");
	if (listen != NULL)
		parse_addresses(l, listen, "dns listen", &d->listen);
	uint32_t port = d->port, payload = d->edns_payload;
	opt_u32(l, section, "port", 1, 65535, &port);
	d->port = (uint16_t)port;
	opt_u32(l, section, "workers", 0, 64, &d->workers);
	opt_u32(l, section, "edns_payload", 512, 4096, &payload);
	d->edns_payload = (uint16_t)payload;
	opt_u32(l, section, "max_answers", 1, 4, &d->max_answers);
	opt_u32(l, section, "tcp_idle_timeout_ms", 100, 3600000, &d->tcp_idle_ms);
	opt_u32(l, section, "tcp_max_clients", 1, 1000000, &d->tcp_max_clients);
	opt_u32(l, section, "tcp_max_per_source", 1, 1000000, &d->tcp_max_per_source);
	const yaml_node_t *bad = get(l, section, "bad_signature");
	if (bad != NULL) {
		const char *text = scalar(bad);
		if (text != NULL && strcmp(text, "refuse") == 0)
			d->sig_failure = PC_SIG_FAIL_REFUSE;
		else if (text != NULL && strcmp(text, "decoy") == 0)
			d->sig_failure = PC_SIG_FAIL_DECOY;
		else
			report(l, bad, "bad_signature must be refuse or decoy");
	}
	const yaml_node_t *decoy = get(l, section, "decoy");
	if (decoy != NULL) {
		struct pc_addr_list list = {0};
		parse_addresses(l, decoy, "decoy", &list);
		for (uint32_t i = 0; i < list.count; i++) {
			if (list.items[i].family == PC_AF_INET)
				d->decoy4 = list.items[i];
			else
				d->decoy6 = list.items[i];
		}
	}
	if (d->sig_failure == PC_SIG_FAIL_DECOY && d->decoy4.family == PC_AF_NONE &&
	    d->decoy6.family == PC_AF_NONE)
		report(l, section, "dns: bad_signature decoy needs a decoy address");
	const yaml_node_t *rrl = get(l, section, "rrl");
	if (rrl != NULL && need_map(l, rrl, "rrl") != NULL) {
		check_keys(l, rrl, "rrl", rrl_keys);
		uint32_t v4 = d->rrl_prefix4, v6 = d->rrl_prefix6;
		opt_u32(l, rrl, "rate", 0, 100000000, &d->rrl_rate);
		opt_u32(l, rrl, "slip", 0, 100, &d->rrl_slip);
		opt_u32(l, rrl, "ipv4_prefix", 1, 32, &v4);
		opt_u32(l, rrl, "ipv6_prefix", 1, 128, &v6);
		d->rrl_prefix4 = (uint8_t)v4;
		d->rrl_prefix6 = (uint8_t)v6;
	}
	const yaml_node_t *hostmaster = get(l, section, "hostmaster");
	if (hostmaster != NULL) {
		const char *text = need_string(l, hostmaster, "hostmaster");
		if (text != NULL && !valid_hostname(text))
			report(l, hostmaster,
			       "hostmaster must be a domain name (mailbox with a dot)");
		else if (text != NULL)
			d->hostmaster = copy_lower(l, text);
	}
	opt_u32(l, section, "soa_serial", 0, UINT32_MAX, &d->soa_serial);
	opt_u32(l, section, "negative_ttl", 0, 86400, &d->soa_minimum);
}

static void load_control(struct loader *l, const yaml_node_t *section)
{
	static const char *const keys[] = {"metrics_port", "metrics_listen", NULL};
	struct pc_control_params *c = &l->model->control;
	check_keys(l, section, "control", keys);
	uint32_t port = 0;
	opt_u32(l, section, "metrics_port", 1, 65535, &port);
	c->metrics_port = (uint16_t)port;
	c->metrics_enabled = port != 0;
	const yaml_node_t *listen = get(l, section, "metrics_listen");
	if (listen != NULL) {
		const char *text = scalar(listen);
		if (text == NULL || pc_addr_parse(text, &c->metrics_address) != PC_OK)
			report(l, listen, "metrics_listen must be an IPv4 or IPv6 address");
	}
}

/* The top level: sections in dependency order. */
static void load_root(struct loader *l, const yaml_node_t *root)
{
	static const char *const keys[] = {
	    "version",    "self",    "policy", "reporting", "tiers",   "services",
	    "grades",     "ases",    "links",  "cdns",      "clients", "providers",
	    "agreements", "servers", "nodes",  "dns",       "control", NULL};
	if (need_map(l, root, "the config") == NULL)
		return;
	check_keys(l, root, "the config", keys);
	yaml_node_t *version;
	const char *version_text = NULL;
	if (required(l, root, "version", "the config", &version) &&
	    ((version_text = scalar(version)) == NULL || strcmp(version_text, "1") != 0))
		report(l, version, "version must be 1 (this peercdn reads config version 1)");

	static const struct {
		const char *key;
		bool is_list;
		void (*load)(struct loader *, const yaml_node_t *);
	} sections[] = {
	    {"tiers", true, load_tiers},           {"services", true, load_services},
	    {"grades", true, load_grades},         {"ases", true, load_ases},
	    {"links", true, load_links},           {"cdns", true, load_cdns},
	    {"clients", true, load_clients},       {"providers", true, load_providers},
	    {"agreements", true, load_agreements}, {"servers", true, load_servers},
	    {"nodes", true, load_nodes},           {"policy", false, load_policy},
	    {"reporting", false, load_reporting},  {"dns", false, load_dns},
	    {"control", false, load_control},
	};
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		const yaml_node_t *section = get(l, root, sections[i].key);
		bool empty_list = section == NULL;
		if (section != NULL && sections[i].is_list &&
		    !need_seq(l, section, sections[i].key))
			empty_list = true;
		if (section != NULL && !sections[i].is_list &&
		    need_map(l, section, sections[i].key) == NULL)
			continue;
		if (empty_list && sections[i].is_list) {
			/* Still build an empty name table, so later look-ups work. */
			const yaml_node_t none = {.type = YAML_SEQUENCE_NODE};
			sections[i].load(l, &none);
			continue;
		}
		if (section != NULL)
			sections[i].load(l, section);
	}
	static const char *const must[] = {"cdns", "ases", "servers", "providers", NULL};
	for (const char *const *k = must; *k != NULL; k++)
		if (get(l, root, *k) == NULL)
			report(l, root, "the config has no \"%s\" section", *k);

	const yaml_node_t *self = get(l, root, "self");
	if (self != NULL)
		l->model->self_node = resolve(l, l->model->node_by_name, self, "node", "self");
}

int pc_config_load(const char *text, size_t len, const char *source, pc_config_diag_fn diag,
                   void *diag_ctx, pc_model **out)
{
	*out = NULL;
	struct loader l = {
	    .source = source ? source : "<config>", .diag = diag, .diag_ctx = diag_ctx};
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return PC_ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &l.doc)) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s:%zu:%zu: YAML syntax: %s%s%s", l.source,
		         parser.problem_mark.line + 1, parser.problem_mark.column + 1,
		         parser.problem ? parser.problem : "unreadable", parser.context ? " " : "",
		         parser.context ? parser.context : "");
		if (diag != NULL)
			diag(diag_ctx, msg);
		yaml_parser_delete(&parser);
		return PC_ECONFIG;
	}
	yaml_parser_delete(&parser);

	l.model = pc_model_new();
	l.scratch = pc_arena_new();
	if (l.model == NULL || l.scratch == NULL) {
		pc_model_free(l.model);
		pc_arena_free(l.scratch);
		yaml_document_delete(&l.doc);
		return PC_ENOMEM;
	}
	l.model->source = copy(&l, l.source);
	const yaml_node_t *root = yaml_document_get_root_node(&l.doc);
	if (root == NULL)
		report(&l, NULL, "the config is empty");
	else
		load_root(&l, root);

	int rc = l.errors ? PC_ECONFIG : PC_OK;
	if (rc == PC_OK) {
		/* The name tables were built in the scratch arena; finish builds the
		 * model's own. */
		struct pc_model *m = l.model;
		m->cdn_by_name = m->service_by_name = m->tier_by_name = m->grade_by_name = NULL;
		m->provider_by_name = m->agreement_by_name = m->server_by_name = NULL;
		m->node_by_name = NULL;
		rc = pc_model_finish(m);
		if (rc != PC_OK) {
			report(&l, root, "the federation is inconsistent: %s", pc_strerror(rc));
			rc = PC_ECONFIG;
		}
	}
	yaml_document_delete(&l.doc);
	pc_arena_free(l.scratch);
	if (rc != PC_OK) {
		pc_model_free(l.model);
		return rc;
	}
	*out = l.model;
	return PC_OK;
}
