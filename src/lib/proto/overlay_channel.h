/* overlay_channel: one router's multicast state (patent §3.3, claims 7-8):
 * per channel `<provider-or-cdn>/<name>`, its source router, the upstream
 * (our parent toward the source, from overlay_lsdb), the downstream
 * neighbours that joined, the local subscriber, and a window of the last
 * blocks. Data flows only down branches that joined; each block goes to a
 * neighbour at most once; a downstream that re-joins (after a failure, along
 * a new shortest path) with the last sequence number it has gets exactly the
 * blocks after it from the window: nothing lost, nothing twice.
 *
 * Sequence numbers count within an epoch: the source's start time, so a
 * source that restarts and numbers from 1 again is a new stream that
 * replaces the old one everywhere (higher epoch wins), not a run of
 * duplicates. Joins are soft state: a downstream repeats its JOIN every
 * join_refresh_ms (pc_ovchan_refresh says when), and one not heard for
 * three intervals is dropped (pc_ovchan_tick).
 *
 * Pure: the caller decodes JOIN, PRUNE and DATA messages, passes times and
 * the routes, and sends what the answers say. Not thread-safe: one owner. */
#ifndef PC_LIB_OVERLAY_CHANNEL_H
#define PC_LIB_OVERLAY_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/proto/overlay_lsdb.h"

#define PC_OVCHAN_NAME_MAX 255
/* A join's last_seq when the joiner has nothing yet: it wants the blocks
 * from the next one on, not the window. Sources number blocks from 1, so
 * last_seq 0 asks for everything the window still holds since the first. */
#define PC_OVCHAN_FRESH UINT64_MAX

typedef struct pc_ovchan pc_ovchan;

struct pc_ovchan_params {
	uint32_t self;            /* this router's id: a join from self is the local subscriber */
	uint32_t max_channels;    /* 0: 4096 */
	uint32_t max_downstream;  /* neighbours joined to one channel; 0: 64 */
	uint32_t window_blocks;   /* blocks kept per channel; 0: 1024 */
	size_t window_bytes;      /* payload bytes kept per channel; 0: 4 MiB */
	uint32_t prune_hold_ms;   /* a channel nobody wants lives this long; 0: 2000 */
	uint32_t join_refresh_ms; /* JOINs are repeated this often; 0: 10000 */
	/* Of the channels this router is the source of (unix ms at start);
	 * raised past a newer one a RESUME joiner holds of our stream (a
	 * clock that stepped back between two runs). */
	uint64_t epoch;
};

/* A downstream not heard for this many refresh intervals is dropped. */
#define PC_OVCHAN_REFRESH_MISSES 3

struct pc_ovchan_block {
	uint64_t seq;
	const uint8_t *data;
	size_t len;
};

/* What a join asks of the caller. */
struct pc_ovchan_joined {
	uint32_t n_blocks; /* send these to the joiner (to self: deliver them), in order */
	const struct pc_ovchan_block *blocks; /* valid until the next call on the table */
	/* The joiner's next block has left the window (or was never here): the
	 * blocks above start after a gap and the subscriber must restart. */
	bool overflow;
	uint64_t blocks_epoch; /* the epoch of those blocks */
	/* The channel is new here: send JOIN(name, source, epoch, last_seq) to
	 * upstream (NONE while the source is unreachable: a later reroute says
	 * when). */
	bool join_upstream;
	uint32_t upstream;
	uint64_t last_seq;
	uint64_t epoch;
};

enum pc_ovchan_data_verdict {
	PC_OVCHAN_FORWARD,      /* new: send to `to`, deliver locally if `deliver` */
	PC_OVCHAN_DUPLICATE,    /* seq already seen: dropped, counted */
	PC_OVCHAN_NOT_UPSTREAM, /* from a neighbour that is not our parent: dropped, counted */
	PC_OVCHAN_UNKNOWN,      /* a channel nobody here joined: dropped, counted; the
	                         * caller may PRUNE the sender */
	PC_OVCHAN_STALE,        /* of an epoch older than the channel's: dropped, counted */
};

struct pc_ovchan_forward {
	enum pc_ovchan_data_verdict verdict;
	uint32_t n_to;
	const uint32_t *to; /* downstream neighbours, each once; valid until the next call */
	bool deliver;       /* the local subscriber wants it */
	bool gap;           /* blocks between the last seen and this one never came */
	bool new_epoch;     /* the first block of a newer epoch: the source restarted */
	uint64_t epoch;     /* the block's */
};

/* A channel whose upstream changed (reroute), that was pruned (tick) or
 * whose JOIN is due again (refresh). */
struct pc_ovchan_event {
	const char *name;
	uint32_t source;
	uint32_t upstream;     /* send JOIN(name, source, epoch, last_seq) here unless NONE */
	uint32_t old_upstream; /* send PRUNE(name) here unless NONE (the link may be gone) */
	uint64_t last_seq;     /* the last block we have, or PC_OVCHAN_FRESH */
	uint64_t epoch;        /* last_seq's */
};
typedef void pc_ovchan_emit(void *arg, const struct pc_ovchan_event *event);

