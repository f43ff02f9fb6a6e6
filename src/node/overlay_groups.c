/* The overlay's control groups besides load and health (overlay_groups.h,
 * docs/overlay.md "The role"): each group is one block below — its
 * channels, what it publishes, what it accepts and how it applies it.
 *
 *   replicas   <cdn>/replica/<id>            within the CDN and to agreement peers
 *   policy     <cdn>/policy/<id>             within the CDN only
 *   resources  <cdn>/resource/<peer>/<id>    to the peer of an agreement only
 *   reports    <provider>/report/<id>        to the provider's primary CDNs
 *   drains     <cdn>/drain/<id>              within the CDN and to agreement peers
 *
 * <id> is the publishing router's id in 8 hex digits: a channel has one
 * source, so every router publishes on its own channel and subscribers
 * join the channel of every router of the database that may send them
 * that group. */
#include "node/overlay_groups.h"
#include "node/live.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"
#include "lib/model/live.h"
#include "lib/model/netmap.h"
#include "lib/policy/report_log.h"
#include "lib/proto/overlay_lsdb.h"
#include "lib/proto/overlay_msg.h"
#include "node/generation.h"
#include "node/log.h"
#include "node/overlay.h"
#include "node/reports.h"

enum {
	NAME_LEN = PC_OVL_NAME_MAX + 1,
	BLOCK_MAX = PC_OVL_BODY_MAX - 1024, /* payload bytes per block we build */
	REPLICA_QUEUE = 4096,               /* replica events awaiting the next tick */
	REPORT_QUEUE = 4096,                /* records shipped by the store, not yet sent */
	REPORTS_PER_TICK = 512,
	POLICY_CHUNK = 60000,     /* bytes of config text per POLICY record */
	POLICY_MAX = 64 << 20,    /* bytes: a bigger config is refused */
	RESOURCE_EVERY_MS = 2000, /* RESOURCE records are re-announced this often */
	POLICY_EVERY_MS = 5000,   /* and the last version pushed here */
	MAX_RESOURCES = 64,       /* (CDN, peer) pairs remembered */
	DRAIN_QUEUE = 256,        /* operators' drains awaiting the next tick */
	MAX_DRAINS = 1024,        /* servers whose last drain or undrain is remembered */
	DRAIN_EVERY_MS = 2000,    /* the drains held are re-announced this often */
};

enum group { G_REPLICA, G_POLICY, G_RESOURCE, G_REPORT, G_DRAIN, G__COUNT };
static const char *const group_names[G__COUNT] = {"replica", "policy", "resource", "report",
                                                  "drain"};

enum result {
	R_PUBLISHED, /* records sent */
	R_APPLIED,   /* received and applied (a policy: a whole version) */
	R_STALE,     /* not newer than what is held, or not for us */
	R_REFUSED,   /* malformed, unknown server, bad hash, a config with errors */
	R_POLICY,    /* what the agreement with the sender's CDN does not allow */
	R_DROPPED,   /* a queue was full */
	R__COUNT,
};
static const char *const result_names[R__COUNT] = {"published", "applied", "stale",
                                                   "refused",   "policy",  "dropped"};

struct queued_replica {
	uint64_t key, time_ms;
	char server[NAME_LEN];
};

struct queued_report {
	uint64_t serial;
	size_t len;
	char line[]; /* len bytes */
};

struct queued_drain {
	char server[NAME_LEN];
	bool drained;
};

/* The last word on a server's drain, from whichever router said it. */
struct drain {
	char server[NAME_LEN];
	uint64_t version; /* pc_ovl_drain's: the highest wins */
	bool drained;
};

/* What a peer CDN offers us (claim 9), the newest announcement. */
struct resource {
	char cdn[NAME_LEN];
	uint64_t capacity, time_ms;
	uint32_t services, prefixes;
};

struct ovl_groups {
	struct pcd_node *node;
	uint32_t self;
	char cdn[NAME_LEN];
	char hex[9]; /* self, as channels name it */
	uint8_t *payload;
	pthread_mutex_t lock; /* the mailboxes, resources[] and the applier's slot */
	/* Replicas: events from any thread. */
	struct queued_replica *replicas;
	unsigned replica_head, replica_count;
	/* Reports: records from the store's writer thread. */
	struct queued_report **reports;
	unsigned report_head, report_count;
	bool shipping;
	/* Policy: the local push to publish, the version being assembled
	 * (worker 0), and the whole version handed to the applier. */
	char *out_text;
	size_t out_len;
	uint64_t out_version;
	char *last_text; /* worker 0: the last version published, for late joiners */
	size_t last_len;
	uint64_t last_version, policy_at;
	uint64_t in_version;
	uint32_t in_source, in_total, in_have;
	uint8_t in_hash[32];
	uint8_t *in_buf;
	char *apply_text;
	size_t apply_len;
	uint64_t apply_version;
	bool stopping;
	pthread_t applier;
	bool applier_started;
	pthread_cond_t wake;
	_Atomic uint64_t applied_version;
	/* Resources. */
	uint64_t resource_at;
	struct resource resources[MAX_RESOURCES];
	unsigned n_resources;
	/* Drains: the operators' commands (any thread), and the table of the
	 * last word per server (worker 0). */
	struct queued_drain drain_queue[DRAIN_QUEUE];
	unsigned drain_queued;
	struct drain *drains;
	unsigned n_drains;
	uint64_t drain_at, drain_gen;
	/* Read by the metrics thread. */
	_Atomic uint64_t counts[G__COUNT][R__COUNT];
};

static void count(struct ovl_groups *g, enum group group, enum result result)
{
	atomic_fetch_add_explicit(&g->counts[group][result], 1, memory_order_relaxed);
}

static void copy_str(char *out, size_t size, const struct pc_ovl_str *s)
{
	size_t n = s->len < size - 1 ? s->len : size - 1;
	memcpy(out, s->p, n);
	out[n] = '\0';
}

static bool str_is(const struct pc_ovl_str *s, const char *text)
{
	return s->len == strlen(text) && memcmp(s->p, text, s->len) == 0;
}

static uint32_t cdn_index(const pc_model *m, const char *name)
{
	for (uint32_t c = 0; c < m->n_cdns; c++)
		if (strcmp(m->cdns[c].name, name) == 0)
			return c;
	return PC_NONE;
}

