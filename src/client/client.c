/* libpeercdn-client; see peercdn_client.h. The wire codec is the
 * project's own (src/lib/cdsr.c, compiled into this library), so the
 * client and the responder cannot disagree about the format. */
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

#include "lib/cdsr.h"
#include "lib/err.h"

#define API __attribute__((visibility("default")))

enum {
	MAX_RESPONDERS = 8,
	AVOID_MS = 60000,
	DEFAULT_TIMEOUT_MS = 300,
	DEFAULT_TRIES = 3,
	DEFAULT_CACHE = 64,
	MAX_TRIES = 10,
};

struct responder {
	struct sockaddr_storage addr;
	socklen_t len;
	char text[64];
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

struct peercdn_client {
	struct peercdn_client_options opts;
	char *prefer_cdn;
	struct responder responders[MAX_RESPONDERS];
	size_t n_responders;
	struct sockaddr_storage source;
	socklen_t source_len;
	struct avoided avoid[PC_CDSR_MAX_AVOID];
	size_t n_avoid;
	struct cache_entry *cache;
	size_t n_cache;
	size_t next_responder;
};

static uint64_t now_ms(const peercdn_client *c)
{
	if (c->opts.clock_ms != NULL)
		return c->opts.clock_ms(c->opts.clock_ctx);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void logf_(const peercdn_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void logf_(const peercdn_client *c, const char *fmt, ...)
{
	if (c->opts.log == NULL)
		return;
	char line[512];
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
		return "the responder's answer is not CDSR version 1";
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
	default:
		return "unknown error";
	}
}

/* "a.b.c.d", "a.b.c.d:port", "[v6]:port", "v6" */
static int parse_responder(const char *text, struct responder *out)
{
	char host[INET6_ADDRSTRLEN];
	unsigned long port = PEERCDN_PORT;
	const char *colon = strrchr(text, ':');
	size_t host_len;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL)
			return PEERCDN_EINVAL;
		host_len = (size_t)(close - text - 1);
		if (host_len >= sizeof(host))
			return PEERCDN_EINVAL;
		memcpy(host, text + 1, host_len);
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] != '\0' && colon == NULL)
			return PEERCDN_EINVAL;
	} else if (colon != NULL && strchr(text, ':') == colon) {
		host_len = (size_t)(colon - text);
		if (host_len >= sizeof(host))
			return PEERCDN_EINVAL;
		memcpy(host, text, host_len);
	} else {
		host_len = strlen(text);
		if (host_len >= sizeof(host))
			return PEERCDN_EINVAL;
		memcpy(host, text, host_len);
		colon = NULL;
	}
	host[host_len] = '\0';
	if (colon != NULL) {
		char *end;
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || end == colon + 1 || port == 0 || port > 65535)
			return PEERCDN_EINVAL;
	}
	memset(&out->addr, 0, sizeof(out->addr));
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

API peercdn_client *peercdn_client_new(const struct peercdn_client_options *options, int *error)
{
	int dummy;
	if (error == NULL)
		error = &dummy;
	*error = PEERCDN_EINVAL;
	if (options == NULL || options->n_responders == 0 ||
	    options->n_responders > MAX_RESPONDERS || options->responders == NULL ||
	    (options->family != 0 && options->family != 4 && options->family != 6))
		return NULL;
	peercdn_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		*error = PEERCDN_ENOMEM;
		return NULL;
	}
	c->opts = *options;
	c->opts.responders = NULL;
	if (c->opts.timeout_ms == 0)
		c->opts.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (c->opts.tries == 0)
		c->opts.tries = DEFAULT_TRIES;
	if (c->opts.tries > MAX_TRIES)
		c->opts.tries = MAX_TRIES;
	c->n_cache = c->opts.cache_entries ? c->opts.cache_entries : DEFAULT_CACHE;
	c->cache = calloc(c->n_cache, sizeof(*c->cache));
	if (options->prefer_cdn != NULL) {
		c->prefer_cdn = strdup(options->prefer_cdn);
		c->opts.prefer_cdn = c->prefer_cdn;
	}
	if (c->cache == NULL || (options->prefer_cdn != NULL && c->prefer_cdn == NULL)) {
		*error = PEERCDN_ENOMEM;
		peercdn_client_free(c);
		return NULL;
	}
	for (size_t i = 0; i < options->n_responders; i++) {
		if (options->responders[i] == NULL ||
		    parse_responder(options->responders[i], &c->responders[i]) != PEERCDN_OK) {
			peercdn_client_free(c);
			return NULL;
		}
	}
	c->n_responders = options->n_responders;
	if (options->source_address != NULL) {
		struct responder source;
		if (parse_responder(options->source_address, &source) != PEERCDN_OK) {
			peercdn_client_free(c);
			return NULL;
		}
		c->source = source.addr;
		c->source_len = source.len;
		((struct sockaddr_in *)&c->source)->sin_port = 0; /* same offset in sockaddr_in6 */
	}
	c->opts.source_address = NULL;
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

