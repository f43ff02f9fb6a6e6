/* http_cache: the rules of a SHARED HTTP cache (RFC 9111, with RFC 9110's
 * conditional and range requests and RFC 5861's stale-* extensions), as
 * pure functions the edge role calls: what may be stored, for how long it
 * is fresh, whether a stored response may answer a request, how variants
 * are told apart, how a 304 updates a stored head, what a client's
 * conditional or Range request gets, what an unsafe method invalidates.
 *
 * Built to the RFC, not to one proxy's defaults: where the RFC lets a
 * cache choose, the choice is the conservative one and is said at the
 * function. No I/O, no allocation, no clock: times are seconds since the
 * epoch, passed in by the caller. Heads are parsed by http_msg. */
#ifndef PC_LIB_HTTP_CACHE_H
#define PC_LIB_HTTP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/proto/http_msg.h"

/* RFC 9111 §1.2.2: a delta-seconds too large to represent, and an Age
 * that overflows, are taken and sent as 2^31. */
#define PC_CACHE_DELTA_MAX INT64_C(2147483648)
/* Cap on a heuristic freshness lifetime (§4.2.2): a day, so no heuristic
 * answer is ever older than a day without being revalidated. */
#define PC_CACHE_HEURISTIC_MAX INT64_C(86400)
/* How long past its lifetime a response is still served when the upstream
 * cannot be reached (pc_cache_stale_disconnected): a day. */
#define PC_CACHE_DISCONNECTED_STALE INT64_C(86400)

/* ---- Cache-Control (§5.2) ---- */

/* A delta-seconds argument that is absent, or present but not a valid
 * delta-seconds (§4.2.1: an invalid max-age makes the response stale). */
#define PC_CC_ABSENT  INT64_C(-1)
#define PC_CC_INVALID INT64_C(-2)

enum pc_cc_flag {
	PC_CC_NO_STORE = 1u << 0,
	PC_CC_NO_CACHE = 1u << 1,        /* no-cache without field names */
	PC_CC_NO_CACHE_FIELDS = 1u << 2, /* no-cache="a, b" (response) */
	PC_CC_PRIVATE = 1u << 3,         /* private without field names */
	PC_CC_PRIVATE_FIELDS = 1u << 4,  /* private="a, b" */
	PC_CC_PUBLIC = 1u << 5,
	PC_CC_MUST_REVALIDATE = 1u << 6,
	PC_CC_PROXY_REVALIDATE = 1u << 7,
	PC_CC_NO_TRANSFORM = 1u << 8,
	PC_CC_IMMUTABLE = 1u << 9,
	PC_CC_MUST_UNDERSTAND = 1u << 10,
	PC_CC_ONLY_IF_CACHED = 1u << 11, /* request */
	PC_CC_MAX_STALE_ANY = 1u << 12,  /* request max-stale without a value */
	PC_CC_TARGETED = 1u << 13,       /* read from CDN-Cache-Control (RFC 9213) */
};

/* The directives of every Cache-Control field of a head, in order, as
 * §5.2 reads them: names case-insensitive, arguments as token or
 * quoted-string, unknown directives ignored, a directive inside a quoted
 * string never seen. A directive given twice: the first occurrence counts
 * (§4.2.1 allows first or stale; first keeps `max-age=1800, max-age=1`
 * fresh). A delta-seconds with anything but digits ("-1", "1.5", "a1",
 * "' 1'") is PC_CC_INVALID; one over 2^31 is 2^31. */
struct pc_cache_control {
	uint32_t flags; /* PC_CC_* */
	/* delta-seconds, or PC_CC_ABSENT / PC_CC_INVALID */
	int64_t max_age;
	int64_t s_maxage;               /* response */
	int64_t stale_while_revalidate; /* response (RFC 5861) */
	int64_t stale_if_error;         /* response and request (RFC 5861) */
	int64_t max_stale;              /* request; see PC_CC_MAX_STALE_ANY */
	int64_t min_fresh;              /* request */
};

/* The Cache-Control of a response, as this cache, a CDN, obeys it: a
 * valid, non-empty CDN-Cache-Control field (RFC 9213; a Structured Field
 * Dictionary, parsed strictly: any syntax error ignores the whole field)
 * is read instead of Cache-Control, and then Expires is ignored too; the
 * result then has PC_CC_TARGETED. There, delta-seconds are Integers and
 * flags Booleans (`no-store=?0` is off); a value of another type is not
 * used; private and no-cache with field names count unqualified. */
void pc_cache_control_response(const struct pc_http_head *resp, struct pc_cache_control *out);
/* The Cache-Control of a request; with no Cache-Control field at all,
 * `Pragma: no-cache` counts as no-cache (§5.4). */
