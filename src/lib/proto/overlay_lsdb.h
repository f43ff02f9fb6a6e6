/* overlay_lsdb: the overlay's link-state database and shortest paths (patent
 * §3.3, claims 7-8): every content router floods an LSA listing its virtual
 * links and their costs; from the same database each router computes, per
 * source, its parent toward that source (the next hop on its shortest path)
 * and its children (the neighbours whose parent toward the source is this
 * router), which is all the reverse-path multicast of overlay_channel needs.
 *
 * Routers are named by a 32-bit id, the FNV-1a hash of the node's name
 * (pc_overlay_router_id): the same on every node and across reloads, unlike
 * a node's index in one config's model. 0 means "no router".
 *
 * Pure: no I/O, no clock (the caller passes now_ms), not thread-safe (one
 * owner, the overlay role's thread). See docs/overlay-routing.md. */
#ifndef PC_LIB_OVERLAY_LSDB_H
#define PC_LIB_OVERLAY_LSDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_OVERLAY_ROUTER_NONE 0u
#define PC_LSA_COST_MAX        0xffffffu /* a link costs 1..this */
/* OR-ed into a link's cost: not an adjacency but a summary — the origin, a
 * border router, reaches that router at that cost through routers it does
 * not advertise across a peering link (docs/overlay.md, "Peering"). */
#define PC_LSA_SUMMARY 0x80000000u

typedef struct pc_lsdb pc_lsdb;

/* FNV-1a of name's bytes; the never-used value 0 becomes 1. Two configured
 * nodes whose ids collide must be rejected by the caller's config check. */
uint32_t pc_overlay_router_id(const char *name);

struct pc_lsa_link {
	uint32_t neighbour;
	uint32_t cost; /* 1..PC_LSA_COST_MAX, the cost of the link from origin */
};

/* One router's advertisement, as decoded from the wire or to be encoded. */
struct pc_lsa {
	uint32_t origin;
	uint32_t seq;    /* RFC 1982 serial arithmetic: a wrap is fine */
	uint32_t age_ms; /* how long since origination; >= max_age flushes it */
	uint16_t n_links;
	const struct pc_lsa_link *links;
};

struct pc_lsdb_params {
	uint32_t self;           /* this router's id */
	uint32_t max_routers;    /* LSAs held, ours included; 0: 1024 */
	uint16_t max_neighbours; /* links in one LSA; 0: 64 */
	uint32_t max_age_ms;     /* an LSA not refreshed this long is dropped; 0: 60000 */
	uint32_t refresh_ms;     /* our own LSA is re-originated this often; 0: max_age / 3 */
};

/* What pc_lsdb_install made of a received LSA: an answer, not a failure. */
enum pc_lsdb_verdict {
	PC_LSDB_NEWER, /* installed (or flushed ours): flood to every neighbour but the sender */
	PC_LSDB_OLDER, /* ours is newer: send ours (pc_lsdb_get) back to the sender */
	PC_LSDB_DUPLICATE, /* the copy we hold: nothing to flood */
	PC_LSDB_SELF,      /* a copy of our own from before a restart, newer than ours: our
	                    * sequence jumped past it; flood ours (pc_lsdb_get(self)) */
};

struct pc_lsdb_stats {
	uint64_t installed, older, duplicate, flushed, expired;
	uint64_t rejected_malformed; /* origin 0, self-link, repeated neighbour, bad cost */
	uint64_t rejected_links;     /* more links than max_neighbours */
	uint64_t rejected_full;      /* a new origin beyond max_routers */
	uint64_t summaries_dropped;  /* summarised routers beyond max_routers, at an SPF */
	uint64_t spf_runs;
};

int pc_lsdb_new(const struct pc_lsdb_params *params, pc_lsdb **out);
void pc_lsdb_free(pc_lsdb *lsdb); /* NULL is fine */

