/* edge_settings: the "edge" section's keys, defaults and rules. The
 * limits facing clients are the HTTP redirector's; those facing upstreams
 * are the edge's own: a connect that takes 2 s is a dead upstream, a
 * response head that takes 10 s a failing one (504), while a body may
 * stream for as long as bytes keep coming. */
#include "lib/proto/edge_settings.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/base/err.h"
#include "lib/model/config_reader.h"
#include "lib/model/netmap.h"
#include "lib/proto/cors.h"
#include "lib/proto/icp_settings.h"
#include "lib/proto/overlay_lsdb.h"

int pc_hostport_parse(const char *text, struct pc_hostport *out)
{
	const char *colon = strrchr(text, ':');
	if (colon == NULL || colon == text)
		return PC_ESYNTAX;
	char host[64];
	const char *start = text;
	size_t len = (size_t)(colon - text);
	if (*start == '[') { /* [v6]:port */
		if (len < 3 || text[len - 1] != ']')
			return PC_ESYNTAX;
		start++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(host))
		return PC_ESYNTAX;
	memcpy(host, start, len);
	host[len] = '\0';
	uint64_t port;
	if (!pc__parse_u64(colon + 1, strlen(colon + 1), &port) || port == 0 || port > UINT16_MAX)
		return PC_ESYNTAX;
	if (pc_addr_parse(host, &out->addr) != 0)
		return PC_ESYNTAX;
	out->port = (uint16_t)port;
	return 0;
}

static bool host_ok(const char *host, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = host[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return false;
	}
	return true;
}

static const char *parent_check(const void *field)
{
	struct pc_hostport at;
	return pc_hostport_parse(*(const char *const *)field, &at) == 0 ? NULL : "not ADDRESS:PORT";
}

static const char *origin_check(const void *field)
{
	const char *text = *(const char *const *)field;
	const char *eq = strchr(text, '=');
	struct pc_hostport at;
	if (eq == NULL || !host_ok(text, (size_t)(eq - text)) ||
	    pc_hostport_parse(eq + 1, &at) != 0)
		return "not HOST=ADDRESS:PORT";
	return NULL;
}

static bool name_ok(const char *text, size_t len)
{
	if (len == 0 || len > 63)
		return false;
	for (size_t i = 0; i < len; i++)
		if (text[i] <= ' ' || text[i] == '=' || (unsigned char)text[i] >= 0x7f)
			return false;
	return true;
}

/* NODE=ADDRESS:PORT */
static const char *tree_check(const void *field)
{
	const char *text = *(const char *const *)field;
	const char *eq = strchr(text, '=');
	struct pc_hostport at;
	if (eq == NULL || !name_ok(text, (size_t)(eq - text)) ||
	    pc_hostport_parse(eq + 1, &at) != 0)
		return "not NODE=ADDRESS:PORT";
	return NULL;
}

/* PROVIDER=NODE; the provider is checked against the model by verify. */
static const char *injection_check(const void *field)
{
	const char *text = *(const char *const *)field;
	const char *eq = strchr(text, '=');
	if (eq == NULL || !name_ok(text, (size_t)(eq - text)) || !name_ok(eq + 1, strlen(eq + 1)))
		return "not PROVIDER=NODE";
	return NULL;
}

static const char *prefix_check(const void *field)
{
	const char *text = *(const char *const *)field;
	int family;
	uint8_t addr[16];
	unsigned len;
	return pc_prefix_parse(text, strlen(text), &family, addr, &len) == PC_OK
	           ? NULL
	           : "not an address or prefix (192.0.2.0/24, 2001:db8::/32)";
}

/* A file name: absolute, or "-" (stderr) for the access log. */
static void read_path(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	if (!pc__want_scalar(rd, "a path"))
		return;
	const char *text = pc__scalar(rd);
	size_t len = pc__scalar_len(rd);
	bool dash_ok = item->arg != 0;
	if (len == 0)
		return; /* "": none */
	if (!(text[0] == '/' || (dash_ok && len == 1 && text[0] == '-')) ||
	    memchr(text, '\0', len) != NULL) {
		pc__item_error(rd, "%s: %s is not an absolute path%s", rd->key,
		               pc__quote_n(rd, text, len), dash_ok ? " or -" : "");
		return;
	}
	const char *copy = pc__strndup(rd, text, len);
	memcpy((char *)target + item->offset, &copy, sizeof(copy));
}

