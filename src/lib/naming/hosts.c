/* hosts: see hosts.h. One open-addressing table holds four kinds of key:
 * a CDN domain (hashed label by label from the right, so every suffix of a
 * name has its hash after one pass), a provider label, a service label,
 * and a whole plain URL host ("<customer>.<domain>", "<service>.<customer>.
 * <domain>", hashed eight bytes at a time, with the name the walk gave for
 * it at build time). Keys are stored lower case and compared with memcmp
 * after a hash match. */
#include "lib/naming/hosts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/ascii.h"
#include "lib/base/err.h"

#define LABEL_MAX  63
#define LABELS_MAX (PC_NAME_MAX / 2 + 1)
#define FOLD_SLACK 8 /* bytes fold may read past a key block's last key */

enum kind { K_ZONE = 1, K_PROVIDER, K_SERVICE, K_HOST };

struct content_host {
	const char *text; /* lower case, FOLD_SLACK readable bytes past len */
	uint32_t len;
	uint32_t form; /* enum pc_url_form */
};

/* Seeds per kind, so a label that is both a provider and a one-label
 * domain gives two different hashes. */
static const uint64_t seeds[] = {
    [K_ZONE] = 0xcbf29ce484222325u,
    [K_PROVIDER] = 0x84222325cbf29ce4u,
    [K_SERVICE] = 0x9ce484222325cbf2u,
    [K_HOST] = 0x2325cbf29ce48422u,
};

struct entry {
	uint64_t hash;
	const char *key; /* lower case; NULL: an empty slot */
	uint32_t value;  /* CDN, provider or service index; a host's into names */
	uint16_t len;
	uint8_t kind;
	uint8_t depth; /* a domain's labels */
};

struct host_name {
	uint32_t cdn, provider, service;
	/* "<service>.<customer>.<domain>" read as just that — the service
	 * and customer labels it was built from, under the CDN it was built
	 * for — and that domain's labels: a DNS name with one label more
	 * (the object) can take its answer (pc_hosts_split_parse). 0: no. */
	uint8_t clear_depth;
};

struct pc_hosts {
	const pc_model *model;
	struct entry *slots;
	size_t mask;
	unsigned max_depth;      /* labels of the longest domain */
	char *keys;              /* every label and domain key, lower case, one block */
	char *host_keys;         /* every host key, one block */
	struct host_name *names; /* of the K_HOST entries */
	uint32_t n_names;
	/* Every provider's content hosts, origins then directories, lower
	 * case with their lengths (a URL's first path segment is compared
	 * with them): those of provider p are [content_first[p],
	 * content_first[p + 1]). */
	struct content_host *content;
	uint32_t *content_first;
	char *content_text;
};

/* One lower-case label folded in eight bytes at a time, then its length:
 * "ab.c" and "a.bc" fold differently. The last word is read whole and
 * masked to the label's bytes, so label must be readable up to the next
 * multiple of eight past its start (struct pc_host_name's text and the
 * key blocks have the slack); bytes per label, not per byte, is what
 * the DNS answer pays for its three to five labels. */
static uint64_t fold(uint64_t h, const char *label, size_t len)
{
	uint64_t w;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, label + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15u;
		h ^= h >> 32;
	}
	if (i < len) {
		memcpy(&w, label + i, 8);
		w &= ~(uint64_t)0 >> (64 - 8 * (len - i));
		h = (h ^ w) * 0x9e3779b97f4a7c15u;
		h ^= h >> 32;
	}
	h ^= len;
	return h * 0x100000001b3u;
}

static size_t slot_of(const struct pc_hosts *hosts, uint64_t hash)
{
	return (size_t)(hash ^ hash >> 29) & hosts->mask;
}

/* Whether the w-byte words at a and b are equal (w: 1, 2, 4 or 8). */
static inline bool same_word(const char *a, const char *b, size_t w)
{
	uint64_t x = 0, y = 0;
	memcpy(&x, a, w);
	memcpy(&y, b, w);
	return x == y;
}

