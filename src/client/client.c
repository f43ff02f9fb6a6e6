/* libpeercdn-client; see peercdn_client.h. The wire codec is the
 * project's own (src/lib/cdsr.c, compiled into this library), so the
 * client and the responder cannot disagree about the format. Every loop
 * here is bounded: by the responders (8), the tries (10), the cache size
 * and, while waiting, by a datagram count and a deadline. */
#include "peercdn_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/proto/cdsr.h"
#include "lib/base/err.h"

#define API __attribute__((visibility("default")))

_Static_assert(PEERCDN_MAX_AVOID == PC_CDSR_MAX_AVOID, "the avoid list is the protocol's");
_Static_assert(PEERCDN_PORT == PC_CDSR_PORT, "one CDSR port");

enum {
	DEFAULT_TIMEOUT_MS = 300,
	DEFAULT_TRIES = 3,
	DEFAULT_CACHE = 64,
	MAX_TRIES = 10,
	MAX_PENDING = MAX_TRIES + 1, /* the tries and one free TOO_SMALL retry */
	MAX_DATAGRAMS = 64,          /* per wait: a flood of strays cannot hold us */
	MAX_WAIT_MS = 60000,         /* the longest timeout_ms and the longest wait */
};

struct responder {
	struct sockaddr_storage addr;
	socklen_t len;
	char text[64]; /* "127.10.0.1:2554", "[::1]:2554" */
};

struct avoided {
	pc_addr addr;
	uint64_t until_ms;
};

struct cache_entry {
	char *key; /* the URL, "scheme://authority" or the reuse prefix; NULL: free slot */
	enum peercdn_reuse reuse;
	uint64_t expires_ms;
	uint64_t used_ms; /* for eviction: the least recently used goes */
	struct peercdn_server server;
};

/* A try whose answer may still come: its socket is connected to the
 * responder, so the kernel drops datagrams from any other source. */
struct pending {
	int fd;
	uint64_t nonce;
	size_t responder;
};

struct peercdn_client {
	struct peercdn_client_options opts; /* pointers cleared or owned below */
	char *prefer_cdn;
	struct responder responders[PEERCDN_MAX_RESPONDERS];
	size_t n_responders;
	size_t next_responder; /* the one that answered last keeps its turn */
	struct sockaddr_storage source;
	socklen_t source_len;
	struct avoided avoid[PC_CDSR_MAX_AVOID]; /* oldest first */
	size_t n_avoid;
	struct cache_entry *cache;
	size_t n_cache;
};

