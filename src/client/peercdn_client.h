/* libpeercdn-client: the client stub of CDSR, client-driven service
 * rendezvous (the patent's §4; the wire protocol is docs/cdsr.md).
 *
 * An application hands a whole URL to peercdn_rendezvous(); the library
 * sends one UDP datagram to a CDSR responder of the CDN (the CDN's anycast
 * address), waits for one datagram back and returns the server to use and
 * the URL to fetch from it. Answers are cached for as long as the CDN says
 * they are valid, for every URL their reuse scope covers (this URL, every
 * URL of the same host, or a URL prefix), so most requests need no
 * rendezvous at all. When a server fails, peercdn_report_failure() drops
 * what the cache knows of it, and the next rendezvous asks the CDN to
 * avoid it: the application re-establishes service with another server.
 *
 * A client is not safe to share between threads without a lock; use one
 * per thread. Link with `pkg-config --cflags --libs peercdn-client`. */
#ifndef PEERCDN_CLIENT_H
#define PEERCDN_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PEERCDN_CLIENT_VERSION "0.1.0"
#define PEERCDN_PORT           2554 /* the CDSR port */
#define PEERCDN_URL_MAX        4200 /* server URLs: a CDSR URL plus an address and port */

/* Results: 0 or one of these negative codes. */
enum peercdn_error {
	PEERCDN_OK = 0,
	PEERCDN_EINVAL = -1,        /* bad argument, or a URL too long for one datagram */
	PEERCDN_ENOMEM = -2,        /* out of memory */
	PEERCDN_ESYSTEM = -3,       /* a socket call failed; errno says why */
	PEERCDN_ETIMEOUT = -4,      /* no responder answered within the tries */
	PEERCDN_EPROTOCOL = -5,     /* a responder answered with something that is not CDSR v1 */
	PEERCDN_EBADREQUEST = -6,   /* the responder found the request or URL malformed */
	PEERCDN_EVERSION = -7,      /* the responder does not speak CDSR version 1 */
	PEERCDN_ENOCONTENT = -8,    /* no such provider, service or origin */
	PEERCDN_ENOTAUTH = -9,      /* this CDN does not serve the URL's host */
	PEERCDN_ENOSERVER = -10,    /* the CDN has no server for it now */
	PEERCDN_ESIGNATURE = -11,   /* the provider requires a signed name */
	PEERCDN_ERATELIMITED = -12, /* every try was rate limited: back off */
	PEERCDN_ESERVER = -13,      /* the responders failed */
};

enum peercdn_scheme { PEERCDN_SCHEME_HTTP = 1, PEERCDN_SCHEME_HTTPS = 2, PEERCDN_SCHEME_RTSP = 3 };

/* Which other URLs an answer holds for while it is valid. */
enum peercdn_reuse {
	PEERCDN_REUSE_URL = 0,    /* this URL only */
	PEERCDN_REUSE_HOST = 1,   /* every URL with the same scheme, host and port */
	PEERCDN_REUSE_PREFIX = 2, /* every URL starting with the answer's prefix */
};

/* The answer of a rendezvous. */
struct peercdn_server {
	char address[64]; /* "127.1.200.1", "2001:db8::1" */
	int family;       /* 4 or 6 */
	uint16_t port;
	enum peercdn_scheme scheme;
	char url[PEERCDN_URL_MAX]; /* the URL on the server: scheme://address:port/path?query */
	uint32_t validity_s;       /* seconds the answer may be used (0: this request only) */
	enum peercdn_reuse reuse;
	uint32_t reason_flags; /* docs/policy.md: SPILL, FALLBACK, PREFERRED, ... */
	const char *branch;    /* "PRIMARY", "PEER" or "OUTSIDE" (docs/policy.md) */
	int from_cache;        /* 1 when no datagram was sent */
	char responder[64];    /* "127.10.0.1:2554": who answered */
};

struct peercdn_client_options {
	/* CDSR responders, tried in turn: "127.10.0.1", "127.10.0.1:2554",
	 * "[2001:db8::53]:2554". At least one, at most 8. */
	const char *const *responders;
	size_t n_responders;
	unsigned timeout_ms;        /* wait for the first try; doubled each try. 0: 300 */
	unsigned tries;             /* datagrams sent per rendezvous at most. 0: 3 */
	const char *prefer_cdn;     /* claim 19: a CDN to prefer, or NULL */
	int family;                 /* 4 or 6: the server address wanted; 0: any */
	int want_hints;             /* ask for predictive hints (logged; not cached yet) */
	size_t cache_entries;       /* answers kept; 0: 64 */
	const char *source_address; /* send from this address; NULL: the system's choice */
	/* Each step as one line of text (for `-v`), or NULL. */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
	/* Milliseconds of a monotonic clock, for tests; NULL: CLOCK_MONOTONIC. */
	uint64_t (*clock_ms)(void *ctx);
	void *clock_ctx;
};

typedef struct peercdn_client peercdn_client;

/* Returns a client, or NULL with *error set (PEERCDN_EINVAL for a bad
 * option or responder, PEERCDN_ENOMEM). */
peercdn_client *peercdn_client_new(const struct peercdn_client_options *options, int *error);
void peercdn_client_free(peercdn_client *client);

/* The server for url (absolute: http, https or rtsp). From the cache when
 * an answer whose scope covers url is still valid, else by rendezvous:
 * up to `tries` datagrams, to each responder in turn, with a new nonce
 * each; an answer whose nonce or source is wrong is ignored. A responder
 * that needs a larger request (TOO_SMALL) is asked again with the largest
 * padding at once. Returns 0 and fills *out, or a PEERCDN_E* code. */
int peercdn_rendezvous(peercdn_client *client, const char *url, struct peercdn_server *out);

/* The application could not use server: forget every cached answer that
 * names its address, and ask responders to avoid it for the next 60 s
 * (at most 8 addresses are avoided; the oldest goes first). */
int peercdn_report_failure(peercdn_client *client, const struct peercdn_server *server);

/* A sentence for a PEERCDN_E* code. */
const char *peercdn_strerror(int error);

#ifdef __cplusplus
}
#endif

#endif
