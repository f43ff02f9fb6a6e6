/* config_reader: the loader's reading machinery, private to lib/model's
 * config files. A pc_reader walks one pass of libyaml events (never a
 * document tree), keeps the position of the current event, collects every
 * diagnostic as "FILE:LINE:COL: message", and reads values by the item
 * tables of schema.h. What a value means for the federation is in
 * config_federation.c; the passes are in config.c. */
#ifndef PC_LIB_CONFIG_READER_H
#define PC_LIB_CONFIG_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "lib/model/config.h"
#include "lib/model/schema.h"

/* Limits against hostile input. A real federation nests five levels deep;
 * the item limits are far above any real one but keep every count in 32 bits
 * and every allocation bounded by the input size. */
#define PC_CFG_MAX_INPUT         ((size_t)1 << 30)
#define PC_CFG_MAX_DEPTH         32
#define PC_CFG_MAX_SECTION_ITEMS (1u << 24) /* entries of one top-level list */
#define PC_CFG_MAX_LIST_ITEMS    (1u << 20) /* entries of one inner list */
#define PC_CFG_MAX_DIAGS         1000       /* then one "too many errors" and stop */
#define PC_CFG_MAX_KEYS          64         /* keys of one mapping (a bit mask) */

struct pc_vec {
	void *data;
	size_t n, cap;
};

struct pc_reader {
	pc_arena *arena; /* the config's: strings and lists read go here */
	const char *source;
	pc_config_diag_fn diag;
	void *diag_ctx;

	yaml_parser_t parser;
	yaml_event_t ev;
	bool have_ev;
	bool stop; /* syntax error, limit, no memory: no more events */
	bool oom;
	bool quiet;    /* pass 1: only fatal errors are reported */
	unsigned pass; /* 1: declaring the lists' names, 2: reading values */
	unsigned depth;
	unsigned n_errors;

	/* What messages call the value being read: "server \"s1\"", "ports". */
	const char *key;
	char label[160];

	struct pc_vec scratch; /* one inner list at a time (pc__read_array) */
	size_t scratch_size;   /* of its elements */

	char quoted[4][100];
	unsigned next_quoted;
};

/* ---- diagnostics ---- */

__attribute__((format(printf, 3, 4))) void
pc__error_at(struct pc_reader *rd, const yaml_mark_t *mark, const char *fmt, ...);
/* An error that ends the reading (reported in both passes). */
__attribute__((format(printf, 3, 4))) void
pc__fatal_at(struct pc_reader *rd, const yaml_mark_t *mark, const char *fmt, ...);
/* At the current event, prefixed with the item's label. */
__attribute__((format(printf, 2, 3))) void pc__item_error(struct pc_reader *rd, const char *fmt,
                                                          ...);
/* Operator text inside messages: quoted, cut short, control bytes shown as
 * '?' so a hostile file cannot forge lines. Four rotating buffers let one
 * message quote up to four strings. */
const char *pc__quote_n(struct pc_reader *rd, const char *text, size_t len);
const char *pc__quote(struct pc_reader *rd, const char *text);

/* ---- memory: failures set oom and stop ---- */

void *pc__vec_push(struct pc_reader *rd, struct pc_vec *v, size_t size);
void *pc__alloc(struct pc_reader *rd, size_t size);
char *pc__strndup(struct pc_reader *rd, const char *text, size_t len);
void pc__schema_store(void *field, uint8_t size, uint64_t value); /* schema.c */

/* ---- events ---- */

/* Moves to the next event; false at the end or after a fatal error. */
bool pc__advance(struct pc_reader *rd);
/* Consumes the node that starts at the current event. */
void pc__skip_node(struct pc_reader *rd);
const char *pc__scalar(const struct pc_reader *rd);
size_t pc__scalar_len(const struct pc_reader *rd);
bool pc__scalar_is(const struct pc_reader *rd, const char *text);

/* The current event must start a list; reports and skips anything else. */
bool pc__begin_list(struct pc_reader *rd);
/* Moves to the next item of the list begun by pc__begin_list; false at its
 * end (after reporting more than limit items). */
bool pc__next_item(struct pc_reader *rd, uint32_t *count, uint32_t limit);

/* ---- mappings by table ---- */

/* Walks the mapping at the current event, reading the value of each key of
 * table into target (read_item); reports unknown, duplicate and missing
 * required keys. seen_out (may be NULL) gets a bit per table index present.
 * Returns false (after reporting) when the node is not a mapping. */
bool pc__walk_map(struct pc_reader *rd, const struct pc_item *table, void *target,
                  uint64_t *seen_out);
/* The same with " sub" appended to the label. */
void pc__walk_nested(struct pc_reader *rd, const char *sub, const struct pc_item *table,
                     void *target);

/* ---- scalars ---- */

bool pc__want_scalar(struct pc_reader *rd, const char *expected);
bool pc__parse_u64(const char *text, size_t len, uint64_t *out);
bool pc__get_uint(struct pc_reader *rd, uint64_t min, uint64_t max, uint64_t *out);
/* One of names (NULL-terminated, exact); its index or -1 after reporting. */
int pc__get_enum(struct pc_reader *rd, const char *const *names);
/* A DNS name in presentation form: lower-cased, without a trailing dot. */
const char *pc__get_hostname(struct pc_reader *rd);

/* ---- lists of values ---- */

/* Reads the element at the current event into elem (at most
 * PC_CFG_MAX_ELEM bytes); false: nothing to keep (it reported why). */
typedef bool (*pc_elem_fn)(struct pc_reader *rd, const struct pc_item *item, void *elem);
#define PC_CFG_MAX_ELEM 32

struct pc_array {
	void *items;     /* count elements */
	uint32_t count;  /* kept */
	uint32_t listed; /* in the file, kept or not */
};

/* Reads the list at the current event, each element by read_one (which
 * gets item, NULL allowed), keeping those it returns true for, size bytes
 * each. nonempty: an empty list is an error. keep: the elements are copied
 * into the arena; otherwise items is the reader's scratch, valid until the
 * next list. */
struct pc_array pc__read_array(struct pc_reader *rd, const struct pc_item *item, size_t size,
                               bool nonempty, bool keep, pc_elem_fn read_one);

/* ---- one pass ---- */

/* Reads text as one YAML document whose root is a mapping of top (into
 * target). */
void pc__read_pass(struct pc_reader *rd, const char *text, size_t len, const struct pc_item *top,
                   void *target);
void pc__reader_free(struct pc_reader *rd); /* the scratch vectors */

#endif
