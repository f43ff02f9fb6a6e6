/* hosts: see hosts.h. One open-addressing table holds three kinds of key:
 * a CDN domain (hashed label by label from the right, so every suffix of a
 * name has its hash after one pass), a provider label and a service label.
 * Keys are stored lower case and compared with memcmp after a hash match. */
#include "lib/naming/hosts.h"

#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"

#define LABEL_MAX  63
#define LABELS_MAX (PC_NAME_MAX / 2 + 1)

enum kind { K_ZONE = 1, K_PROVIDER, K_SERVICE };

/* Seeds per kind, so a label that is both a provider and a one-label
 * domain gives two different hashes. */
static const uint64_t seeds[] = {
    [K_ZONE] = 0xcbf29ce484222325u,
    [K_PROVIDER] = 0x84222325cbf29ce4u,
    [K_SERVICE] = 0x9ce484222325cbf2u,
};

struct entry {
	uint64_t hash;
	const char *key; /* lower case; NULL: an empty slot */
	uint32_t value;  /* CDN, provider or service index */
	uint16_t len;
	uint8_t kind;
	uint8_t depth; /* a domain's labels */
};

struct pc_hosts {
	const pc_model *model;
	struct entry *slots;
	size_t mask;
	unsigned max_depth; /* labels of the longest domain */
	char *keys;         /* every key, lower case, one block */
};

/* FNV-1a over one lower-case label, then its length: "ab.c" and "a.bc"
 * fold differently. */
static uint64_t fold(uint64_t h, const char *label, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)label[i];
		h *= 0x100000001b3u;
	}
	h ^= len;
	return h * 0x100000001b3u;
}

static size_t slot_of(const struct pc_hosts *hosts, uint64_t hash)
{
	return (size_t)(hash ^ hash >> 29) & hosts->mask;
}

static const struct entry *probe(const struct pc_hosts *hosts, enum kind kind, uint64_t hash,
                                 const char *key, size_t len)
{
	for (size_t i = slot_of(hosts, hash);; i = (i + 1) & hosts->mask) {
		const struct entry *e = &hosts->slots[i];
		if (e->key == NULL)
			return NULL;
		if (e->hash == hash && e->kind == kind && e->len == len &&
		    memcmp(e->key, key, len) == 0)
			return e;
	}
}

/* The hash of a lower-case domain as lookups compute it: labels folded
 * from the right. Returns the hash; *depth gets the label count. */
static uint64_t domain_hash(const char *text, size_t len, unsigned *depth)
{
	uint64_t h = seeds[K_ZONE];
	size_t end = len;
	*depth = 0;
	for (size_t i = len; i-- > 0;) {
		if (text[i] == '.') {
			h = fold(h, text + i + 1, end - i - 1);
			end = i;
			++*depth;
		}
	}
	++*depth;
	return fold(h, text, end);
}

static void put(struct pc_hosts *hosts, enum kind kind, uint64_t hash, const char *key, size_t len,
                uint32_t value, unsigned depth)
{
	if (probe(hosts, kind, hash, key, len) != NULL)
		return; /* the model's maps refuse duplicates; keep the first */
	size_t i = slot_of(hosts, hash);
	while (hosts->slots[i].key != NULL)
		i = (i + 1) & hosts->mask;
	hosts->slots[i] =
	    (struct entry){hash, key, value, (uint16_t)len, (uint8_t)kind, (uint8_t)depth};
}

