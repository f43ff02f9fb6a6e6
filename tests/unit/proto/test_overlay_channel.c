/* Unit tests of the overlay's channel state: join and prune, forwarding
 * each block once per neighbour, windows and re-joins, and a small
 * simulated overlay in which a router dies and a link is cut mid-stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/err.h"
#include "lib/proto/overlay_channel.h"
#include "lib/proto/overlay_lsdb.h"

#define CH "acme/live1"
#define EP 7 /* the epoch of every source here, unless a test says */

struct edge {
	uint32_t a, b, cost;
};

/* self's database of the routers and symmetric edges given, SPF done. */
static pc_lsdb *db_of(uint32_t self, const uint32_t *routers, uint32_t n_routers,
                      const struct edge *edges, uint32_t n_edges)
{
	struct pc_lsdb_params params = {.self = self};
	pc_lsdb *db = NULL;
	assert_int_equal(pc_lsdb_new(&params, &db), 0);
	for (uint32_t i = 0; i < n_routers; i++) {
		struct pc_lsa_link links[16];
		uint16_t n = 0;
		for (uint32_t k = 0; k < n_edges; k++) {
			if (edges[k].a == routers[i])
				links[n++] = (struct pc_lsa_link){edges[k].b, edges[k].cost};
			else if (edges[k].b == routers[i])
				links[n++] = (struct pc_lsa_link){edges[k].a, edges[k].cost};
		}
		if (routers[i] == self) {
			assert_int_equal(pc_lsdb_originate(db, links, n, 0, NULL), 0);
		} else {
			struct pc_lsa lsa = {
			    .origin = routers[i], .seq = 1, .n_links = n, .links = links};
			enum pc_lsdb_verdict v;
			assert_int_equal(pc_lsdb_install(db, &lsa, 0, &v), 0);
		}
	}
	assert_int_equal(pc_lsdb_spf(db), 0);
	return db;
}

static pc_ovchan *table_new(uint32_t self, uint32_t window_blocks, size_t window_bytes)
{
	struct pc_ovchan_params params = {.self = self,
	                                  .max_channels = 8,
	                                  .max_downstream = 4,
	                                  .window_blocks = window_blocks,
	                                  .window_bytes = window_bytes,
	                                  .prune_hold_ms = 2000,
	                                  .epoch = EP};
	pc_ovchan *t = NULL;
	assert_int_equal(pc_ovchan_new(&params, &t), 0);
	return t;
}

/* A star around router 2: source 1 upstream, 3, 4 and 5 downstream. */
static const uint32_t star_routers[] = {1, 2, 3, 4, 5};
static const struct edge star_edges[] = {{1, 2, 1}, {2, 3, 1}, {2, 4, 1}, {2, 5, 1}};

static pc_lsdb *star(uint32_t self)
{
	return db_of(self, star_routers, 5, star_edges, 4);
}

static struct pc_ovchan_forward data(pc_ovchan *t, uint32_t from, uint64_t seq)
{
	uint8_t payload[8];
	memset(payload, (int)seq, sizeof(payload));
	struct pc_ovchan_forward fw;
	assert_int_equal(pc_ovchan_data(t, CH, from, EP, seq, payload, sizeof(payload), 0, &fw), 0);
	return fw;
}

struct events {
	uint32_t n;
	struct pc_ovchan_event ev[8];
	char names[8][PC_OVCHAN_NAME_MAX + 1];
};

static void collect(void *arg, const struct pc_ovchan_event *event)
{
	struct events *e = arg;
	assert_true(e->n < 8);
	strcpy(e->names[e->n], event->name);
	e->ev[e->n] = *event;
	e->ev[e->n].name = e->names[e->n];
	e->n++;
}

static void test_join_forward_prune(void **state)
{
	(void)state;
	pc_lsdb *db = star(2);
	pc_ovchan *t = table_new(2, 0, 0);
	struct pc_ovchan_joined j;
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 3, EP, PC_OVCHAN_FRESH, 0, &j), 0);
	assert_true(j.join_upstream);
	assert_int_equal(j.upstream, 1);
	assert_int_equal(j.last_seq, PC_OVCHAN_FRESH);
	assert_int_equal(j.n_blocks, 0);
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 4, EP, PC_OVCHAN_FRESH, 0, &j), 0);
	assert_false(j.join_upstream); /* already joined upstream */

	struct pc_ovchan_forward fw = data(t, 1, 1);
	assert_int_equal(fw.verdict, PC_OVCHAN_FORWARD);
	assert_int_equal(fw.n_to, 2);
	assert_false(fw.deliver);
	/* 5 never joined: its branch gets nothing. */
	for (uint32_t i = 0; i < fw.n_to; i++)
		assert_int_not_equal(fw.to[i], 5);

	assert_int_equal(pc_ovchan_prune(t, CH, 3, 100), 0);
	assert_int_equal(pc_ovchan_prune(t, CH, 3, 100), PC_ENOENT);
	fw = data(t, 1, 2);
	assert_int_equal(fw.n_to, 1);
	assert_int_equal(fw.to[0], 4);

	/* The last one leaves: the channel lingers for the hold time, then
	 * goes with a PRUNE to the upstream. */
	assert_int_equal(pc_ovchan_prune(t, CH, 4, 1000), 0);
	struct events ev = {0};
	assert_int_equal(pc_ovchan_tick(t, 2999, collect, &ev), 0);
	assert_int_equal(ev.n, 0);
	assert_int_equal(pc_ovchan_tick(t, 3000, collect, &ev), 1);
	assert_int_equal(ev.n, 1);
	assert_string_equal(ev.ev[0].name, CH);
	assert_int_equal(ev.ev[0].old_upstream, 1);
	assert_int_equal(ev.ev[0].upstream, PC_OVERLAY_ROUTER_NONE);
	fw = data(t, 1, 3);
	assert_int_equal(fw.verdict, PC_OVCHAN_UNKNOWN);
	const struct pc_ovchan_stats *st = pc_ovchan_stats(t);
	assert_int_equal(st->channels_pruned, 1);
	assert_int_equal(st->unknown, 1);
	assert_int_equal(st->blocks_forwarded, 3);
	pc_ovchan_free(t);
	pc_lsdb_free(db);
}