void pc_cache_control_request(const struct pc_http_head *req, struct pc_cache_control *out);

/* ---- status codes ---- */

/* Heuristically cacheable by default (RFC 9110 §15.1): 200 203 204 206
 * 300 301 308 404 405 410 414 501. */
bool pc_cache_status_heuristic(unsigned status);
/* A final status whose semantics this cache implements (the codes RFC
 * 9110 defines): what must-understand asks for (§5.2.2.3). */
bool pc_cache_status_understood(unsigned status);

/* ---- storing (§3) ---- */

/* Why a response may not be stored; PC_CACHE_STORE_OK when it may. */
enum pc_cache_store {
	PC_CACHE_STORE_OK = 0,
	PC_CACHE_STORE_METHOD,        /* request not GET (HEAD only freshens, §4.3.5) */
	PC_CACHE_STORE_STATUS,        /* 1xx, 304, or not understood with must-understand */
	PC_CACHE_STORE_PARTIAL,       /* 206: this cache keeps whole objects only */
	PC_CACHE_STORE_NO_STORE,      /* no-store in the request or the response */
	PC_CACHE_STORE_PRIVATE,       /* private (unqualified) */
	PC_CACHE_STORE_AUTHORIZATION, /* request had Authorization, response no
	                               * public, s-maxage or must-revalidate (§3.5) */
	PC_CACHE_STORE_VARY_STAR,     /* Vary: * never matches a later request */
	PC_CACHE_STORE_NO_FRESHNESS,  /* no explicit freshness, no public, and a
	                               * status that is not heuristically cacheable */
};

/* Whether a shared cache may store resp, the answer to req (§3): GET only;
 * no-store in either (unless the response has must-understand and the
 * status is understood: §5.2.2.3); not private (private="fields" is
 * stored without those fields, see pc_cache_write_head); Authorization
 * only with public, s-maxage or must-revalidate; and Expires, max-age,
 * s-maxage, public, or a heuristically cacheable status. 206 and 304 are
 * never stored: 304 freshens (pc_cache_write_head), 206 is only served
 * from a whole stored object. */
enum pc_cache_store pc_cache_storable(const struct pc_http_head *req,
                                      const struct pc_http_head *resp);
/* A sentence for a reason ("no-store"), static. */
const char *pc_cache_store_name(enum pc_cache_store reason);

/* ---- freshness and age (§4.2) ---- */

/* What the cache keeps of a stored response to decide on it later, a
 * fixed-size record (the edge store's meta). Filled by
 * pc_cache_entry_init from the response as received; refilled after a
 * 304 from the merged head with the revalidation's times. */
enum pc_cache_entry_flag {
	PC_CACHE_E_NO_CACHE = 1u << 0,  /* no-cache: revalidate before every use */
	PC_CACHE_E_NO_STALE = 1u << 1,  /* must-revalidate, proxy-revalidate or
	                                 * s-maxage: never served stale (§4.2.4) */
	PC_CACHE_E_HEURISTIC = 1u << 2, /* lifetime is heuristic (§4.2.2) */
	PC_CACHE_E_IMMUTABLE = 1u << 3, /* RFC 8246: fresh means no client reload */
};

struct pc_cache_entry {
	int64_t request_time;           /* when the request was sent upstream */
	int64_t response_time;          /* when the response (its head) arrived */
	int64_t date;                   /* Date, or response_time when absent or invalid */
	int64_t last_modified;          /* Last-Modified, -1 when absent or invalid */
	int64_t initial_age;            /* corrected_initial_age (§4.2.3) */
	int64_t lifetime;               /* freshness lifetime (§4.2.1), >= 0 */
	int64_t stale_while_revalidate; /* window after lifetime, -1 none */
	int64_t stale_if_error;         /* window after lifetime, -1 none */
	uint32_t flags;                 /* PC_CACHE_E_* */
	unsigned status;
};

/* Fills entry for resp, requested at request_time and received at
 * response_time. The lifetime (§4.2.1), in order: s-maxage, max-age,
 * Expires - Date (an invalid Expires: 0), else heuristic 10% of Date -
 * Last-Modified capped at PC_CACHE_HEURISTIC_MAX, only for a
 * heuristically cacheable status or public; else 0. An invalid s-maxage
 * or max-age gives 0 (stale). */
void pc_cache_entry_init(struct pc_cache_entry *entry, const struct pc_http_head *resp,
                         int64_t request_time, int64_t response_time);
/* current_age (§4.2.3) at now, capped at PC_CACHE_DELTA_MAX: the value of
 * the Age field to send with the stored response (§5.1). */
