/* libFuzzer target: the PROXY protocol v2 header (lib/proxy) as a
 * balancer's connection starts with it. */
#include <stdlib.h>
#include <string.h>

#include "lib/proto/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t signature[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
	                                      0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
	pc_addr source;
	uint16_t port;
	long n = pc_proxy_v2_parse(data, size, &source, &port);
	if (n > (long)size || n > PC_PROXY_V2_MAX)
		abort();
	if (n > 0 && (size < 16 || memcmp(data, signature, 12) != 0))
		abort();
	if (n > 0 && source.family != PC_AF_NONE && source.family != PC_AF_INET &&
	    source.family != PC_AF_INET6)
		abort();
	/* Every prefix of a header is "need more", never a different answer. */
	if (n > 0)
		for (size_t cut = 0; cut < (size_t)n; cut++)
			if (pc_proxy_v2_parse(data, cut, &source, &port) != 0)
				abort();
	return 0;
}
