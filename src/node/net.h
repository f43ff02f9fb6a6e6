/* net: socket helpers shared by the roles. */
#ifndef PC_NODE_NET_H
#define PC_NODE_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "lib/model/model.h"

socklen_t pcd_sockaddr_from_addr(const pc_addr *addr, uint16_t port, struct sockaddr_storage *out);
/* The address (and port, when asked) of a socket address; zeros for a
 * family that is neither. Inline: the UDP roles call it for every
 * datagram. */
static inline void pcd_addr_from_sockaddr(const struct sockaddr_storage *sa, pc_addr *out,
                                          uint16_t *port)
{
	memset(out, 0, sizeof(*out));
	if (port != NULL)
		*port = 0;
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		out->family = PC_AF_INET;
		memcpy(out->bytes, &sin->sin_addr, 4);
		if (port != NULL)
			*port = ntohs(sin->sin_port);
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		/* A v4-mapped source is an IPv4 client for the policy. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			out->family = PC_AF_INET;
			memcpy(out->bytes, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			out->family = PC_AF_INET6;
			memcpy(out->bytes, &sin6->sin6_addr, 16);
		}
		if (port != NULL)
			*port = ntohs(sin6->sin6_port);
	}
}

/* A non-blocking SO_REUSEPORT socket (SOCK_DGRAM or SOCK_STREAM) bound to
 * addr:port, listening when a stream. Returns the fd or -errno. */
int pcd_net_bind(int type, const pc_addr *addr, uint16_t port);
/* For a UDP socket that answers requests (DNS, CDSR): its datagrams leave
 * at the interface's MTU, without DF, whatever path MTU an ICMP "too big"
 * claims (IP_PMTUDISC_OMIT, as gdnsd, Knot and BIND set it; see
 * draft-ietf-dnsop-avoid-fragmentation): a forged ICMP could otherwise make
 * the kernel fragment the answers to a victim, the first step of a
 * fragment-injection attack. family is PC_AF_INET or PC_AF_INET6, the
 * socket's. Returns 0 or -errno. */
int pcd_net_omit_pmtu(int fd, int family);
/* "127.0.0.1:53" / "[::1]:53" */
const char *pcd_net_format(const pc_addr *addr, uint16_t port, char *buf, size_t size);

/* The configured listen addresses, else the role's ("dns", ...) anycast
 * addresses of every CDN the node serves. Returns how many were written (at most max). */
unsigned pcd_listen_addresses(const pc_model *model, const struct pc_addr_list *configured,
                              const char *role, pc_addr *out, unsigned max);

/* Whether two address lists hold the same addresses in the same order (a
 * role's listen list between two generations). */
bool pcd_same_addrs(const struct pc_addr_list *a, const struct pc_addr_list *b);

/* A slot for per-source connection counts: a hash of the address. A
 * collision makes a limit stricter, never looser. */
uint32_t pcd_source_slot(const pc_addr *addr, uint32_t n_slots);

#endif
