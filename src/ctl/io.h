/* io: what peercdnctl's commands that talk to a daemon (prefill over HTTP,
 * the control socket) share about a connected socket. */
#ifndef PC_CTL_IO_H
#define PC_CTL_IO_H

#include <stdbool.h>
#include <stddef.h>

/* Sends all len bytes on the blocking socket fd (a peer gone is no
 * SIGPIPE). False when the peer went away or an error stopped it. */
bool ctl_send_all(int fd, const char *data, size_t len);

#endif