/* "<provider>=<text>": a provider name and something after it. */
static const char *provider_pair_check(const void *field)
{
	const char *text = *(const char *const *)field;
	const char *eq = strchr(text, '=');
	return eq == NULL || eq == text || eq[1] == '\0' ? "not PROVIDER=VALUE" : NULL;
}

static const char *cors_check(const void *field)
{
	return pc_cors_check(*(const char *const *)field);
}

// clang-format off
static const struct pc_item live_items[] = {
	PC_BOOL("ingest", pc_edge_params, live_ingest, false,
	        "accept live streams pushed to /<origin host>/live/<name> (POST MPEG-TS, PUT HLS)"),
	PC_TEXTS("keys", pc_edge_params, live_keys_text,
	         "each provider's ingest key, as PROVIDER=KEY: sent as X-Live-Key, ?key=, or "
	         "signing ?expires=&sig= (docs/live.md); a provider without one cannot ingest",
	         .check = provider_pair_check, .type_doc = "list of PROVIDER=KEY"),
	PC_TEXTS("sources", pc_edge_params, live_sources_text,
	         "each provider's injection points, as PROVIDER=NODE[,NODE...]: players' channels "
	         "are subscribed from the first, then the next when it ends or goes silent",
	         .check = provider_pair_check, .type_doc = "list of PROVIDER=NODES"),
	PC_TEXTS("cors_origins", pc_edge_params, live_cors_text,
	         "the pages that may read a provider's live streams, as PROVIDER=ORIGIN[,ORIGIN...] "
	         "(scheme://host[:port], or *): Access-Control-Allow-Origin; a provider without "
	         "one is readable from any page (*)",
	         .check = cors_check, .type_doc = "list of PROVIDER=ORIGINS"),
	PC_UINT("ring_kb", pc_edge_params, live_ring_kb, 64, 4194304, 8192, "KiB",
	        "recent segments kept per channel; the oldest go first"),
	PC_UINT("player_buffer_kb", pc_edge_params, live_player_buffer_kb, 16, 1048576, 2048,
	        "KiB", "unsent bytes a progressive player may fall behind before it is shed"),
	PC_MS("player_flush_ms", pc_edge_params, live_player_flush_ms, 0, 1000, 0,
	      "a progressive player's bytes wait up to this long to go in one write (0: each "
	      "block as it arrives); a segment's end goes at once"),
	PC_UINT("window", pc_edge_params, live_window, 2, 100, 6, NULL,
	        "segments a live playlist lists"),
	PC_MS("ingest_timeout_ms", pc_edge_params, live_ingest_timeout_ms, 100, 3600000, 5000,
	      "an ingest connection silent this long is closed and its channel ends"),
	PC_MS("linger_ms", pc_edge_params, live_linger_ms, 0, 3600000, 10000,
	      "a channel stays subscribed this long after its last player left"),
	PC_MS("failover_ms", pc_edge_params, live_failover_ms, 100, 3600000, 3000,
	      "a subscribed source silent this long is left for the next injection point"),
	PC_MS("segment_ms", pc_edge_params, live_segment_ms, 100, 60000, 1000,
	      "an ingested stream is cut at the first random access point this long after the "
	      "segment's start"),
	PC_END,
};

