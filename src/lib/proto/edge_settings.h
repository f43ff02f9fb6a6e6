/* edge_settings: the "edge" section (docs/config.md, "edge"): where the
 * edge server listens, where it fetches what it does not hold (parents
 * toward the source, else the origin named in the URL), its memory and
 * disk, its timeouts and its access log. Off unless the config turns it
 * on. */
#ifndef PC_LIB_EDGE_SETTINGS_H
#define PC_LIB_EDGE_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/model/config.h"
#include "lib/model/model.h"
#include "lib/model/schema.h"
#include "lib/proto/icp.h"

/* An upstream: an address and a TCP port. */
struct pc_hostport {
	pc_addr addr;
	uint16_t port;
};

/* Where an origin host ("www.abc.com") is fetched from. */
struct pc_edge_origin {
	const char *host; /* lower case */
	struct pc_hostport at;
};

/* A router of the overlay and its node's edge (tree): where a miss whose
 * next hop is that router goes (docs/edge.md, "The cache-miss tree"). */
struct pc_edge_tree_edge {
	uint32_t router; /* pc_overlay_router_id of the node named */
	struct pc_hostport at;
};

/* A provider's injection point (injection): a router its content enters
 * the overlay at, the root of its cache-miss tree. */
struct pc_edge_injection {
	uint32_t provider; /* index in the model */
	uint32_t router;
};

struct pc_edge_params {
	bool enabled;
	struct pc_addr_list listen; /* required when enabled: the servers' addresses this node is */
	uint16_t port;
	struct pc_text_list parents_text, origins_text, directories_text; /* as written */
	struct pc_hostport *parents; /* in order of preference */
	uint32_t n_parents;
	struct pc_edge_origin *origins;
	uint32_t n_origins;
	struct pc_text_list tree_text, injection_text; /* as written */
	struct pc_edge_tree_edge *tree;
	uint32_t n_tree;
	struct pc_edge_injection *injections; /* in the order written */
	uint32_t n_injections;
	struct pc_hostport *directories; /* directory services, in order */
	uint32_t n_directories;
	uint32_t memory_mb, max_object_mb, disk_mb;
	const char *disk_path;  /* NULL: no disk tier */
	const char *access_log; /* NULL: none; "-": stderr */
	uint32_t connect_timeout_ms, upstream_timeout_ms;
	uint32_t
	    max_fetches; /* upstream fetches in flight per worker; ICP says MISS_NOFETCH beyond */
	uint32_t header_timeout_ms, idle_timeout_ms;
	uint32_t max_clients, max_per_source;
	uint32_t max_header_bytes, max_target_bytes, max_body_bytes;
	struct pc_addr_list balancers;
	/* Who may use the edge's control requests (pre-fill, docs/prefill.md):
	 * as written, and parsed by the section's finish into prefixes with
	 * their host bits cleared; empty as written: loopback only. */
	struct pc_text_list control_allow_text;
	const struct pc_icp_prefix *control_allowed;
	uint32_t n_control_allowed;
	/* edge.live (docs/live.md): live ingest and playback. */
	bool live_ingest;
	struct pc_text_list live_keys_text;    /* "<provider>=<key>" */
	struct pc_text_list live_sources_text; /* "<provider>=<node>[,<node>...]" */
	struct pc_text_list live_cors_text;    /* "<provider>=<origin>[,<origin>...]" */
	uint32_t live_ring_kb, live_player_buffer_kb, live_window;
	uint32_t live_player_flush_ms; /* progressive players' writes coalesce this long */
	uint32_t live_ingest_timeout_ms, live_linger_ms, live_failover_ms, live_segment_ms;
};

extern const struct pc_section pc_edge_section;

/* The settings of a config loaded with the section, or NULL. */
const struct pc_edge_params *pc_edge_settings(const pc_config *config);

/* "192.0.2.1:8080", "[2001:db8::1]:8080" -> out; PC_ESYNTAX otherwise. */
int pc_hostport_parse(const char *text, struct pc_hostport *out);

/* Whether source may send the edge control requests (control_allow). */
bool pc_edge_control_allowed(const struct pc_edge_params *params, const pc_addr *source);

/* The origin entry of host (case-insensitive), or NULL. */
const struct pc_edge_origin *pc_edge_origin_find(const struct pc_edge_params *params,
                                                 const char *host, size_t len);

/* The edge of router in tree, or NULL. */
const struct pc_hostport *pc_edge_tree_find(const struct pc_edge_params *params, uint32_t router);

#endif
