/* cdsrgun: a CDSR load generator on AF_XDP (libknot's XDP API, as kxdpgun
 * is for DNS), for bench/xdp.sh: one socket thread (bench/udpperf) cannot
 * offer a CDSR responder over XDP more than ~23 k requests/s. One AF_XDP
 * socket on queue 0 of an interface sends CDSR requests (lib/proto's
 * codec) at a fixed rate or as fast as frames free up, from a range of
 * source ports, and reads the answers on the same socket (libknot's
 * program hands it UDP to ports >= 2000, as kxdpgun's does), counting them
 * by status, branch and server. Each request carries its sequence number
 * as the nonce, so an answer is counted once, and only when its nonce was
 * sent.
 *
 *   cdsrgun -i IFACE -s SRC_IP -d DST_IP -m DST_MAC [-p PORT] [-t SECS]
 *           [-Q QPS] [-P PAD] [-H] [-b BATCH] URL
 *
 * Requests go in bursts of -b (10) with a sleep between, as kxdpgun sends
 * them (see the loop), so a server sees the same load shape from both.
 * -Q 0 saturates: bursts back to back, as frames free up. Prints "key value" lines
 * (sent, answered, lost, answers_per_s, status NAME N, mix BRANCH SERVER
 * N, as bench/udpperf does) and exits 1 when nothing was answered. Needs
 * CAP_NET_ADMIN and CAP_NET_RAW (AF_XDP, the XDP program). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libknot/error.h>
#include <libknot/xdp/eth.h>
#include <libknot/xdp/xdp.h>

#include "lib/proto/cdsr.h"

#define LOCAL_PORT_MIN 2000 /* the program passes UDP to ports >= this to the socket */
#define BATCH_MAX      64
#define MIX_MAX        16

struct mix {
	uint8_t branch, family;
	uint8_t addr[16];
	uint64_t count;
};

