/* udpperf: a one-packet UDP request/response load generator (issue 4,
 * bench/redirect): DNS queries to a DNS server, CDSR requests
 * (docs/cdsr.md) to a CDSR responder, or any raw datagram whose answer
 * echoes a 16-bit ID at bytes 0..1.
 *
 *   udpperf [options] -f SPEC ADDR PORT
 *
 * SPEC is a text file, one request per line, sent round-robin (blank lines
 * and lines starting with '#' are skipped):
 *
 *   dns  NAME [TYPE] [ecs=ADDR/LEN] [rd]     a DNS query (TYPE: A AAAA SOA NS TXT
 *                                            or a number; EDNS0 with an ECS
 *                                            option when ecs= is given)
 *   cdsr URL [pad=N] [hints] [family=4|6]    a CDSR version-1 request (docs/cdsr.md §3)
 *   hex  HEX...                              raw bytes, DNS-like: ID at 0..1
 *
 * Every request is rewritten per send with a fresh ID: the DNS ID (bytes
 * 0..1), or the CDSR nonce (bytes 6..13, whose low 16 bits pick the slot
 * and whose whole value is checked). An answer is matched to its request by
 * that ID on the socket that sent it (each socket is connected to
 * ADDR:PORT, so nothing else reaches it); unmatched datagrams are counted
 * as "stray". A request not answered within --timeout is lost.
 *
 * Modes:
 *   saturate (default)  keep -q N requests outstanding on each of -s sockets
 *   --rate QPS          send QPS requests per second in all (paced on the
 *                       monotonic clock; -q still bounds what is in flight)
 * Both run for --duration seconds (or until --count requests are sent),
 * then wait at most --timeout for late answers and stop: every loop is
 * bounded by the clock.
 *
 * One thread; each socket bound to -b ADDR (port 0: distinct source ports,
 * so a server's SO_REUSEPORT sockets share the load), batches of up to 64
 * with sendmmsg/recvmmsg.
 *
 * Output: "key value" lines: sent, answered, lost, stray, answers_per_s
 * (answers received during the --duration window / its length),
 * latency_us p50 ... max, the generator's own CPU time (self_cpu_s), a
 * count per DNS rcode or CDSR status, and the mix of what the answers
 * said: "mix BRANCH SERVER COUNT" per distinct pair, BRANCH the CDSR
 * answer's (PRIMARY, PEER, OUTSIDE; "-" for DNS) and SERVER its address
 * (a DNS answer's first A or AAAA record; "none" without one or for a
 * CDSR status other than OK; beyond MIX_MAX pairs, "other"). Exit 0 when
 * at least one answer came, 1 when none, 2 on a usage or setup error. `udpperf -f SPEC --dump`
 * prints the request packets in hex and exits.
 *
 * Only libc: C17 with POSIX and Linux's sendmmsg/recvmmsg. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKETS  256
#define MAX_REQUESTS 65536
#define MAX_PKT      1400
#define BATCH        64
#define SLOTS        65536 /* IDs per socket: 16 bits */
#define RECV_MAX     4096
#define MIX_MAX      32 /* distinct (branch, server) pairs tallied */

/* Latency histogram: 1 us buckets below 10 ms, 100 us buckets to 10 s. */
#define FINE_US   10000
#define COARSE_N  100000
#define COARSE_US 100

enum kind { K_DNS, K_CDSR };

struct request {
	uint8_t *pkt;
	uint16_t len;
	enum kind kind;
};

struct slot {
	uint64_t sent_ns; /* 0: free */
	uint64_t seq;
};

/* One (branch, server) pair of the answers and how many said it. */
struct mix {
	uint8_t branch; /* CDSR 1..3; 0: DNS or none */
	uint8_t family; /* 4, 6; 0: no address */
	uint8_t addr[16];
	uint64_t count;
};

struct sock {
	int fd;
	uint64_t head; /* sequence of the next send on this socket */
	uint64_t tail; /* no request before this is outstanding */
	uint32_t inflight;
	struct slot *slots; /* SLOTS entries */
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "udpperf: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(2);
}