/* The clock of validity and avoid expiry (tests may replace it). */
static uint64_t clock_ms(const peercdn_client *c)
{
	if (c->opts.clock_ms != NULL)
		return c->opts.clock_ms(c->opts.clock_ctx);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The clock of socket waits: always the real one. */
static uint64_t wait_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void say(const peercdn_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const peercdn_client *c, const char *fmt, ...)
{
	if (c->opts.log == NULL)
		return;
	char line[640];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->opts.log(c->opts.log_ctx, line);
}

API const char *peercdn_strerror(int error)
{
	switch (error) {
	case PEERCDN_OK:
		return "success";
	case PEERCDN_EINVAL:
		return "invalid argument or URL";
	case PEERCDN_ENOMEM:
		return "out of memory";
	case PEERCDN_ESYSTEM:
		return "a socket call failed";
	case PEERCDN_ETIMEOUT:
		return "no CDSR responder answered";
	case PEERCDN_EPROTOCOL:
		return "the responder answered with an unknown status";
	case PEERCDN_EBADREQUEST:
		return "the responder found the request malformed";
	case PEERCDN_EVERSION:
		return "the responder does not speak CDSR version 1";
	case PEERCDN_ENOCONTENT:
		return "no such content at this CDN";
	case PEERCDN_ENOTAUTH:
		return "this CDN does not serve the URL's host";
	case PEERCDN_ENOSERVER:
		return "the CDN has no server for this now";
	case PEERCDN_ESIGNATURE:
		return "the content needs a signed name";
	case PEERCDN_ERATELIMITED:
		return "rate limited by the responder";
	case PEERCDN_ESERVER:
		return "the responder failed";
	case PEERCDN_ETOOSMALL:
		return "the answer does not fit even the largest request";
	default:
		return "unknown error";
	}
}

/* "a.b.c.d", "a.b.c.d:port", "v6", "[v6]", "[v6]:port"; port 0 is kept
 * as 0 only when allow_port0 (a source address). */
static int parse_address(const char *text, bool allow_port0, struct responder *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *port_text = NULL;
	size_t host_len;
	const char *first_colon = strchr(text, ':');
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return PEERCDN_EINVAL;
		host_len = (size_t)(close - text - 1);
		text++;
		port_text = close[1] == ':' ? close + 2 : NULL;
	} else if (first_colon != NULL && strchr(first_colon + 1, ':') == NULL) {
		host_len = (size_t)(first_colon - text); /* one colon: IPv4 and a port */
		port_text = first_colon + 1;
	} else {
		host_len = strlen(text); /* no colon, or a bare IPv6 address */
	}
	if (host_len == 0 || host_len >= sizeof(host))
		return PEERCDN_EINVAL;
	memcpy(host, text, host_len);
	host[host_len] = '\0';
	unsigned long port = allow_port0 ? 0 : PEERCDN_PORT;
	if (port_text != NULL) {
		char *end;
		errno = 0;
		port = strtoul(port_text, &end, 10);
		if (errno != 0 || *end != '\0' || end == port_text || port_text[0] == '-' ||
		    port > 65535 || (port == 0 && !allow_port0))
			return PEERCDN_EINVAL;
	}
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->addr;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		out->len = sizeof(*sin);
		snprintf(out->text, sizeof(out->text), "%s:%lu", host, port);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		out->len = sizeof(*sin6);
		snprintf(out->text, sizeof(out->text), "[%s]:%lu", host, port);
	} else {
		return PEERCDN_EINVAL;
	}
	return PEERCDN_OK;
}

static peercdn_client *fail_new(peercdn_client *c, int code, int *error)
{
	peercdn_client_free(c);
	*error = code;
	return NULL;
}

API peercdn_client *peercdn_client_new(const struct peercdn_client_options *options, int *error)
{
	int ignored;
	if (error == NULL)
		error = &ignored;
	if (options == NULL || options->responders == NULL || options->n_responders == 0 ||
	    options->n_responders > PEERCDN_MAX_RESPONDERS || options->tries > MAX_TRIES ||
	    options->timeout_ms > MAX_WAIT_MS ||
	    (options->family != 0 && options->family != 4 && options->family != 6) ||
	    (options->prefer_cdn != NULL &&
	     (options->prefer_cdn[0] == '\0' || strlen(options->prefer_cdn) > PC_CDSR_NAME_MAX)))
		return fail_new(NULL, PEERCDN_EINVAL, error);
	peercdn_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return fail_new(NULL, PEERCDN_ENOMEM, error);
	c->opts = *options;
	c->opts.responders = NULL;
	c->opts.source_address = NULL;
	c->opts.prefer_cdn = NULL;
	if (c->opts.timeout_ms == 0)
		c->opts.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (c->opts.tries == 0)
		c->opts.tries = DEFAULT_TRIES;
	c->n_cache = c->opts.cache_entries ? c->opts.cache_entries : DEFAULT_CACHE;
	c->cache = calloc(c->n_cache, sizeof(*c->cache));
	if (c->cache == NULL)
		return fail_new(c, PEERCDN_ENOMEM, error);
	if (options->prefer_cdn != NULL) {
		c->prefer_cdn = strdup(options->prefer_cdn);
		if (c->prefer_cdn == NULL)
			return fail_new(c, PEERCDN_ENOMEM, error);
		c->opts.prefer_cdn = c->prefer_cdn;
	}
	for (size_t i = 0; i < options->n_responders; i++)
		if (options->responders[i] == NULL ||
		    parse_address(options->responders[i], false, &c->responders[i]) != PEERCDN_OK)
			return fail_new(c, PEERCDN_EINVAL, error);
	c->n_responders = options->n_responders;
	if (options->source_address != NULL) {
		struct responder source;
		if (parse_address(options->source_address, true, &source) != PEERCDN_OK)
			return fail_new(c, PEERCDN_EINVAL, error);
		c->source = source.addr;
		c->source_len = source.len;
	}
	*error = PEERCDN_OK;
	return c;
}

