/* config: the YAML loader (docs/config.md is the reference of every key).
 *
 * The text is read twice as a stream of libyaml events, never as a document
 * tree, so memory stays proportional to the model: a tree of a million
 * client prefixes would cost a few hundred bytes per node. The first pass
 * only counts the items of each list and collects their names; the second
 * fills the model's arrays (sized exactly from the first pass) and resolves
 * every reference where it appears, whatever order the sections come in,
 * so each error carries its own line and column. Everything is linear in
 * the input: look-ups are hashed, per-list duplicate checks use marks. */
#include "lib/model/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "lib/base/err.h"
#include "lib/base/hex.h"

/* Limits against hostile input. A real federation nests five levels deep;
 * the item limits are far above any real one but keep every count in 32 bits
 * and every allocation bounded by the input size. */
#define MAX_INPUT         ((size_t)1 << 30)
#define MAX_DEPTH         32
#define MAX_SECTION_ITEMS (1u << 24)  /* entries of one top-level list */
#define MAX_LIST_ITEMS    (1u << 20)  /* entries of one inner list */
#define MAX_DIAGS         1000        /* then one "too many errors" and stop */
#define MAX_COST          1000000u    /* per link: sums of costs stay far from 2^32 */
#define MAX_TTL           2147483647u /* RFC 2181 §8 */

enum section {
	S_TIERS,
	S_SERVICES,
	S_GRADES,
	S_ASES,
	S_LINKS,
	S_CDNS,
	S_CLIENTS,
	S_PROVIDERS,
	S_AGREEMENTS,
	S_SERVERS,
	S_NODES,
	S__COUNT
};

static const char *const section_names[S__COUNT] = {
    "tiers",   "services",  "grades",     "ases",    "links", "cdns",
    "clients", "providers", "agreements", "servers", "nodes",
};
/* What one item of a section is called in messages. */
static const char *const item_kinds[S__COUNT] = {
    "tier",   "service",  "grade",     "AS",     "link", "CDN",
    "client", "provider", "agreement", "server", "node",
};

/* Pass 1's record of one list item: its name (NULL when it has none) and
 * where it starts, for "first at line N". */
struct decl {
	const char *name;
	uint32_t line;
};

struct vec {
	void *data;
	size_t n, cap;
};

/* An open-addressing set of item indexes whose keys live in the items
 * themselves (compared by a callback): duplicate prefixes, links, hosts. */
struct itable {
	uint64_t *slots; /* hash << 32 | (item + 1); 0 = empty */
	size_t cap, n;
};

struct host_owner {
	const char *host;
	uint32_t provider, line;
};

struct coverage {
	uint32_t cdn_lo, cdn_hi, service, agreement;
};

struct loader {
	pc_model *model;
	const char *source;
	pc_config_diag_fn diag;
	void *diag_ctx;

	yaml_parser_t parser;
	yaml_event_t ev;
	bool have_ev;
	bool stop; /* syntax error, limit, no memory: no more events */
	bool oom;
	bool quiet; /* pass 1: only fatal errors are reported */
	unsigned depth;
	unsigned n_errors;

	struct vec decls[S__COUNT]; /* struct decl, from pass 1 */
	pc_strmap *maps[S__COUNT];  /* name (decimal ASN for ases) -> index */
	bool section_seen[S__COUNT];

	/* Pass 2: the item being read and what messages call it. */
	enum section section;
	uint32_t item;
	const char *key;
	char label[160];

	struct vec scratch_idx;  /* uint32_t, one inner list at a time */
	struct vec scratch_addr; /* pc_addr */
	struct vec scratch_str;  /* const char * */
	uint32_t *as_mark;       /* per AS: last CDN that listed it */
	uint8_t *as_role;        /* 1 backbone, 2 affiliate, for as_mark's CDN */
	uint32_t *cdn_mark;      /* per CDN: stamp of the last list naming it */
	uint32_t stamp;
	uint32_t scheme_service[3]; /* service implied by http, https, rtsp */
	pc_strmap *domains;
	struct itable client_set, link_set, host_set, coverage_set;
	struct vec hosts;                /* struct host_owner */
	struct vec coverages;            /* struct coverage */
	struct pc_stream_params *stream; /* the http or rtsp section being read */
	uint8_t decoy_families;

	char quoted[4][100];
	unsigned next_quoted;
};

/* ---- diagnostics ---- */

static void report(struct loader *ld, const yaml_mark_t *mark, const char *fmt, va_list ap)
{
	ld->n_errors++;
	if (ld->diag == NULL)
		return;
	char message[1024];
	int n;
	if (mark != NULL)
		n = snprintf(message, sizeof(message), "%s:%zu:%zu: ", ld->source, mark->line + 1,
		             mark->column + 1);
	else
		n = snprintf(message, sizeof(message), "%s: ", ld->source);
	if (n < 0 || (size_t)n >= sizeof(message))
		n = 0;
	vsnprintf(message + n, sizeof(message) - (size_t)n, fmt, ap);
	ld->diag(ld->diag_ctx, message);
}

static void too_many_errors(struct loader *ld)
{
	if (ld->n_errors == MAX_DIAGS && ld->diag != NULL) {
		char message[512];
		snprintf(message, sizeof(message), "%s: too many errors (%u), giving up",
		         ld->source, MAX_DIAGS);
		ld->diag(ld->diag_ctx, message);
	}
	ld->stop = true;
}

__attribute__((format(printf, 3, 4))) static void
error_at(struct loader *ld, const yaml_mark_t *mark, const char *fmt, ...)
{
	if (ld->quiet || ld->n_errors >= MAX_DIAGS)
		return;
	va_list ap;
	va_start(ap, fmt);
	report(ld, mark, fmt, ap);
	va_end(ap);
	if (ld->n_errors >= MAX_DIAGS)
		too_many_errors(ld);
}

/* An error that ends the reading (reported in both passes). */
__attribute__((format(printf, 3, 4))) static void
fatal_at(struct loader *ld, const yaml_mark_t *mark, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(ld, mark, fmt, ap);
	va_end(ap);
	ld->stop = true;
}

/* At the current event, prefixed with the item's label. */
__attribute__((format(printf, 2, 3))) static void item_error(struct loader *ld, const char *fmt,
                                                             ...)
{
	if (ld->quiet || ld->n_errors >= MAX_DIAGS)
		return;
	char message[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	error_at(ld, &ld->ev.start_mark, "%s: %s", ld->label, message);
}

/* Operator text inside messages: quoted, cut short, control bytes shown as
 * '?' so a hostile file cannot forge lines. Four rotating buffers let one
 * message quote up to four strings. */
static const char *quote_n(struct loader *ld, const char *text, size_t len)
{
	char *out = ld->quoted[ld->next_quoted++ % 4];
	size_t n = 0, max = sizeof(ld->quoted[0]) - 6;
	out[n++] = '"';
	for (size_t i = 0; i < len && n < max; i++) {
		unsigned char c = (unsigned char)text[i];
		out[n++] = c < 0x20 || c == 0x7f || c == '"' || c == '\\' ? '?' : (char)c;
	}
	if (len > max - 1)
		n = max, out[n++] = '.', out[n++] = '.', out[n++] = '.';
	out[n++] = '"';
	out[n] = '\0';
	return out;
}

static const char *quote(struct loader *ld, const char *text)
{
	return text == NULL ? "(none)" : quote_n(ld, text, strlen(text));
}

static const char *node_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return "a scalar";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_ALIAS_EVENT:
		return "an alias (aliases are not supported)";
	default:
		return "nothing";
	}
}

/* ---- memory ---- */

static void *vec_push(struct loader *ld, struct vec *v, size_t size)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *data = realloc(v->data, cap * size);
		if (data == NULL) {
			ld->oom = ld->stop = true;
			return NULL;
		}
		v->data = data;
		v->cap = cap;
	}
	return (char *)v->data + v->n++ * size;
}

static void *arena_alloc(struct loader *ld, size_t size)
{
	void *p = pc_arena_alloc(ld->model->arena, size ? size : 1);
	if (p == NULL)
		ld->oom = ld->stop = true;
	return p;
}

static char *arena_strndup(struct loader *ld, const char *text, size_t len)
{
	char *p = pc_arena_strndup(ld->model->arena, text, len);
	if (p == NULL)
		ld->oom = ld->stop = true;
	return p;
}

static void *arena_copy(struct loader *ld, const void *data, size_t size)
{
	if (size == 0)
		return NULL;
	void *p = arena_alloc(ld, size);
	if (p != NULL)
		memcpy(p, data, size);
	return p;
}

