/* policy: the decision of DESIGN.md §2 — which server serves this client for
 * this request, asked by every redirector role (DNS, CDSR, HTTP, RTSP).
 *
 * Claims 1-2: serve inside the client's CDN when it is a primary CDN of the
 * provider (PRIMARY) or has a content-peering agreement with one covering
 * the service with capacity left (PEER); otherwise from the nearest primary
 * CDN (OUTSIDE). Claims 15-16: candidates matching the request are pruned
 * by health, load, service grade and path cost. Claim 13: when nearer farms
 * are full, spill to farms in nearby ASes. Claim 19: client preferences.
 * Claim 9: a CDN serving only under an agreement is held to what it offers
 * us (pc_live_offer: services, footprint, capacity).
 * Affinity: rendezvous hashing of the object over the servers whose score is
 * within the affinity band of the best, so one object keeps going to one
 * server while load allows; a server of the band the live state knows to
 * hold the object (pc_live_replicas) comes first.
 *
 * pc_policy_decide does no I/O, takes no lock and allocates nothing; it may
 * run on any number of threads at once over the same model and live state. */
#ifndef PC_LIB_POLICY_H
#define PC_LIB_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/model/live.h"
#include "lib/model/model.h"

#define PC_MAX_AVOID 8

enum pc_branch {
	PC_BRANCH_NONE = 0, /* no server: see the error */
	PC_BRANCH_PRIMARY,  /* claim 1: client's CDN is a primary CDN of the provider */
	PC_BRANCH_PEER,     /* claim 2: client's CDN peers with a primary CDN */
	PC_BRANCH_OUTSIDE,  /* claim 2: served outside the client's CDN */
};

/* Modifiers of a decision, OR-ed into pc_decision.flags. */
enum pc_decision_flag {
	PC_DF_CLIENT_UNKNOWN = 1 << 0, /* client address in no client network: node's AS used */
	PC_DF_NO_CLIENT_CDN = 1 << 1,  /* client's AS is in no CDN */
	PC_DF_SPILL = 1 << 2,          /* claim 13: nearest farm full, a farther AS serves */
	PC_DF_FALLBACK = 1 << 3,       /* the first branch had no usable server */
	PC_DF_PREFERRED = 1 << 4,      /* claim 19: the client's preferred CDN was used */
	PC_DF_AGREEMENT_FULL = 1 << 5, /* an agreement was skipped for capacity */
	PC_DF_AFFINITY = 1 << 6,       /* chosen by object hash within the band */
	PC_DF_RELAXED = 1 << 7, /* OUTSIDE had to relax the grade's limits (PC_PASS_RELAX_*) */
	PC_DF_REPLICA = 1 << 8, /* the winner is in the band and known to hold the object */
	PC_DF_OFFER = 1 << 9,   /* claim 9: a peer CDN's offer kept its servers out */
};

typedef struct pc_request {
	pc_addr client;             /* family PC_AF_NONE when unknown */
	uint32_t node;              /* capturing node, or PC_NONE */
	uint32_t provider, service; /* from naming; both required */
	const char *object;         /* affinity key; may be NULL */
	size_t object_len;
	/* Claim 19: client-configured preferences. */
	uint32_t preferred_cdn;       /* PC_NONE for none */
	uint32_t avoid[PC_MAX_AVOID]; /* servers that failed for this client */
	uint32_t n_avoid;
	uint8_t family;       /* PC_AF_INET / PC_AF_INET6: address wanted; NONE = any */
	uint32_t max_answers; /* 1..PC_MAX_ANSWERS; 0 means 1 */
	/* Affinity memory (lib/affinity.h): a server this object was sent to
	 * recently. Chosen again while it survives pruning and scores within
	 * the affinity band of the best; PC_NONE for none. */
	uint32_t sticky_server;
	uint64_t now_ms; /* for agreement accounting windows */
} pc_request;

/* Why a candidate was dropped (claims 15-16). */
enum pc_prune_reason {
	PC_PRUNE_SERVICE = 1, /* does not offer the service */
	PC_PRUNE_DOWN,        /* health down or draining */
	PC_PRUNE_LOAD,        /* load above the high watermark */
	PC_PRUNE_GRADE_TIER,  /* provider's grade does not allow its tier */
	PC_PRUNE_PATH_COST,   /* farther than the grade allows (or unreachable) */
	PC_PRUNE_AVOIDED,     /* the client asked to avoid it */
	PC_PRUNE_FAMILY,      /* has no address of the wanted family */
};