struct pc_ovchan_stats {
	uint64_t joins, prunes, blocks_in, blocks_forwarded, blocks_resent;
	uint64_t duplicates, not_upstream, unknown, gaps, overflows;
	uint64_t rejected_joins; /* bad name, table or channel full, a join from our upstream */
	uint64_t channels_pruned, reroutes;
	uint64_t refreshes;     /* JOINs of a downstream already joined: its timer restarted */
	uint64_t joins_expired; /* downstreams dropped, not heard for PC_OVCHAN_REFRESH_MISSES */
	uint64_t new_epochs;    /* channels that went over to a restarted source's stream */
	uint64_t stale_epochs;  /* blocks of an older epoch, dropped */
	uint64_t epochs_raised; /* our epoch put past a joiner's newer one of our stream */
};

int pc_ovchan_new(const struct pc_ovchan_params *params, pc_ovchan **out);
void pc_ovchan_free(pc_ovchan *table); /* NULL is fine */

/* `from` (a neighbour, or self for the local subscriber) joins channel
 * `name` of `source`, having every block up to last_seq of epoch (or
 * FRESH: epoch ignored). The upstream of a new channel is
 * pc_lsdb_parent(lsdb, source), from the last SPF. A JOIN from a
 * downstream already joined in the channel's epoch is a refresh: its timer
 * restarts, nothing is resent and its position stays. A joiner of an older
 * epoch gets the window from the current epoch's first block. Returns
 * PC_EINVAL for a bad name or a join from our own upstream, PC_ENOSPC when
 * the table or the channel's downstream set is full (each counted),
 * PC_ENOMEM. */
int pc_ovchan_join(pc_ovchan *table, const pc_lsdb *lsdb, const char *name, uint32_t source,
                   uint32_t from, uint64_t epoch, uint64_t last_seq, uint64_t now_ms,
                   struct pc_ovchan_joined *out);

/* `from` leaves channel name (self: the local subscriber). A channel left
 * with nobody is dropped by pc_ovchan_tick after the hold time. PC_ENOENT
 * when from had not joined. */
int pc_ovchan_prune(pc_ovchan *table, const char *name, uint32_t from, uint64_t now_ms);

/* A block of channel name and epoch arrived from neighbour `from`, or from
 * self for a block this router originates (the source: epoch is then the
 * table's, the argument ignored). A newer epoch than the channel's
 * replaces its stream (the window is emptied; every downstream gets the new
 * one from this block on); an older one is STALE. The payload is copied
 * into the window. PC_ENOMEM; everything else is out->verdict. */
int pc_ovchan_data(pc_ovchan *table, const char *name, uint32_t from, uint64_t epoch, uint64_t seq,
                   const uint8_t *data, size_t len, uint64_t now_ms, struct pc_ovchan_forward *out);

/* After every SPF: re-reads each channel's parent toward its source and
 * emits the channels whose upstream changed, so the caller re-joins with
 * the last sequence it has and prunes the old parent. A new parent that
 * was downstream of us leaves the downstream set. Returns how many. */
uint32_t pc_ovchan_reroute(pc_ovchan *table, const pc_lsdb *lsdb, uint64_t now_ms,
                           pc_ovchan_emit *emit, void *arg);

/* The link to neighbour is down: it leaves every downstream set. */
void pc_ovchan_neighbour_down(pc_ovchan *table, uint32_t neighbour, uint64_t now_ms);

/* Drops the downstream neighbours not heard for PC_OVCHAN_REFRESH_MISSES
 * refresh intervals (counted), then the channels nobody has wanted for the
 * hold time, emitting each (its upstream in old_upstream, to be sent
 * PRUNE). Returns how many channels. */
uint32_t pc_ovchan_tick(pc_ovchan *table, uint64_t now_ms, pc_ovchan_emit *emit, void *arg);

/* Emits every channel whose JOIN to its upstream is due again (one
 * refresh interval after the last): the caller sends JOIN(name, source,
 * epoch, last_seq) to event->upstream. Channels without an upstream, of
 * which we are the source, or that nobody wants are skipped. Returns how
 * many. */
uint32_t pc_ovchan_refresh(pc_ovchan *table, uint64_t now_ms, pc_ovchan_emit *emit, void *arg);

/* The last sequence number seen on name (PC_OVCHAN_FRESH when none) and
 * its upstream, for status and tests. PC_ENOENT. */
int pc_ovchan_status(const pc_ovchan *table, const char *name, uint64_t *last_seq,
                     uint32_t *upstream, uint32_t *n_downstream);

/* Calls fn(arg, name) for each channel this router is the source of
 * that somebody wants: a downstream neighbour or the local subscriber
 * joined it, whether or not a block was published yet. Returns how many.
 * An injection point learns so which of its streams are watched (the
 * cascade pulls a feed only while its channel is, docs/live.md). */
typedef void pc_ovchan_name_fn(void *arg, const char *name);
uint32_t pc_ovchan_own_wanted(const pc_ovchan *table, pc_ovchan_name_fn *fn, void *arg);

/* How many downstream neighbours this router feeds a channel of another
 * source: (channel, neighbour) pairs. A router that is leaving the
 * overlay waits for this to reach 0 (its children moved to other
 * parents); the channels it is the source of do not count. */
uint32_t pc_ovchan_relaying(const pc_ovchan *table);

const struct pc_ovchan_stats *pc_ovchan_stats(const pc_ovchan *table);

#endif
