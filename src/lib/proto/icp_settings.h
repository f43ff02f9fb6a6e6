/* icp_settings: the ICP responder role's settings (docs/config.md, "icp";
 * docs/icp.md) and the config section that fills them. */
#ifndef PC_LIB_ICP_SETTINGS_H
#define PC_LIB_ICP_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/model/config.h"
#include "lib/model/model.h"
#include "lib/model/schema.h"
#include "lib/proto/icp.h"

struct pc_icp_params {
	bool enabled;
	struct pc_addr_list listen; /* empty: the node's own (unicast) addresses */
	uint16_t port;              /* 3130 */
	struct pc_text_list allow;  /* as written: prefixes or addresses */
	uint32_t overload_qps;      /* node-wide queries per second over which a MISS is
	                               MISS_NOFETCH; 0 = never */

	/* Derived by the section's finish: allow parsed, in the config's
	 * arena. Empty: every querier is DENIED. */
	const struct pc_icp_prefix *allowed;
	uint32_t n_allowed;
};

extern const struct pc_section pc_icp_section;

/* The settings of a config loaded with pc_icp_section, or NULL. */
const struct pc_icp_params *pc_icp_settings(const pc_config *config);

/* Whether source may query under params (its allow list). */
bool pc_icp_allowed(const struct pc_icp_params *params, const pc_addr *source);

/* Address prefixes ("192.0.2.0/24", "2001:db8::/32"), checked before,
 * into an array of the arena with their host bits cleared, so that a
 * match is a masked compare (pc_icp_prefix_match). Returns 0, PC_ENOMEM
 * or PC_EINVAL. */
int pc_icp_prefixes_build(const char *const *texts, uint32_t n, pc_arena *arena,
                          struct pc_icp_prefix **out);

#endif