API void peercdn_client_free(peercdn_client *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; c->cache != NULL && i < c->n_cache; i++)
		free(c->cache[i].key);
	free(c->cache);
	free(c->prefer_cdn);
	free(c);
}

/* --- URLs ---------------------------------------------------------------- */

/* The length of "scheme://authority" at the start of url, or 0 when url
 * is not absolute. */
static size_t origin_len(const char *url)
{
	size_t n = 0;
	while ((url[n] >= 'a' && url[n] <= 'z') || (url[n] >= 'A' && url[n] <= 'Z') ||
	       (n > 0 && ((url[n] >= '0' && url[n] <= '9') || url[n] == '+' || url[n] == '-' ||
	                  url[n] == '.')))
		n++;
	if (n == 0 || strncmp(url + n, "://", 3) != 0)
		return 0;
	n += 3;
	size_t host = n;
	while (url[n] != '\0' && url[n] != '/' && url[n] != '?' && url[n] != '#')
		n++;
	return n > host ? n : 0;
}

/* The URL on the server: the answer's scheme, address and port, then the
 * path and query of url (docs/cdsr.md §12: "the client then makes its
 * HTTP request for the URL to" the server). The fragment stays local. */
static int build_server_url(const char *url, struct peercdn_server *s)
{
	static const char *const schemes[] = {"", "http", "https", "rtsp"};
	if (s->scheme < PEERCDN_SCHEME_HTTP || s->scheme > PEERCDN_SCHEME_RTSP)
		return PEERCDN_EPROTOCOL;
	const char *rest = url + origin_len(url);
	int rest_len = (int)strcspn(rest, "#");
	bool v6 = s->family == 6;
	int len = snprintf(s->server_url, sizeof(s->server_url), "%s://%s%s%s:%u%s%.*s",
	                   schemes[s->scheme], v6 ? "[" : "", s->address, v6 ? "]" : "",
	                   (unsigned)s->port, rest[0] == '/' ? "" : "/", rest_len, rest);
	return len > 0 && (size_t)len < sizeof(s->server_url) ? PEERCDN_OK : PEERCDN_EINVAL;
}

/* docs/cdsr.md §7.2: scheme and host compare without case, paths with it. */
static bool prefix_matches(const char *prefix, const char *url)
{
	size_t n = strlen(prefix);
	if (strlen(url) < n)
		return false;
	size_t origin = origin_len(prefix);
	if (origin == 0 || origin > n)
		origin = n;
	return strncasecmp(prefix, url, origin) == 0 &&
	       strncmp(prefix + origin, url + origin, n - origin) == 0;
}

/* Whether a reuse prefix from the wire may be trusted for url: it must
 * be text, cover url, and reach past url's authority. */
static bool prefix_within(const char *prefix, size_t len, const char *url)
{
	size_t origin = origin_len(url);
	return len > origin && len <= strlen(url) && memchr(prefix, '\0', len) == NULL &&
	       strncasecmp(prefix, url, origin) == 0 &&
	       strncmp(prefix + origin, url + origin, len - origin) == 0;
}

/* --- the cache ------------------------------------------------------------ */