int64_t pc_cache_entry_age(const struct pc_cache_entry *entry, int64_t now);
/* Whether the lifetime exceeds the current age at now. */
bool pc_cache_entry_fresh(const struct pc_cache_entry *entry, int64_t now);

/* ---- reuse (§4) ---- */

enum pc_cache_use {
	PC_CACHE_MISS,             /* nothing stored: fetch */
	PC_CACHE_FRESH,            /* serve the stored response */
	PC_CACHE_STALE,            /* serve it stale: the request's max-stale allows it */
	PC_CACHE_STALE_REVALIDATE, /* serve it stale and revalidate in the
	                            * background (stale-while-revalidate) */
	PC_CACHE_REVALIDATE,       /* send a conditional request upstream
	                            * (pc_cache_validators); serve it on 304 */
	PC_CACHE_GATEWAY_TIMEOUT,  /* only-if-cached and nothing servable: 504 */
};

/* What to do with a request whose Cache-Control is req_cc (from
 * pc_cache_control_request) given the stored entry (NULL: none) at now.
 * Revalidate: on the response's no-cache, the request's no-cache, an age
 * over the request's max-age (max-age=0: always), a remaining freshness under its min-fresh,
 * and when stale unless stale serving is allowed (stale-while-revalidate
 * window, then the request's max-stale) and not prohibited (no-stale
 * entries). only-if-cached turns MISS and REVALIDATE into
 * GATEWAY_TIMEOUT. The request's no-store does not stop a stored response
 * from being used (§5.2.1.5). */
enum pc_cache_use pc_cache_decide(const struct pc_cache_entry *entry,
                                  const struct pc_cache_control *req_cc, int64_t now);
const char *pc_cache_use_name(enum pc_cache_use use);

/* Whether the stored entry may be served stale because the upstream
 * failed (no answer, or 500, 502, 503, 504) at now: within the response's
 * or the request's stale-if-error window (RFC 5861 §4), and not when the
 * entry may never be served stale or the request had no-cache. A fresh
 * entry is always servable. */
bool pc_cache_stale_on_error(const struct pc_cache_entry *entry,
                             const struct pc_cache_control *req_cc, int64_t now);
/* Whether the stored entry may be served stale because the upstream gave
 * no answer at all (refused, reset, timed out, broken): §4.2.4 lets a
 * cache that is disconnected serve stale unless a directive prohibits it.
 * Not for no-cache, must-revalidate, proxy-revalidate or s-maxage
 * entries, nor when the request has no-cache, max-age or min-fresh (the
 * client asked for a bound on age); at most PC_CACHE_DISCONNECTED_STALE
 * seconds past the lifetime, or the stale-if-error window if longer. An
 * upstream that answers, even 5xx, is not disconnected:
 * pc_cache_stale_on_error decides then. */
bool pc_cache_stale_disconnected(const struct pc_cache_entry *entry,
                                 const struct pc_cache_control *req_cc, int64_t now);
/* Whether an upstream status counts as an error for stale-if-error. */
bool pc_cache_status_is_error(unsigned status);

/* ---- variants (§4.1) ---- */

/* The secondary key of req for the stored response resp: for each field
 * name resp's Vary lists (lower-cased, sorted, duplicates dropped),
 * "name:value\n" with req's fields of that name joined with ", " and runs
 * of whitespace folded to one space, or "name\n" when req has none. Two
 * requests select the same variant exactly when their keys are equal.
 * Written to out (not NUL-terminated). Returns its length (0: no Vary),
 * PC_ENOENT for Vary: * (matches nothing), PC_ESPACE when size is too
 * small, PC_ENOSPC for more than 32 names. */
int pc_cache_vary_key(const struct pc_http_head *resp, const struct pc_http_head *req, char *out,
                      size_t size);

/* ---- the stored head (§3.1, §3.2, §4.3.4) ---- */

/* Whether a field of resp is stored and forwarded: not hop-by-hop
 * (pc_http_field_is_hop), not Proxy-Authentication-Info, not Age (sent
 * fresh from the entry), not named by a qualified private= or no-cache=
 * (dropping it is what those ask of a shared cache). */
bool pc_cache_field_stored(const struct pc_http_head *resp, const struct pc_http_field *field);

/* Writes the head to store for resp: its status line ("HTTP/1.1"), then
 * its stored fields, and a final CRLF. With update (a 304, or a 200 to
 * HEAD, that freshens resp: §4.3.4, §4.3.5), every field name the update
 * carries replaces resp's fields of that name, except Content-Length,
 * Content-Range and Content-Encoding, which describe the stored body's
 * bytes and stay (§3.2 lets a cache keep fields its stored response
 * depends on). update NULL: resp alone. Returns the length, or PC_ESPACE.
 * Re-parse it with pc_http_parse_response and refill the entry. */