static uint32_t fnv(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

typedef bool (*item_eq_fn)(const struct loader *ld, uint32_t a, uint32_t b);

/* Adds item unless an equal one is present; returns that one or PC_NONE. */
static uint32_t itable_add(struct loader *ld, struct itable *t, uint32_t hash, uint32_t item,
                           item_eq_fn eq)
{
	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		uint64_t *slots = calloc(cap, sizeof(*slots));
		if (slots == NULL) {
			ld->oom = ld->stop = true;
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

/* ---- events ---- */

/* Moves to the next event; false at the end or after a fatal error. */
static bool advance(struct loader *ld)
{
	if (ld->stop)
		return false;
	if (ld->have_ev)
		yaml_event_delete(&ld->ev);
	ld->have_ev = false;
	if (!yaml_parser_parse(&ld->parser, &ld->ev)) {
		yaml_parser_t *p = &ld->parser;
		if (p->error == YAML_MEMORY_ERROR) {
			ld->oom = ld->stop = true;
			return false;
		}
		const char *problem = p->problem != NULL ? p->problem : "malformed YAML";
		if (p->context != NULL)
			fatal_at(ld, &p->problem_mark, "YAML syntax error: %s (%s at line %zu)",
			         problem, p->context, p->context_mark.line + 1);
		else
			fatal_at(ld, &p->problem_mark, "YAML syntax error: %s", problem);
		return false;
	}
	ld->have_ev = true;
	switch (ld->ev.type) {
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (++ld->depth > MAX_DEPTH) {
			fatal_at(ld, &ld->ev.start_mark, "nested deeper than %u levels", MAX_DEPTH);
			return false;
		}
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		ld->depth--;
		break;
	default:
		break;
	}
	return true;
}

/* Consumes the node that starts at the current event. */
static void skip_node(struct loader *ld)
{
	if (ld->ev.type != YAML_SEQUENCE_START_EVENT && ld->ev.type != YAML_MAPPING_START_EVENT)
		return;
	unsigned depth = 1;
	while (depth > 0 && advance(ld)) {
		if (ld->ev.type == YAML_SEQUENCE_START_EVENT ||
		    ld->ev.type == YAML_MAPPING_START_EVENT)
			depth++;
		else if (ld->ev.type == YAML_SEQUENCE_END_EVENT ||
		         ld->ev.type == YAML_MAPPING_END_EVENT)
			depth--;
	}
}

static const char *scalar(const struct loader *ld)
{
	return (const char *)ld->ev.data.scalar.value;
}

static size_t scalar_len(const struct loader *ld)
{
	return ld->ev.data.scalar.length;
}

static bool scalar_is(const struct loader *ld, const char *text)
{
	return ld->ev.type == YAML_SCALAR_EVENT && scalar_len(ld) == strlen(text) &&
	       memcmp(scalar(ld), text, scalar_len(ld)) == 0;
}

/* ---- lists and mappings ---- */

/* The current event must start a list; reports and skips anything else. */
static bool begin_list(struct loader *ld)
{
	if (ld->ev.type == YAML_SEQUENCE_START_EVENT)
		return true;
	item_error(ld, "%s: expected a list, found %s", ld->key, node_kind(&ld->ev));
	skip_node(ld);
	return false;
}

/* Moves to the next item of the list begun by begin_list; false at its end. */
static bool next_item(struct loader *ld, uint32_t *count, uint32_t limit)
{
	if (!advance(ld) || ld->ev.type == YAML_SEQUENCE_END_EVENT)
		return false;
	if (++*count <= limit)
		return true;
	item_error(ld, "%s: more than %u items", ld->key, limit);
	while (!ld->stop && ld->ev.type != YAML_SEQUENCE_END_EVENT) {
		skip_node(ld);
		advance(ld);
	}
	return false;
}

struct keyset {
	const char *const *keys;
	unsigned n; /* at most 64 */
	uint64_t required;
};

typedef void (*field_fn)(struct loader *ld, unsigned key);

static void unknown_key(struct loader *ld, const struct keyset *ks)
{
	char expected[512];
	size_t n = 0;
	expected[0] = '\0';
	for (unsigned k = 0; k < ks->n && n < sizeof(expected); k++)
		n += (size_t)snprintf(expected + n, sizeof(expected) - n, "%s%s", k ? ", " : "",
		                      ks->keys[k]);
	error_at(ld, &ld->ev.start_mark, "unknown key %s in %s (expected one of: %s)",
	         quote_n(ld, scalar(ld), scalar_len(ld)), ld->label, expected);
}

/* Walks the mapping at the current event, calling field with the current
 * event at the value of each known key; the callee consumes that value.
 * Returns false (after reporting) when the node is not a mapping. */
static bool walk_map(struct loader *ld, const struct keyset *ks, field_fn field, uint64_t *seen_out)
{
	uint64_t seen = 0;
	uint32_t first_line[64];
	if (ld->ev.type != YAML_MAPPING_START_EVENT) {
		item_error(ld, "expected a mapping, found %s", node_kind(&ld->ev));
		skip_node(ld);
		return false;
	}
	yaml_mark_t start = ld->ev.start_mark;
	while (advance(ld) && ld->ev.type != YAML_MAPPING_END_EVENT) {
		if (ld->ev.type != YAML_SCALAR_EVENT) {
			item_error(ld, "a key must be a string, found %s", node_kind(&ld->ev));
			skip_node(ld);
			if (advance(ld))
				skip_node(ld);
			continue;
		}
		unsigned k = 0;
		while (k < ks->n && !scalar_is(ld, ks->keys[k]))
			k++;
		if (k == ks->n) {
			unknown_key(ld, ks);
		} else if (seen >> k & 1) {
			error_at(ld, &ld->ev.start_mark,
			         "%s: duplicate key \"%s\" (first at line %u)", ld->label,
			         ks->keys[k], first_line[k]);
			k = ks->n;
		} else {
			seen |= (uint64_t)1 << k;
			first_line[k] = (uint32_t)ld->ev.start_mark.line + 1;
		}
		if (!advance(ld))
			break;
		if (k == ks->n) {
			skip_node(ld);
			continue;
		}
		const char *outer_key = ld->key;
		ld->key = ks->keys[k];
		field(ld, k);
		ld->key = outer_key;
	}
	if (ld->stop)
		return false;
	uint64_t missing = ks->required & ~seen;
	for (unsigned k = 0; k < ks->n; k++)
		if (missing >> k & 1)
			error_at(ld, &start, "%s: missing required key \"%s\"", ld->label,
			         ks->keys[k]);
	if (seen_out != NULL)
		*seen_out = seen;
	return true;
}

#define KEYSET(keys, required)                                                                     \
	{                                                                                          \
		keys, sizeof(keys) / sizeof(keys[0]), required                                     \
	}

/* ---- scalars ---- */

static bool want_scalar(struct loader *ld, const char *expected)
{
	if (ld->ev.type != YAML_SCALAR_EVENT) {
		item_error(ld, "%s: expected %s, found %s", ld->key, expected, node_kind(&ld->ev));
		skip_node(ld);
		return false;
	}
	if (memchr(scalar(ld), '\0', scalar_len(ld)) != NULL) {
		item_error(ld, "%s: contains a NUL byte", ld->key);
		return false;
	}
	return true;
}

static bool parse_u64(const char *text, size_t len, uint64_t *out)
{
	uint64_t value = 0;
	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		uint64_t digit = (uint64_t)(text[i] - '0');
		if (value > (UINT64_MAX - digit) / 10)
			return false;
		value = value * 10 + digit;
	}
	*out = value;
	return true;
}

static bool get_uint(struct loader *ld, uint64_t min, uint64_t max, uint64_t *out)
{
	if (!want_scalar(ld, "an integer"))
		return false;
	uint64_t value;
	if (!parse_u64(scalar(ld), scalar_len(ld), &value)) {
		item_error(ld, "%s: expected an integer, found %s", ld->key,
		           quote_n(ld, scalar(ld), scalar_len(ld)));
		return false;
	}
	if (value < min || value > max) {
		item_error(ld, "%s: %s is out of range (%llu..%llu)", ld->key,
		           quote_n(ld, scalar(ld), scalar_len(ld)), (unsigned long long)min,
		           (unsigned long long)max);
		return false;
	}
	*out = value;
	return true;
}

static void get_u32(struct loader *ld, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t value;
	if (get_uint(ld, min, max, &value))
		*out = (uint32_t)value;
}

static void get_u16(struct loader *ld, uint16_t min, uint16_t max, uint16_t *out)
{
	uint64_t value;
	if (get_uint(ld, min, max, &value))
		*out = (uint16_t)value;
}

static void get_u8(struct loader *ld, uint8_t min, uint8_t max, uint8_t *out)
{
	uint64_t value;
	if (get_uint(ld, min, max, &value))
		*out = (uint8_t)value;
}

static void get_bool(struct loader *ld, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
	                                  "YES",  "on",   "On",   "ON"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No",
	                                 "NO",    "off",   "Off",   "OFF"};
	if (!want_scalar(ld, "true or false"))
		return;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (scalar_is(ld, yes[i]) || scalar_is(ld, no[i])) {
			*out = scalar_is(ld, yes[i]);
			return;
		}
	}
	item_error(ld, "%s: expected true or false, found %s", ld->key,
	           quote_n(ld, scalar(ld), scalar_len(ld)));
}

/* One of names (exact); returns its index or -1 after reporting. */
static int get_enum(struct loader *ld, const char *const *names, unsigned n)
{
	if (!want_scalar(ld, "a string"))
		return -1;
	char expected[256];
	size_t used = 0;
	for (unsigned i = 0; i < n; i++) {
		if (scalar_is(ld, names[i]))
			return (int)i;
		used += (size_t)snprintf(expected + used, sizeof(expected) - used, "%s%s",
		                         i ? ", " : "", names[i]);
	}
	item_error(ld, "%s: unknown value %s (expected one of: %s)", ld->key,
	           quote_n(ld, scalar(ld), scalar_len(ld)), expected);
	return -1;
}

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