/* How well e covers url: 0 not at all; more is more specific. */
static size_t coverage(const struct cache_entry *e, const char *url)
{
	switch (e->reuse) {
	case PEERCDN_REUSE_URL:
		return strcmp(e->key, url) == 0 ? SIZE_MAX : 0;
	case PEERCDN_REUSE_PREFIX:
		return prefix_matches(e->key, url) ? 2 + strlen(e->key) : 0;
	case PEERCDN_REUSE_HOST: {
		size_t n = origin_len(url);
		return n > 0 && strlen(e->key) == n && strncasecmp(e->key, url, n) == 0 ? 1 : 0;
	}
	}
	return 0;
}

static void drop_entry(struct cache_entry *e)
{
	free(e->key);
	e->key = NULL;
}

/* The valid entry that covers url most specifically, or NULL. Expired
 * entries met on the way are freed. */
static struct cache_entry *cache_lookup(peercdn_client *c, const char *url, uint64_t now)
{
	struct cache_entry *best = NULL;
	size_t best_rank = 0;
	for (size_t i = 0; i < c->n_cache; i++) {
		struct cache_entry *e = &c->cache[i];
		if (e->key == NULL)
			continue;
		if (now >= e->expires_ms) {
			drop_entry(e);
			continue;
		}
		size_t rank = coverage(e, url);
		if (rank > best_rank) {
			best = e;
			best_rank = rank;
		}
	}
	if (best != NULL)
		best->used_ms = now;
	return best;
}

static void cache_store(peercdn_client *c, const char *url, const struct peercdn_server *s,
                        const char *prefix, size_t prefix_len, uint64_t now)
{
	if (s->validity_s == 0)
		return; /* "0 = this once" (docs/cdsr.md §4) */
	const char *key = s->reuse == PEERCDN_REUSE_PREFIX ? prefix : url;
	size_t key_len = s->reuse == PEERCDN_REUSE_HOST     ? origin_len(url)
	                 : s->reuse == PEERCDN_REUSE_PREFIX ? prefix_len
	                                                    : strlen(url);
	if (key == NULL || key_len == 0)
		return;
	/* The same scope and key again replaces the old answer; else a free
	 * slot is taken, else the least recently used entry. */
	size_t same = SIZE_MAX, free_slot = SIZE_MAX, lru = 0;
	for (size_t i = 0; i < c->n_cache && same == SIZE_MAX; i++) {
		const struct cache_entry *e = &c->cache[i];
		if (e->key == NULL) {
			free_slot = free_slot == SIZE_MAX ? i : free_slot;
		} else if (e->reuse == s->reuse && strlen(e->key) == key_len &&
		           strncmp(e->key, key, key_len) == 0) {
			same = i;
		} else if (e->used_ms < c->cache[lru].used_ms) {
			lru = i;
		}
	}
	size_t victim = same != SIZE_MAX ? same : free_slot != SIZE_MAX ? free_slot : lru;
	struct cache_entry *e = &c->cache[victim];
	drop_entry(e);
	e->key = strndup(key, key_len);
	if (e->key == NULL)
		return; /* not cached: the next request asks again */
	e->reuse = s->reuse;
	e->expires_ms = now + (uint64_t)s->validity_s * 1000;
	e->used_ms = now;
	e->server = *s;
}

/* --- the avoid list -------------------------------------------------------- */

static void expire_avoid(peercdn_client *c, uint64_t now)
{
	size_t kept = 0;
	for (size_t i = 0; i < c->n_avoid; i++)
		if (c->avoid[i].until_ms > now)
			c->avoid[kept++] = c->avoid[i];
	c->n_avoid = kept;
}

/* --- one rendezvous -------------------------------------------------------- */