/* memcmp(a, b, len) == 0 a word at a time, with no call, reading only the
 * len bytes of each: a look-up key ends in bytes nobody wrote (a stack
 * buffer's or a split name's slack), and a word read past it and masked,
 * though it compared the same, handed indeterminate bytes to the compare.
 * The tail is an overlapping last word instead (or two smaller ones). */
static bool same_key(const char *a, const char *b, size_t len)
{
	size_t i = 0;
	for (; i + 8 <= len; i += 8)
		if (!same_word(a + i, b + i, 8))
			return false;
	if (i == len)
		return true;
	if (len >= 8)
		return same_word(a + len - 8, b + len - 8, 8);
	if (len >= 4)
		return same_word(a, b, 4) && same_word(a + len - 4, b + len - 4, 4);
	if (len >= 2)
		return same_word(a, b, 2) && same_word(a + len - 2, b + len - 2, 2);
	return a[0] == b[0];
}

/* Inline in every look-up: it is most of one, and a call costs a tenth. */
static inline __attribute__((always_inline)) const struct entry *
probe(const struct pc_hosts *hosts, enum kind kind, uint64_t hash, const char *key, size_t len)
{
	for (size_t i = slot_of(hosts, hash);; i = (i + 1) & hosts->mask) {
		const struct entry *e = &hosts->slots[i];
		if (e->key == NULL)
			return NULL;
		if (e->hash == hash && e->kind == kind && e->len == len &&
		    same_key(e->key, key, len))
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

/* A host's hash, eight bytes at a time, lowering it into lower (len
 * bytes written; the tail read without reading past len). */
static inline __attribute__((always_inline)) uint64_t host_hash(const char *host, size_t len,
                                                                char *lower)
{
	uint64_t h = seeds[K_HOST], w;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, host + i, 8);
		w = pc_ascii_lower8(w);
		memcpy(lower + i, &w, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15u;
		h ^= h >> 32;
	}
	if (i < len) {
		if (len >= 8) {
			/* The last eight bytes, lowered over what is written
			 * (lowering is idempotent), shifted down to the tail's:
			 * the same word as the zero-padded copy below, with no
			 * variable-length copy (two calls). */
			memcpy(&w, host + len - 8, 8);
			w = pc_ascii_lower8(w);
			memcpy(lower + len - 8, &w, 8);
			w >>= 8 * (8 - (len - i));
		} else {
			w = 0;
			memcpy(&w, host + i, len - i);
			w = pc_ascii_lower8(w);
			memcpy(lower + i, &w, len - i);
		}
		h = (h ^ w) * 0x9e3779b97f4a7c15u;
		h ^= h >> 32;
	}
	return h ^ len;
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

/* The plain URL hosts of model, "[<service>.]<customer>.<domain>", each
 * with what pc__name_parse(..., false, ...) gives for it, when that is a
 * plain name (no object, signature or encryption). host_keys and names
 * must hold n_hosts(model) entries. */
static size_t host_bytes(const pc_model *model, size_t *n)
{
	size_t bytes = 0;
	*n = 0;
	for (uint32_t c = 0; c < model->n_cdns; c++)
		for (uint32_t p = 0; p < model->n_providers; p++)
			for (uint32_t s = 0; s <= model->n_services; s++) {
				size_t len = strlen(model->providers[p].name) + 1 +
				             model->cdns[c].domain_len;
				if (s < model->n_services)
					len += strlen(model->services[s].name) + 1;
				if (len <= PC_NAME_MAX) {
					bytes += len;
					++*n;
				}
			}
	return bytes;
}

static void put_hosts(struct pc_hosts *hosts)
{
	const pc_model *model = hosts->model;
	char host[PC_NAME_MAX + 8];
	char *at = hosts->host_keys;
	for (uint32_t c = 0; c < model->n_cdns; c++) {
		const struct pc_cdn *cdn = &model->cdns[c];
		for (uint32_t p = 0; p < model->n_providers; p++) {
			const char *customer = model->providers[p].name;
			for (uint32_t s = 0; s <= model->n_services; s++) {
				const char *service =
				    s < model->n_services ? model->services[s].name : NULL;
				int n = service != NULL
				            ? snprintf(host, sizeof(host), "%s.%s.%.*s", service,
				                       customer, (int)cdn->domain_len, cdn->domain)
				            : snprintf(host, sizeof(host), "%s.%.*s", customer,
				                       (int)cdn->domain_len, cdn->domain);
				if (n <= 0 || (size_t)n > PC_NAME_MAX)
					continue;
				size_t len = (size_t)n;
				pc_name name;
				if (pc__name_parse(model, host, len, false, &name) != PC_OK ||
				    name.object_len != 0 || name.signature != PC_SIG_ABSENT ||
				    name.encrypted)
					continue;
				uint64_t hash = host_hash(host, len, at);
				if (probe(hosts, K_HOST, hash, at, len) != NULL)
					continue;
				unsigned depth = 0;
				if (service != NULL && name.cdn == c && name.provider == p &&
				    name.service == s) {
					depth = 1;
					for (size_t i = 0; i < cdn->domain_len; i++)
						depth += cdn->domain[i] == '.';
				}
				hosts->names[hosts->n_names] = (struct host_name){
				    name.cdn, name.provider, name.service, (uint8_t)depth};
				put(hosts, K_HOST, hash, at, len, hosts->n_names++, 0);
				at += len;
			}
		}
	}
}

static int put_content_hosts(struct pc_hosts *hosts)
{
	const pc_model *model = hosts->model;
	size_t n = 0, bytes = 0;
	for (uint32_t p = 0; p < model->n_providers; p++) {
		const struct pc_provider *provider = &model->providers[p];
		n += provider->n_origin_hosts + provider->n_directory_hosts;
		for (uint32_t i = 0; i < provider->n_origin_hosts; i++)
			bytes += strlen(provider->origin_hosts[i]);
		for (uint32_t i = 0; i < provider->n_directory_hosts; i++)
			bytes += strlen(provider->directory_hosts[i]);
	}
	hosts->content = malloc((n + 1) * sizeof(*hosts->content));
	hosts->content_first = malloc(((size_t)model->n_providers + 1) * sizeof(uint32_t));
	hosts->content_text = calloc(1, bytes + FOLD_SLACK);
	if (hosts->content == NULL || hosts->content_first == NULL || hosts->content_text == NULL)
		return PC_ENOMEM;
	char *at = hosts->content_text;
	uint32_t k = 0;
	for (uint32_t p = 0; p < model->n_providers; p++) {
		const struct pc_provider *provider = &model->providers[p];
		hosts->content_first[p] = k;
		uint32_t n_hosts = provider->n_origin_hosts + provider->n_directory_hosts;
		for (uint32_t i = 0; i < n_hosts; i++) {
			bool origin = i < provider->n_origin_hosts;
			const char *host =
			    origin ? provider->origin_hosts[i]
			           : provider->directory_hosts[i - provider->n_origin_hosts];
			size_t len = strlen(host);
			hosts->content[k++] =
			    (struct content_host){keep(&at, host, len), (uint32_t)len,
			                          origin ? PC_URL_ORIGIN : PC_URL_DIRECTORY};
		}
	}
	hosts->content_first[model->n_providers] = k;
	return PC_OK;
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
	size_t n_hosts;
	size_t host_key_bytes = host_bytes(model, &n_hosts);
	n_keys += n_hosts;
	size_t n_slots = 16;
	while (n_slots < 2 * n_keys)
		n_slots *= 2;
	pc_hosts *hosts = calloc(1, sizeof(*hosts));
	if (hosts == NULL)
		return PC_ENOMEM;
	hosts->slots = calloc(n_slots, sizeof(*hosts->slots));
	hosts->keys = calloc(1, key_bytes + FOLD_SLACK);
	hosts->host_keys = calloc(1, host_key_bytes + FOLD_SLACK);
	hosts->names = malloc((n_hosts + 1) * sizeof(*hosts->names));
	if (hosts->slots == NULL || hosts->keys == NULL || hosts->host_keys == NULL ||
	    hosts->names == NULL) {
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
	put_hosts(hosts);
	if (put_content_hosts(hosts) != PC_OK) {
		pc_hosts_free(hosts);
		return PC_ENOMEM;
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
	free(hosts->host_keys);
	free(hosts->names);
	free(hosts->content);
	free(hosts->content_first);
	free(hosts->content_text);
	free(hosts);
}

/* Plain name bytes lower-cased, '.' kept, anything else 0. */
static const uint8_t plain_lower[256] = {
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   45,  46,  0,   48,  49,  50,  51,  52,  53,  54,  55,  56,
    57,  0,   0,   0,   0,   0,   0,   0,   97,  98,  99,  100, 101, 102, 103, 104, 105, 106, 107,
    108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 0,   0,   0,   0,
    95,  0,   97,  98,  99,  100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113,
    114, 115, 116, 117, 118, 119, 120, 121, 122, 0,   0,   0,   0,   0,
};

/* The same for a wire label's bytes, where '.' is not plain either:
 * anything else is 0x80, so one OR over a label tells. */
static const uint8_t label_lower[256] = {
    128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
    128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
    128, 128, 128, 128, 128, 128, 128, 45,  128, 128, 48,  49,  50,  51,  52,  53,  54,  55,  56,
    57,  128, 128, 128, 128, 128, 128, 128, 97,  98,  99,  100, 101, 102, 103, 104, 105, 106, 107,
    108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 128, 128, 128, 128,
    95,  128, 97,  98,  99,  100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113,
    114, 115, 116, 117, 118, 119, 120, 121, 122, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
    128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
    128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
    128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
    128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
    128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
    128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
    128, 128, 128, 128, 128, 128, 128, 128, 128,
};

typedef struct pc_host_name scan_t;

bool pc_host_name_split(const char *name, size_t len, struct pc_host_name *s)
{
	if (len == 0 || len > PC_NAME_MAX)
		return false;
	size_t start = 0;
	s->n = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = plain_lower[(unsigned char)name[i]];
		s->text[i] = (char)c;
		if (c == '.') {
			if (i == start || i - start > LABEL_MAX)
				return false;
			s->start[s->n] = (uint8_t)start;
			s->label_len[s->n++] = (uint8_t)(i - start);
			start = i + 1;
		} else if (c == 0) {
			return false;
		}
	}
	if (start == len || len - start > LABEL_MAX)
		return false;
	s->start[s->n] = (uint8_t)start;
	s->label_len[s->n++] = (uint8_t)(len - start);
	s->text[len] = '\0';
	s->len = len;
	return true;
}

bool pc_host_name_from_wire(const uint8_t *wire, size_t max, struct pc_host_name *s,
                            size_t *wire_len)
{
	/* Counters in locals: the byte stores into s->text may alias anything. */
	uint8_t *text = (uint8_t *)s->text;
	size_t at = 0, t = 0, labels = 0;
	uint8_t bad = 0;
	/* A label must end before lim: the next length byte has to be there,
	 * and a name is at most 255 bytes in wire form. */
	size_t lim = max < PC_NAME_MAX ? max : PC_NAME_MAX;
	if (max == 0)
		return false;
	for (;;) {
		size_t n = wire[at++];
		if (n == 0)
			break;
		/* A label over 63 (or a pointer), or one past lim. */
		if (n > LABEL_MAX || at + n >= lim)
			return false;
		s->start[labels] = (uint8_t)t;
		s->label_len[labels++] = (uint8_t)n;
		const uint8_t *in = wire + at, *end = in + n;
		uint8_t *out = text + t;
		do {
			uint8_t c = label_lower[*in++];
			bad |= c;
			*out++ = c;
		} while (in != end);
		*out = '.'; /* the last one becomes the terminator */
		t += n + 1;
		at += n;
	}
	if (labels == 0 || (bad & 0x80))
		return false;
	text[--t] = '\0';
	s->n = labels;
	s->len = t;
	*wire_len = at;
	return true;
}

/* The longest domain that is a suffix of the scanned name: its entry, or
 * NULL. Inline, as label_value below: with probe inline in them gcc made
 * both calls, ~15 instructions each per DNS answer. */
static inline __attribute__((always_inline)) const struct entry *
zone_of(const struct pc_hosts *hosts, const scan_t *s)
{
	size_t depth = s->n < hosts->max_depth ? s->n : hosts->max_depth;
	uint64_t hash[LABELS_MAX + 1];
	uint64_t h = seeds[K_ZONE];
	for (size_t d = 1; d <= depth; d++) {
		size_t i = s->n - d;
		h = fold(h, s->text + s->start[i], s->label_len[i]);
		hash[d] = h;
	}
	for (size_t d = depth; d > 0; d--) {
		size_t first = s->start[s->n - d];
		size_t last = s->n - 1;
		size_t len = s->start[last] + s->label_len[last] - first;
		const struct entry *e = probe(hosts, K_ZONE, hash[d], s->text + first, len);
		if (e != NULL)
			return e;
	}
	return NULL;
}

static inline __attribute__((always_inline)) uint32_t
label_value(const struct pc_hosts *hosts, enum kind kind, const scan_t *s, size_t i)
{
	const char *label = s->text + s->start[i];
	const struct entry *e =
	    probe(hosts, kind, fold(seeds[kind], label, s->label_len[i]), label, s->label_len[i]);
	return e != NULL ? e->value : PC_NONE;
}

static size_t codepoint_bytes(const scan_t *s, const struct entry *zone)
{
	return zone->depth == s->n ? 0 : s->start[s->n - zone->depth] - 1u;
}

uint32_t pc_hosts_zone(const pc_hosts *hosts, const char *name, size_t len, size_t *codepoint_len)
{
	scan_t s;
	if (!pc_host_name_split(name, len, &s))
		return pc_model_cdn_for_name(hosts->model, name, len, codepoint_len);
	const struct entry *zone = zone_of(hosts, &s);
	if (zone == NULL)
		return PC_NONE;
	if (codepoint_len != NULL)
		*codepoint_len = codepoint_bytes(&s, zone);
	return zone->value;
}

static bool reserved(const scan_t *s, size_t i)
{
	const char *label = s->text + s->start[i];
	return s->label_len[i] >= 2 && (label[0] == 's' || label[0] == 'e') && label[1] == '-';
}

/* The name a host of the table reads as, with object (object_len bytes)
 * in front: what both of its probes answer. */
static inline __attribute__((always_inline)) void
name_of_host(const struct host_name *name, const char *object, size_t object_len, pc_name *out)
{
	out->cdn = name->cdn;
	out->provider = name->provider;
	out->service = name->service;
	out->signature = PC_SIG_ABSENT;
	out->encrypted = false;
	memcpy(out->object, object, object_len);
	out->object[object_len] = '\0';
	out->object_len = (uint32_t)object_len;
}

/* A DNS answer's usual name, "<object>.<service>.<customer>.<domain>": the
 * name less its first label is a host of the table, read as the labels it
 * was built from, so one probe of it tells the zone, customer and service
 * that the zone's and the labels' probes would (four or five folds and
 * probes, most of a DNS answer's name look-up). Only when no domain has
 * as many labels as the name (every zone the walk could find is then a
 * suffix of the rest too) and no label of the codepoint is an "s-" or
 * "e-" one. False: the walk's to answer. */
static bool object_host(const pc_hosts *hosts, const struct pc_host_name *s, pc_name *out,
                        uint32_t *zone_out, size_t *codepoint_len)
{
	if (s->n < 4 || hosts->max_depth >= s->n || hosts->n_names == 0)
		return false;
	size_t first = s->start[1], len = s->len - first;
	char lower[PC_NAME_MAX + FOLD_SLACK];
	const struct entry *e =
	    probe(hosts, K_HOST, host_hash(s->text + first, len, lower), lower, len);
	if (e == NULL)
		return false;
	const struct host_name *name = &hosts->names[e->value];
	if (name->clear_depth == 0 || name->clear_depth + 3u != s->n || reserved(s, 0) ||
	    reserved(s, 1) || reserved(s, 2))
		return false;
	*zone_out = name->cdn;
	*codepoint_len = s->start[3] - 1u;
	name_of_host(name, s->text, s->label_len[0], out);
	return true;
}

int pc_hosts_split_parse(const pc_hosts *hosts, const struct pc_host_name *s, bool need_service,
                         pc_name *out, uint32_t *zone_out, size_t *codepoint_len)
{
	if (object_host(hosts, s, out, zone_out, codepoint_len))
		return PC_OK;
	const pc_model *model = hosts->model;
	const struct entry *zone = zone_of(hosts, s);
	*zone_out = zone != NULL ? zone->value : PC_NONE;
	*codepoint_len = zone != NULL ? codepoint_bytes(s, zone) : 0;
	/* What pc__name_parse finds for a plain name outside every zone, or
	 * for a zone's own name (no codepoint labels: no customer). */
	if (zone == NULL) {
		out->cdn = PC_NONE;
		return PC_ENOZONE;
	}
	if (zone->depth == s->n) {
		out->cdn = zone->value;
		return PC_ENOCUSTOMER;
	}
	/* The codepoint is labels [0, k). The clear case: the customer is the
	 * label left of the domain, the service (if any label is left) the one
	 * left of it, no "s-" or "e-" label. pc__name_parse reads the customer
	 * as the rightmost provider label and the service as the rightmost
	 * service label besides it, so both agree there; anything else is
	 * its to read. */
	size_t k = s->n - zone->depth;
	for (size_t i = 0; i < k; i++)
		if (reserved(s, i))
			return pc__name_parse(model, s->text, s->len, need_service, out);
	uint32_t provider = label_value(hosts, K_PROVIDER, s, k - 1);
	uint32_t service = k >= 2 ? label_value(hosts, K_SERVICE, s, k - 2) : PC_NONE;
	if (provider == PC_NONE || (k >= 2 && service == PC_NONE))
		return pc__name_parse(model, s->text, s->len, need_service, out);
	out->cdn = zone->value;
	out->provider = provider;
	out->signature = PC_SIG_ABSENT;
	out->encrypted = false;
	size_t object_len = k >= 3 ? s->start[k - 3] + s->label_len[k - 3] : 0u;
	memcpy(out->object, s->text, object_len);
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

int pc__hosts_name_parse(const pc_hosts *hosts, const char *name, size_t len, bool need_service,
                         pc_name *out)
{
	if (hosts == NULL || out == NULL || (name == NULL && len > 0))
		return PC_EINVAL;
	size_t plain_len = len > 0 && name[len - 1] == '.' ? len - 1 : len;
	scan_t s;
	if (!pc_host_name_split(name, plain_len, &s))
		return pc__name_parse(hosts->model, name, len, need_service, out);
	uint32_t zone;
	size_t codepoint_len;
	return pc_hosts_split_parse(hosts, &s, need_service, out, &zone, &codepoint_len);
}

int pc_hosts_name_parse(const pc_hosts *hosts, const char *name, size_t len, pc_name *out)
{
	return pc__hosts_name_parse(hosts, name, len, true, out);
}

int pc__hosts_url_name(const pc_hosts *hosts, const char *host, size_t len, pc_name *out)
{
	if (hosts != NULL && len > 0 && len <= PC_NAME_MAX && host != NULL && out != NULL) {
		char lower[PC_NAME_MAX + FOLD_SLACK];
		const struct entry *e =
		    probe(hosts, K_HOST, host_hash(host, len, lower), lower, len);
		if (e != NULL) {
			name_of_host(&hosts->names[e->value], "", 0, out);
			return PC_OK;
		}
	}
	return pc__hosts_name_parse(hosts, host, len, false, out);
}

const char *pc__hosts_content_host(const pc_hosts *hosts, uint32_t provider, const char *host,
                                   size_t len, enum pc_url_form *form)
{
	if (provider >= hosts->model->n_providers)
		return NULL;
	for (uint32_t i = hosts->content_first[provider]; i < hosts->content_first[provider + 1];
	     i++) {
		const struct content_host *c = &hosts->content[i];
		if (c->len == len && pc_ascii_equal_lower(host, c->text, len)) {
			*form = (enum pc_url_form)c->form;
			return c->text;
		}
	}
	return NULL;
}
