/* peercdn-fetch: a CDSR-aware client (docs/man/peercdn-fetch.1). It asks a
 * CDSR responder which server to use (libpeercdn-client), fetches the URL
 * from that server with libcurl, and when the server cannot be reached it
 * reports it and asks again: the patent's re-establishment of service
 * with another server. Without a CDSR answer it falls back to the plain
 * request a legacy client makes, following the HTTP redirector's 302
 * (the patent's §4.4 staged deployment). */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peercdn_client.h"

enum { EXIT_USAGE = 1, EXIT_RENDEZVOUS = 2, EXIT_FETCH = 3, MAX_ATTEMPTS = 16 };

struct args {
	const char *responders[PEERCDN_MAX_RESPONDERS];
	size_t n_responders;
	struct peercdn_client_options opts;
	const char *output; /* NULL: standard output */
	const char *source;
	unsigned max_attempts;
	bool fallback;
	struct curl_slist *resolve; /* --resolve, for the fallback request */
	const char *url;
};

/* Where the body goes. Bytes are counted so that a retry after a partial
 * body can start the file again, or refuse to when it cannot (a pipe). */
struct sink {
	FILE *out;
	bool rewindable; /* a file this program opened */
	curl_off_t written;
};

struct fetch {
	long status;
	curl_off_t bytes;
	char error[CURL_ERROR_SIZE];
	char effective[PEERCDN_URL_MAX];
	long redirects;
};

static bool verbose;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	if (!verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	say("%s", line);
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: peercdn-fetch [-v] [-r RESPONDER]... [-b SOURCE] [-o FILE] [-t MS]\n"
	    "                     [--prefer CDN] [-4|-6] [--max-attempts N] [--no-fallback]\n"
	    "                     [--resolve HOST:PORT:ADDRESS]... URL\n"
	    "Fetches URL from the server a CDSR responder chooses (docs/cdsr.md).\n"
	    "  -r RESPONDER  CDSR responder, ADDRESS[:PORT] or [IPV6]:PORT (port 2554);\n"
	    "                repeatable, up to 8; default: $PEERCDN_RESPONDERS\n"
	    "                (comma-separated), else the addresses of URL's host\n"
	    "  -b SOURCE     send from this local address (rendezvous and fetch)\n"
	    "  -o FILE       write the body to FILE instead of standard output\n"
	    "  -t MS         rendezvous timeout of the first try (default 300, doubled per try)\n"
	    "  --prefer CDN  ask for servers of this CDN (claim 19)\n"
	    "  -4, -6        ask for an IPv4 or IPv6 server\n"
	    "  --max-attempts N  servers to try before giving up (1-16, default 3)\n"
	    "  --no-fallback     do not fall back to a plain request without a CDSR answer\n"
	    "  --resolve H:P:A   for the fallback request, as curl's --resolve\n"
	    "  -v            print every step on standard error\n"
	    "Exit: 0 fetched, 1 usage, 2 no server (rendezvous failed, no fallback), 3 fetch "
	    "failed.\n");
}

static bool parse_number(const char *text, unsigned long max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long value = strtoul(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value > max)
		return false;
	*out = (unsigned)value;
	return true;
}