static int status_error(uint8_t status)
{
	switch (status) {
	case PC_CDSR_OK:
		return PEERCDN_OK;
	case PC_CDSR_BAD_REQUEST:
		return PEERCDN_EBADREQUEST;
	case PC_CDSR_UNSUPPORTED_VERSION:
		return PEERCDN_EVERSION;
	case PC_CDSR_NO_SUCH_CONTENT:
		return PEERCDN_ENOCONTENT;
	case PC_CDSR_NOT_AUTHORITATIVE:
		return PEERCDN_ENOTAUTH;
	case PC_CDSR_NO_SERVER:
		return PEERCDN_ENOSERVER;
	case PC_CDSR_SIGNATURE_REQUIRED:
		return PEERCDN_ESIGNATURE;
	case PC_CDSR_TOO_SMALL:
		return PEERCDN_ETOOSMALL;
	case PC_CDSR_RATE_LIMITED:
		return PEERCDN_ERATELIMITED;
	case PC_CDSR_SERVER_ERROR:
		return PEERCDN_ESERVER;
	default:
		return PEERCDN_EPROTOCOL;
	}
}

/* docs/cdsr.md §10: 64 bits from a CSPRNG for each new request. */
static int random_nonce(uint64_t *nonce)
{
	for (int i = 0; i < 4; i++)
		if (getrandom(nonce, sizeof(*nonce), 0) == (ssize_t)sizeof(*nonce))
			return PEERCDN_OK;
	return PEERCDN_ESYSTEM;
}

/* Sends one request from a new socket connected to r. Returns the socket,
 * or -1 with errno set. */
