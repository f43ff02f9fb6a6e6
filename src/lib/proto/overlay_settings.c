/* overlay_settings: the "overlay" section's keys; its neighbours, each a
 * mapping read where it appears; once the whole file is read, every
 * neighbour's node is tied to its router id and the router ids of the
 * federation's nodes are checked for collisions (FNV-1a can collide). */
#include "lib/proto/overlay_settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/hex.h"
#include "lib/model/config_reader.h"
#include "lib/proto/edge_settings.h"
#include "lib/proto/overlay_lsdb.h"
#include "lib/proto/overlay_msg.h"

static void read_node(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	if (!pc__want_scalar(rd, "a node's name or router id"))
		return;
	const char *text = pc__scalar(rd);
	size_t len = pc__scalar_len(rd);
	if (!pc_ovl_name_ok(text, len)) {
		pc__item_error(rd, "%s: %s is not a node name", rd->key,
		               pc__quote_n(rd, text, len));
		return;
	}
	const char *copy = pc__strndup(rd, text, len);
	memcpy((char *)target + item->offset, &copy, sizeof(copy));
}

static void read_address(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	if (!pc__want_scalar(rd, "ADDRESS:PORT"))
		return;
	struct pc_overlay_neighbour *n = target;
	char text[80];
	size_t len = pc__scalar_len(rd);
	struct pc_hostport at;
	if (len >= sizeof(text) || (memcpy(text, pc__scalar(rd), len), text[len] = '\0',
	                            pc_hostport_parse(text, &at)) != 0) {
		pc__item_error(rd, "%s: %s is not ADDRESS:PORT", rd->key,
		               pc__quote_n(rd, pc__scalar(rd), len));
		return;
	}
	n->addr = at.addr;
	n->port = at.port;
	n->has_address = true;
}

static void read_link_key(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)item;
	if (!pc__want_scalar(rd, "a key of 64 hex digits"))
		return;
	struct pc_overlay_neighbour *n = target;
	const char *text = pc__scalar(rd);
	bool ok = pc__scalar_len(rd) == 2 * sizeof(n->key);
	for (size_t i = 0; ok && i < sizeof(n->key); i++) {
		int hi = pc_hex_digit(text[2 * i]), lo = pc_hex_digit(text[2 * i + 1]);
		ok = hi >= 0 && lo >= 0;
		n->key[i] = (uint8_t)(hi << 4 | (lo & 0xf));
	}
	if (!ok) {
		memset(n->key, 0, sizeof(n->key));
		pc__item_error(rd, "%s: expected 64 hex digits (32 bytes)", rd->key);
		return;
	}
	n->has_key = true;
}

// clang-format off
static const struct pc_item neighbour_items[] = {
	PC_CUSTOM_AT("node", PC_ITEM_REQUIRED, pc_overlay_neighbour, node, read_node, 0,
	             "node name or router id", "the neighbour: a node of `nodes`, or its router id"),
	PC_CUSTOM("address", PC_ITEM_REQUIRED, read_address, "ADDRESS:PORT",
	          "where the neighbour's overlay listens; the higher router id of a link dials"),
	PC_CUSTOM("key", PC_ITEM_REQUIRED, read_link_key, "64 hex digits",
	          "the link's key, the same at both ends (32 bytes)"),
	PC_UINT("cost", pc_overlay_neighbour, cost, 1, PC_LSA_COST_MAX, 10, NULL,
	        "the link's metric from this router"),
	PC_END,
};
// clang-format on

static void read_neighbours(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	struct pc_overlay_params *params = target;
	if (rd->pass == 1 || !pc__begin_list(rd)) {
		pc__skip_node(rd);
		return;
	}
	char outer[sizeof(rd->label)];
	memcpy(outer, rd->label, sizeof(outer));
	struct pc_vec list = {0};
	uint32_t listed = 0;
	while (pc__next_item(rd, &listed, PC_OVERLAY_MAX_NEIGHBOURS)) {
		struct pc_overlay_neighbour n = {.node_index = PC_NONE};
		pc_schema_apply_defaults(item->items, &n);
		n.line = (uint32_t)rd->ev.start_mark.line + 1;
		snprintf(rd->label, sizeof(rd->label), "overlay neighbour #%u", listed);
		if (!pc__walk_map(rd, item->items, &n, NULL) || n.node == NULL || !n.has_address ||
		    !n.has_key)
			continue;
		struct pc_overlay_neighbour *slot = pc__vec_push(rd, &list, sizeof(n));
		if (slot != NULL)
			*slot = n;
	}
	memcpy(rd->label, outer, sizeof(outer));
	if (list.n > 0) {
		struct pc_overlay_neighbour *kept = pc__alloc(rd, list.n * sizeof(*kept));
		if (kept != NULL) {
			memcpy(kept, list.data, list.n * sizeof(*kept));
			params->neighbours = kept;
			params->n_neighbours = (uint32_t)list.n;
		}
	}
	free(list.data);
}

