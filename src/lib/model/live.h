/* live: the state that changes while a model generation serves — server
 * load and health, per-agreement usage, measured AS path costs, which
 * servers hold which objects, what peer CDNs offer. Writers
 * (control threads, overlay, health checks) and readers (every decision)
 * touch only C11 atomics with relaxed ordering: a decision may see a value
 * a moment old, never a torn one, and never waits. One pc_live belongs to
 * one pc_model and is sized from it. */
#ifndef PC_LIB_LIVE_H
#define PC_LIB_LIVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/model/model.h"

typedef struct pc_live pc_live;

enum pc_health { PC_HEALTH_UP = 0, PC_HEALTH_DOWN = 1, PC_HEALTH_DRAINING = 2 };

/* All servers up with load 0, path costs from the model. The model must
 * outlive the live state. */
int pc_live_new(const pc_model *model, pc_live **out);
void pc_live_free(pc_live *live); /* NULL is fine */

/* After a reload: copy load and health of servers, and the window and
 * total of agreements, that keep their names from old into fresh, and the
 * measured costs between ASes that keep their ASNs, and the replicas of
 * servers that keep their names, and the offers of CDNs that keep their
 * names (services by name, footprints by ASN). Not for the hot path:
 * it may allocate (and silently carries less when that fails). */
void pc_live_carry(pc_live *fresh, const pc_live *old);

void pc_live_set_load(pc_live *live, uint32_t server, uint32_t load);
uint32_t pc_live_load(const pc_live *live, uint32_t server);
void pc_live_set_health(pc_live *live, uint32_t server, enum pc_health health);
enum pc_health pc_live_health(const pc_live *live, uint32_t server);
/* Sets server's health to to only if it is from, in one compare-and-swap
 * (a health check moves UP and DOWN without undoing a drain that a control
 * thread set meanwhile). Returns whether it did. */
bool pc_live_health_change(pc_live *live, uint32_t server, enum pc_health from, enum pc_health to);

/* The load and health of one server as decisions scan them. The live
 * state keeps servers in slot order (pc_model.server_slot: a CDN's
 * members, farm by farm), so one farm's states share a cache line or two;
 * pc_live_servers gives the array (n_servers entries) for the policy's
 * scan to read with relaxed atomic loads. Everyone else uses the
 * functions above, by server index. */
struct pc_live_server {
	/* The load (load units) in the low 32 bits, the enum pc_health in
	 * the high 32: since PC_HEALTH_UP is 0, state < n holds exactly when
	 * the server is up with a load below n, one compare for the scan. */
	_Atomic uint64_t state;
	/* The model's pc_slot_limits, copied by pc_live_new: the scan reads
	 * one 16-byte record a server, four to a line. */
	uint32_t full_load[2];
};
const struct pc_live_server *pc_live_servers(const pc_live *live);

/* Passed as cost to pc_live_set_path_cost: forget the measurement and use
 * the model's static cost again. */
#define PC_COST_STATIC (UINT32_MAX - 1)

/* Measured path cost from AS index as to server_as, the AS index (into
 * model->ases, not the server_as column) of a farm holding servers,
 * replacing the static cost; PC_COST_INFINITE marks the path unusable,
 * PC_COST_STATIC restores the model's cost. Ignored for an AS without
 * servers or an index out of range. */
void pc_live_set_path_cost(pc_live *live, uint32_t as, uint32_t server_as, uint32_t cost);
/* The cost the policy uses from AS index as to server: the measurement
 * when there is one, else the model's; PC_COST_INFINITE when unreachable
 * or an index is out of range. */
uint32_t pc_live_path_cost(const pc_live *live, uint32_t as, uint32_t server);
/* The same from AS index as to the farm in AS index farm_as. */
uint32_t pc_live_farm_cost(const pc_live *live, uint32_t as, uint32_t farm_as);
/* The same for farm number farm of CDN cdn (pc_cdn.farm_as): the policy's
 * fast path, one short run of one row per CDN. */
uint32_t pc_live_cdn_farm_cost(const pc_live *live, uint32_t as, uint32_t cdn, uint32_t farm);

/* Whether any cost from AS index as was measured in this live state
 * (restoring PC_COST_STATIC does not clear it; true for an index out of
 * range). The policy's shortlist (pc_model.reach) holds static costs only,
 * so a decision for a client in such an AS scans every farm instead. */
bool pc_live_as_measured(const pc_live *live, uint32_t as);