static int send_try(const peercdn_client *c, const struct responder *r, const uint8_t *req,
                    size_t len)
{
	int fd = socket(r->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if ((c->source_len > 0 && c->source.ss_family == r->addr.ss_family &&
	     bind(fd, (const struct sockaddr *)&c->source, c->source_len) != 0) ||
	    connect(fd, (const struct sockaddr *)&r->addr, r->len) != 0 ||
	    send(fd, req, len, 0) != (ssize_t)len) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Waits until deadline (wait clock) for an answer to any pending try.
 * Returns the index of the try answered, with *resp parsed from buf, or
 * -1 when the deadline passed or the newest try's responder refused it
 * (ICMP port unreachable: nothing listens there, no point waiting). */
static int wait_answer(const peercdn_client *c, struct pending *pend, size_t n_pend,
                       uint64_t deadline, uint8_t *buf, size_t buf_size,
                       struct pc_cdsr_response *resp)
{
	struct pollfd pfd[MAX_PENDING];
	for (int datagrams = 0; datagrams < MAX_DATAGRAMS; datagrams++) {
		uint64_t now = wait_clock_ms();
		if (now >= deadline)
			return -1;
		for (size_t i = 0; i < n_pend; i++)
			pfd[i] = (struct pollfd){.fd = pend[i].fd, .events = POLLIN};
		int ready = poll(pfd, (nfds_t)n_pend, (int)(deadline - now));
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			return -1;
		for (size_t i = 0; i < n_pend; i++) {
			if (pfd[i].revents == 0)
				continue;
			ssize_t n = recv(pend[i].fd, buf, buf_size, MSG_DONTWAIT);
			if (n < 0) {
				if (errno == ECONNREFUSED) {
					say(c,
					    "rendezvous: no answer from %s (nothing listens there)",
					    c->responders[pend[i].responder].text);
					close(pend[i].fd);
					pend[i].fd =
					    -1; /* polled no more: negative fds are skipped */
					if (i == n_pend - 1)
						return -1;
				}
				continue;
			}
			if (pc_cdsr_response_parse(buf, (size_t)n, resp) != PC_OK) {
				say(c, "rendezvous: ignored a datagram that is not a CDSR answer");
				continue;
			}
			if (resp->nonce != pend[i].nonce) {
				say(c, "rendezvous: ignored an answer with another nonce");
				continue;
			}
			return (int)i;
		}
	}
	return -1;
}

static const char *branch_name(uint8_t branch)
{
	static const char *const names[] = {"NONE", "PRIMARY", "PEER", "OUTSIDE"};
	return branch < 4 ? names[branch] : "NONE";
}

static int fill_server(const char *url, const struct pc_cdsr_response *resp,
                       const struct responder *r, struct peercdn_server *out)
{
	memset(out, 0, sizeof(*out));
	int af = resp->server.family == PC_AF_INET6 ? AF_INET6 : AF_INET;
	if (inet_ntop(af, resp->server.bytes, out->address, sizeof(out->address)) == NULL)
		return PEERCDN_EPROTOCOL;
	out->family = af == AF_INET6 ? 6 : 4;
	out->port = resp->port;
	out->scheme = (enum peercdn_scheme)resp->scheme;
	out->validity_s = resp->validity_s;
	out->reuse = (enum peercdn_reuse)resp->reuse;
	out->reason_flags = resp->reason_flags;
	out->branch = branch_name(resp->branch);
	snprintf(out->responder, sizeof(out->responder), "%s", r->text);
	return build_server_url(url, out);
}

/* The next responder in turn that has not refused this rendezvous, or
 * SIZE_MAX when all have. */
static size_t pick_responder(const peercdn_client *c, const bool *refused)
{
	for (size_t k = 0; k < c->n_responders; k++) {
		size_t i = (c->next_responder + k) % c->n_responders;
		if (!refused[i])
			return i;
	}
	return SIZE_MAX;
}

/* "127.1.200.1:8080", "[2001:db8::1]:8080" */
static const char *host_port(const struct peercdn_server *s, char *buf, size_t size)
{
	bool v6 = s->family == 6;
	snprintf(buf, size, "%s%s%s:%u", v6 ? "[" : "", s->address, v6 ? "]" : "",
	         (unsigned)s->port);
	return buf;
}

static int from_cache(peercdn_client *c, const char *url, const struct cache_entry *hit,
                      uint64_t now, struct peercdn_server *out)
{
	*out = hit->server;
	out->from_cache = 1;
	int rc = build_server_url(url, out);
	if (rc != PEERCDN_OK)
		return rc;
	char where[80];
	say(c, "rendezvous: %s -> server %s from the cache (%s, valid %u s more)", url,
	    host_port(out, where, sizeof(where)), out->branch,
	    (unsigned)((hit->expires_ms - now + 999) / 1000));
	return PEERCDN_OK;
}

/* An OK answer from r for url: fills out, logs it, caches it. */
static int take_answer(peercdn_client *c, const char *url, const struct pc_cdsr_response *resp,
                       const struct responder *r, struct peercdn_server *out)
{
	int rc = fill_server(url, resp, r, out);
	if (rc != PEERCDN_OK)
		return rc;
	/* A prefix that does not cover the URL asked, or covers more than its
	 * host, would let one answer capture other sites' URLs. */
	if (out->reuse == PEERCDN_REUSE_PREFIX &&
	    !prefix_within(resp->reuse_prefix, resp->reuse_prefix_len, url)) {
		say(c,
		    "rendezvous: reuse prefix %.*s does not fit the URL; using it for this URL "
		    "only",
		    (int)resp->reuse_prefix_len, resp->reuse_prefix);
		out->reuse = PEERCDN_REUSE_URL;
	}
	static const char *const scopes[] = {"this URL", "this host", "a prefix"};
	char where[80];
	say(c, "rendezvous: %s -> server %s (%s, valid %u s for %s%s)", r->text,
	    host_port(out, where, sizeof(where)), out->branch, (unsigned)out->validity_s,
	    scopes[out->reuse], resp->flags & PC_CDSR_F_TRUNCATED ? ", hints left out" : "");
	for (uint32_t h = 0; h < resp->n_hints; h++)
		say(c, "rendezvous: hint: %s %.*s also go through CDSR",
		    resp->hints[h].kind == PC_CDSR_OPT_HINT_DOMAIN ? "hosts under"
		                                                   : "URLs starting",
		    (int)resp->hints[h].len, resp->hints[h].text);
	cache_store(c, url, out, resp->reuse_prefix, resp->reuse_prefix_len, clock_ms(c));
	return PEERCDN_OK;
}

/* The request for url with the client's preferences and avoid list. */
static struct pc_cdsr_request build_request(const peercdn_client *c, const char *url,
                                            size_t url_len)
{
	struct pc_cdsr_request req = {
	    .version = PC_CDSR_VERSION,
	    .flags = c->opts.want_hints ? PC_CDSR_F_HINTS : 0,
	    .url = url,
	    .url_len = (uint16_t)url_len,
	    .prefer_cdn = c->opts.prefer_cdn,
	    .prefer_cdn_len = c->opts.prefer_cdn ? (uint16_t)strlen(c->opts.prefer_cdn) : 0,
	    .family = c->opts.family == 4   ? PC_AF_INET
	              : c->opts.family == 6 ? PC_AF_INET6
	                                    : PC_AF_NONE,
	};
	for (size_t i = 0; i < c->n_avoid; i++)
		req.avoid[req.n_avoid++] = (struct pc_cdsr_avoid){.addr = c->avoid[i].addr};
	return req;
}

API int peercdn_rendezvous(peercdn_client *c, const char *url, struct peercdn_server *out)
{
	if (c == NULL || url == NULL || out == NULL)
		return PEERCDN_EINVAL;
	size_t url_len = strlen(url);
	if (url_len == 0 || url_len > PC_CDSR_URL_MAX || origin_len(url) == 0)
		return PEERCDN_EINVAL;
	uint64_t now = clock_ms(c);
	expire_avoid(c, now);
	const struct cache_entry *hit = cache_lookup(c, url, now);
	if (hit != NULL)
		return from_cache(c, url, hit, now, out);

	struct pc_cdsr_request req = build_request(c, url, url_len);
	uint8_t wire[PC_CDSR_REQUEST_MAX];
	int natural = pc_cdsr_request_write(&req, 0, wire, sizeof(wire));
	if (natural < 0)
		return PEERCDN_EINVAL; /* the URL and options do not fit one datagram */

	uint8_t answer[PC_CDSR_REQUEST_MAX + 64];
	struct pending pend[MAX_PENDING];
	size_t n_pend = 0;
	bool refused[PEERCDN_MAX_RESPONDERS] = {false}; /* RATE_LIMITED, SERVER_ERROR */
	size_t pad_to = pc_cdsr_pad_length((size_t)natural);
	bool padded_retry = false;
	unsigned wait_ms = c->opts.timeout_ms;
	int result = PEERCDN_ETIMEOUT;
	int send_errno = 0; /* the last send that failed, when none succeeded */
	for (unsigned tries = 0; tries < c->opts.tries && n_pend < MAX_PENDING;) {
		size_t ri = pick_responder(c, refused);
		if (ri == SIZE_MAX)
			break; /* result holds what the last one said */
		const struct responder *r = &c->responders[ri];
		int rc = random_nonce(&req.nonce);
		int len =
		    rc == PEERCDN_OK ? pc_cdsr_request_write(&req, pad_to, wire, sizeof(wire)) : rc;
		if (len < 0) {
			result = rc == PEERCDN_OK ? PEERCDN_EINVAL : rc;
			break;
		}
		tries++;
		say(c, "rendezvous: %s via %s (try %u of %u, %d bytes, %u avoided)", url, r->text,
		    tries, c->opts.tries, len, (unsigned)req.n_avoid);
		int fd = send_try(c, r, wire, (size_t)len);
		if (fd < 0) {
			send_errno = errno;
			say(c, "rendezvous: cannot send to %s: %s", r->text, strerror(send_errno));
			c->next_responder = ri + 1;
			continue;
		}
		pend[n_pend++] = (struct pending){.fd = fd, .nonce = req.nonce, .responder = ri};
		struct pc_cdsr_response resp;
		int which = wait_answer(c, pend, n_pend, wait_clock_ms() + wait_ms, answer,
		                        sizeof(answer), &resp);
		if (which < 0) {
			if (pend[n_pend - 1].fd >= 0)
				say(c, "rendezvous: no answer from %s within %u ms", r->text,
				    wait_ms);
			c->next_responder = ri + 1;
			wait_ms = wait_ms * 2 < MAX_WAIT_MS ? wait_ms * 2 : MAX_WAIT_MS;
			continue;
		}
		/* This try is answered: a second answer to it would be a stray. */
		const struct responder *from = &c->responders[pend[which].responder];
		close(pend[which].fd);
		pend[which].fd = -1;
		if (resp.status == PC_CDSR_TOO_SMALL && !padded_retry) {
			say(c, "rendezvous: %s needs a larger request; padding to %d bytes",
			    from->text, PC_CDSR_REQUEST_MAX);
			pad_to = PC_CDSR_REQUEST_MAX;
			padded_retry = true;
			c->next_responder = pend[which].responder;
			tries--; /* docs/cdsr.md §8: "pad and retry at once"; not the responder's
			            fault */
			continue;
		}
		result = status_error(resp.status);
		if (result != PEERCDN_OK) {
			say(c, "rendezvous: %s answered %s", from->text,
			    pc_cdsr_status_name(resp.status));
			if (resp.status == PC_CDSR_RATE_LIMITED ||
			    resp.status == PC_CDSR_SERVER_ERROR) {
				refused[pend[which].responder] = true;
				c->next_responder = pend[which].responder + 1;
				continue;
			}
			break;
		}
		c->next_responder = pend[which].responder;
		result = take_answer(c, url, &resp, from, out);
		break;
	}
	for (size_t i = 0; i < n_pend; i++)
		if (pend[i].fd >= 0)
			close(pend[i].fd);
	if (result == PEERCDN_ETIMEOUT && n_pend == 0 && send_errno != 0) {
		errno = send_errno; /* not one datagram left this host */
		return PEERCDN_ESYSTEM;
	}
	return result;
}

API int peercdn_report_failure(peercdn_client *c, const struct peercdn_server *server)
{
	if (c == NULL || server == NULL)
		return PEERCDN_EINVAL;
	pc_addr addr = {0};
	if (inet_pton(AF_INET, server->address, addr.bytes) == 1)
		addr.family = PC_AF_INET;
	else if (inet_pton(AF_INET6, server->address, addr.bytes) == 1)
		addr.family = PC_AF_INET6;
	else
		return PEERCDN_EINVAL;
	for (size_t i = 0; i < c->n_cache; i++) {
		pc_addr cached = {0};
		struct cache_entry *e = &c->cache[i];
		if (e->key != NULL &&
		    inet_pton(e->server.family == 6 ? AF_INET6 : AF_INET, e->server.address,
		              cached.bytes) == 1 &&
		    memcmp(cached.bytes, addr.bytes, sizeof(addr.bytes)) == 0 &&
		    (e->server.family == 6) == (addr.family == PC_AF_INET6))
			drop_entry(e);
	}
	uint64_t now = clock_ms(c);
	uint64_t until = now + (uint64_t)PEERCDN_AVOID_S * 1000;
	expire_avoid(c, now);
	say(c, "report: server %s failed; avoiding it for %d s", server->address, PEERCDN_AVOID_S);
	for (size_t i = 0; i < c->n_avoid; i++) {
		if (c->avoid[i].addr.family == addr.family &&
		    memcmp(c->avoid[i].addr.bytes, addr.bytes, sizeof(addr.bytes)) == 0) {
			/* Again: it moves to the newest end. */
			memmove(&c->avoid[i], &c->avoid[i + 1],
			        (c->n_avoid - i - 1) * sizeof(c->avoid[0]));
			c->n_avoid--;
			break;
		}
	}
	if (c->n_avoid == PC_CDSR_MAX_AVOID) {
		memmove(&c->avoid[0], &c->avoid[1], (PC_CDSR_MAX_AVOID - 1) * sizeof(c->avoid[0]));
		c->n_avoid--;
	}
	c->avoid[c->n_avoid++] = (struct avoided){.addr = addr, .until_ms = until};
	return PEERCDN_OK;
}
