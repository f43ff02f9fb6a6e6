/* model: what a node knows of the federation — CDNs, client networks, AS
 * path costs, content providers, peering agreements, servers, service
 * grades and redirector nodes — as one immutable generation built from one
 * config file (see docs/config.md).
 *
 * Everything in a pc_model lives in the model's own arena and is freed
 * with it (pc_model_free). A model is never changed after
 * pc_model_finish(): any number of threads may read it without locks; a
 * reload builds a new model and swaps a pointer. Live, changing state
 * (load, health, agreement usage, measured path costs) is in live.h.
 *
 * The structs are shared inside the library (config fills them, naming and
 * policy read them); code outside src/lib uses the accessor functions
 * below. Every cross reference is a dense uint32_t index into the model's
 * arrays; PC_NONE marks "no such item". */
#ifndef PC_LIB_MODEL_H
#define PC_LIB_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/arena.h"
#include "lib/model/netmap.h"
#include "lib/base/strmap.h"

#define PC_NONE          UINT32_MAX
#define PC_COST_INFINITE UINT32_MAX
#define PC_KEY_BYTES     32 /* signing and encryption keys */
#define PC_MAX_TIERS     32 /* tiers are a bitmask */
#define PC_MAX_SERVICES  64 /* services are a bitmask */
#define PC_MAX_ANSWERS   4  /* servers one decision may return (dns.max_answers) */

typedef struct pc_addr {
	uint8_t family;    /* PC_AF_INET or PC_AF_INET6 */
	uint8_t bytes[16]; /* network order; IPv4 in the first 4 */
} pc_addr;

struct pc_addr_list {
	pc_addr *items;
	uint32_t count;
};

struct pc_index_list {
	uint32_t *items;
	uint32_t count;
};

struct pc_as {
	uint32_t asn;
	const char *name;          /* optional, may be NULL */
	struct pc_index_list cdns; /* CDNs whose footprint holds this AS (backbone or affiliate) */
	uint32_t server_as;        /* index among ASes that hold servers, or PC_NONE */
};

struct pc_cdn {
	const char *name;
	const char *domain; /* lower case, no trailing dot: "cdn.acme.net" */
	uint32_t domain_len;
	struct pc_index_list backbone_as; /* AS indexes; empty for an exchange */
	struct pc_index_list affiliate_as;
	struct pc_addr_list *anycast;    /* per model->anycast_roles; pc_cdn_anycast */
	uint32_t dns_ttl;                /* seconds; 0 by default (the patent's §3.1.4) */
	uint8_t dns_mode;                /* enum pc_dns_mode: what an A/AAAA answer holds */
	struct pc_addr_list redirectors; /* PC_DNS_MODE_REDIRECTOR answers (fig. 15) */
	const char **ns_names;           /* name servers of the zone, lower case, no dot */
	uint32_t n_ns_names;
	struct pc_index_list servers;  /* server indexes, sorted by AS (farms together) */
	struct pc_cdn_member *members; /* parallel to servers: what a decision scans */
	uint32_t *farm_as;             /* AS index of each farm (ASes holding its servers) */
	uint32_t n_farms;
	uint32_t farm_base;   /* this CDN's first column in model->farm_costs rows */
	uint32_t reach_base;  /* its first column in model->reach rows */
	uint32_t *farm_first; /* [n_farms + 1]: each farm's first member; the last is the count */
	uint32_t member_base; /* slot of members[0]: CDNs' members numbered one after another */
	struct pc_index_list agreements; /* agreement indexes it is party to */
	uint32_t *partners;              /* parallel to agreements: the other party of each */
	/* A content exchange (the patent's last section): brokers providers,
	 * has no footprint and no servers; its providers are served by the
	 * CDNs it has agreements with (policy.c try_exchange). */
	bool exchange;
};

/* The fields of a server that every decision scans, packed and laid out
 * per CDN in farm order, so scanning a CDN reads one contiguous array
 * instead of touching every pc_server. Built by pc_model_finish. */
struct pc_cdn_member {
	uint64_t service_mask;
	uint32_t server; /* index into model->servers */
	uint32_t as;     /* AS index of the farm */
	uint32_t capacity;
	uint16_t farm; /* index into the CDN's farm_as */
	uint8_t tier;
	uint8_t families;   /* bit 0: has an IPv4 address, bit 1: IPv6 */
	uint64_t name_hash; /* the server's, for affinity */
};