/* ---- request file ---------------------------------------------------------- */

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static int dns_type(const char *s)
{
	static const struct {
		const char *name;
		int type;
	} types[] = {{"A", 1},   {"NS", 2},   {"CNAME", 5}, {"SOA", 6},  {"PTR", 12},
	             {"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}, {"ANY", 255}};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(s, types[i].name) == 0)
			return types[i].type;
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1 || v > 65535)
		return -1;
	return (int)v;
}

/* A DNS query; returns its length or -1. */
static int make_dns(char **tok, int ntok, uint8_t *out)
{
	if (ntok < 1)
		return -1;
	const char *name = tok[0];
	int type = 1;
	const char *ecs = NULL;
	bool rd = false;
	for (int i = 1; i < ntok; i++) {
		if (strncmp(tok[i], "ecs=", 4) == 0)
			ecs = tok[i] + 4;
		else if (strcmp(tok[i], "rd") == 0)
			rd = true;
		else if ((type = dns_type(tok[i])) < 0)
			return -1;
	}
	size_t n = 0;
	memset(out, 0, 12);
	out[2] = rd ? 0x01 : 0x00;
	put16(out + 4, 1);
	put16(out + 10, ecs ? 1 : 0);
	n = 12;
	/* the name, label by label */
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (l == 0 || l > 63 || n + l + 1 > 12 + 255)
			return -1;
		out[n++] = (uint8_t)l;
		memcpy(out + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	out[n++] = 0;
	put16(out + n, (unsigned)type);
	put16(out + n + 2, 1); /* IN */
	n += 4;
	if (ecs) {
		char addr[64];
		const char *slash = strchr(ecs, '/');
		if (!slash || (size_t)(slash - ecs) >= sizeof(addr))
			return -1;
		memcpy(addr, ecs, (size_t)(slash - ecs));
		addr[slash - ecs] = '\0';
		int bits = atoi(slash + 1);
		uint8_t a[16];
		int family;
		if (inet_pton(AF_INET, addr, a) == 1 && bits >= 0 && bits <= 32)
			family = 1;
		else if (inet_pton(AF_INET6, addr, a) == 1 && bits >= 0 && bits <= 128)
			family = 2;
		else
			return -1;
		unsigned alen = (unsigned)(bits + 7) / 8;
		out[n++] = 0;       /* root */
		put16(out + n, 41); /* OPT */
		put16(out + n + 2, 1232);
		memset(out + n + 4, 0, 4); /* extended rcode, version, flags */
		put16(out + n + 8, 8 + alen);
		n += 10;
		put16(out + n, 8); /* ECS */
		put16(out + n + 2, 4 + alen);
		put16(out + n + 4, (unsigned)family);
		out[n + 6] = (uint8_t)bits;
		out[n + 7] = 0;
		memcpy(out + n + 8, a, alen);
		if (bits % 8)
			out[n + 8 + alen - 1] &= (uint8_t)(0xff << (8 - bits % 8));
		n += 8 + alen;
	}
	return (int)n;
}

/* A CDSR version-1 request (docs/cdsr.md §3); returns its length or -1. */
static int make_cdsr(char **tok, int ntok, uint8_t *out)
{
	if (ntok < 1)
		return -1;
	const char *url = tok[0];
	size_t url_len = strlen(url);
	size_t pad = 0;
	int family = -1;
	bool hints = false;
	for (int i = 1; i < ntok; i++) {
		if (strncmp(tok[i], "pad=", 4) == 0)
			pad = (size_t)atoi(tok[i] + 4);
		else if (strncmp(tok[i], "family=", 7) == 0)
			family = atoi(tok[i] + 7);
		else if (strcmp(tok[i], "hints") == 0)
			hints = true;
		else
			return -1;
	}
	size_t opts = family >= 0 ? 5 : 0;
	size_t n = 18 + url_len + opts;
	if (url_len < 1 || n > MAX_PKT || pad > MAX_PKT ||
	    (family != -1 && family != 0 && family != 4 && family != 6))
		return -1;
	memset(out, 0, MAX_PKT);
	memcpy(out, "CDSR", 4);
	out[4] = 1;
	out[5] = hints ? 0x01 : 0x00;
	put16(out + 14, (unsigned)url_len);
	memcpy(out + 16, url, url_len);
	put16(out + 16 + url_len, (unsigned)opts);
	if (opts) {
		uint8_t *o = out + 18 + url_len;
		put16(o, 4); /* FAMILY */
		put16(o + 2, 1);
		o[4] = (uint8_t)family;
	}
	return (int)(pad > n ? pad : n);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int make_hex(char **tok, int ntok, uint8_t *out)
{
	size_t n = 0;
	for (int i = 0; i < ntok; i++)
		for (const char *p = tok[i]; *p; p += 2) {
			int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);
			if (lo < 0 || n >= MAX_PKT)
				return -1;
			out[n++] = (uint8_t)(hi << 4 | lo);
		}
	return n >= 2 ? (int)n : -1;
}

static size_t load_requests(const char *path, struct request *reqs)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die("cannot open %s", path);
	char line[8192];
	size_t n = 0;
	unsigned lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *tok[64];
		int ntok = 0;
		for (char *s = strtok(line, " \t\r\n"); s && ntok < 64; s = strtok(NULL, " \t\r\n"))
			tok[ntok++] = s;
		if (ntok == 0 || tok[0][0] == '#')
			continue;
		if (n == MAX_REQUESTS)
			die("%s: too many requests", path);
		uint8_t buf[MAX_PKT];
		int len;
		enum kind kind = K_DNS;
		if (strcmp(tok[0], "dns") == 0)
			len = make_dns(tok + 1, ntok - 1, buf);
		else if (strcmp(tok[0], "cdsr") == 0) {
			kind = K_CDSR;
			len = make_cdsr(tok + 1, ntok - 1, buf);
		} else if (strcmp(tok[0], "hex") == 0)
			len = make_hex(tok + 1, ntok - 1, buf);
		else
			len = -1;
		if (len < 0) {
			fprintf(stderr, "udpperf: %s:%u: bad request line\n", path, lineno);
			exit(2);
		}
		reqs[n].pkt = malloc((size_t)len);
		if (!reqs[n].pkt)
			die("%s", "out of memory");
		memcpy(reqs[n].pkt, buf, (size_t)len);
		reqs[n].len = (uint16_t)len;
		reqs[n].kind = kind;
		n++;
	}
	fclose(f);
	if (n == 0)
		die("%s: no requests", path);
	return n;
}