/* Copies name lower case into the key block; returns the copy. */
static const char *keep(char **at, const char *name, size_t len)
{
	char *key = *at;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		key[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	*at += len;
	return key;
}

int pc_hosts_new(const pc_model *model, pc_hosts **out)
{
	if (model == NULL || out == NULL)
		return PC_EINVAL;
	size_t n_keys = (size_t)model->n_cdns + model->n_providers + model->n_services;
	size_t key_bytes = 0;
	for (uint32_t i = 0; i < model->n_cdns; i++)
		key_bytes += model->cdns[i].domain_len;
	for (uint32_t i = 0; i < model->n_providers; i++)
		key_bytes += strlen(model->providers[i].name);
	for (uint32_t i = 0; i < model->n_services; i++)
		key_bytes += strlen(model->services[i].name);
	size_t n_slots = 16;
	while (n_slots < 2 * n_keys)
		n_slots *= 2;
	pc_hosts *hosts = calloc(1, sizeof(*hosts));
	if (hosts == NULL)
		return PC_ENOMEM;
	hosts->slots = calloc(n_slots, sizeof(*hosts->slots));
	hosts->keys = malloc(key_bytes + 1);
	if (hosts->slots == NULL || hosts->keys == NULL) {
		pc_hosts_free(hosts);
		return PC_ENOMEM;
	}
	hosts->model = model;
	hosts->mask = n_slots - 1;
	char *at = hosts->keys;
	for (uint32_t i = 0; i < model->n_cdns; i++) {
		const struct pc_cdn *cdn = &model->cdns[i];
		/* A domain longer than a name can be never matches one. */
		if (cdn->domain_len == 0 || cdn->domain_len > PC_NAME_MAX)
			continue;
		const char *key = keep(&at, cdn->domain, cdn->domain_len);
		unsigned depth;
		uint64_t hash = domain_hash(key, cdn->domain_len, &depth);
		put(hosts, K_ZONE, hash, key, cdn->domain_len, i, depth);
		if (depth > hosts->max_depth)
			hosts->max_depth = depth;
	}
	for (uint32_t i = 0; i < model->n_providers; i++) {
		size_t len = strlen(model->providers[i].name);
		if (len == 0 || len > LABEL_MAX)
			continue; /* no label matches it */
		const char *key = keep(&at, model->providers[i].name, len);
		put(hosts, K_PROVIDER, fold(seeds[K_PROVIDER], key, len), key, len, i, 1);
	}
	for (uint32_t i = 0; i < model->n_services; i++) {
		size_t len = strlen(model->services[i].name);
		if (len == 0 || len > LABEL_MAX)
			continue;
		const char *key = keep(&at, model->services[i].name, len);
		put(hosts, K_SERVICE, fold(seeds[K_SERVICE], key, len), key, len, i, 1);
	}
	*out = hosts;
	return PC_OK;
}

void pc_hosts_free(pc_hosts *hosts)
{
	if (hosts == NULL)
		return;
	free(hosts->slots);
	free(hosts->keys);
	free(hosts);
}

/* A name split the way pc_name_parse's splitter would accept it. */
struct scan {
	char low[PC_NAME_MAX];
	uint8_t start[LABELS_MAX]; /* offsets fit: a name is at most 255 bytes */
	uint8_t len[LABELS_MAX];
	size_t n;
};

/* Lower-cases and splits a plain name: labels of 1-63 letters, digits, '-'
 * and '_'. False for anything else (the slow path's to judge). */
static bool scan(const char *name, size_t len, struct scan *s)
{
	if (len == 0 || len > PC_NAME_MAX)
		return false;
	size_t start = 0;
	s->n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i], lower = c | 0x20;
		if (lower >= 'a' && lower <= 'z') {
			s->low[i] = (char)lower;
		} else if ((c >= '0' && c <= '9') || c == '-' || c == '_') {
			s->low[i] = (char)c;
		} else if (c == '.') {
			if (i == start || i - start > LABEL_MAX)
				return false;
			s->start[s->n] = (uint8_t)start;
			s->len[s->n++] = (uint8_t)(i - start);
			s->low[i] = '.';
			start = i + 1;
		} else {
			return false;
		}
	}
	if (start == len || len - start > LABEL_MAX)
		return false;
	s->start[s->n] = (uint8_t)start;
	s->len[s->n++] = (uint8_t)(len - start);
	return true;
}

/* The longest domain that is a suffix of the scanned name: its entry, or
 * NULL. */
