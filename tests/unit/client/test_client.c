/* Unit tests of libpeercdn-client (src/client/peercdn_client.h) against
 * fake CDSR responders: threads on 127.0.0.1 with ephemeral UDP ports that
 * answer with the project's codec as a script says (an answer, a status,
 * silence, a wrong nonce first, garbage, a late answer, TOO_SMALL). They
 * check the answer's fields and server URL, every status's code, tries,
 * nonces and timeouts, the TOO_SMALL retry, the avoid list, and the cache
 * by reuse scope and validity under a test clock. Waits are short (50-150
 * ms) and bounds generous, so a loaded machine does not fail them. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/peercdn_client.h"
#include "lib/proto/cdsr.h"
#include "lib/base/err.h"

static const char ABC_URL[] = "http://abc.cdn.acme.net/www.abc.com/x?y=1";

/* What a fake responder does with each request. */
enum action {
	ACT_OK,                   /* the answer template, to the first server not avoided */
	ACT_STATUS,               /* a bare header with .status */
	ACT_SILENT,               /* nothing */
	ACT_WRONG_NONCE_THEN_OK,  /* an answer with another nonce, then the right one */
	ACT_GARBAGE_THEN_OK,      /* junk and a request-shaped datagram, then the answer */
	ACT_OTHER_SOURCE,         /* the right answer, but from another port */
	ACT_TOO_SMALL_UNLESS_MAX, /* TOO_SMALL for requests under 1400 bytes */
	ACT_LATE,                 /* wait delay_ms, then answer with servers[request index] */
};

#define MAX_SEEN     32
#define N_CANDIDATES 4

struct seen {
	char from[INET6_ADDRSTRLEN]; /* the client's source address */
	size_t len;
	uint64_t nonce;
	uint8_t flags, family;
	char prefer[64];
	uint32_t n_avoid;
	pc_addr avoid[PC_CDSR_MAX_AVOID];
};

/* What a fake does; the thread works on a copy taken per request. */
struct script {
	enum action action;
	uint8_t status;
	unsigned delay_ms;
	struct pc_cdsr_response answer;
	char prefix[256];
	const char *servers[N_CANDIDATES]; /* candidates, the first not avoided answers */
};

struct fake {
	int fd, other_fd;
	char text[32]; /* "127.0.0.1:port" */
	pthread_t thread;
	atomic_bool stop;
	pthread_mutex_t lock;
	struct script script; /* changed under lock, copied under lock per request */
	/* What it received. */
	size_t n_requests;
	struct seen seen[MAX_SEEN];
};

static const char *const CANDIDATES[N_CANDIDATES] = {"127.1.200.1", "127.1.200.2", "127.1.200.3",
                                                     "127.1.200.4"};

static bool avoided(const struct pc_cdsr_request *req, const pc_addr *addr)
{
	for (uint32_t i = 0; i < req->n_avoid; i++)
		if (req->avoid[i].addr.family == addr->family &&
		    memcmp(req->avoid[i].addr.bytes, addr->bytes, 16) == 0)
			return true;
	return false;
}

static pc_addr addr_of(const char *text)
{
	pc_addr a = {0};
	if (inet_pton(AF_INET, text, a.bytes) == 1)
		a.family = PC_AF_INET;
	else if (inet_pton(AF_INET6, text, a.bytes) == 1)
		a.family = PC_AF_INET6;
	return a;
}

/* The answer to req under script sc: its length in out, or 0. */
static size_t fake_answer(const struct script *sc, const struct pc_cdsr_request *req, size_t index,
                          uint8_t *out, size_t size)
{
	struct pc_cdsr_response resp = sc->answer;
	resp.version = PC_CDSR_VERSION;
	resp.status = PC_CDSR_OK;
	resp.nonce = req->nonce;
	if (sc->servers[0] != NULL) {
		resp.server = (pc_addr){0};
		if (sc->action == ACT_LATE) {
			resp.server = addr_of(sc->servers[index % N_CANDIDATES]);
		} else {
			for (size_t i = 0; i < N_CANDIDATES && sc->servers[i] != NULL; i++) {
				pc_addr a = addr_of(sc->servers[i]);
				if (!avoided(req, &a)) {
					resp.server = a;
					break;
				}
			}
		}
		if (resp.server.family == PC_AF_NONE)
			resp.status = PC_CDSR_NO_SERVER;
	}
	if (resp.reuse == PC_CDSR_REUSE_PREFIX) {
		resp.reuse_prefix = sc->prefix;
		resp.reuse_prefix_len = (uint16_t)strlen(sc->prefix);
	}
	int n = pc_cdsr_response_write(&resp, req->len, out, size);
	return n > 0 ? (size_t)n : 0;
}

static void record(struct fake *f, const struct pc_cdsr_request *req,
                   const struct sockaddr_in *from)
{
	if (f->n_requests < MAX_SEEN) {
		struct seen *s = &f->seen[f->n_requests];
		inet_ntop(AF_INET, &from->sin_addr, s->from, sizeof(s->from));
		s->len = req->len;
		s->nonce = req->nonce;
		s->flags = req->flags;
		s->family = req->family;
		snprintf(s->prefer, sizeof(s->prefer), "%.*s", (int)req->prefer_cdn_len,
		         req->prefer_cdn ? req->prefer_cdn : "");
		s->n_avoid = req->n_avoid;
		for (uint32_t i = 0; i < req->n_avoid; i++)
			s->avoid[i] = req->avoid[i].addr;
	}
	f->n_requests++;
}

