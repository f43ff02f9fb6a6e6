#include "node/udp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/base/err.h"
#include "node/log.h"
#include "node/net.h"

/* One address: the UDP socket, then the TCP listener if any. */
static int listen_one(struct pcd_udp_sockets *socks, const struct pcd_udp_listen *how,
                      const pc_addr *addr, uint16_t port)
{
	if (socks->n == PCD_UDP_MAX_LISTEN)
		return -ENOSPC;
	struct pcd_udp_socket *sock = &socks->items[socks->n];
	*sock =
	    (struct pcd_udp_socket){.io = {.fd = -1, .on_event = how->on_event}, .ctx = how->ctx};
	int err = pcd_worker_listen(how->worker, &sock->io, SOCK_DGRAM, addr, port);
	if (err != 0)
		return err;
	socks->n++;
	return how->tcp != NULL ? pcd_conn_listen(how->tcp, addr, port) : 0;
}

int pcd_udp_listen_all(struct pcd_udp_sockets *socks, const struct pcd_udp_listen *how,
                       const pc_addr *addrs, unsigned n, uint16_t port)
{
	const char *role = how->room->role->name;
	char listening[32] = "listening", bind_failed[32] = "bind-failed", role_kv[40] = "";
	if (how->tcp != NULL) {
		snprintf(listening, sizeof(listening), "%s-listening", role);
		snprintf(bind_failed, sizeof(bind_failed), "%s-bind-failed", role);
	} else {
		snprintf(role_kv, sizeof(role_kv), "role=%s ", role);
	}
	for (unsigned i = 0; i < n; i++) {
		char where[80];
		pcd_net_format(&addrs[i], port, where, sizeof(where));
		int err = listen_one(socks, how, &addrs[i], port);
		if (err != 0) {
			pcd_log(PCD_LOG_ERROR, bind_failed, "%slisten=%s error=\"%s\"", role_kv,
			        where, strerror(-err));
			return err;
		}
		if (how->worker->index == 0)
			pcd_log(PCD_LOG_INFO, listening, "%slisten=%s transports=%s", role_kv,
			        where, how->tcp != NULL ? "udp,tcp" : "udp");
	}
	return 0;
}

void pcd_udp_close_all(struct pcd_udp_sockets *socks)
{
	for (unsigned i = 0; i < socks->n; i++)
		close(socks->items[i].io.fd);
	socks->n = 0;
}

/* recvmmsg(2) and sendmmsg(2) through syscall(2): glibc's wrappers are
 * cancellation points, which switch asynchronous cancellation on and off
 * around every call (about 70 instructions per wake-up for the two); no
 * thread of the daemon is ever cancelled. Same arguments, same -1/errno. */
static int recv_batch(int fd, struct mmsghdr *msgs, unsigned n)
{
	return (int)syscall(SYS_recvmmsg, fd, msgs, n, MSG_DONTWAIT, NULL);
}

static int send_batch(int fd, struct mmsghdr *msgs, unsigned n)
{
	return (int)syscall(SYS_sendmmsg, fd, msgs, n, MSG_DONTWAIT);
}

void pcd_udp_serve(int fd, struct pcd_udp_batch *b, struct pcd_generation *gen,
                   pcd_udp_answer_fn answer, void *ctx, _Atomic uint64_t *received,
                   _Atomic uint64_t *oversize)
{
	/* The receive headers are set up once (the state is zeroed at first);
	 * the kernel then changes only msg_namelen, msg_flags and msg_len, and
	 * msg_namelen is reset below for the entries it filled. */
	if (b->in_iov[0].iov_base == NULL) {
		for (int i = 0; i < PCD_UDP_BATCH; i++) {
			b->in_iov[i] = (struct iovec){b->in[i], PCD_UDP_MAX};
			b->in_msgs[i].msg_hdr = (struct msghdr){
			    .msg_name = &b->from[i],
			    .msg_namelen = sizeof(b->from[i]),
			    .msg_iov = &b->in_iov[i],
			    .msg_iovlen = 1,
			};
		}
	}
	for (int round = 0; round < 8; round++) {
		int n = recv_batch(fd, b->in_msgs, PCD_UDP_BATCH);
		if (n <= 0)
			return;
		uint64_t now_ms = pcd_now_ms();
		int n_out = 0;
		for (int i = 0; i < n; i++) {
			PCD_BUMP(*received);
			if (b->in_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				PCD_BUMP(*oversize);
				continue;
			}
			pc_addr source;
			pcd_addr_from_sockaddr(&b->from[i], &source, NULL);
			size_t len = answer(ctx, gen, b->in[i], b->in_msgs[i].msg_len, &source,
			                    now_ms, b->out[n_out], PCD_UDP_MAX);
			if (len == 0)
				continue;
			b->out_iov[n_out] = (struct iovec){b->out[n_out], len};
			b->out_msgs[n_out].msg_hdr = (struct msghdr){
			    .msg_name = &b->from[i],
			    .msg_namelen = b->in_msgs[i].msg_hdr.msg_namelen,
			    .msg_iov = &b->out_iov[n_out],
			    .msg_iovlen = 1,
			};
			n_out++;
		}
		for (int sent = 0; sent < n_out;) {
			int k = send_batch(fd, b->out_msgs + sent, (unsigned)(n_out - sent));
			if (k <= 0)
				break; /* a full socket buffer drops answers, as the kernel would */
			sent += k;
		}
		for (int i = 0; i < n; i++)
			b->in_msgs[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
		if (n < PCD_UDP_BATCH)
			return;
	}
}

int pcd_udp_rrl_new(struct pc_rrl_params params, void **state)
{
	randombytes_buf(params.hash_key, sizeof(params.hash_key));
	return pc_rrl_new(&params, (pc_rrl **)state) == PC_OK ? 0 : -ENOMEM;
}

void pcd_udp_rrl_free(void *state)
{
	pc_rrl_free(state);
}
