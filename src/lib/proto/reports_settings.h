/* reports_settings: where a node keeps the records of claim 3
 * (docs/config.md, "reports"; docs/reports.md) and the config section that
 * fills them. The records' content is the "reporting" section's. */
#ifndef PC_LIB_REPORTS_SETTINGS_H
#define PC_LIB_REPORTS_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/model/config.h"
#include "lib/model/schema.h"

#define PC_REPORTS_PATH_DEFAULT "/var/lib/peercdn/reports"

struct pc_reports_params {
	bool enabled;
	const char *path;       /* the store's directory (created); never NULL after a load */
	uint32_t segment_mb;    /* a segment is closed and a new one begun past this */
	uint32_t keep_segments; /* the oldest beyond this many are deleted */
	uint32_t queue_records; /* records waiting for the writer; more are dropped */
};

extern const struct pc_section pc_reports_section;

/* The settings of a config loaded with pc_reports_section, or NULL. */
const struct pc_reports_params *pc_reports_settings(const pc_config *config);

#endif