static void test_rejoin_within_hold_keeps_channel(void **state)
{
	(void)state;
	pc_lsdb *db = star(2);
	pc_ovchan *t = table_new(2, 0, 0);
	struct pc_ovchan_joined j;
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 3, EP, PC_OVCHAN_FRESH, 0, &j), 0);
	pc_ovchan_neighbour_down(t, 3, 0);
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 4, EP, PC_OVCHAN_FRESH, 0, &j), 0);
	assert_false(j.join_upstream);
	struct events ev = {0};
	assert_int_equal(pc_ovchan_tick(t, 10000, collect, &ev), 0);
	pc_ovchan_free(t);
	pc_lsdb_free(db);
}

static void test_drops_duplicates_and_strangers(void **state)
{
	(void)state;
	pc_lsdb *db = star(2);
	pc_ovchan *t = table_new(2, 0, 0);
	struct pc_ovchan_joined j;
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 3, EP, PC_OVCHAN_FRESH, 0, &j), 0);
	assert_int_equal(data(t, 1, 1).verdict, PC_OVCHAN_FORWARD);
	assert_int_equal(data(t, 1, 1).verdict, PC_OVCHAN_DUPLICATE);
	assert_int_equal(data(t, 4, 2).verdict, PC_OVCHAN_NOT_UPSTREAM);
	assert_int_equal(data(t, 3, 2).verdict, PC_OVCHAN_NOT_UPSTREAM);
	assert_int_equal(data(t, 2, 2).verdict, PC_OVCHAN_NOT_UPSTREAM); /* we are not the source */
	struct pc_ovchan_forward fw = data(t, 1, 4);
	assert_int_equal(fw.verdict, PC_OVCHAN_FORWARD);
	assert_true(fw.gap);
	assert_int_equal(data(t, 1, 3).verdict, PC_OVCHAN_DUPLICATE); /* late: seq <= last */
	uint8_t b = 0;
	assert_int_equal(pc_ovchan_data(t, CH, 1, EP, 0, &b, 1, 0, &fw), PC_EINVAL);
	/* Our parent joining us would make a loop; a bad name is refused. */
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 1, EP, PC_OVCHAN_FRESH, 0, &j), PC_EINVAL);
	assert_int_equal(pc_ovchan_join(t, db, "nochannel", 1, 3, EP, 0, 0, &j), PC_EINVAL);
	assert_int_equal(pc_ovchan_join(t, db, "acme/", 1, 3, EP, 0, 0, &j), PC_EINVAL);
	assert_int_equal(pc_ovchan_join(t, db, CH, 5, 3, EP, 0, 0, &j),
	                 PC_EINVAL); /* another source */
	const struct pc_ovchan_stats *st = pc_ovchan_stats(t);
	assert_int_equal(st->duplicates, 2);
	assert_int_equal(st->not_upstream, 3);
	assert_int_equal(st->gaps, 1);
	assert_int_equal(st->rejected_joins, 4);
	assert_int_equal(st->blocks_forwarded, 2);
	pc_ovchan_free(t);
	pc_lsdb_free(db);
}

static void test_downstream_bound(void **state)
{
	(void)state;
	static const uint32_t routers[] = {1, 2, 3, 4, 5, 6, 7};
	static const struct edge edges[] = {{1, 2, 1}, {2, 3, 1}, {2, 4, 1},
	                                    {2, 5, 1}, {2, 6, 1}, {2, 7, 1}};
	pc_lsdb *db = db_of(2, routers, 7, edges, 6);
	pc_ovchan *t = table_new(2, 0, 0); /* 4 downstream neighbours */
	struct pc_ovchan_joined j;
	for (uint32_t n = 3; n <= 6; n++)
		assert_int_equal(pc_ovchan_join(t, db, CH, 1, n, EP, PC_OVCHAN_FRESH, 0, &j), 0);
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 7, EP, PC_OVCHAN_FRESH, 0, &j), PC_ENOSPC);
	/* The local subscriber does not count against neighbours. */
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 2, EP, PC_OVCHAN_FRESH, 0, &j), 0);
	struct pc_ovchan_forward fw = data(t, 1, 1);
	assert_int_equal(fw.n_to, 4);
	assert_true(fw.deliver);
	pc_ovchan_free(t);
	pc_lsdb_free(db);
}

static void test_rejoin_gets_exactly_the_missing(void **state)
{
	(void)state;
	pc_lsdb *db = star(2);
	pc_ovchan *t = table_new(2, 8, 0);
	struct pc_ovchan_joined j;
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 3, EP, PC_OVCHAN_FRESH, 0, &j), 0);
	for (uint64_t s = 1; s <= 5; s++)
		assert_int_equal(data(t, 1, s).n_to, 1);
	/* 4 joins having 2: it gets 3, 4, 5 and then 6 once. */
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 4, EP, 2, 0, &j), 0);
	assert_false(j.overflow);
	assert_int_equal(j.n_blocks, 3);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(j.blocks[i].seq, 3 + i);
		assert_int_equal(j.blocks[i].len, 8);
		assert_int_equal(j.blocks[i].data[0], 3 + i);
	}
	struct pc_ovchan_forward fw = data(t, 1, 6);
	assert_int_equal(fw.n_to, 2);
	/* 3 re-joins (its link was reset) having 6: nothing to resend. */
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 3, EP, 6, 0, &j), 0);
	assert_int_equal(j.n_blocks, 0);
	/* 5 joins ahead of us (it had a faster parent): nothing until 8. */
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 5, EP, 7, 0, &j), 0);
	assert_int_equal(j.n_blocks, 0);
	fw = data(t, 1, 7);
	assert_int_equal(fw.n_to, 2);
	fw = data(t, 1, 8);
	assert_int_equal(fw.n_to, 3);
	/* A fresh join gets none of the window, only what comes next. */
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 2, EP, PC_OVCHAN_FRESH, 0, &j), 0);
	assert_int_equal(j.n_blocks, 0);
	assert_true(data(t, 1, 9).deliver);
	assert_int_equal(pc_ovchan_stats(t)->blocks_resent, 3);
	pc_ovchan_free(t);
	pc_lsdb_free(db);
}

