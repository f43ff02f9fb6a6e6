/* config_reader: libyaml events, positions and diagnostics, and values read
 * by the key tables of schema.h (see config_reader.h). The text is read as
 * a stream of events, never as a document tree, so memory stays
 * proportional to what is kept: a tree of a million client prefixes would
 * cost a few hundred bytes per node. */
#include "lib/model/config_reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"

/* Readers of one value (defined with the scalars below), used by the
 * mapping walk before them. */
static void read_item(struct pc_reader *rd, const struct pc_item *item, void *target);
static void get_bool(struct pc_reader *rd, bool *out);
static bool get_addr(struct pc_reader *rd, pc_addr *out);
static void get_addr_list(struct pc_reader *rd, bool nonempty, struct pc_addr_list *out);

/* ---- diagnostics ---- */

/* label: what the message is about ("server \"s1\""), or NULL. */
static void report(struct pc_reader *rd, const yaml_mark_t *mark, const char *label,
                   const char *fmt, va_list ap)
{
	rd->n_errors++;
	if (rd->diag == NULL)
		return;
	char message[1024];
	int n;
	if (mark != NULL)
		n = snprintf(message, sizeof(message), "%s:%zu:%zu: ", rd->source, mark->line + 1,
		             mark->column + 1);
	else
		n = snprintf(message, sizeof(message), "%s: ", rd->source);
	if (n < 0 || (size_t)n >= sizeof(message))
		n = 0;
	int more =
	    label != NULL ? snprintf(message + n, sizeof(message) - (size_t)n, "%s: ", label) : 0;
	if (more > 0 && (size_t)(n + more) < sizeof(message))
		n += more;
	vsnprintf(message + n, sizeof(message) - (size_t)n, fmt, ap);
	rd->diag(rd->diag_ctx, message);
}

static void too_many_errors(struct pc_reader *rd)
{
	if (rd->n_errors == PC_CFG_MAX_DIAGS && rd->diag != NULL) {
		char message[512];
		snprintf(message, sizeof(message), "%s: too many errors (%u), giving up",
		         rd->source, PC_CFG_MAX_DIAGS);
		rd->diag(rd->diag_ctx, message);
	}
	rd->stop = true;
}

/* Not fatal: pass 1 stays quiet, and the count has a limit. */
static void error_v(struct pc_reader *rd, const yaml_mark_t *mark, const char *label,
                    const char *fmt, va_list ap)
{
	if (rd->quiet || rd->n_errors >= PC_CFG_MAX_DIAGS)
		return;
	report(rd, mark, label, fmt, ap);
	if (rd->n_errors >= PC_CFG_MAX_DIAGS)
		too_many_errors(rd);
}

void pc__error_at(struct pc_reader *rd, const yaml_mark_t *mark, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_v(rd, mark, NULL, fmt, ap);
	va_end(ap);
}

void pc__fatal_at(struct pc_reader *rd, const yaml_mark_t *mark, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(rd, mark, NULL, fmt, ap);
	va_end(ap);
	rd->stop = true;
}

void pc__item_error(struct pc_reader *rd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_v(rd, &rd->ev.start_mark, rd->label, fmt, ap);
	va_end(ap);
}

const char *pc__quote_n(struct pc_reader *rd, const char *text, size_t len)
{
	char *out = rd->quoted[rd->next_quoted++ % 4];
	size_t n = 0, max = sizeof(rd->quoted[0]) - 6;
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

const char *pc__quote(struct pc_reader *rd, const char *text)
{
	return text == NULL ? "(none)" : pc__quote_n(rd, text, strlen(text));
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

void *pc__vec_push(struct pc_reader *rd, struct pc_vec *v, size_t size)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *data = realloc(v->data, cap * size);
		if (data == NULL) {
			rd->oom = rd->stop = true;
			return NULL;
		}
		v->data = data;
		v->cap = cap;
	}
	return (char *)v->data + v->n++ * size;
}

void *pc__alloc(struct pc_reader *rd, size_t size)
{
	void *p = pc_arena_alloc(rd->arena, size ? size : 1);
	if (p == NULL)
		rd->oom = rd->stop = true;
	return p;
}

char *pc__strndup(struct pc_reader *rd, const char *text, size_t len)
{
	char *p = pc_arena_strndup(rd->arena, text, len);
	if (p == NULL)
		rd->oom = rd->stop = true;
	return p;
}

static void *copy(struct pc_reader *rd, const void *data, size_t size)
{
	if (size == 0)
		return NULL;
	void *p = pc__alloc(rd, size);
	if (p != NULL)
		memcpy(p, data, size);
	return p;
}

