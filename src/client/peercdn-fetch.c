/* peercdn-fetch: a CDSR-aware client (docs/man/peercdn-fetch.1). It asks a
 * CDSR responder which server to use (libpeercdn-client), fetches the URL
 * from that server with libcurl, and when the server cannot be reached it
 * reports it and asks again — the patent's re-establishment of service
 * with another server. Without a CDSR answer it falls back to the plain
 * request a legacy client makes, following the HTTP redirector's 302. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peercdn_client.h"

enum { EXIT_USAGE = 1, EXIT_RENDEZVOUS = 2, EXIT_FETCH = 3, MAX_RESPONDERS = 8 };

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
	    "                     [--resolve HOST:PORT:ADDRESS] URL\n"
	    "Fetches URL from the server a CDSR responder chooses (docs/cdsr.md).\n"
	    "  -r RESPONDER  CDSR responder, ADDRESS[:PORT] (default port 2554); repeatable;\n"
	    "                default: $PEERCDN_RESPONDERS (comma-separated)\n"
	    "  -b SOURCE     send from this local address (rendezvous and fetch)\n"
	    "  -o FILE       write the body to FILE instead of standard output\n"
	    "  -t MS         rendezvous timeout of the first try (default 300, doubled per try)\n"
	    "  --prefer CDN  ask for servers of this CDN (claim 19)\n"
	    "  -4, -6        ask for an IPv4 or IPv6 server\n"
	    "  --max-attempts N  servers to try before giving up (default 3)\n"
	    "  --no-fallback     do not fall back to a plain request without a CDSR answer\n"
	    "  --resolve H:P:A   for the fallback request, as curl's --resolve\n"
	    "  -v            print every step on standard error\n"
	    "Exit: 0 fetched, 1 usage, 2 no server (rendezvous failed, no fallback), 3 fetch "
	    "failed.\n");
}

struct fetch {
	FILE *out;
	const char *source;
	struct curl_slist *resolve;
	long status;
	double bytes;
	char error[CURL_ERROR_SIZE];
};

/* Returns the curl result; f->status is the HTTP status when there was one. */
static CURLcode get(struct fetch *f, const char *url, bool follow, char *effective,
                    size_t effective_size)
{
	CURL *curl = curl_easy_init();
	if (curl == NULL)
		return CURLE_OUT_OF_MEMORY;
	f->error[0] = '\0';
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, f->out);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, f->error);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 60000L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "peercdn-fetch/" PEERCDN_CLIENT_VERSION);
	if (f->source != NULL)
		curl_easy_setopt(curl, CURLOPT_INTERFACE, f->source);
	if (follow) {
		curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
		curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		if (f->resolve != NULL)
			curl_easy_setopt(curl, CURLOPT_RESOLVE, f->resolve);
	}
	CURLcode rc = curl_easy_perform(curl);
	f->status = 0;
	curl_off_t size = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &f->status);
	curl_easy_getinfo(curl, CURLINFO_SIZE_DOWNLOAD_T, &size);
	f->bytes = (double)size;
	char *where = NULL;
	if (effective != NULL &&
	    curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &where) == CURLE_OK && where != NULL)
		snprintf(effective, effective_size, "%s", where);
	curl_easy_cleanup(curl);
	return rc;
}

/* A failure that another server may not have: report it and move on. */
static bool server_unreachable(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
	       rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING ||
	       rc == CURLE_PARTIAL_FILE;
}