static const char *check_subscription(const void *field)
{
	const char *text = *(const char *const *)field;
	const char *at = strrchr(text, '@');
	if (at == NULL || !pc_ovl_channel_ok(text, (size_t)(at - text)) ||
	    !pc_ovl_name_ok(at + 1, strlen(at + 1)))
		return "not CHANNEL@NODE";
	return NULL;
}

static const char *check_channel(const void *field)
{
	const char *text = *(const char *const *)field;
	return text == NULL || pc_ovl_channel_ok(text, strlen(text)) ? NULL : "not a channel name";
}

static void read_channel(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	if (!pc__want_scalar(rd, "a channel"))
		return;
	const char *copy = pc__strndup(rd, pc__scalar(rd), pc__scalar_len(rd));
	if (copy != NULL && check_channel(&copy) != NULL) {
		pc__item_error(rd, "%s: %s is not <owner>/<name>", rd->key, pc__quote(rd, copy));
		return;
	}
	memcpy((char *)target + item->offset, &copy, sizeof(copy));
}

// clang-format off
static const struct pc_item test_items[] = {
	PC_CUSTOM_AT("channel", 0, pc_overlay_params, test_channel, read_channel, 0, "channel",
	             "publish a numbered block on this channel (tests and demos)",
	             .default_doc = "none"),
	PC_MS("interval_ms", pc_overlay_params, test_interval_ms, 1, 60000, 20,
	      "between two test blocks"),
	PC_TEXTS("subscribe", pc_overlay_params, test_subscribe,
	         "test channels to subscribe to, each logged block by block",
	         .type_doc = "list of CHANNEL@NODE", .check = check_subscription),
	PC_UINT("block_bytes", pc_overlay_params, test_block_bytes, 0, 200000, 0, NULL,
	        "pad each test block to this many bytes (bench/control.sh); 0: the short text"),
	PC_UINT("burst", pc_overlay_params, test_burst, 1, 10000, 1, NULL,
	        "test blocks published per interval, while no link is full (flow control)"),
	PC_UINT("count", pc_overlay_params, test_count, 0, UINT32_MAX, 0, NULL,
	        "the stream stops after this block number; 0: never"),
	PC_UINT("load_records", pc_overlay_params, test_load_records, 0, 4000, 0, NULL,
	        "each test block is instead this many LOAD records on our load channel"),
	PC_END,
};

static const struct pc_item overlay_items[] = {
	PC_BOOL("enabled", pc_overlay_params, enabled, false, "run the role"),
	PC_ADDRS("listen", pc_overlay_params, listen, "",
	         .default_doc = "the node's addresses"),
	PC_UINT("port", pc_overlay_params, port, 1, UINT16_MAX, PC_OVERLAY_PORT, NULL,
	        "the TCP port of the virtual links"),
	PC_UINT("router_id", pc_overlay_params, router_id, 0, UINT32_MAX, 0, NULL,
	        "this router's id in the overlay", .default_doc = "FNV-1a of the node's name"),
	PC__ITEM("neighbours", LIST, .items = neighbour_items, .read = read_neighbours,
	         .help = "the virtual links, each dialled by its end with the higher router id"),
	PC_MS("heartbeat_ms", pc_overlay_params, heartbeat_ms, 10, 60000, 200,
	      "a HEARTBEAT when nothing else was sent for this long"),
	PC_MS("dead_ms", pc_overlay_params, dead_ms, 20, 600000, 1000,
	      "a link silent this long is down"),
	PC_MS("slow_link_ms", pc_overlay_params, slow_link_ms, 100, 600000, 5000,
	      "a link whose unsent output stays above the high-water mark this long is cut"),
	PC_MS("load_every_ms", pc_overlay_params, load_every_ms, 50, 60000, 1000,
	      "LOAD records are published at least this often (and at every change)"),
	PC_MS("join_refresh_ms", pc_overlay_params, join_refresh_ms, 50, 600000, 10000,
	      "a JOIN is repeated this often; a child silent for 3 of these is pruned"),
	PC_MS("stop_grace_ms", pc_overlay_params, stop_grace_ms, 0, 60000, 1000,
	      "on SIGTERM, the router says GOODBYE and forwards at most this long while its "
	      "children move; 0: it stops at once (docs/overlay.md, \"GOODBYE\")"),
	PC_SECTION("test", test_items, "a numbered test stream (docs/overlay.md, \"The role\")"),
	PC_END,
};
// clang-format on