static void test_new_channel_starts_at_joiner(void **state)
{
	(void)state;
	pc_lsdb *db = star(2);
	pc_ovchan *t = table_new(2, 0, 0);
	/* 3 re-joins through us having 5: we ask upstream for 6 on and hold
	 * nothing before it, so 4 joining with 2 restarts, and a stale 4 from
	 * upstream is a duplicate. */
	struct pc_ovchan_joined j;
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 3, EP, 5, 0, &j), 0);
	assert_true(j.join_upstream);
	assert_int_equal(j.last_seq, 5);
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 4, EP, 2, 0, &j), 0);
	assert_true(j.overflow);
	assert_int_equal(j.n_blocks, 0);
	assert_int_equal(data(t, 1, 4).verdict, PC_OVCHAN_DUPLICATE);
	struct pc_ovchan_forward fw = data(t, 1, 6);
	assert_false(fw.gap);
	assert_int_equal(fw.n_to, 2);
	pc_ovchan_free(t);
	pc_lsdb_free(db);
}

static void test_window_overflow(void **state)
{
	(void)state;
	pc_lsdb *db = star(2);
	pc_ovchan *t = table_new(2, 4, 0);
	struct pc_ovchan_joined j;
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 3, EP, PC_OVCHAN_FRESH, 0, &j), 0);
	for (uint64_t s = 1; s <= 10; s++)
		data(t, 1, s);
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 4, EP, 6, 0, &j), 0);
	assert_false(j.overflow); /* 7..10 are all held */
	assert_int_equal(j.n_blocks, 4);
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 5, EP, 3, 0, &j), 0);
	assert_true(j.overflow); /* 4..6 are gone: the subscriber restarts */
	assert_int_equal(j.n_blocks, 4);
	assert_int_equal(j.blocks[0].seq, 7);
	assert_int_equal(pc_ovchan_stats(t)->overflows, 1);
	pc_ovchan_free(t);

	/* The byte bound: 20 bytes hold two blocks of 8. */
	t = table_new(2, 0, 20);
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 3, EP, PC_OVCHAN_FRESH, 0, &j), 0);
	for (uint64_t s = 1; s <= 5; s++)
		data(t, 1, s);
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 4, EP, 0, 0, &j), 0);
	assert_true(j.overflow);
	assert_int_equal(j.n_blocks, 2);
	assert_int_equal(j.blocks[0].seq, 4);
	assert_int_equal(j.blocks[1].seq, 5);
	pc_ovchan_free(t);
	pc_lsdb_free(db);
}

static void test_source_window_and_local(void **state)
{
	(void)state;
	pc_lsdb *db = star(1);
	pc_ovchan *t = table_new(1, 0, 0);
	/* The source publishes before anyone joins; a joiner from the start
	 * gets the window. */
	struct pc_ovchan_forward fw = data(t, 1, 1);
	assert_int_equal(fw.verdict, PC_OVCHAN_FORWARD);
	assert_int_equal(fw.n_to, 0);
	data(t, 1, 2);
	struct pc_ovchan_joined j;
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 2, EP, 0, 0, &j), 0);
	assert_false(j.join_upstream); /* we are the source */
	assert_false(j.overflow);
	assert_int_equal(j.n_blocks, 2);
	assert_int_equal(data(t, 2, 3).verdict, PC_OVCHAN_NOT_UPSTREAM); /* nobody feeds a source */
	/* The source's window outlives its subscribers while it publishes. */
	pc_ovchan_neighbour_down(t, 2, 0);
	struct events ev = {0};
	uint8_t b = 0;
	assert_int_equal(pc_ovchan_data(t, CH, 1, EP, 3, &b, 1, 1900, &fw), 0);
	assert_int_equal(pc_ovchan_tick(t, 2500, collect, &ev), 0);
	assert_int_equal(pc_ovchan_tick(t, 3900, collect, &ev), 1);
	pc_ovchan_free(t);
	pc_lsdb_free(db);
}

static void test_reroute(void **state)
{
	(void)state;
	/* A square 10 - 20 - 40, 10 - 30 - 40: 40's parent toward 10 is 20. */
	static const uint32_t routers[] = {10, 20, 30, 40};
	static const struct edge edges[] = {{10, 20, 1}, {20, 40, 1}, {10, 30, 1}, {30, 40, 1}};
	pc_lsdb *db = db_of(40, routers, 4, edges, 4);
	pc_ovchan *t = table_new(40, 0, 0);
	struct pc_ovchan_joined j;
	assert_int_equal(pc_ovchan_join(t, db, CH, 10, 40, EP, PC_OVCHAN_FRESH, 0, &j), 0);
	assert_int_equal(j.upstream, 20);
	assert_int_equal(pc_ovchan_join(t, db, CH, 10, 30, EP, PC_OVCHAN_FRESH, 0, &j), 0);
	assert_true(data(t, 20, 1).deliver);
	assert_true(data(t, 20, 2).deliver);
	struct events ev = {0};
	assert_int_equal(pc_ovchan_reroute(t, db, 0, collect, &ev), 0); /* nothing changed */

	/* 20 is gone: 30 becomes our parent and leaves our children. */
	static const uint32_t without[] = {10, 30, 40};
	static const struct edge edges2[] = {{10, 30, 1}, {30, 40, 1}};
	pc_lsdb *db2 = db_of(40, without, 3, edges2, 2);
	assert_int_equal(pc_ovchan_reroute(t, db2, 0, collect, &ev), 1);
	assert_int_equal(ev.ev[0].upstream, 30);
	assert_int_equal(ev.ev[0].old_upstream, 20);
	assert_int_equal(ev.ev[0].last_seq, 2);
	uint64_t last;
	uint32_t up, n_down;
	assert_int_equal(pc_ovchan_status(t, CH, &last, &up, &n_down), 0);
	assert_int_equal(last, 2);
	assert_int_equal(up, 30);
	assert_int_equal(n_down, 1); /* only the local subscriber */
	assert_int_equal(data(t, 20, 3).verdict, PC_OVCHAN_NOT_UPSTREAM);
	assert_int_equal(data(t, 30, 2).verdict, PC_OVCHAN_DUPLICATE);
	struct pc_ovchan_forward fw = data(t, 30, 3);
	assert_true(fw.deliver);
	assert_int_equal(fw.n_to, 0);
	assert_int_equal(pc_ovchan_stats(t)->reroutes, 1);
	pc_ovchan_free(t);
	pc_lsdb_free(db);
	pc_lsdb_free(db2);
}

