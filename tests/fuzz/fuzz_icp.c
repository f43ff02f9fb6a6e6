/* libFuzzer target: the ICP codec (lib/proto/icp.h) over any datagram.
 * Besides not crashing: a message that parses writes back to the same
 * bytes (but for version 3, written as 2), its answers parse back with
 * its request number and URL, and an answer to a query is exactly four
 * bytes shorter than the query (no amplification). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/proto/icp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[PC_ICP_MAX], answer[PC_ICP_MAX];
	struct pc_icp_message m;
	int rc = pc_icp_parse(data, size, &m);
	if (rc != 0) {
		if (m.fault == PC_ICP_FAULT_NONE || m.fault >= PC_ICP_FAULT__COUNT)
			abort();
		return 0;
	}
	if (m.fault != PC_ICP_FAULT_NONE || m.url_len == 0 || m.url_len >= size ||
	    memchr(m.url, 0, m.url_len) != NULL)
		abort();
	int n = pc_icp_write(&m, again, sizeof(again));
	if (n != (int)size || again[1] != PC_ICP_VERSION || again[0] != data[0] ||
	    memcmp(again + 2, data + 2, size - 2) != 0)
		abort();
	(void)pc_icp_url_ok(m.url, m.url_len);

	int a = pc_icp_answer_write(&m, PC_ICP_OP_MISS, answer, sizeof(answer));
	struct pc_icp_message back;
	if (a <= 0 || pc_icp_parse(answer, (size_t)a, &back) != 0 || back.reqnum != m.reqnum ||
	    back.url_len != m.url_len || memcmp(back.url, m.url, m.url_len) != 0 ||
	    back.options != 0)
		abort();
	if (m.opcode == PC_ICP_OP_QUERY ? (size_t)a != size - 4 : (size_t)a != size)
		abort();
	return 0;
}