static const char *get_text(struct loader *ld, enum text_rule rule)
{
	static const char *const why[] = {
	    [TEXT_FREE] = "1 to 255 printable characters",
	    [TEXT_NAME] = "1 to 255 printable characters without spaces",
	    [TEXT_LABEL] = "a DNS label: 1 to 63 letters, digits or hyphens",
	};
	if (!want_scalar(ld, "a string"))
		return NULL;
	if (!text_ok(scalar(ld), scalar_len(ld), rule)) {
		item_error(ld, "%s: %s is not valid (%s)", ld->key,
		           quote_n(ld, scalar(ld), scalar_len(ld)), why[rule]);
		return NULL;
	}
	return arena_strndup(ld, scalar(ld), scalar_len(ld));
}

/* A DNS name in presentation form: lower-cased, without a trailing dot. */
static const char *get_hostname(struct loader *ld)
{
	if (!want_scalar(ld, "a host name"))
		return NULL;
	const char *text = scalar(ld);
	size_t len = scalar_len(ld);
	if (len > 1 && text[len - 1] == '.')
		len--;
	bool ok = len > 0 && len <= 253;
	for (size_t i = 0, label = 0; ok && i <= len; i++) {
		char c = i < len ? text[i] : '.';
		if (c == '.') {
			ok = label > 0 && label <= 63;
			label = 0;
		} else {
			ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '_';
			label++;
		}
	}
	if (!ok) {
		item_error(ld, "%s: %s is not a host name", ld->key, quote_n(ld, text, len));
		return NULL;
	}
	char *out = arena_strndup(ld, text, len);
	for (size_t i = 0; out != NULL && i < len; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	return out;
}

static bool get_addr(struct loader *ld, pc_addr *out)
{
	if (!want_scalar(ld, "an IP address"))
		return false;
	if (pc_addr_parse(scalar(ld), out) != PC_OK) {
		item_error(ld, "%s: %s is not an IP address", ld->key,
		           quote_n(ld, scalar(ld), scalar_len(ld)));
		return false;
	}
	return true;
}

static bool get_key(struct loader *ld, uint8_t out[PC_KEY_BYTES])
{
	if (!want_scalar(ld, "a key of 64 hex digits"))
		return false;
	const char *text = scalar(ld);
	bool ok = scalar_len(ld) == 2 * PC_KEY_BYTES;
	for (size_t i = 0; ok && i < PC_KEY_BYTES; i++) {
		int hi = pc_hex_digit(text[2 * i]), lo = pc_hex_digit(text[2 * i + 1]);
		ok = hi >= 0 && lo >= 0;
		if (ok)
			out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!ok) {
		/* The key itself stays out of the message: it is a secret. */
		item_error(ld, "%s: expected 64 hex digits (%u bytes), found %zu characters",
		           ld->key, PC_KEY_BYTES, scalar_len(ld));
		memset(out, 0, PC_KEY_BYTES);
	}
	return ok;
}

/* ---- references ---- */

static uint32_t lookup(struct loader *ld, enum section s, const char *text, size_t len)
{
	return pc_model_lookup(ld->maps[s], text, len);
}

/* A name declared in section s; PC_NONE after reporting. */
static uint32_t get_ref(struct loader *ld, enum section s)
{
	if (!want_scalar(ld, "a name"))
		return PC_NONE;
	uint32_t index = lookup(ld, s, scalar(ld), scalar_len(ld));
	if (index == PC_NONE)
		item_error(ld, "unknown %s %s", item_kinds[s],
		           quote_n(ld, scalar(ld), scalar_len(ld)));
	return index;
}

static uint32_t get_as_ref(struct loader *ld)
{
	uint64_t asn;
	if (!get_uint(ld, 0, UINT32_MAX, &asn))
		return PC_NONE;
	char key[16];
	int n = snprintf(key, sizeof(key), "%u", (unsigned)asn);
	uint32_t index = lookup(ld, S_ASES, key, (size_t)n);
	if (index == PC_NONE)
		item_error(ld, "unknown AS %u (every AS must be declared under ases)",
		           (unsigned)asn);
	return index;
}

/* A list of names of section s as an index list; each at most once. */
static uint32_t get_ref_list(struct loader *ld, enum section s, bool nonempty,
                             struct pc_index_list *out, uint32_t *marks)
{
	if (!begin_list(ld))
		return 0;
	yaml_mark_t start = ld->ev.start_mark;
	uint32_t stamp = ++ld->stamp, count = 0;
	ld->scratch_idx.n = 0;
	while (next_item(ld, &count, MAX_LIST_ITEMS)) {
		uint32_t index = get_ref(ld, s);
		if (index == PC_NONE)
			continue;
		if (marks[index] == stamp) {
			item_error(ld, "%s: %s %s is listed twice", ld->key, item_kinds[s],
			           quote(ld, scalar(ld)));
			continue;
		}
		marks[index] = stamp;
		uint32_t *slot = vec_push(ld, &ld->scratch_idx, sizeof(uint32_t));
		if (slot != NULL)
			*slot = index;
	}
	if (nonempty && count == 0 && !ld->stop)
		error_at(ld, &start, "%s: %s: the list is empty", ld->label, ld->key);
	out->count = (uint32_t)ld->scratch_idx.n;
	out->items = arena_copy(ld, ld->scratch_idx.data, ld->scratch_idx.n * sizeof(uint32_t));
	return count;
}

/* A list of names of services or tiers as a bit mask. */
static void get_mask(struct loader *ld, enum section s, bool nonempty, uint64_t *mask)
{
	if (!begin_list(ld))
		return;
	yaml_mark_t start = ld->ev.start_mark;
	uint32_t count = 0;
	*mask = 0;
	while (next_item(ld, &count, MAX_LIST_ITEMS)) {
		uint32_t index = get_ref(ld, s);
		if (index == PC_NONE || index >= 64)
			continue;
		if (*mask >> index & 1)
			item_error(ld, "%s: %s %s is listed twice", ld->key, item_kinds[s],
			           quote(ld, scalar(ld)));
		*mask |= (uint64_t)1 << index;
	}
	if (nonempty && count == 0 && !ld->stop)
		error_at(ld, &start, "%s: %s: the list is empty", ld->label, ld->key);
}

static void get_addr_list(struct loader *ld, bool nonempty, struct pc_addr_list *out)
{
	if (!begin_list(ld))
		return;
	yaml_mark_t start = ld->ev.start_mark;
	uint32_t count = 0;
	ld->scratch_addr.n = 0;
	while (next_item(ld, &count, MAX_LIST_ITEMS)) {
		pc_addr addr;
		if (!get_addr(ld, &addr))
			continue;
		pc_addr *slot = vec_push(ld, &ld->scratch_addr, sizeof(pc_addr));
		if (slot != NULL)
			*slot = addr;
	}
	if (nonempty && count == 0 && !ld->stop)
		error_at(ld, &start, "%s: %s: the list is empty", ld->label, ld->key);
	out->count = (uint32_t)ld->scratch_addr.n;
	out->items = arena_copy(ld, ld->scratch_addr.data, ld->scratch_addr.n * sizeof(pc_addr));
}

static void claim_host(struct loader *ld, const char *host);

/* claim: the hosts name this provider (origins and directories). */
static void get_host_list(struct loader *ld, const char ***out, uint32_t *n_out, bool claim)
{
	if (!begin_list(ld))
		return;
	uint32_t count = 0;
	ld->scratch_str.n = 0;
	while (next_item(ld, &count, MAX_LIST_ITEMS)) {
		const char *host = get_hostname(ld);
		if (host == NULL)
			continue;
		if (claim)
			claim_host(ld, host);
		const char **slot = vec_push(ld, &ld->scratch_str, sizeof(char *));
		if (slot != NULL)
			*slot = host;
	}
	*n_out = (uint32_t)ld->scratch_str.n;
	*out = arena_copy(ld, ld->scratch_str.data, ld->scratch_str.n * sizeof(char *));
}

/* Pass 2 reads an item's name again: check it and find duplicates. */
static void check_name(struct loader *ld, enum text_rule rule)
{
	if (!want_scalar(ld, "a name"))
		return;
	if (!text_ok(scalar(ld), scalar_len(ld), rule)) {
		get_text(ld, rule); /* reports why */
		return;
	}
	uint32_t first = lookup(ld, ld->section, scalar(ld), scalar_len(ld));
	if (first != PC_NONE && first != ld->item) {
		const struct decl *decls = ld->decls[ld->section].data;
		item_error(ld, "duplicate %s name %s (first at line %u)", item_kinds[ld->section],
		           quote_n(ld, scalar(ld), scalar_len(ld)), decls[first].line);
	}
}

/* ---- sections ---- */

static const char *const dns_modes[] = {"server", "redirector", "anycast"};

static void tier_item(struct loader *ld)
{
	if (ld->item >= PC_MAX_TIERS) {
		item_error(ld, "more than %u tiers", PC_MAX_TIERS);
		skip_node(ld);
		return;
	}
	check_name(ld, TEXT_NAME);
}

static const char *const service_keys[] = {"name", "schemes", "dns_ttl", "dns_mode"};
static const struct keyset service_keyset = KEYSET(service_keys, 1);

static void service_field(struct loader *ld, unsigned key)
{
	static const char *const schemes[] = {"http", "https", "rtsp"};
	struct pc_service *service = &ld->model->services[ld->item];
	switch (key) {
	case 0:
		check_name(ld, TEXT_LABEL);
		break;
	case 1: {
		if (!begin_list(ld))
			return;
		uint32_t count = 0;
		while (next_item(ld, &count, MAX_LIST_ITEMS)) {
			int scheme = get_enum(ld, schemes, 3);
			if (scheme < 0)
				continue;
			uint32_t other = ld->scheme_service[scheme];
			if (other != PC_NONE && other != ld->item)
				item_error(ld, "scheme %s already implies service %s",
				           schemes[scheme],
				           quote(ld, ld->model->services[other].name));
			ld->scheme_service[scheme] = ld->item;
			service->scheme_mask |= 1u << scheme;
		}
		break;
	}
	case 2:
		get_u32(ld, 0, MAX_TTL, &service->dns_ttl);
		break;
	case 3: {
		int mode = get_enum(ld, dns_modes, 3);
		if (mode >= 0)
			service->dns_mode = (uint8_t)mode;
		break;
	}
	}
}

static const char *const grade_keys[] = {"name", "tiers", "max_path_cost"};
static const struct keyset grade_keyset = KEYSET(grade_keys, 3);

static void grade_field(struct loader *ld, unsigned key)
{
	struct pc_grade *grade = &ld->model->grades[ld->item];
	uint64_t mask = 0;
	switch (key) {
	case 0:
		check_name(ld, TEXT_NAME);
		break;
	case 1:
		get_mask(ld, S_TIERS, true, &mask);
		grade->tier_mask = (uint32_t)mask;
		break;
	case 2:
		get_u32(ld, 0, PC_COST_INFINITE - 1, &grade->max_path_cost);
		break;
	}
}

static const char *const as_keys[] = {"asn", "name"};
static const struct keyset as_keyset = KEYSET(as_keys, 1);

static void as_field(struct loader *ld, unsigned key)
{
	struct pc_as *as = &ld->model->ases[ld->item];
	uint64_t asn;
	if (key == 1) {
		as->name = get_text(ld, TEXT_FREE);
		return;
	}
	/* ASN 0 and 4294967295 are reserved (RFC 7607, RFC 7300). */
	if (!get_uint(ld, 1, UINT32_MAX - 1, &asn))
		return;
	uint32_t first = get_as_ref(ld);
	if (first != PC_NONE && first != ld->item) {
		const struct decl *decls = ld->decls[S_ASES].data;
		item_error(ld, "AS %u is declared twice (first at line %u)", (unsigned)asn,
		           decls[first].line);
	}
}

static const char *const link_keys[] = {"a", "b", "cost"};
static const struct keyset link_keyset = KEYSET(link_keys, 7);

static void link_field(struct loader *ld, unsigned key)
{
	struct pc_link *link = &ld->model->links[ld->item];
	switch (key) {
	case 0:
		link->as_a = get_as_ref(ld);
		break;
	case 1:
		link->as_b = get_as_ref(ld);
		break;
	case 2:
		get_u32(ld, 0, MAX_COST, &link->cost);
		break;
	}
}

static bool link_eq(const struct loader *ld, uint32_t a, uint32_t b)
{
	const struct pc_link *x = &ld->model->links[a], *y = &ld->model->links[b];
	return (x->as_a == y->as_a && x->as_b == y->as_b) ||
	       (x->as_a == y->as_b && x->as_b == y->as_a);
}

static void link_done(struct loader *ld, const yaml_mark_t *start)
{
	struct pc_link *link = &ld->model->links[ld->item];
	if (link->as_a == PC_NONE || link->as_b == PC_NONE)
		return;
	uint32_t asn_a = ld->model->ases[link->as_a].asn, asn_b = ld->model->ases[link->as_b].asn;
	if (link->as_a == link->as_b) {
		error_at(ld, start, "link from AS %u to itself", asn_a);
		return;
	}
	uint32_t lo = link->as_a < link->as_b ? link->as_a : link->as_b;
	uint32_t hi = link->as_a ^ link->as_b ^ lo;
	uint32_t pair[2] = {lo, hi};
	uint32_t first = itable_add(ld, &ld->link_set, fnv(pair, sizeof(pair)), ld->item, link_eq);
	if (first != PC_NONE) {
		const struct decl *decls = ld->decls[S_LINKS].data;
		error_at(ld, start, "duplicate link between AS %u and AS %u (first at line %u)",
		         asn_a, asn_b, decls[first].line);
	}
}

static const char *const anycast_keys[] = {"dns", "cdsr", "http", "rtsp"};
static const struct keyset anycast_keyset = KEYSET(anycast_keys, 0);

static void anycast_field(struct loader *ld, unsigned key)
{
	get_addr_list(ld, false, &ld->model->cdns[ld->item].anycast[key]);
}

/* Backbone or affiliate ASes of CDN ld->item; an AS may appear once per
 * CDN. Being both a backbone and an affiliate of one CDN is the patent's
 * loop of affiliations: the AS would advertise the anycast addresses to
 * the world and keep them to itself at once. */
static void cdn_as_list(struct loader *ld, uint8_t role, struct pc_index_list *out)
{
	const struct pc_cdn *cdn = &ld->model->cdns[ld->item];
	if (!begin_list(ld))
		return;
	yaml_mark_t start = ld->ev.start_mark;
	uint32_t count = 0;
	ld->scratch_idx.n = 0;
	while (next_item(ld, &count, MAX_LIST_ITEMS)) {
		uint32_t as = get_as_ref(ld);
		if (as == PC_NONE)
			continue;
		uint32_t asn = ld->model->ases[as].asn;
		if (ld->as_mark[as] == ld->item) {
			if (ld->as_role[as] & role)
				item_error(ld, "AS %u is listed twice in CDN %s", asn,
				           quote(ld, cdn->name));
			else
				item_error(ld, "AS %u is both backbone and affiliate of CDN %s",
				           asn, quote(ld, cdn->name));
			ld->as_role[as] |= role;
			continue;
		}
		ld->as_mark[as] = ld->item;
		ld->as_role[as] = role;
		uint32_t *slot = vec_push(ld, &ld->scratch_idx, sizeof(uint32_t));
		if (slot != NULL)
			*slot = as;
	}
	if (role == 1 && count == 0 && !ld->stop)
		error_at(ld, &start, "%s: %s: the list is empty", ld->label, ld->key);
	out->count = (uint32_t)ld->scratch_idx.n;
	out->items = arena_copy(ld, ld->scratch_idx.data, ld->scratch_idx.n * sizeof(uint32_t));
}

static const char *const cdn_dns_keys[] = {"mode", "redirectors", "ns"};
static const struct keyset cdn_dns_keyset = KEYSET(cdn_dns_keys, 0);

static void cdn_dns_field(struct loader *ld, unsigned key)
{
	struct pc_cdn *cdn = &ld->model->cdns[ld->item];
	switch (key) {
	case 0: {
		int mode = get_enum(ld, dns_modes, 3);
		if (mode >= 0)
			cdn->dns_mode = (uint8_t)mode;
		break;
	}
	case 1:
		get_addr_list(ld, false, &cdn->redirectors);
		break;
	case 2:
		get_host_list(ld, &cdn->ns_names, &cdn->n_ns_names, false);
		break;
	}
}

/* Walks a nested mapping with " sub" appended to the item's label. */
static void walk_nested(struct loader *ld, const char *sub, const struct keyset *ks, field_fn field)
{
	char label[sizeof(ld->label)];
	memcpy(label, ld->label, sizeof(label));
	snprintf(ld->label, sizeof(ld->label), "%.100s %s", label, sub);
	walk_map(ld, ks, field, NULL);
	memcpy(ld->label, label, sizeof(label));
}

static const char *const cdn_keys[] = {"name",    "domain",  "backbone", "affiliates",
                                       "dns_ttl", "anycast", "dns"};
static const struct keyset cdn_keyset = KEYSET(cdn_keys, 7);

static void cdn_field(struct loader *ld, unsigned key)
{
	struct pc_cdn *cdn = &ld->model->cdns[ld->item];
	switch (key) {
	case 0:
		check_name(ld, TEXT_NAME);
		break;
	case 1:
		cdn->domain = get_hostname(ld);
		if (cdn->domain != NULL) {
			size_t len = strlen(cdn->domain);
			uint32_t first;
			if (pc_strmap_get(ld->domains, cdn->domain, len, &first))
				item_error(ld, "domain %s is also the domain of CDN %s",
				           quote(ld, cdn->domain),
				           quote(ld, ld->model->cdns[first].name));
			else
				pc_strmap_put(ld->domains, cdn->domain, len, ld->item);
		}
		break;
	case 2:
		cdn_as_list(ld, 1, &cdn->backbone_as);
		break;
	case 3:
		cdn_as_list(ld, 2, &cdn->affiliate_as);
		break;
	case 4:
		get_u32(ld, 0, MAX_TTL, &cdn->dns_ttl);
		break;
	case 5:
		walk_nested(ld, "anycast", &anycast_keyset, anycast_field);
		break;
	case 6:
		walk_nested(ld, "dns", &cdn_dns_keyset, cdn_dns_field);
		break;
	}
}

static void cdn_done(struct loader *ld, const yaml_mark_t *start)
{
	const struct pc_cdn *cdn = &ld->model->cdns[ld->item];
	if (cdn->dns_mode == PC_DNS_MODE_REDIRECTOR && cdn->redirectors.count == 0)
		error_at(ld, start, "%s: dns mode redirector needs a redirectors list", ld->label);
}

static const char *const client_keys[] = {"prefix", "as", "location"};
static const struct keyset client_keyset = KEYSET(client_keys, 3);

static bool host_bits_set(const uint8_t *bytes, unsigned bits, unsigned len)
{
	for (unsigned bit = len; bit < bits; bit++)
		if (bytes[bit / 8] >> (7 - bit % 8) & 1)
			return true;
	return false;
}

static bool client_eq(const struct loader *ld, uint32_t a, uint32_t b)
{
	const struct pc_client_net *x = &ld->model->client_nets[a], *y = &ld->model->client_nets[b];
	return x->prefix_len == y->prefix_len && pc_addr_equal(&x->prefix, &y->prefix);
}

static void client_field(struct loader *ld, unsigned key)
{
	struct pc_client_net *net = &ld->model->client_nets[ld->item];
	switch (key) {
	case 0: {
		if (!want_scalar(ld, "a prefix"))
			return;
		const char *text = scalar(ld);
		size_t len = scalar_len(ld);
		int family;
		unsigned plen;
		uint8_t bytes[16] = {0};
		if (pc_prefix_parse(text, len, &family, bytes, &plen) != PC_OK ||
		    (family != PC_AF_INET && family != PC_AF_INET6)) {
			item_error(ld, "%s is not an address prefix", quote_n(ld, text, len));
			return;
		}
		if (host_bits_set(bytes, family == PC_AF_INET ? 32 : 128, plen)) {
			error_at(ld, &ld->ev.start_mark, "client prefix %.*s has host bits set",
			         (int)(len < 64 ? len : 64), text);
			return;
		}
		net->prefix.family = (uint8_t)family;
		memcpy(net->prefix.bytes, bytes, sizeof(bytes));
		net->prefix_len = (uint8_t)plen;
		uint32_t first =
		    itable_add(ld, &ld->client_set, fnv(&net->prefix, sizeof(net->prefix)) ^ plen,
		               ld->item, client_eq);
		if (first != PC_NONE) {
			const struct decl *decls = ld->decls[S_CLIENTS].data;
			error_at(ld, &ld->ev.start_mark,
			         "duplicate client prefix %.*s (first at line %u)",
			         (int)(len < 64 ? len : 64), text, decls[first].line);
		}
		break;
	}
	case 1:
		net->as = get_as_ref(ld);
		break;
	case 2:
		net->location = get_text(ld, TEXT_FREE);
		break;
	}
}

static bool host_eq(const struct loader *ld, uint32_t a, uint32_t b)
{
	const struct host_owner *hosts = ld->hosts.data;
	return strcmp(hosts[a].host, hosts[b].host) == 0;
}

/* An origin or directory host names exactly one provider: a URL's path
 * must lead to one customer. */
static void claim_host(struct loader *ld, const char *host)
{
	struct host_owner *owner = vec_push(ld, &ld->hosts, sizeof(*owner));
	if (owner == NULL)
		return;
	*owner = (struct host_owner){host, ld->item, (uint32_t)ld->ev.start_mark.line + 1};
	uint32_t first = itable_add(ld, &ld->host_set, fnv(host, strlen(host)),
	                            (uint32_t)(ld->hosts.n - 1), host_eq);
	if (first == PC_NONE)
		return;
	const struct host_owner *other = &((struct host_owner *)ld->hosts.data)[first];
	if (other->provider == ld->item)
		item_error(ld, "%s: host %s is listed twice", ld->key, quote(ld, host));
	else
		item_error(ld, "%s: host %s already belongs to provider %s (line %u)", ld->key,
		           quote(ld, host), quote(ld, ld->model->providers[other->provider].name),
		           other->line);
}

static const char *const provider_keys[] = {
    "name",     "primary",     "grade",   "require_signature",
    "sign_key", "encrypt_key", "origins", "directories"};
static const struct keyset provider_keyset = KEYSET(provider_keys, 7);

static void provider_field(struct loader *ld, unsigned key)
{
	struct pc_provider *provider = &ld->model->providers[ld->item];
	switch (key) {
	case 0:
		check_name(ld, TEXT_LABEL);
		break;
	case 1:
		get_ref_list(ld, S_CDNS, true, &provider->primary_cdns, ld->cdn_mark);
		break;
	case 2:
		provider->grade = get_ref(ld, S_GRADES);
		break;
	case 3:
		get_bool(ld, &provider->require_signature);
		break;
	case 4:
		provider->has_sign_key = get_key(ld, provider->sign_key);
		break;
	case 5:
		provider->has_enc_key = get_key(ld, provider->enc_key);
		break;
	case 6:
		get_host_list(ld, &provider->origin_hosts, &provider->n_origin_hosts, true);
		break;
	case 7:
		get_host_list(ld, &provider->directory_hosts, &provider->n_directory_hosts, true);
		break;
	}
}

static void provider_done(struct loader *ld, const yaml_mark_t *start, uint64_t seen)
{
	const struct pc_provider *provider = &ld->model->providers[ld->item];
	if (provider->require_signature && !(seen >> 4 & 1))
		error_at(ld, start, "%s: require_signature needs a sign_key", ld->label);
}

static const char *const agreement_keys[] = {"name", "between", "services", "capacity_rps",
                                             "report_usage"};
static const struct keyset agreement_keyset = KEYSET(agreement_keys, 7);

static void agreement_field(struct loader *ld, unsigned key)
{
	struct pc_agreement *agreement = &ld->model->agreements[ld->item];
	switch (key) {
	case 0:
		check_name(ld, TEXT_NAME);
		break;
	case 1: {
		struct pc_index_list pair = {0};
		yaml_mark_t start = ld->ev.start_mark;
		bool is_list = ld->ev.type == YAML_SEQUENCE_START_EVENT;
		uint32_t listed = get_ref_list(ld, S_CDNS, false, &pair, ld->cdn_mark);
		if (pair.count == 2) {
			agreement->cdn_a = pair.items[0];
			agreement->cdn_b = pair.items[1];
		} else if (is_list && listed != 2 && !ld->stop) {
			error_at(ld, &start, "%s: between: expected two CDNs, found %u", ld->label,
			         listed);
		}
		break;
	}
	case 2:
		get_mask(ld, S_SERVICES, true, &agreement->service_mask);
		break;
	case 3:
		get_u32(ld, 0, UINT32_MAX, &agreement->capacity_rps);
		break;
	case 4:
		get_bool(ld, &agreement->report_usage);
		break;
	}
}

static bool coverage_eq(const struct loader *ld, uint32_t a, uint32_t b)
{
	const struct coverage *x = &((const struct coverage *)ld->coverages.data)[a];
	const struct coverage *y = &((const struct coverage *)ld->coverages.data)[b];
	return x->cdn_lo == y->cdn_lo && x->cdn_hi == y->cdn_hi && x->service == y->service;
}

/* One agreement per pair of CDNs and service: the decision counts a PEER
 * answer against exactly one. */
static void agreement_done(struct loader *ld, const yaml_mark_t *start)
{
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
		struct coverage *slot = vec_push(ld, &ld->coverages, sizeof(cover));
		if (slot == NULL)
			return;
		*slot = cover;
		uint32_t first = itable_add(ld, &ld->coverage_set, fnv(&cover, 12),
		                            (uint32_t)ld->coverages.n - 1, coverage_eq);
		if (first != PC_NONE) {
			uint32_t other = ((struct coverage *)ld->coverages.data)[first].agreement;
			error_at(ld, start,
			         "%s: agreement %s already covers service %s between %s and %s",
			         ld->label, quote(ld, ld->model->agreements[other].name),
			         quote(ld, ld->model->services[s].name),
			         quote(ld, ld->model->cdns[cover.cdn_lo].name),
			         quote(ld, ld->model->cdns[cover.cdn_hi].name));
		}
	}
}