/* A simulated overlay: every router has its database and its channel
 * table; messages go through one FIFO, as over per-link TCP connections,
 * and are lost when their link or an end dies. */
enum { SIM_MAX = 8, QUEUE_MAX = 4096, BLOCKS = 30 };
enum msg_type { JOIN, PRUNE, DATA };
struct msg {
	enum msg_type type;
	uint32_t from, to;
	uint64_t seq; /* DATA: the block; JOIN: the last the joiner has */
};
struct sim {
	uint32_t n;
	uint32_t ids[SIM_MAX];
	bool dead[SIM_MAX];
	pc_lsdb *db[SIM_MAX];
	pc_ovchan *t[SIM_MAX];
	uint32_t n_edges;
	struct edge edges[16];
	struct msg queue[QUEUE_MAX];
	uint32_t head, tail;
	uint64_t now;
	/* per directed link and block: how many copies crossed it */
	uint8_t crossed[SIM_MAX][SIM_MAX][BLOCKS + 1];
	uint32_t delivered[SIM_MAX][BLOCKS + 1];
	uint32_t emitting; /* the router whose events collect() sends */
};

static uint32_t sim_index(const struct sim *s, uint32_t id)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->ids[i] == id)
			return i;
	fail_msg("no router %u", id);
	return 0;
}

static bool sim_linked(const struct sim *s, uint32_t a, uint32_t b)
{
	for (uint32_t k = 0; k < s->n_edges; k++)
		if ((s->edges[k].a == a && s->edges[k].b == b) ||
		    (s->edges[k].a == b && s->edges[k].b == a))
			return true;
	return false;
}

static void sim_send(struct sim *s, enum msg_type type, uint32_t from, uint32_t to, uint64_t seq)
{
	assert_true(s->tail < QUEUE_MAX);
	s->queue[s->tail++] = (struct msg){type, from, to, seq};
}

static void sim_emit(void *arg, const struct pc_ovchan_event *ev)
{
	struct sim *s = arg;
	uint32_t self = s->ids[s->emitting];
	if (ev->upstream != PC_OVERLAY_ROUTER_NONE)
		sim_send(s, JOIN, self, ev->upstream, ev->last_seq);
	if (ev->old_upstream != PC_OVERLAY_ROUTER_NONE)
		sim_send(s, PRUNE, self, ev->old_upstream, 0);
}

/* Every live router rebuilds its database from the live world (what
 * flooding would bring it), drops dead links and reroutes. */
static void sim_converge(struct sim *s)
{
	uint32_t alive[SIM_MAX], n_alive = 0;
	for (uint32_t i = 0; i < s->n; i++)
		if (!s->dead[i])
			alive[n_alive++] = s->ids[i];
	for (uint32_t i = 0; i < s->n; i++) {
		if (s->dead[i])
			continue;
		pc_lsdb_free(s->db[i]);
		s->db[i] = db_of(s->ids[i], alive, n_alive, s->edges, s->n_edges);
		for (uint32_t k = 0; k < s->n; k++)
			if (k != i && (s->dead[k] || !sim_linked(s, s->ids[i], s->ids[k])))
				pc_ovchan_neighbour_down(s->t[i], s->ids[k], s->now);
		s->emitting = i;
		pc_ovchan_reroute(s->t[i], s->db[i], s->now, sim_emit, s);
	}
}

static void sim_init(struct sim *s, const uint32_t *ids, uint32_t n, const struct edge *edges,
                     uint32_t n_edges)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	memcpy(s->ids, ids, n * sizeof(*ids));
	s->n_edges = n_edges;
	memcpy(s->edges, edges, n_edges * sizeof(*edges));
	for (uint32_t i = 0; i < n; i++) {
		s->db[i] = db_of(ids[i], ids, n, edges, n_edges);
		s->t[i] = table_new(ids[i], 64, 0);
	}
}

static void sim_free(struct sim *s)
{
	for (uint32_t i = 0; i < s->n; i++) {
		pc_lsdb_free(s->db[i]);
		pc_ovchan_free(s->t[i]);
	}
}

static void sim_deliver_data(struct sim *s, uint32_t at, uint32_t from, uint64_t seq)
{
	uint8_t payload = (uint8_t)seq;
	struct pc_ovchan_forward fw;
	assert_int_equal(pc_ovchan_data(s->t[at], CH, from, EP, seq, &payload, 1, s->now, &fw), 0);
	if (fw.verdict != PC_OVCHAN_FORWARD)
		return;
	for (uint32_t k = 0; k < fw.n_to; k++)
		sim_send(s, DATA, s->ids[at], fw.to[k], seq);
	if (fw.deliver)
		s->delivered[at][seq]++;
}

/* Runs the queue until it is empty or its next message is for router
 * `stop_at` (0: until empty). */
static void sim_run_until(struct sim *s, uint32_t source, uint32_t stop_at)
{
	while (s->head < s->tail && s->queue[s->head].to != stop_at) {
		struct msg m = s->queue[s->head++];
		uint32_t from = sim_index(s, m.from), to = sim_index(s, m.to);
		if (s->dead[from] || s->dead[to] || !sim_linked(s, m.from, m.to))
			continue; /* lost with its link */
		if (m.type == DATA) {
			assert_true(m.seq <= BLOCKS);
			s->crossed[from][to][m.seq]++;
			sim_deliver_data(s, to, m.from, m.seq);
		} else if (m.type == JOIN) {
			struct pc_ovchan_joined j;
			assert_int_equal(pc_ovchan_join(s->t[to], s->db[to], CH, source, m.from, EP,
			                                m.seq, s->now, &j),
			                 0);
			assert_false(j.overflow);
			for (uint32_t k = 0; k < j.n_blocks; k++)
				sim_send(s, DATA, m.to, m.from, j.blocks[k].seq);
			if (j.join_upstream && j.upstream != PC_OVERLAY_ROUTER_NONE)
				sim_send(s, JOIN, m.to, j.upstream, j.last_seq);
		} else {
			pc_ovchan_prune(s->t[to], CH, m.from, s->now);
		}
	}
}