/* ---- statistics ------------------------------------------------------------ */

static uint64_t hist_fine[FINE_US];
static uint64_t hist_coarse[COARSE_N];
static uint64_t hist_over, lat_count, lat_max_ns;

static void record_latency(uint64_t ns)
{
	uint64_t us = ns / 1000;
	if (us < FINE_US)
		hist_fine[us]++;
	else if (us / COARSE_US < COARSE_N)
		hist_coarse[us / COARSE_US]++;
	else
		hist_over++;
	lat_count++;
	if (ns > lat_max_ns)
		lat_max_ns = ns;
}

/* Nearest-rank percentile in microseconds (a bucket's lower edge). */
static double percentile(double p)
{
	if (lat_count == 0)
		return 0;
	uint64_t rank = (uint64_t)(p / 100.0 * (double)lat_count + 0.999999);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (uint64_t i = 0; i < FINE_US; i++)
		if ((seen += hist_fine[i]) >= rank)
			return (double)i;
	for (uint64_t i = 0; i < COARSE_N; i++)
		if ((seen += hist_coarse[i]) >= rank)
			return (double)(i * COARSE_US);
	return (double)lat_max_ns / 1000.0;
}

/* ---- the run --------------------------------------------------------------- */

struct run {
	struct request *reqs;
	size_t n_reqs, next_req;
	struct sock *socks;
	unsigned n_socks;
	unsigned depth; /* outstanding per socket */
	uint64_t timeout_ns;
	uint64_t sent, answered, answered_in_window, lost, stray, send_errors;
	uint64_t status[257]; /* DNS rcode (0..15) or CDSR status (0..255); [256]: malformed */
	struct mix mix[MIX_MAX];
	unsigned n_mix;
	uint64_t mix_other; /* answers past MIX_MAX distinct pairs */
	enum kind kind;     /* of the first request: how answers are read */
	uint64_t salt;      /* CDSR nonce = sequence ^ salt (high 32 bits only) */
	uint64_t count;     /* --count: no more requests than this in all; 0: unbounded */
	uint8_t bufs[BATCH][MAX_PKT];
	uint8_t rbufs[BATCH][RECV_MAX];
};