static const struct pc_item edge_items[] = {
	PC_BOOL("enabled", pc_edge_params, enabled, false, "run the role"),
	PC_ADDRS("listen", pc_edge_params, listen, "addresses the edge server listens on "
	         "(the addresses of the servers this node is); required when enabled"),
	PC_UINT("port", pc_edge_params, port, 1, UINT16_MAX, 8080, NULL, ""),
	PC_TEXTS("parents", pc_edge_params, parents_text,
	         "upstream edges toward the source, as ADDRESS:PORT, tried in order: a miss is "
	         "fetched from the first that answers; none: from the origin",
	         .check = parent_check, .type_doc = "list of ADDRESS:PORT"),
	PC_TEXTS("origins", pc_edge_params, origins_text,
	         "where each origin host of a provider is fetched from, as HOST=ADDRESS:PORT",
	         .check = origin_check, .type_doc = "list of HOST=ADDRESS:PORT"),
	PC_TEXTS("injection", pc_edge_params, injection_text,
	         "each provider's injection points on the overlay, the roots of its cache-miss "
	         "tree, as PROVIDER=NODE (a node's name or a router id), in order: a miss goes "
	         "to the next hop toward the first one routed (docs/edge.md, \"The cache-miss "
	         "tree\")",
	         .check = injection_check, .type_doc = "list of PROVIDER=NODE"),
	PC_TEXTS("tree", pc_edge_params, tree_text,
	         "the edges of this node's overlay neighbours, as NODE=ADDRESS:PORT: where a miss "
	         "whose next hop is that router is fetched from",
	         .check = tree_check, .type_doc = "list of NODE=ADDRESS:PORT"),
	PC_TEXTS("directories", pc_edge_params, directories_text,
	         "directory services (the directory role) asked how a directory name is served, "
	         "as ADDRESS:PORT, tried in order",
	         .check = parent_check, .type_doc = "list of ADDRESS:PORT"),
	PC_UINT("memory_mb",     pc_edge_params, memory_mb,     1, 1048576, 256, "MiB",
	        "objects kept in memory (heads and bodies)"),
	PC_UINT("max_object_mb", pc_edge_params, max_object_mb, 1, 1048576, 64,  "MiB",
	        "a larger object is streamed but not kept"),
	PC_CUSTOM_AT("disk_path", 0, pc_edge_params, disk_path, read_path, 0, "path",
	             "directory of the disk tier (survives a restart)", .default_doc = "none"),
	PC_UINT("disk_mb",       pc_edge_params, disk_mb,       1, 1U << 30, 1024, "MiB",
	        "objects kept on disk; the oldest go first"),
	PC_CUSTOM_AT("access_log", 0, pc_edge_params, access_log, read_path, 1, "path or -",
	             "one line per request (docs/edge.md); - is stderr", .default_doc = "none"),
	PC_MS("connect_timeout_ms",  pc_edge_params, connect_timeout_ms,  10, 600000, 2000,
	      "an upstream that does not accept within this is failed over to the next "
	      "(504 when it was the last)"),
	PC_MS("upstream_timeout_ms", pc_edge_params, upstream_timeout_ms, 10, 3600000, 10000,
	      "an upstream's response head later than this: 504; a pause this long in its "
	      "body cuts the clients streaming it"),
	PC_UINT("max_fetches", pc_edge_params, max_fetches, 1, 1000000, 1000, NULL,
	        "upstream fetches in flight per worker: clients of a miss get 503 beyond it, "
	        "and ICP answers MISS_NOFETCH from 90 % of it"),
	PC_MS("header_timeout_ms", pc_edge_params, header_timeout_ms, 100, 3600000, 10000,
	      "a request head must arrive within this: 408"),
	PC_MS("idle_timeout_ms",   pc_edge_params, idle_timeout_ms,   100, 3600000, 30000,
	      "a kept-alive connection with no request is closed"),
	PC_UINT("max_clients",      pc_edge_params, max_clients,      1,   1000000,    10000,
	        NULL, "connections per worker"),
	PC_UINT("max_per_source",   pc_edge_params, max_per_source,   1,   1000000,    256,
	        NULL, "concurrent connections per client address"),
	PC_UINT("max_header_bytes", pc_edge_params, max_header_bytes, 256, 1048576,    16384,
	        NULL, "request line and headers: 431; an upstream's response head: 502"),
	PC_UINT("max_target_bytes", pc_edge_params, max_target_bytes, 64,  65536,      8192,
	        NULL, "request target: 414"),
	PC_UINT("max_body_bytes",   pc_edge_params, max_body_bytes,   0,   UINT32_MAX, 1048576,
	        NULL, "a request body forwarded upstream (POST, PUT): 413 beyond"),
	PC_ADDRS("balancers", pc_edge_params, balancers, "layer-4 balancers whose connections "
	         "start with a PROXY v2 header carrying the client"),
	PC_TEXTS("control_allow", pc_edge_params, control_allow_text,
	         "clients that may send control requests (POST /.peercdn/prefill, "
	         "docs/prefill.md); others get 403",
	         .check = prefix_check, .type_doc = "list of prefixes",
	         .default_doc = "loopback only (127.0.0.0/8, ::1)"),
	PC_SECTION("live", live_items, "live streams (docs/live.md)"),
	PC_END,
};
// clang-format on