static void sim_run(struct sim *s, uint32_t source)
{
	sim_run_until(s, source, PC_OVERLAY_ROUTER_NONE);
}

static void sim_subscribe(struct sim *s, uint32_t id, uint32_t source)
{
	uint32_t i = sim_index(s, id);
	struct pc_ovchan_joined j;
	assert_int_equal(
	    pc_ovchan_join(s->t[i], s->db[i], CH, source, id, EP, PC_OVCHAN_FRESH, s->now, &j), 0);
	if (j.join_upstream && j.upstream != PC_OVERLAY_ROUTER_NONE)
		sim_send(s, JOIN, id, j.upstream, j.last_seq);
	sim_run(s, source);
}

/* Publishes blocks first..last at the source; runs the queue only if
 * asked, so they may still be in flight when something breaks. */
static void sim_publish(struct sim *s, uint32_t source, uint64_t first, uint64_t last, bool run)
{
	for (uint64_t seq = first; seq <= last; seq++)
		sim_deliver_data(s, sim_index(s, source), source, seq);
	if (run)
		sim_run(s, source);
}

/* Each subscriber got 1..BLOCKS exactly once; no block crossed a link
 * twice. */
static void sim_check(const struct sim *s, const uint32_t *subscribers, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t at = sim_index(s, subscribers[i]);
		for (uint64_t seq = 1; seq <= BLOCKS; seq++)
			if (s->delivered[at][seq] != 1)
				fail_msg("router %u got block %u %u times", subscribers[i],
				         (unsigned)seq, s->delivered[at][seq]);
	}
	for (uint32_t a = 0; a < s->n; a++)
		for (uint32_t b = 0; b < s->n; b++)
			for (uint64_t seq = 1; seq <= BLOCKS; seq++)
				assert_true(s->crossed[a][b][seq] <= 1);
}

static uint32_t link_blocks(const struct sim *s, uint32_t a, uint32_t b)
{
	uint32_t n = 0;
	for (uint64_t seq = 1; seq <= BLOCKS; seq++)
		n += s->crossed[sim_index(s, a)][sim_index(s, b)][seq];
	return n;
}

/* Source 10; 20 and 30 in the middle; subscribers 40 and 60; 50 hangs off
 * 30 with no subscriber. 40's path runs through 20 until 20 dies. */
static const uint32_t sim_ids[] = {10, 20, 30, 40, 50, 60};
static const struct edge sim_edges[] = {{10, 20, 1}, {20, 40, 1}, {10, 30, 2},
                                        {30, 40, 2}, {30, 50, 1}, {40, 60, 1}};

/* The figure above with 40 and 60 subscribed to 10's channel and its
 * blocks 1..10 delivered. */
static struct sim *sim_streaming(void)
{
	struct sim *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	sim_init(s, sim_ids, 6, sim_edges, 6);
	sim_subscribe(s, 40, 10);
	sim_subscribe(s, 60, 10);
	sim_publish(s, 10, 1, 10, true);
	return s;
}

static void test_router_dies_mid_stream(void **state)
{
	(void)state;
	struct sim *s = sim_streaming();
	/* 11..15 leave the source toward 20, which dies with them. */
	sim_publish(s, 10, 11, 15, false);
	s->dead[sim_index(s, 20)] = true;
	s->now = 500;
	sim_converge(s);
	sim_run(s, 10);
	sim_publish(s, 10, 16, BLOCKS, true);
	static const uint32_t subs[] = {40, 60};
	sim_check(s, subs, 2);
	/* Before: 10-20-40; after: 10-30-40, which 30 was sent from 11 on
	 * (11..15 died on the way to 20: counted on arrival). */
	assert_int_equal(link_blocks(s, 10, 20), 10);
	assert_int_equal(link_blocks(s, 20, 40), 10);
	assert_int_equal(link_blocks(s, 10, 30), BLOCKS - 10);
	assert_int_equal(link_blocks(s, 30, 40), BLOCKS - 10);
	assert_int_equal(link_blocks(s, 40, 60), BLOCKS);
	assert_int_equal(link_blocks(s, 30, 50), 0); /* no subscriber, no data */
	sim_free(s);
	free(s);
}

/* Router `leaver` says GOODBYE: every other router routes around it (its
 * database without the leaver's links, which stay up and carry what is
 * in flight), and reroutes; the leaver keeps its table as it is. */
static void sim_goodbye(struct sim *s, uint32_t leaver)
{
	uint32_t others[SIM_MAX], n_others = 0;
	struct edge kept[16];
	uint32_t n_kept = 0;
	for (uint32_t i = 0; i < s->n; i++)
		if (s->ids[i] != leaver)
			others[n_others++] = s->ids[i];
	for (uint32_t k = 0; k < s->n_edges; k++)
		if (s->edges[k].a != leaver && s->edges[k].b != leaver)
			kept[n_kept++] = s->edges[k];
	for (uint32_t i = 0; i < s->n; i++) {
		if (s->ids[i] == leaver)
			continue;
		pc_lsdb_free(s->db[i]);
		s->db[i] = db_of(s->ids[i], others, n_others, kept, n_kept);
		s->emitting = i;
		pc_ovchan_reroute(s->t[i], s->db[i], s->now, sim_emit, s);
	}
}

