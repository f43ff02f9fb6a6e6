/* xdp: the UDP roles' (DNS, CDSR) AF_XDP datapath, over libknot's XDP API
 * and its embedded BPF program (docs/xdp.md). For each `xdp: listen:`
 * entry IFACE@PORT a worker opens one AF_XDP socket on queue <its index>
 * of IFACE, as knotd does; the program hands that socket the queue's UDP
 * datagrams to PORT and passes everything else (TCP, other ports, queues
 * without a socket) to the kernel, where the role's ordinary sockets serve
 * it. Frames are answered by the role's own pcd_udp_answer_fn, the one
 * pcd_udp_serve calls: the protocol, its rate limit and its counters are
 * written once. When the interface, the kernel or the privileges refuse,
 * the role logs "xdp-unavailable" and its sockets serve alone. */
#ifndef PC_NODE_XDP_H
#define PC_NODE_XDP_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/proto/xdp_listen.h"
#include "node/node.h"
#include "node/udp.h"

enum { PCD_XDP_MAX_LISTEN = 4 };

/* A role's XDP counters, in its per-worker state (written by its worker;
 * the role names them in its metrics). */
enum pcd_xdp_counter {
	PCD_XDP_RECEIVED, /* UDP frames the program handed to the role */
	PCD_XDP_ANSWERED, /* answers sent back as frames */
	PCD_XDP_NO_FRAME, /* answers lost: no free transmit frame */
	PCD_XDP__COUNT
};
struct pcd_xdp_counters {
	_Atomic uint64_t n[PCD_XDP__COUNT];
};

struct knot_xdp_socket;

/* One AF_XDP socket of a role on one worker: IFACE's queue <worker index>. */
struct pcd_xdp_socket {
	struct pcd_io io; /* first: the role's on_event gets it */
	void *ctx;        /* the role's per-worker state */
	struct knot_xdp_socket *sock;
	struct pc_xdp_listen where;
};

/* A role's AF_XDP sockets on one worker, in its per-worker state. */
struct pcd_xdp_sockets {
	struct pcd_xdp_socket items[PCD_XDP_MAX_LISTEN];
	unsigned n;
};

/* Opens what params asks for on worker (main thread, workers in index
 * order, as pcd_rooms_open runs): an interface another role holds, one
 * that is missing or refuses XDP, or a worker beyond the interface's
 * queues gets no socket and a log line, never an error, since the role's
 * sockets serve it. on_event gets a struct pcd_xdp_socket whose ctx is
 * ctx. Returns 0, or -ENOMEM. */
int pcd_xdp_open_all(struct pcd_xdp_sockets *socks, const struct pcd_room *room,
                     struct pcd_worker *worker, const struct pc_xdp_params *params,
                     void (*on_event)(struct pcd_io *io, struct pcd_worker *worker,
                                      uint32_t events),
                     void *ctx);
/* Closes them; the last socket of an interface takes the program off it. */
void pcd_xdp_close_all(struct pcd_xdp_sockets *socks);

/* Serves the frames waiting on io (a pcd_xdp_socket), a few batches at
 * most: answer(call, ...) for each, as pcd_udp_serve does, the answers
 * written straight into transmit frames. */
void pcd_xdp_serve(struct pcd_io *io, struct pcd_generation *gen, pcd_udp_answer_fn answer,
                   void *call, struct pcd_xdp_counters *counters);

/* For peercdnd -t: prints to out (prefixed with source and the key) each
 * entry of params whose interface this machine does not have; returns how
 * many. Needs no privileges. */
unsigned pcd_xdp_check(const struct pc_xdp_params *params, const char *role, const char *source,
                       FILE *out);

#endif