static const char *overlay_check(const void *settings)
{
	const struct pc_overlay_params *p = settings;
	if (p->dead_ms <= p->heartbeat_ms)
		return "dead_ms must be longer than heartbeat_ms";
	/* A held router reads no JOIN refreshes for up to twice slow_link_ms;
	 * its children must not be dropped as silent meanwhile. */
	if (2ULL * p->slow_link_ms >= 3ULL * p->join_refresh_ms)
		return "2 x slow_link_ms must be shorter than 3 x join_refresh_ms (a held "
		       "router reads no JOIN refreshes)";
	return NULL;
}

/* The router id a node has unless its own file says otherwise. */
static uint32_t node_id(const pc_model *m, uint32_t node)
{
	return pc_overlay_router_id(m->nodes[node].name);
}

static void overlay_verify(void *settings, const struct pc_section_env *env)
{
	struct pc_overlay_params *p = settings;
	const pc_model *m = env->model;
	for (uint32_t a = 0; a < m->n_nodes; a++)
		for (uint32_t b = a + 1; b < m->n_nodes; b++)
			if (m->nodes[a].name != NULL && m->nodes[b].name != NULL &&
			    node_id(m, a) == node_id(m, b))
				pc_section_error(
				    env, 0, 0,
				    "overlay: nodes \"%.60s\" and \"%.60s\" have the same "
				    "router id %u; give one a router_id",
				    m->nodes[a].name, m->nodes[b].name, node_id(m, a));
	for (uint32_t i = 0; i < p->n_neighbours; i++) {
		struct pc_overlay_neighbour *n = &p->neighbours[i];
		n->node_index = PC_NONE; /* the model's indexes are not built yet */
		for (uint32_t k = 0; k < m->n_nodes && n->node_index == PC_NONE; k++)
			if (m->nodes[k].name != NULL && strcmp(m->nodes[k].name, n->node) == 0)
				n->node_index = k;
		uint64_t id = 0;
		if (n->node_index != PC_NONE)
			n->id = node_id(m, n->node_index);
		else if (pc__parse_u64(n->node, strlen(n->node), &id) && id > 0 && id <= UINT32_MAX)
			n->id = (uint32_t)id;
		else
			pc_section_error(
			    env, n->line, 0,
			    "overlay.neighbours: \"%.60s\" is no node and no router id", n->node);
		for (uint32_t j = 0; j < i && n->id != 0; j++)
			if (p->neighbours[j].id == n->id)
				pc_section_error(env, n->line, 0,
				                 "overlay.neighbours: router id %u is listed twice",
				                 n->id);
	}
}

static int overlay_finish(void *settings, const struct pc_section_env *env)
{
	struct pc_overlay_params *p = settings;
	if (p->router_id == 0)
		p->router_id = pc_overlay_router_id(
		    env->self_node != PC_NONE ? env->model->nodes[env->self_node].name : "");
	return 0;
}

const struct pc_section pc_overlay_section =
    PC_SETTINGS("overlay", pc_overlay_params, overlay_items, false,
                "the overlay role: virtual links, link-state routing, channels and the "
                "control groups (docs/overlay.md)",
                .check = overlay_check, .verify = overlay_verify, .finish = overlay_finish);

const struct pc_overlay_params *pc_overlay_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_overlay_section);
}
