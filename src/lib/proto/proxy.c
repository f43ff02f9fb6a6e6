#include "lib/proto/proxy.h"

#include <string.h>

static const uint8_t SIGNATURE[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                      0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

long pc_proxy_v2_parse(const uint8_t *in, size_t len, pc_addr *source, uint16_t *port)
{
	memset(source, 0, sizeof(*source));
	*port = 0;
	size_t have = len < sizeof(SIGNATURE) ? len : sizeof(SIGNATURE);
	if (memcmp(in, SIGNATURE, have) != 0)
		return -1;
	if (len < 16)
		return 0;
	uint8_t version = in[12] >> 4, command = in[12] & 0x0f;
	uint8_t family = in[13] >> 4, transport = in[13] & 0x0f;
	size_t body = (size_t)in[14] << 8 | in[15];
	if (version != 2 || command > 1 || 16 + body > PC_PROXY_V2_MAX)
		return -1;
	if (len < 16 + body)
		return 0;
	if (command == 0) /* LOCAL */
		return (long)(16 + body);
	const uint8_t *a = in + 16;
	if (family == 1 && (transport == 1 || transport == 2)) { /* INET, STREAM or DGRAM */
		if (body < 12)
			return -1;
		source->family = PC_AF_INET;
		memcpy(source->bytes, a, 4);
		*port = (uint16_t)(a[8] << 8 | a[9]);
	} else if (family == 2 && (transport == 1 || transport == 2)) { /* INET6 */
		if (body < 36)
			return -1;
		source->family = PC_AF_INET6;
		memcpy(source->bytes, a, 16);
		*port = (uint16_t)(a[32] << 8 | a[33]);
	} else if (family > 3 || transport > 2) {
		return -1;
	}
	/* UNSPEC and UNIX: the connection's own address stands. */
	return (long)(16 + body);
}