/* Returns 0, or EXIT_USAGE after printing why. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option long_options[] = {
	    {"prefer", required_argument, NULL, 'p'},
	    {"max-attempts", required_argument, NULL, 'm'},
	    {"no-fallback", no_argument, NULL, 'n'},
	    {"resolve", required_argument, NULL, 'R'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	a->max_attempts = 3;
	a->fallback = true;
	int c;
	while ((c = getopt_long(argc, argv, "vr:b:o:t:46h", long_options, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = true;
			break;
		case 'r':
			if (a->n_responders == PEERCDN_MAX_RESPONDERS) {
				fprintf(stderr, "peercdn-fetch: at most %d responders\n",
				        PEERCDN_MAX_RESPONDERS);
				return EXIT_USAGE;
			}
			a->responders[a->n_responders++] = optarg;
			break;
		case 'b':
			a->source = optarg;
			a->opts.source_address = optarg;
			break;
		case 'o':
			a->output = optarg;
			break;
		case 't':
			if (!parse_number(optarg, 60000, &a->opts.timeout_ms) ||
			    a->opts.timeout_ms == 0) {
				fprintf(stderr, "peercdn-fetch: -t: 1 to 60000 ms\n");
				return EXIT_USAGE;
			}
			break;
		case '4':
			a->opts.family = 4;
			break;
		case '6':
			a->opts.family = 6;
			break;
		case 'p':
			a->opts.prefer_cdn = optarg;
			break;
		case 'm':
			if (!parse_number(optarg, MAX_ATTEMPTS, &a->max_attempts) ||
			    a->max_attempts == 0) {
				fprintf(stderr, "peercdn-fetch: --max-attempts: 1 to %d\n",
				        MAX_ATTEMPTS);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			a->fallback = false;
			break;
		case 'R':
			a->resolve = curl_slist_append(a->resolve, optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	a->url = argv[optind];
	if (strncasecmp(a->url, "http://", 7) != 0 && strncasecmp(a->url, "https://", 8) != 0) {
		fprintf(stderr, "peercdn-fetch: %s: only http and https URLs are fetched\n",
		        a->url);
		return EXIT_USAGE;
	}
	return 0;
}

/* The host of an http(s) URL, without brackets: "abc.cdn.acme.net", "::1". */
static bool url_host(const char *url, char *host, size_t size)
{
	const char *start = strstr(url, "://") + 3;
	size_t len = strcspn(start, "/?#");
	const char *at = memchr(start, '@', len);
	if (at != NULL) {
		len -= (size_t)(at + 1 - start);
		start = at + 1;
	}
	if (start[0] == '[') {
		const char *close = memchr(start, ']', len);
		if (close == NULL)
			return false;
		start++;
		len = (size_t)(close - start);
	} else {
		const char *colon = memchr(start, ':', len);
		if (colon != NULL)
			len = (size_t)(colon - start);
	}
	if (len == 0 || len >= size)
		return false;
	memcpy(host, start, len);
	host[len] = '\0';
	return true;
}

/* Without -r: $PEERCDN_RESPONDERS, else the addresses of the URL's host on
 * the CDSR port (the CDN name resolves to its anycast address, where the
 * redirectors and the responder sit side by side). Fills texts (storage
 * for the strings) and a->responders. */
static void default_responders(struct args *a, char texts[][64], char **env_copy)
{
	const char *env = getenv("PEERCDN_RESPONDERS");
	if (env != NULL && env[0] != '\0') {
		*env_copy = strdup(env);
		char *save = NULL;
		for (char *tok = *env_copy ? strtok_r(*env_copy, ", ", &save) : NULL;
		     tok != NULL && a->n_responders < PEERCDN_MAX_RESPONDERS;
		     tok = strtok_r(NULL, ", ", &save))
			a->responders[a->n_responders++] = tok;
		say("rendezvous: responders from PEERCDN_RESPONDERS: %s", env);
		return;
	}
	char host[256];
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *list = NULL;
	if (!url_host(a->url, host, sizeof(host)))
		return;
	int rc = getaddrinfo(host, NULL, &hints, &list);
	if (rc != 0) {
		say("rendezvous: no responder: %s does not resolve (%s)", host, gai_strerror(rc));
		return;
	}
	for (struct addrinfo *ai = list; ai != NULL && a->n_responders < PEERCDN_MAX_RESPONDERS;
	     ai = ai->ai_next) {
		char addr[NI_MAXHOST];
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0,
		                NI_NUMERICHOST) != 0)
			continue;
		char *text = texts[a->n_responders];
		snprintf(text, 64, ai->ai_family == AF_INET6 ? "[%s]:%d" : "%s:%d", addr,
		         PEERCDN_PORT);
		bool seen = false;
		for (size_t i = 0; i < a->n_responders; i++)
			seen = seen || strcmp(a->responders[i], text) == 0;
		if (!seen) {
			a->responders[a->n_responders++] = text;
			say("rendezvous: responder %s (the address of %s)", text, host);
		}
	}
	freeaddrinfo(list);
}

static size_t write_body(char *data, size_t size, size_t n, void *ctx)
{
	struct sink *sink = ctx;
	size_t done = fwrite(data, size, n, sink->out);
	sink->written += (curl_off_t)(done * size);
	return done * size;
}

/* Makes the sink ready for another attempt. False when a failed attempt
 * left part of a body where it cannot be taken back. */
