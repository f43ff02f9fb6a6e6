/* redirect: the decision every explicit redirector shares (the patent's
 * §3.1.5 and §4) — a whole URL in, a server, port and scheme out. The
 * CDSR responder, the HTTP and the RTSP redirectors differ only in how the
 * URL arrives and how the answer is written; the checks and their order
 * live here once: the URL's form, its CDN against the node, the provider's
 * signature policy, and only then the object decision (lib/policy/answer:
 * the policy with the affinity memory, which spends agreement capacity and
 * affinity, so nothing that cannot be answered reaches it). The DNS answer
 * makes the same object decision from a name instead of a URL.
 *
 * Every function takes the one answer context (struct pc_answer_ctx) the
 * other roles take; what is a redirector's own (claim 19's preferences,
 * the result callback of a TCP session) comes beside it.
 *
 * Pure: no I/O, no clock, no globals; any number of threads over one model
 * and live state. */
#ifndef PC_LIB_REDIRECT_H
#define PC_LIB_REDIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/model/model.h"
#include "lib/naming/naming.h"
#include "lib/policy/answer.h"
#include "lib/policy/policy.h"

enum pc_redirect_outcome {
	PC_REDIRECT_OK = 0,
	PC_REDIRECT_BAD_URL,            /* malformed URL */
	PC_REDIRECT_NOT_AUTHORITATIVE,  /* the host is under no CDN this node serves */
	PC_REDIRECT_NO_SUCH_CONTENT,    /* no such provider, service, origin; undecryptable */
	PC_REDIRECT_SIGNATURE_REQUIRED, /* the provider requires a valid signature */
	PC_REDIRECT_NO_SERVER,          /* the policy allows no server now */
	PC_REDIRECT_ERROR,              /* anything else: a bug or an exhausted resource */
	PC_REDIRECT__COUNT
};

/* "ok", "bad_url", ...; "unknown" for other values. */
const char *pc_redirect_outcome_name(unsigned outcome);

/* Claim 19: the client's preferences (CDSR only). */
struct pc_redirect_prefs {
	uint32_t preferred_cdn;       /* PC_NONE: none */
	uint32_t avoid[PC_MAX_AVOID]; /* server indexes */
	uint32_t n_avoid;
	uint8_t family; /* PC_AF_INET / PC_AF_INET6 wanted; PC_AF_NONE = any */
};

#define PC_REDIRECT_DATE_SIZE 32

struct pc_redirect_target {
	uint32_t server;        /* index into model->servers */
	const pc_addr *address; /* one of the server's addresses */
	uint16_t port;          /* for the URL's scheme */
	pc_decision decision;
};

/* Initialises preferences to none. */
void pc_redirect_prefs_init(struct pc_redirect_prefs *prefs);

/* Step 1: parses url (absolute) into *out and checks that ctx->node may
 * answer it (only ctx->model, ctx->hosts and ctx->node are read). Returns
 * an outcome; on PC_REDIRECT_OK, *out is valid. */
enum pc_redirect_outcome pc_redirect_check(const struct pc_answer_ctx *ctx, const char *url,
                                           size_t url_len, pc_url *out);

/* Step 2: the object decision (pc_answer_decide, one answer) for a checked
 * URL; prefs may be NULL (none). The server's address is of the wanted
 * family, else of the client's, else the first; the object is remembered
 * on the server only when it has such an address. */
enum pc_redirect_outcome pc_redirect_decide(const struct pc_answer_ctx *ctx,
                                            const struct pc_redirect_prefs *prefs,
                                            const pc_url *url, struct pc_redirect_target *out);

/* The same from blank, a request pc_request_init made once (per config
 * generation, say) instead of per call: what pc_answer_request_init adds
 * (the client, the node, the time) is taken from ctx. */
enum pc_redirect_outcome pc_redirect_decide_blank(const struct pc_answer_ctx *ctx,
                                                  const pc_request *blank,
                                                  const struct pc_redirect_prefs *prefs,
                                                  const pc_url *url,
                                                  struct pc_redirect_target *out);

/* What a TCP redirector (HTTP, RTSP) needs to answer requests on one
 * connection: the answer context, and a callback that sees every response
 * (for counters and logs). */
struct pc_redirect_result {
	unsigned status;                  /* the response's status code */
	enum pc_redirect_outcome outcome; /* for requests that reached the decision */
	bool decided;                     /* decision is valid */
	const char *error;                /* protocol errors: a short token for logs, else NULL */
	pc_decision decision;
};

struct pc_redirect_env {
	struct pc_answer_ctx answer; /* source: the client, PROXY v2 applied */
	void (*on_result)(void *arg, const struct pc_redirect_result *result); /* may be NULL */
	void *on_result_arg;
};

/* Answers an absolute URL for a stream redirector: check and decide with
 * no preferences. On PC_REDIRECT_OK, *target and the Location text (in
 * location, NUL-terminated) are set; result gets outcome and decision. */
enum pc_redirect_outcome pc_redirect_url(const struct pc_redirect_env *env, const char *url,
                                         size_t url_len, char *location, size_t location_size,
                                         struct pc_redirect_result *result);

/* now_s as an IMF-fixdate ("Wed, 25 Nov 2026 05:12:10 GMT", RFC 9110
 * §5.6.7), the Date: of HTTP and RTSP answers, in any locale. */
void pc_redirect_date(uint64_t now_s, char out[PC_REDIRECT_DATE_SIZE]);

/* "http", "https" or "rtsp". */
const char *pc_redirect_scheme_text(enum pc_scheme scheme);

/* Writes the URL of the object on the chosen server: the URL's scheme, the
 * server's address (IPv6 in brackets) and port (left out when it is the
 * scheme's default), the content host, path and query — what a Location:
 * header holds. NUL-terminated. Returns its length, or 0 when it does not
 * fit out_size. */
size_t pc_redirect_location(const pc_url *url, const struct pc_redirect_target *target, char *out,
                            size_t out_size);

#endif