/* "scheme://authority" of url: its length, or 0 when url has none. */
static size_t origin_len(const char *url)
{
	const char *sep = strstr(url, "://");
	if (sep == NULL)
		return 0;
	size_t n = (size_t)(sep - url) + 3;
	while (url[n] != '\0' && url[n] != '/' && url[n] != '?' && url[n] != '#')
		n++;
	return n;
}

static bool covers(const struct cache_entry *e, const char *url)
{
	switch (e->reuse) {
	case PEERCDN_REUSE_URL:
		return strcmp(e->key, url) == 0;
	case PEERCDN_REUSE_HOST: {
		size_t n = origin_len(url);
		return n > 0 && strlen(e->key) == n && strncasecmp(e->key, url, n) == 0;
	}
	case PEERCDN_REUSE_PREFIX:
		return strncmp(e->key, url, strlen(e->key)) == 0;
	}
	return false;
}

static void drop_entry(struct cache_entry *e)
{
	free(e->key);
	e->key = NULL;
}

/* The URL on the server: the answer's scheme, address and port, then the
 * path and query of url. */
static int server_url(const char *url, struct peercdn_server *s)
{
	static const char *const schemes[] = {"", "http", "https", "rtsp"};
	size_t n = origin_len(url);
	const char *rest = url + n;
	const char *open = s->family == 6 ? "[" : "", *close = s->family == 6 ? "]" : "";
	int len = snprintf(s->url, sizeof(s->url), "%s://%s%s%s:%u%s%s", schemes[s->scheme], open,
	                   s->address, close, (unsigned)s->port, rest[0] == '/' ? "" : "/", rest);
	return len > 0 && (size_t)len < sizeof(s->url) ? PEERCDN_OK : PEERCDN_EINVAL;
}

static const struct cache_entry *cache_lookup(peercdn_client *c, const char *url, uint64_t now)
{
	for (size_t i = 0; i < c->n_cache; i++) {
		struct cache_entry *e = &c->cache[i];
		if (e->key == NULL)
			continue;
		if (now >= e->expires_ms) {
			drop_entry(e);
			continue;
		}
		if (covers(e, url)) {
			e->used_ms = now;
			return e;
		}
	}
	return NULL;
}

static void cache_store(peercdn_client *c, const char *url, const struct peercdn_server *s,
                        const char *prefix, size_t prefix_len, uint64_t now)
{
	if (s->validity_s == 0)
		return;
	size_t victim = 0;
	for (size_t i = 0; i < c->n_cache; i++) {
		if (c->cache[i].key == NULL) {
			victim = i;
			break;
		}
		if (c->cache[i].used_ms < c->cache[victim].used_ms)
			victim = i;
	}
	struct cache_entry *e = &c->cache[victim];
	drop_entry(e);
	size_t key_len = s->reuse == PEERCDN_REUSE_HOST     ? origin_len(url)
	                 : s->reuse == PEERCDN_REUSE_PREFIX ? prefix_len
	                                                    : strlen(url);
	const char *key = s->reuse == PEERCDN_REUSE_PREFIX ? prefix : url;
	e->key = strndup(key, key_len);
	if (e->key == NULL)
		return; /* not cached: the next request asks again */
	e->reuse = s->reuse;
	e->expires_ms = now + (uint64_t)s->validity_s * 1000;
	e->used_ms = now;
	e->server = *s;
}

static void expire_avoid(peercdn_client *c, uint64_t now)
{
	size_t kept = 0;
	for (size_t i = 0; i < c->n_avoid; i++)
		if (c->avoid[i].until_ms > now)
			c->avoid[kept++] = c->avoid[i];
	c->n_avoid = kept;
}

static int status_error(uint8_t status)
{
	switch (status) {
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
	case PC_CDSR_RATE_LIMITED:
		return PEERCDN_ERATELIMITED;
	case PC_CDSR_SERVER_ERROR:
		return PEERCDN_ESERVER;
	default:
		return PEERCDN_EPROTOCOL;
	}
}

/* Sends one request to r and waits up to wait_ms for its answer. Returns
 * 1 with *resp filled (wire in buf), 0 on timeout, or a negative code. */