/* ---- events ---- */

bool pc__advance(struct pc_reader *rd)
{
	if (rd->stop)
		return false;
	if (rd->have_ev)
		yaml_event_delete(&rd->ev);
	rd->have_ev = false;
	if (!yaml_parser_parse(&rd->parser, &rd->ev)) {
		yaml_parser_t *p = &rd->parser;
		if (p->error == YAML_MEMORY_ERROR) {
			rd->oom = rd->stop = true;
			return false;
		}
		const char *problem = p->problem != NULL ? p->problem : "malformed YAML";
		if (p->context != NULL)
			pc__fatal_at(rd, &p->problem_mark, "YAML syntax error: %s (%s at line %zu)",
			             problem, p->context, p->context_mark.line + 1);
		else
			pc__fatal_at(rd, &p->problem_mark, "YAML syntax error: %s", problem);
		return false;
	}
	rd->have_ev = true;
	switch (rd->ev.type) {
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (++rd->depth > PC_CFG_MAX_DEPTH) {
			pc__fatal_at(rd, &rd->ev.start_mark, "nested deeper than %u levels",
			             PC_CFG_MAX_DEPTH);
			return false;
		}
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		rd->depth--;
		break;
	default:
		break;
	}
	return true;
}

void pc__skip_node(struct pc_reader *rd)
{
	if (rd->ev.type != YAML_SEQUENCE_START_EVENT && rd->ev.type != YAML_MAPPING_START_EVENT)
		return;
	unsigned depth = 1;
	while (depth > 0 && pc__advance(rd)) {
		if (rd->ev.type == YAML_SEQUENCE_START_EVENT ||
		    rd->ev.type == YAML_MAPPING_START_EVENT)
			depth++;
		else if (rd->ev.type == YAML_SEQUENCE_END_EVENT ||
		         rd->ev.type == YAML_MAPPING_END_EVENT)
			depth--;
	}
}

const char *pc__scalar(const struct pc_reader *rd)
{
	return (const char *)rd->ev.data.scalar.value;
}

size_t pc__scalar_len(const struct pc_reader *rd)
{
	return rd->ev.data.scalar.length;
}

bool pc__scalar_is(const struct pc_reader *rd, const char *text)
{
	return rd->ev.type == YAML_SCALAR_EVENT && pc__scalar_len(rd) == strlen(text) &&
	       memcmp(pc__scalar(rd), text, pc__scalar_len(rd)) == 0;
}

/* ---- lists ---- */

bool pc__begin_list(struct pc_reader *rd)
{
	if (rd->ev.type == YAML_SEQUENCE_START_EVENT)
		return true;
	pc__item_error(rd, "%s: expected a list, found %s", rd->key, node_kind(&rd->ev));
	pc__skip_node(rd);
	return false;
}

bool pc__next_item(struct pc_reader *rd, uint32_t *count, uint32_t limit)
{
	if (!pc__advance(rd) || rd->ev.type == YAML_SEQUENCE_END_EVENT)
		return false;
	if (++*count <= limit)
		return true;
	pc__item_error(rd, "%s: more than %u items", rd->key, limit);
	while (!rd->stop && rd->ev.type != YAML_SEQUENCE_END_EVENT) {
		pc__skip_node(rd);
		pc__advance(rd);
	}
	return false;
}

/* ---- mappings by table ---- */

static void unknown_key(struct pc_reader *rd, const struct pc_item *table)
{
	char expected[512];
	size_t n = 0;
	expected[0] = '\0';
	for (unsigned k = 0; table[k].key != NULL && n < sizeof(expected); k++)
		n += (size_t)snprintf(expected + n, sizeof(expected) - n, "%s%s", k ? ", " : "",
		                      table[k].key);
	pc__error_at(rd, &rd->ev.start_mark, "unknown key %s in %s (expected one of: %s)",
	             pc__quote_n(rd, pc__scalar(rd), pc__scalar_len(rd)), rd->label, expected);
}