static const char *const port_keys[] = {"http", "rtsp"};
static const struct keyset port_keyset = KEYSET(port_keys, 0);

static void port_field(struct loader *ld, unsigned key)
{
	struct pc_server *server = &ld->model->servers[ld->item];
	get_u16(ld, 0, UINT16_MAX, key == 0 ? &server->http_port : &server->rtsp_port);
}

static const char *const server_keys[] = {"name",     "cdn",      "as",    "addresses", "tier",
                                          "services", "capacity", "ports", "location"};
/* cdn is required too, with its own message (read_items). */
static const struct keyset server_keyset = KEYSET(server_keys, 0x7d);

static void server_field(struct loader *ld, unsigned key)
{
	struct pc_server *server = &ld->model->servers[ld->item];
	switch (key) {
	case 0:
		check_name(ld, TEXT_NAME);
		break;
	case 1:
		server->cdn = get_ref(ld, S_CDNS);
		break;
	case 2:
		server->as = get_as_ref(ld);
		break;
	case 3:
		get_addr_list(ld, true, &server->addresses);
		break;
	case 4:
		server->tier = get_ref(ld, S_TIERS);
		break;
	case 5:
		get_mask(ld, S_SERVICES, true, &server->service_mask);
		break;
	case 6:
		get_u32(ld, 1, UINT32_MAX, &server->capacity);
		break;
	case 7:
		walk_map(ld, &port_keyset, port_field, NULL);
		break;
	case 8:
		server->location = get_text(ld, TEXT_FREE);
		break;
	}
}