static void *fake_run(void *arg)
{
	struct fake *f = arg;
	uint8_t in[2048], out[2048];
	while (!atomic_load(&f->stop)) {
		struct pollfd p = {.fd = f->fd, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		ssize_t n = recvfrom(f->fd, in, sizeof(in), 0, (struct sockaddr *)&from, &from_len);
		struct pc_cdsr_request req;
		if (n <= 0 || pc_cdsr_request_parse(in, (size_t)n, &req) != PC_OK)
			continue;
		pthread_mutex_lock(&f->lock);
		size_t index = f->n_requests;
		record(f, &req, (const struct sockaddr_in *)&from);
		struct script script = f->script;
		pthread_mutex_unlock(&f->lock);
		const struct sockaddr *to = (const struct sockaddr *)&from;
		size_t len = 0;
		switch (script.action) {
		case ACT_SILENT:
			continue;
		case ACT_STATUS: {
			int w = pc_cdsr_error_write(in, (size_t)n, script.status, out, sizeof(out));
			len = w > 0 ? (size_t)w : 0;
			break;
		}
		case ACT_TOO_SMALL_UNLESS_MAX:
			if (req.len < PC_CDSR_REQUEST_MAX) {
				int w = pc_cdsr_error_write(in, (size_t)n, PC_CDSR_TOO_SMALL, out,
				                            sizeof(out));
				len = w > 0 ? (size_t)w : 0;
				break;
			}
			len = fake_answer(&script, &req, index, out, sizeof(out));
			break;
		case ACT_WRONG_NONCE_THEN_OK: {
			struct pc_cdsr_request other = req;
			other.nonce ^= 1;
			size_t wrong = fake_answer(&script, &other, index, out, sizeof(out));
			sendto(f->fd, out, wrong, 0, to, from_len);
			len = fake_answer(&script, &req, index, out, sizeof(out));
			break;
		}
		case ACT_GARBAGE_THEN_OK:
			sendto(f->fd, "hello", 5, 0, to, from_len);
			sendto(f->fd, in, (size_t)n, 0, to,
			       from_len); /* a request, not an answer */
			len = fake_answer(&script, &req, index, out, sizeof(out));
			break;
		case ACT_OTHER_SOURCE:
			len = fake_answer(&script, &req, index, out, sizeof(out));
			sendto(f->other_fd, out, len, 0, to, from_len);
			continue;
		case ACT_LATE:
			usleep(script.delay_ms * 1000);
			len = fake_answer(&script, &req, index, out, sizeof(out));
			break;
		case ACT_OK:
			len = fake_answer(&script, &req, index, out, sizeof(out));
			break;
		}
		if (len > 0)
			sendto(f->fd, out, len, 0, to, from_len);
	}
	return NULL;
}

static int bound_socket(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void fake_start(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	uint16_t port, other_port;
	f->fd = bound_socket(&port);
	f->other_fd = bound_socket(&other_port);
	snprintf(f->text, sizeof(f->text), "127.0.0.1:%u", (unsigned)port);
	pthread_mutex_init(&f->lock, NULL);
	f->script.action = ACT_OK;
	f->script.answer = (struct pc_cdsr_response){
	    .validity_s = 30,
	    .reason_flags = 0x40,
	    .branch = 1,
	    .reuse = PC_CDSR_REUSE_HOST,
	    .scheme = PC_CDSR_SCHEME_HTTP,
	    .port = 8080,
	};
	memcpy(f->script.servers, CANDIDATES, sizeof(f->script.servers));
	assert_int_equal(pthread_create(&f->thread, NULL, fake_run, f), 0);
}

static void fake_stop(struct fake *f)
{
	if (f->fd <= 0)
		return;
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	close(f->fd);
	close(f->other_fd);
	pthread_mutex_destroy(&f->lock);
	f->fd = 0;
}

static void fake_script(struct fake *f, enum action action, uint8_t status)
{
	pthread_mutex_lock(&f->lock);
	f->script.action = action;
	f->script.status = status;
	pthread_mutex_unlock(&f->lock);
}

static size_t fake_requests(struct fake *f)
{
	pthread_mutex_lock(&f->lock);
	size_t n = f->n_requests;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static struct seen fake_seen(struct fake *f, size_t i)
{
	pthread_mutex_lock(&f->lock);
	struct seen s = f->seen[i];
	pthread_mutex_unlock(&f->lock);
	return s;
}

/* --- the test environment ------------------------------------------------ */

struct env {
	struct fake fakes[2];
	peercdn_client *client;
	uint64_t clock; /* ms of the test clock */
	char log[64][640];
	size_t n_log;
};

static struct env *env_of(void **state)
{
	return *state;
}

static uint64_t test_clock(void *ctx)
{
	return ((struct env *)ctx)->clock;
}

static void test_log(void *ctx, const char *line)
{
	struct env *env = ctx;
	if (env->n_log < 64)
		snprintf(env->log[env->n_log++], sizeof(env->log[0]), "%s", line);
}

static int setup(void **state)
{
	static struct env env;
	memset(&env, 0, sizeof(env));
	env.clock = 1000000;
	fake_start(&env.fakes[0]);
	fake_start(&env.fakes[1]);
	*state = &env;
	return 0;
}

static int teardown(void **state)
{
	struct env *env = *state;
	peercdn_client_free(env->client);
	env->client = NULL;
	fake_stop(&env->fakes[0]);
	fake_stop(&env->fakes[1]);
	return 0;
}

/* Options asking the given fakes (n of them), on the test clock. */
static struct peercdn_client_options options(struct env *env, size_t n, const char **list)
{
	for (size_t i = 0; i < n; i++)
		list[i] = env->fakes[i].text;
	return (struct peercdn_client_options){
	    .responders = list,
	    .n_responders = n,
	    .log = test_log,
	    .log_ctx = env,
	    .clock_ms = test_clock,
	    .clock_ctx = env,
	};
}

static peercdn_client *start(struct env *env, const struct peercdn_client_options *o)
{
	int error = 1;
	peercdn_client_free(env->client);
	env->client = peercdn_client_new(o, &error);
	assert_non_null(env->client);
	assert_int_equal(error, PEERCDN_OK);
	return env->client;
}

/* A client of the first fake responder; tries and timeout_ms 0 for the
 * library's defaults. */
static peercdn_client *start_one(struct env *env, unsigned tries, unsigned timeout_ms)
{
	const char *list[1];
	struct peercdn_client_options o = options(env, 1, list);
	o.tries = tries;
	o.timeout_ms = timeout_ms;
	return start(env, &o);
}

static uint64_t real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool logged(const struct env *env, const char *needle)
{
	for (size_t i = 0; i < env->n_log; i++)
		if (strstr(env->log[i], needle) != NULL)
			return true;
	return false;
}

/* --- answers --------------------------------------------------------------- */

static void test_answer_fields(void **state)
{
	struct env *env = env_of(state);
	const char *list[1];
	struct peercdn_client_options o = options(env, 1, list);
	o.want_hints = 1;
	o.family = 4;
	o.prefer_cdn = "acme";
	peercdn_client *c = start(env, &o);
	struct peercdn_server s;
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &s), PEERCDN_OK);
	assert_string_equal(s.address, "127.1.200.1");
	assert_int_equal(s.family, 4);
	assert_int_equal(s.port, 8080);
	assert_int_equal(s.scheme, PEERCDN_SCHEME_HTTP);
	assert_string_equal(s.server_url, "http://127.1.200.1:8080/www.abc.com/x?y=1");
	assert_int_equal(s.validity_s, 30);
	assert_int_equal(s.reuse, PEERCDN_REUSE_HOST);
	assert_int_equal(s.reason_flags, 0x40);
	assert_string_equal(s.branch, "PRIMARY");
	assert_int_equal(s.from_cache, 0);
	assert_string_equal(s.responder, env->fakes[0].text);

	/* The request: padded (docs/cdsr.md §5), with the options asked for. */
	assert_int_equal(fake_requests(&env->fakes[0]), 1);
	struct seen r = fake_seen(&env->fakes[0], 0);
	assert_true(r.len >= PC_CDSR_PAD_MIN && r.len % PC_CDSR_PAD_BLOCK == 0);
	assert_true(r.flags & PC_CDSR_F_HINTS);
	assert_int_equal(r.family, PC_AF_INET);
	assert_string_equal(r.prefer, "acme");
	assert_int_equal(r.n_avoid, 0);
	assert_true(logged(env, "-> server 127.1.200.1:8080 (PRIMARY, valid 30 s for this host)"));
}

/* One answer per URL (validity 0: nothing cached), server given. */
static void expect_server_url(struct env *env, const char *server, uint8_t scheme, uint16_t port,
                              const char *url, const char *expected)
{
	struct fake *f = &env->fakes[0];
	pthread_mutex_lock(&f->lock);
	f->script.servers[0] = server;
	f->script.answer.scheme = scheme;
	f->script.answer.port = port;
	f->script.answer.validity_s = 0;
	pthread_mutex_unlock(&f->lock);
	struct peercdn_server s;
	assert_int_equal(peercdn_rendezvous(env->client, url, &s), PEERCDN_OK);
	assert_string_equal(s.server_url, expected);
	assert_string_equal(s.address, server);
}

static void test_server_url(void **state)
{
	struct env *env = env_of(state);
	start_one(env, 0, 0);
	expect_server_url(env, "127.1.200.1", PC_CDSR_SCHEME_HTTP, 8080,
	                  "http://abc.cdn.acme.net/www.abc.com/x?y=1",
	                  "http://127.1.200.1:8080/www.abc.com/x?y=1");
	expect_server_url(env, "2001:db8::1", PC_CDSR_SCHEME_HTTP, 8080,
	                  "http://abc.cdn.acme.net/www.abc.com/x?y=1",
	                  "http://[2001:db8::1]:8080/www.abc.com/x?y=1");
	expect_server_url(env, "127.1.200.1", PC_CDSR_SCHEME_HTTPS, 8443,
	                  "https://abc.cdn.acme.net:443/www.abc.com/a%20b#frag",
	                  "https://127.1.200.1:8443/www.abc.com/a%20b");
	expect_server_url(env, "127.1.200.1", PC_CDSR_SCHEME_HTTP, 80, "http://abc.cdn.acme.net",
	                  "http://127.1.200.1:80/");
	expect_server_url(env, "127.1.200.1", PC_CDSR_SCHEME_HTTP, 80,
	                  "http://abc.cdn.acme.net?q=1", "http://127.1.200.1:80/?q=1");
	expect_server_url(env, "::1", PC_CDSR_SCHEME_RTSP, 554,
	                  "rtsp://abc.cdn.acme.net/www.abc.com/live",
	                  "rtsp://[::1]:554/www.abc.com/live");
	assert_int_equal(fake_requests(&env->fakes[0]), 6);
}

static void test_every_status(void **state)
{
	static const struct {
		uint8_t status;
		int code;
	} cases[] = {
	    {PC_CDSR_BAD_REQUEST, PEERCDN_EBADREQUEST},
	    {PC_CDSR_UNSUPPORTED_VERSION, PEERCDN_EVERSION},
	    {PC_CDSR_NO_SUCH_CONTENT, PEERCDN_ENOCONTENT},
	    {PC_CDSR_NOT_AUTHORITATIVE, PEERCDN_ENOTAUTH},
	    {PC_CDSR_NO_SERVER, PEERCDN_ENOSERVER},
	    {PC_CDSR_SIGNATURE_REQUIRED, PEERCDN_ESIGNATURE},
	    {PC_CDSR_RATE_LIMITED, PEERCDN_ERATELIMITED},
	    {PC_CDSR_SERVER_ERROR, PEERCDN_ESERVER},
	};
	struct env *env = env_of(state);
	const char *list[1];
	struct peercdn_client_options o = options(env, 1, list);
	o.timeout_ms = 2000; /* an answer comes at once; a timeout would be a bug */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		peercdn_client *c = start(env, &o);
		fake_script(&env->fakes[0], ACT_STATUS, cases[i].status);
		size_t before = fake_requests(&env->fakes[0]);
		struct peercdn_server s;
		assert_int_equal(peercdn_rendezvous(c, ABC_URL, &s), cases[i].code);
		/* One responder: a status ends the rendezvous, nothing is hammered. */
		assert_int_equal(fake_requests(&env->fakes[0]) - before, 1);
		assert_string_not_equal(peercdn_strerror(cases[i].code), "unknown error");
	}
}

