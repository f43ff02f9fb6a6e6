/* schema: the config's keys as data, the way Knot DNS describes its config
 * with yp_item_t tables. Each key of a mapping is one pc_item: its name,
 * type, range, default, whether it is required, where its value goes in
 * the struct being filled (an offset) and a line of help. The loader reads
 * by these tables, the defaults are written from them (nowhere else), and
 * `peercdnctl keys` prints them, so docs/config.md is checked against them.
 *
 * Two kinds of tables exist: the federation's (lib/model, filled into a
 * pc_model) and the daemon settings of each role (a pc_section, defined
 * with its protocol in lib/proto and handed to the loader). */
#ifndef PC_LIB_SCHEMA_H
#define PC_LIB_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/arena.h"

enum pc_item_type {
	PC_ITEM_BOOL,    /* true/false, yes/no, on/off; a bool */
	PC_ITEM_UINT,    /* decimal min..max, stored in size bytes (1, 2, 4) */
	PC_ITEM_MS,      /* a duration in milliseconds: a uint32_t */
	PC_ITEM_ENUM,    /* one of names[]; the index, a uint8_t */
	PC_ITEM_HOST,    /* host name, lower-cased, no trailing dot: const char * */
	PC_ITEM_ADDR,    /* an IPv4 or IPv6 address: pc_addr */
	PC_ITEM_ADDRS,   /* list of addresses: struct pc_addr_list */
	PC_ITEM_FAMILY2, /* list of at most one address per family: pc_addr[2], v4 then v6 */
	PC_ITEM_TEXTS,   /* list of strings, each passed to check: struct pc_text_list */
	PC_ITEM_SECTION, /* nested mapping of items[], filling the same struct */
	PC_ITEM_LIST,    /* list of mappings of items[] (the federation's lists) */
	PC_ITEM_CUSTOM,  /* read by the loader's own function (names, references) */
};

enum {
	PC_ITEM_REQUIRED = 1, /* the key must be present */
	PC_ITEM_NONEMPTY = 2, /* a list must hold at least one item */
	/* A mapping whose keys are the names of the load's sections with
	 * anycast set, each a list of addresses (cdns[].anycast). */
	PC_ITEM_ROLE_KEYS = 4,
};

/* A PC_ITEM_TEXTS value: strings in the config's arena. */
struct pc_text_list {
	const char *const *items;
	uint32_t count;
};

struct pc_item;
struct pc_reader; /* the loader's state (lib/model/config_reader.h) */

/* PC_ITEM_CUSTOM: reads the value at the reader's current event into the
 * struct being filled (target); reports its own errors. */
typedef void (*pc_item_read_fn)(struct pc_reader *rd, const struct pc_item *item, void *target);

/* A table is an array of items ended by one whose key is NULL. Write its
 * entries with the PC_* macros below: they take each field's size and
 * offset from the struct itself. */
struct pc_item {
	const char *key;
	uint8_t type;  /* enum pc_item_type */
	uint8_t flags; /* PC_ITEM_REQUIRED, PC_ITEM_NONEMPTY, ... */
	uint8_t size;  /* bytes of the field; integers are stored in 1, 2, 4 or 8 */
	size_t offset; /* of the field in the struct being filled */
	uint64_t min, max;
	uint64_t dflt;                           /* integers, bools, enum indexes */
	const char *const *names;                /* PC_ITEM_ENUM, NULL-terminated */
	const struct pc_item *items;             /* PC_ITEM_SECTION, PC_ITEM_LIST */
	const char *unit;                        /* "s", shown after an integer range */
	pc_item_read_fn read;                    /* PC_ITEM_CUSTOM, PC_ITEM_LIST */
	uint32_t arg;                            /* read's parameter: a list, a second offset */
	const char *(*check)(const void *field); /* a rule beyond the range: why, or NULL */
	const char *type_doc;                    /* the type in docs when not derived: "CDN name" */
	const char *default_doc; /* the default in docs when not the value: "unlimited" */
	const char *help;        /* the meaning, as docs/config.md has it */
};

/* Table entries, one macro a type, like Knot's YP_TINT and YP_TBOOL: the
 * value goes into field f of struct S, whose size and offset the macro
 * takes from the struct, so a table cannot get them wrong. The trailing
 * arguments are more designated initialisers for the rare extras
 * (.flags, .default_doc, .check, ...). */
#define PC_AT(S, f) .size = sizeof(((struct S *)0)->f), .offset = offsetof(struct S, f)

// clang-format off
#define PC__ITEM(k, t, ...) {.key = k, .type = PC_ITEM_##t, __VA_ARGS__}
#define PC_BOOL(k, S, f, dflt_, help_, ...)                                                        \
	PC__ITEM(k, BOOL, PC_AT(S, f), .dflt = dflt_, .help = help_, __VA_ARGS__)
#define PC_UINT(k, S, f, min_, max_, dflt_, unit_, help_, ...)                                     \
	PC__ITEM(k, UINT, PC_AT(S, f), .min = min_, .max = max_, .dflt = dflt_, .unit = unit_,     \
	         .help = help_, __VA_ARGS__)
#define PC_MS(k, S, f, min_, max_, dflt_, help_, ...)                                              \
	PC__ITEM(k, MS, PC_AT(S, f), .min = min_, .max = max_, .dflt = dflt_, .help = help_,       \
	         __VA_ARGS__)