static const char *const node_keys[] = {"name", "as", "cdns", "addresses"};
static const struct keyset node_keyset = KEYSET(node_keys, 7);

static void node_field(struct loader *ld, unsigned key)
{
	struct pc_node *node = &ld->model->nodes[ld->item];
	switch (key) {
	case 0:
		check_name(ld, TEXT_NAME);
		break;
	case 1:
		node->as = get_as_ref(ld);
		break;
	case 2:
		get_ref_list(ld, S_CDNS, true, &node->cdns, ld->cdn_mark);
		break;
	case 3:
		get_addr_list(ld, false, &node->addresses);
		break;
	}
}

static const char *const policy_keys[] = {"load_weight", "affinity_band", "high_watermark",
                                          "spill_max_cost", "default_service"};
static const struct keyset policy_keyset = KEYSET(policy_keys, 0);

static void policy_field(struct loader *ld, unsigned key)
{
	struct pc_policy_params *params = &ld->model->params;
	switch (key) {
	case 0:
		get_u32(ld, 0, MAX_COST, &params->load_weight);
		break;
	case 1:
		get_u32(ld, 0, MAX_COST, &params->affinity_band);
		break;
	case 2:
		get_u32(ld, 1, 100, &params->high_watermark_pct);
		break;
	case 3:
		get_u32(ld, 0, MAX_COST, &params->spill_max_cost);
		break;
	case 4:
		ld->model->default_service = get_ref(ld, S_SERVICES);
		break;
	}
}

