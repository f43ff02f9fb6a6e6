/* dns_answer: the APAR-DNS answer of the patent's §3.1.4 — one query's wire
 * in, one response's wire out — for names nobody configured one by one:
 * <codepoint>.<cdn-domain> is parsed (naming), decided (the object
 * decision every role shares, lib/policy/answer.h) and answered with the
 * chosen server, an explicit redirector, or an anycast redirector
 * address. Pure: no sockets, no clock, no globals; the DNS role of the
 * daemon wraps it, the fuzz target and unit tests call it directly.
 *
 * Wire format is libknot's (Knot DNS): parsing with its compression-loop and
 * bounds checks, writing with name compression and TC handling — except for
 * the common queries, which a direct writer answers without it when the
 * generation's pc_dns_zones is given (below), with the same bytes. */
#ifndef PC_LIB_DNS_ANSWER_H
#define PC_LIB_DNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/model/model.h"
#include "lib/policy/answer.h"
#include "lib/policy/policy.h"
#include "lib/proto/dns_settings.h"

/* Per-thread scratch memory for one query at a time (libknot's packet
 * structures), reset at the start of every answer: no malloc per query. */
typedef struct pc_dns_scratch pc_dns_scratch;
int pc_dns_scratch_new(pc_dns_scratch **out);
void pc_dns_scratch_free(pc_dns_scratch *scratch); /* NULL is fine */

/* What a generation's answers share, built once per config generation
 * (the DNS role's generation state): every zone's SOA rdata. With it and
 * the generation's host table (ctx->hosts) pc_dns_answer writes the common
 * queries — a codepoint's A or AAAA, a zone's SOA, with or without EDNS
 * and a client subnet — straight to the wire, byte for byte what the
 * libknot path writes, and leaves every other query to that path. It
 * keeps pointers to model and dns, which must outlive it. */
typedef struct pc_dns_zones pc_dns_zones;
int pc_dns_zones_new(const pc_model *model, const struct pc_dns_params *dns, pc_dns_zones **out);
void pc_dns_zones_free(pc_dns_zones *zones); /* NULL is fine */

/* What happened to a query, for counters and logs. */
enum pc_dns_class {
	PC_DNS_ANSWER,   /* NOERROR with addresses from a policy decision */
	PC_DNS_APEX,     /* NOERROR at the zone apex or a name server name */
	PC_DNS_NODATA,   /* NOERROR, no answer of that type */
	PC_DNS_NXDOMAIN, /* the codepoint does not parse */
	PC_DNS_REFUSED,  /* outside our zones, wrong class, or signature refused */
	PC_DNS_DECOY,    /* bad signature answered with the decoy address */
	PC_DNS_SERVFAIL, /* policy allows no server now */
	PC_DNS_FORMERR,  /* malformed query answered */
	PC_DNS_BADVERS,  /* EDNS version other than 0 */
	PC_DNS_NOTIMP,   /* opcode other than QUERY */
	PC_DNS_DROPPED,  /* not worth an answer: too short, or a response */
	PC_DNS__CLASS_COUNT
};

const char *pc_dns_class_name(enum pc_dns_class cls); /* "answer", "nxdomain", ... */

/* The query message; who sent it, to which node and when is the answer
 * context (ctx->source: the packet's source address, which an EDNS client
 * subnet replaces for the decision). */
struct pc_dns_query {
	const uint8_t *wire;
	size_t len;
	bool tcp;                        /* no 512/EDNS size limit, no TC */
	const struct pc_dns_params *dns; /* the DNS role's settings (pc_dns_settings) */
	const pc_dns_zones *zones;       /* NULL (or no ctx->hosts): all through libknot */
};

struct pc_dns_result {
	enum pc_dns_class cls;
	uint16_t rcode; /* extended RCODE as sent */
	bool truncated; /* TC was set */
	bool ecs;       /* the query carried a client subnet that was used */
	bool decided;   /* decision below is valid */
	pc_decision decision;
	size_t question_end; /* header + question bytes */
};

/* Answers query in ctx into out (out_size at least 512; 65535 covers
 * TCP). Returns the response length, or 0 when the query is dropped
 * (res->cls says why). The zone's settings are read from ctx->model->dns.
 *
 * Affinity: an answer with server addresses remembers the first of them
 * (decision.servers[0]) for the object, whatever max_answers is; answers
 * naming redirectors or anycast addresses remember nothing (the
 * redirector decides again), nor does a NODATA for a family no server
 * has. */
size_t pc_dns_answer(pc_dns_scratch *scratch, const struct pc_answer_ctx *ctx,
                     const struct pc_dns_query *query, uint8_t *out, size_t out_size,
                     struct pc_dns_result *res);

/* Whether pc_dns_answer would drop this message unanswered whatever it
 * holds: shorter than a header, longer than 65535 bytes, or a response
 * (QR set: reflection fodder). Such a message costs no rate-limit token. */
bool pc_dns_ignored(const uint8_t *wire, size_t len);

/* The "slip" answer of response rate limiting made from the query alone,
 * without a decision or a zone look-up, so a flood spends nothing of the
 * policy's (agreement capacity, affinity memory): the header and question
 * with TC set and no records but an OPT when the query had one (RFC 6891
 * §7, as BIND's slip: our payload, DO copied), which sends a legitimate
 * client to TCP. A query pc_dns_answer would answer header-only anyway
 * gets that answer, OPT included (NOTIMP for an opcode other than QUERY,
 * FORMERR for a question count other than 1, a question that does not
 * parse, records whose names or lengths do not, trailing bytes, or a bad
 * OPT). The slip does not look into rdata, which libknot's parse does: a
 * NOTIMP or FORMERR to a query with an OPT and a record whose rdata
 * libknot refuses carries an OPT that pc_dns_answer's would not, and such
 * a QUERY slips with TC rather than FORMERR. Flags as pc_dns_answer sets
 * them (Z clear, CD and RD only for QUERY, no AA). out_size at least 512.
 * Returns the length, or 0 when the message is pc_dns_ignored. */
size_t pc_dns_slip(const struct pc_dns_query *query, uint8_t *out, size_t out_size);

#endif