static void test_rate_limited_moves_to_the_next_responder(void **state)
{
	struct env *env = env_of(state);
	const char *list[2];
	struct peercdn_client_options o = options(env, 2, list);
	peercdn_client *c = start(env, &o);
	fake_script(&env->fakes[0], ACT_STATUS, PC_CDSR_RATE_LIMITED);
	env->fakes[1].script.answer.validity_s = 0; /* the fake is idle: no lock needed */
	struct peercdn_server s;
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &s), PEERCDN_OK);
	assert_string_equal(s.responder, env->fakes[1].text);
	assert_int_equal(fake_requests(&env->fakes[0]), 1);
	assert_int_equal(fake_requests(&env->fakes[1]), 1);
	/* The responder that answered keeps its turn. */
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &s), PEERCDN_OK);
	assert_int_equal(fake_requests(&env->fakes[0]), 1);
	assert_int_equal(fake_requests(&env->fakes[1]), 2);
	/* Both refusing: the last refusal is the result, one datagram each. */
	fake_script(&env->fakes[1], ACT_STATUS, PC_CDSR_SERVER_ERROR);
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &s), PEERCDN_ERATELIMITED);
	assert_int_equal(fake_requests(&env->fakes[0]), 2);
	assert_int_equal(fake_requests(&env->fakes[1]), 3);
}