/* The agreement between CDNs a and b (names), or PC_NONE. */
static uint32_t agreement_between(const pc_model *m, const char *a, const char *b)
{
	uint32_t x = cdn_index(m, a), y = cdn_index(m, b);
	if (x == PC_NONE || y == PC_NONE || x == y)
		return PC_NONE;
	for (uint32_t i = 0; i < m->n_agreements; i++) {
		const struct pc_agreement *ag = &m->agreements[i];
		if ((ag->cdn_a == x && ag->cdn_b == y) || (ag->cdn_a == y && ag->cdn_b == x))
			return i;
	}
	return PC_NONE;
}

static const pc_model *model_of(struct ovl_groups *g)
{
	return pcd_node_generation(g->node)->model;
}

/* "<owner>/<kind>/..." split: false when channel has no two segments. */
static bool channel_parts(const char *channel, char owner[NAME_LEN], const char **kind,
                          size_t *kind_len, const char **rest)
{
	const char *slash = strchr(channel, '/');
	if (slash == NULL || (size_t)(slash - channel) >= NAME_LEN)
		return false;
	memcpy(owner, channel, (size_t)(slash - channel));
	owner[slash - channel] = '\0';
	*kind = slash + 1;
	const char *end = strchr(*kind, '/');
	*kind_len = end != NULL ? (size_t)(end - *kind) : strlen(*kind);
	*rest = end != NULL ? end + 1 : "";
	return true;
}

/* The next record of type in a block's payload from *at, or false at its
 * end. One that does not decode, or of another type, is counted refused
 * and skipped; one whose length cannot be told refuses the rest. */
static bool next_record(struct ovl_groups *g, enum group group, uint8_t type,
                        const uint8_t *payload, size_t len, size_t *at, struct pc_ovl_record *rec)
{
	while (*at < len) {
		size_t used = 0;
		int rc = pc_ovl_record_decode(payload + *at, len - *at, rec, &used);
		if (used == 0) {
			count(g, group, R_REFUSED);
			return false;
		}
		*at += used;
		if (rc == PC_OK && rec->type == type)
			return true;
		count(g, group, R_REFUSED);
	}
	return false;
}

/* The model server a record of owner's channel names, copied into name:
 * PC_NONE, counted, when it is no server (refused) or another CDN's
 * (policy: a CDN speaking for another's server). */
static uint32_t owned_server(struct ovl_groups *g, enum group group, const pc_model *m,
                             const char *owner, const struct pc_ovl_str *server,
                             char name[NAME_LEN])
{
	copy_str(name, NAME_LEN, server);
	uint32_t s = server->len < NAME_LEN ? pc_model_server(m, name) : PC_NONE;
	if (s == PC_NONE) {
		count(g, group, R_REFUSED);
		return PC_NONE;
	}
	if (strcmp(m->cdns[m->servers[s].cdn].name, owner) != 0) {
		count(g, group, R_POLICY);
		return PC_NONE;
	}
	return s;
}

static bool kind_is(const char *kind, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(kind, want, len) == 0;
}

/* Publishes the records of payload[0..len) on channel; counted per record. */
static void publish(struct ovl_groups *g, enum group group, const char *channel, size_t len,
                    unsigned records)
{
	if (len == 0)
		return;
	int rc = pcd_overlay_publish(g->node, channel, g->payload, len);
	for (unsigned i = 0; i < records; i++)
		count(g, group, rc == 0 ? R_PUBLISHED : R_DROPPED);
}

/* ---- replicas ---- */

void ovl_groups_replica(struct ovl_groups *g, uint64_t key, const char *server)
{
	pthread_mutex_lock(&g->lock);
	if (g->replica_count == REPLICA_QUEUE) { /* the oldest goes: a hint, not a promise */
		g->replica_head = (g->replica_head + 1) % REPLICA_QUEUE;
		g->replica_count--;
		count(g, G_REPLICA, R_DROPPED);
	}
	struct queued_replica *q =
	    &g->replicas[(g->replica_head + g->replica_count) % REPLICA_QUEUE];
	q->key = key;
	q->time_ms = pcd_now_ms();
	snprintf(q->server, sizeof(q->server), "%s", server);
	g->replica_count++;
	pthread_mutex_unlock(&g->lock);
}

static void publish_replicas(struct ovl_groups *g)
{
	char channel[PC_OVL_CHANNEL_MAX + 1];
	snprintf(channel, sizeof(channel), "%s/replica/%s", g->cdn, g->hex);
	size_t used = 0;
	unsigned records = 0;
	pthread_mutex_lock(&g->lock);
	while (g->replica_count > 0) {
		const struct queued_replica *q = &g->replicas[g->replica_head];
		struct pc_ovl_record rec = {
		    .type = PC_OVL_REC_REPLICA,
		    .u.replica = {.key = q->key,
		                  .server = {q->server, strlen(q->server)},
		                  .op = PC_OVL_REPLICA_ADD,
		                  .time_ms = q->time_ms},
		};
		int len = pc_ovl_record_encode(&rec, g->payload + used, BLOCK_MAX - used);
		if (len == PC_ESPACE)
			break; /* the rest at the next tick */
		g->replica_head = (g->replica_head + 1) % REPLICA_QUEUE;
		g->replica_count--;
		if (len < 0) {
			count(g, G_REPLICA, R_REFUSED);
			continue;
		}
		used += (size_t)len;
		records++;
	}
	pthread_mutex_unlock(&g->lock);
	publish(g, G_REPLICA, channel, used, records);
}

/* Another router's replica events: only about servers of the channel's
 * CDN, which is ours or a peer's under an agreement (the subscription
 * says so; the server's CDN is checked here). */
static void on_replicas(void *arg, const char *channel, uint32_t source, uint64_t seq,
                        const uint8_t *payload, size_t len)
{
	(void)source;
	(void)seq;
	struct ovl_groups *g = arg;
	struct pcd_generation *gen = pcd_node_generation(g->node);
	char owner[NAME_LEN];
	const char *kind, *rest;
	size_t kind_len;
	if (!channel_parts(channel, owner, &kind, &kind_len, &rest))
		return;
	uint64_t now = pcd_now_ms();
	struct pc_ovl_record rec;
	for (size_t at = 0;
	     next_record(g, G_REPLICA, PC_OVL_REC_REPLICA, payload, len, &at, &rec);) {
		char name[NAME_LEN];
		uint32_t s =
		    owned_server(g, G_REPLICA, gen->model, owner, &rec.u.replica.server, name);
		if (s == PC_NONE)
			continue;
		if (rec.u.replica.op != PC_OVL_REPLICA_ADD) {
			count(g, G_REPLICA, R_STALE); /* the table forgets by age only */
			continue;
		}
		pc_live_replica_add(gen->live, rec.u.replica.key, s,
		                    rec.u.replica.time_ms < now ? rec.u.replica.time_ms : now);
		count(g, G_REPLICA, R_APPLIED);
	}
}