/* The optional step-by-step account of a decision (for peercdnctl explain
 * and debug logs). Filled only when the caller passes one; fixed size, so
 * tracing allocates nothing either. */
enum pc_trace_kind {
	PC_TRACE_CLIENT,      /* a = client net or PC_NONE, b = AS index */
	PC_TRACE_CLIENT_CDN,  /* a = CDN index the client's AS belongs to */
	PC_TRACE_PRIMARY_CDN, /* a = a primary CDN of the provider */
	PC_TRACE_BRANCH,      /* a = enum pc_branch tried, b = CDN index */
	PC_TRACE_AGREEMENT,   /* a = agreement, b = 1 taken / 0 full / 2 not covering */
	PC_TRACE_PRUNE,       /* a = server, b = enum pc_prune_reason, c = value (load %, cost) */
	PC_TRACE_CANDIDATE,   /* a = server, b = path cost, c = score */
	PC_TRACE_SPILL,       /* a = server chosen from a farther farm, b = its cost */
	PC_TRACE_WINNER,      /* a = server, b = score */
	PC_TRACE_NOTE,        /* a = enum pc_decision_flag that was set */
	PC_TRACE_PASS,        /* a = enum pc_pass starting, b and c its range (see there) */
	PC_TRACE_REPLICA,     /* a = a server in the affinity band known to hold the object */
	PC_TRACE_OFFER, /* a = CDN kept out by its offer, b = enum pc_offer_refusal, c = its load */
};

/* Why a peer CDN's offer (claim 9, pc_live_offer) kept it out of a decision
 * that would have sent the client to it under an agreement. */
enum pc_offer_refusal {
	PC_OFFER_SERVICE = 1, /* the service is not among those it offers */
	PC_OFFER_FOOTPRINT,   /* the client's AS is outside the footprint it offers */
	PC_OFFER_CAPACITY,    /* its servers' load reached the capacity it offers */
};

/* A CDN's servers are scanned once; a second pass over them is traced as
 * a PC_TRACE_PASS step, after which each server appears once more at most.
 * SPILL: claim 13, farms at path cost in (b, c]. RELAX_*: OUTSIDE found no
 * server within the grade's limits, and claim 2 still sends the client to
 * a primary CDN; the limits are lifted in this order, each pass over the
 * OUTSIDE CDNs again: first the grade's max_path_cost (b = it), then also
 * the high watermark (servers up to full capacity; b = the watermark %). */
enum pc_pass {
	PC_PASS_SPILL = 1,
	PC_PASS_RELAX_COST,
	PC_PASS_RELAX_LOAD,
};

struct pc_trace_step {
	uint8_t kind;
	uint32_t a, b, c;
};

#define PC_TRACE_MAX 256
typedef struct pc_trace {
	struct pc_trace_step steps[PC_TRACE_MAX];
	uint32_t count;
	bool truncated;
} pc_trace;

typedef struct pc_decision {
	enum pc_branch branch;
	uint32_t flags;                   /* enum pc_decision_flag bits */
	uint32_t client_net, client_as;   /* PC_NONE when unknown */
	uint32_t cdn;                     /* serving CDN */
	uint32_t agreement;               /* PEER: the agreement counted; else PC_NONE */
	uint32_t servers[PC_MAX_ANSWERS]; /* best first */
	uint32_t n_servers;
	uint32_t path_cost;    /* of servers[0] */
	unsigned client_scope; /* prefix length that determined the answer (ECS scope) */
} pc_decision;

/* Decides. Returns 0 and fills out, or PC_ENOSERVER (out->branch NONE) when
 * policy allows no server, or PC_EINVAL for a request out of contract.
 * trace may be NULL. */
int pc_policy_decide(const pc_model *model, pc_live *live, const pc_request *req, pc_decision *out,
                     pc_trace *trace);

/* Stable upper-case names for logs, reports and the CLI. */
const char *pc_branch_name(enum pc_branch branch);
const char *pc_prune_reason_name(enum pc_prune_reason reason);
/* "SPILL,AFFINITY" style; writes a NUL-terminated list, "-" when none. */
int pc_decision_flags_format(uint32_t flags, char *out, size_t out_size);

/* Initialises a request with no preferences and PC_NONE fields. */
void pc_request_init(pc_request *req);

#endif