/* Declares requests outstanding longer than the timeout lost, oldest first. */
static void expire(struct run *r, struct sock *s, uint64_t now)
{
	while (s->tail < s->head) {
		struct slot *sl = &s->slots[s->tail & (SLOTS - 1)];
		if (sl->sent_ns != 0 && sl->seq == s->tail) {
			if (now - sl->sent_ns < r->timeout_ns)
				return;
			sl->sent_ns = 0;
			s->inflight--;
			r->lost++;
		}
		s->tail++;
	}
}

/* Sends up to max requests on s; returns how many went out. */
static unsigned send_batch(struct run *r, struct sock *s, unsigned max)
{
	if (max > BATCH)
		max = BATCH;
	if (r->count != 0 && max > r->count - r->sent)
		max = (unsigned)(r->count - r->sent);
	if (max > r->depth - s->inflight)
		max = r->depth - s->inflight;
	/* a seq is reused only after its slot's previous use is settled */
	if (max > SLOTS - (s->head - s->tail))
		max = (unsigned)(SLOTS - (s->head - s->tail));
	if (max == 0)
		return 0;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t now = now_ns();
	for (unsigned i = 0; i < max; i++) {
		const struct request *q = &r->reqs[r->next_req];
		r->next_req = r->next_req + 1 == r->n_reqs ? 0 : r->next_req + 1;
		uint8_t *b = r->bufs[i];
		memcpy(b, q->pkt, q->len);
		uint64_t seq = s->head + i;
		if (q->kind == K_CDSR) {
			/* nonce: the sequence, salted so that answers from an earlier
			 * run are not taken for this one's */
			uint64_t nonce = seq ^ r->salt;
			for (int k = 0; k < 8; k++)
				b[6 + k] = (uint8_t)(nonce >> (56 - 8 * k));
		} else {
			put16(b, (unsigned)(seq & 0xffff));
		}
		iov[i] = (struct iovec){b, q->len};
		msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	int k = sendmmsg(s->fd, msgs, max, MSG_DONTWAIT);
	if (k <= 0) {
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			r->send_errors++;
		/* the requests not sent are taken again next time */
		r->next_req = (r->next_req + r->n_reqs - max % r->n_reqs) % r->n_reqs;
		return 0;
	}
	r->next_req = (r->next_req + r->n_reqs - (max - (unsigned)k) % r->n_reqs) % r->n_reqs;
	for (int i = 0; i < k; i++) {
		struct slot *sl = &s->slots[(s->head + (uint64_t)i) & (SLOTS - 1)];
		sl->sent_ns = now;
		sl->seq = s->head + (uint64_t)i;
	}
	s->head += (uint64_t)k;
	s->inflight += (unsigned)k;
	r->sent += (uint64_t)k;
	return (unsigned)k;
}

/* Skips a DNS name at *p (labels or a compression pointer). */
static bool skip_name(const uint8_t *b, size_t len, size_t *p)
{
	while (*p < len) {
		uint8_t l = b[*p];
		if ((l & 0xc0) == 0xc0) {
			*p += 2;
			return *p <= len;
		}
		if (l & 0xc0)
			return false;
		*p += 1u + l;
		if (l == 0)
			return true;
	}
	return false;
}

/* The first A or AAAA record of a DNS answer's answer section. */
static void dns_server(const uint8_t *b, size_t len, struct mix *m)
{
	unsigned qd = (unsigned)b[4] << 8 | b[5], an = (unsigned)b[6] << 8 | b[7];
	size_t p = 12;
	for (unsigned i = 0; i < qd; i++) {
		if (!skip_name(b, len, &p) || (p += 4) > len)
			return;
	}
	for (unsigned i = 0; i < an; i++) {
		if (!skip_name(b, len, &p) || p + 10 > len)
			return;
		unsigned type = (unsigned)b[p] << 8 | b[p + 1];
		size_t rdlen = (size_t)b[p + 8] << 8 | b[p + 9];
		p += 10;
		if (p + rdlen > len)
			return;
		if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
			m->family = type == 1 ? 4 : 6;
			memcpy(m->addr, b + p, rdlen);
			return;
		}
		p += rdlen;
	}
}