static int one_try(peercdn_client *c, const struct responder *r, const uint8_t *req, size_t req_len,
                   uint64_t nonce, unsigned wait_ms, uint8_t *buf, size_t buf_size,
                   struct pc_cdsr_response *resp)
{
	int fd = socket(r->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return PEERCDN_ESYSTEM;
	/* A connected socket takes datagrams from the responder only. */
	if ((c->source_len > 0 && c->source.ss_family == r->addr.ss_family &&
	     bind(fd, (const struct sockaddr *)&c->source, c->source_len) != 0) ||
	    connect(fd, (const struct sockaddr *)&r->addr, r->len) != 0 ||
	    send(fd, req, req_len, 0) != (ssize_t)req_len) {
		int saved = errno;
		close(fd);
		errno = saved;
		return PEERCDN_ESYSTEM;
	}
	uint64_t deadline = now_ms(c) + wait_ms;
	int result = 0;
	for (int datagrams = 0; datagrams < 64; datagrams++) {
		uint64_t now = now_ms(c);
		if (now >= deadline)
			break;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int ready = poll(&pfd, 1, (int)(deadline - now));
		if (ready <= 0)
			break;
		ssize_t n = recv(fd, buf, buf_size, 0);
		if (n < 0)
			continue; /* ICMP port unreachable and the like: keep waiting */
		if (pc_cdsr_response_parse(buf, (size_t)n, resp) != PC_OK) {
			logf_(c, "rendezvous: ignored a datagram that is not a CDSR answer");
			continue;
		}
		if (resp->nonce != nonce) {
			logf_(c, "rendezvous: ignored an answer with another nonce");
			continue;
		}
		result = 1;
		break;
	}
	close(fd);
	return result;
}

static uint64_t random_nonce(void)
{
	uint64_t nonce = 0;
	if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce))
		nonce = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32; /* never: getrandom */
	return nonce;
}

static const char *branch_name(uint8_t branch)
{
	static const char *const names[] = {"NONE", "PRIMARY", "PEER", "OUTSIDE"};
	return branch < 4 ? names[branch] : "?";
}

