/* live_cascade: see live_cascade.h.
 *
 * One thread a feed with blocking sockets and short timeouts: a feed is
 * one request every target duration, not worth the connection engine's
 * state machines, and a slow provider server cannot hold up a worker.
 * The lifecycle (which feeds, started and stopped when) is worker 0's, at
 * its tick, below the feed's body ("which feeds, and when"). */
#include "node/live_cascade.h"

#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/err.h"
#include "lib/proto/directory.h"
#include "lib/proto/directory_settings.h"
#include "lib/proto/hls.h"
#include "lib/proto/hls_follow.h"
#include "lib/proto/http_msg.h"
#include "node/edge_internal.h"
#include "node/live_internal.h"
#include "node/live_rtsp.h"
#include "node/log.h"
#include "node/node.h"
#include "node/overlay.h"

enum {
	IO_TIMEOUT_MS = 3000,   /* a connect, send or receive */
	SEGMENT_MAX = 32 << 20, /* bytes of a segment we fetch */
	PLAYLIST_SEGS = 256,    /* segments of a playlist we take */
	RETRY_MS = 1000,        /* after a failed fetch or a malformed playlist */
	MAX_CASCADES = 16,      /* feeds one node pulls at once */
	MAX_WATCHED = 64,       /* watched channels a node asks the directory about */
	MAX_STOPPING = 32,      /* feeds told to stop whose thread has not ended yet */
	MAX_ASKED = 12,         /* names asked for a stream: 3 forms on 4 directory hosts */
	CHECK_MS = 900,         /* a pulled feed's directory answer is read again (each tick) */
	REFUSED_MS = 10000,     /* a name not answered `cascade` is asked again (a 404's TTL) */
	PUSHED_MS = 3000,       /* an encoder's block this recent: its stream, not the feed */
};

struct feed {
	struct live_hub *hub;
	struct pcd_node *node;
	pthread_t thread;
	atomic_bool stop;
	atomic_bool done;                /* the thread has ended: joining it will not wait */
	char url[PC_DIR_MAX_TARGET + 1]; /* the directory's answer, to see it change */
	char provider[LIVE_CHANNEL_MAX + 1];
	char stream[LIVE_NAME_MAX + 1];
	char host[256], port[8];
	char path[PC_DIR_MAX_TARGET + 1]; /* of the playlist */
	size_t dir_len;                   /* of path, up to its last '/' included */
	bool rtsp;                        /* an rtsp:// feed: url, pulled by live_rtsp */
	uint32_t segment_ms;
	bool failing;          /* logged once a run of failures, counted each */
	struct lookup *lookup; /* the feed's host name being resolved, or NULL */
};

/* A stream of ours that somebody on the overlay subscribes to: the
 * directory is asked about it, and its feed pulled while the directory
 * answers `cascade` and somebody watches. */
struct watched {
	bool used, seen;
	bool refused;      /* counted and logged once a run of refusals */
	bool full;         /* the same, for a feed over MAX_CASCADES */
	bool failing;      /* the directory could not be asked: logged once a run */
	bool pushed;       /* an encoder pushes the stream: logged once a run */
	uint32_t provider; /* its index in the generation of lc->gen_number */
	char provider_name[LIVE_CHANNEL_MAX + 1];
	char stream[LIVE_NAME_MAX + 1];
	uint64_t unwatched_ms; /* since when nobody subscribes; 0 while watched */
	uint64_t check_ms;     /* the directory is asked (again) from then */
	struct feed *feed;     /* its pull, or NULL */
	/* Answers of edge.directories still coming, by name asked
	 * (edge_directory_ask's pending). */
	struct pcd_object *asked[MAX_ASKED];
};

struct live_cascade {
	struct live_hub *hub;
	struct pcd_node *node;
	struct watched watched[MAX_WATCHED];
	struct feed *stopping[MAX_STOPPING];
	unsigned n_stopping, n_feeds;
	uint64_t gen_number;      /* the generation the watched streams' provider indices are of */
	const pc_model *model;    /* the tick's generation's, during a tick */
	uint32_t self;            /* the router id the channels name, during a tick */
	bool overflow, full_said; /* more watched streams than MAX_WATCHED: this tick, said */
};