/* One farm of a CDN as seen from one AS, in model->reach: 4 bytes, so a
 * CDN's row is one cache line more often. cost is the static path cost
 * from the AS when below PC_REACH_FAR; PC_REACH_FAR means "this much or
 * more, or unreachable": the exact cost is then model->farm_costs' (see
 * pc_reach_cost). */
#define PC_REACH_FAR UINT16_MAX
struct pc_reach {
	uint16_t cost;
	uint16_t farm; /* index into the CDN's farm_as (n_farms < 65536) */
};

struct pc_service {
	const char *name;     /* a codepoint label: "web", "tv", "live", "vod" */
	uint32_t scheme_mask; /* PC_SCHEME_* bits: URLs of these schemes imply it */
	uint32_t dns_ttl;     /* PC_NONE: the CDN's dns_ttl */
	uint8_t dns_mode;     /* PC_DNS_MODE_INHERIT: the CDN's dns_mode */
};

/* What a DNS answer for a codepoint holds (the patent's figs. 14-16): the
 * chosen server itself, an explicit redirector of the serving CDN that does
 * the fine-grained choice, or the serving CDN's anycast redirector address. */
enum pc_dns_mode {
	PC_DNS_MODE_SERVER = 0,
	PC_DNS_MODE_REDIRECTOR,
	PC_DNS_MODE_ANYCAST,
	PC_DNS_MODE_INHERIT = 0xff,
};

enum pc_scheme { PC_SCHEME_HTTP = 1, PC_SCHEME_HTTPS = 2, PC_SCHEME_RTSP = 4 };

struct pc_grade {
	const char *name;
	uint32_t tier_mask;     /* tiers this grade may be served from */
	uint32_t max_path_cost; /* how far it may be served from; PC_COST_INFINITE */
};

struct pc_provider {
	const char *name; /* also its customer label in codepoints: "abc" */
	struct pc_index_list primary_cdns;
	uint32_t grade;
	bool require_signature;
	bool has_sign_key, has_enc_key;
	uint8_t sign_key[PC_KEY_BYTES];
	uint8_t enc_key[PC_KEY_BYTES];
	const char **directory_hosts; /* lower case */
	uint32_t n_directory_hosts;
	const char **origin_hosts;
	uint32_t n_origin_hosts;
};

struct pc_agreement {
	const char *name;
	uint32_t cdn_a, cdn_b; /* bilateral: each serves the other's primary customers */
	uint64_t service_mask; /* services covered */
	uint32_t capacity_rps; /* PEER decisions per second; 0 = unlimited */
	bool report_usage;
};

struct pc_server {
	const char *name;
	uint32_t cdn;
	uint32_t as; /* AS index */
	struct pc_addr_list addresses;
	uint16_t http_port, rtsp_port; /* 0 = the scheme's default */
	uint64_t service_mask;
	uint32_t capacity; /* load units (sessions); load >= capacity is overloaded */
	uint32_t tier;
	const char *location; /* optional */
	uint64_t name_hash;   /* for rendezvous hashing; set by pc_model_finish */
};

struct pc_client_net {
	pc_addr prefix;
	uint8_t prefix_len;
	uint32_t as;
	const char *location; /* optional */
};

struct pc_node {
	const char *name;
	uint32_t as;
	struct pc_index_list cdns;     /* CDNs whose domains and anycast addresses it serves */
	struct pc_addr_list addresses; /* unicast (management) addresses */
};

/* Tunables of the decision (docs/config.md, "policy"). */
struct pc_policy_params {
	uint32_t load_weight;   /* cost units added at 100 % load */
	uint32_t affinity_band; /* %: band of the best score sharing objects (policy.c answer) */
	uint32_t high_watermark_pct; /* load above this % of capacity prunes a server */
	uint32_t spill_max_cost;     /* extra path cost a spill to a farther farm may add */
	uint8_t report_prefix4, report_prefix6; /* client prefix kept in reports */
};