static const char *const reporting_keys[] = {"ipv4_prefix", "ipv6_prefix"};
static const struct keyset reporting_keyset = KEYSET(reporting_keys, 0);

static void reporting_field(struct loader *ld, unsigned key)
{
	if (key == 0)
		get_u8(ld, 0, 32, &ld->model->params.report_prefix4);
	else
		get_u8(ld, 0, 128, &ld->model->params.report_prefix6);
}

static const char *const rrl_keys[] = {"rate", "slip", "ipv4_prefix", "ipv6_prefix"};
static const struct keyset rrl_keyset = KEYSET(rrl_keys, 0);

static void rrl_field(struct loader *ld, unsigned key)
{
	struct pc_dns_params *dns = &ld->model->dns;
	switch (key) {
	case 0:
		get_u32(ld, 0, 10000000, &dns->rrl_rate);
		break;
	case 1:
		get_u32(ld, 0, 10, &dns->rrl_slip);
		break;
	case 2:
		get_u8(ld, 0, 32, &dns->rrl_prefix4);
		break;
	case 3:
		get_u8(ld, 0, 128, &dns->rrl_prefix6);
		break;
	}
}

static const char *const dns_keys[] = {"enabled",
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
                                       "negative_ttl"};
static const struct keyset dns_keyset = KEYSET(dns_keys, 0);

static void dns_field(struct loader *ld, unsigned key)
{
	static const char *const failures[] = {"refuse", "decoy"};
	struct pc_dns_params *dns = &ld->model->dns;
	switch (key) {
	case 0:
		get_bool(ld, &dns->enabled);
		break;
	case 1:
		get_addr_list(ld, false, &dns->listen);
		break;
	case 2:
		get_u16(ld, 1, UINT16_MAX, &dns->port);
		break;
	case 3:
		get_u32(ld, 0, 1024, &dns->workers);
		break;
	case 4:
		get_u16(ld, 512, UINT16_MAX, &dns->edns_payload);
		break;
	case 5:
		get_u32(ld, 1, PC_MAX_ANSWERS, &dns->max_answers);
		break;
	case 6:
		get_u32(ld, 1, 3600000, &dns->tcp_idle_ms);
		break;
	case 7:
		get_u32(ld, 1, 1000000, &dns->tcp_max_clients);
		break;
	case 8:
		get_u32(ld, 1, 1000000, &dns->tcp_max_per_source);
		break;
	case 9: {
		int failure = get_enum(ld, failures, 2);
		if (failure >= 0)
			dns->sig_failure = (uint8_t)failure;
		break;
	}
	case 10: {
		struct pc_addr_list decoys = {0};
		get_addr_list(ld, true, &decoys);
		for (uint32_t i = 0; i < decoys.count; i++) {
			pc_addr *slot =
			    decoys.items[i].family == PC_AF_INET ? &dns->decoy4 : &dns->decoy6;
			uint8_t bit = decoys.items[i].family == PC_AF_INET ? 1 : 2;
			if (ld->decoy_families & bit)
				item_error(ld, "decoy: more than one address of one family");
			ld->decoy_families |= bit;
			*slot = decoys.items[i];
		}
		break;
	}
	case 11: {
		walk_nested(ld, "rrl", &rrl_keyset, rrl_field);
		break;
	}
	case 12:
		dns->hostmaster = get_hostname(ld);
		break;
	case 13:
		get_u32(ld, 0, UINT32_MAX, &dns->soa_serial);
		break;
	case 14:
		get_u32(ld, 0, MAX_TTL, &dns->soa_minimum);
		break;
	}
}

static const char *const stream_keys[] = {
    "enabled",           "listen",           "port",           "status",
    "header_timeout_ms", "idle_timeout_ms",  "max_clients",    "max_per_source",
    "max_header_bytes",  "max_target_bytes", "max_body_bytes", "balancers"};
static const struct keyset stream_keyset = KEYSET(stream_keys, 0);

static void stream_field(struct loader *ld, unsigned key)
{
	struct pc_stream_params *stream = ld->stream;
	switch (key) {
	case 0:
		get_bool(ld, &stream->enabled);
		break;
	case 1:
		get_addr_list(ld, false, &stream->listen);
		break;
	case 2:
		get_u16(ld, 1, UINT16_MAX, &stream->port);
		break;
	case 3:
		get_u16(ld, 301, 308, &stream->redirect_status);
		if (stream->redirect_status != 302 && stream->redirect_status != 307)
			item_error(ld, "status: 302 or 307");
		break;
	case 4:
		get_u32(ld, 100, 3600000, &stream->header_timeout_ms);
		break;
	case 5:
		get_u32(ld, 100, 3600000, &stream->idle_timeout_ms);
		break;
	case 6:
		get_u32(ld, 1, 1000000, &stream->max_clients);
		break;
	case 7:
		get_u32(ld, 1, 1000000, &stream->max_per_source);
		break;
	case 8:
		get_u32(ld, 256, 1048576, &stream->max_header_bytes);
		break;
	case 9:
		get_u32(ld, 64, 65536, &stream->max_target_bytes);
		break;
	case 10:
		get_u32(ld, 0, UINT32_MAX, &stream->max_body_bytes);
		break;
	case 11:
		get_addr_list(ld, false, &stream->balancers);
		break;
	}
}

static const char *const cdsr_keys[] = {"enabled", "listen",      "port",
                                        "rate",    "ipv4_prefix", "ipv6_prefix"};
static const struct keyset cdsr_keyset = KEYSET(cdsr_keys, 0);

static void cdsr_field(struct loader *ld, unsigned key)
{
	struct pc_cdsr_params *cdsr = &ld->model->cdsr;
	switch (key) {
	case 0:
		get_bool(ld, &cdsr->enabled);
		break;
	case 1:
		get_addr_list(ld, false, &cdsr->listen);
		break;
	case 2:
		get_u16(ld, 1, UINT16_MAX, &cdsr->port);
		break;
	case 3:
		get_u32(ld, 0, 10000000, &cdsr->rate);
		break;
	case 4:
		get_u8(ld, 0, 32, &cdsr->prefix4);
		break;
	case 5:
		get_u8(ld, 0, 128, &cdsr->prefix6);
		break;
	}
}

static const char *const control_keys[] = {"metrics_listen", "metrics_port"};
static const struct keyset control_keyset = KEYSET(control_keys, 0);

static void control_field(struct loader *ld, unsigned key)
{
	struct pc_control_params *control = &ld->model->control;
	if (key == 0) {
		get_addr(ld, &control->metrics_address);
	} else {
		get_u16(ld, 1, UINT16_MAX, &control->metrics_port);
		control->metrics_enabled = control->metrics_port != 0;
	}
}

/* ---- the two passes ---- */