/* ---- policy ---- */

void ovl_groups_policy_pushed(struct ovl_groups *g, const char *text, size_t len)
{
	if (len == 0 || len > POLICY_MAX)
		return;
	char *copy = malloc(len);
	if (copy == NULL) {
		count(g, G_POLICY, R_DROPPED);
		return;
	}
	memcpy(copy, text, len);
	/* CDN-wide monotonic: the pusher's wall clock in ms, then its id's
	 * low bits, so two routers pushing in the same ms still differ. */
	uint64_t version = pcd_now_ms() << 12 | (g->self & 0xfff);
	pthread_mutex_lock(&g->lock);
	free(g->out_text);
	g->out_text = copy;
	g->out_len = len;
	g->out_version = version;
	pthread_mutex_unlock(&g->lock);
	atomic_store(&g->applied_version, version); /* ours serves already */
}

/* A new push at once; the last one again every POLICY_EVERY_MS, so a
 * router that joined (or came back) later gets it too: the others see a
 * version they hold and ignore it. */
static void publish_policy(struct ovl_groups *g, uint64_t now)
{
	pthread_mutex_lock(&g->lock);
	char *fresh = g->out_text;
	if (fresh != NULL) {
		free(g->last_text);
		g->last_text = fresh;
		g->last_len = g->out_len;
		g->last_version = g->out_version;
		g->out_text = NULL;
	}
	pthread_mutex_unlock(&g->lock);
	if (g->last_text == NULL || (fresh == NULL && now < g->policy_at + POLICY_EVERY_MS))
		return;
	g->policy_at = now;
	const char *text = g->last_text;
	size_t total = g->last_len;
	uint64_t version = g->last_version;
	char channel[PC_OVL_CHANNEL_MAX + 1];
	snprintf(channel, sizeof(channel), "%s/policy/%s", g->cdn, g->hex);
	uint8_t hash[32];
	crypto_generichash(hash, sizeof(hash), (const uint8_t *)text, total, NULL, 0);
	size_t used = 0;
	unsigned records = 0;
	for (size_t offset = 0; offset < total;) {
		size_t chunk = total - offset < POLICY_CHUNK ? total - offset : POLICY_CHUNK;
		struct pc_ovl_record rec = {
		    .type = PC_OVL_REC_POLICY,
		    .u.policy = {.version = version,
		                 .total = (uint32_t)total,
		                 .offset = (uint32_t)offset,
		                 .chunk = (const uint8_t *)text + offset,
		                 .chunk_len = chunk},
		};
		memcpy(rec.u.policy.hash, hash, sizeof(hash));
		int len = pc_ovl_record_encode(&rec, g->payload + used, BLOCK_MAX - used);
		if (len == PC_ESPACE && used > 0) { /* this block is full: send it */
			publish(g, G_POLICY, channel, used, records);
			used = 0;
			records = 0;
			continue;
		}
		if (len < 0) {
			count(g, G_POLICY, R_REFUSED);
			break;
		}
		used += (size_t)len;
		records++;
		offset += chunk;
	}
	publish(g, G_POLICY, channel, used, records);
	if (fresh != NULL)
		pcd_log(PCD_LOG_INFO, "overlay-policy-published", "version=%" PRIu64 " bytes=%zu",
		        version, total);
}

static bool is_local_key(const char *key, size_t len)
{
	static const char *const node_keys[] = {"self", "control"};
	for (size_t i = 0; i < sizeof(node_keys) / sizeof(node_keys[0]); i++)
		if (len == strlen(node_keys[i]) && memcmp(key, node_keys[i], len) == 0)
			return true;
	for (size_t r = 0; pcd_roles[r] != NULL; r++) {
		const char *name = pcd_roles[r]->settings->name;
		if (len == strlen(name) && memcmp(key, name, len) == 0)
			return true;
	}
	return false;
}

/* Top-level entries of a block-style YAML mapping: a line starting at
 * column 0 with a key begins one; indented lines, comments and
 * column-0 list items ("- ", as PyYAML writes lists) continue it. */
static bool starts_entry(const char *line, size_t left)
{
	return left > 0 && line[0] != ' ' && line[0] != '\t' && line[0] != '#' && line[0] != '-' &&
	       line[0] != '\n' && line[0] != '\r' && !(left >= 3 && memcmp(line, "...", 3) == 0);
}

/* Appends to out the entries of text whose keys are local (want_local)
 * or not. Text before the first entry is skipped. */
static void copy_entries(const char *text, size_t len, bool want_local, char *out, size_t *used)
{
	size_t at = 0;
	bool keep = false;
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl != NULL ? (size_t)(nl - text) + 1 : len;
		if (starts_entry(text + at, len - at)) {
			const char *colon = memchr(text + at, ':', end - at);
			size_t key_len = colon != NULL ? (size_t)(colon - text) - at : 0;
			keep = key_len > 0 && is_local_key(text + at, key_len) == want_local;
		}
		if (keep) {
			memcpy(out + *used, text + at, end - at);
			*used += end - at;
			if (text[end - 1] != '\n')
				out[(*used)++] = '\n';
		}
		at = end;
	}
}

/* The text this node's config comes from now (the file, or the last
 * push without one), or NULL. Caller frees. */
static char *own_text(struct pcd_node *node, size_t *len)
{
	char *text = NULL;
	pthread_mutex_lock(&node->reload_lock);
	if (node->config_path != NULL) {
		FILE *f = fopen(node->config_path, "rb");
		if (f != NULL) {
			text = malloc(POLICY_MAX);
			*len = text != NULL ? fread(text, 1, POLICY_MAX, f) : 0;
			fclose(f);
		}
	} else if (node->pushed_text != NULL && (text = malloc(node->pushed_len + 1)) != NULL) {
		memcpy(text, node->pushed_text, node->pushed_len);
		*len = node->pushed_len;
	}
	pthread_mutex_unlock(&node->reload_lock);
	return text;
}

static void quiet_diag(void *ctx, const char *message)
{
	(void)ctx;
	(void)message; /* generation.c logs every config error already */
}

/* The applier: a version's federation (every top-level entry but the
 * node's own: self, control and the role sections) with this node's own
 * entries, through the path a local push takes — validated whole and
 * swapped atomically, or refused whole. */
