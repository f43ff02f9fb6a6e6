/* udp: the one-packet request/answer loop the DNS and CDSR roles share —
 * recvmmsg a batch, answer each datagram, sendmmsg the answers. */
#ifndef PC_NODE_UDP_H
#define PC_NODE_UDP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "node/node.h"

enum { PCD_UDP_BATCH = 32, PCD_UDP_MAX = 4096 };

/* Answers one datagram into out (out_size bytes); returns the answer's
 * length, 0 to send nothing. */
typedef size_t (*pcd_udp_answer_fn)(void *ctx, struct pcd_generation *gen, const uint8_t *in,
                                    size_t len, const pc_addr *source, uint64_t now_ms,
                                    uint8_t *out, size_t out_size);

/* A worker's buffers for one role (large: keep it in the role's state). */
struct pcd_udp_batch {
	struct mmsghdr in_msgs[PCD_UDP_BATCH], out_msgs[PCD_UDP_BATCH];
	struct iovec in_iov[PCD_UDP_BATCH], out_iov[PCD_UDP_BATCH];
	struct sockaddr_storage from[PCD_UDP_BATCH];
	uint8_t in[PCD_UDP_BATCH][PCD_UDP_MAX];
	uint8_t out[PCD_UDP_BATCH][PCD_UDP_MAX];
};

/* Serves what is waiting on fd, a few batches at most, then returns so the
 * worker's other sockets get a turn. received counts datagrams, oversize
 * those larger than PCD_UDP_MAX (dropped). */
void pcd_udp_serve(int fd, struct pcd_udp_batch *batch, struct pcd_generation *gen,
                   pcd_udp_answer_fn answer, void *ctx, _Atomic uint64_t *received,
                   _Atomic uint64_t *oversize);

#endif