static void test_router_leaves_mid_stream(void **state)
{
	(void)state;
	struct sim *s = sim_streaming();
	pc_ovchan *leaver = s->t[sim_index(s, 20)];
	assert_int_equal(pc_ovchan_relaying(leaver), 1);                 /* 40 */
	assert_int_equal(pc_ovchan_relaying(s->t[sim_index(s, 10)]), 0); /* its own channel */
	/* 11..15 are on their way to 20 when it says goodbye: it still
	 * forwards them, 40 has moved to 30 and takes them from there. */
	sim_publish(s, 10, 11, 15, false);
	s->now = 500;
	sim_goodbye(s, 20);
	sim_run(s, 10);
	assert_int_equal(pc_ovchan_relaying(leaver), 0); /* 40 pruned it: 20 may stop */
	sim_publish(s, 10, 16, BLOCKS, true);
	static const uint32_t subs[] = {40, 60};
	sim_check(s, subs, 2);
	assert_int_equal(link_blocks(s, 20, 40), 15); /* 11..15 arrived after the move: dropped */
	assert_int_equal(link_blocks(s, 30, 40), BLOCKS - 10);
	assert_int_equal(pc_ovchan_stats(s->t[sim_index(s, 40)])->not_upstream, 5);
	assert_int_equal(pc_ovchan_stats(s->t[sim_index(s, 40)])->gaps, 0);
	sim_free(s);
	free(s);
}

static void test_link_cut_mid_stream(void **state)
{
	(void)state;
	struct sim *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	sim_init(s, sim_ids, 6, sim_edges, 6);
	sim_subscribe(s, 60, 10);
	sim_publish(s, 10, 1, 12, true);
	/* 13..14 get as far as 20, then the link 20-40 is cut. */
	sim_publish(s, 10, 13, 14, false);
	sim_run_until(s, 10, 40);
	assert_int_equal(s->tail - s->head, 2);
	s->edges[1] = s->edges[--s->n_edges]; /* {20, 40} */
	s->now = 500;
	sim_converge(s);
	sim_run(s, 10);
	sim_publish(s, 10, 15, 20, true);
	/* 20 lost its only downstream: after the hold it prunes toward 10. */
	s->now = 3000;
	s->emitting = sim_index(s, 20);
	assert_int_equal(pc_ovchan_tick(s->t[s->emitting], s->now, sim_emit, s), 1);
	sim_run(s, 10);
	sim_publish(s, 10, 21, BLOCKS, true);
	static const uint32_t subs[] = {60};
	sim_check(s, subs, 1);
	assert_int_equal(link_blocks(s, 10, 20), 20); /* nothing after the prune */
	assert_int_equal(link_blocks(s, 30, 50), 0);
	sim_free(s);
	free(s);
}

/* ---- soft state: JOIN refreshes and their expiry (fake clock) ---- */

static pc_ovchan *table_refreshing(uint32_t self, uint32_t refresh_ms)
{
	struct pc_ovchan_params params = {.self = self,
	                                  .max_channels = 8,
	                                  .max_downstream = 4,
	                                  .prune_hold_ms = 2000,
	                                  .join_refresh_ms = refresh_ms,
	                                  .epoch = EP};
	pc_ovchan *t = NULL;
	assert_int_equal(pc_ovchan_new(&params, &t), 0);
	return t;
}

static struct pc_ovchan_forward data_at(pc_ovchan *t, uint64_t epoch, uint64_t seq, uint64_t now)
{
	uint8_t b = (uint8_t)seq;
	struct pc_ovchan_forward fw;
	assert_int_equal(pc_ovchan_data(t, CH, 1, epoch, seq, &b, 1, now, &fw), 0);
	return fw;
}

static void test_refresh_is_due_every_interval(void **state)
{
	(void)state;
	pc_lsdb *db = star(2);
	pc_ovchan *t = table_refreshing(2, 1000);
	struct pc_ovchan_joined j;
	struct events ev = {0};
	/* Nothing joined: nothing to refresh. */
	assert_int_equal(pc_ovchan_refresh(t, 5000, collect, &ev), 0);
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 3, EP, PC_OVCHAN_FRESH, 100, &j), 0);
	assert_true(j.join_upstream);
	assert_int_equal(pc_ovchan_refresh(t, 1099, collect, &ev), 0);
	assert_int_equal(pc_ovchan_refresh(t, 1100, collect, &ev), 1);
	assert_int_equal(ev.ev[0].upstream, 1);
	assert_int_equal(ev.ev[0].last_seq, PC_OVCHAN_FRESH);
	assert_int_equal(pc_ovchan_refresh(t, 1500, collect, &ev), 0);
	for (uint64_t s = 1; s <= 3; s++)
		data_at(t, EP, s, 1600);
	/* Each refresh says what we hold, so a parent that lost us resumes. */
	assert_int_equal(pc_ovchan_refresh(t, 2100, collect, &ev), 1);
	assert_int_equal(ev.ev[1].last_seq, 3);
	assert_int_equal(ev.ev[1].epoch, EP);
	assert_string_equal(ev.names[1], CH);
	/* A reroute's JOIN restarts the timer. */
	pc_lsdb *db3 = db_of(2, star_routers, 5,
	                     (const struct edge[]){{1, 3, 1}, {2, 3, 1}, {2, 4, 1}, {2, 5, 1}}, 4);
	assert_int_equal(pc_ovchan_prune(t, CH, 3, 2200), 0);
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 4, EP, 3, 2200, &j), 0);
	assert_int_equal(pc_ovchan_reroute(t, db3, 2500, collect, &ev), 1);
	assert_int_equal(ev.ev[2].upstream, 3);
	assert_int_equal(pc_ovchan_refresh(t, 3100, collect, &ev), 0);
	assert_int_equal(pc_ovchan_refresh(t, 3500, collect, &ev), 1);
	assert_int_equal(ev.ev[3].upstream, 3);
	/* Nobody left below us: no more refreshes. */
	assert_int_equal(pc_ovchan_prune(t, CH, 4, 3600), 0);
	assert_int_equal(pc_ovchan_refresh(t, 9000, collect, &ev), 0);
	assert_int_equal(ev.n, 4);
	pc_ovchan_free(t);
	pc_lsdb_free(db3);
	pc_lsdb_free(db);
}