/* --- what is ignored --------------------------------------------------------- */

static void test_wrong_nonce_then_right(void **state)
{
	struct env *env = env_of(state);
	peercdn_client *c = start_one(env, 1, 2000);
	fake_script(&env->fakes[0], ACT_WRONG_NONCE_THEN_OK, 0);
	struct peercdn_server s;
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &s), PEERCDN_OK);
	assert_string_equal(s.address, "127.1.200.1");
	assert_int_equal(fake_requests(&env->fakes[0]), 1);
	assert_true(logged(env, "ignored an answer with another nonce"));
}

static void test_garbage_ignored(void **state)
{
	struct env *env = env_of(state);
	peercdn_client *c = start_one(env, 1, 2000);
	fake_script(&env->fakes[0], ACT_GARBAGE_THEN_OK, 0);
	struct peercdn_server s;
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &s), PEERCDN_OK);
	assert_string_equal(s.address, "127.1.200.1");
	assert_true(logged(env, "not a CDSR answer"));
}

static void test_answer_from_another_source_ignored(void **state)
{
	struct env *env = env_of(state);
	peercdn_client *c = start_one(env, 1, 150);
	fake_script(&env->fakes[0], ACT_OTHER_SOURCE, 0);
	struct peercdn_server s;
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &s), PEERCDN_ETIMEOUT);
	assert_int_equal(fake_requests(&env->fakes[0]), 1);
}

/* --- tries and timeouts ------------------------------------------------------ */

static void test_timeout_retries_with_new_nonces(void **state)
{
	struct env *env = env_of(state);
	peercdn_client *c = start_one(env, 3, 50);
	fake_script(&env->fakes[0], ACT_SILENT, 0);
	struct peercdn_server s;
	uint64_t t0 = real_ms();
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &s), PEERCDN_ETIMEOUT);
	uint64_t elapsed = real_ms() - t0;
	/* 50 + 100 + 200 ms of waiting, with generous room above. */
	assert_true(elapsed >= 340);
	assert_true(elapsed < 5000);
	assert_int_equal(fake_requests(&env->fakes[0]), 3);
	struct seen a = fake_seen(&env->fakes[0], 0), b = fake_seen(&env->fakes[0], 1),
	            d = fake_seen(&env->fakes[0], 2);
	assert_true(a.nonce != b.nonce && b.nonce != d.nonce && a.nonce != d.nonce);
	assert_true(logged(env, "no answer from"));
}

