/* libFuzzer target: a control socket request line (lib/proto/control.h).
 * Besides not crashing: an accepted line names a known command, its
 * server lies inside the line and holds no blank or control byte, and a
 * push is no longer than PC_CONTROL_PUSH_MAX; a rejected one says why. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/base/err.h"
#include "lib/proto/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct pc_control_request req;
	const char *why = NULL;
	int rc = pc_control_parse(line, size, &req, &why);
	if (rc != PC_OK) {
		if (rc != PC_ESYNTAX || why == NULL)
			abort();
		return 0;
	}
	if (why != NULL || req.command > PC_CONTROL_RELOAD || req.push_len > PC_CONTROL_PUSH_MAX)
		abort();
	if (req.server != NULL) {
		if (req.server < line || req.server + req.server_len > line + size ||
		    req.server_len == 0)
			abort();
		for (size_t i = 0; i < req.server_len; i++)
			if ((unsigned char)req.server[i] <= 0x20 || req.server[i] == 0x7f)
				abort();
	}
	return 0;
}