static void apply_policy(struct ovl_groups *g, const char *text, size_t len, uint64_t version)
{
	if (version <= atomic_load(&g->applied_version)) {
		count(g, G_POLICY, R_STALE);
		return;
	}
	size_t own_len = 0;
	char *own = own_text(g->node, &own_len);
	char *merged = malloc(len + own_len + 2 * 1024 + 2);
	if (merged == NULL) {
		free(own);
		count(g, G_POLICY, R_DROPPED);
		return;
	}
	size_t used = 0;
	/* Each entry may gain a newline: at most one per line. */
	copy_entries(text, len, false, merged, &used);
	if (own != NULL)
		copy_entries(own, own_len, true, merged, &used);
	free(own);
	uint64_t number = 0;
	int rc = pcd_node_replace(g->node, merged, used, quiet_diag, NULL, &number);
	free(merged);
	if (rc == 0) {
		atomic_store(&g->applied_version, version);
		count(g, G_POLICY, R_APPLIED);
	} else {
		count(g, G_POLICY, R_REFUSED);
	}
	pcd_log(rc == 0 ? PCD_LOG_INFO : PCD_LOG_WARNING,
	        rc == 0 ? "overlay-policy-applied" : "overlay-policy-refused",
	        "version=%" PRIu64 " generation=%" PRIu64, version, number);
}

