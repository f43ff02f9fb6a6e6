/* config_load: the state of one load, shared by the passes (config.c) and
 * the federation's sections (config_federation.c). Private to lib/model. */
#ifndef PC_LIB_CONFIG_LOAD_H
#define PC_LIB_CONFIG_LOAD_H

#include "lib/base/strmap.h"
#include "lib/model/config_reader.h"
#include "lib/model/model.h"

/* The federation's lists, in the order of the top-level table. */
enum pc_fed_list {
	PC_L_TIERS,
	PC_L_SERVICES,
	PC_L_GRADES,
	PC_L_ASES,
	PC_L_LINKS,
	PC_L_CDNS,
	PC_L_CLIENTS,
	PC_L_PROVIDERS,
	PC_L_AGREEMENTS,
	PC_L_SERVERS,
	PC_L_NODES,
	PC_L__COUNT
};

/* An open-addressing set of item indexes whose keys live in the items
 * themselves (compared by a callback): duplicate prefixes, links, hosts. */
struct pc_itable {
	uint64_t *slots; /* hash << 32 | (item + 1); 0 = empty */
	size_t cap, n;
};

struct pc_loader {
	struct pc_reader rd; /* first: a custom read's reader is its loader */
	pc_model *model;

	/* Pass 1's record of each list: struct pc_decl (name, line). */
	struct pc_vec decls[PC_L__COUNT];
	pc_strmap *maps[PC_L__COUNT]; /* name (decimal ASN for ases) -> index */

	/* Pass 2: the list item being read. */
	enum pc_fed_list list;
	uint32_t item;

	uint32_t *as_mark;            /* per AS: last CDN that listed it */
	uint8_t *as_role;             /* 1 backbone, 2 affiliate, for as_mark's CDN */
	uint32_t *marks[PC_L__COUNT]; /* per named item: stamp of the last list naming it */
	uint32_t stamp;
	uint32_t scheme_service[3]; /* service implied by http, https, rtsp */
	pc_strmap *domains;
	struct pc_itable client_set, link_set, host_set, coverage_set;
	struct pc_vec hosts;     /* struct host_owner */
	struct pc_vec coverages; /* struct coverage */

	/* The daemon sections of this load and the keys they add. */
	const struct pc_section *const *sections;
	unsigned n_sections;
	void **settings;         /* parallel to sections */
	struct pc_item *top;     /* pc_config_items, then one item per section */
	struct pc_item *anycast; /* cdns[].anycast: one per section with anycast */
	unsigned n_anycast;
	unsigned n_static_top; /* items of pc_config_items */
};

struct pc_decl {
	const char *name; /* NULL when it has none */
	uint32_t line;    /* where it starts, for "first at line N" */
	uint32_t column;  /* 1-based, for checks after pass 2 */
};

/* After pass 1: the model's arrays, sized, named, with their defaults. */
void pc__federation_size(struct pc_loader *ld);
void pc__federation_free(struct pc_loader *ld);
/* After pass 2: the rules that need the whole file read (a server may come
 * before its CDN). Errors at the offending item's position. */
void pc__federation_check(struct pc_loader *ld);

#endif