static uint32_t provider_index(const pc_model *m, const char *name, size_t len)
{
	for (uint32_t i = 0; i < m->n_providers; i++)
		if (strlen(m->providers[i].name) == len &&
		    strncmp(m->providers[i].name, name, len) == 0)
			return i;
	return PC_NONE;
}

/* NODE as edge.injection and edge.tree write it: a node of the model
 * (its router id, as the overlay derives it), or a router id in decimal,
 * as overlay.neighbours takes them; 0 when it is neither. */
static uint32_t router_of(const pc_model *m, const char *text, size_t len)
{
	for (uint32_t i = 0; i < m->n_nodes; i++)
		if (m->nodes[i].name != NULL && strlen(m->nodes[i].name) == len &&
		    strncmp(m->nodes[i].name, text, len) == 0)
			return pc_overlay_router_id(m->nodes[i].name);
	uint64_t id;
	if (pc__parse_u64(text, len, &id) && id > 0 && id <= UINT32_MAX)
		return (uint32_t)id;
	return 0;
}

static void edge_verify(void *settings, const struct pc_section_env *env)
{
	const struct pc_edge_params *p = settings;
	for (uint32_t i = 0; i < p->injection_text.count; i++) {
		const char *text = p->injection_text.items[i];
		const char *eq = strchr(text, '=');
		if (eq == NULL)
			continue; /* the item's check said so */
		if (provider_index(env->model, text, (size_t)(eq - text)) == PC_NONE)
			pc_section_error(env, 0, 0, "edge.injection: %.*s is not a provider",
			                 (int)(eq - text), text);
		if (router_of(env->model, eq + 1, strlen(eq + 1)) == 0)
			pc_section_error(
			    env, 0, 0, "edge.injection: %.60s is no node and no router id", eq + 1);
	}
	for (uint32_t i = 0; i < p->tree_text.count; i++) {
		const char *text = p->tree_text.items[i];
		const char *eq = strchr(text, '=');
		if (eq != NULL && router_of(env->model, text, (size_t)(eq - text)) == 0)
			pc_section_error(env, 0, 0, "edge.tree: %.*s is no node and no router id",
			                 (int)(eq - text < 60 ? eq - text : 60), text);
	}
}

static const char *edge_check(const void *settings)
{
	const struct pc_edge_params *p = settings;
	if (p->enabled && p->listen.count == 0)
		return "edge.listen is required when the edge is enabled";
	if (p->max_object_mb > p->memory_mb)
		return "edge.max_object_mb is larger than edge.memory_mb";
	return NULL;
}

/* control_allow as prefixes with their host bits cleared, so that a
 * match is a masked compare; loopback when none is written. */
static int parse_control_allow(struct pc_edge_params *p, const struct pc_section_env *env)
{
	static const char *const loopback[] = {"127.0.0.0/8", "::1/128"};
	uint32_t n = p->control_allow_text.count ? p->control_allow_text.count : 2;
	struct pc_icp_prefix *allowed;
	int err = pc_icp_prefixes_build(p->control_allow_text.count ? p->control_allow_text.items
	                                                            : loopback,
	                                n, env->arena, &allowed);
	if (err != PC_OK)
		return err; /* prefix_check rejected a bad one already */
	p->control_allowed = allowed;
	p->n_control_allowed = n;
	return 0;
}

