/* libpeercdn-client: the client stub of CDSR, client-driven service
 * rendezvous (the patent's §4; the wire protocol is docs/cdsr.md; the
 * manual is libpeercdn-client(3)).
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
 * Thread-safety: a client holds a cache and an avoid list and takes no
 * lock; use one client per thread (or serialise calls on one client).
 * Different clients share nothing. peercdn_strerror() is always safe.
 *
 * Link with `pkg-config --cflags --libs peercdn-client`. The library needs
 * only libc. */
#ifndef PEERCDN_CLIENT_H
#define PEERCDN_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PEERCDN_CLIENT_VERSION "0.1.0"
#define PEERCDN_PORT           2554 /* the CDSR port (docs/cdsr.md §1) */
#define PEERCDN_MAX_RESPONDERS 8
#define PEERCDN_MAX_AVOID      8    /* servers avoided at once (the protocol's limit) */
#define PEERCDN_AVOID_S        60   /* how long a reported server stays avoided */
#define PEERCDN_URL_MAX        4200 /* server URLs: a CDSR URL plus an address and port */

/* Results: 0 or one of these negative codes. Codes from -6 on are the
 * CDSR statuses a responder answered (docs/cdsr.md §8). */
enum peercdn_error {
	PEERCDN_OK = 0,
	PEERCDN_EINVAL = -1,        /* bad argument, or a URL too long for one datagram */
	PEERCDN_ENOMEM = -2,        /* out of memory */
	PEERCDN_ESYSTEM = -3,       /* a socket call failed for every try; errno says why */
	PEERCDN_ETIMEOUT = -4,      /* no responder answered within the tries */
	PEERCDN_EPROTOCOL = -5,     /* a responder answered with a status this library lacks */
	PEERCDN_EBADREQUEST = -6,   /* BAD_REQUEST: the request or URL is malformed */
	PEERCDN_EVERSION = -7,      /* UNSUPPORTED_VERSION: the responder lacks CDSR v1 */
	PEERCDN_ENOCONTENT = -8,    /* NO_SUCH_CONTENT: no such provider, service or origin */
	PEERCDN_ENOTAUTH = -9,      /* NOT_AUTHORITATIVE: this CDN does not serve the host */
	PEERCDN_ENOSERVER = -10,    /* NO_SERVER: the CDN has no server for it now */
	PEERCDN_ESIGNATURE = -11,   /* SIGNATURE_REQUIRED: the provider wants a signed name */
	PEERCDN_ERATELIMITED = -12, /* RATE_LIMITED by every responder asked: back off 1 s */
	PEERCDN_ESERVER = -13,      /* SERVER_ERROR from every responder asked */
	PEERCDN_ETOOSMALL = -14,    /* TOO_SMALL even for the largest request (1400 bytes) */
};

enum peercdn_scheme { PEERCDN_SCHEME_HTTP = 1, PEERCDN_SCHEME_HTTPS = 2, PEERCDN_SCHEME_RTSP = 3 };

/* Which other URLs an answer holds for while it is valid (docs/cdsr.md §7.2). */
enum peercdn_reuse {
	PEERCDN_REUSE_URL = 0,    /* this URL only */
	PEERCDN_REUSE_HOST = 1,   /* every URL with the same scheme, host and port */
	PEERCDN_REUSE_PREFIX = 2, /* every URL starting with the answer's prefix */
};

/* The answer of a rendezvous: plain data, the caller's to keep. */
struct peercdn_server {
	char address[64]; /* "127.1.200.1", "2001:db8::1" (no brackets) */
	int family;       /* 4 or 6 */
	uint16_t port;
	enum peercdn_scheme scheme;
	/* The URL on the server: scheme://address:port (IPv6 in brackets),
	 * then the path and query of the URL asked for (no fragment). */
	char server_url[PEERCDN_URL_MAX];
	uint32_t validity_s; /* seconds the answer may be used (0: this request only) */
	enum peercdn_reuse reuse;
	uint32_t reason_flags; /* docs/cdsr.md §7.3: SPILL 0x04, FALLBACK 0x08, ... */
	const char *branch;    /* "PRIMARY", "PEER", "OUTSIDE" (claims 1-2), "NONE";
	                          a static string */
	int from_cache;        /* 1 when no datagram was sent */
	char responder[64];    /* "127.10.0.1:2554": who answered */
};

struct peercdn_client_options {
	/* CDSR responders, tried in turn: "127.10.0.1", "127.10.0.1:2554",
	 * "::1", "[2001:db8::53]:2554" (numeric only; the port defaults to
	 * 2554). 1 to PEERCDN_MAX_RESPONDERS. The strings are copied. */
	const char *const *responders;
	size_t n_responders;
	unsigned
	    timeout_ms; /* ms to wait for the first try (at most 60000); doubled each try. 0: 300 */
	unsigned tries; /* datagrams per rendezvous at most (1-10). 0: 3 */
	const char *prefer_cdn; /* claim 19: a CDN to prefer (1-255 bytes), or NULL; copied */
	int family;             /* 4 or 6: the server address family wanted; 0: any */
	int want_hints;         /* ask for predictive hints (logged, not acted on) */
	size_t cache_entries;   /* answers kept at most; 0: 64 */
	/* Send from this local address ("127.1.0.10"), or NULL: the system's choice. */
	const char *source_address;
	/* Called with each step as one line of text (for `-v`), or NULL. */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
	/* For tests: milliseconds of a monotonic clock, used for the cache's
	 * validity and the avoid list's expiry (never for socket waits, which
	 * always use CLOCK_MONOTONIC). NULL: CLOCK_MONOTONIC. */
	uint64_t (*clock_ms)(void *ctx);
	void *clock_ctx;
};

typedef struct peercdn_client peercdn_client;

/* Returns a client, or NULL with *error set (PEERCDN_EINVAL for a bad
 * option or responder, PEERCDN_ENOMEM); error may be NULL. Nothing of
 * options is referenced after the call. Free it with peercdn_client_free(). */
peercdn_client *peercdn_client_new(const struct peercdn_client_options *options, int *error);

/* Frees client and everything it holds; NULL is ignored. */
void peercdn_client_free(peercdn_client *client);

/* The server for url (absolute, "scheme://host[:port]/path?query"). From
 * the cache when a valid answer covers url (the most specific scope wins:
 * URL, then the longest PREFIX, then HOST), else by rendezvous: up to
 * `tries` datagrams, padded (docs/cdsr.md §5), each with a new random
 * nonce and to the next responder, the wait doubling each try. An answer
 * whose nonce or source is wrong, or that is not CDSR, is ignored; a late
 * answer to an earlier try is still taken. TOO_SMALL is retried at once
 * with 1400 bytes (free of the tries); RATE_LIMITED and SERVER_ERROR move
 * on to the next responder that did not say so; other statuses end the
 * rendezvous. Returns 0 and fills *out, or a PEERCDN_E* code (*out is then
 * unspecified). */
int peercdn_rendezvous(peercdn_client *client, const char *url, struct peercdn_server *out);

/* The application could not use server (as filled by peercdn_rendezvous):
 * every cached answer naming its address is dropped, and for the next
 * PEERCDN_AVOID_S seconds rendezvous ask responders to avoid it (at most
 * PEERCDN_MAX_AVOID addresses; the oldest goes first). Returns 0, or
 * PEERCDN_EINVAL when server->address is not an IP address. */
int peercdn_report_failure(peercdn_client *client, const struct peercdn_server *server);

/* A sentence for a PEERCDN_E* code; never NULL, static. */
const char *peercdn_strerror(int error);

#ifdef __cplusplus
}
#endif

#endif