static void test_timeout_then_next_responder(void **state)
{
	struct env *env = env_of(state);
	const char *list[2];
	struct peercdn_client_options o = options(env, 2, list);
	o.timeout_ms = 50;
	peercdn_client *c = start(env, &o);
	fake_script(&env->fakes[0], ACT_SILENT, 0);
	struct peercdn_server s;
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &s), PEERCDN_OK);
	assert_string_equal(s.responder, env->fakes[1].text);
	assert_int_equal(fake_requests(&env->fakes[0]), 1);
	assert_int_equal(fake_requests(&env->fakes[1]), 1);
}

static void test_late_answer_to_an_earlier_try(void **state)
{
	struct env *env = env_of(state);
	peercdn_client *c = start_one(env, 3, 100);
	/* The fake answers each request 150 ms late, in order, naming
	 * servers[request index]: the answer to the first try comes during
	 * the second and is taken (docs/cdsr.md §10). */
	pthread_mutex_lock(&env->fakes[0].lock);
	env->fakes[0].script.action = ACT_LATE;
	env->fakes[0].script.delay_ms = 150;
	pthread_mutex_unlock(&env->fakes[0].lock);
	struct peercdn_server s;
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &s), PEERCDN_OK);
	assert_string_equal(s.address, CANDIDATES[0]);
	assert_true(fake_requests(&env->fakes[0]) >= 1);
}

static void test_too_small_then_padded(void **state)
{
	struct env *env = env_of(state);
	peercdn_client *c = start_one(env, 1, 2000); /* the padded retry is free */
	fake_script(&env->fakes[0], ACT_TOO_SMALL_UNLESS_MAX, 0);
	struct peercdn_server s;
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &s), PEERCDN_OK);
	assert_int_equal(fake_requests(&env->fakes[0]), 2);
	assert_true(fake_seen(&env->fakes[0], 0).len < PC_CDSR_REQUEST_MAX);
	assert_int_equal(fake_seen(&env->fakes[0], 1).len, PC_CDSR_REQUEST_MAX);
	assert_true(fake_seen(&env->fakes[0], 0).nonce != fake_seen(&env->fakes[0], 1).nonce);

	/* TOO_SMALL even at 1400 bytes: one retry, then the error. */
	fake_script(&env->fakes[0], ACT_STATUS, PC_CDSR_TOO_SMALL);
	assert_int_equal(peercdn_rendezvous(c, "http://other.cdn.acme.net/x", &s),
	                 PEERCDN_ETOOSMALL);
	assert_int_equal(fake_requests(&env->fakes[0]), 4);
}

static void test_source_address(void **state)
{
	struct env *env = env_of(state);
	const char *list[1];
	struct peercdn_client_options o = options(env, 1, list);
	o.source_address = "127.0.0.2";
	peercdn_client *c = start(env, &o);
	struct peercdn_server s;
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &s), PEERCDN_OK);
	assert_string_equal(fake_seen(&env->fakes[0], 0).from, "127.0.0.2");

	/* An address this host does not have: no datagram leaves, and the
	 * error says so rather than "timeout". */
	o.source_address = "192.0.2.1";
	c = start(env, &o);
	errno = 0;
	assert_int_equal(peercdn_rendezvous(c, "http://abc.cdn.acme.net/z", &s), PEERCDN_ESYSTEM);
	assert_int_equal(errno, EADDRNOTAVAIL);
	assert_int_equal(fake_requests(&env->fakes[0]), 1);
	assert_true(logged(env, "cannot send to"));
}

/* --- failures and the avoid list ----------------------------------------------- */

static void test_report_failure_avoids_the_server(void **state)
{
	struct env *env = env_of(state);
	peercdn_client *c = start_one(env, 0, 0);
	struct peercdn_server s, again;
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &s), PEERCDN_OK);
	assert_string_equal(s.address, "127.1.200.1");
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &again), PEERCDN_OK);
	assert_int_equal(again.from_cache, 1);
	assert_int_equal(fake_requests(&env->fakes[0]), 1);

	assert_int_equal(peercdn_report_failure(c, &s), PEERCDN_OK);
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &again), PEERCDN_OK);
	assert_int_equal(again.from_cache, 0); /* the cached answer named it */
	assert_string_equal(again.address, "127.1.200.2");
	assert_int_equal(fake_requests(&env->fakes[0]), 2);
	struct seen r = fake_seen(&env->fakes[0], 1);
	assert_int_equal(r.n_avoid, 1);
	pc_addr dead = addr_of("127.1.200.1");
	assert_memory_equal(&r.avoid[0], &dead, sizeof(dead));
	assert_true(logged(env, "1 avoided"));

	/* After PEERCDN_AVOID_S the server is asked for again. */
	env->clock += (uint64_t)PEERCDN_AVOID_S * 1000 + 1;
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &again), PEERCDN_OK);
	assert_int_equal(again.from_cache, 0); /* 30 s validity is over too */
	assert_int_equal(fake_seen(&env->fakes[0], 2).n_avoid, 0);
	assert_string_equal(again.address, "127.1.200.1");
}

