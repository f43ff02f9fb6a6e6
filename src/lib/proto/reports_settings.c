/* reports_settings: the "reports" section's keys and defaults. */
#include "lib/proto/reports_settings.h"

#include <stddef.h>
#include <string.h>

#include "lib/base/err.h"
#include "lib/model/config_reader.h"

/* The store's directory: an absolute path. */
static void read_path(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	if (!pc__want_scalar(rd, "a path"))
		return;
	const char *text = pc__scalar(rd);
	size_t len = pc__scalar_len(rd);
	if (len == 0 || text[0] != '/' || memchr(text, '\0', len) != NULL) {
		pc__item_error(rd, "%s: %s is not an absolute path", rd->key,
		               pc__quote_n(rd, text, len));
		return;
	}
	const char *copy = pc__strndup(rd, text, len);
	memcpy((char *)target + item->offset, &copy, sizeof(copy));
}

// clang-format off
static const struct pc_item reports_items[] = {
	PC_BOOL("enabled", pc_reports_params, enabled, false,
	        "keep a record of every PEER and OUTSIDE answer (claim 3)"),
	PC_CUSTOM_AT("path", 0, pc_reports_params, path, read_path, 0, "path",
	             "directory of the store's segment files (created)",
	             .default_doc = "`" PC_REPORTS_PATH_DEFAULT "`"),
	PC_UINT("segment_mb",    pc_reports_params, segment_mb,    1, 4096,    64,   "MiB",
	        "a segment past this size is closed and a new one begun"),
	PC_UINT("keep_segments", pc_reports_params, keep_segments, 1, 1000000, 64,   NULL,
	        "segments kept; the oldest beyond this are deleted"),
	PC_UINT("queue_records", pc_reports_params, queue_records, 16, 1048576, 4096, NULL,
	        "records waiting for the writer; past this they are dropped and counted"),
	PC_END,
};
// clang-format on

static int reports_finish(void *settings, const struct pc_section_env *env)
{
	(void)env;
	struct pc_reports_params *reports = settings;
	if (reports->path == NULL)
		reports->path = PC_REPORTS_PATH_DEFAULT;
	return PC_OK;
}

const struct pc_section pc_reports_section =
    PC_SETTINGS("reports", pc_reports_params, reports_items, false,
                "the store of provider reports on this node", .finish = reports_finish);

const struct pc_reports_params *pc_reports_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_reports_section);
}