int pc_cache_write_head(const struct pc_http_head *resp, const struct pc_http_head *update,
                        char *out, size_t size);

/* Whether a HEAD response may freshen a stored response (§4.3.5): same
 * strong ETag when either has one, same Last-Modified when either has
 * one, same Content-Length when both have one. */
bool pc_cache_head_matches(const struct pc_http_head *stored, const struct pc_http_head *head_resp);

/* The fields of a revalidation request for stored (§4.3.1): If-None-Match
 * with its ETag and If-Modified-Since with its Last-Modified, each as
 * "Name: value\r\n". Returns the length (0: no validator, the fetch is
 * unconditional) or PC_ESPACE. */
int pc_cache_validators(const struct pc_http_head *stored, char *out, size_t size);

/* ---- conditional requests from clients (RFC 9110 §13.2.2) ---- */

enum pc_cache_cond {
	PC_CACHE_COND_NONE,         /* serve the stored response */
	PC_CACHE_COND_NOT_MODIFIED, /* answer 304 */
	PC_CACHE_COND_FAILED,       /* answer 412 */
};

/* Evaluates req's preconditions against stored, a 2xx answer (for other
 * statuses they do not apply: NONE). In RFC 9110's order: If-Match
 * (strong comparison; false -> 412), else If-Unmodified-Since (-> 412
 * when modified since or no Last-Modified); then If-None-Match (weak
 * comparison, "*", lists; a match -> 304 for GET and HEAD, 412 for other
 * methods), else for GET and HEAD If-Modified-Since (304 when
 * Last-Modified, or Date when there is none, §4.3.2, is not later).
 * Invalid dates are ignored. */
enum pc_cache_cond pc_cache_conditional(const struct pc_http_head *req,
                                        const struct pc_http_head *stored);

/* Whether a field of the stored response goes into a 304 answering a
 * client's conditional request (RFC 9110 §15.4.5): Cache-Control,
 * Content-Location, Date, ETag, Expires, Vary, and Last-Modified when
 * there is no ETag; the edge adds Age. */
bool pc_cache_field_in_304(const struct pc_http_head *stored, const struct pc_http_field *field);

/* Entity-tag comparison (RFC 9110 §8.8.3.2); tags as received, with their
 * quotes and W/. */
bool pc_cache_etag_match_weak(const char *a, size_t a_len, const char *b, size_t b_len);
bool pc_cache_etag_match_strong(const char *a, size_t a_len, const char *b, size_t b_len);

/* ---- Range (RFC 9110 §14) ---- */

enum pc_cache_range {
	PC_CACHE_RANGE_NONE,          /* serve the whole response (200) */
	PC_CACHE_RANGE_PARTIAL,       /* 206 with out's bytes */
	PC_CACHE_RANGE_UNSATISFIABLE, /* 416, Content-Range: bytes * / size */
};

struct pc_cache_byte_range {
	uint64_t first, last; /* inclusive, last < size */
};

/* The Range of a GET req against stored, a 200 whose body has size
 * bytes. NONE for another method or status, no Range, a unit other than
 * bytes, invalid syntax, several ranges (serving all is allowed and
 * simplest), or an If-Range that does not match (strong ETag, or a date
 * equal to a strong Last-Modified: one at least a second before Date).
 * A last-pos past the end is cut to it; a suffix longer than the body
 * takes all of it; a first-pos at or past the end, or a suffix of zero,
 * is UNSATISFIABLE. */
enum pc_cache_range pc_cache_range(const struct pc_http_head *req,
                                   const struct pc_http_head *stored, uint64_t size,
                                   struct pc_cache_byte_range *out);

/* ---- invalidation (§4.4) ---- */

/* Whether resp to req invalidates the stored responses of the target: an
 * unsafe method (not GET, HEAD, OPTIONS, TRACE) answered with 2xx or 3xx. */
bool pc_cache_invalidates(const struct pc_http_head *req, const struct pc_http_head *resp);
/* The other paths resp invalidates (§4.4): its Location and
 * Content-Location, when they are an absolute path, or an absolute URI of
 * origin ("http://host[:port]", compared case-insensitively) which is
 * then cut to its path ("/" when empty). Other forms (relative paths,
 * other origins) are skipped: invalidating them could be used to evict
 * another provider's objects. Fills paths[0..2) with spans into resp;
 * returns how many. */
struct pc_cache_span {
	const char *ptr;
	size_t len;
};
unsigned pc_cache_invalidation_paths(const struct pc_http_head *resp, const char *origin,
                                     struct pc_cache_span paths[2]);

#endif