/* top: the root mapping, whose values are labelled by their own key. */
static bool walk(struct pc_reader *rd, const struct pc_item *table, void *target,
                 uint64_t *seen_out, bool top)
{
	uint64_t seen = 0;
	uint32_t first_line[PC_CFG_MAX_KEYS];
	unsigned n = 0;
	while (table[n].key != NULL && n < PC_CFG_MAX_KEYS)
		n++;
	if (rd->ev.type != YAML_MAPPING_START_EVENT) {
		pc__item_error(rd, "expected a mapping, found %s", node_kind(&rd->ev));
		pc__skip_node(rd);
		return false;
	}
	yaml_mark_t start = rd->ev.start_mark;
	while (pc__advance(rd) && rd->ev.type != YAML_MAPPING_END_EVENT) {
		if (rd->ev.type != YAML_SCALAR_EVENT) {
			pc__item_error(rd, "a key must be a string, found %s", node_kind(&rd->ev));
			pc__skip_node(rd);
			if (pc__advance(rd))
				pc__skip_node(rd);
			continue;
		}
		unsigned k = 0;
		while (k < n && !pc__scalar_is(rd, table[k].key))
			k++;
		if (k == n) {
			unknown_key(rd, table);
		} else if (seen >> k & 1) {
			pc__error_at(rd, &rd->ev.start_mark,
			             "%s: duplicate key \"%s\" (first at line %u)", rd->label,
			             table[k].key, first_line[k]);
			k = n;
		} else {
			seen |= (uint64_t)1 << k;
			first_line[k] = (uint32_t)rd->ev.start_mark.line + 1;
		}
		if (!pc__advance(rd))
			break;
		if (k == n) {
			pc__skip_node(rd);
			continue;
		}
		const char *outer_key = rd->key;
		rd->key = table[k].key;
		if (!top) {
			read_item(rd, &table[k], target);
		} else {
			snprintf(rd->label, sizeof(rd->label), "%s", table[k].key);
			if (table[k].type == PC_ITEM_SECTION && rd->pass == 2)
				walk(rd, table[k].items, target, NULL, false);
			else
				read_item(rd, &table[k], target);
			snprintf(rd->label, sizeof(rd->label), "the top level");
		}
		rd->key = outer_key;
	}
	if (rd->stop)
		return false;
	for (unsigned k = 0; k < n; k++)
		if ((table[k].flags & PC_ITEM_REQUIRED) && !(seen >> k & 1))
			pc__error_at(rd, &start, "%s: missing required key \"%s\"", rd->label,
			             table[k].key);
	if (seen_out != NULL)
		*seen_out = seen;
	return true;
}

bool pc__walk_map(struct pc_reader *rd, const struct pc_item *table, void *target,
                  uint64_t *seen_out)
{
	return walk(rd, table, target, seen_out, false);
}

void pc__walk_nested(struct pc_reader *rd, const char *sub, const struct pc_item *table,
                     void *target)
{
	char label[sizeof(rd->label)];
	memcpy(label, rd->label, sizeof(label));
	snprintf(rd->label, sizeof(rd->label), "%.100s %s", label, sub);
	pc__walk_map(rd, table, target, NULL);
	memcpy(rd->label, label, sizeof(label));
}

/* A list of at most one address per family: out[0] IPv4, out[1] IPv6. */
static void get_family_pair(struct pc_reader *rd, bool nonempty, pc_addr out[2])
{
	struct pc_addr_list list = {0};
	uint8_t families = 0;
	get_addr_list(rd, nonempty, &list);
	for (uint32_t i = 0; i < list.count; i++) {
		uint8_t bit = list.items[i].family == PC_AF_INET ? 1 : 2;
		if (families & bit)
			pc__item_error(rd, "%s: more than one address of one family", rd->key);
		families |= bit;
		out[bit - 1] = list.items[i];
	}
}

/* One string of a PC_ITEM_TEXTS list, judged by the item's check. */
static bool text_elem(struct pc_reader *rd, const struct pc_item *item, void *elem)
{
	if (!pc__want_scalar(rd, "a string"))
		return false;
	const char *text = pc__strndup(rd, pc__scalar(rd), pc__scalar_len(rd));
	if (text == NULL)
		return false;
	const char *why = item->check != NULL ? item->check(&text) : NULL;
	if (why != NULL) {
		pc__item_error(rd, "%s: %s: %s", rd->key, pc__quote(rd, text), why);
		return false;
	}
	memcpy(elem, &text, sizeof(text));
	return true;
}

static void get_text_list(struct pc_reader *rd, const struct pc_item *item, bool nonempty,
                          struct pc_text_list *out)
{
	struct pc_array list = pc__read_array(rd, item, sizeof(char *), nonempty, true, text_elem);
	out->items = list.items;
	out->count = list.count;
}