/* Agreement usage in one-second windows (capacity_rps of the model;
 * 0 = unlimited, still counted). try_take counts one PEER decision at
 * now_ms and returns false, counting nothing, when the window is full. It
 * is one compare-and-swap on (window, count), so concurrent callers never
 * take more than capacity_rps in one window; a caller whose now_ms is
 * older than the current window counts against the current window. */
bool pc_live_agreement_try_take(pc_live *live, uint32_t agreement, uint64_t now_ms);
/* Decisions taken in the current window, and in total since start. */
uint32_t pc_live_agreement_window(const pc_live *live, uint32_t agreement, uint64_t now_ms);
uint64_t pc_live_agreement_total(const pc_live *live, uint32_t agreement);

/* Replicas: which servers hold which objects, so that the policy can
 * prefer a holder among the servers it already allows (docs/policy.md,
 * "Replicas"). Set when an edge finishes a fill or a pre-fill of an
 * object (today only the node's own edge; the overlay will carry these
 * events between nodes). A bounded table: PC_REPLICA_SLOTS buckets of
 * PC_REPLICA_WAYS holders, each a 64-bit atomic of a 24-bit tag of the
 * object's hash, the server index + 1 (24 bits) and the time in seconds
 * (16 bits, compared modulo 2^16). A memory lasts PC_REPLICA_TTL_S after
 * its last report and is forgotten after, or sooner when its bucket fills
 * with newer ones (the oldest goes): a hint, never a promise — the
 * holder may have evicted the object, and collisions lose memories. */
enum {
	PC_REPLICA_BUCKETS = 4096,
	PC_REPLICA_WAYS = 4, /* holders remembered per object (per bucket) */
	PC_REPLICA_TTL_S = 1800,
};

/* The key of an object both sides compute alike: the redirector from the
 * URL's object ("www.foo.com/index.html", pc_url.name.object) and the
 * edge from its cache key without the query. Case-insensitive, as the
 * affinity key is. */
uint64_t pc_live_object_key(const char *object, size_t len);

/* server holds the object of key at now_ms (wall clock). Ignored for a
 * server out of range. Any thread. */
void pc_live_replica_add(pc_live *live, uint64_t key, uint32_t server, uint64_t now_ms);
/* Writes up to max holders of key remembered at now_ms into out (server
 * indexes, no duplicates); returns how many. Any thread. */
uint32_t pc_live_replicas(const pc_live *live, uint64_t key, uint64_t now_ms, uint32_t *out,
                          uint32_t max);

/* Offers (claim 9): what a peer CDN announces it offers this node's CDN
 * (RESOURCE records over the overlay, docs/overlay.md), kept per offering
 * CDN so that the policy can respect them when it sends clients to that
 * CDN's servers under an agreement (docs/policy.md, "Offers"). An offer is
 * in force for PC_OFFER_TTL_MS after it was last received (peers re-announce
 * every 2 s); after that, or before any, the agreement alone decides.
 * Fields are separate atomics: a decision may see an offer halfway through
 * an update (new services with the old capacity), each field whole. */
enum { PC_OFFER_TTL_MS = 10000 };

struct pc_live_offer {
	uint64_t version;  /* the announcement's time, unix ms: only a newer one replaces */
	uint64_t services; /* a bit per service index of the model */
	uint64_t capacity; /* load units the peer offers in all */
	bool footprint;    /* true: only clients of the ASes given to set are sent */
};

/* Sets cdn's offer, received at now_ms (the clock decisions pass as
 * pc_request.now_ms), with the n_ases AS indexes of its footprint when
 * offer->footprint. PC_OK; PC_EEXIST when the version is not newer than the
 * one held (nothing changes); PC_EINVAL for a CDN or AS out of range;
 * PC_ENOMEM. Not for the hot path (the first footprint of a CDN allocates);
 * one writer at a time. */
int pc_live_offer_set(pc_live *live, uint32_t cdn, const struct pc_live_offer *offer,
                      const uint32_t *ases, uint32_t n_ases, uint64_t now_ms);
/* The offer of cdn in force at now_ms into *out: false when none was
 * received or the last is older than PC_OFFER_TTL_MS. Any thread. */
bool pc_live_offer(const pc_live *live, uint32_t cdn, uint64_t now_ms, struct pc_live_offer *out);
/* Whether the footprint of cdn's offer holds AS index as (read it only
 * when pc_live_offer says footprint). Any thread. */
bool pc_live_offer_covers(const pc_live *live, uint32_t cdn, uint32_t as);
/* The sum of the loads of cdn's servers, load units. Any thread: one
 * relaxed load per server, not for every decision. */
uint64_t pc_live_cdn_load(const pc_live *live, uint32_t cdn);

const pc_model *pc_live_model(const pc_live *live);

#endif
