/* Unit tests of the TCP connection engine (node/conn) over socketpairs and
 * loopback TCP, with a framed test protocol: a 2-byte length, a payload;
 * each frame is answered by an echo or reply_size bytes, a payload that
 * starts with 'c' closes after its answer. Waiting is bounded polling of
 * the workers' epoll sets; timeouts are driven by the now given to the
 * tick, never by sleeping. Every test ends with every connection freed and
 * every descriptor it opened closed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node/conn.h"
#include "node/log.h"
#include "node/worker.h"

/* The daemon's role table; this program runs no roles. */
const struct pcd_role *const pcd_roles[] = {NULL};

enum { OUT_HIGH = 64 * 1024, OUT_LOW = 4096, KEPT_MAX = 4096, POLL_ROUNDS = 2000, POLL_MS = 5 };

struct test_ctx {
	struct pcd_conn_limits limits;
	pc_addr balancer;
	struct pc_addr_list balancers;
	struct pcd_conn_counters counters;
	size_t reply_size; /* bytes per answer; 0: echo the frame */
	bool refuse, small_sndbuf, stream_after_peer_close;
	bool by_ref; /* answer "<" + reply_size bytes by reference + ">" */
	unsigned opened, freed, frames, ends[2], released, drained;
	unsigned pause_at; /* pcd_conn_pause_read in the input callback of this frame */
	struct pcd_conn *last;
	pc_addr last_source;
};

struct test_conn {
	struct test_ctx *ctx;
};

static void t_limits(void *ctx, struct pcd_conn_limits *out)
{
	*out = ((struct test_ctx *)ctx)->limits;
}

static void *t_open(struct pcd_conn *conn, void *ctx)
{
	struct test_ctx *t = ctx;
	if (t->refuse)
		return NULL;
	struct test_conn *tc = calloc(1, sizeof(*tc));
	assert_non_null(tc);
	tc->ctx = t;
	t->opened++;
	t->last = conn;
	if (t->small_sndbuf) {
		int size = 16384;
		setsockopt(pcd_conn_fd(conn), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	}
	return tc;
}

static void t_release(void *arg)
{
	((struct test_ctx *)arg)->released++;
}

static size_t t_input(struct pcd_conn *conn, void *state, const uint8_t *in, size_t len)
{
	struct test_ctx *t = ((struct test_conn *)state)->ctx;
	size_t n = len >= 2 ? (size_t)in[0] << 8 | in[1] : 0;
	if (len < 2 || len < 2 + n) {
		pcd_conn_set_state(conn, PCD_CONN_BUSY); /* a request has begun */
		return 0;
	}
	t->frames++;
	t->last_source = *pcd_conn_source(conn);
	struct pc_buf *out = pcd_conn_out(conn);
	static char shared[256 * 1024]; /* what every reference points into */
	if (t->by_ref) {
		memset(shared, 'r', sizeof(shared));
		assert_true(t->reply_size <= sizeof(shared));
		assert_true(pc_buf_append(out, "<", 1));
		assert_int_equal(pcd_conn_out_ref(conn, shared, t->reply_size, t_release, t), 0);
		assert_true(pc_buf_append(out, ">", 1));
	} else if (t->reply_size == 0) {
		assert_true(pc_buf_append(out, in, 2 + n));
	} else {
		static const uint8_t block[4096];
		for (size_t left = t->reply_size; left > 0;) {
			size_t k = left < sizeof(block) ? left : sizeof(block);
			assert_true(pc_buf_append(out, block, k));
			left -= k;
		}
	}
	pcd_conn_set_state(conn, n > 0 && in[2] == 'c' ? PCD_CONN_CLOSING : PCD_CONN_IDLE);
	if (t->frames == t->pause_at)
		pcd_conn_pause_read(conn);
	return 2 + n;
}

static void t_drained(struct pcd_conn *conn, void *state)
{
	(void)conn;
	((struct test_conn *)state)->ctx->drained++;
}

static void t_end(struct pcd_conn *conn, void *state, enum pcd_conn_end why)
{
	struct test_ctx *t = ((struct test_conn *)state)->ctx;
	t->ends[why]++;
	assert_true(pc_buf_printf(pcd_conn_out(conn), "END-%c",
	                          why == PCD_CONN_END_PEER_CLOSED ? 'P' : 'T'));
	if (!(why == PCD_CONN_END_PEER_CLOSED && t->stream_after_peer_close))
		pcd_conn_set_state(conn, PCD_CONN_CLOSING);
}

static void t_free(void *state)
{
	struct test_conn *tc = state;
	tc->ctx->freed++;
	free(tc);
}

static const struct pcd_conn_proto test_proto = {
    .name = "test",
    .max_input = KEPT_MAX,
    .out_high = OUT_HIGH,
    .out_low = OUT_LOW,
    .drained = t_drained,
    .limits = t_limits,
    .open = t_open,
    .input = t_input,
    .end = t_end,
    .free = t_free,
};

/* ---- the world: two workers of one role sharing a group ---- */

struct world {
	struct pcd_node node;
	struct pcd_conn_group *group;
	struct pcd_conn_engine *engine[2];
	struct test_ctx ctx[2];
	int fds_before;
};

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	assert_non_null(dir);
	int n = 0;
	while (readdir(dir) != NULL)
		n++;
	closedir(dir);
	return n;
}