/* Tallies what an answer said: its branch (CDSR) and server. */
static void tally(struct run *r, const uint8_t *b, size_t len)
{
	struct mix m = {0};
	if (r->kind == K_CDSR) {
		if (b[14] == 0 && len >= 34) {
			m.branch = b[24];
			if (b[27] == 4 || (b[27] == 6 && len >= 46)) {
				m.family = b[27];
				memcpy(m.addr, b + 30, b[27] == 4 ? 4 : 16);
			}
		}
	} else {
		dns_server(b, len, &m);
	}
	for (unsigned i = 0; i < r->n_mix; i++) {
		struct mix *e = &r->mix[i];
		if (e->branch == m.branch && e->family == m.family &&
		    memcmp(e->addr, m.addr, sizeof(m.addr)) == 0) {
			e->count++;
			return;
		}
	}
	if (r->n_mix == MIX_MAX) {
		r->mix_other++;
		return;
	}
	m.count = 1;
	r->mix[r->n_mix++] = m;
}

static void take_answer(struct run *r, struct sock *s, const uint8_t *b, size_t len, uint64_t now,
                        bool in_window)
{
	uint64_t seq;
	unsigned status;
	if (r->kind == K_CDSR) {
		if (len < 16 || memcmp(b, "CDSR", 4) != 0 || !(b[5] & 0x80)) {
			r->stray++;
			return;
		}
		uint64_t nonce = 0;
		for (int k = 0; k < 8; k++)
			nonce = nonce << 8 | b[6 + k];
		seq = nonce ^ r->salt;
		status = b[14];
	} else {
		if (len < 12 || !(b[2] & 0x80)) {
			r->stray++;
			return;
		}
		unsigned id = (unsigned)b[0] << 8 | b[1];
		/* the outstanding sequence with this ID: within SLOTS of head */
		seq = s->head - ((s->head - id) & 0xffff);
		if (((s->head - id) & 0xffff) == 0)
			seq = s->head - SLOTS;
		status = b[3] & 0x0f;
	}
	struct slot *sl = &s->slots[seq & (SLOTS - 1)];
	if (sl->sent_ns == 0 || sl->seq != seq) {
		r->stray++; /* late (already lost), duplicate or foreign */
		return;
	}
	record_latency(now - sl->sent_ns);
	sl->sent_ns = 0;
	s->inflight--;
	r->answered++;
	if (in_window)
		r->answered_in_window++;
	r->status[status]++;
	tally(r, b, len);
}