typedef struct pc_model {
	pc_arena *arena;
	const char *source; /* file name the model came from, for messages */

	struct pc_as *ases;
	uint32_t n_ases;
	struct pc_cdn *cdns;
	uint32_t n_cdns;
	struct pc_service *services;
	uint32_t n_services;
	const char **tiers;
	uint32_t n_tiers;
	struct pc_grade *grades;
	uint32_t n_grades;
	struct pc_provider *providers;
	uint32_t n_providers;
	struct pc_agreement *agreements;
	uint32_t n_agreements;
	struct pc_server *servers;
	uint32_t n_servers;
	struct pc_client_net *client_nets;
	uint32_t n_client_nets;
	struct pc_node *nodes;
	uint32_t n_nodes;
	uint32_t self_node;       /* the node this config describes, or PC_NONE */
	uint32_t default_service; /* PC_NONE: a codepoint must name its service */
	struct pc_policy_params params;
	/* The roles CDNs may give anycast addresses for (cdns[].anycast): the
	 * names of the daemon sections the config was loaded with. */
	const char **anycast_roles;
	uint32_t n_anycast_roles;

	/* AS graph as given: undirected links with costs. */
	struct pc_link {
		uint32_t as_a, as_b, cost;
	} * links;
	uint32_t n_links;

	/* Derived by pc_model_finish(). */
	uint32_t n_server_ases; /* ASes holding at least one server */
	uint32_t *path_costs;   /* [as * n_server_ases + server_as]: shortest cost */
	/* The same costs regrouped per CDN: [as * n_farm_cells + cdn farm_base +
	 * farm], so scanning one CDN reads one short run of a row. */
	uint32_t n_farm_cells;
	uint32_t *farm_costs;
	/* The shortlist (reach.c): for every AS and CDN, the CDN's farms in
	 * ascending static path cost from that AS (ties: farm order),
	 * unreachable ones last: [as * n_reach_cells + cdn reach_base +
	 * rank]. A decision reads a CDN's nearest farms first and stops at
	 * the first that cannot change its answer. Rows are 64-byte aligned
	 * and a CDN of at most 16 farms never crosses a line (its row starts
	 * on the next line when it would), so reading it is one miss: the
	 * table grows by the padding (1 600 cells a row instead of 1 100 in
	 * bench/decide). */
	uint32_t n_reach_cells;
	struct pc_reach *reach;
	/* [n_servers]: each server's slot, cdn member_base + its index in
	 * the CDN's members. The live state keeps servers in slot order, so
	 * the states of one farm's servers lie together. */
	uint32_t *server_slot;
	/* The shortlist's static filter (reach.c): bit sets over slots, 64
	 * slots a word, n_slot_words words a set: for each service, grade
	 * and family (none, IPv4, IPv6), the servers that offer the service,
	 * have a tier the grade allows and an address of the family, at
	 * [((service * n_grades + grade) * 3 + family) * n_slot_words]. A
	 * decision reads one word and only the servers left, and of those
	 * only their live state and limits (one 16-byte record,
	 * pc_live_servers) until one becomes a candidate (slot_pick, 16 bytes
	 * a slot). NULL when the sets would pass 32 MiB: decisions then take
	 * the full scan. */
	uint32_t n_slot_words;
	uint64_t *filter_slots;
	/* full_load[1] is the capacity; full_load[0] the least load at or
	 * past params.high_watermark_pct of it (load * 100 >= capacity *
	 * pct), computed when the rows are built, so the scan compares one
	 * word per server instead of multiplying: full_load[relaxed] is the
	 * watermark in force (OUTSIDE's load relaxation prunes at 100 %).
	 * pc_live_new copies them next to each server's load and health
	 * (struct pc_live_server), which is where the scan reads them. */
	struct pc_slot_limits {
		uint32_t full_load[2];
	} * slot_limits;
	struct pc_slot_pick { /* [n_servers]: what a candidate carries */
		uint64_t name_hash;
		uint32_t server, unused;
	} * slot_pick;
	/* Client networks ranked by AS (model.c build_ranks): the netmap
	 * maps a client address to a rank; net_of_rank[rank] is the
	 * client_nets index, and the AS comes from rank_first ([n_ases + 2]:
	 * each AS's first rank, then the out-of-range bucket's, then
	 * n_client_nets) and rank_block_as (the AS of every 64th rank), both
	 * small enough to stay cached: pc_model_client_locate. */
	pc_netmap *netmap; /* client address -> rank */
	uint32_t *net_of_rank;
	uint32_t *rank_first;
	uint32_t *rank_block_as;
	pc_strmap *as_by_asn_map; /* key: decimal ASN */
	pc_strmap *cdn_by_name, *cdn_by_domain, *service_by_name, *tier_by_name, *grade_by_name,
	    *provider_by_name, *agreement_by_name, *server_by_name, *node_by_name;
} pc_model;