bool pc_edge_control_allowed(const struct pc_edge_params *params, const pc_addr *source)
{
	return pc_icp_prefix_match(params->control_allowed, params->n_control_allowed, source);
}

static int edge_finish(void *settings, const struct pc_section_env *env)
{
	struct pc_edge_params *p = settings;
	int err = parse_control_allow(p, env);
	if (err != 0)
		return err;
	p->n_parents = p->parents_text.count;
	p->n_origins = p->origins_text.count;
	p->n_directories = p->directories_text.count;
	p->n_tree = p->tree_text.count;
	p->n_injections = p->injection_text.count;
	p->tree = pc_arena_alloc(env->arena, (p->n_tree + 1) * sizeof(*p->tree));
	p->injections = pc_arena_alloc(env->arena, (p->n_injections + 1) * sizeof(*p->injections));
	if (p->tree == NULL || p->injections == NULL)
		return PC_ENOMEM;
	for (uint32_t i = 0; i < p->n_tree; i++) { /* checked and verified */
		const char *text = p->tree_text.items[i];
		const char *eq = strchr(text, '=');
		p->tree[i].router = router_of(env->model, text, (size_t)(eq - text));
		pc_hostport_parse(eq + 1, &p->tree[i].at);
	}
	for (uint32_t i = 0; i < p->n_injections; i++) { /* checked, and verified */
		const char *text = p->injection_text.items[i];
		const char *eq = strchr(text, '=');
		p->injections[i].provider = provider_index(env->model, text, (size_t)(eq - text));
		p->injections[i].router = router_of(env->model, eq + 1, strlen(eq + 1));
	}
	p->directories =
	    pc_arena_alloc(env->arena, (p->n_directories + 1) * sizeof(*p->directories));
	if (p->directories == NULL)
		return PC_ENOMEM;
	for (uint32_t i = 0; i < p->n_directories; i++)
		pc_hostport_parse(p->directories_text.items[i], &p->directories[i]); /* checked */
	p->parents = pc_arena_alloc(env->arena, (p->n_parents + 1) * sizeof(*p->parents));
	p->origins = pc_arena_alloc(env->arena, (p->n_origins + 1) * sizeof(*p->origins));
	if (p->parents == NULL || p->origins == NULL)
		return PC_ENOMEM;
	for (uint32_t i = 0; i < p->n_parents; i++)
		pc_hostport_parse(p->parents_text.items[i], &p->parents[i]); /* checked */
	for (uint32_t i = 0; i < p->n_origins; i++) {
		const char *text = p->origins_text.items[i];
		const char *eq = strchr(text, '=');
		char *host = pc_arena_strndup(env->arena, text, (size_t)(eq - text));
		if (host == NULL)
			return PC_ENOMEM;
		for (char *c = host; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		p->origins[i].host = host;
		pc_hostport_parse(eq + 1, &p->origins[i].at);
	}
	return 0;
}

const struct pc_section pc_edge_section =
    PC_SETTINGS("edge", pc_edge_params, edge_items, false, "the edge server role of this node",
                .check = edge_check, .verify = edge_verify, .finish = edge_finish);

const struct pc_edge_params *pc_edge_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_edge_section);
}

const struct pc_edge_origin *pc_edge_origin_find(const struct pc_edge_params *params,
                                                 const char *host, size_t len)
{
	for (uint32_t i = 0; i < params->n_origins; i++)
		if (strlen(params->origins[i].host) == len &&
		    strncasecmp(params->origins[i].host, host, len) == 0)
			return &params->origins[i];
	return NULL;
}

const struct pc_hostport *pc_edge_tree_find(const struct pc_edge_params *params, uint32_t router)
{
	for (uint32_t i = 0; i < params->n_tree; i++)
		if (params->tree[i].router == router)
			return &params->tree[i].at;
	return NULL;
}
