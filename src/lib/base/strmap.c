/* Open addressing with linear probing at load factor <= 1/2. */
#include "lib/base/strmap.h"

#include <string.h>
#include <strings.h>

#include "lib/base/err.h"

struct slot {
	const char *key;
	uint32_t key_len;
	uint32_t value;
};

struct pc_strmap {
	struct slot *slots;
	size_t mask, count, capacity;
};

/* Bytes lowered by a look-up rather than a compare and a move: the hash
 * runs over every answer's object (the affinity key), five instructions a
 * byte instead of eleven. */
/* clang-format off */
#define L4(c) (c), (c) + 1, (c) + 2, (c) + 3
#define L16(c) L4(c), L4((c) + 4), L4((c) + 8), L4((c) + 12)
static const unsigned char lower[256] = {
    L16(0x00), L16(0x10), L16(0x20), L16(0x30),
    '@', L4('a'), L4('e'), L4('i'), L4('m'), L4('q'), L4('u'), 'y', 'z', L4(0x5b), 0x5f,
    L16(0x60), L16(0x70), L16(0x80), L16(0x90), L16(0xa0), L16(0xb0), L16(0xc0), L16(0xd0),
    L16(0xe0), L16(0xf0),
};
#undef L16
#undef L4
/* clang-format on */

uint64_t pc_hash_ci(const char *key, size_t len)
{
	const uint64_t prime = 1099511628211ULL;
	const unsigned char *p = (const unsigned char *)key;
	uint64_t h = 14695981039346656037ULL;
	size_t i = 0;
	for (; i + 2 <= len; i += 2) {
		h = (h ^ lower[p[i]]) * prime;
		h = (h ^ lower[p[i + 1]]) * prime;
	}
	if (i < len)
		h = (h ^ lower[p[i]]) * prime;
	return h;
}

pc_strmap *pc_strmap_new(pc_arena *arena, size_t capacity)
{
	pc_strmap *map = pc_arena_alloc(arena, sizeof(*map));
	if (map == NULL)
		return NULL;
	size_t n = 8;
	while (n < capacity * 2)
		n <<= 1;
	map->slots = pc_arena_alloc(arena, n * sizeof(struct slot));
	if (map->slots == NULL)
		return NULL;
	map->mask = n - 1;
	map->capacity = capacity;
	return map;
}

/* Eight bytes with ASCII A-Z made lower case, each byte on its own (no
 * carry crosses a byte): t + 0x3f sets a byte's top bit when it is >= 'A',
 * t + 0x25 when it is > 'Z', and bytes >= 0x80 are left alone. */
static uint64_t fold8(uint64_t x)
{
	const uint64_t high = 0x8080808080808080ULL;
	uint64_t t = x & ~high;
	uint64_t upper = (t + 0x3f3f3f3f3f3f3f3fULL) & ~(t + 0x2525252525252525ULL) & ~x & high;
	return x | upper >> 2;
}

/* The slot hash: keys equal ignoring ASCII case hash alike, eight bytes at
 * a time. Only slot placement depends on it; pc_hash_ci (affinity) is
 * another function and stays as it is. */
static uint64_t slot_hash(const char *key, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, key + i, 8);
		h = (h ^ fold8(w)) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	if (i < len) {
		uint64_t w = 0;
		memcpy(&w, key + i, len - i);
		h = (h ^ fold8(w)) * 0xff51afd7ed558ccdULL;
	}
	h ^= h >> 29;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ h >> 32;
}

static struct slot *find(const pc_strmap *map, const char *key, size_t key_len)
{
	size_t i = slot_hash(key, key_len) & map->mask;
	for (;;) {
		struct slot *s = &map->slots[i];
		if (s->key == NULL ||
		    (s->key_len == key_len && strncasecmp(s->key, key, key_len) == 0))
			return s;
		i = (i + 1) & map->mask;
	}
}

int pc_strmap_put(pc_strmap *map, const char *key, size_t key_len, uint32_t value)
{
	if (map->count >= map->capacity || key_len > UINT32_MAX)
		return PC_ERANGE;
	struct slot *s = find(map, key, key_len);
	if (s->key != NULL)
		return PC_EEXIST;
	s->key = key;
	s->key_len = (uint32_t)key_len;
	s->value = value;
	map->count++;
	return PC_OK;
}

bool pc_strmap_get(const pc_strmap *map, const char *key, size_t key_len, uint32_t *value)
{
	if (map == NULL)
		return false;
	const struct slot *s = find(map, key, key_len);
	if (s->key == NULL)
		return false;
	*value = s->value;
	return true;
}
