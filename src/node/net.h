/* net: socket helpers shared by the roles. */
#ifndef PC_NODE_NET_H
#define PC_NODE_NET_H

#include <stdint.h>
#include <sys/socket.h>

#include "lib/model.h"

socklen_t pcd_sockaddr_from_addr(const pc_addr *addr, uint16_t port, struct sockaddr_storage *out);
void pcd_addr_from_sockaddr(const struct sockaddr_storage *sa, pc_addr *out, uint16_t *port);
/* A non-blocking SO_REUSEPORT socket (SOCK_DGRAM or SOCK_STREAM) bound to
 * addr:port, listening when a stream. Returns the fd or -errno. */
int pcd_net_bind(int type, const pc_addr *addr, uint16_t port);
/* "127.0.0.1:53" / "[::1]:53" */
const char *pcd_net_format(const pc_addr *addr, uint16_t port, char *buf, size_t size);

#endif