/* Pass 1: the items of one list section, their names and lines. */
static void declare_items(struct loader *ld, enum section s)
{
	static const char *const name_key[S__COUNT] = {
	    [S_ASES] = "asn",       [S_LINKS] = NULL,        [S_CLIENTS] = NULL,
	    [S_SERVICES] = "name",  [S_GRADES] = "name",     [S_CDNS] = "name",
	    [S_PROVIDERS] = "name", [S_AGREEMENTS] = "name", [S_SERVERS] = "name",
	    [S_NODES] = "name"};
	if (ld->ev.type != YAML_SEQUENCE_START_EVENT) {
		skip_node(ld);
		return;
	}
	struct vec *decls = &ld->decls[s];
	while (advance(ld) && ld->ev.type != YAML_SEQUENCE_END_EVENT) {
		if (decls->n == MAX_SECTION_ITEMS) {
			fatal_at(ld, &ld->ev.start_mark, "more than %u %s", MAX_SECTION_ITEMS,
			         section_names[s]);
			return;
		}
		struct decl decl = {NULL, (uint32_t)ld->ev.start_mark.line + 1};
		if (s == S_TIERS && ld->ev.type == YAML_SCALAR_EVENT) {
			decl.name = arena_strndup(ld, scalar(ld), scalar_len(ld));
		} else if (name_key[s] != NULL && ld->ev.type == YAML_MAPPING_START_EVENT) {
			while (advance(ld) && ld->ev.type != YAML_MAPPING_END_EVENT) {
				bool is_name = scalar_is(ld, name_key[s]);
				skip_node(ld);
				if (!advance(ld))
					return;
				if (is_name && decl.name == NULL &&
				    ld->ev.type == YAML_SCALAR_EVENT) {
					uint64_t asn;
					char key[16];
					if (s != S_ASES)
						decl.name =
						    arena_strndup(ld, scalar(ld), scalar_len(ld));
					else if (parse_u64(scalar(ld), scalar_len(ld), &asn) &&
					         asn <= UINT32_MAX)
						decl.name = arena_strndup(
						    ld, key,
						    (size_t)snprintf(key, sizeof(key), "%u",
						                     (unsigned)asn));
				}
				skip_node(ld);
			}
		} else {
			skip_node(ld);
		}
		struct decl *slot = vec_push(ld, decls, sizeof(decl));
		if (slot != NULL)
			*slot = decl;
	}
}

static void *alloc_array(struct loader *ld, size_t n, size_t size)
{
	return n == 0 ? NULL : arena_alloc(ld, n * size);
}

/* After pass 1: the model's arrays, sized, with their names; name maps. */
static void size_model(struct loader *ld)
{
	pc_model *m = ld->model;
	size_t n[S__COUNT];
	for (int s = 0; s < S__COUNT; s++)
		n[s] = ld->decls[s].n;
	m->tiers = alloc_array(ld, n[S_TIERS], sizeof(*m->tiers));
	m->services = alloc_array(ld, n[S_SERVICES], sizeof(*m->services));
	m->grades = alloc_array(ld, n[S_GRADES], sizeof(*m->grades));
	m->ases = alloc_array(ld, n[S_ASES], sizeof(*m->ases));
	m->links = alloc_array(ld, n[S_LINKS], sizeof(*m->links));
	m->cdns = alloc_array(ld, n[S_CDNS], sizeof(*m->cdns));
	m->client_nets = alloc_array(ld, n[S_CLIENTS], sizeof(*m->client_nets));
	m->providers = alloc_array(ld, n[S_PROVIDERS], sizeof(*m->providers));
	m->agreements = alloc_array(ld, n[S_AGREEMENTS], sizeof(*m->agreements));
	m->servers = alloc_array(ld, n[S_SERVERS], sizeof(*m->servers));
	m->nodes = alloc_array(ld, n[S_NODES], sizeof(*m->nodes));
	ld->as_mark = malloc((n[S_ASES] ? n[S_ASES] : 1) * sizeof(uint32_t));
	ld->as_role = calloc(n[S_ASES] ? n[S_ASES] : 1, 1);
	ld->cdn_mark = calloc(n[S_CDNS] ? n[S_CDNS] : 1, sizeof(uint32_t));
	ld->domains = pc_strmap_new(m->arena, n[S_CDNS]);
	if (ld->as_mark == NULL || ld->as_role == NULL || ld->cdn_mark == NULL ||
	    ld->domains == NULL)
		ld->oom = ld->stop = true;
	if (ld->stop)
		return;
	memset(ld->as_mark, 0xff, n[S_ASES] * sizeof(uint32_t));
	m->n_tiers = (uint32_t)n[S_TIERS];
	m->n_services = (uint32_t)n[S_SERVICES];
	m->n_grades = (uint32_t)n[S_GRADES];
	m->n_ases = (uint32_t)n[S_ASES];
	m->n_links = (uint32_t)n[S_LINKS];
	m->n_cdns = (uint32_t)n[S_CDNS];
	m->n_client_nets = (uint32_t)n[S_CLIENTS];
	m->n_providers = (uint32_t)n[S_PROVIDERS];
	m->n_agreements = (uint32_t)n[S_AGREEMENTS];
	m->n_servers = (uint32_t)n[S_SERVERS];
	m->n_nodes = (uint32_t)n[S_NODES];

	for (int s = 0; s < S__COUNT; s++) {
		const struct decl *decls = ld->decls[s].data;
		if (s == S_LINKS || s == S_CLIENTS)
			continue;
		ld->maps[s] = pc_strmap_new(m->arena, n[s]);
		if (ld->maps[s] == NULL) {
			ld->oom = ld->stop = true;
			return;
		}
		for (size_t i = 0; i < n[s]; i++) {
			const char *name = decls[i].name;
			switch (s) {
			case S_TIERS:
				m->tiers[i] = name;
				break;
			case S_SERVICES:
				m->services[i].name = name;
				m->services[i].dns_ttl = PC_NONE;
				m->services[i].dns_mode = PC_DNS_MODE_INHERIT;
				break;
			case S_GRADES:
				m->grades[i].name = name;
				m->grades[i].max_path_cost = PC_COST_INFINITE;
				break;
			case S_ASES:
				m->ases[i].asn =
				    name != NULL ? (uint32_t)strtoul(name, NULL, 10) : 0;
				m->ases[i].server_as = PC_NONE;
				break;
			case S_CDNS:
				m->cdns[i].name = name;
				break;
			case S_PROVIDERS:
				m->providers[i].name = name;
				m->providers[i].grade = PC_NONE;
				break;
			case S_AGREEMENTS:
				m->agreements[i].name = name;
				m->agreements[i].cdn_a = m->agreements[i].cdn_b = PC_NONE;
				m->agreements[i].report_usage = true;
				break;
			case S_SERVERS:
				m->servers[i].name = name;
				m->servers[i].cdn = m->servers[i].as = m->servers[i].tier = PC_NONE;
				break;
			case S_NODES:
				m->nodes[i].name = name;
				m->nodes[i].as = PC_NONE;
				break;
			default:
				break;
			}
			/* A duplicate keeps the first; pass 2 reports it. */
			if (name != NULL)
				pc_strmap_put(ld->maps[s], name, strlen(name), (uint32_t)i);
		}
	}
	for (size_t i = 0; i < n[S_LINKS]; i++)
		m->links[i].as_a = m->links[i].as_b = PC_NONE;
	for (size_t i = 0; i < n[S_CLIENTS]; i++)
		m->client_nets[i].as = PC_NONE;
}

static const struct keyset *const item_keysets[S__COUNT] = {
    [S_SERVICES] = &service_keyset,
    [S_GRADES] = &grade_keyset,
    [S_ASES] = &as_keyset,
    [S_LINKS] = &link_keyset,
    [S_CDNS] = &cdn_keyset,
    [S_CLIENTS] = &client_keyset,
    [S_PROVIDERS] = &provider_keyset,
    [S_AGREEMENTS] = &agreement_keyset,
    [S_SERVERS] = &server_keyset,
    [S_NODES] = &node_keyset,
};
static const field_fn item_fields[S__COUNT] = {
    [S_SERVICES] = service_field,
    [S_GRADES] = grade_field,
    [S_ASES] = as_field,
    [S_LINKS] = link_field,
    [S_CDNS] = cdn_field,
    [S_CLIENTS] = client_field,
    [S_PROVIDERS] = provider_field,
    [S_AGREEMENTS] = agreement_field,
    [S_SERVERS] = server_field,
    [S_NODES] = node_field,
};

/* Pass 2: one list section; item i fills the model's item i. */
static void read_items(struct loader *ld, enum section s)
{
	ld->section = s;
	snprintf(ld->label, sizeof(ld->label), "%s", section_names[s]);
	if (!begin_list(ld))
		return;
	const struct decl *decls = ld->decls[s].data;
	for (uint32_t i = 0; i < ld->decls[s].n && advance(ld); i++) {
		ld->item = i;
		if (s == S_ASES && decls[i].name != NULL)
			snprintf(ld->label, sizeof(ld->label), "AS %s", decls[i].name);
		else if (decls[i].name != NULL)
			snprintf(ld->label, sizeof(ld->label), "%s %s", item_kinds[s],
			         quote(ld, decls[i].name));
		else
			snprintf(ld->label, sizeof(ld->label), "%s #%u", item_kinds[s], i + 1);
		ld->key = section_names[s];
		if (s == S_TIERS) {
			tier_item(ld);
			continue;
		}
		if (s == S_SERVICES && i >= PC_MAX_SERVICES) {
			item_error(ld, "more than %u services", PC_MAX_SERVICES);
			skip_node(ld);
			continue;
		}
		yaml_mark_t start = ld->ev.start_mark;
		uint64_t seen = 0;
		if (!walk_map(ld, item_keysets[s], item_fields[s], &seen))
			continue;
		if (s == S_SERVERS && !(seen >> 1 & 1))
			error_at(ld, &start, "%s names no CDN", ld->label);
		else if (s == S_LINKS)
			link_done(ld, &start);
		else if (s == S_CDNS)
			cdn_done(ld, &start);
		else if (s == S_PROVIDERS)
			provider_done(ld, &start, seen);
		else if (s == S_AGREEMENTS)
			agreement_done(ld, &start);
	}
	/* Pass 1 counted the same items: the next event ends the list. */
	advance(ld);
}