API int peercdn_rendezvous(peercdn_client *c, const char *url, struct peercdn_server *out)
{
	if (c == NULL || url == NULL || out == NULL)
		return PEERCDN_EINVAL;
	size_t url_len = strlen(url);
	if (url_len == 0 || url_len > PC_CDSR_URL_MAX || origin_len(url) == 0)
		return PEERCDN_EINVAL;
	uint64_t now = now_ms(c);
	expire_avoid(c, now);
	const struct cache_entry *hit = cache_lookup(c, url, now);
	if (hit != NULL) {
		*out = hit->server;
		out->from_cache = 1;
		if (server_url(url, out) != PEERCDN_OK)
			return PEERCDN_EINVAL;
		logf_(c, "rendezvous: %s -> server %s:%u from the cache (valid %u s more)", url,
		      out->address, (unsigned)out->port,
		      (unsigned)((hit->expires_ms - now) / 1000));
		return PEERCDN_OK;
	}

	struct pc_cdsr_request req = {
	    .version = PC_CDSR_VERSION,
	    .flags = c->opts.want_hints ? PC_CDSR_F_HINTS : 0,
	    .url = url,
	    .url_len = (uint16_t)url_len,
	    .prefer_cdn = c->opts.prefer_cdn,
	    .prefer_cdn_len = c->opts.prefer_cdn ? (uint16_t)strlen(c->opts.prefer_cdn) : 0,
	    .family = c->opts.family == 4   ? PC_AF_INET
	              : c->opts.family == 6 ? PC_AF_INET6
	                                    : 0,
	};
	for (size_t i = 0; i < c->n_avoid; i++)
		req.avoid[req.n_avoid++] = (struct pc_cdsr_avoid){.addr = c->avoid[i].addr};

	uint8_t wire[PC_CDSR_REQUEST_MAX], answer[PC_CDSR_REQUEST_MAX + 64];
	size_t pad_to = 0;
	int last = PEERCDN_ETIMEOUT;
	unsigned wait_ms = c->opts.timeout_ms;
	for (int attempt = 0; attempt < (int)c->opts.tries; attempt++) {
		req.nonce = random_nonce();
		int natural = pc_cdsr_request_write(&req, 0, wire, sizeof(wire));
		if (natural < 0)
			return PEERCDN_EINVAL; /* the URL and options do not fit one datagram */
		size_t target = pad_to ? pad_to : pc_cdsr_pad_length((size_t)natural);
		int len = pc_cdsr_request_write(&req, target, wire, sizeof(wire));
		if (len < 0)
			return PEERCDN_EINVAL;
		const struct responder *r = &c->responders[c->next_responder % c->n_responders];
		logf_(c, "rendezvous: %s via %s (try %d of %u, %d bytes, %u avoided)", url, r->text,
		      attempt + 1, c->opts.tries, len, (unsigned)req.n_avoid);
		struct pc_cdsr_response resp;
		int got = one_try(c, r, wire, (size_t)len, req.nonce, wait_ms, answer,
		                  sizeof(answer), &resp);
		if (got < 0)
			return got;
		if (got == 0) {
			logf_(c, "rendezvous: no answer from %s within %u ms", r->text, wait_ms);
			c->next_responder++;
			wait_ms *= 2;
			continue;
		}
		if (resp.status == PC_CDSR_TOO_SMALL && pad_to < PC_CDSR_REQUEST_MAX) {
			logf_(c, "rendezvous: %s needs a larger request; padding to %d bytes",
			      r->text, PC_CDSR_REQUEST_MAX);
			pad_to = PC_CDSR_REQUEST_MAX;
			attempt--; /* not the responder's fault: a free retry, once */
			continue;
		}
		if (resp.status != PC_CDSR_OK) {
			last = status_error(resp.status);
			logf_(c, "rendezvous: %s answered %s", r->text,
			      pc_cdsr_status_name(resp.status));
			if (resp.status == PC_CDSR_RATE_LIMITED ||
			    resp.status == PC_CDSR_SERVER_ERROR) {
				c->next_responder++;
				wait_ms *= 2;
				continue;
			}
			return last;
		}
		memset(out, 0, sizeof(*out));
		if (inet_ntop(resp.server.family == PC_AF_INET6 ? AF_INET6 : AF_INET,
		              resp.server.bytes, out->address, sizeof(out->address)) == NULL)
			return PEERCDN_EPROTOCOL;
		out->family = resp.server.family == PC_AF_INET6 ? 6 : 4;
		out->port = resp.port;
		out->scheme = (enum peercdn_scheme)resp.scheme;
		out->validity_s = resp.validity_s;
		out->reuse = (enum peercdn_reuse)resp.reuse;
		out->reason_flags = resp.reason_flags;
		out->branch = branch_name(resp.branch);
		snprintf(out->responder, sizeof(out->responder), "%s", r->text);
		if (server_url(url, out) != PEERCDN_OK)
			return PEERCDN_EINVAL;
		static const char *const scopes[] = {"this URL", "this host", "a prefix"};
		logf_(c, "rendezvous: %s -> server %s:%u (%s, valid %u s for %s%s)", r->text,
		      out->address, (unsigned)out->port, out->branch, (unsigned)out->validity_s,
		      scopes[out->reuse <= 2 ? out->reuse : 0],
		      resp.flags & PC_CDSR_F_TRUNCATED ? ", hints left out" : "");
		for (uint32_t h = 0; h < resp.n_hints; h++)
			logf_(c, "rendezvous: hint: %s %.*s also go through CDSR",
			      resp.hints[h].kind == PC_CDSR_OPT_HINT_DOMAIN ? "hosts under"
			                                                    : "URLs starting",
			      (int)resp.hints[h].len, resp.hints[h].text);
		cache_store(c, url, out, resp.reuse_prefix, resp.reuse_prefix_len, now_ms(c));
		return PEERCDN_OK;
	}
	return last;
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
	uint64_t now = now_ms(c);
	for (size_t i = 0; i < c->n_cache; i++)
		if (c->cache[i].key != NULL &&
		    strcmp(c->cache[i].server.address, server->address) == 0)
			drop_entry(&c->cache[i]);
	expire_avoid(c, now);
	for (size_t i = 0; i < c->n_avoid; i++) {
		if (c->avoid[i].addr.family == addr.family &&
		    memcmp(c->avoid[i].addr.bytes, addr.bytes, 16) == 0) {
			c->avoid[i].until_ms = now + AVOID_MS;
			return PEERCDN_OK;
		}
	}
	if (c->n_avoid == PC_CDSR_MAX_AVOID) {
		memmove(c->avoid, c->avoid + 1, (PC_CDSR_MAX_AVOID - 1) * sizeof(c->avoid[0]));
		c->n_avoid--;
	}
	c->avoid[c->n_avoid++] = (struct avoided){.addr = addr, .until_ms = now + AVOID_MS};
	logf_(c, "report: server %s failed; avoiding it for %d s", server->address,
	      AVOID_MS / 1000);
	return PEERCDN_OK;
}