bool live_cascade_stream(const char *name, size_t len, char *out, size_t cap)
{
	const char *slash = memchr(name, '/', len);
	if (slash == NULL)
		return false;
	const char *s = slash + 1;
	size_t n = len - (size_t)(s - name);
	if (n > 5 && memcmp(s + n - 5, ".m3u8", 5) == 0)
		n -= 5;
	else if (n > 3 && memcmp(s + n - 3, ".ts", 3) == 0)
		n -= 3;
	if (n == 0 || n > LIVE_NAME_MAX || n >= cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '-' || s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

/* ---- a blocking HTTP/1.1 GET ---- */

/* The feed's host name resolved on glibc's own thread (getaddrinfo_a): a
 * resolver that never answers holds getaddrinfo for glibc's timeouts
 * (5 s a try, two tries a server by default), and worker 0 joins a feed's
 * thread when it stops it and at the node's stop. A look-up is waited for
 * IO_TIMEOUT_MS, or until the stop; one still running is waited on again
 * by the next attempt rather than started anew, and is left to glibc at
 * the feed's end (its memory then leaked: glibc's thread writes into it). */
struct lookup {
	struct gaicb cb;
	struct addrinfo hints;
	char host[256], port[8];
};

static void lookup_end(struct feed *f)
{
	struct lookup *l = f->lookup;
	if (l == NULL)
		return;
	f->lookup = NULL;
	int r = gai_cancel(&l->cb);
	if (r == EAI_NOTCANCELED)
		return;
	if (r == EAI_ALLDONE && l->cb.ar_result != NULL)
		freeaddrinfo(l->cb.ar_result);
	free(l);
}

/* *res for the feed's host and port (the caller frees it): 0, or -1. */
static int resolve(struct feed *f, struct addrinfo **res)
{
	if (f->lookup == NULL) {
		struct lookup *l = calloc(1, sizeof(*l));
		if (l == NULL)
			return -1;
		l->hints = (struct addrinfo){.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
		memcpy(l->host, f->host, sizeof(l->host));
		memcpy(l->port, f->port, sizeof(l->port));
		l->cb = (struct gaicb){
		    .ar_name = l->host, .ar_service = l->port, .ar_request = &l->hints};
		struct gaicb *list[1] = {&l->cb};
		if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) != 0) {
			free(l);
			return -1;
		}
		f->lookup = l;
	}
	const struct gaicb *const wait[1] = {&f->lookup->cb};
	uint64_t deadline = pcd_mono_ms() + IO_TIMEOUT_MS;
	for (;;) {
		int r = gai_error(&f->lookup->cb);
		if (r != EAI_INPROGRESS) {
			*res = f->lookup->cb.ar_result;
			free(f->lookup);
			f->lookup = NULL;
			if (r == 0 && *res != NULL)
				return 0;
			if (*res != NULL)
				freeaddrinfo(*res);
			return -1;
		}
		uint64_t now = pcd_mono_ms();
		if (atomic_load(&f->stop) || now >= deadline)
			return -1; /* still running: the next attempt waits on it */
		/* Short waits, to see the stop. */
		uint64_t ms = deadline - now < 100 ? deadline - now : 100;
		gai_suspend(wait, 1, &(struct timespec){.tv_nsec = (long)ms * 1000000L});
	}
}

static int connect_to(struct feed *f)
{
	struct addrinfo *res = NULL;
	if (resolve(f, &res) != 0)
		return -1;
	int fd = -1;
	for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		struct timeval tv = {.tv_sec = IO_TIMEOUT_MS / 1000,
		                     .tv_usec = IO_TIMEOUT_MS % 1000 * 1000};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/* Decodes a chunked body[0..len) in place (the decoded bytes never
 * overtake the coded ones) into body[0..*out_len): 0, PC_ESYNTAX for a
 * malformed chunk, PC_EIO when it is cut short, PC_ERANGE over max. */
static int dechunk(uint8_t *body, size_t len, size_t max, size_t *out_len)
{
	struct pc_http_chunked chunked;
	pc_http_chunked_init(&chunked);
	size_t in = 0, out = 0;
	for (;;) {
		size_t used, data_len;
		const char *data;
		int r = pc_http_chunked_feed(&chunked, (const char *)body + in, len - in, &used,
		                             &data, &data_len);
		if (r < 0)
			return PC_ESYNTAX;
		if (data_len > max - out)
			return PC_ERANGE;
		if (data_len > 0) /* data may be NULL then */
			memmove(body + out, data, data_len);
		out += data_len;
		in += used;
		if (r == 1) {
			*out_len = out;
			return 0;
		}
		if (used == 0)
			return PC_EIO; /* needs more, and the connection has closed */
	}
}

/* GETs path[0..len) into *body (malloc'd, *body_len bytes, at most max).
 * 0, or PC_EIO (no connection, a timeout, not a 200 with a
 * Content-Length, chunked or close-delimited body), PC_ESYNTAX (a
 * malformed chunk), PC_ERANGE (over max). */
static int http_get(struct feed *f, const char *path, size_t path_len, size_t max, uint8_t **body,
                    size_t *body_len)
{
	*body = NULL;
	*body_len = 0;
	int fd = connect_to(f);
	if (fd < 0)
		return PC_EIO;
	char req[PC_DIR_MAX_TARGET + 512];
	bool v6 = strchr(f->host, ':') != NULL; /* an IPv6 literal: bracketed (RFC 9110 §7.2) */
	int n = snprintf(req, sizeof(req),
	                 "GET %.*s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: peercdn-cascade\r\n"
	                 "Connection: close\r\n\r\n",
	                 (int)path_len, path, v6 ? "[" : "", f->host, v6 ? "]" : "", f->port);
	if (n <= 0 || (size_t)n >= sizeof(req) || send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		close(fd);
		return PC_EIO;
	}
	/* The head too, and chunked framing: hex sizes and CRLFs. */
	size_t cap = 65536, len = 0, limit = max + max / 8 + 16384;
	uint8_t *buf = malloc(cap);
	int err = buf != NULL ? 0 : PC_ENOMEM;
	while (err == 0) {
		if (len == cap) {
			if (cap >= limit) {
				err = PC_ERANGE;
				break;
			}
			cap = cap * 2 < limit ? cap * 2 : limit;
			uint8_t *p = realloc(buf, cap);
			if (p == NULL) {
				err = PC_ENOMEM;
				break;
			}
			buf = p;
		}
		ssize_t r = recv(fd, buf + len, cap - len, 0);
		if (r == 0)
			break;
		if (r < 0 || atomic_load(&f->stop))
			err = PC_EIO;
		else
			len += (size_t)r;
	}
	close(fd);
	struct pc_http_head *head = err == 0 ? malloc(sizeof(*head)) : NULL;
	enum pc_http_framing framing;
	uint64_t length = 0;
	if (err == 0 &&
	    (head == NULL || pc_http_parse_response((const char *)buf, len, len, head) <= 0 ||
	     head->status != 200 || pc_http_response_framing(head, false, &framing, &length) != 0 ||
	     (framing != PC_HTTP_BODY_LENGTH && framing != PC_HTTP_BODY_CLOSE &&
	      framing != PC_HTTP_BODY_CHUNKED)))
		err = PC_EIO;
	if (err == 0) {
		size_t got = len - head->head_len;
		if (framing == PC_HTTP_BODY_CHUNKED)
			err = dechunk(buf + head->head_len, got, max, &got);
		else if (framing == PC_HTTP_BODY_LENGTH && got != length)
			err = PC_EIO; /* cut short */
		else if (got > max)
			err = PC_ERANGE;
		if (err == 0) {
			memmove(buf, buf + head->head_len, got);
			*body = buf;
			*body_len = got;
			buf = NULL;
		}
	}
	free(head);
	free(buf);
	return err;
}

/* ---- the pull ---- */

/* Sleeps ms, or less when told to stop. */
static void nap(struct feed *f, uint32_t ms)
{
	for (uint32_t slept = 0; slept < ms && !atomic_load(&f->stop); slept += 50) {
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static void failed(struct feed *f, const char *what, int err)
{
	live_count(f->hub, LC_CASCADE_FAILED);
	if (f->failing)
		return;
	f->failing = true;
	pcd_log(PCD_LOG_WARNING, "live-cascade-failed",
	        "provider=%s stream=%s what=\"%s\" err=\"%s\"", f->provider, f->stream, what,
	        pc_strerror(err));
}

/* Ends the injected stream (its channel sees the end). */
static void end_ingest(struct feed *f, struct live_ingest **in)
{
	if (*in == NULL)
		return;
	live_ingest_finish(f->hub, *in);
	live_ingest_free(*in);
	*in = NULL;
}

/* TS bytes: every packet checked, then the segmenter; false when they
 * were not taken (counted and logged). */
static bool inject_ts(struct feed *f, struct live_ingest **in, const uint8_t *data, size_t len)
{
	bool ok = len > 0 && len % 188 == 0;
	for (size_t i = 0; ok && i < len; i += 188)
		ok = data[i] == 0x47;
	if (!ok) {
		failed(f, "segment", PC_ESYNTAX);
		return false;
	}
	if (*in == NULL) {
		/* The channel a pushed stream of the same name would have. */
		char channel[LIVE_CHANNEL_MAX + 1];
		int n = snprintf(channel, sizeof(channel), "%s/live/%s/%08" PRIx32, f->provider,
		                 f->stream, pcd_overlay_self(f->node));
		if (n < 0 || (size_t)n >= sizeof(channel)) {
			failed(f, "channel name", PC_ERANGE);
			return false;
		}
		*in = live_ingest_pull_new(channel, f->segment_ms);
		if (*in == NULL) {
			failed(f, "segmenter", PC_ENOMEM);
			return false;
		}
		live_count(f->hub, LC_INGEST_STARTED);
		pcd_log(PCD_LOG_INFO, "live-cascade", "channel=%s", channel);
	}
	int err = live_ingest_pull_feed(f->hub, *in, data, len);
	if (err != 0) {
		failed(f, "stream", err);
		end_ingest(f, in);
		return false;
	}
	return true;
}

/* One HLS segment's bytes. */
static void inject(struct feed *f, struct live_ingest **in, const uint8_t *data, size_t len)
{
	if (inject_ts(f, in, data, len))
		live_count(f->hub, LC_CASCADE_SEGMENTS);
}

/* ---- an rtsp:// feed: sessions of live_rtsp ---- */

struct rtsp_run {
	struct feed *f;
	struct live_ingest *in;
	bool delivered; /* a key frame this session */
};

static void rtsp_ts(void *ctx, const uint8_t *data, size_t len)
{
	struct rtsp_run *run = ctx;
	inject_ts(run->f, &run->in, data, len);
}

/* cascade_segments counts an RTSP feed's groups of pictures. */
static void rtsp_keyframe(void *ctx)
{
	struct rtsp_run *run = ctx;
	run->delivered = true;
	run->f->failing = false;
	live_count(run->f->hub, LC_CASCADE_SEGMENTS);
}

/* One session at a time, each tried again after a second: one that
 * delivered and then ended (the server went away, or fell silent) is a
 * stalled feed and its stream ends, as for a stalled encoder; one that
 * delivered nothing is a failure. */
static void *pull_rtsp(struct feed *f)
{
	struct rtsp_run run = {.f = f};
	const struct live_rtsp_sink sink = {.ctx = &run, .ts = rtsp_ts, .keyframe = rtsp_keyframe};
	while (!atomic_load(&f->stop) && pcd_overlay_self(f->node) == 0)
		nap(f, 100);
	while (!atomic_load(&f->stop)) {
		char why[LIVE_RTSP_WHY_MAX];
		run.delivered = false;
		int err = live_rtsp_pull(f->url, &f->stop, &sink, why);
		if (atomic_load(&f->stop))
			break;
		if (run.delivered) {
			live_count(f->hub, LC_CASCADE_STALLS);
			pcd_log(PCD_LOG_WARNING, "live-cascade-stalled",
			        "provider=%s stream=%s why=\"%s\"", f->provider, f->stream, why);
		} else {
			failed(f, why, err);
		}
		end_ingest(f, &run.in);
		nap(f, RETRY_MS);
	}
	end_ingest(f, &run.in);
	return NULL;
}

static void *pull(void *arg)
{
	struct feed *f = arg;
	if (f->rtsp)
		return pull_rtsp(f);
	struct pc_hls_segment *segs = calloc(PLAYLIST_SEGS, sizeof(*segs));
	struct pc_hls_follow follow = {0};
	struct live_ingest *in = NULL;
	bool stalled = false;
	/* The channel is named after this router: wait for the overlay. */
	while (segs != NULL && !atomic_load(&f->stop) && pcd_overlay_self(f->node) == 0)
		nap(f, 100);
	while (segs != NULL && !atomic_load(&f->stop)) {
		uint8_t *text;
		size_t text_len;
		int err =
		    http_get(f, f->path, strlen(f->path), PC_HLS_PLAYLIST_MAX, &text, &text_len);
		struct pc_hls_playlist pl;
		struct pc_hls_fault fault = {0};
		if (err == 0)
			err = pc_hls_parse((const char *)text, text_len, &pl, segs, PLAYLIST_SEGS,
			                   &fault);
		if (err != 0) {
			failed(f, fault.why ? fault.why : "playlist", err);
			free(text);
			nap(f, RETRY_MS);
			continue;
		}
		f->failing = false;
		size_t first;
		uint32_t poll_ms;
		enum pc_hls_follow_state st =
		    pc_hls_follow_update(&follow, &pl, pcd_mono_ms(), &first, &poll_ms);
		if (st == PC_HLS_FOLLOW_STALLED && !stalled) {
			/* As a stalled encoder: the stream ends, players see it. */
			stalled = true;
			live_count(f->hub, LC_CASCADE_STALLS);
			pcd_log(PCD_LOG_WARNING, "live-cascade-stalled", "provider=%s stream=%s",
			        f->provider, f->stream);
			end_ingest(f, &in);
		}
		for (size_t i = first; i < pl.n_segments && !atomic_load(&f->stop); i++) {
			char path[PC_DIR_MAX_TARGET + PC_HLS_URI_MAX + 2];
			int n = snprintf(path, sizeof(path), "%.*s%.*s", (int)f->dir_len, f->path,
			                 (int)segs[i].uri_len, segs[i].uri);
			uint8_t *data = NULL;
			size_t len = 0;
			err = n > 0 && (size_t)n < sizeof(path)
			          ? http_get(f, path, (size_t)n, SEGMENT_MAX, &data, &len)
			          : PC_ERANGE;
			if (err == 0) {
				stalled = false;
				if (pc_hls_follow_fetched(&follow, segs[i].seq))
					end_ingest(f, &in); /* a gap: a new stream, cut afresh */
				inject(f, &in, data, len);
			} else {
				failed(f, "segment fetch", err);
			}
			free(data);
			if (err != 0)
				break; /* the next playlist tries it again, if still listed */
		}
		if (pl.endlist && st == PC_HLS_FOLLOW_ENDED)
			end_ingest(f, &in);
		free(text);
		nap(f, poll_ms);
	}
	end_ingest(f, &in);
	free(segs);
	return NULL;
}

/* ---- which feeds, and when ---- */

static bool primary_here(const pc_model *m, uint32_t provider)
{
	if (m->self_node >= m->n_nodes || provider >= m->n_providers)
		return false;
	const struct pc_index_list *prim = &m->providers[provider].primary_cdns;
	const struct pc_index_list *cdns = &m->nodes[m->self_node].cdns;
	for (uint32_t i = 0; i < cdns->count; i++)
		for (uint32_t j = 0; j < prim->count; j++)
			if (cdns->items[i] == prim->items[j])
				return true;
	return false;
}

/* Fills f from a `cascade` answer's feed URL; false (logged) when it is
 * not a feed we pull. */
static bool feed_of(struct feed *f, const char *provider, const char *stream, const char *url)
{
	struct pc_dir_url u;
	snprintf(f->stream, sizeof(f->stream), "%s", stream);
	snprintf(f->provider, sizeof(f->provider), "%s", provider);
	snprintf(f->url, sizeof(f->url), "%s", url);
	if (pc_directory_url_split(url, strlen(url), PC_DIR_SCHEME_RTSP, &u) == 0) {
		f->rtsp = true;
		return true;
	}
	if (pc_directory_url_split(url, strlen(url), PC_DIR_SCHEME_HTTP, &u) != 0 ||
	    u.host_len >= sizeof(f->host) || u.path_len == 0 || u.path_len >= sizeof(f->path)) {
		pcd_log(PCD_LOG_WARNING, "live-cascade-skipped", "stream=%s why=\"%s\"", f->stream,
		        "not an rtsp URL, nor an http URL with a path");
		return false;
	}
	memcpy(f->host, u.host, u.host_len);
	f->host[u.host_len] = '\0';
	snprintf(f->port, sizeof(f->port), "%u", u.port ? u.port : 80u);
	memcpy(f->path, u.path, u.path_len);
	f->path[u.path_len] = '\0';
	f->dir_len = (size_t)(strrchr(f->path, '/') - f->path) + 1;
	return true;
}

static void *run(void *arg)
{
	struct feed *f = arg;
	pull(f);
	lookup_end(f);
	atomic_store(&f->done, true);
	return NULL;
}

/* Reaps a stopped feed: its thread has ended, or is waited for. */
static void feed_join(struct live_cascade *lc, struct feed *f)
{
	pthread_join(f->thread, NULL);
	live_count(lc->hub, LC_CASCADE_STOPPED);
	pcd_log(PCD_LOG_INFO, "live-cascade-stopped", "provider=%s stream=%s", f->provider,
	        f->stream);
	free(f);
}

/* Tells w's feed to stop; the tick reaps its thread once it has ended
 * (a fetch in progress ends within IO_TIMEOUT_MS), so worker 0 never
 * waits on a provider's server. The stream ends on its channel. */
static void feed_stop(struct live_cascade *lc, struct watched *w)
{
	struct feed *f = w->feed;
	if (f == NULL)
		return;
	w->feed = NULL;
	lc->n_feeds--;
	atomic_store(&f->stop, true);
	if (lc->n_stopping == MAX_STOPPING)
		feed_join(lc, f); /* cannot happen unless threads hang: wait then */
	else
		lc->stopping[lc->n_stopping++] = f;
}

/* Starts w's pull of url; false when url is not a feed we pull (refused,
 * counted once a run). */
static bool feed_start(struct live_cascade *lc, struct watched *w, const pc_model *m,
                       const struct pc_edge_params *params, const char *url)
{
	if (lc->n_feeds == MAX_CASCADES) {
		if (!w->full) {
			w->full = true;
			live_count(lc->hub, LC_CASCADE_FULL);
			pcd_log(PCD_LOG_WARNING, "live-cascade-skipped", "stream=%s why=\"%s\"",
			        w->stream, "more cascade feeds than one node pulls");
		}
		return true;
	}
	w->full = false;
	struct feed *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return true;
	*f = (struct feed){.hub = lc->hub, .node = lc->node, .segment_ms = params->live_segment_ms};
	atomic_init(&f->stop, false);
	atomic_init(&f->done, false);
	if (!feed_of(f, m->providers[w->provider].name, w->stream, url)) {
		free(f);
		if (!w->refused)
			live_count(lc->hub, LC_CASCADE_REFUSED);
		w->refused = true;
		return false;
	}
	if (pthread_create(&f->thread, NULL, run, f) != 0) {
		pcd_log(PCD_LOG_ERROR, "live-cascade-failed", "stream=%s what=thread", f->stream);
		live_count(lc->hub, LC_CASCADE_FAILED);
		free(f);
		return true;
	}
	w->feed = f;
	lc->n_feeds++;
	live_count(lc->hub, LC_CASCADE_STARTED);
	pcd_log(PCD_LOG_INFO, "live-cascade-pull", "provider=%s stream=%s feed=%s", f->provider,
	        f->stream, f->url);
	return true;
}

/* What the directory says of provider's stream: the names
 * "<directory host>/<stream>.m3u8", "<host>/<stream>", "<host>/<stream>.ts"
 * asked in that order, the first `cascade` answer's feed into url. The
 * directory is this node's own entries when its config holds some (the
 * directory section's), else edge.directories through the edge's cache of answers, as
 * for a player's request: the URL never comes from anything else. */
enum verdict { V_ASKING, V_CASCADE, V_NOT, V_FAILED };

static enum verdict ask(struct edge_worker *ew, const pc_model *m,
                        const struct pc_directory_params *dir, struct watched *w, char *url,
                        size_t cap)
{
	static const char *const suffixes[] = {".m3u8", "", ".ts"};
	const struct pc_provider *p = &m->providers[w->provider];
	bool asking = false, failing = false;
	struct pc_dir_answer *answer = dir == NULL ? malloc(sizeof(*answer)) : NULL;
	if (dir == NULL && answer == NULL)
		return V_FAILED;
	enum verdict v = V_NOT;
	unsigned slot = 0;
	for (uint32_t h = 0; h < p->n_directory_hosts && v == V_NOT; h++)
		for (size_t k = 0;
		     k < sizeof(suffixes) / sizeof(suffixes[0]) && v == V_NOT && slot < MAX_ASKED;
		     k++, slot++) {
			char name[PC_DIR_MAX_NAME + 1];
			int len = snprintf(name, sizeof(name), "%s/%s%s", p->directory_hosts[h],
			                   w->stream, suffixes[k]);
			if (len < 0 || (size_t)len >= sizeof(name) ||
			    !pc_directory_name_ok(name, (size_t)len))
				continue;
			if (dir != NULL) {
				size_t rest = 0;
				const struct pc_dir_entry *e =
				    pc_directory_find(dir, name, (size_t)len, &rest);
				if (e != NULL && e->mode == PC_DIR_CASCADE) {
					int n = snprintf(url, cap, "%s%.*s", e->target, (int)rest,
					                 name + len - rest);
					v = n > 0 && (size_t)n < cap ? V_CASCADE : V_NOT;
				}
				continue;
			}
			switch (
			    edge_directory_ask(ew, w->provider, name, &w->asked[slot], answer)) {
			case EDGE_DIR_ASKING:
				asking = true; /* an earlier name's answer comes first */
				break;
			case EDGE_DIR_ANSWERED:
				if (answer->mode == PC_DIR_CASCADE && !asking &&
				    (size_t)snprintf(url, cap, "%s", answer->target) < cap)
					v = V_CASCADE;
				break;
			case EDGE_DIR_FAILED:
				failing = true;
				break;
			case EDGE_DIR_NO_NAME:
			default:
				break;
			}
		}
	free(answer);
	if (v == V_NOT && asking)
		return V_ASKING;
	if (v == V_NOT && failing)
		return V_FAILED;
	return v;
}

static void watched_clear(struct watched *w)
{
	for (unsigned i = 0; i < MAX_ASKED; i++)
		pcd_object_unref(w->asked[i]);
	*w = (struct watched){0};
}

/* pcd_overlay_own_wanted's: a subscribed channel of ours,
 * "<provider>/live/<stream>/<our router id>", is a stream watched. */
static void on_wanted(void *arg, const char *channel)
{
	struct live_cascade *lc = arg;
	const pc_model *m = lc->model; /* the one renumber used */
	const char *live = strstr(channel, "/live/");
	const char *last = strrchr(channel, '/');
	char self[16];
	snprintf(self, sizeof(self), "/%08" PRIx32, lc->self);
	if (live == NULL || last == NULL || last <= live + 6 || strcmp(last, self) != 0)
		return;
	char stream[LIVE_NAME_MAX + 1];
	char name[LIVE_NAME_MAX + 8];
	int n = snprintf(name, sizeof(name), "x/%.*s", (int)(last - live - 6), live + 6);
	if (n < 0 || (size_t)n >= sizeof(name) ||
	    !live_cascade_stream(name, (size_t)n, stream, sizeof(stream)) ||
	    strcmp(stream, name + 2) != 0)
		return; /* not a stream's name: no pushed stream has it either */
	uint32_t provider = PC_NONE;
	for (uint32_t p = 0; p < m->n_providers && provider == PC_NONE; p++)
		if (strlen(m->providers[p].name) == (size_t)(live - channel) &&
		    memcmp(m->providers[p].name, channel, (size_t)(live - channel)) == 0)
			provider = p;
	if (provider == PC_NONE || !primary_here(m, provider))
		return;
	struct watched *free_slot = NULL;
	for (unsigned i = 0; i < MAX_WATCHED; i++) {
		struct watched *w = &lc->watched[i];
		if (w->used && w->provider == provider && strcmp(w->stream, stream) == 0) {
			w->seen = true;
			return;
		}
		if (!w->used && free_slot == NULL)
			free_slot = w;
	}
	if (free_slot == NULL) {
		if (!lc->full_said && !lc->overflow) {
			pcd_log(PCD_LOG_WARNING, "live-cascade-skipped", "stream=%s why=\"%s\"",
			        stream,
			        "more watched streams than the node asks its directory about");
			live_count(lc->hub, LC_CASCADE_FULL);
		}
		lc->overflow = true;
		return;
	}
	*free_slot = (struct watched){.used = true, .seen = true, .provider = provider};
	snprintf(free_slot->provider_name, sizeof(free_slot->provider_name), "%s",
	         m->providers[provider].name);
	snprintf(free_slot->stream, sizeof(free_slot->stream), "%s", stream);
}

/* A reload may number the providers differently: each watched stream's
 * index is found again by its provider's name, so that the stream stays
 * the one entry it is (one pull into its channel, not a second beside
 * the first while that lingers); a provider gone ends its pull. */
static void renumber(struct live_cascade *lc, const pc_model *m)
{
	for (unsigned i = 0; i < MAX_WATCHED; i++) {
		struct watched *w = &lc->watched[i];
		if (!w->used)
			continue;
		uint32_t p = 0;
		while (p < m->n_providers && strcmp(m->providers[p].name, w->provider_name) != 0)
			p++;
		if (p < m->n_providers) {
			w->provider = p;
		} else {
			feed_stop(lc, w);
			watched_clear(w);
		}
	}
}

struct live_cascade *live_cascade_new(struct live_hub *hub, struct pcd_node *node)
{
	struct live_cascade *lc = calloc(1, sizeof(*lc));
	if (lc != NULL) {
		lc->hub = hub;
		lc->node = node;
	}
	return lc;
}

void live_cascade_tick(struct live_cascade *lc, struct edge_worker *ew,
                       const struct pc_edge_params *params, uint64_t now)
{
	if (lc == NULL)
		return;
	for (unsigned i = 0; i < lc->n_stopping;)
		if (atomic_load(&lc->stopping[i]->done)) {
			feed_join(lc, lc->stopping[i]);
			lc->stopping[i] = lc->stopping[--lc->n_stopping];
		} else {
			i++;
		}
	struct pcd_generation *gen = pcd_node_generation(lc->node);
	if (gen->number != lc->gen_number) {
		renumber(lc, gen->model);
		lc->gen_number = gen->number;
	}
	for (unsigned i = 0; i < MAX_WATCHED; i++)
		lc->watched[i].seen = false;
	lc->model = gen->model;
	lc->self = pcd_overlay_self(lc->node);
	lc->overflow = false;
	if (params->live_ingest && lc->self != 0)
		pcd_overlay_own_wanted(lc->node, on_wanted, lc);
	lc->full_said = lc->overflow;
	const struct pc_directory_params *dir = pc_directory_settings(gen->config);
	if (dir != NULL && dir->n_entries == 0)
		dir = NULL; /* holds no entries: edge.directories answers */
	for (unsigned i = 0; i < MAX_WATCHED; i++) {
		struct watched *w = &lc->watched[i];
		if (!w->used)
			continue;
		if (!w->seen) { /* nobody subscribes: the pull lingers, then stops */
			if (w->unwatched_ms == 0)
				w->unwatched_ms = now;
			if (w->feed == NULL || now - w->unwatched_ms >= params->live_linger_ms) {
				feed_stop(lc, w);
				watched_clear(w);
			}
			continue;
		}
		w->unwatched_ms = 0;
		char channel[LIVE_CHANNEL_MAX + 1];
		snprintf(channel, sizeof(channel), "%s/live/%s/%08" PRIx32,
		         gen->model->providers[w->provider].name, w->stream, lc->self);
		if (live_pushed_since(lc->hub, channel, now > PUSHED_MS ? now - PUSHED_MS : 0)) {
			/* An encoder pushes it here: its stream is the channel's,
			 * and the feed waits until it has been quiet a while. */
			feed_stop(lc, w);
			if (!w->pushed)
				pcd_log(PCD_LOG_INFO, "live-cascade-pushed", "channel=%s", channel);
			w->pushed = true;
			continue;
		}
		w->pushed = false;
		if (now < w->check_ms)
			continue;
		w->check_ms = now + CHECK_MS;
		char url[PC_DIR_MAX_TARGET + 1];
		switch (ask(ew, gen->model, dir, w, url, sizeof(url))) {
		case V_ASKING:
			w->check_ms = 0; /* its answer is read at the next tick */
			break;
		case V_FAILED: /* a pull goes on while its directory cannot be asked */
			if (!w->failing)
				pcd_log(PCD_LOG_WARNING, "live-cascade-no-directory",
				        "provider=%s stream=%s",
				        gen->model->providers[w->provider].name, w->stream);
			w->failing = true;
			break;
		case V_NOT: /* a reload took the entry away, or it never was one */
			w->failing = false;
			feed_stop(lc, w);
			w->check_ms = now + REFUSED_MS;
			if (!w->refused) {
				w->refused = true;
				live_count(lc->hub, LC_CASCADE_REFUSED);
				pcd_log(PCD_LOG_INFO, "live-cascade-refused",
				        "provider=%s stream=%s why=\"%s\"",
				        gen->model->providers[w->provider].name, w->stream,
				        "the directory does not answer cascade for it");
			}
			break;
		case V_CASCADE:
			w->failing = false;
			if (w->feed != NULL && strcmp(w->feed->url, url) != 0)
				feed_stop(lc, w); /* the feed moved: pull the new one */
			if (w->feed != NULL || feed_start(lc, w, gen->model, params, url))
				w->refused = false;
			else
				w->check_ms = now + REFUSED_MS; /* neither http nor rtsp */
			break;
		}
	}
}

/* Every feed told to stop first, so that they wind down together, then
 * each waited for. */
static void feeds_end(struct live_cascade *lc)
{
	for (unsigned i = 0; i < MAX_WATCHED; i++)
		if (lc->watched[i].feed != NULL)
			atomic_store(&lc->watched[i].feed->stop, true);
	for (unsigned i = 0; i < lc->n_stopping; i++)
		feed_join(lc, lc->stopping[i]);
	lc->n_stopping = 0;
	for (unsigned i = 0; i < MAX_WATCHED; i++)
		if (lc->watched[i].feed != NULL) {
			feed_join(lc, lc->watched[i].feed);
			lc->watched[i].feed = NULL;
		}
	lc->n_feeds = 0;
}

void live_cascade_close(struct live_cascade *lc)
{
	if (lc == NULL)
		return;
	/* A feed posts its blocks to worker 0 and wakes it through its
	 * eventfd (live_post_block): none may run once worker 0 has closed
	 * that and freed its state. */
	feeds_end(lc);
	for (unsigned i = 0; i < MAX_WATCHED; i++)
		for (unsigned k = 0; k < MAX_ASKED; k++) {
			pcd_object_unref(lc->watched[i].asked[k]);
			lc->watched[i].asked[k] = NULL;
		}
}

void live_cascade_stop(struct live_cascade *lc)
{
	if (lc == NULL)
		return;
	feeds_end(lc); /* none left unless worker 0 never opened */
	free(lc);
}
