/* report: the record a content provider receives whenever its content is
 * served to a client outside its primary CDN (claim 3), i.e. for every PEER
 * and OUTSIDE decision. One line per record in the format of
 * docs/reporting.md; the library only formats, the daemon's writer persists. */
#ifndef PC_LIB_REPORT_H
#define PC_LIB_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/model/model.h"
#include "lib/policy/policy.h"

/* True for decisions the provider must be told of. */
bool pc_report_due(const pc_decision *decision);

/* The content exchange (CDN index) that must be told of this decision as
 * well as the provider: a party of the decision's agreement that is an
 * exchange (docs/reporting.md). PC_NONE when none. */
uint32_t pc_report_exchange(const pc_model *model, const pc_decision *decision);

/* Formats one record (NUL-terminated, no newline) for a decision made at
 * unix time now_ms. The client address is truncated to the configured
 * report prefix. Returns the length, or PC_ESPACE / PC_EINVAL. */
int pc_report_format(const pc_model *model, const pc_request *req, const pc_decision *decision,
                     uint64_t now_ms, char *out, size_t out_size);

#endif