static bool sink_restart(struct sink *sink)
{
	if (sink->written == 0)
		return true;
	if (!sink->rewindable || fflush(sink->out) != 0 || ftruncate(fileno(sink->out), 0) != 0)
		return false;
	rewind(sink->out);
	sink->written = 0;
	return true;
}

/* One GET. Without follow, the request goes to server (when not NULL): for
 * http its server_url; for https the URL itself, connected to the server
 * (CURLOPT_CONNECT_TO), so that TLS checks the CDN's name. */
static CURLcode get(const struct args *a, struct sink *sink, const char *url,
                    const struct peercdn_server *server, bool follow, struct fetch *f)
{
	memset(f, 0, sizeof(*f));
	CURL *curl = curl_easy_init();
	if (curl == NULL)
		return CURLE_OUT_OF_MEMORY;
	struct curl_slist *connect_to = NULL;
	if (server != NULL && server->scheme == PEERCDN_SCHEME_HTTPS) {
		char map[PEERCDN_URL_MAX];
		bool v6 = server->family == 6;
		snprintf(map, sizeof(map), "::%s%s%s:%u", v6 ? "[" : "", server->address,
		         v6 ? "]" : "", (unsigned)server->port);
		connect_to = curl_slist_append(NULL, map);
		curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to);
	} else if (server != NULL) {
		url = server->server_url;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, f->error);
	curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L); /* no error page in the output */
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 60000L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "peercdn-fetch/" PEERCDN_CLIENT_VERSION);
	if (a->source != NULL)
		curl_easy_setopt(curl, CURLOPT_INTERFACE, a->source);
	if (follow) {
		curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
		curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		if (a->resolve != NULL)
			curl_easy_setopt(curl, CURLOPT_RESOLVE, a->resolve);
	}
	CURLcode rc = curl_easy_perform(curl);
	char *effective = NULL;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &f->status);
	curl_easy_getinfo(curl, CURLINFO_SIZE_DOWNLOAD_T, &f->bytes);
	curl_easy_getinfo(curl, CURLINFO_REDIRECT_COUNT, &f->redirects);
	if (curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK &&
	    effective != NULL)
		snprintf(f->effective, sizeof(f->effective), "%s", effective);
	if (f->error[0] == '\0')
		snprintf(f->error, sizeof(f->error), "%s", curl_easy_strerror(rc));
	curl_easy_cleanup(curl);
	curl_slist_free_all(connect_to);
	return rc;
}

/* A failure another server may not have: report the server, try another. */
static bool server_unreachable(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
	       rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING ||
	       rc == CURLE_PARTIAL_FILE || rc == CURLE_SSL_CONNECT_ERROR;
}

/* Rendezvous failures that mean "no CDSR answer to go by": a legacy
 * request may still succeed. The others are the CDN's verdict on the URL. */
static bool no_cdsr_answer(int rc, unsigned attempt)
{
	return rc == PEERCDN_ETIMEOUT || rc == PEERCDN_ESYSTEM || rc == PEERCDN_EPROTOCOL ||
	       rc == PEERCDN_EVERSION || rc == PEERCDN_ERATELIMITED || rc == PEERCDN_ESERVER ||
	       rc == PEERCDN_ETOOSMALL ||
	       /* docs/cdsr.md §8: NO_SERVER "or use the HTTP redirector"; not
	        * once we avoid servers the redirector does not know failed. */
	       (rc == PEERCDN_ENOSERVER && attempt == 1);
}

static int fallback(const struct args *a, struct sink *sink, const char *why)
{
	if (!sink_restart(sink)) {
		fprintf(stderr, "peercdn-fetch: part of a body was written; not retrying\n");
		return EXIT_FETCH;
	}
	say("fallback: %s; GET %s as a legacy client, following redirects", why, a->url);
	struct fetch f;
	CURLcode rc = get(a, sink, a->url, NULL, true, &f);
	if (rc != CURLE_OK) {
		if (f.status >= 400)
			fprintf(stderr, "peercdn-fetch: %s: HTTP status %ld\n", f.effective,
			        f.status);
		else
			fprintf(stderr, "peercdn-fetch: %s: %s\n", f.effective, f.error);
		return EXIT_FETCH;
	}
	say("fallback: GET %s -> %ld, %lld bytes (after %ld redirect%s)", f.effective, f.status,
	    (long long)f.bytes, f.redirects, f.redirects == 1 ? "" : "s");
	return 0;
}