static const struct entry *zone_of(const struct pc_hosts *hosts, const struct scan *s)
{
	size_t depth = s->n < hosts->max_depth ? s->n : hosts->max_depth;
	uint64_t hash[LABELS_MAX + 1];
	uint64_t h = seeds[K_ZONE];
	for (size_t d = 1; d <= depth; d++) {
		size_t i = s->n - d;
		h = fold(h, s->low + s->start[i], s->len[i]);
		hash[d] = h;
	}
	for (size_t d = depth; d > 0; d--) {
		size_t first = s->start[s->n - d];
		size_t last = s->n - 1;
		size_t len = s->start[last] + s->len[last] - first;
		const struct entry *e = probe(hosts, K_ZONE, hash[d], s->low + first, len);
		if (e != NULL)
			return e;
	}
	return NULL;
}

static uint32_t label_value(const struct pc_hosts *hosts, enum kind kind, const struct scan *s,
                            size_t i)
{
	const char *label = s->low + s->start[i];
	const struct entry *e =
	    probe(hosts, kind, fold(seeds[kind], label, s->len[i]), label, s->len[i]);
	return e != NULL ? e->value : PC_NONE;
}

uint32_t pc_hosts_zone(const pc_hosts *hosts, const char *name, size_t len, size_t *codepoint_len)
{
	struct scan s;
	if (!scan(name, len, &s))
		return pc_model_cdn_for_name(hosts->model, name, len, codepoint_len);
	const struct entry *zone = zone_of(hosts, &s);
	if (zone == NULL)
		return PC_NONE;
	if (codepoint_len != NULL)
		*codepoint_len = zone->depth == s.n ? 0 : s.start[s.n - zone->depth] - 1u;
	return zone->value;
}

static bool reserved(const struct scan *s, size_t i)
{
	const char *label = s->low + s->start[i];
	return s->len[i] >= 2 && (label[0] == 's' || label[0] == 'e') && label[1] == '-';
}

int pc__hosts_name_parse(const pc_hosts *hosts, const char *name, size_t len, bool need_service,
                         pc_name *out)
{
	if (hosts == NULL || out == NULL || (name == NULL && len > 0))
		return PC_EINVAL;
	const pc_model *model = hosts->model;
	size_t plain_len = len > 0 && name[len - 1] == '.' ? len - 1 : len;
	struct scan s;
	if (!scan(name, plain_len, &s))
		return pc__name_parse(model, name, len, need_service, out);
	const struct entry *zone = zone_of(hosts, &s);
	if (zone == NULL || zone->depth == s.n)
		return pc__name_parse(model, name, len, need_service, out);
	/* The codepoint is labels [0, k). The clear case: the customer is the
	 * label left of the domain, the service (if any label is left) the one
	 * left of it, no "s-" or "e-" label. pc__name_parse reads the customer
	 * as the rightmost provider label and the service as the rightmost
	 * service label besides it, so both agree there; anything else is
	 * its to read. */
	size_t k = s.n - zone->depth;
	for (size_t i = 0; i < k; i++)
		if (reserved(&s, i))
			return pc__name_parse(model, name, len, need_service, out);
	uint32_t provider = label_value(hosts, K_PROVIDER, &s, k - 1);
	uint32_t service = k >= 2 ? label_value(hosts, K_SERVICE, &s, k - 2) : PC_NONE;
	if (provider == PC_NONE || (k >= 2 && service == PC_NONE))
		return pc__name_parse(model, name, len, need_service, out);
	out->cdn = zone->value;
	out->provider = provider;
	out->signature = PC_SIG_ABSENT;
	out->encrypted = false;
	size_t object_len = k >= 3 ? s.start[k - 3] + s.len[k - 3] : 0u;
	memcpy(out->object, s.low, object_len);
	out->object[object_len] = '\0';
	out->object_len = (uint32_t)object_len;
	if (service == PC_NONE && need_service) {
		if (model->default_service == PC_NONE)
			return PC_ENOSERVICE;
		service = model->default_service;
	}
	out->service = service;
	return PC_OK;
}

int pc_hosts_name_parse(const pc_hosts *hosts, const char *name, size_t len, pc_name *out)
{
	return pc__hosts_name_parse(hosts, name, len, true, out);
}