static void test_avoid_list_keeps_the_newest(void **state)
{
	struct env *env = env_of(state);
	peercdn_client *c = start_one(env, 0, 0);
	struct peercdn_server dead = {0};
	for (int i = 1; i <= PEERCDN_MAX_AVOID + 1; i++) {
		snprintf(dead.address, sizeof(dead.address), "127.9.0.%d", i);
		assert_int_equal(peercdn_report_failure(c, &dead), PEERCDN_OK);
		env->clock++;
	}
	/* A repeated report refreshes, never duplicates. */
	assert_int_equal(peercdn_report_failure(c, &dead), PEERCDN_OK);
	snprintf(dead.address, sizeof(dead.address), "not an address");
	assert_int_equal(peercdn_report_failure(c, &dead), PEERCDN_EINVAL);
	assert_int_equal(peercdn_report_failure(NULL, &dead), PEERCDN_EINVAL);

	struct peercdn_server s;
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, &s), PEERCDN_OK);
	struct seen r = fake_seen(&env->fakes[0], 0);
	assert_int_equal(r.n_avoid, PEERCDN_MAX_AVOID);
	pc_addr oldest = addr_of("127.9.0.1"), newest = addr_of("127.9.0.9");
	bool has_oldest = false, has_newest = false;
	for (uint32_t i = 0; i < r.n_avoid; i++) {
		has_oldest = has_oldest || memcmp(&r.avoid[i], &oldest, sizeof(oldest)) == 0;
		has_newest = has_newest || memcmp(&r.avoid[i], &newest, sizeof(newest)) == 0;
	}
	assert_false(has_oldest);
	assert_true(has_newest);
}

/* --- the cache ------------------------------------------------------------------- */

static void set_answer(struct fake *f, uint8_t reuse, uint32_t validity_s, const char *prefix,
                       const char *server)
{
	pthread_mutex_lock(&f->lock);
	f->script.answer.reuse = reuse;
	f->script.answer.validity_s = validity_s;
	snprintf(f->script.prefix, sizeof(f->script.prefix), "%s", prefix ? prefix : "");
	f->script.servers[0] = server;
	pthread_mutex_unlock(&f->lock);
}

/* Rendezvous for url; whether it came from the cache (and no datagram). */
static bool cached(struct env *env, const char *url)
{
	size_t before = fake_requests(&env->fakes[0]);
	struct peercdn_server s;
	assert_int_equal(peercdn_rendezvous(env->client, url, &s), PEERCDN_OK);
	assert_int_equal(fake_requests(&env->fakes[0]) - before, s.from_cache ? 0 : 1);
	return s.from_cache;
}

static void test_cache_url_scope_and_validity(void **state)
{
	struct env *env = env_of(state);
	start_one(env, 0, 0);
	set_answer(&env->fakes[0], PC_CDSR_REUSE_URL, 1, NULL, "127.1.200.1");
	assert_false(cached(env, ABC_URL));
	assert_true(cached(env, ABC_URL));
	assert_false(cached(env, "http://abc.cdn.acme.net/www.abc.com/x?y=2"));
	env->clock += 999;
	assert_true(cached(env, ABC_URL));
	env->clock += 1; /* validity 1 s from the answer: over */
	assert_false(cached(env, ABC_URL));

	set_answer(&env->fakes[0], PC_CDSR_REUSE_URL, 0, NULL, "127.1.200.1");
	assert_false(cached(env, "http://abc.cdn.acme.net/www.abc.com/once"));
	assert_false(cached(env, "http://abc.cdn.acme.net/www.abc.com/once"));
}

static void test_cache_host_scope(void **state)
{
	struct env *env = env_of(state);
	start_one(env, 0, 0);
	set_answer(&env->fakes[0], PC_CDSR_REUSE_HOST, 30, NULL, "127.1.200.1");
	assert_false(cached(env, ABC_URL));
	assert_true(cached(env, "http://abc.cdn.acme.net/www.abc.com/other"));
	assert_true(cached(env, "HTTP://ABC.cdn.acme.net/cdn.abc.com/z?q"));
	struct peercdn_server s;
	assert_int_equal(peercdn_rendezvous(env->client, "http://abc.cdn.acme.net/y?z", &s), 0);
	assert_string_equal(s.server_url, "http://127.1.200.1:8080/y?z");
	assert_false(cached(env, "http://abc.cdn.acme.net:8000/www.abc.com/x"));
	assert_false(cached(env, "https://abc.cdn.acme.net/www.abc.com/x"));
	assert_false(cached(env, "http://foo.cdn.acme.net/www.abc.com/x"));
}

static void test_cache_prefix_scope(void **state)
{
	struct env *env = env_of(state);
	start_one(env, 0, 0);
	set_answer(&env->fakes[0], PC_CDSR_REUSE_PREFIX, 30, "http://abc.cdn.acme.net/www.abc.com/",
	           "127.1.200.1");
	assert_false(cached(env, ABC_URL));
	assert_true(cached(env, "http://abc.cdn.acme.net/www.abc.com/y"));
	assert_true(cached(env, "HTTP://Abc.Cdn.Acme.Net/www.abc.com/y"));
	set_answer(&env->fakes[0], PC_CDSR_REUSE_URL, 0, NULL, "127.1.200.1");
	assert_false(cached(env, "http://abc.cdn.acme.net/WWW.abc.com/y")); /* paths keep case */
	assert_false(cached(env, "http://abc.cdn.acme.net/cdn.abc.com/y"));
	env->clock += 30000;
	assert_false(cached(env, "http://abc.cdn.acme.net/www.abc.com/y"));
}

