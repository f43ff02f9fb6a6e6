#include "node/udp.h"

#include "node/net.h"

void pcd_udp_serve(int fd, struct pcd_udp_batch *b, struct pcd_generation *gen,
                   pcd_udp_answer_fn answer, void *ctx, _Atomic uint64_t *received,
                   _Atomic uint64_t *oversize)
{
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < PCD_UDP_BATCH; i++) {
			b->in_iov[i] = (struct iovec){b->in[i], PCD_UDP_MAX};
			b->in_msgs[i].msg_hdr = (struct msghdr){
			    .msg_name = &b->from[i],
			    .msg_namelen = sizeof(b->from[i]),
			    .msg_iov = &b->in_iov[i],
			    .msg_iovlen = 1,
			};
		}
		int n = recvmmsg(fd, b->in_msgs, PCD_UDP_BATCH, MSG_DONTWAIT, NULL);
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
			int k = sendmmsg(fd, b->out_msgs + sent, (unsigned)(n_out - sent),
			                 MSG_DONTWAIT);
			if (k <= 0)
				break; /* a full socket buffer drops answers, as the kernel would */
			sent += k;
		}
		if (n < PCD_UDP_BATCH)
			return;
	}
}
