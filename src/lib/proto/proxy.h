/* proxy: the PROXY protocol version 2 header (haproxy's proxy-protocol.txt
 * §2.2) that a layer-4 balancer in front of redirectors (the patent's fig.
 * 21) puts before a connection's first byte, carrying the client's
 * address. Accepted only from configured balancers: from anyone else it
 * would let a client choose the address the policy sees. Pure. */
#ifndef PC_LIB_PROXY_H
#define PC_LIB_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/model/model.h"

#define PC_PROXY_V2_MAX 536 /* 16-byte header + at most 520 bytes the spec expects */

/* Parses a v2 header at the start of in. Returns its length, 0 when more
 * bytes are needed, or -1 when it is not a valid v2 header. A PROXY
 * command with an INET or INET6 address sets *source (and *port); LOCAL
 * (the balancer's own health check) and UNSPEC leave source's family
 * PC_AF_NONE: the connection's own address stands. */
long pc_proxy_v2_parse(const uint8_t *in, size_t len, pc_addr *source, uint16_t *port);

#endif