/* Creation, used by the config loader. pc_model_new gives an empty model
 * with its own arena and no references (self_node, default_service
 * PC_NONE); its params are zero: the defaults are the config schema's
 * (pc_schema_apply_defaults over pc_config_items). The loader fills the arrays from
 * the arena, then pc_model_finish() builds the name maps, the netmap, the
 * per-AS CDN lists, the CDN server and agreement lists and the path-cost
 * table (Dijkstra from every AS that holds servers). */
pc_model *pc_model_new(void); /* NULL when out of memory */
int pc_model_finish(pc_model *model);
void pc_model_free(pc_model *model); /* NULL is fine */

/* Look-ups by name (ASCII case ignored); PC_NONE when absent. */
uint32_t pc_model_cdn(const pc_model *model, const char *name);
uint32_t pc_model_provider(const pc_model *model, const char *name);
uint32_t pc_model_service(const pc_model *model, const char *name);
uint32_t pc_model_server(const pc_model *model, const char *name);
uint32_t pc_model_node(const pc_model *model, const char *name);
uint32_t pc_model_agreement(const pc_model *model, const char *name);
uint32_t pc_model_as_by_asn(const pc_model *model, uint32_t asn);
/* Same, with a length (for labels inside a packet). */
uint32_t pc_model_lookup(const pc_strmap *map, const char *name, size_t len);

/* The CDN whose domain is the longest suffix of a lower- or mixed-case
 * name (no trailing dot) on a label boundary; stores how many leading
 * bytes precede the domain (the codepoint, without its final dot). */
uint32_t pc_model_cdn_for_name(const pc_model *model, const char *name, size_t len,
                               size_t *codepoint_len);

/* The client network holding addr, or PC_NONE; matched_len as netmap. */
uint32_t pc_model_client_net(const pc_model *model, const pc_addr *addr, unsigned *matched_len);
/* The same with the network's AS (client_nets[net].as), found without
 * reading the network; false when no network holds addr. */
bool pc_model_client_locate(const pc_model *model, const pc_addr *addr, uint32_t *net, uint32_t *as,
                            unsigned *matched_len);

/* Static shortest path cost from AS index from_as to the AS of server;
 * PC_COST_INFINITE when unreachable. */
uint32_t pc_model_path_cost(const pc_model *model, uint32_t from_as, uint32_t server);

/* The farms of cdn in ascending static path cost from AS index as
 * (cdns[cdn].n_farms entries; see pc_model.reach); NULL when as or cdn is
 * out of range. */
const struct pc_reach *pc_model_reach(const pc_model *model, uint32_t as, uint32_t cdn);
/* The static path cost of one entry of that row (PC_COST_INFINITE:
 * unreachable). */
static inline uint32_t pc_reach_cost(const pc_model *model, uint32_t as, uint32_t cdn,
                                     const struct pc_reach *entry)
{
	if (entry->cost != PC_REACH_FAR)
		return entry->cost;
	return model->farm_costs[(size_t)as * model->n_farm_cells + model->cdns[cdn].farm_base +
	                         entry->farm];
}

/* The anycast addresses cdn gives for role ("dns", "http", ...); an empty
 * list when it gives none or the model knows no such role. */
const struct pc_addr_list *pc_cdn_anycast(const pc_model *model, const struct pc_cdn *cdn,
                                          const char *role);

bool pc_model_cdn_has_as(const pc_model *model, uint32_t cdn, uint32_t as);
bool pc_provider_is_primary(const pc_model *model, uint32_t provider, uint32_t cdn);
/* The agreement between cdn_a and cdn_b (either order) covering service,
 * or PC_NONE. */
uint32_t pc_model_agreement_between(const pc_model *model, uint32_t cdn_a, uint32_t cdn_b,
                                    uint32_t service);

/* "192.0.2.1" / "2001:db8::1" <-> pc_addr. */
int pc_addr_parse(const char *text, pc_addr *out);
/* Writes a NUL-terminated address; returns its length or PC_ESPACE. */
int pc_addr_format(const pc_addr *addr, char *out, size_t out_size);

/* Whether node answers for cdn's names; node PC_NONE (a tool, a test)
 * answers for every CDN. */
bool pc_model_node_serves(const pc_model *model, uint32_t node, uint32_t cdn);
bool pc_addr_equal(const pc_addr *a, const pc_addr *b);

#endif