static void *applier_main(void *arg)
{
	struct ovl_groups *g = arg;
	pthread_mutex_lock(&g->lock);
	for (;;) {
		while (g->apply_text == NULL && !g->stopping)
			pthread_cond_wait(&g->wake, &g->lock);
		if (g->stopping)
			break;
		char *text = g->apply_text;
		size_t len = g->apply_len;
		uint64_t version = g->apply_version;
		g->apply_text = NULL;
		pthread_mutex_unlock(&g->lock);
		apply_policy(g, text, len, version);
		free(text);
		pthread_mutex_lock(&g->lock);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

/* One POLICY chunk. Chunks of a version come in order (a channel delivers
 * each block once, in sequence), so a version is whole when the bytes
 * held reach its total. */
static void policy_chunk(struct ovl_groups *g, uint32_t source, const struct pc_ovl_policy *p)
{
	if (p->version <= atomic_load(&g->applied_version) ||
	    (p->version < g->in_version && g->in_buf != NULL)) {
		count(g, G_POLICY, R_STALE);
		return;
	}
	if (p->offset == 0) { /* a version begins */
		free(g->in_buf);
		g->in_buf = p->total <= POLICY_MAX ? malloc(p->total ? p->total : 1) : NULL;
		if (g->in_buf == NULL) {
			count(g, G_POLICY, R_REFUSED);
			return;
		}
		g->in_version = p->version;
		g->in_source = source;
		g->in_total = p->total;
		g->in_have = 0;
		memcpy(g->in_hash, p->hash, sizeof(g->in_hash));
	}
	if (g->in_buf == NULL || p->version != g->in_version || source != g->in_source ||
	    p->total != g->in_total || p->offset != g->in_have ||
	    memcmp(p->hash, g->in_hash, sizeof(g->in_hash)) != 0) {
		count(g, G_POLICY, R_REFUSED);
		return;
	}
	memcpy(g->in_buf + g->in_have, p->chunk, p->chunk_len);
	g->in_have += (uint32_t)p->chunk_len;
	if (g->in_have < g->in_total)
		return;
	uint8_t hash[32];
	crypto_generichash(hash, sizeof(hash), g->in_buf, g->in_total, NULL, 0);
	char *text = (char *)g->in_buf;
	g->in_buf = NULL;
	if (sodium_memcmp(hash, g->in_hash, sizeof(hash)) != 0) {
		count(g, G_POLICY, R_REFUSED);
		free(text);
		return;
	}
	pthread_mutex_lock(&g->lock);
	if (g->apply_text == NULL || g->apply_version < g->in_version) {
		free(g->apply_text);
		g->apply_text = text;
		g->apply_len = g->in_total;
		g->apply_version = g->in_version;
		text = NULL;
		pthread_cond_signal(&g->wake);
	}
	pthread_mutex_unlock(&g->lock);
	free(text);
}

static void on_policy(void *arg, const char *channel, uint32_t source, uint64_t seq,
                      const uint8_t *payload, size_t len)
{
	(void)channel;
	(void)seq;
	struct ovl_groups *g = arg;
	struct pc_ovl_record rec;
	for (size_t at = 0; next_record(g, G_POLICY, PC_OVL_REC_POLICY, payload, len, &at, &rec);)
		policy_chunk(g, source, &rec.u.policy);
}

/* ---- resources (claim 9) ---- */

/* Announces to each peer of an agreement what this CDN offers it: the
 * capacity of our servers that give a service the agreement covers,
 * those services, and our footprint (the client networks of ASes in our
 * footprint). Only what the agreement allows is named. */
static void publish_resources(struct ovl_groups *g, uint64_t now)
{
	if (now < g->resource_at + RESOURCE_EVERY_MS)
		return;
	g->resource_at = now;
	const pc_model *m = model_of(g);
	uint32_t us = cdn_index(m, g->cdn);
	if (us == PC_NONE)
		return;
	struct pc_ovl_prefix *prefixes = calloc(PC_OVL_PREFIXES_MAX, sizeof(*prefixes));
	if (prefixes == NULL)
		return;
	uint16_t n_prefixes = 0;
	for (uint32_t i = 0; i < m->n_client_nets && n_prefixes < PC_OVL_PREFIXES_MAX; i++) {
		const struct pc_client_net *net = &m->client_nets[i];
		if (net->as >= m->n_ases)
			continue;
		const struct pc_index_list *cdns = &m->ases[net->as].cdns;
		for (uint32_t c = 0; c < cdns->count; c++)
			if (cdns->items[c] == us) {
				struct pc_ovl_prefix *p = &prefixes[n_prefixes++];
				p->family = net->prefix.family == PC_AF_INET6 ? 6 : 4;
				p->len = net->prefix_len;
				memcpy(p->bytes, net->prefix.bytes, sizeof(p->bytes));
				break;
			}
	}
	for (uint32_t a = 0; a < m->n_agreements; a++) {
		const struct pc_agreement *ag = &m->agreements[a];
		if (ag->cdn_a != us && ag->cdn_b != us)
			continue;
		const char *peer = m->cdns[ag->cdn_a == us ? ag->cdn_b : ag->cdn_a].name;
		uint64_t capacity = 0, offered = 0;
		for (uint32_t s = 0; s < m->n_servers; s++)
			if (m->servers[s].cdn == us &&
			    (m->servers[s].service_mask & ag->service_mask)) {
				capacity += m->servers[s].capacity;
				offered |= m->servers[s].service_mask & ag->service_mask;
			}
		struct pc_ovl_str services[PC_OVL_SERVICES_MAX];
		uint8_t n_services = 0;
		for (uint32_t v = 0;
		     v < m->n_services && v < 64 && n_services < PC_OVL_SERVICES_MAX; v++)
			if (offered & (UINT64_C(1) << v))
				services[n_services++] = (struct pc_ovl_str){
				    m->services[v].name, strlen(m->services[v].name)};
		struct pc_ovl_record rec = {
		    .type = PC_OVL_REC_RESOURCE,
		    .u.resource = {.cdn = {g->cdn, strlen(g->cdn)},
		                   .peer = {peer, strlen(peer)},
		                   .capacity = capacity,
		                   .time_ms = pcd_now_ms(),
		                   .service_count = n_services,
		                   .prefix_count = n_prefixes,
		                   .services = services,
		                   .prefixes = prefixes},
		};
		int len = pc_ovl_record_encode(&rec, g->payload, BLOCK_MAX);
		if (len < 0) {
			count(g, G_RESOURCE, R_REFUSED);
			continue;
		}
		char channel[PC_OVL_CHANNEL_MAX + 1];
		snprintf(channel, sizeof(channel), "%s/resource/%s/%s", g->cdn, peer, g->hex);
		publish(g, G_RESOURCE, channel, (size_t)len, 1);
	}
	free(prefixes);
}

/* The offer of record r in our model's terms, into the live state every
 * decision reads (pc_live_offer_set; the policy's use: docs/policy.md,
 * "Offers"). Services by name (each one the agreement covers: checked by
 * the caller); the footprint's prefixes by the AS of the client network
 * holding each one's address, those our model does not know left out. */
static void offer_to_live(struct ovl_groups *g, uint32_t cdn, const struct pc_ovl_resource *r)
{
	struct pcd_generation *gen = pcd_node_generation(g->node);
	const pc_model *m = gen->model;
	struct pc_live_offer offer = {
	    .version = r->time_ms, .capacity = r->capacity, .footprint = r->prefix_count > 0};
	for (size_t i = 0; i < r->service_count; i++) {
		struct pc_ovl_str name = pc_ovl_resource_service_at(r, i);
		for (uint32_t v = 0; v < m->n_services && v < 64; v++)
			if (str_is(&name, m->services[v].name))
				offer.services |= UINT64_C(1) << v;
	}
	uint32_t ases[PC_OVL_PREFIXES_MAX];
	uint32_t n_ases = 0;
	for (size_t i = 0; i < r->prefix_count; i++) {
		struct pc_ovl_prefix p = pc_ovl_resource_prefix_at(r, i);
		pc_addr addr = {.family = p.family == 6 ? PC_AF_INET6 : PC_AF_INET};
		memcpy(addr.bytes, p.bytes, sizeof(addr.bytes));
		unsigned matched = 0;
		uint32_t net = pc_model_client_net(m, &addr, &matched);
		if (net == PC_NONE)
			continue;
		uint32_t as = m->client_nets[net].as, k = 0;
		while (k < n_ases && ases[k] != as)
			k++;
		if (k == n_ases && as < m->n_ases)
			ases[n_ases++] = as;
	}
	pc_live_offer_set(gen->live, cdn, &offer, ases, n_ases, pcd_now_ms());
}

/* What a peer announces: it must be the channel's CDN, offering to us,
 * services the agreement covers; anything else is refused and counted.
 * The newest per CDN is kept for the metrics and in the live state, where
 * the policy holds the peer's servers to it. */
static void on_resources(void *arg, const char *channel, uint32_t source, uint64_t seq,
                         const uint8_t *payload, size_t len)
{
	(void)source;
	(void)seq;
	struct ovl_groups *g = arg;
	const pc_model *m = model_of(g);
	char owner[NAME_LEN];
	const char *kind, *rest;
	size_t kind_len;
	if (!channel_parts(channel, owner, &kind, &kind_len, &rest))
		return;
	uint32_t ag = agreement_between(m, owner, g->cdn);
	struct pc_ovl_record rec;
	for (size_t at = 0;
	     next_record(g, G_RESOURCE, PC_OVL_REC_RESOURCE, payload, len, &at, &rec);) {
		const struct pc_ovl_resource *r = &rec.u.resource;
		bool allowed = ag != PC_NONE && str_is(&r->cdn, owner) && str_is(&r->peer, g->cdn);
		for (size_t i = 0; allowed && i < r->service_count; i++) {
			struct pc_ovl_str name = pc_ovl_resource_service_at(r, i);
			bool covered = false;
			for (uint32_t v = 0; v < m->n_services && v < 64 && !covered; v++)
				covered = str_is(&name, m->services[v].name) &&
				          (m->agreements[ag].service_mask & (UINT64_C(1) << v));
			allowed = covered;
		}
		if (!allowed) {
			count(g, G_RESOURCE, R_POLICY);
			pcd_log(PCD_LOG_WARNING, "overlay-resource-refused", "channel=%s", channel);
			continue;
		}
		pthread_mutex_lock(&g->lock);
		struct resource *slot = NULL;
		for (unsigned i = 0; i < g->n_resources && slot == NULL; i++)
			if (strcmp(g->resources[i].cdn, owner) == 0)
				slot = &g->resources[i];
		if (slot == NULL && g->n_resources < MAX_RESOURCES) {
			slot = &g->resources[g->n_resources++];
			snprintf(slot->cdn, sizeof(slot->cdn), "%s", owner);
		}
		bool newer = slot != NULL && r->time_ms > slot->time_ms;
		if (newer) {
			slot->capacity = r->capacity;
			slot->time_ms = r->time_ms;
			slot->services = r->service_count;
			slot->prefixes = r->prefix_count;
		}
		pthread_mutex_unlock(&g->lock);
		if (newer)
			offer_to_live(g, cdn_index(m, owner), r);
		count(g, G_RESOURCE, newer ? R_APPLIED : R_STALE);
	}
}

/* ---- provider reports (claim 3) ---- */

/* The store's writer thread, for each record this node made, on disk. */
static void ship_report(void *arg, const char *origin, size_t origin_len, uint64_t serial,
                        const char *line, size_t line_len)
{
	(void)origin;
	(void)origin_len;
	struct ovl_groups *g = arg;
	struct queued_report *q = malloc(sizeof(*q) + line_len);
	pthread_mutex_lock(&g->lock);
	if (q == NULL || g->report_count == REPORT_QUEUE) {
		pthread_mutex_unlock(&g->lock);
		free(q);
		count(g, G_REPORT, R_DROPPED); /* stays in our store; the count says so */
		return;
	}
	q->serial = serial;
	q->len = line_len;
	memcpy(q->line, line, line_len);
	g->reports[(g->report_head + g->report_count) % REPORT_QUEUE] = q;
	g->report_count++;
	pthread_mutex_unlock(&g->lock);
}

/* The value of " key=" in a record line (docs/reporting.md), or false. */
static bool line_field(const char *line, size_t len, const char *key, struct pc_ovl_str *out)
{
	size_t key_len = strlen(key);
	for (size_t at = 0; at + key_len + 1 <= len;) {
		if ((at == 0 || line[at - 1] == ' ') && memcmp(line + at, key, key_len) == 0 &&
		    line[at + key_len] == '=') {
			const char *v = line + at + key_len + 1;
			const char *end = memchr(v, ' ', len - (size_t)(v - line));
			out->p = v;
			out->len = end != NULL ? (size_t)(end - v) : len - (size_t)(v - line);
			return true;
		}
		const char *sp = memchr(line + at, ' ', len - at);
		if (sp == NULL)
			break;
		at = (size_t)(sp - line) + 1;
	}
	return false;
}

/* Records in serial order, one block per provider per tick. */
static void publish_reports(struct ovl_groups *g)
{
	struct queued_report *batch[REPORTS_PER_TICK];
	unsigned n = 0;
	pthread_mutex_lock(&g->lock);
	while (g->report_count > 0 && n < REPORTS_PER_TICK) {
		batch[n++] = g->reports[g->report_head];
		g->report_head = (g->report_head + 1) % REPORT_QUEUE;
		g->report_count--;
	}
	pthread_mutex_unlock(&g->lock);
	bool done[REPORTS_PER_TICK] = {false};
	for (unsigned i = 0; i < n; i++) {
		if (done[i])
			continue;
		struct pc_ovl_str provider;
		if (!line_field(batch[i]->line, batch[i]->len, "provider", &provider) ||
		    !pc_ovl_name_ok(provider.p, provider.len)) {
			count(g, G_REPORT, R_REFUSED);
			done[i] = true;
			continue;
		}
		char channel[PC_OVL_CHANNEL_MAX + 1];
		snprintf(channel, sizeof(channel), "%.*s/report/%s", (int)provider.len, provider.p,
		         g->hex);
		size_t used = 0;
		unsigned records = 0;
		for (unsigned j = i; j < n; j++) {
			struct pc_ovl_str pj, agreement = {"", 0};
			if (done[j] ||
			    !line_field(batch[j]->line, batch[j]->len, "provider", &pj) ||
			    pj.len != provider.len || memcmp(pj.p, provider.p, pj.len) != 0)
				continue;
			line_field(batch[j]->line, batch[j]->len, "agreement", &agreement);
			if (agreement.len == 1 && agreement.p[0] == '-')
				agreement.len = 0;
			struct pc_ovl_record rec = {
			    .type = PC_OVL_REC_REPORT,
			    .u.report = {.origin = g->self,
			                 .serial = batch[j]->serial,
			                 .provider = pj,
			                 .agreement = agreement,
			                 .line = {batch[j]->line, batch[j]->len}},
			};
			int len = pc_ovl_record_encode(&rec, g->payload + used, BLOCK_MAX - used);
			if (len == PC_ESPACE && used > 0)
				break; /* a later block of this tick takes the rest */
			done[j] = true;
			if (len < 0) {
				count(g, G_REPORT, R_REFUSED);
				continue;
			}
			used += (size_t)len;
			records++;
		}
		publish(g, G_REPORT, channel, used, records);
		if (!done[i])
			i--; /* the block was full: again for the rest */
	}
	for (unsigned i = 0; i < n; i++)
		free(batch[i]);
}

/* The store's origin for router id: the name of the node whose default
 * router id it is (docs/reports.md: origins are node names), else
 * "router-<id>". */
static void origin_name(const pc_model *m, uint32_t id, char out[NAME_LEN])
{
	for (uint32_t i = 0; i < m->n_nodes; i++)
		if (pc_overlay_router_id(m->nodes[i].name) == id) {
			snprintf(out, NAME_LEN, "%s", m->nodes[i].name);
			return;
		}
	snprintf(out, NAME_LEN, "router-%08x", id);
}

static void on_reports(void *arg, const char *channel, uint32_t source, uint64_t seq,
                       const uint8_t *payload, size_t len)
{
	(void)seq;
	struct ovl_groups *g = arg;
	struct pcd_reports *store = g->node->reports;
	const pc_model *m = model_of(g);
	char owner[NAME_LEN], origin[NAME_LEN];
	const char *kind, *rest;
	size_t kind_len;
	if (store == NULL || !channel_parts(channel, owner, &kind, &kind_len, &rest))
		return;
	origin_name(m, source, origin);
	struct pc_ovl_record rec;
	for (size_t at = 0; next_record(g, G_REPORT, PC_OVL_REC_REPORT, payload, len, &at, &rec);) {
		if (rec.u.report.origin != source || !str_is(&rec.u.report.provider, owner)) {
			count(g, G_REPORT, R_REFUSED);
			continue;
		}
		int rc = pcd_reports_receive(store, origin, strlen(origin), rec.u.report.serial,
		                             rec.u.report.line.p, rec.u.report.line.len);
		count(g, G_REPORT, rc == 0 ? R_APPLIED : rc == -ENOSPC ? R_DROPPED : R_REFUSED);
	}
}

/* ---- drains ---- */

/* An operator's drain (pcd_control_drain, docs/control.md) goes to every
 * redirector of the server's CDN and of its agreement peers: versioned
 * (wall ms << 12 | our id's low 12 bits, above any version we hold for
 * the server, so the command is the newest word), the highest version per
 * server wins everywhere, and every router re-announces what it holds
 * about its CDN's servers every DRAIN_EVERY_MS, so a router that joins
 * later (or restarted) learns it, and it outlives the router that issued
 * it. The table outlives config generations: a reload re-applies it. */

void ovl_groups_drain(struct ovl_groups *g, const char *server, bool drained)
{
	pthread_mutex_lock(&g->lock);
	if (g->drain_queued == DRAIN_QUEUE) {
		count(g, G_DRAIN, R_DROPPED);
	} else {
		struct queued_drain *q = &g->drain_queue[g->drain_queued++];
		snprintf(q->server, sizeof(q->server), "%s", server);
		q->drained = drained;
	}
	pthread_mutex_unlock(&g->lock);
}

static struct drain *drain_of(struct ovl_groups *g, const char *server)
{
	for (unsigned i = 0; i < g->n_drains; i++)
		if (strcmp(g->drains[i].server, server) == 0)
			return &g->drains[i];
	return NULL;
}

/* Drained: out of every answer; undrained: back, unless it went down
 * meanwhile (a probe's DOWN stays, as for a local undrain). */
static void drain_apply(const struct pcd_generation *gen, const struct drain *d)
{
	uint32_t s = pc_model_server(gen->model, d->server);
	if (s == PC_NONE)
		return;
	if (d->drained)
		pc_live_set_health(gen->live, s, PC_HEALTH_DRAINING);
	else
		pc_live_health_change(gen->live, s, PC_HEALTH_DRAINING, PC_HEALTH_UP);
}

/* Takes (server, version, drained) if newer than what we hold. */
static bool drain_set(struct ovl_groups *g, const char *server, uint64_t version, bool drained)
{
	struct drain *d = drain_of(g, server);
	if (d != NULL && d->version >= version)
		return false;
	if (d == NULL) {
		if (g->n_drains == MAX_DRAINS)
			return false;
		d = &g->drains[g->n_drains++];
		snprintf(d->server, sizeof(d->server), "%s", server);
	}
	d->version = version;
	d->drained = drained;
	drain_apply(pcd_node_generation(g->node), d);
	return true;
}

static void publish_drains(struct ovl_groups *g, uint64_t now)
{
	struct queued_drain queued[DRAIN_QUEUE];
	pthread_mutex_lock(&g->lock);
	unsigned n = g->drain_queued;
	memcpy(queued, g->drain_queue, n * sizeof(queued[0]));
	g->drain_queued = 0;
	pthread_mutex_unlock(&g->lock);
	const struct pcd_generation *gen = pcd_node_generation(g->node);
	if (gen->number != g->drain_gen) { /* a new live state: the drains again */
		g->drain_gen = gen->number;
		for (unsigned i = 0; i < g->n_drains; i++)
			drain_apply(gen, &g->drains[i]);
	}
	bool announce = n > 0 || now >= g->drain_at + DRAIN_EVERY_MS;
	for (unsigned i = 0; i < n; i++) {
		const struct drain *held = drain_of(g, queued[i].server);
		uint64_t version = pcd_now_ms() << 12 | (g->self & 0xfffu);
		if (held != NULL && held->version >= version)
			version = held->version + 1;
		if (!drain_set(g, queued[i].server, version, queued[i].drained))
			count(g, G_DRAIN, R_DROPPED); /* the table is full */
	}
	if (!announce)
		return;
	g->drain_at = now;
	char channel[PC_OVL_CHANNEL_MAX + 1];
	snprintf(channel, sizeof(channel), "%s/drain/%s", g->cdn, g->hex);
	size_t used = 0;
	unsigned records = 0;
	for (unsigned i = 0; i < g->n_drains; i++) {
		const struct drain *d = &g->drains[i];
		uint32_t s = pc_model_server(gen->model, d->server);
		if (s == PC_NONE ||
		    strcmp(gen->model->cdns[gen->model->servers[s].cdn].name, g->cdn) != 0)
			continue; /* a CDN speaks for its own servers only */
		struct pc_ovl_record rec = {
		    .type = PC_OVL_REC_DRAIN,
		    .u.drain = {.version = d->version,
		                .drained = d->drained,
		                .server = {d->server, strlen(d->server)}},
		};
		int len = pc_ovl_record_encode(&rec, g->payload + used, BLOCK_MAX - used);
		if (len < 0)
			break; /* the rest at the next announcement: MAX_DRAINS fit a block */
		used += (size_t)len;
		records++;
	}
	publish(g, G_DRAIN, channel, used, records);
}

/* Another router's drains: only about servers of the channel's CDN. */
static void on_drains(void *arg, const char *channel, uint32_t source, uint64_t seq,
                      const uint8_t *payload, size_t len)
{
	(void)seq;
	struct ovl_groups *g = arg;
	const pc_model *m = model_of(g);
	char owner[NAME_LEN];
	const char *kind, *rest;
	size_t kind_len;
	if (!channel_parts(channel, owner, &kind, &kind_len, &rest))
		return;
	struct pc_ovl_record rec;
	for (size_t at = 0; next_record(g, G_DRAIN, PC_OVL_REC_DRAIN, payload, len, &at, &rec);) {
		char name[NAME_LEN];
		if (owned_server(g, G_DRAIN, m, owner, &rec.u.drain.server, name) == PC_NONE)
			continue;
		if (!drain_set(g, name, rec.u.drain.version, rec.u.drain.drained)) {
			count(g, G_DRAIN, R_STALE);
			continue;
		}
		pcd_log(PCD_LOG_INFO,
		        rec.u.drain.drained ? "overlay-server-drained" : "overlay-server-undrained",
		        "server=%s from=%u version=%" PRIu64, name, source, rec.u.drain.version);
		count(g, G_DRAIN, R_APPLIED);
	}
}

/* ---- subscriptions ---- */

static void subscribe(struct ovl_groups *g, const char *channel, uint32_t source,
                      pcd_overlay_deliver_fn *fn)
{
	pcd_overlay_subscribe(g->node, channel, source, fn, g); /* -EEXIST: joined already */
}

static void subscribe_all(struct ovl_groups *g, const struct ovl_router *routers, unsigned n)
{
	const pc_model *m = model_of(g);
	uint32_t us = cdn_index(m, g->cdn);
	char channel[PC_OVL_CHANNEL_MAX + 1];
	for (unsigned i = 0; i < n; i++) {
		const struct ovl_router *r = &routers[i];
		if (r->id == g->self || r->cdn == NULL)
			continue;
		bool same = strcmp(r->cdn, g->cdn) == 0;
		bool peer = !same && agreement_between(m, r->cdn, g->cdn) != PC_NONE;
		if (same) {
			snprintf(channel, sizeof(channel), "%s/policy/%08x", r->cdn, r->id);
			subscribe(g, channel, r->id, on_policy);
		}
		if (same || peer) {
			snprintf(channel, sizeof(channel), "%s/replica/%08x", r->cdn, r->id);
			subscribe(g, channel, r->id, on_replicas);
			snprintf(channel, sizeof(channel), "%s/drain/%08x", r->cdn, r->id);
			subscribe(g, channel, r->id, on_drains);
		}
		if (peer) {
			snprintf(channel, sizeof(channel), "%s/resource/%s/%08x", r->cdn, g->cdn,
			         r->id);
			subscribe(g, channel, r->id, on_resources);
		}
		if (g->node->reports == NULL || us == PC_NONE)
			continue;
		for (uint32_t p = 0; p < m->n_providers; p++) {
			const struct pc_index_list *primary = &m->providers[p].primary_cdns;
			for (uint32_t c = 0; c < primary->count; c++)
				if (primary->items[c] == us) {
					snprintf(channel, sizeof(channel), "%s/report/%08x",
					         m->providers[p].name, r->id);
					subscribe(g, channel, r->id, on_reports);
					break;
				}
		}
	}
}

/* ---- peering ---- */

bool ovl_groups_peering_allowed(struct ovl_groups *g, const char *link_cdn, const char *channel)
{
	const pc_model *m = model_of(g);
	char owner[NAME_LEN];
	const char *kind, *rest;
	size_t kind_len;
	if (!channel_parts(channel, owner, &kind, &kind_len, &rest))
		return false;
	if (kind_is(kind, kind_len, "policy"))
		return false; /* a CDN's policy stays inside it */
	if (kind_is(kind, kind_len, "resource")) {
		const char *slash = strchr(rest, '/');
		size_t peer_len = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
		const char *other = strcmp(owner, g->cdn) == 0 ? link_cdn : g->cdn;
		return (strcmp(owner, g->cdn) == 0 || strcmp(owner, link_cdn) == 0) &&
		       peer_len == strlen(other) && memcmp(rest, other, peer_len) == 0;
	}
	if (kind_is(kind, kind_len, "replica") || kind_is(kind, kind_len, "drain"))
		return strcmp(owner, g->cdn) == 0 || strcmp(owner, link_cdn) == 0;
	if (cdn_index(m, owner) != PC_NONE)
		return true;
	for (uint32_t p = 0; p < m->n_providers; p++)
		if (strcmp(m->providers[p].name, owner) == 0)
			/* A live stream crosses only between CDNs that may deliver
			 * it: each side a primary of the provider or covered by an
			 * agreement with one for live (node/live.h). */
			return !kind_is(kind, kind_len, "live") ||
			       (live_delivers(m, p, cdn_index(m, g->cdn)) &&
			        live_delivers(m, p, cdn_index(m, link_cdn)));
	return false;
}

/* ---- life ---- */

int ovl_groups_new(struct pcd_node *node, uint32_t self, const char *cdn, struct ovl_groups **out)
{
	struct ovl_groups *g = calloc(1, sizeof(*g));
	if (g == NULL)
		return -ENOMEM;
	g->node = node;
	g->self = self;
	snprintf(g->cdn, sizeof(g->cdn), "%s", cdn);
	snprintf(g->hex, sizeof(g->hex), "%08x", self);
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->wake, NULL);
	g->payload = malloc(BLOCK_MAX);
	g->replicas = calloc(REPLICA_QUEUE, sizeof(*g->replicas));
	g->reports = calloc(REPORT_QUEUE, sizeof(*g->reports));
	g->drains = calloc(MAX_DRAINS, sizeof(*g->drains));
	if (g->payload == NULL || g->replicas == NULL || g->reports == NULL || g->drains == NULL) {
		ovl_groups_free(g);
		return -ENOMEM;
	}
	int err = pthread_create(&g->applier, NULL, applier_main, g);
	if (err != 0) {
		ovl_groups_free(g);
		return -err;
	}
	g->applier_started = true;
	*out = g;
	return 0;
}

void ovl_groups_free(struct ovl_groups *g)
{
	if (g == NULL)
		return;
	if (g->applier_started) {
		pthread_mutex_lock(&g->lock);
		g->stopping = true;
		pthread_cond_signal(&g->wake);
		pthread_mutex_unlock(&g->lock);
		pthread_join(g->applier, NULL);
	}
	for (unsigned i = 0; i < g->report_count; i++)
		free(g->reports[(g->report_head + i) % REPORT_QUEUE]);
	free(g->reports);
	free(g->drains);
	free(g->replicas);
	free(g->payload);
	free(g->out_text);
	free(g->last_text);
	free(g->in_buf);
	free(g->apply_text);
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

void ovl_groups_open(struct ovl_groups *g)
{
	if (g->node->reports != NULL) {
		pcd_reports_set_shipper(g->node->reports, ship_report, g);
		g->shipping = true;
	}
}

void ovl_groups_close(struct ovl_groups *g)
{
	if (g->shipping)
		pcd_reports_set_shipper(g->node->reports, NULL, NULL);
	g->shipping = false;
}

void ovl_groups_tick(struct ovl_groups *g, uint64_t now_mono, bool subscribe_now,
                     const struct ovl_router *routers, unsigned n_routers)
{
	if (subscribe_now)
		subscribe_all(g, routers, n_routers);
	publish_replicas(g);
	publish_policy(g, now_mono);
	publish_resources(g, now_mono);
	publish_reports(g);
	publish_drains(g, now_mono);
}

void ovl_groups_metrics(struct ovl_groups *g, FILE *out)
{
	fputs("# HELP peercdn_overlay_group_records_total Control records of the replica, policy, "
	      "resource, report and drain groups, by what became of them.\n"
	      "# TYPE peercdn_overlay_group_records_total counter\n",
	      out);
	for (unsigned gr = 0; gr < G__COUNT; gr++)
		for (unsigned r = 0; r < R__COUNT; r++)
			fprintf(out,
			        "peercdn_overlay_group_records_total{group=\"%s\",result=\"%s\"} "
			        "%" PRIu64 "\n",
			        group_names[gr], result_names[r],
			        atomic_load_explicit(&g->counts[gr][r], memory_order_relaxed));
	fputs("# HELP peercdn_overlay_policy_version The policy version this node serves "
	      "(0: none came over the overlay).\n"
	      "# TYPE peercdn_overlay_policy_version gauge\n",
	      out);
	fprintf(out, "peercdn_overlay_policy_version %" PRIu64 "\n",
	        atomic_load(&g->applied_version));
	fputs("# HELP peercdn_overlay_resource_capacity What a peer CDN offers us (claim 9): "
	      "capacity in load units.\n"
	      "# TYPE peercdn_overlay_resource_capacity gauge\n",
	      out);
	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < g->n_resources; i++)
		fprintf(out,
		        "peercdn_overlay_resource_capacity{cdn=\"%s\"} %" PRIu64 "\n"
		        "peercdn_overlay_resource_services{cdn=\"%s\"} %" PRIu32 "\n"
		        "peercdn_overlay_resource_prefixes{cdn=\"%s\"} %" PRIu32 "\n",
		        g->resources[i].cdn, g->resources[i].capacity, g->resources[i].cdn,
		        g->resources[i].services, g->resources[i].cdn, g->resources[i].prefixes);
	pthread_mutex_unlock(&g->lock);
}
