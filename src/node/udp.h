/* udp: what the UDP roles (DNS, CDSR, ICP) share — their sockets' one open
 * loop (bind, log) and the one-packet request/answer loop: recvmmsg a batch,
 * answer each datagram, sendmmsg the answers. A socket is served either by
 * a thread of its own that blocks in recvmmsg (DNS and CDSR: gdnsd's model,
 * one system call per wake-up fewer than epoll_wait then recvmmsg), or by
 * its worker's epoll loop (ICP). */
#ifndef PC_NODE_UDP_H
#define PC_NODE_UDP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/proto/rrl.h"
#include "node/conn.h"
#include "node/node.h"

enum { PCD_UDP_BATCH = 32, PCD_UDP_MAX = 4096, PCD_UDP_MAX_LISTEN = 16 };

struct pcd_udp_thread;

/* One UDP socket of a role on one worker. */
struct pcd_udp_socket {
	struct pcd_io io;
	void *ctx;                     /* epoll: the role's per-worker state */
	struct pcd_udp_thread *thread; /* NULL: served by the worker's epoll loop */
};

/* A role's UDP sockets on one worker, in its per-worker state. */
struct pcd_udp_sockets {
	struct pcd_udp_socket items[PCD_UDP_MAX_LISTEN];
	unsigned n;
};

/* Answers one datagram into out (out_size bytes); returns the answer's
 * length, 0 to send nothing. */
typedef size_t (*pcd_udp_answer_fn)(void *ctx, struct pcd_generation *gen, const uint8_t *in,
                                    size_t len, const pc_addr *source, uint64_t now_ms,
                                    uint8_t *out, size_t out_size);

/* What one socket's thread answers with: answer(call, ...) after
 * prepare(call, gen) once per batch (what call needs of the batch's
 * generation: its settings and state; NULL: nothing), counting datagrams
 * in received and those over PCD_UDP_MAX (dropped) in oversize. The
 * thread is the only writer of what call counts into: a role keeps a copy
 * of its counters per thread (struct pcd_role's counter_copies). */
struct pcd_udp_lane {
	void *call;
	_Atomic uint64_t *received, *oversize;
};

/* What pcd_udp_listen_all opens for a role on one worker: a thread per
 * socket when answer is set (socket i answers with lanes[i]), else
 * sockets in the worker's epoll set, with on_event and ctx. */
struct pcd_udp_listen {
	const struct pcd_room *room;
	struct pcd_worker *worker;
	void (*on_event)(struct pcd_io *io, struct pcd_worker *worker, uint32_t events);
	void *ctx; /* put in each pcd_udp_socket */
	pcd_udp_answer_fn answer;
	void (*prepare)(void *call, struct pcd_generation *gen);
	const struct pcd_udp_lane *lanes; /* one per address */
	/* NULL, or an engine that also listens on TCP at each address (DNS:
	 * one port, both transports). Such a role logs its own event names,
	 * "<role>-listening" (transports=udp,tcp) and "<role>-bind-failed",
	 * without role=; a UDP-only one "listening" (role=, transports=udp) and
	 * "bind-failed". */
	struct pcd_conn_engine *tcp;
};

/* Binds a socket on each of addrs:port and starts its thread or watches it
 * (and a TCP listener, see above), logging each on worker 0 and any
 * failure. Stops at the first failure; what was opened stays in socks for
 * pcd_udp_close_all. Returns 0 or -errno. */
int pcd_udp_listen_all(struct pcd_udp_sockets *socks, const struct pcd_udp_listen *how,
                       const pc_addr *addrs, unsigned n, uint16_t port);
/* Stops the sockets' threads (woken by shutdown(2) at once), waits for
 * them and closes the sockets. On the
 * main thread, not as an RCU reader; the lanes must live until then. */
void pcd_udp_close_all(struct pcd_udp_sockets *socks);

/* For a UDP role's generation_new and generation_free: a response rate
 * limit of params with a fresh random hash key (a new key per generation
 * keeps the buckets unguessable). Returns 0 or -ENOMEM. */
int pcd_udp_rrl_new(struct pc_rrl_params params, void **state);
void pcd_udp_rrl_free(void *state);

/* A worker's buffers for one role (large: keep it in the role's state). */
struct pcd_udp_batch {
	struct mmsghdr in_msgs[PCD_UDP_BATCH], out_msgs[PCD_UDP_BATCH];
	struct iovec in_iov[PCD_UDP_BATCH], out_iov[PCD_UDP_BATCH];
	struct sockaddr_storage from[PCD_UDP_BATCH];
	uint8_t in[PCD_UDP_BATCH][PCD_UDP_MAX];
	uint8_t out[PCD_UDP_BATCH][PCD_UDP_MAX];
};

/* For a socket in a worker's epoll set: serves what is waiting on fd, a
 * few batches at most, then returns so the worker's other sockets get a
 * turn. received counts datagrams, oversize
 * those larger than PCD_UDP_MAX (dropped). */
void pcd_udp_serve(int fd, struct pcd_udp_batch *batch, struct pcd_generation *gen,
                   pcd_udp_answer_fn answer, void *ctx, _Atomic uint64_t *received,
                   _Atomic uint64_t *oversize);

#endif