static void test_silent_child_expires(void **state)
{
	(void)state;
	pc_lsdb *db = star(2);
	pc_ovchan *t = table_refreshing(2, 1000);
	struct pc_ovchan_joined j;
	struct events ev = {0};
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 3, EP, PC_OVCHAN_FRESH, 0, &j), 0);
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 4, EP, PC_OVCHAN_FRESH, 0, &j), 0);
	for (uint64_t s = 1; s <= 5; s++)
		assert_int_equal(data_at(t, EP, s, 100 * s).n_to, 2);
	/* 4 refreshes with a last_seq behind what is in flight to it: it keeps
	 * its place, nothing is resent, and block 6 goes to it once. */
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 4, EP, 2, 2500, &j), 0);
	assert_int_equal(j.n_blocks, 0);
	assert_false(j.join_upstream);
	assert_int_equal(pc_ovchan_stats(t)->refreshes, 1);
	assert_int_equal(pc_ovchan_stats(t)->blocks_resent, 0);
	assert_int_equal(data_at(t, EP, 5, 2600).verdict, PC_OVCHAN_DUPLICATE);
	assert_int_equal(data_at(t, EP, 6, 2600).n_to, 2);
	/* 3 was last heard at 0: three intervals later it is dropped. */
	assert_int_equal(pc_ovchan_tick(t, 2999, collect, &ev), 0);
	assert_int_equal(pc_ovchan_stats(t)->joins_expired, 0);
	assert_int_equal(pc_ovchan_tick(t, 3000, collect, &ev), 0);
	assert_int_equal(pc_ovchan_stats(t)->joins_expired, 1);
	struct pc_ovchan_forward fw = data_at(t, EP, 7, 3100);
	assert_int_equal(fw.n_to, 1);
	assert_int_equal(fw.to[0], 4);
	/* 4, heard at 2500, goes at 5500; the channel then lingers for the
	 * hold time and is pruned upstream. */
	assert_int_equal(pc_ovchan_tick(t, 5499, collect, &ev), 0);
	assert_int_equal(pc_ovchan_tick(t, 5500, collect, &ev), 0);
	assert_int_equal(pc_ovchan_stats(t)->joins_expired, 2);
	assert_int_equal(data_at(t, EP, 8, 5600).n_to, 0);
	assert_int_equal(pc_ovchan_tick(t, 7500, collect, &ev), 1);
	assert_int_equal(ev.ev[0].old_upstream, 1);
	/* The local subscriber is no soft state: it stays until it leaves. */
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 2, EP, PC_OVCHAN_FRESH, 8000, &j), 0);
	assert_int_equal(pc_ovchan_tick(t, 60000, collect, &ev), 0);
	assert_true(data_at(t, EP, 9, 60000).deliver);
	pc_ovchan_free(t);
	pc_lsdb_free(db);
}

/* ---- epochs: a restarted source is a new stream ---- */

static void test_new_epoch_replaces_the_stream(void **state)
{
	(void)state;
	pc_lsdb *db = star(2);
	pc_ovchan *t = table_refreshing(2, 1000);
	struct pc_ovchan_joined j;
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 3, 0, PC_OVCHAN_FRESH, 0, &j), 0);
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 2, 0, PC_OVCHAN_FRESH, 0, &j), 0);
	for (uint64_t s = 1; s <= 5; s++)
		assert_int_equal(data_at(t, 100, s, 0).n_to, 1);
	/* The source restarted and numbers from 1 again: taken, and passed on. */
	struct pc_ovchan_forward fw = data_at(t, 200, 1, 0);
	assert_int_equal(fw.verdict, PC_OVCHAN_FORWARD);
	assert_true(fw.new_epoch);
	assert_false(fw.gap);
	assert_true(fw.deliver);
	assert_int_equal(fw.n_to, 1);
	assert_int_equal(fw.epoch, 200);
	assert_int_equal(pc_ovchan_stats(t)->new_epochs, 1);
	assert_int_equal(data_at(t, 200, 2, 0).n_to, 1);
	assert_int_equal(data_at(t, 200, 2, 0).verdict, PC_OVCHAN_DUPLICATE);
	/* The old stream, late from a window somewhere: dropped. */
	assert_int_equal(data_at(t, 100, 6, 0).verdict, PC_OVCHAN_STALE);
	assert_int_equal(pc_ovchan_stats(t)->stale_epochs, 1);
	/* A child still on the old stream re-joins: it gets the new one from
	 * its first block, not from its old position. */
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 4, 100, 5, 0, &j), 0);
	assert_int_equal(j.n_blocks, 2);
	assert_int_equal(j.blocks_epoch, 200);
	assert_int_equal(j.blocks[0].seq, 1);
	assert_false(j.overflow);
	/* A child already on a newer stream than ours gets nothing of ours. */
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 5, 300, 1, 0, &j), 0);
	assert_int_equal(j.n_blocks, 0);
	fw = data_at(t, 200, 3, 0);
	assert_int_equal(fw.n_to, 2);
	for (uint32_t i = 0; i < fw.n_to; i++)
		assert_int_not_equal(fw.to[i], 5);
	/* ... until ours catches up: 5 gets block 2 of epoch 300, not 1. */
	fw = data_at(t, 300, 2, 0);
	assert_true(fw.new_epoch);
	assert_int_equal(fw.n_to, 3);
	/* 3's refresh, written before epoch 300 reached it, moves nothing. */
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 3, 200, 3, 0, &j), 0);
	assert_int_equal(j.n_blocks, 0);
	assert_int_equal(data_at(t, 300, 3, 0).n_to, 3);
	pc_ovchan_free(t);
	pc_lsdb_free(db);
}