static void read_item(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	if (rd->pass == 1 && item->type != PC_ITEM_LIST) {
		pc__skip_node(rd);
		return;
	}
	char *field = (char *)target + item->offset;
	bool nonempty = item->flags & PC_ITEM_NONEMPTY;
	uint64_t value;
	switch (item->type) {
	case PC_ITEM_BOOL:
		get_bool(rd, (bool *)field);
		break;
	case PC_ITEM_UINT:
	case PC_ITEM_MS:
		if (!pc__get_uint(rd, item->min, item->max, &value))
			break;
		pc__schema_store(field, item->size, value);
		if (item->check != NULL) {
			const char *why = item->check(field);
			if (why != NULL)
				pc__item_error(rd, "%s: %s", rd->key, why);
		}
		break;
	case PC_ITEM_ENUM: {
		int index = pc__get_enum(rd, item->names);
		if (index >= 0)
			pc__schema_store(field, 1, (uint64_t)index);
		break;
	}
	case PC_ITEM_HOST: {
		const char *host = pc__get_hostname(rd);
		memcpy(field, &host, sizeof(host));
		break;
	}
	case PC_ITEM_ADDR:
		get_addr(rd, (pc_addr *)field);
		break;
	case PC_ITEM_ADDRS:
		get_addr_list(rd, nonempty, (struct pc_addr_list *)field);
		break;
	case PC_ITEM_FAMILY2:
		get_family_pair(rd, nonempty, (pc_addr *)field);
		break;
	case PC_ITEM_TEXTS:
		get_text_list(rd, item, nonempty, (struct pc_text_list *)field);
		break;
	case PC_ITEM_SECTION:
		pc__walk_nested(rd, item->key, item->items, target);
		break;
	case PC_ITEM_LIST:
	case PC_ITEM_CUSTOM:
		item->read(rd, item, target);
		break;
	default:
		pc__skip_node(rd);
		break;
	}
}

/* ---- scalars ---- */

bool pc__want_scalar(struct pc_reader *rd, const char *expected)
{
	if (rd->ev.type != YAML_SCALAR_EVENT) {
		pc__item_error(rd, "%s: expected %s, found %s", rd->key, expected,
		               node_kind(&rd->ev));
		pc__skip_node(rd);
		return false;
	}
	if (memchr(pc__scalar(rd), '\0', pc__scalar_len(rd)) != NULL) {
		pc__item_error(rd, "%s: contains a NUL byte", rd->key);
		return false;
	}
	return true;
}

bool pc__parse_u64(const char *text, size_t len, uint64_t *out)
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

