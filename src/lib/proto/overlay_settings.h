/* overlay_settings: the overlay role's settings (docs/config.md, "overlay";
 * docs/overlay.md, "The role") and the config section that fills them:
 * this router's id, its virtual links to configured neighbours with their
 * keys and costs, and the link timers. */
#ifndef PC_LIB_OVERLAY_SETTINGS_H
#define PC_LIB_OVERLAY_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/model/config.h"
#include "lib/model/model.h"
#include "lib/model/schema.h"

#define PC_OVERLAY_PORT           7400
#define PC_OVERLAY_MAX_NEIGHBOURS 64

/* One configured virtual link. */
struct pc_overlay_neighbour {
	const char *node;    /* as written: a node's name, or its router id in decimal */
	uint32_t id;         /* the neighbour's router id (set once the file is read) */
	uint32_t node_index; /* the model's node it names, or PC_NONE (given by id) */
	pc_addr addr;        /* where to dial it */
	uint16_t port;
	bool has_address;
	uint8_t key[32]; /* the link's key, the same at both ends */
	bool has_key;
	uint32_t cost; /* the link's metric from this router, 1..PC_LSA_COST_MAX */
	uint32_t line; /* where it is written, for messages */
};

struct pc_overlay_params {
	bool enabled;
	struct pc_addr_list listen; /* empty: the node's addresses */
	uint16_t port;
	uint32_t router_id; /* 0 as written: pc_overlay_router_id(the node's name) */
	struct pc_overlay_neighbour *neighbours;
	uint32_t n_neighbours;
	uint32_t heartbeat_ms, dead_ms;
	uint32_t slow_link_ms;  /* a link full this long is cut (docs/overlay.md, "Flow control") */
	uint32_t load_every_ms; /* LOAD records are published at least this often */
	uint32_t join_refresh_ms; /* JOINs are repeated this often (soft state) */
	/* A clean stop (SIGTERM): GOODBYE, then forwarding for at most this
	 * long while the children move (docs/overlay.md, "GOODBYE"). */
	uint32_t stop_grace_ms;
	/* Test hook: publish a numbered block on this channel every interval
	 * (NULL: none), and log the blocks of subscribed test channels. */
	const char *test_channel;
	uint32_t test_interval_ms;
	struct pc_text_list test_subscribe; /* "<channel>@<source node>" */
	/* Bench hooks (bench/control.sh): block size, blocks per interval,
	 * the last block, and LOAD records instead of text. */
	uint32_t test_block_bytes, test_burst, test_count, test_load_records;
};

extern const struct pc_section pc_overlay_section;

/* The settings of a config loaded with the section, or NULL. */
const struct pc_overlay_params *pc_overlay_settings(const pc_config *config);

#endif