static void receive(struct run *r, struct sock *s, bool in_window)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	for (int round = 0; round < 16; round++) {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){r->rbufs[i], RECV_MAX};
			msgs[i] =
			    (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		int n = recvmmsg(s->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		uint64_t now = now_ns();
		for (int i = 0; i < n; i++)
			take_answer(r, s, r->rbufs[i], msgs[i].msg_len, now, in_window);
		if (n < BATCH)
			return;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: udpperf [options] -f SPEC ADDR PORT\n"
	                "  -f SPEC        request file (lines: dns NAME [TYPE] [ecs=A/L] [rd] |\n"
	                "                 cdsr URL [pad=N] [hints] [family=4|6] | hex BYTES)\n"
	                "  -b ADDR        source address of every socket [any]\n"
	                "  -s N           sockets (distinct source ports) [8]\n"
	                "  -q N           outstanding requests per socket [64]\n"
	                "  -d, --duration S   seconds of sending [10]\n"
	                "  -r, --rate QPS     fixed offered rate in all; 0 = saturate [0]\n"
	                "  -t, --timeout S    an answer later than this is lost [1]\n"
	                "  -n, --count N      stop sending after N requests; 0 = no limit [0]\n"
	                "  --dump         print the requests in hex and exit\n");
	exit(2);
}

static double num_arg(const char *s, double lo, double hi)
{
	char *end;
	double v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || !(v >= lo && v <= hi))
		die("bad number %s", s);
	return v;
}