/* Installs a received LSA (copied; lsa may go away after the call) and says
 * what to do with it in *verdict. Returns PC_ESYNTAX for a malformed LSA,
 * PC_ERANGE for too many links, PC_ENOSPC for a new origin in a full
 * database (each counted, nothing changed), PC_ENOMEM. */
int pc_lsdb_install(pc_lsdb *lsdb, const struct pc_lsa *lsa, uint64_t now_ms,
                    enum pc_lsdb_verdict *verdict);

/* Originates our own LSA with these links (the neighbours whose links are
 * up, each once) under the next sequence number; *out (may be NULL) is the
 * LSA to flood, valid until the database next changes. Errors as install. */
int pc_lsdb_originate(pc_lsdb *lsdb, const struct pc_lsa_link *links, uint16_t n_links,
                      uint64_t now_ms, struct pc_lsa *out);

/* Drops every LSA of another router that reached max_age and returns how
 * many; *refresh_own is set when our LSA is due for pc_lsdb_originate
 * (or was never originated). Call it about once a second. */
uint32_t pc_lsdb_tick(pc_lsdb *lsdb, uint64_t now_ms, bool *refresh_own);

/* The LSA held for origin, its age as of now_ms. PC_ENOENT when none. The
 * links stay valid until the database next changes. */
int pc_lsdb_get(const pc_lsdb *lsdb, uint32_t origin, uint64_t now_ms, struct pc_lsa *out);

/* The i-th LSA held (ascending origin), for a full exchange with a
 * neighbour whose link just came up. i < pc_lsdb_count(). */
uint32_t pc_lsdb_count(const pc_lsdb *lsdb);
void pc_lsdb_at(const pc_lsdb *lsdb, uint32_t i, uint64_t now_ms, struct pc_lsa *out);

/* Whether the database changed since the last pc_lsdb_spf. */
bool pc_lsdb_dirty(const pc_lsdb *lsdb);

/* Recomputes every route from the database, wholesale: one Dijkstra per
 * origin over the links both ends report (the two-way check), toward that
 * origin. A router no LSA describes but some LSA's summary link names
 * gets a route too: through the summarising router whose route cost plus
 * summary cost is lowest (ties: lowest id), with that router's parent and
 * no children; such routes, and all, are at most max_routers. Summary links
 * to routers that have an LSA here are ignored: their own LSA routes them. Between equal-cost paths
 * the next hop is the lowest router id, the same rule on every router, so a router's view of its
 * neighbours' parents agrees with theirs when the databases agree. Routes stay as computed until
 * the next call. PC_ENOMEM. */
int pc_lsdb_spf(pc_lsdb *lsdb);

/* The route toward destination (as a unicast target or a multicast source)
 * from the last pc_lsdb_spf. */
struct pc_overlay_route {
	uint32_t destination;
	uint32_t parent; /* our next hop toward it; NONE when it is us */
	uint64_t cost;   /* sum of link costs along the path; 0 for us */
	uint32_t n_children;
	const uint32_t *children; /* neighbours whose parent toward it is us, ascending */
};

/* PC_ENOENT when destination is unknown or unreachable. *out's children
 * stay valid until the next pc_lsdb_spf. */
int pc_lsdb_route(const pc_lsdb *lsdb, uint32_t destination, struct pc_overlay_route *out);

/* The routes of the last pc_lsdb_spf, ascending by destination (ours
 * included): i < pc_lsdb_route_count(). *out as pc_lsdb_route's. */
uint32_t pc_lsdb_route_count(const pc_lsdb *lsdb);
void pc_lsdb_route_at(const pc_lsdb *lsdb, uint32_t i, struct pc_overlay_route *out);

/* The parent toward destination, or NONE (unreachable, or us). */
uint32_t pc_lsdb_parent(const pc_lsdb *lsdb, uint32_t destination);

const struct pc_lsdb_stats *pc_lsdb_stats(const pc_lsdb *lsdb);

#endif