bool pc__get_uint(struct pc_reader *rd, uint64_t min, uint64_t max, uint64_t *out)
{
	if (!pc__want_scalar(rd, "an integer"))
		return false;
	uint64_t value;
	if (!pc__parse_u64(pc__scalar(rd), pc__scalar_len(rd), &value)) {
		pc__item_error(rd, "%s: expected an integer, found %s", rd->key,
		               pc__quote_n(rd, pc__scalar(rd), pc__scalar_len(rd)));
		return false;
	}
	if (value < min || value > max) {
		pc__item_error(rd, "%s: %s is out of range (%llu..%llu)", rd->key,
		               pc__quote_n(rd, pc__scalar(rd), pc__scalar_len(rd)),
		               (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = value;
	return true;
}

static void get_bool(struct pc_reader *rd, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
	                                  "YES",  "on",   "On",   "ON"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No",
	                                 "NO",    "off",   "Off",   "OFF"};
	if (!pc__want_scalar(rd, "true or false"))
		return;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (pc__scalar_is(rd, yes[i]) || pc__scalar_is(rd, no[i])) {
			*out = pc__scalar_is(rd, yes[i]);
			return;
		}
	}
	pc__item_error(rd, "%s: expected true or false, found %s", rd->key,
	               pc__quote_n(rd, pc__scalar(rd), pc__scalar_len(rd)));
}

int pc__get_enum(struct pc_reader *rd, const char *const *names)
{
	if (!pc__want_scalar(rd, "a string"))
		return -1;
	char expected[256];
	size_t used = 0;
	for (unsigned i = 0; names[i] != NULL; i++) {
		if (pc__scalar_is(rd, names[i]))
			return (int)i;
		if (used < sizeof(expected))
			used += (size_t)snprintf(expected + used, sizeof(expected) - used, "%s%s",
			                         i ? ", " : "", names[i]);
	}
	pc__item_error(rd, "%s: unknown value %s (expected one of: %s)", rd->key,
	               pc__quote_n(rd, pc__scalar(rd), pc__scalar_len(rd)), expected);
	return -1;
}

const char *pc__get_hostname(struct pc_reader *rd)
{
	if (!pc__want_scalar(rd, "a host name"))
		return NULL;
	const char *text = pc__scalar(rd);
	size_t len = pc__scalar_len(rd);
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
		pc__item_error(rd, "%s: %s is not a host name", rd->key,
		               pc__quote_n(rd, text, len));
		return NULL;
	}
	char *out = pc__strndup(rd, text, len);
	for (size_t i = 0; out != NULL && i < len; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	return out;
}

static bool get_addr(struct pc_reader *rd, pc_addr *out)
{
	if (!pc__want_scalar(rd, "an IP address"))
		return false;
	if (pc_addr_parse(pc__scalar(rd), out) != PC_OK) {
		pc__item_error(rd, "%s: %s is not an IP address", rd->key,
		               pc__quote_n(rd, pc__scalar(rd), pc__scalar_len(rd)));
		return false;
	}
	return true;
}

static bool addr_elem(struct pc_reader *rd, const struct pc_item *item, void *elem)
{
	(void)item;
	return get_addr(rd, elem);
}

static void get_addr_list(struct pc_reader *rd, bool nonempty, struct pc_addr_list *out)
{
	struct pc_array list = pc__read_array(rd, NULL, sizeof(pc_addr), nonempty, true, addr_elem);
	out->items = list.items;
	out->count = list.count;
}

/* ---- lists of values ---- */

struct pc_array pc__read_array(struct pc_reader *rd, const struct pc_item *item, size_t size,
                               bool nonempty, bool keep, pc_elem_fn read_one)
{
	struct pc_array out = {0};
	union {
		pc_addr addr;
		uint64_t number;
		const void *pointer;
		uint8_t bytes[PC_CFG_MAX_ELEM];
	} elem;
	if (size > sizeof(elem) || !pc__begin_list(rd))
		return out;
	yaml_mark_t start = rd->ev.start_mark;
	struct pc_vec *v = &rd->scratch;
	if (rd->scratch_size != size) /* its capacity counts elements */
		v->cap = 0, rd->scratch_size = size;
	v->n = 0;
	while (pc__next_item(rd, &out.listed, PC_CFG_MAX_LIST_ITEMS)) {
		if (!read_one(rd, item, &elem))
			continue;
		void *slot = pc__vec_push(rd, v, size);
		if (slot != NULL)
			memcpy(slot, &elem, size);
	}
	if (nonempty && out.listed == 0 && !rd->stop)
		pc__error_at(rd, &start, "%s: %s: the list is empty", rd->label, rd->key);
	out.count = (uint32_t)v->n;
	out.items = keep ? copy(rd, v->data, v->n * size) : v->data;
	return out;
}

/* ---- one pass ---- */

/* A single document whose root is a mapping. */
static void read_stream(struct pc_reader *rd, const struct pc_item *top, void *target)
{
	yaml_mark_t start = {0};
	if (!pc__advance(rd) || !pc__advance(rd)) /* STREAM-START, DOCUMENT-START */
		return;
	if (rd->ev.type == YAML_STREAM_END_EVENT) {
		pc__error_at(rd, &start, "the file is empty (expected at least \"version: 1\")");
		return;
	}
	if (!pc__advance(rd))
		return;
	if (rd->ev.type == YAML_SCALAR_EVENT && pc__scalar_len(rd) == 0 &&
	    rd->ev.data.scalar.plain_implicit) {
		pc__error_at(rd, &rd->ev.start_mark,
		             "the document is empty (expected at least \"version: 1\")");
		return;
	}
	snprintf(rd->label, sizeof(rd->label), "the top level");
	rd->key = "top level";
	walk(rd, top, target, NULL, true);
	if (!pc__advance(rd) || !pc__advance(rd)) /* DOCUMENT-END, then STREAM-END */
		return;
	if (rd->ev.type == YAML_DOCUMENT_START_EVENT)
		pc__error_at(rd, &rd->ev.start_mark,
		             "more than one YAML document (only one is read)");
}

void pc__read_pass(struct pc_reader *rd, const char *text, size_t len, const struct pc_item *top,
                   void *target)
{
	if (!yaml_parser_initialize(&rd->parser)) {
		rd->oom = rd->stop = true;
		return;
	}
	yaml_parser_set_input_string(&rd->parser, (const unsigned char *)text, len);
	rd->depth = 0;
	read_stream(rd, top, target);
	if (rd->have_ev)
		yaml_event_delete(&rd->ev);
	rd->have_ev = false;
	yaml_parser_delete(&rd->parser);
}

void pc__reader_free(struct pc_reader *rd)
{
	free(rd->scratch.data);
}
