/* prefill: `peercdnctl prefill [--channel] [--edge ADDR:PORT]... [--timeout S]
 * URL...`. For each edge, one POST /.peercdn/prefill (with --channel,
 * /.peercdn/prefill?mode=channel: the edge, a provider's injection point,
 * also sends each object down the provider's channel to every edge of its
 * tree, docs/prefill.md) with the URLs as a
 * text/uri-list body; the edge answers when every URL has ended, a line
 * per URL ("<status> <outcome> <url>"), which is printed after the edge's
 * address. A blocking client: one edge after the other, each with its own
 * timeout, since an operator runs it by hand or from a script. */
#include "ctl/prefill.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ctl/io.h"
#include "lib/base/buf.h"
#include "lib/proto/edge_settings.h"

enum { MAX_EDGES = 64, DEFAULT_TIMEOUT_S = 300 };

static void usage(FILE *out)
{
	fputs("usage: peercdnctl prefill [--channel] --edge ADDR:PORT [--edge ADDR:PORT]...\n"
	      "                          [--timeout S] URL... (or - : the URLs from stdin)\n",
	      out);
}

/* A connected TCP socket to edge ("192.0.2.1:8080", "[::1]:8080"), or -1. */
static int dial(const char *edge, unsigned timeout_s)
{
	struct pc_hostport at;
	char host[64], port[8];
	if (pc_hostport_parse(edge, &at) != 0 || pc_addr_format(&at.addr, host, sizeof(host)) < 0) {
		fprintf(stderr, "--edge: not ADDRESS:PORT: \"%s\"\n", edge);
		return -1;
	}
	snprintf(port, sizeof(port), "%u", (unsigned)at.port);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
	struct addrinfo *res;
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		fprintf(stderr, "%s: cannot use the address\n", edge);
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_sec = (time_t)timeout_s};
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
		fprintf(stderr, "%s: cannot connect: %s\n", edge, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* Whether a line of the answer says the URL is held: a 2xx status and
 * "filled" or "cached", or (channel mode) "sent". */
static bool line_ok(const char *line)
{
	unsigned status;
	char outcome[32];
	if (sscanf(line, "%u %31s", &status, outcome) != 2)
		return false;
	return status >= 200 && status < 300 &&
	       (strcmp(outcome, "filled") == 0 || strcmp(outcome, "cached") == 0 ||
	        strcmp(outcome, "sent") == 0);
}

/* One edge: the POST, the answer printed. Returns 0 when every URL is
 * held, 1 otherwise. */
static int prefill_edge(const char *edge, const struct pc_buf *urls, unsigned n_urls,
                        unsigned timeout_s, bool channel)
{
	int fd = dial(edge, timeout_s);
	if (fd < 0)
		return 1;
	struct pc_buf req = {0}, resp = {0};
	int status = 1;
	bool ok = pc_buf_printf(&req,
	                        "POST /.peercdn/prefill%s HTTP/1.1\r\nHost: %s\r\n"
	                        "Content-Type: text/uri-list\r\nContent-Length: %zu\r\n"
	                        "Connection: close\r\nUser-Agent: peercdnctl\r\n\r\n",
	                        channel ? "?mode=channel" : "", edge, urls->len) &&
	          pc_buf_append(&req, urls->data, urls->len);
	if (!ok || !ctl_send_all(fd, req.data, req.len)) {
		fprintf(stderr, "%s: cannot send: %s\n", edge, strerror(errno));
		goto out;
	}
	char chunk[4096];
	for (;;) {
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: no answer: %s\n", edge,
			        errno == EAGAIN ? "timed out" : strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (!pc_buf_append(&resp, chunk, (size_t)n))
			goto out;
	}
	if (!pc_buf_append(&resp, "", 1))
		goto out;
	unsigned code = 0;
	char *body = strstr(resp.data, "\r\n\r\n");
	if (sscanf(resp.data, "HTTP/1.%*u %u", &code) != 1 || body == NULL) {
		fprintf(stderr, "%s: not an HTTP answer\n", edge);
		goto out;
	}
	body += 4;
	if (code != 200) {
		fprintf(stderr, "%s: %u: %s", edge, code, body);
		goto out;
	}
	unsigned lines = 0, good = 0;
	for (char *line = strtok(body, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		printf("%s %s\n", edge, line);
		lines++;
		good += line_ok(line);
	}
	status = lines == n_urls && good == lines ? 0 : 1;
out:
	pc_buf_free(&req);
	pc_buf_free(&resp);
	close(fd);
	return status;
}

static bool add_url(struct pc_buf *urls, const char *url, size_t len, unsigned *n)
{
	while (len > 0 && (url[len - 1] == '\n' || url[len - 1] == '\r'))
		len--;
	if (len == 0 || url[0] == '#')
		return true;
	if (memchr(url, '\n', len) != NULL || memchr(url, '\r', len) != NULL)
		return false;
	(*n)++;
	return pc_buf_append(urls, url, len) && pc_buf_append(urls, "\r\n", 2);
}

int prefill_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"edge", required_argument, NULL, 'e'},
	    {"timeout", required_argument, NULL, 't'},
	    {"channel", no_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *edges[MAX_EDGES];
	unsigned n_edges = 0, timeout_s = DEFAULT_TIMEOUT_S;
	bool channel = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "e:t:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			if (n_edges == MAX_EDGES) {
				fprintf(stderr, "at most %d --edge\n", MAX_EDGES);
				return 2;
			}
			edges[n_edges++] = optarg;
			break;
		case 't':
			timeout_s = (unsigned)atoi(optarg);
			break;
		case 'c':
			channel = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (n_edges == 0 || optind >= argc || timeout_s == 0) {
		usage(stderr);
		return 2;
	}
	struct pc_buf urls = {0};
	unsigned n_urls = 0;
	int status = 2;
	for (int i = optind; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0) {
			char *line = NULL;
			size_t cap = 0;
			ssize_t len;
			while ((len = getline(&line, &cap, stdin)) > 0)
				if (!add_url(&urls, line, (size_t)len, &n_urls))
					break;
			free(line);
		} else if (!add_url(&urls, argv[i], strlen(argv[i]), &n_urls)) {
			fprintf(stderr, "not a URL: \"%s\"\n", argv[i]);
			goto out;
		}
	}
	if (n_urls == 0) {
		fputs("no URLs\n", stderr);
		goto out;
	}
	status = 0;
	for (unsigned e = 0; e < n_edges; e++)
		if (prefill_edge(edges[e], &urls, n_urls, timeout_s, channel) != 0)
			status = 1;
out:
	pc_buf_free(&urls);
	return status;
}