#define PC_ENUM(k, S, f, names_, dflt_, help_, ...)                                                \
	PC__ITEM(k, ENUM, PC_AT(S, f), .names = names_, .dflt = dflt_, .help = help_, __VA_ARGS__)
#define PC_HOST(k, S, f, help_, ...)  PC__ITEM(k, HOST, PC_AT(S, f), .help = help_, __VA_ARGS__)
#define PC_ADDR(k, S, f, help_, ...)  PC__ITEM(k, ADDR, PC_AT(S, f), .help = help_, __VA_ARGS__)
#define PC_ADDRS(k, S, f, help_, ...) PC__ITEM(k, ADDRS, PC_AT(S, f), .help = help_, __VA_ARGS__)
/* A list of strings into a struct pc_text_list; .check gets each string
 * (field: a const char *const *) and the loader reports why it is wrong. */
#define PC_TEXTS(k, S, f, help_, ...) PC__ITEM(k, TEXTS, PC_AT(S, f), .help = help_, __VA_ARGS__)
/* Fills f (IPv4) and the pc_addr after it (IPv6). */
#define PC_FAMILY2(k, S, f, help_, ...)                                                            \
	PC__ITEM(k, FAMILY2, PC_AT(S, f), .help = help_, __VA_ARGS__)
/* A nested mapping: its items fill the same struct. */
#define PC_SECTION(k, items_, help_, ...)                                                          \
	PC__ITEM(k, SECTION, .items = items_, .help = help_, __VA_ARGS__)
/* Read by read_, which finds its field itself (or fills none). */
#define PC_CUSTOM(k, flags_, read_, type_doc_, help_, ...)                                         \
	PC__ITEM(k, CUSTOM, .flags = flags_, .read = read_, .type_doc = type_doc_, .help = help_,  \
	         __VA_ARGS__)
/* Read by read_ into field f; read_ gets arg_ (item->arg). */
#define PC_CUSTOM_AT(k, flags_, S, f, read_, arg_, type_doc_, help_, ...)                          \
	PC__ITEM(k, CUSTOM, .flags = flags_, PC_AT(S, f), .read = read_, .arg = arg_,              \
	         .type_doc = type_doc_, .help = help_, __VA_ARGS__)
#define PC_END {.key = NULL}
// clang-format on

/* What a section's finish hook may use: the loaded federation (arrays
 * filled, indexes not yet built) and the load options. */
struct pc_section_env {
	const struct pc_model *model;
	uint32_t self_node;   /* PC_NONE: none */
	uint32_t load_time_s; /* when the config was loaded (Unix seconds), or 0 */
	pc_arena *arena;      /* the config's: strings the settings keep */
	/* verify only: where pc_section_error reports (the loader's reader). */
	struct pc_reader *reader;
};

/* For a section's verify: an error at line and column (1-based; 0: none)
 * of the file, counted like any other, so the load fails. */
__attribute__((format(printf, 4, 5))) void pc_section_error(const struct pc_section_env *env,
                                                            uint32_t line, uint32_t column,
                                                            const char *fmt, ...);

/* A top-level mapping of daemon settings ("dns", "http", ...). Its values
 * go into a struct of size bytes that the loaded config owns (see
 * pc_config_settings). A role's section lives with the role's protocol in
 * lib/proto; the loader knows only the sections it is handed. */
struct pc_section {
	const char *name;
	const struct pc_item *items;
	size_t size;
	bool anycast;     /* cdns[].anycast takes a key of this name */
	const char *help; /* its row in the top-level table */
	/* Cross-key rules once the section's keys are read: why it is wrong,
	 * or NULL. Reported at the section. Optional. */
	const char *(*check)(const void *settings);
	/* Rules against the whole federation once every section is read
	 * (a directory name must be under a provider's directory host, which
	 * may come later in the file): reports each problem with
	 * pc_section_error at the position it recorded while reading. May
	 * order what it read (for look-ups). Runs even when other parts had
	 * errors, so one run lists them all; env->self_node is PC_NONE.
	 * Optional. */
	void (*verify)(void *settings, const struct pc_section_env *env);
	/* Derived values once the whole file is read without errors (a default
	 * that depends on the federation or the load time). Returns 0 or
	 * PC_ENOMEM. Optional. */
	int (*finish)(void *settings, const struct pc_section_env *env);
};

/* A role's section: its settings are a struct S read by items. */
#define PC_SETTINGS(name_, S, items_, anycast_, help_, ...)                                        \
	{                                                                                          \
		.name = name_, .items = items_, .size = sizeof(struct S), .anycast = anycast_,     \
		.help = help_, __VA_ARGS__                                                         \
	}

/* Writes every default of table (recursing into nested mappings, which
 * fill the same struct) into target. Lists and custom items without a
 * size are left alone. */
void pc_schema_apply_defaults(const struct pc_item *table, void *target);

/* The type and the default of an item as docs/config.md shows them
 * ("1..65535", "required"). Always NUL-terminated; cut to size. */
void pc_item_type_text(const struct pc_item *item, char *out, size_t size);
void pc_item_default_text(const struct pc_item *item, char *out, size_t size);

/* The federation's top-level table (lib/model/config_federation.c); the
 * role sections come on top of it at each load. */
extern const struct pc_item pc_config_items[];

#endif
