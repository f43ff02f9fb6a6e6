/* libFuzzer target: the edge's parser of a directory answer
 * (pc_directory_answer_parse), and the URL splitter it checks targets
 * with. Besides not crashing: an accepted answer holds a mode, a TTL in
 * range, a name and a target of their forms, NUL-terminated; a rejected
 * one leaves nothing behind; every span of a split URL lies inside the
 * input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"
#include "lib/proto/directory.h"

static void check_span(const uint8_t *data, size_t size, const char *at, uint32_t len)
{
	if (at == NULL || (const uint8_t *)at < data || (const uint8_t *)at + len > data + size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pc_dir_answer answer; /* 6 KiB: not on the stack */
	int rc = pc_directory_answer_parse((const char *)data, size, &answer);
	if (rc == PC_OK) {
		size_t name_len = strnlen(answer.name, sizeof(answer.name));
		size_t target_len = strnlen(answer.target, sizeof(answer.target));
		size_t owner_len;
		struct pc_dir_url url;
		if (answer.mode >= PC_DIR__MODES || answer.ttl_s > PC_DIR_MAX_TTL ||
		    name_len == sizeof(answer.name) || target_len == sizeof(answer.target) ||
		    !pc_directory_name_ok(answer.name, name_len))
			abort();
		if (answer.mode == PC_DIR_CHANNEL
		        ? !pc_directory_channel_ok(answer.target, target_len, &owner_len)
		        : pc_directory_url_split(answer.target, target_len,
		                                 PC_DIR_SCHEME_HTTP | PC_DIR_SCHEME_RTSP,
		                                 &url) != PC_OK)
			abort();
	} else if (rc != PC_ESYNTAX && rc != PC_ERANGE && rc != PC_ENOMEM) {
		abort();
	} else if (answer.name[0] != '\0' || answer.target[0] != '\0') {
		abort();
	}

	struct pc_dir_url url;
	if (pc_directory_url_split((const char *)data, size,
	                           PC_DIR_SCHEME_HTTP | PC_DIR_SCHEME_RTSP, &url) == PC_OK) {
		check_span(data, size, url.host, url.host_len);
		check_span(data, size, url.path, url.path_len);
		if (url.host_len == 0 || (url.path_len > 0 && url.path[0] != '/'))
			abort();
	}
	pc_directory_name_ok((const char *)data, size);
	return 0;
}