static void test_restarted_source_starts_at_one(void **state)
{
	(void)state;
	pc_lsdb *db = star(1);
	pc_ovchan *t = table_refreshing(1, 1000); /* the source, epoch EP */
	struct pc_ovchan_joined j;
	/* Its child re-joins with the old stream's position before the source
	 * publishes anything: the child will get the new stream from 1. */
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 2, EP - 1, 900, 0, &j), 0);
	assert_false(j.join_upstream);
	uint64_t last;
	uint32_t up, n_down;
	assert_int_equal(pc_ovchan_status(t, CH, &last, &up, &n_down), 0);
	assert_int_equal(last, PC_OVCHAN_FRESH);
	uint8_t b = 1;
	struct pc_ovchan_forward fw;
	assert_int_equal(pc_ovchan_data(t, CH, 1, 12345, 1, &b, 1, 0, &fw), 0);
	assert_int_equal(fw.verdict, PC_OVCHAN_FORWARD);
	assert_int_equal(fw.epoch, EP); /* the table's, whatever the caller says */
	assert_int_equal(fw.n_to, 1);
	pc_ovchan_free(t);

	/* The same source, its channel pruned but not restarted: a child of
	 * its own epoch resumes where it was. */
	t = table_refreshing(1, 1000);
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 2, EP, 900, 0, &j), 0);
	assert_int_equal(pc_ovchan_status(t, CH, &last, &up, &n_down), 0);
	assert_int_equal(last, 900);
	pc_ovchan_free(t);
	pc_lsdb_free(db);
}

/* A source restarted with a clock behind its last start: its children
 * resume with the old, higher epoch. Their JOIN raises the source's
 * epoch past it (counted), so its blocks are newer than anything the
 * tree holds and reach the child, from the next block on. */
static void test_source_epoch_raised_past_a_joiner(void **state)
{
	(void)state;
	pc_lsdb *db = star(1);
	pc_ovchan *t = table_refreshing(1, 1000); /* the source, epoch EP */
	struct pc_ovchan_joined j;
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 2, EP + 100, 900, 0, &j), 0);
	assert_int_equal(pc_ovchan_stats(t)->epochs_raised, 1);
	uint8_t b = 1;
	struct pc_ovchan_forward fw;
	assert_int_equal(pc_ovchan_data(t, CH, 1, 0, 1, &b, 1, 0, &fw), 0);
	assert_int_equal(fw.verdict, PC_OVCHAN_FORWARD);
	assert_int_equal(fw.epoch, EP + 101);
	assert_int_equal(fw.n_to, 1);
	assert_int_equal(fw.to[0], 2);
	/* its refresh, in the old epoch, moves nothing more */
	assert_int_equal(pc_ovchan_join(t, db, CH, 1, 2, EP + 100, 900, 0, &j), 0);
	assert_int_equal(pc_ovchan_stats(t)->epochs_raised, 1);
	assert_int_equal(pc_ovchan_data(t, CH, 1, 0, 2, &b, 1, 0, &fw), 0);
	assert_int_equal(fw.epoch, EP + 101);
	assert_int_equal(fw.n_to, 1);
	/* a relay (not the source) takes no epoch from its joiners */
	pc_lsdb *relay_db = star(2);
	pc_ovchan *relay = table_refreshing(2, 1000);
	assert_int_equal(pc_ovchan_join(relay, relay_db, CH, 1, 3, EP + 500, 900, 0, &j), 0);
	assert_int_equal(pc_ovchan_stats(relay)->epochs_raised, 0);
	pc_ovchan_free(relay);
	pc_lsdb_free(relay_db);
	pc_ovchan_free(t);
	pc_lsdb_free(db);
}

static void add_name(void *arg, const char *name)
{
	struct events *ev = arg;
	assert_true(ev->n < 8);
	snprintf(ev->names[ev->n++], sizeof(ev->names[0]), "%s", name);
}

/* An injection point's channels that are wanted: its own with a
 * downstream or the local subscriber, published on or not; not another
 * source's, not one whose last joiner left. */
static void test_own_wanted(void **state)
{
	(void)state;
	pc_lsdb *db = star(1);
	pc_ovchan *t = table_new(1, 0, 0);
	struct pc_ovchan_joined j;
	struct events ev = {0};
	assert_int_equal(pc_ovchan_own_wanted(t, add_name, &ev), 0);
	assert_int_equal(pc_ovchan_join(t, db, "abc/live/tv/1", 1, 3, EP, PC_OVCHAN_FRESH, 0, &j),
	                 0);
	assert_int_equal(pc_ovchan_join(t, db, "abc/live/a/1", 1, 1, EP, PC_OVCHAN_FRESH, 0, &j),
	                 0);
	assert_int_equal(pc_ovchan_join(t, db, "abc/live/b/2", 2, 3, EP, PC_OVCHAN_FRESH, 0, &j),
	                 0);
	assert_int_equal(pc_ovchan_own_wanted(t, add_name, &ev), 2);
	assert_int_equal(ev.n, 2);
	assert_true(strcmp(ev.names[0], "abc/live/tv/1") == 0 ||
	            strcmp(ev.names[1], "abc/live/tv/1") == 0);
	assert_true(strcmp(ev.names[0], "abc/live/a/1") == 0 ||
	            strcmp(ev.names[1], "abc/live/a/1") == 0);
	assert_int_equal(pc_ovchan_prune(t, "abc/live/tv/1", 3, 10), 0);
	ev.n = 0;
	assert_int_equal(pc_ovchan_own_wanted(t, add_name, &ev), 1);
	assert_string_equal(ev.names[0], "abc/live/a/1");
	pc_ovchan_free(t);
	pc_lsdb_free(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_join_forward_prune),
	    cmocka_unit_test(test_own_wanted),
	    cmocka_unit_test(test_rejoin_within_hold_keeps_channel),
	    cmocka_unit_test(test_drops_duplicates_and_strangers),
	    cmocka_unit_test(test_downstream_bound),
	    cmocka_unit_test(test_rejoin_gets_exactly_the_missing),
	    cmocka_unit_test(test_new_channel_starts_at_joiner),
	    cmocka_unit_test(test_window_overflow),
	    cmocka_unit_test(test_source_window_and_local),
	    cmocka_unit_test(test_reroute),
	    cmocka_unit_test(test_router_dies_mid_stream),
	    cmocka_unit_test(test_router_leaves_mid_stream),
	    cmocka_unit_test(test_link_cut_mid_stream),
	    cmocka_unit_test(test_refresh_is_due_every_interval),
	    cmocka_unit_test(test_silent_child_expires),
	    cmocka_unit_test(test_new_epoch_replaces_the_stream),
	    cmocka_unit_test(test_restarted_source_starts_at_one),
	    cmocka_unit_test(test_source_epoch_raised_past_a_joiner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
