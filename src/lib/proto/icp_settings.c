/* icp_settings: the "icp" section's keys and defaults, and the allow list
 * parsed once per load so that a query costs no text parsing. */
#include "lib/proto/icp_settings.h"

#include <stddef.h>
#include <string.h>

#include "lib/base/err.h"
#include "lib/model/netmap.h"

/* One entry of allow (field: a const char *const *): why it is wrong. */
static const char *allow_check(const void *field)
{
	const char *text = *(const char *const *)field;
	int family;
	uint8_t addr[16];
	unsigned len;
	return pc_prefix_parse(text, strlen(text), &family, addr, &len) == PC_OK
	           ? NULL
	           : "not an address or prefix (192.0.2.0/24, 2001:db8::/32)";
}

// clang-format off
static const struct pc_item icp_items[] = {
	PC_BOOL("enabled", pc_icp_params, enabled, false, "run the role"),
	PC_ADDRS("listen", pc_icp_params, listen, "",
	         .default_doc = "the node's own addresses"),
	PC_UINT("port",    pc_icp_params, port, 1, UINT16_MAX, PC_ICP_PORT, NULL, ""),
	PC_TEXTS("allow",  pc_icp_params, allow,
	         "caches that may query; others get ICP_OP_DENIED",
	         .check = allow_check, .type_doc = "list of prefixes",
	         .default_doc = "none (all denied)"),
	PC_UINT("overload_qps", pc_icp_params, overload_qps, 0, 10000000, 0, NULL,
	        "queries per second (node-wide) over which a miss is answered "
	        "ICP_OP_MISS_NOFETCH", .default_doc = "0 (never)"),
	PC_END,
};
// clang-format on

int pc_icp_prefixes_build(const char *const *texts, uint32_t n, pc_arena *arena,
                          struct pc_icp_prefix **out)
{
	struct pc_icp_prefix *prefixes = pc_arena_alloc(arena, sizeof(*prefixes) * (n ? n : 1));
	if (prefixes == NULL)
		return PC_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		int family;
		unsigned len;
		struct pc_icp_prefix *p = &prefixes[i];
		memset(p, 0, sizeof(*p));
		if (pc_prefix_parse(texts[i], strlen(texts[i]), &family, p->addr.bytes, &len) !=
		    PC_OK)
			return PC_EINVAL;
		p->addr.family = (uint8_t)family;
		p->len = (uint8_t)len;
		for (unsigned bit = len; bit < 128; bit++)
			p->addr.bytes[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	}
	*out = prefixes;
	return PC_OK;
}

/* The allow list as prefixes (allow_check has judged each). */
static int icp_finish(void *settings, const struct pc_section_env *env)
{
	struct pc_icp_params *icp = settings;
	icp->allowed = NULL;
	icp->n_allowed = 0;
	if (icp->allow.count == 0)
		return PC_OK;
	struct pc_icp_prefix *allowed;
	int err = pc_icp_prefixes_build(icp->allow.items, icp->allow.count, env->arena, &allowed);
	if (err != PC_OK)
		return err;
	icp->allowed = allowed;
	icp->n_allowed = icp->allow.count;
	return PC_OK;
}

const struct pc_section pc_icp_section = PC_SETTINGS(
    "icp", pc_icp_params, icp_items, false,
    "the ICP responder role of this node (legacy caches' parent)", .finish = icp_finish);

const struct pc_icp_params *pc_icp_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_icp_section);
}

bool pc_icp_allowed(const struct pc_icp_params *params, const pc_addr *source)
{
	return pc_icp_prefix_match(params->allowed, params->n_allowed, source);
}