static void test_cache_prefix_wider_than_the_url_is_narrowed(void **state)
{
	struct env *env = env_of(state);
	start_one(env, 0, 0);
	/* "http://" would capture every site's URLs: used for this URL only. */
	set_answer(&env->fakes[0], PC_CDSR_REUSE_PREFIX, 30, "http://", "127.1.200.1");
	struct peercdn_server s;
	assert_int_equal(peercdn_rendezvous(env->client, ABC_URL, &s), PEERCDN_OK);
	assert_int_equal(s.reuse, PEERCDN_REUSE_URL);
	assert_true(cached(env, ABC_URL));
	set_answer(&env->fakes[0], PC_CDSR_REUSE_URL, 0, NULL, "127.1.200.1");
	assert_false(cached(env, "http://www.elsewhere.example/"));
	/* Nor may a prefix name another URL than the one asked for. */
	set_answer(&env->fakes[0], PC_CDSR_REUSE_PREFIX, 30, "http://foo.cdn.beta.net/www.foo.com/",
	           "127.1.200.1");
	assert_int_equal(peercdn_rendezvous(env->client, "http://abc.cdn.acme.net/q", &s), 0);
	assert_int_equal(s.reuse, PEERCDN_REUSE_URL);
	set_answer(&env->fakes[0], PC_CDSR_REUSE_URL, 0, NULL, "127.1.200.1");
	assert_false(cached(env, "http://foo.cdn.beta.net/www.foo.com/z"));
}

static void test_cache_most_specific_scope_wins(void **state)
{
	struct env *env = env_of(state);
	start_one(env, 0, 0);
	struct peercdn_server s;
	set_answer(&env->fakes[0], PC_CDSR_REUSE_URL, 30, NULL, "127.1.200.1");
	assert_int_equal(peercdn_rendezvous(env->client, ABC_URL, &s), 0);
	set_answer(&env->fakes[0], PC_CDSR_REUSE_HOST, 30, NULL, "127.1.200.2");
	assert_int_equal(peercdn_rendezvous(env->client, "http://abc.cdn.acme.net/z", &s), 0);
	assert_int_equal(s.from_cache, 0);
	assert_int_equal(peercdn_rendezvous(env->client, ABC_URL, &s), 0);
	assert_int_equal(s.from_cache, 1);
	assert_string_equal(s.address, "127.1.200.1");
	assert_int_equal(peercdn_rendezvous(env->client, "http://abc.cdn.acme.net/w", &s), 0);
	assert_int_equal(s.from_cache, 1);
	assert_string_equal(s.address, "127.1.200.2");
	/* Reporting the host's server leaves the URL's answer alone. */
	assert_int_equal(peercdn_report_failure(env->client, &s), 0);
	assert_true(cached(env, ABC_URL));
	assert_false(cached(env, "http://abc.cdn.acme.net/w"));
}

/* The same, with the wider entries stored first in the table (a slot
 * freed by an expired answer), so that order cannot decide. */
static void test_cache_most_specific_scope_wins_in_any_order(void **state)
{
	struct env *env = env_of(state);
	start_one(env, 0, 0);
	struct peercdn_server s;
	set_answer(&env->fakes[0], PC_CDSR_REUSE_URL, 1, NULL, "127.1.200.9");
	assert_false(cached(env, "http://filler.cdn.acme.net/a"));
	assert_false(cached(env, "http://filler.cdn.acme.net/b"));
	set_answer(&env->fakes[0], PC_CDSR_REUSE_URL, 30, NULL, "127.1.200.1");
	assert_false(cached(env, ABC_URL));
	set_answer(&env->fakes[0], PC_CDSR_REUSE_PREFIX, 30, "http://abc.cdn.acme.net/www.abc.com/",
	           "127.1.200.2");
	assert_false(cached(env, "http://abc.cdn.acme.net/www.abc.com/y"));
	env->clock += 1000; /* the fillers expire: their slots come first */
	set_answer(&env->fakes[0], PC_CDSR_REUSE_PREFIX, 30, "http://abc.cdn.acme.net/www.",
	           "127.1.200.4");
	assert_false(cached(env, "http://abc.cdn.acme.net/www.foo.com/"));
	set_answer(&env->fakes[0], PC_CDSR_REUSE_HOST, 30, NULL, "127.1.200.3");
	assert_false(cached(env, "http://abc.cdn.acme.net/z"));
	static const struct {
		const char *url, *server;
	} expect[] = {
	    {ABC_URL, "127.1.200.1"},
	    {"http://abc.cdn.acme.net/www.abc.com/other", "127.1.200.2"},
	    {"http://abc.cdn.acme.net/www.foo.com/x", "127.1.200.4"},
	    {"http://abc.cdn.acme.net/cdn.abc.com/x", "127.1.200.3"},
	};
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		assert_int_equal(peercdn_rendezvous(env->client, expect[i].url, &s), 0);
		assert_int_equal(s.from_cache, 1);
		assert_string_equal(s.address, expect[i].server);
	}
}

static void test_cache_evicts_the_least_recently_used(void **state)
{
	struct env *env = env_of(state);
	const char *list[1];
	struct peercdn_client_options o = options(env, 1, list);
	o.cache_entries = 2;
	start(env, &o);
	set_answer(&env->fakes[0], PC_CDSR_REUSE_URL, 30, NULL, "127.1.200.1");
	assert_false(cached(env, "http://a.cdn.acme.net/1"));
	env->clock++;
	assert_false(cached(env, "http://a.cdn.acme.net/2"));
	env->clock++;
	assert_true(cached(env, "http://a.cdn.acme.net/1"));
	env->clock++;
	assert_false(cached(env, "http://a.cdn.acme.net/3")); /* evicts /2 */
	env->clock++;
	assert_true(cached(env, "http://a.cdn.acme.net/1"));
	assert_true(cached(env, "http://a.cdn.acme.net/3"));
	env->clock++;
	assert_false(cached(env, "http://a.cdn.acme.net/2"));
}