static struct world *world_new(void)
{
	pcd_log_set_level(PCD_LOG_ERROR);
	struct world *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	w->fds_before = count_fds();
	w->node.n_workers = 2;
	assert_int_equal(pcd_conn_group_new(&w->group), 0);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(pcd_worker_init(&w->node, &w->node.workers[i], i), 0);
		w->ctx[i].limits = (struct pcd_conn_limits){
		    .max_conns = 100,
		    .max_per_source = 100,
		    .header_timeout_ms = 60000,
		    .idle_timeout_ms = 120000,
		};
		assert_int_equal(pcd_conn_engine_new(&w->node.workers[i], w->group, &test_proto,
		                                     &w->ctx[i], &w->ctx[i].counters,
		                                     &w->engine[i]),
		                 0);
	}
	return w;
}

static void world_free(struct world *w)
{
	for (unsigned i = 0; i < 2; i++) {
		pcd_conn_engine_free(w->engine[i]);
		assert_int_equal(w->ctx[i].opened, w->ctx[i].freed);
		pcd_worker_release(&w->node.workers[i]);
	}
	pcd_conn_group_free(w->group);
	assert_int_equal(count_fds(), w->fds_before);
	free(w);
}

/* One epoll_wait on each worker, dispatching as the worker loop does. */
static void pump(struct world *w, int timeout_ms)
{
	for (unsigned i = 0; i < 2; i++) {
		struct epoll_event events[16];
		int n =
		    epoll_wait(w->node.workers[i].epoll_fd, events, 16, i == 0 ? timeout_ms : 0);
		pcd_worker_batch_begin(&w->node.workers[i]);
		for (int k = 0; k < n; k++) {
			struct pcd_io *io = events[k].data.ptr;
			if (io != NULL && !io->closed)
				io->on_event(io, &w->node.workers[i], events[k].events);
		}
		pcd_worker_batch_end(&w->node.workers[i]);
	}
}

/* Pumps until cond holds, a bounded number of rounds. */
#define PUMP_UNTIL(w, cond)                                                                        \
	do {                                                                                       \
		for (int round_ = 0; round_ < POLL_ROUNDS && !(cond); round_++)                    \
			pump(w, POLL_MS);                                                          \
		assert_true(cond);                                                                 \
	} while (0)

static uint64_t counter(struct world *w, unsigned engine, enum pcd_conn_counter c)
{
	return atomic_load(&w->ctx[engine].counters.n[c]);
}

/* ---- the peer's side ---- */

static void put(int fd, const void *data, size_t len)
{
	assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void put_frame(int fd, const char *payload)
{
	uint8_t frame[512];
	size_t n = strlen(payload);
	frame[0] = (uint8_t)(n >> 8);
	frame[1] = (uint8_t)n;
	memcpy(frame + 2, payload, n);
	put(fd, frame, 2 + n);
}

/* Reads until want bytes (SIZE_MAX: until EOF), EOF or a reset, pumping
 * the engine meanwhile. Returns the bytes read; *eof says how it ended:
 * 1 EOF, -1 reset, 0 neither. buf may be NULL (count only). */
static size_t take(struct world *w, int fd, char *buf, size_t want, int *eof)
{
	size_t have = 0;
	*eof = 0;
	for (int round = 0; round < POLL_ROUNDS && have < want; round++) {
		char chunk[65536];
		size_t room = sizeof(chunk);
		if (buf != NULL && want - have < room)
			room = want - have;
		ssize_t n = recv(fd, chunk, room, MSG_DONTWAIT);
		if (n > 0) {
			if (buf != NULL)
				memcpy(buf + have, chunk, (size_t)n);
			have += (size_t)n;
			round = 0;
			continue;
		}
		if (n == 0) {
			*eof = 1;
			break;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			*eof = -1;
			break;
		}
		pump(w, POLL_MS);
	}
	return have;
}

/* A socketpair whose one end the engine adopts; returns the other. */
static int adopt_pair(struct world *w, unsigned engine, struct pcd_conn **conn)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pcd_conn_adopt(w->engine[engine], sv[0], NULL, conn), 0);
	return sv[1];
}