struct tally {
	uint64_t sent, answered, answered_in_window, stray, duplicate, unparsed, send_fail;
	uint64_t status[256];
	struct mix mix[MIX_MAX];
	unsigned n_mix;
	uint64_t mix_other;
	uint8_t *seen; /* one bit per nonce sent */
	uint64_t seen_bits;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_mac(const char *text, uint8_t mac[6])
{
	unsigned b[6];
	if (sscanf(text, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int iface_mac(const char *iface, uint8_t mac[6])
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	int rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (rc != 0)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

static void count_mix(struct tally *t, const struct pc_cdsr_response *resp)
{
	size_t alen = resp->server.family == PC_AF_INET6 ? 16 : 4;
	for (unsigned i = 0; i < t->n_mix; i++) {
		struct mix *m = &t->mix[i];
		if (m->branch == resp->branch && m->family == resp->server.family &&
		    memcmp(m->addr, resp->server.bytes, alen) == 0) {
			m->count++;
			return;
		}
	}
	if (t->n_mix == MIX_MAX) {
		t->mix_other++;
		return;
	}
	struct mix *m = &t->mix[t->n_mix++];
	*m = (struct mix){.branch = resp->branch, .family = resp->server.family, .count = 1};
	memcpy(m->addr, resp->server.bytes, alen);
}

static void receive_one(struct tally *t, const struct iovec *payload, bool in_window)
{
	struct pc_cdsr_response resp;
	if (pc_cdsr_response_parse(payload->iov_base, payload->iov_len, &resp) != 0) {
		t->unparsed++;
		return;
	}
	if (resp.nonce >= t->seen_bits || resp.nonce >= t->sent) {
		t->stray++;
		return;
	}
	uint8_t bit = (uint8_t)(1u << (resp.nonce % 8));
	if (t->seen[resp.nonce / 8] & bit) {
		t->duplicate++;
		return;
	}
	t->seen[resp.nonce / 8] |= bit;
	t->answered++;
	if (in_window)
		t->answered_in_window++;
	t->status[resp.status]++;
	if (resp.status == PC_CDSR_OK)
		count_mix(t, &resp);
}

static void drain(knot_xdp_socket_t *xsk, struct pollfd *pfd, struct tally *t, bool in_window)
{
	knot_xdp_msg_t in[BATCH_MAX];
	for (;;) {
		if (poll(pfd, 1, 0) <= 0 || !(pfd->revents & POLLIN))
			return;
		uint32_t n = 0;
		if (knot_xdp_recv(xsk, in, BATCH_MAX, &n, NULL) != KNOT_EOK || n == 0)
			return;
		for (uint32_t i = 0; i < n; i++)
			receive_one(t, &in[i].payload, in_window);
		knot_xdp_recv_finish(xsk, in, n);
	}
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: cdsrgun -i IFACE -s SRC_IP -d DST_IP -m DST_MAC [-p PORT] [-t SECS]\n"
	        "               [-Q QPS (0: saturate)] [-P PAD] [-H] [-b BATCH] URL\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *iface = NULL, *src = NULL, *dst = NULL, *dst_mac_text = NULL;
	unsigned port = PC_CDSR_PORT, batch = 10; /* kxdpgun's default burst */
	double secs = 5, qps = 100000;
	size_t pad = PC_CDSR_PAD_MIN;
	bool hints = false;
	int opt;
	while ((opt = getopt(argc, argv, "i:s:d:m:p:t:Q:P:Hb:")) != -1) {
		switch (opt) {
		case 'i':
			iface = optarg;
			break;
		case 's':
			src = optarg;
			break;
		case 'd':
			dst = optarg;
			break;
		case 'm':
			dst_mac_text = optarg;
			break;
		case 'p':
			port = (unsigned)atoi(optarg);
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'Q':
			qps = atof(optarg);
			break;
		case 'P':
			pad = (size_t)atoi(optarg);
			break;
		case 'H':
			hints = true;
			break;
		case 'b':
			batch = (unsigned)atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc || iface == NULL || src == NULL || dst == NULL ||
	    dst_mac_text == NULL || port == 0 || port > 65535 || secs <= 0 || qps < 0 ||
	    batch == 0 || batch > BATCH_MAX)
		usage();
	const char *url = argv[optind];

	struct sockaddr_in6 local, target; /* libknot takes IPv4 in sockaddr_in6's room */
	memset(&local, 0, sizeof(local));
	memset(&target, 0, sizeof(target));
	struct sockaddr_in *l4 = (struct sockaddr_in *)&local, *t4 = (struct sockaddr_in *)&target;
	l4->sin_family = t4->sin_family = AF_INET;
	if (inet_pton(AF_INET, src, &l4->sin_addr) != 1 ||
	    inet_pton(AF_INET, dst, &t4->sin_addr) != 1)
		usage();
	t4->sin_port = htons((uint16_t)port);
	uint8_t local_mac[6], target_mac[6];
	if (parse_mac(dst_mac_text, target_mac) != 0)
		usage();
	if (iface_mac(iface, local_mac) != 0) {
		fprintf(stderr, "cdsrgun: no MAC address for %s: %s\n", iface, strerror(errno));
		return 2;
	}

	uint8_t request[PC_CDSR_REQUEST_MAX];
	struct pc_cdsr_request req = {.version = PC_CDSR_VERSION,
	                              .flags = hints ? PC_CDSR_F_HINTS : 0,
	                              .url = url,
	                              .url_len = (uint16_t)strlen(url),
	                              .family = PC_AF_INET};
	int req_len = pc_cdsr_request_write(&req, pad, request, sizeof(request));
	if (req_len <= 0) {
		fprintf(stderr, "cdsrgun: cannot write a request for %s\n", url);
		return 2;
	}

	knot_xdp_socket_t *xsk = NULL;
	int rc = knot_xdp_init(&xsk, iface, 0, KNOT_XDP_FILTER_UDP | KNOT_XDP_FILTER_PASS,
	                       LOCAL_PORT_MIN, 0, KNOT_XDP_LOAD_BPF_ALWAYS, NULL);
	if (rc != KNOT_EOK) {
		fprintf(stderr, "cdsrgun: AF_XDP on %s queue 0: %s\n", iface, knot_strerror(rc));
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	struct tally t;
	memset(&t, 0, sizeof(t));
	/* Room for every nonce the run can send: at most ~the frames a second
	 * the socket can take, bounded generously. */
	t.seen_bits = (uint64_t)(secs * 20e6) + 1024;
	t.seen = calloc(t.seen_bits / 8 + 1, 1);
	if (t.seen == NULL)
		return 2;

	struct pollfd pfd = {knot_xdp_socket_fd(xsk), POLLIN, 0};
	knot_xdp_msg_t out[BATCH_MAX];
	uint64_t start = now_ns(), window = (uint64_t)(secs * 1e9), end = start + window;
	uint32_t next_port = LOCAL_PORT_MIN;
	uint64_t now = start;
	while (!stop && (now = now_ns()) < end && t.sent + batch < t.seen_bits) {
		/* kxdpgun's shape (knot 3.2's src/utils/kxdpgun/main.c): every
		 * turn sends one burst of `batch` requests (its --batch, 10 by
		 * default), drains the answers, then sleeps for as long as it is
		 * ahead of the rate. So a server sees bursts of `batch` at the
		 * rate / batch per second, not requests one by one as they fall
		 * due: the same wake-ups per answer as under kxdpgun. */
		knot_xdp_send_prepare(xsk);
		uint32_t n = 0;
		for (; n < batch; n++) {
			if (knot_xdp_send_alloc(xsk, 0, &out[n]) != KNOT_EOK)
				break;
			knot_xdp_msg_t *m = &out[n];
			memcpy(&m->ip_from, &local, sizeof(local));
			memcpy(&m->ip_to, &target, sizeof(target));
			((struct sockaddr_in *)&m->ip_from)->sin_port = htons((uint16_t)next_port);
			next_port = next_port == 65535 ? LOCAL_PORT_MIN : next_port + 1;
			memcpy(m->eth_from, local_mac, 6);
			memcpy(m->eth_to, target_mac, 6);
			uint64_t nonce = t.sent + n;
			for (int k = 0; k < 8; k++)
				request[PC_CDSR_OFF_NONCE + k] = (uint8_t)(nonce >> (56 - 8 * k));
			memcpy(m->payload.iov_base, request, (size_t)req_len);
			m->payload.iov_len = (size_t)req_len;
		}
		uint32_t sent = 0;
		if (n > 0 && knot_xdp_send(xsk, out, n, &sent) != KNOT_EOK)
			t.send_fail += n;
		else
			t.sent += sent;
		(void)knot_xdp_send_finish(xsk);
		drain(xsk, &pfd, &t, true);
		if (qps > 0) {
			uint64_t due = start + (uint64_t)((double)t.sent / qps * 1e9);
			uint64_t n2 = now_ns();
			if (due > n2)
				usleep((useconds_t)((due - n2) / 1000));
		}
	}
	uint64_t sent_end = now_ns();
	/* Late answers: up to a second more, or until every request is in. */
	uint64_t drain_end = sent_end + 1000000000u;
	while (!stop && t.answered + t.unparsed < t.sent && now_ns() < drain_end) {
		drain(xsk, &pfd, &t, false);
		(void)knot_xdp_send_finish(xsk);
		usleep(1000);
	}
	knot_xdp_deinit(xsk);

	double window_s = (double)(sent_end - start) / 1e9;
	printf("target %s %u\n", dst, port);
	printf("kind cdsr\n");
	printf("mode %s\n", qps > 0 ? "rate" : "saturate");
	if (qps > 0)
		printf("offered_per_s %.0f\n", qps);
	printf("request_bytes %d\n", req_len);
	printf("duration_s %.3f\n", window_s);
	printf("sent %" PRIu64 "\n", t.sent);
	printf("answered %" PRIu64 "\n", t.answered);
	printf("lost %" PRIu64 "\n", t.sent > t.answered ? t.sent - t.answered : 0);
	printf("stray %" PRIu64 "\n", t.stray + t.duplicate + t.unparsed);
	if (t.send_fail)
		printf("send_errors %" PRIu64 "\n", t.send_fail);
	printf("sent_per_s %.1f\n", (double)t.sent / window_s);
	printf("answers_per_s %.1f\n", (double)t.answered_in_window / window_s);
	for (unsigned i = 0; i < 256; i++)
		if (t.status[i])
			printf("status %s %" PRIu64 "\n", pc_cdsr_status_name(i), t.status[i]);
	static const char *branches[4] = {"-", "PRIMARY", "PEER", "OUTSIDE"};
	for (unsigned i = 0; i < t.n_mix; i++) {
		const struct mix *m = &t.mix[i];
		char addr[INET6_ADDRSTRLEN];
		inet_ntop(m->family == PC_AF_INET6 ? AF_INET6 : AF_INET, m->addr, addr,
		          sizeof(addr));
		if (m->branch < 4)
			printf("mix %s %s %" PRIu64 "\n", branches[m->branch], addr, m->count);
		else
			printf("mix %u %s %" PRIu64 "\n", m->branch, addr, m->count);
	}
	if (t.mix_other)
		printf("mix other other %" PRIu64 "\n", t.mix_other);
	free(t.seen);
	return t.answered > 0 ? 0 : 1;
}