int main(int argc, char **argv)
{
	const char *spec = NULL, *bind_addr = NULL;
	unsigned n_socks = 8, depth = 64;
	double duration = 10, rate = 0, timeout = 1;
	uint64_t count = 0; /* requests to send in all; 0: as many as the duration allows */
	bool dump = false;
	const char *pos[2];
	int n_pos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE() (v ? (i++, v) : (usage(), ""))
		if (strcmp(a, "-f") == 0)
			spec = TAKE();
		else if (strcmp(a, "-b") == 0)
			bind_addr = TAKE();
		else if (strcmp(a, "-s") == 0)
			n_socks = (unsigned)num_arg(TAKE(), 1, MAX_SOCKETS);
		else if (strcmp(a, "-q") == 0)
			depth = (unsigned)num_arg(TAKE(), 1, SLOTS / 2);
		else if (strcmp(a, "-d") == 0 || strcmp(a, "--duration") == 0)
			duration = num_arg(TAKE(), 0.01, 3600);
		else if (strcmp(a, "-r") == 0 || strcmp(a, "--rate") == 0)
			rate = num_arg(TAKE(), 0, 1e8);
		else if (strcmp(a, "-t") == 0 || strcmp(a, "--timeout") == 0)
			timeout = num_arg(TAKE(), 0.001, 60);
		else if (strcmp(a, "-n") == 0 || strcmp(a, "--count") == 0)
			count = (uint64_t)num_arg(TAKE(), 0, 1e12);
		else if (strcmp(a, "--dump") == 0)
			dump = true;
		else if (a[0] == '-' && a[1] != '\0')
			usage();
		else if (n_pos < 2)
			pos[n_pos++] = a;
		else
			usage();
#undef TAKE
	}
	if (!spec)
		usage();
	static struct request reqs[MAX_REQUESTS];
	size_t n_reqs = load_requests(spec, reqs);
	for (size_t i = 1; i < n_reqs; i++)
		if (reqs[i].kind != reqs[0].kind)
			die("%s: DNS and CDSR requests cannot be mixed", spec);
	if (dump) {
		for (size_t i = 0; i < n_reqs; i++) {
			for (size_t k = 0; k < reqs[i].len; k++)
				printf("%02x", reqs[i].pkt[k]);
			printf("\n");
		}
		return 0;
	}
	if (n_pos != 2)
		usage();

	struct sockaddr_storage dst = {0}, src = {0};
	socklen_t dst_len, src_len = 0;
	unsigned port = (unsigned)num_arg(pos[1], 1, 65535);
	struct sockaddr_in *d4 = (struct sockaddr_in *)&dst;
	struct sockaddr_in6 *d6 = (struct sockaddr_in6 *)&dst;
	if (inet_pton(AF_INET, pos[0], &d4->sin_addr) == 1) {
		d4->sin_family = AF_INET;
		d4->sin_port = htons((uint16_t)port);
		dst_len = sizeof(*d4);
	} else if (inet_pton(AF_INET6, pos[0], &d6->sin6_addr) == 1) {
		d6->sin6_family = AF_INET6;
		d6->sin6_port = htons((uint16_t)port);
		dst_len = sizeof(*d6);
	} else {
		die("bad address %s", pos[0]);
	}
	if (bind_addr) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&src;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&src;
		if (dst.ss_family == AF_INET && inet_pton(AF_INET, bind_addr, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			src_len = sizeof(*s4);
		} else if (dst.ss_family == AF_INET6 &&
		           inet_pton(AF_INET6, bind_addr, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			src_len = sizeof(*s6);
		} else {
			die("bad source address %s (or not of the target's family)", bind_addr);
		}
	}

	static struct run r;
	r.reqs = reqs;
	r.n_reqs = n_reqs;
	r.n_socks = n_socks;
	r.depth = depth;
	r.count = count;
	r.timeout_ns = (uint64_t)(timeout * 1e9);
	r.kind = reqs[0].kind;
	r.salt = (now_ns() ^ (uint64_t)getpid() * 0x9e3779b97f4a7c15u) & 0xffffffff00000000u;
	r.socks = calloc(n_socks, sizeof(*r.socks));
	struct pollfd *pfd = calloc(n_socks, sizeof(*pfd));
	if (!r.socks || !pfd)
		die("%s", "out of memory");
	for (unsigned i = 0; i < n_socks; i++) {
		struct sock *s = &r.socks[i];
		s->slots = calloc(SLOTS, sizeof(*s->slots));
		if (!s->slots)
			die("%s", "out of memory");
		s->fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s->fd < 0)
			die("socket: %s", strerror(errno));
		int size = 4 << 20;
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		if (src_len && bind(s->fd, (struct sockaddr *)&src, src_len) != 0)
			die("bind: %s", strerror(errno));
		if (connect(s->fd, (struct sockaddr *)&dst, dst_len) != 0)
			die("connect: %s", strerror(errno));
		pfd[i] = (struct pollfd){.fd = s->fd, .events = POLLIN};
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	const uint64_t start = now_ns();
	const uint64_t window_ns = (uint64_t)(duration * 1e9);
	const uint64_t end = start + window_ns;
	const uint64_t hard_end = end + r.timeout_ns;
	uint64_t now = start;
	unsigned rr = 0; /* fixed rate: the socket to send on next */
	uint64_t sent_end_ns = 0;

	/* sending phase: until the end of the window (or a signal) */
	while (!stop_flag && (now = now_ns()) < end && (count == 0 || r.sent < count)) {
		for (unsigned i = 0; i < n_socks; i++)
			expire(&r, &r.socks[i], now);
		int wait_us;
		if (rate <= 0) {
			for (unsigned i = 0; i < n_socks; i++)
				while (send_batch(&r, &r.socks[i], BATCH) == BATCH)
					;
			wait_us = 1000;
		} else {
			uint64_t due = (uint64_t)((double)(now - start) * rate / 1e9) + 1;
			/* every socket full: what is due later is skipped, as dnsperf would delay
			 */
			for (unsigned tries = 0; r.sent < due && tries < n_socks; tries++) {
				uint64_t want = due - r.sent;
				unsigned k = send_batch(&r, &r.socks[rr],
				                        want > BATCH ? BATCH : (unsigned)want);
				rr = rr + 1 == n_socks ? 0 : rr + 1;
				if (k)
					tries = 0;
			}
			double next_ns = (double)(r.sent) * 1e9 / rate - (double)(now_ns() - start);
			wait_us = next_ns <= 0 ? 0 : (int)(next_ns / 1000) + 1;
			if (wait_us > 1000)
				wait_us = 1000;
		}
		struct timespec ts = {0, (long)wait_us * 1000};
		int n = ppoll(pfd, n_socks, &ts, NULL);
		if (n > 0) {
			bool in_window = now_ns() < end;
			for (unsigned i = 0; i < n_socks; i++)
				if (pfd[i].revents & POLLIN)
					receive(&r, &r.socks[i], in_window);
		}
	}
	sent_end_ns = now_ns();
	double window_s = (double)(sent_end_ns - start) / 1e9;
	/* draining phase: late answers until every request is settled or timed out */
	for (;;) {
		now = now_ns();
		uint64_t inflight = 0;
		for (unsigned i = 0; i < n_socks; i++) {
			expire(&r, &r.socks[i], now);
			inflight += r.socks[i].inflight;
		}
		if (inflight == 0 || now >= hard_end)
			break;
		struct timespec ts = {0, 10 * 1000 * 1000};
		int n = ppoll(pfd, n_socks, &ts, NULL);
		if (n > 0)
			for (unsigned i = 0; i < n_socks; i++)
				if (pfd[i].revents & POLLIN)
					receive(&r, &r.socks[i], false);
	}
	for (unsigned i = 0; i < n_socks; i++) {
		struct sock *s = &r.socks[i];
		r.lost += s->inflight; /* only after a signal cut the drain short */
		close(s->fd);
		free(s->slots);
	}

	printf("target %s %u\n", pos[0], port);
	printf("kind %s\n", r.kind == K_CDSR ? "cdsr" : "dns");
	printf("mode %s\n", rate > 0 ? "rate" : "saturate");
	if (rate > 0)
		printf("offered_per_s %.0f\n", rate);
	printf("sockets %u\n", n_socks);
	printf("depth %u\n", depth);
	printf("requests %zu\n", n_reqs);
	printf("duration_s %.3f\n", window_s);
	printf("sent %" PRIu64 "\n", r.sent);
	printf("answered %" PRIu64 "\n", r.answered);
	printf("lost %" PRIu64 "\n", r.lost);
	printf("stray %" PRIu64 "\n", r.stray);
	if (r.send_errors)
		printf("send_errors %" PRIu64 "\n", r.send_errors);
	printf("sent_per_s %.1f\n", (double)r.sent / window_s);
	printf("answers_per_s %.1f\n", (double)r.answered_in_window / window_s);
	printf("latency_us p50 %.0f p90 %.0f p99 %.0f p999 %.0f max %.0f\n", percentile(50),
	       percentile(90), percentile(99), percentile(99.9), (double)lat_max_ns / 1000.0);
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		printf("self_cpu_s user %.3f sys %.3f\n",
		       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
		       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	static const char *rcodes[16] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
	                                 "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
	                                 "NXRRSET", "NOTAUTH", "NOTZONE"};
	static const char *statuses[10] = {"ok",
	                                   "bad_request",
	                                   "unsupported_version",
	                                   "no_such_content",
	                                   "not_authoritative",
	                                   "no_server",
	                                   "signature_required",
	                                   "too_small",
	                                   "rate_limited",
	                                   "server_error"};
	for (unsigned i = 0; i < 256; i++) {
		if (!r.status[i])
			continue;
		const char *name =
		    r.kind == K_CDSR ? (i < 10 ? statuses[i] : NULL) : (i < 16 ? rcodes[i] : NULL);
		if (name)
			printf("%s %s %" PRIu64 "\n", r.kind == K_CDSR ? "status" : "rcode", name,
			       r.status[i]);
		else
			printf("%s %u %" PRIu64 "\n", r.kind == K_CDSR ? "status" : "rcode", i,
			       r.status[i]);
	}
	static const char *branches[4] = {"-", "PRIMARY", "PEER", "OUTSIDE"};
	for (unsigned i = 0; i < r.n_mix; i++) {
		const struct mix *m = &r.mix[i];
		char addr[INET6_ADDRSTRLEN] = "none";
		if (m->family)
			inet_ntop(m->family == 4 ? AF_INET : AF_INET6, m->addr, addr, sizeof(addr));
		if (m->branch < 4)
			printf("mix %s %s %" PRIu64 "\n", branches[m->branch], addr, m->count);
		else
			printf("mix %u %s %" PRIu64 "\n", m->branch, addr, m->count);
	}
	if (r.mix_other)
		printf("mix other other %" PRIu64 "\n", r.mix_other);
	return r.answered > 0 ? 0 : 1;
}
