#include "node/net.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78 /* linux/in6.h; glibc 2.36 lacks it */
#endif

socklen_t pcd_sockaddr_from_addr(const pc_addr *addr, uint16_t port, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (addr->family == PC_AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr->bytes, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, addr->bytes, 16);
	return sizeof(*sin6);
}

int pcd_net_bind(int type, const pc_addr *addr, uint16_t port)
{
	struct sockaddr_storage sa;
	socklen_t len = pcd_sockaddr_from_addr(addr, port, &sa);
	int fd = socket(sa.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	int buf = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
		goto fail;
	if (sa.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* Anycast addresses may be bound before the interface has them. */
	setsockopt(fd, sa.ss_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
	           sa.ss_family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, &one, sizeof(one));
	if (type == SOCK_DGRAM) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	}
	if (bind(fd, (struct sockaddr *)&sa, len) != 0)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, 1024) != 0)
		goto fail;
	return fd;
fail:;
	int err = errno;
	close(fd);
	return -err;
}

int pcd_net_omit_pmtu(int fd, int family)
{
	int omit = family == PC_AF_INET ? IP_PMTUDISC_OMIT : IPV6_PMTUDISC_OMIT;
	if (setsockopt(fd, family == PC_AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
	               family == PC_AF_INET ? IP_MTU_DISCOVER : IPV6_MTU_DISCOVER, &omit,
	               sizeof(omit)) != 0)
		return -errno;
	return 0;
}

const char *pcd_net_format(const pc_addr *addr, uint16_t port, char *buf, size_t size)
{
	char text[64];
	if (pc_addr_format(addr, text, sizeof(text)) < 0)
		snprintf(text, sizeof(text), "?");
	snprintf(buf, size, addr->family == PC_AF_INET6 ? "[%s]:%u" : "%s:%u", text, port);
	return buf;
}

unsigned pcd_listen_addresses(const pc_model *model, const struct pc_addr_list *configured,
                              const char *role, pc_addr *out, unsigned max)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < configured->count && n < max; i++)
		out[n++] = configured->items[i];
	if (n > 0 || model->self_node == PC_NONE)
		return n;
	const struct pc_index_list *cdns = &model->nodes[model->self_node].cdns;
	for (uint32_t c = 0; c < cdns->count; c++) {
		const struct pc_addr_list *any =
		    pc_cdn_anycast(model, &model->cdns[cdns->items[c]], role);
		for (uint32_t i = 0; i < any->count && n < max; i++)
			out[n++] = any->items[i];
	}
	return n;
}

bool pcd_same_addrs(const struct pc_addr_list *a, const struct pc_addr_list *b)
{
	if (a->count != b->count)
		return false;
	for (uint32_t i = 0; i < a->count; i++)
		if (!pc_addr_equal(&a->items[i], &b->items[i]))
			return false;
	return true;
}

uint32_t pcd_source_slot(const pc_addr *addr, uint32_t n_slots)
{
	uint64_t h = 1469598103934665603ULL;
	for (int i = 0; i < (addr->family == PC_AF_INET ? 4 : 16); i++)
		h = (h ^ addr->bytes[i]) * 1099511628211ULL;
	return (uint32_t)(h % n_slots);
}