static int fallback(struct fetch *f, const char *url)
{
	say("fallback: no CDSR answer; GET %s as a legacy client, following redirects", url);
	char effective[PEERCDN_URL_MAX] = "";
	CURLcode rc = get(f, url, true, effective, sizeof(effective));
	if (rc != CURLE_OK) {
		fprintf(stderr, "peercdn-fetch: %s: %s\n", url,
		        f->error[0] ? f->error : curl_easy_strerror(rc));
		return EXIT_FETCH;
	}
	say("fallback: served by %s -> %ld, %.0f bytes", effective, f->status, f->bytes);
	if (f->status >= 400) {
		fprintf(stderr, "peercdn-fetch: %s: HTTP status %ld\n", effective, f->status);
		return EXIT_FETCH;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
	    {"prefer", required_argument, NULL, 'p'},
	    {"max-attempts", required_argument, NULL, 'm'},
	    {"no-fallback", no_argument, NULL, 'n'},
	    {"resolve", required_argument, NULL, 'R'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *responders[MAX_RESPONDERS];
	size_t n_responders = 0;
	struct peercdn_client_options opts = {0};
	struct fetch f = {.out = stdout};
	const char *output = NULL;
	unsigned max_attempts = 3;
	bool allow_fallback = true;
	char *env_copy = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "vr:b:o:t:46h", long_options, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = true;
			break;
		case 'r':
			if (n_responders == MAX_RESPONDERS) {
				fprintf(stderr, "peercdn-fetch: at most %d responders\n",
				        MAX_RESPONDERS);
				return EXIT_USAGE;
			}
			responders[n_responders++] = optarg;
			break;
		case 'b':
			f.source = optarg;
			opts.source_address = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 't':
			opts.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case '4':
			opts.family = 4;
			break;
		case '6':
			opts.family = 6;
			break;
		case 'p':
			opts.prefer_cdn = optarg;
			break;
		case 'm':
			max_attempts = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			allow_fallback = false;
			break;
		case 'R':
			f.resolve = curl_slist_append(f.resolve, optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || max_attempts == 0 || max_attempts > 16) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *url = argv[optind];
	if (n_responders == 0 && getenv("PEERCDN_RESPONDERS") != NULL) {
		env_copy = strdup(getenv("PEERCDN_RESPONDERS"));
		for (char *save = NULL, *tok = strtok_r(env_copy, ",", &save);
		     tok != NULL && n_responders < MAX_RESPONDERS; tok = strtok_r(NULL, ",", &save))
			responders[n_responders++] = tok;
	}
	if (n_responders == 0) {
		fprintf(stderr,
		        "peercdn-fetch: no CDSR responder: give -r or PEERCDN_RESPONDERS\n");
		return EXIT_USAGE;
	}
	if (output != NULL && (f.out = fopen(output, "wb")) == NULL) {
		perror(output);
		return EXIT_USAGE;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	opts.responders = responders;
	opts.n_responders = n_responders;
	opts.log = log_line;
	int error;
	peercdn_client *client = peercdn_client_new(&opts, &error);
	int exit_code = EXIT_FETCH;
	if (client == NULL) {
		fprintf(stderr, "peercdn-fetch: %s\n", peercdn_strerror(error));
		exit_code = EXIT_USAGE;
		goto out;
	}
	for (unsigned attempt = 1; attempt <= max_attempts; attempt++) {
		struct peercdn_server server;
		int rc = peercdn_rendezvous(client, url, &server);
		if (rc != PEERCDN_OK) {
			fprintf(stderr, "peercdn-fetch: rendezvous: %s\n", peercdn_strerror(rc));
			if ((rc == PEERCDN_ETIMEOUT || rc == PEERCDN_EPROTOCOL ||
			     rc == PEERCDN_ERATELIMITED || rc == PEERCDN_ESERVER) &&
			    allow_fallback)
				exit_code = fallback(&f, url);
			else
				exit_code = attempt == 1 ? EXIT_RENDEZVOUS : EXIT_FETCH;
			goto out;
		}
		say("fetch: GET %s", server.url);
		CURLcode result = get(&f, server.url, false, NULL, 0);
		if (result == CURLE_OK && f.status < 400) {
			say("fetch: %s -> %ld, %.0f bytes", server.url, f.status, f.bytes);
			exit_code = 0;
			goto out;
		}
		if (result == CURLE_OK) {
			fprintf(stderr, "peercdn-fetch: %s: HTTP status %ld\n", server.url,
			        f.status);
			goto out;
		}
		say("fetch: %s:%u failed (%s); reporting it", server.address, (unsigned)server.port,
		    f.error[0] ? f.error : curl_easy_strerror(result));
		if (!server_unreachable(result)) {
			fprintf(stderr, "peercdn-fetch: %s: %s\n", server.url,
			        f.error[0] ? f.error : curl_easy_strerror(result));
			goto out;
		}
		peercdn_report_failure(client, &server);
	}
	fprintf(stderr, "peercdn-fetch: %s: no server could be reached after %u attempts\n", url,
	        max_attempts);
out:
	peercdn_client_free(client);
	curl_slist_free_all(f.resolve);
	curl_global_cleanup();
	if (f.out != stdout && f.out != NULL)
		fclose(f.out);
	free(env_copy);
	return exit_code;
}