/* --- arguments ------------------------------------------------------------------- */

static void test_options_checked(void **state)
{
	(void)state;
	static const char *const good[] = {"127.0.0.1", "127.0.0.1:1", "::1", "[::1]",
	                                   "[2001:db8::53]:2554"};
	static const char *const bad[] = {"",           "127.0.0.1:0", "127.0.0.1:65536",
	                                  "127.0.0.1:", "[::1",        "[::1]x",
	                                  "localhost",  "1.2.3.4:-1",  "127.0.0.1:53x"};
	int error;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct peercdn_client_options o = {.responders = &good[i], .n_responders = 1};
		peercdn_client *c = peercdn_client_new(&o, &error);
		assert_non_null(c);
		peercdn_client_free(c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct peercdn_client_options o = {.responders = &bad[i], .n_responders = 1};
		error = 0;
		assert_null(peercdn_client_new(&o, &error));
		assert_int_equal(error, PEERCDN_EINVAL);
	}
	char long_name[300];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	const char *nine[9] = {"127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1",
	                       "127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1"};
	struct peercdn_client_options base = {.responders = nine, .n_responders = 1};
	struct peercdn_client_options o = base;
	o.n_responders = 0;
	assert_null(peercdn_client_new(&o, NULL));
	o = base;
	o.n_responders = 9;
	assert_null(peercdn_client_new(&o, NULL));
	o = base;
	o.family = 5;
	assert_null(peercdn_client_new(&o, NULL));
	o = base;
	o.tries = 11;
	assert_null(peercdn_client_new(&o, NULL));
	o = base;
	o.timeout_ms = 60001;
	assert_null(peercdn_client_new(&o, NULL));
	o = base;
	o.prefer_cdn = "";
	assert_null(peercdn_client_new(&o, NULL));
	o.prefer_cdn = long_name;
	assert_null(peercdn_client_new(&o, NULL));
	o = base;
	o.source_address = "nowhere";
	assert_null(peercdn_client_new(&o, NULL));
	assert_null(peercdn_client_new(NULL, &error));
	assert_int_equal(error, PEERCDN_EINVAL);
	peercdn_client_free(NULL);
}

static void test_bad_urls(void **state)
{
	struct env *env = env_of(state);
	peercdn_client *c = start_one(env, 0, 0);
	struct peercdn_server s;
	static char too_long[PC_CDSR_URL_MAX + 2], no_room[1390];
	memset(too_long, 'a', sizeof(too_long) - 1);
	memcpy(too_long, "http://a/", 9);
	memset(no_room, 'a', sizeof(no_room) - 1);
	memcpy(no_room, "http://a/", 9);
	const char *urls[] = {"",          "abc",        "://x",   "http://",
	                      "http:///x", "1http://x/", too_long, no_room};
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		assert_int_equal(peercdn_rendezvous(c, urls[i], &s), PEERCDN_EINVAL);
	assert_int_equal(peercdn_rendezvous(c, NULL, &s), PEERCDN_EINVAL);
	assert_int_equal(peercdn_rendezvous(c, ABC_URL, NULL), PEERCDN_EINVAL);
	assert_int_equal(peercdn_rendezvous(NULL, ABC_URL, &s), PEERCDN_EINVAL);
	assert_int_equal(fake_requests(&env->fakes[0]), 0);
}

static void test_strerror(void **state)
{
	(void)state;
	for (int code = PEERCDN_ETOOSMALL; code <= PEERCDN_OK; code++) {
		assert_non_null(peercdn_strerror(code));
		assert_string_not_equal(peercdn_strerror(code), "unknown error");
		for (int other = PEERCDN_ETOOSMALL; other < code; other++)
			assert_string_not_equal(peercdn_strerror(code), peercdn_strerror(other));
	}
	assert_string_equal(peercdn_strerror(1), "unknown error");
	assert_string_equal(peercdn_strerror(-99), "unknown error");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_answer_fields),
	    T(test_server_url),
	    T(test_every_status),
	    T(test_rate_limited_moves_to_the_next_responder),
	    T(test_wrong_nonce_then_right),
	    T(test_garbage_ignored),
	    T(test_answer_from_another_source_ignored),
	    T(test_timeout_retries_with_new_nonces),
	    T(test_timeout_then_next_responder),
	    T(test_late_answer_to_an_earlier_try),
	    T(test_too_small_then_padded),
	    T(test_source_address),
	    T(test_report_failure_avoids_the_server),
	    T(test_avoid_list_keeps_the_newest),
	    T(test_cache_url_scope_and_validity),
	    T(test_cache_host_scope),
	    T(test_cache_prefix_scope),
	    T(test_cache_prefix_wider_than_the_url_is_narrowed),
	    T(test_cache_most_specific_scope_wins),
	    T(test_cache_most_specific_scope_wins_in_any_order),
	    T(test_cache_evicts_the_least_recently_used),
	    T(test_bad_urls),
	    cmocka_unit_test(test_options_checked),
	    cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