static const char *const top_keys[] = {"version",  "self",      "policy",     "reporting", "tiers",
                                       "services", "grades",    "ases",       "links",     "cdns",
                                       "clients",  "providers", "agreements", "servers",   "nodes",
                                       "dns",      "control",   "http",       "rtsp",      "cdsr"};
static const struct keyset top_keyset = KEYSET(top_keys, 1);
#define TOP_FIRST_SECTION 4 /* top_keys[4 + s] is section s */

static void top_field_pass1(struct loader *ld, unsigned key)
{
	if (key >= TOP_FIRST_SECTION && key < TOP_FIRST_SECTION + S__COUNT) {
		enum section s = (enum section)(key - TOP_FIRST_SECTION);
		if (!ld->section_seen[s]) {
			ld->section_seen[s] = true;
			declare_items(ld, s);
			return;
		}
	}
	skip_node(ld);
}

static void top_field(struct loader *ld, unsigned key)
{
	const char *section_label = top_keys[key];
	switch (key) {
	case 0: {
		uint64_t version;
		snprintf(ld->label, sizeof(ld->label), "version");
		if (get_uint(ld, 0, UINT32_MAX, &version) && version != 1)
			item_error(ld, "unsupported version %u (this peercdn reads version 1)",
			           (unsigned)version);
		break;
	}
	case 1:
		snprintf(ld->label, sizeof(ld->label), "self");
		ld->model->self_node = get_ref(ld, S_NODES);
		break;
	case 2:
		snprintf(ld->label, sizeof(ld->label), "%s", section_label);
		walk_map(ld, &policy_keyset, policy_field, NULL);
		break;
	case 3:
		snprintf(ld->label, sizeof(ld->label), "%s", section_label);
		walk_map(ld, &reporting_keyset, reporting_field, NULL);
		break;
	case 15: {
		yaml_mark_t start = ld->ev.start_mark;
		snprintf(ld->label, sizeof(ld->label), "%s", section_label);
		if (walk_map(ld, &dns_keyset, dns_field, NULL) &&
		    ld->model->dns.sig_failure == PC_SIG_FAIL_DECOY && ld->decoy_families == 0)
			error_at(ld, &start, "dns: bad_signature decoy needs a decoy address");
		break;
	}
	case 16:
		snprintf(ld->label, sizeof(ld->label), "%s", section_label);
		walk_map(ld, &control_keyset, control_field, NULL);
		break;
	case 17:
	case 18:
		snprintf(ld->label, sizeof(ld->label), "%s", section_label);
		ld->stream = key == 17 ? &ld->model->http : &ld->model->rtsp;
		walk_map(ld, &stream_keyset, stream_field, NULL);
		break;
	case 19:
		snprintf(ld->label, sizeof(ld->label), "%s", section_label);
		walk_map(ld, &cdsr_keyset, cdsr_field, NULL);
		break;
	default:
		read_items(ld, (enum section)(key - TOP_FIRST_SECTION));
		break;
	}
	snprintf(ld->label, sizeof(ld->label), "the top level");
}

/* One pass over the stream: a single document whose root is a mapping. */
static void read_stream(struct loader *ld, field_fn top)
{
	yaml_mark_t start = {0};
	if (!advance(ld) || !advance(ld)) /* STREAM-START, DOCUMENT-START */
		return;
	if (ld->ev.type == YAML_STREAM_END_EVENT) {
		error_at(ld, &start, "the file is empty (expected at least \"version: 1\")");
		return;
	}
	if (!advance(ld))
		return;
	if (ld->ev.type == YAML_SCALAR_EVENT && scalar_len(ld) == 0 &&
	    ld->ev.data.scalar.plain_implicit) {
		error_at(ld, &ld->ev.start_mark,
		         "the document is empty (expected at least \"version: 1\")");
		return;
	}
	snprintf(ld->label, sizeof(ld->label), "the top level");
	ld->key = "top level";
	walk_map(ld, &top_keyset, top, NULL);
	if (!advance(ld) || !advance(ld)) /* DOCUMENT-END, then STREAM-END */
		return;
	if (ld->ev.type == YAML_DOCUMENT_START_EVENT)
		error_at(ld, &ld->ev.start_mark, "more than one YAML document (only one is read)");
}

static void read_pass(struct loader *ld, const char *text, size_t len, field_fn top)
{
	if (!yaml_parser_initialize(&ld->parser)) {
		ld->oom = ld->stop = true;
		return;
	}
	yaml_parser_set_input_string(&ld->parser, (const unsigned char *)text, len);
	ld->depth = 0;
	read_stream(ld, top);
	if (ld->have_ev)
		yaml_event_delete(&ld->ev);
	ld->have_ev = false;
	yaml_parser_delete(&ld->parser);
}

/* Defaults of the fields pc_model_new leaves zero (docs/config.md). */
static void set_defaults(pc_model *model)
{
	model->dns = (struct pc_dns_params){
	    .enabled = true,
	    .port = 53,
	    .edns_payload = 1232, /* DNS flag day 2020: no IP fragmentation */
	    .max_answers = 1,
	    .tcp_idle_ms = 10000,
	    .tcp_max_clients = 1024,
	    .tcp_max_per_source = 16,
	    .sig_failure = PC_SIG_FAIL_REFUSE,
	    .rrl_slip = 2,
	    .rrl_prefix4 = 24,
	    .rrl_prefix6 = 56,
	};
	/* A redirect is one short exchange: a head that takes 10 s to arrive is
	 * a slow-client attack, not a slow network. */
	/* The redirector roles are off unless the config turns them on: a node
	 * that is only a DNS server must not grab ports 80 and 554. */
	struct pc_stream_params stream = {
	    .enabled = false,
	    .redirect_status = 302,
	    .header_timeout_ms = 10000,
	    .idle_timeout_ms = 30000,
	    .max_clients = 10000,
	    .max_per_source = 64,
	    .max_header_bytes = 16384,
	    .max_target_bytes = 8192,
	    .max_body_bytes = 1048576,
	};
	model->http = stream;
	model->http.port = 80;
	model->rtsp = stream;
	model->rtsp.port = 554;
	model->cdsr = (struct pc_cdsr_params){
	    .enabled = false, .port = 2554 /* PC_CDSR_PORT */, .prefix4 = 24, .prefix6 = 56};
}

/* The SOA contact defaults to hostmaster at the zone of this node's first
 * CDN, or at the first CDN's. */
static void default_hostmaster(struct loader *ld)
{
	pc_model *m = ld->model;
	if (m->dns.hostmaster != NULL)
		return;
	const char *domain = "invalid";
	if (m->self_node != PC_NONE && m->nodes[m->self_node].cdns.count > 0)
		domain = m->cdns[m->nodes[m->self_node].cdns.items[0]].domain;
	else if (m->n_cdns > 0)
		domain = m->cdns[0].domain;
	size_t len = strlen("hostmaster.") + strlen(domain) + 1;
	char *text = arena_alloc(ld, len);
	if (text != NULL)
		snprintf(text, len, "hostmaster.%s", domain);
	m->dns.hostmaster = text;
}

static void loader_free(struct loader *ld)
{
	for (int s = 0; s < S__COUNT; s++)
		free(ld->decls[s].data);
	free(ld->scratch_idx.data);
	free(ld->scratch_addr.data);
	free(ld->scratch_str.data);
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

int pc_config_load(const char *text, size_t len, const char *source, pc_config_diag_fn diag,
                   void *diag_ctx, pc_model **out)
{
	if (out == NULL || (text == NULL && len > 0))
		return PC_EINVAL;
	*out = NULL;
	struct loader ld = {
	    .source = source != NULL ? source : "<config>",
	    .diag = diag,
	    .diag_ctx = diag_ctx,
	    .scheme_service = {PC_NONE, PC_NONE, PC_NONE},
	};
	if (len > MAX_INPUT) {
		fatal_at(&ld, NULL, "larger than %zu bytes", MAX_INPUT);
		return PC_ECONFIG;
	}
	ld.model = pc_model_new();
	if (ld.model == NULL)
		return PC_ENOMEM;
	set_defaults(ld.model);

	ld.quiet = true;
	read_pass(&ld, text != NULL ? text : "", len, top_field_pass1);
	ld.quiet = false;
	if (!ld.stop)
		size_model(&ld);
	if (!ld.stop)
		read_pass(&ld, text, len, top_field);
	if (!ld.stop && ld.n_errors == 0)
		default_hostmaster(&ld);

	int rc = ld.oom ? PC_ENOMEM : ld.n_errors > 0 ? PC_ECONFIG : PC_OK;
	if (rc == PC_OK) {
		ld.model->source = arena_strndup(&ld, ld.source, strlen(ld.source));
		rc = ld.oom ? PC_ENOMEM : pc_model_finish(ld.model);
		if (rc != PC_OK && rc != PC_ENOMEM) {
			ld.n_errors = 0;
			fatal_at(&ld, NULL, "the model cannot be built: %s", pc_strerror(rc));
			rc = PC_ECONFIG;
		}
	}
	loader_free(&ld);
	if (rc != PC_OK) {
		pc_model_free(ld.model);
		return rc;
	}
	*out = ld.model;
	return PC_OK;
}
