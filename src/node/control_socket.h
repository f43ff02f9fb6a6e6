/* control_socket: the Unix stream socket peercdnctl talks to
 * (docs/control.md): one request line at a time, answered by the commands
 * of node/control.h on a thread of its own. */
#ifndef PC_NODE_CONTROL_SOCKET_H
#define PC_NODE_CONTROL_SOCKET_H

#include "node/node.h"

struct pcd_control_socket;

/* Opens the socket at path (peercdnd -S), or when path is NULL at the
 * config's control.socket ("": none, *out stays NULL), mode 0660, and
 * starts serving it. A stale socket left by a crash is replaced; a socket
 * another daemon answers on, or a file that is not a socket, is not. A
 * socket that cannot be opened fails the start when it was asked for (-S
 * or control.socket) and is only logged when it is the default, so a
 * daemon run without /run/peercdn still starts. Returns 0 or -errno. */
int pcd_control_socket_start(struct pcd_node *node, const char *path,
                             struct pcd_control_socket **out);
/* Stops serving (after the command being served, if any), closes the
 * socket and removes it when it is still ours. NULL is fine. Call before
 * the workers stop: a push waits for them to pass a grace period. */
void pcd_control_socket_stop(struct pcd_control_socket *control);

#endif