static pc_addr loopback(uint8_t last)
{
	return (pc_addr){.family = PC_AF_INET, .bytes = {127, 0, 0, last}};
}

/* A listener of engine on 127.0.0.1 at a port that was free. */
static uint16_t listen_somewhere(struct world *w, unsigned engine)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sin = {.sin_family = AF_INET,
		                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t len = sizeof(sin);
		assert_int_equal(bind(probe, (struct sockaddr *)&sin, sizeof(sin)), 0);
		assert_int_equal(getsockname(probe, (struct sockaddr *)&sin, &len), 0);
		close(probe);
		pc_addr lo = loopback(1);
		uint16_t port = ntohs(sin.sin_port);
		if (pcd_conn_listen(w->engine[engine], &lo, port) == 0)
			return port;
	}
	fail_msg("no free port");
	return 0;
}

/* A client connected to 127.0.0.1:port (non-blocking once connected);
 * rcvbuf > 0 shrinks its receive window. */
static int dial(uint16_t port, int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	struct sockaddr_in sin = {.sin_family = AF_INET,
	                          .sin_port = htons(port),
	                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* ---- tests ---- */

static void test_framed_input_kept_across_reads(void **state)
{
	(void)state;
	struct world *w = world_new();
	struct pcd_conn *conn;
	int peer = adopt_pair(w, 0, &conn);
	/* One frame in three pieces: the length split, then the payload. */
	put(peer, "\x00", 1);
	PUMP_UNTIL(w, pcd_conn_state(conn) == PCD_CONN_BUSY);
	put(peer,
	    "\x05"
	    "he",
	    3);
	for (int i = 0; i < 5; i++)
		pump(w, 1);
	assert_int_equal(w->ctx[0].frames, 0);
	put(peer, "llo", 3);
	PUMP_UNTIL(w, w->ctx[0].frames == 1);
	assert_int_equal(pcd_conn_state(conn), PCD_CONN_IDLE);
	/* Two frames and the start of a third in one write (pipelining). */
	put(peer,
	    "\x00\x01"
	    "a"
	    "\x00\x02"
	    "bc"
	    "\x00\x03"
	    "d",
	    10);
	PUMP_UNTIL(w, w->ctx[0].frames == 3);
	put(peer, "ef", 2);
	PUMP_UNTIL(w, w->ctx[0].frames == 4);
	char got[64];
	int eof;
	size_t n = take(w, peer, got, 7 + 3 + 4 + 5, &eof);
	assert_int_equal(n, 19);
	assert_memory_equal(got,
	                    "\x00\x05"
	                    "hello"
	                    "\x00\x01"
	                    "a"
	                    "\x00\x02"
	                    "bc"
	                    "\x00\x03"
	                    "def",
	                    19);
	/* A frame larger than the engine keeps closes the connection. */
	put(peer, "\x20\x00", 2); /* 8192 > KEPT_MAX */
	static const char filler[KEPT_MAX];
	put(peer, filler, sizeof(filler));
	take(w, peer, NULL, SIZE_MAX, &eof);
	assert_int_not_equal(eof, 0); /* EOF, or a reset: it closed on unread bytes */
	assert_int_equal(pcd_conn_count(w->engine[0]), 0);
	close(peer);
	world_free(w);
}

static void test_backpressure_partial_writes(void **state)
{
	(void)state;
	struct world *w = world_new();
	w->ctx[0].reply_size = 48 * 1024;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	int small = 8192;
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	struct pcd_conn *conn;
	assert_int_equal(pcd_conn_adopt(w->engine[0], sv[0], NULL, &conn), 0);
	int peer = sv[1];
	/* Ten requests at once; the peer reads nothing. */
	for (int i = 0; i < 10; i++)
		put_frame(peer, "q");
	for (int i = 0; i < 50; i++)
		pump(w, 1);
	/* Above the high-water mark the engine stops answering (and reading):
	 * the kernel took part of the output, the rest waits. */
	unsigned stalled_at = w->ctx[0].frames;
	assert_true(stalled_at >= 1 && stalled_at < 10);
	assert_true(pcd_conn_unsent(conn) >= OUT_HIGH);
	for (int i = 0; i < 20; i++)
		pump(w, 1);
	assert_int_equal(w->ctx[0].frames, stalled_at);
	/* The peer drains: the engine resumes and answers everything. */
	int eof;
	size_t n = take(w, peer, NULL, 10 * 48 * 1024, &eof);
	assert_int_equal(n, 10 * 48 * 1024);
	assert_int_equal(w->ctx[0].frames, 10);
	assert_int_equal(pcd_conn_unsent(conn), 0);
	close(peer);
	PUMP_UNTIL(w, pcd_conn_count(w->engine[0]) == 0);
	world_free(w);
}

/* Reading paused (a relay's downstream is full): nothing is read or fed,
 * output still goes; a pause from the input callback leaves the frames
 * already received kept, and the resume feeds them from the engine's own
 * event. drained runs once the output falls back to out_low. */
static void test_pause_resume_read(void **state)
{
	(void)state;
	struct world *w = world_new();
	struct pcd_conn *conn;
	int peer = adopt_pair(w, 0, &conn);
	pcd_conn_pause_read(conn);
	assert_true(pcd_conn_read_paused(conn));
	put_frame(peer, "a");
	put_frame(peer, "b");
	for (int i = 0; i < 20; i++)
		pump(w, 1);
	assert_int_equal(w->ctx[0].frames, 0);
	pcd_conn_resume_read(conn);
	assert_false(pcd_conn_read_paused(conn));
	PUMP_UNTIL(w, w->ctx[0].frames == 2);
	int eof;
	char got[16];
	assert_int_equal(take(w, peer, got, 6, &eof), 6);
	assert_memory_equal(got,
	                    "\x00\x01"
	                    "a"
	                    "\x00\x01"
	                    "b",
	                    6);
	/* Paused by the protocol after the third frame of one write: the
	 * other two stay kept, unfed, until the resume. */
	w->ctx[0].pause_at = 3;
	put(peer,
	    "\x00\x01"
	    "x"
	    "\x00\x01"
	    "y"
	    "\x00\x01"
	    "z",
	    9);
	PUMP_UNTIL(w, w->ctx[0].frames == 3);
	for (int i = 0; i < 20; i++)
		pump(w, 1);
	assert_int_equal(w->ctx[0].frames, 3);
	assert_true(pcd_conn_read_paused(conn));
	/* The answer to the frame fed before the pause was still sent. */
	assert_int_equal(take(w, peer, got, 3, &eof), 3);
	assert_memory_equal(got,
	                    "\x00\x01"
	                    "x",
	                    3);
	pcd_conn_resume_read(conn);
	PUMP_UNTIL(w, w->ctx[0].frames == 5);
	assert_int_equal(take(w, peer, got, 6, &eof), 6);
	assert_memory_equal(got,
	                    "\x00\x01"
	                    "y"
	                    "\x00\x01"
	                    "z",
	                    6);
	assert_int_equal(w->ctx[0].drained, 0); /* never above out_low */
	close(peer);
	PUMP_UNTIL(w, pcd_conn_count(w->engine[0]) == 0);
	world_free(w);
}

static void test_drained_after_backlog(void **state)
{
	(void)state;
	struct world *w = world_new();
	w->ctx[0].reply_size = 48 * 1024;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	int small = 8192;
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	struct pcd_conn *conn;
	assert_int_equal(pcd_conn_adopt(w->engine[0], sv[0], NULL, &conn), 0);
	put_frame(sv[1], "q");
	PUMP_UNTIL(w, w->ctx[0].frames == 1);
	for (int i = 0; i < 10; i++)
		pump(w, 1);
	assert_true(pcd_conn_unsent(conn) > OUT_LOW);
	assert_int_equal(w->ctx[0].drained, 0);
	int eof;
	assert_int_equal(take(w, sv[1], NULL, 48 * 1024, &eof), 48 * 1024);
	PUMP_UNTIL(w, w->ctx[0].drained == 1);
	assert_int_equal(pcd_conn_unsent(conn), 0);
	/* Armed by the protocol when the output already went: at once. */
	pcd_conn_watch_drained(conn);
	PUMP_UNTIL(w, w->ctx[0].drained == 2);
	close(sv[1]);
	PUMP_UNTIL(w, pcd_conn_count(w->engine[0]) == 0);
	assert_int_equal(w->ctx[0].drained, 2);
	world_free(w);
}

/* Bytes appended by reference go out in order with copied ones, through
 * partial writes, and each reference is released once: when sent, or when
 * the connection ends first. */
static void test_output_by_reference(void **state)
{
	(void)state;
	struct world *w = world_new();
	w->ctx[0].reply_size = 40000;
	w->ctx[0].by_ref = true;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	int small = 8192;
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	assert_int_equal(pcd_conn_adopt(w->engine[0], sv[0], NULL, NULL), 0);
	int peer = sv[1];
	for (int i = 0; i < 5; i++)
		put_frame(peer, "q");
	size_t want = 5 * (40000 + 2);
	char *got = malloc(want);
	assert_non_null(got);
	int eof;
	assert_int_equal(take(w, peer, got, want, &eof), want);
	for (size_t i = 0, at = 0; i < 5; i++, at += 40002) {
		assert_int_equal(got[at], '<');
		for (size_t k = 1; k <= 40000; k++)
			if (got[at + k] != 'r')
				fail_msg("byte %zu of answer %zu is %c", k, i, got[at + k]);
		assert_int_equal(got[at + 40001], '>');
	}
	assert_int_equal(w->ctx[0].released, 5);
	/* Unsent references are released when the peer goes away. */
	w->ctx[0].reply_size = 200000;
	for (int i = 0; i < 3; i++)
		put_frame(peer, "q");
	for (int i = 0; i < 20; i++)
		pump(w, 1);
	close(peer);
	PUMP_UNTIL(w, pcd_conn_count(w->engine[0]) == 0);
	assert_int_equal(w->ctx[0].released, w->ctx[0].frames);
	assert_true(w->ctx[0].frames > 5);
	free(got);
	world_free(w);
}

static void test_peer_reset_mid_response(void **state)
{
	(void)state;
	struct world *w = world_new();
	uint16_t port = listen_somewhere(w, 0);
	w->ctx[0].reply_size = 2 * 1024 * 1024;
	w->ctx[0].small_sndbuf = true;
	int client = dial(port, 4096);
	put_frame(client, "big");
	PUMP_UNTIL(w, w->ctx[0].frames == 1);
	char some[1000];
	int eof;
	assert_int_equal(take(w, client, some, sizeof(some), &eof), sizeof(some));
	assert_true(pcd_conn_unsent(w->ctx[0].last) > 0);
	/* RST: SO_LINGER with a zero timeout. */
	struct linger reset = {.l_onoff = 1, .l_linger = 0};
	setsockopt(client, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	close(client);
	PUMP_UNTIL(w, w->ctx[0].freed == 1);
	assert_int_equal(pcd_conn_count(w->engine[0]), 0);
	world_free(w);
}

static void test_half_close_with_pending_input(void **state)
{
	(void)state;
	struct world *w = world_new();
	w->ctx[0].reply_size = 48 * 1024;
	struct pcd_conn *conn;
	int peer = adopt_pair(w, 0, &conn);
	/* Six requests (more answer than the high-water mark), the start of a
	 * seventh, then FIN; the peer reads only afterwards. */
	for (int i = 0; i < 6; i++)
		put_frame(peer, "q");
	put(peer,
	    "\x00\x09"
	    "cut",
	    5);
	assert_int_equal(shutdown(peer, SHUT_WR), 0);
	int eof;
	size_t n = take(w, peer, NULL, SIZE_MAX, &eof);
	/* Every whole request answered, then the protocol's last word, then
	 * the close. */
	assert_int_equal(eof, 1);
	assert_int_equal(n, 6 * 48 * 1024 + 5);
	assert_int_equal(w->ctx[0].frames, 6);
	assert_int_equal(w->ctx[0].ends[PCD_CONN_END_PEER_CLOSED], 1);
	PUMP_UNTIL(w, pcd_conn_count(w->engine[0]) == 0);
	close(peer);
	world_free(w);
}

static void test_streaming_after_peer_close(void **state)
{
	(void)state;
	/* The edge's case: the peer sent its request and FIN; the response
	 * comes later from elsewhere, through pcd_conn_send. */
	struct world *w = world_new();
	w->ctx[0].stream_after_peer_close = true;
	struct pcd_conn *conn;
	int peer = adopt_pair(w, 0, &conn);
	put_frame(peer, "get");
	shutdown(peer, SHUT_WR);
	PUMP_UNTIL(w, w->ctx[0].ends[PCD_CONN_END_PEER_CLOSED] == 1);
	assert_int_equal(pcd_conn_count(w->engine[0]), 1);
	assert_true(pc_buf_append(pcd_conn_out(conn), "-fill-", 6));
	assert_int_equal(pcd_conn_send(conn), 0);
	pcd_conn_set_state(conn, PCD_CONN_CLOSING);
	assert_int_equal(pcd_conn_send(conn), -EPIPE); /* sent, closed: gone */
	assert_int_equal(pcd_conn_count(w->engine[0]), 0);
	char got[32];
	int eof;
	size_t n = take(w, peer, got, SIZE_MAX, &eof);
	assert_int_equal(eof, 1);
	assert_int_equal(n, 5 + 5 + 6);
	assert_memory_equal(got,
	                    "\x00\x03"
	                    "getEND-P-fill-",
	                    n);
	close(peer);
	/* An abort outside a callback frees at once. */
	peer = adopt_pair(w, 0, &conn);
	pcd_conn_abort(conn);
	assert_int_equal(pcd_conn_count(w->engine[0]), 0);
	close(peer);
	world_free(w);
}

static void test_header_timeout(void **state)
{
	(void)state;
	struct world *w = world_new();
	struct pcd_conn *conn;
	int peer = adopt_pair(w, 0, &conn);
	put(peer,
	    "\x00\x10"
	    "slow",
	    6);
	PUMP_UNTIL(w, pcd_conn_state(conn) == PCD_CONN_BUSY);
	pcd_conn_tick(w->engine[0], pcd_mono_ms()); /* 60 s to go */
	assert_int_equal(counter(w, 0, PCD_CONN_HEADER_TIMEOUT), 0);
	pcd_conn_tick(w->engine[0], pcd_mono_ms() + 60000);
	assert_int_equal(counter(w, 0, PCD_CONN_HEADER_TIMEOUT), 1);
	assert_int_equal(w->ctx[0].ends[PCD_CONN_END_TIMEOUT], 1);
	/* The protocol's answer (HTTP would say 408), then FIN; the engine
	 * lingers until the peer closes or LINGER_MS. */
	char got[16];
	int eof;
	size_t n = take(w, peer, got, SIZE_MAX, &eof);
	assert_int_equal(eof, 1);
	assert_int_equal(n, 5);
	assert_memory_equal(got, "END-T", 5);
	assert_int_equal(pcd_conn_count(w->engine[0]), 1);
	pcd_conn_tick(w->engine[0], pcd_mono_ms() + PCD_CONN_LINGER_MS);
	assert_int_equal(pcd_conn_count(w->engine[0]), 0);
	close(peer);
	world_free(w);
}

static void test_idle_timeout(void **state)
{
	(void)state;
	struct world *w = world_new();
	struct pcd_conn *conn;
	int peer = adopt_pair(w, 0, &conn);
	put_frame(peer, "one");
	int eof;
	assert_int_equal(take(w, peer, NULL, 5, &eof), 5);
	assert_int_equal(pcd_conn_state(conn), PCD_CONN_IDLE);
	pcd_conn_tick(w->engine[0], pcd_mono_ms() + 60000); /* past header, not idle */
	assert_int_equal(pcd_conn_count(w->engine[0]), 1);
	pcd_conn_tick(w->engine[0], pcd_mono_ms() + 120000);
	assert_int_equal(pcd_conn_count(w->engine[0]), 0);
	assert_int_equal(counter(w, 0, PCD_CONN_IDLE_TIMEOUT), 1);
	assert_int_equal(counter(w, 0, PCD_CONN_HEADER_TIMEOUT), 0);
	assert_int_equal(w->ctx[0].ends[0] + w->ctx[0].ends[1], 0);
	take(w, peer, NULL, SIZE_MAX, &eof);
	assert_int_equal(eof, 1);
	close(peer);
	world_free(w);
}

static void test_limits_per_worker_and_source(void **state)
{
	(void)state;
	struct world *w = world_new();
	uint16_t port_a = listen_somewhere(w, 0), port_b = listen_somewhere(w, 1);
	w->ctx[0].limits.max_per_source = w->ctx[1].limits.max_per_source = 3;
	int clients[5];
	clients[0] = dial(port_a, 0);
	clients[1] = dial(port_a, 0);
	PUMP_UNTIL(w, pcd_conn_count(w->engine[0]) == 2);
	/* The per-source count is shared: worker 1 takes one more, not two. */
	clients[2] = dial(port_b, 0);
	clients[3] = dial(port_b, 0);
	PUMP_UNTIL(w, counter(w, 1, PCD_CONN_ACCEPTED) + counter(w, 1, PCD_CONN_REFUSED) == 2);
	assert_int_equal(counter(w, 1, PCD_CONN_ACCEPTED), 1);
	assert_int_equal(counter(w, 1, PCD_CONN_REFUSED), 1);
	int eof;
	take(w, clients[3], NULL, SIZE_MAX, &eof);
	assert_int_not_equal(eof, 0); /* refused: closed on it */
	/* A connection that ends gives its place back. */
	close(clients[2]);
	PUMP_UNTIL(w, pcd_conn_count(w->engine[1]) == 0);
	close(clients[3]);
	clients[2] = dial(port_b, 0);
	PUMP_UNTIL(w, counter(w, 1, PCD_CONN_ACCEPTED) == 2);
	/* The per-worker maximum. */
	w->ctx[0].limits.max_per_source = 100;
	w->ctx[0].limits.max_conns = 2;
	clients[3] = dial(port_a, 0);
	PUMP_UNTIL(w, counter(w, 0, PCD_CONN_REFUSED) == 1);
	assert_int_equal(pcd_conn_count(w->engine[0]), 2);
	/* And the protocol refusing one. */
	w->ctx[1].limits.max_per_source = 100;
	w->ctx[1].refuse = true;
	clients[4] = dial(port_b, 0);
	PUMP_UNTIL(w, counter(w, 1, PCD_CONN_REFUSED) == 2);
	for (int i = 0; i < 5; i++)
		close(clients[i]);
	PUMP_UNTIL(w, pcd_conn_count(w->engine[0]) + pcd_conn_count(w->engine[1]) == 0);
	world_free(w);
}

/* A PROXY v2 header: PROXY, TCP over IPv4, from 192.0.2.7:4711. */
static size_t proxy_header(uint8_t *out)
{
	static const uint8_t head[] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
	                               0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c, 192,  0,    2,    7,
	                               127,  0,    0,    1,    0x12, 0x67, 0x00, 0x50};
	memcpy(out, head, sizeof(head));
	return sizeof(head);
}

static void test_proxy_v2(void **state)
{
	(void)state;
	struct world *w = world_new();
	uint16_t port = listen_somewhere(w, 0);
	w->ctx[0].balancer = loopback(1);
	w->ctx[0].balancers = (struct pc_addr_list){&w->ctx[0].balancer, 1};
	w->ctx[0].limits.balancers = &w->ctx[0].balancers;
	pc_addr client_addr = {.family = PC_AF_INET, .bytes = {192, 0, 2, 7}};

	/* From a balancer, split across writes, with a frame behind it. */
	uint8_t wire[64];
	size_t n = proxy_header(wire);
	int a = dial(port, 0);
	put(a, wire, 10);
	PUMP_UNTIL(w, pcd_conn_count(w->engine[0]) == 1);
	pump(w, 0);
	memcpy(wire + n,
	       "\x00\x02"
	       "hi",
	       4);
	put(a, wire + 10, n + 4 - 10);
	PUMP_UNTIL(w, w->ctx[0].frames == 1);
	assert_true(pc_addr_equal(&w->ctx[0].last_source, &client_addr));
	assert_true(pc_addr_equal(pcd_conn_peer(w->ctx[0].last), &w->ctx[0].balancer));
	int eof;
	assert_int_equal(take(w, a, NULL, 4, &eof), 4);

	/* Malformed, from a balancer: counted and closed. */
	int b = dial(port, 0);
	put(b, "GET / HTTP/1.1\r\n\r\n", 18);
	take(w, b, NULL, SIZE_MAX, &eof);
	assert_int_not_equal(eof, 0);
	assert_int_equal(counter(w, 0, PCD_CONN_PROXY_BAD), 1);
	/* A header that does not come is a header timeout. */
	int c = dial(port, 0);
	PUMP_UNTIL(w, counter(w, 0, PCD_CONN_ACCEPTED) == 3);
	pcd_conn_tick(w->engine[0], pcd_mono_ms() + 60000);
	assert_int_equal(counter(w, 0, PCD_CONN_HEADER_TIMEOUT), 1);
	assert_int_equal(pcd_conn_count(w->engine[0]), 1);

	/* From anyone else the header is no header: bytes for the protocol
	 * (which would reject them), the source stays the peer. */
	w->ctx[0].balancer = loopback(2);
	int d = dial(port, 0);
	put(d, wire, n);
	put_frame(d, "x");
	PUMP_UNTIL(w, counter(w, 0, PCD_CONN_ACCEPTED) == 4);
	for (int i = 0; i < 10; i++)
		pump(w, 1);
	assert_int_equal(w->ctx[0].frames, 1);
	assert_true(pc_addr_equal(pcd_conn_source(w->ctx[0].last), pcd_conn_peer(w->ctx[0].last)));
	assert_int_equal(pcd_conn_state(w->ctx[0].last), PCD_CONN_BUSY);
	assert_int_equal(counter(w, 0, PCD_CONN_PROXY_BAD), 1);
	close(a);
	close(b);
	close(c);
	close(d);
	PUMP_UNTIL(w, pcd_conn_count(w->engine[0]) == 0);
	world_free(w);
}

static void test_linger(void **state)
{
	(void)state;
	struct world *w = world_new();
	uint16_t port = listen_somewhere(w, 0);
	/* The request that closes, and more bytes behind it the engine never
	 * reads as requests: without the linger, closing on unread bytes
	 * would reset the connection and could destroy the answer. */
	int a = dial(port, 0);
	uint8_t wire[2 + 5 + 4000] = {0, 5, 'c', 'l', 'o', 's', 'e'};
	put(a, wire, sizeof(wire));
	char got[16];
	int eof;
	size_t n = take(w, a, got, SIZE_MAX, &eof);
	assert_int_equal(eof, 1); /* FIN, not a reset */
	assert_int_equal(n, 7);
	assert_memory_equal(got,
	                    "\x00\x05"
	                    "close",
	                    7);
	/* Still there, reading and dropping, until LINGER_MS. */
	put(a, wire, 1000);
	for (int i = 0; i < 5; i++)
		pump(w, 1);
	assert_int_equal(pcd_conn_count(w->engine[0]), 1);
	pcd_conn_tick(w->engine[0], pcd_mono_ms());
	assert_int_equal(pcd_conn_count(w->engine[0]), 1);
	pcd_conn_tick(w->engine[0], pcd_mono_ms() + PCD_CONN_LINGER_MS);
	assert_int_equal(pcd_conn_count(w->engine[0]), 0);
	close(a);
	/* Or until the peer closes. */
	int b = dial(port, 0);
	put_frame(b, "c");
	take(w, b, NULL, SIZE_MAX, &eof);
	assert_int_equal(eof, 1);
	assert_int_equal(pcd_conn_count(w->engine[0]), 1);
	close(b);
	PUMP_UNTIL(w, pcd_conn_count(w->engine[0]) == 0);
	assert_int_equal(
	    counter(w, 0, PCD_CONN_HEADER_TIMEOUT) + counter(w, 0, PCD_CONN_IDLE_TIMEOUT), 0);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_framed_input_kept_across_reads),
	    cmocka_unit_test(test_backpressure_partial_writes),
	    cmocka_unit_test(test_pause_resume_read),
	    cmocka_unit_test(test_drained_after_backlog),
	    cmocka_unit_test(test_output_by_reference),
	    cmocka_unit_test(test_peer_reset_mid_response),
	    cmocka_unit_test(test_half_close_with_pending_input),
	    cmocka_unit_test(test_streaming_after_peer_close),
	    cmocka_unit_test(test_header_timeout),
	    cmocka_unit_test(test_idle_timeout),
	    cmocka_unit_test(test_limits_per_worker_and_source),
	    cmocka_unit_test(test_proxy_v2),
	    cmocka_unit_test(test_linger),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