/* Rendezvous, fetch, and on a dead server report it and start again. */
static int run(const struct args *a, peercdn_client *client, struct sink *sink)
{
	for (unsigned attempt = 1; attempt <= a->max_attempts; attempt++) {
		struct peercdn_server server;
		int rc = peercdn_rendezvous(client, a->url, &server);
		if (rc != PEERCDN_OK) {
			fprintf(stderr, "peercdn-fetch: rendezvous: %s\n", peercdn_strerror(rc));
			if (a->fallback && no_cdsr_answer(rc, attempt))
				return fallback(a, sink, "no CDSR answer");
			return attempt == 1 ? EXIT_RENDEZVOUS : EXIT_FETCH;
		}
		struct fetch f;
		CURLcode result = get(a, sink, a->url, &server, false, &f);
		if (result == CURLE_OK) {
			say("fetch: GET %s -> %ld, %lld bytes", f.effective, f.status,
			    (long long)f.bytes);
			return 0;
		}
		if (result == CURLE_HTTP_RETURNED_ERROR) {
			say("fetch: GET %s -> %ld", f.effective, f.status);
			fprintf(stderr, "peercdn-fetch: %s: HTTP status %ld\n", f.effective,
			        f.status);
			return EXIT_FETCH;
		}
		if (!server_unreachable(result)) {
			fprintf(stderr, "peercdn-fetch: %s: %s\n", f.effective, f.error);
			return EXIT_FETCH;
		}
		say("fetch: connection to %s%s%s:%u failed (%s); reporting it",
		    server.family == 6 ? "[" : "", server.address, server.family == 6 ? "]" : "",
		    (unsigned)server.port, curl_easy_strerror(result));
		peercdn_report_failure(client, &server);
		if (!sink_restart(sink)) {
			fprintf(stderr,
			        "peercdn-fetch: %s: part of the body was written to a stream; "
			        "not trying another server\n",
			        f.effective);
			return EXIT_FETCH;
		}
	}
	fprintf(stderr, "peercdn-fetch: %s: no server could be reached in %u attempts\n", a->url,
	        a->max_attempts);
	return EXIT_FETCH;
}

int main(int argc, char **argv)
{
	struct args a = {0};
	int exit_code = parse_args(argc, argv, &a);
	if (exit_code != 0) {
		curl_slist_free_all(a.resolve);
		return exit_code;
	}
	char resolved[PEERCDN_MAX_RESPONDERS][64];
	char *env_copy = NULL;
	if (a.n_responders == 0)
		default_responders(&a, resolved, &env_copy);
	struct sink sink = {.out = stdout};
	if (a.output != NULL) {
		sink.out = fopen(a.output, "wb");
		sink.rewindable = true;
		if (sink.out == NULL) {
			fprintf(stderr, "peercdn-fetch: %s: %s\n", a.output, strerror(errno));
			exit_code = EXIT_USAGE;
			goto out;
		}
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	a.opts.responders = a.responders;
	a.opts.n_responders = a.n_responders;
	a.opts.log = log_line;
	if (a.n_responders == 0) {
		fprintf(stderr,
		        "peercdn-fetch: no CDSR responder: give -r, set PEERCDN_RESPONDERS, "
		        "or make the URL's host resolve\n");
		exit_code = a.fallback ? fallback(&a, &sink, "no CDSR responder") : EXIT_RENDEZVOUS;
	} else {
		int error;
		peercdn_client *client = peercdn_client_new(&a.opts, &error);
		if (client == NULL) {
			fprintf(stderr, "peercdn-fetch: bad responder or option: %s\n",
			        peercdn_strerror(error));
			exit_code = EXIT_USAGE;
		} else {
			exit_code = run(&a, client, &sink);
			peercdn_client_free(client);
		}
	}
	curl_global_cleanup();
out:
	if (sink.out != stdout && sink.out != NULL && fclose(sink.out) != 0 && exit_code == 0)
		exit_code = EXIT_FETCH;
	if (sink.out == stdout && fflush(stdout) != 0 && exit_code == 0)
		exit_code = EXIT_FETCH;
	curl_slist_free_all(a.resolve);
	free(env_copy);
	return exit_code;
}
