/* strmap: an immutable-after-build open-addressing hash from case-folded
 * ASCII strings to 32-bit values (CDN, provider, service, server names).
 * Lookup is allocation-free and lock-free; all memory comes from an arena. */
#ifndef PC_LIB_STRMAP_H
#define PC_LIB_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/arena.h"

typedef struct pc_strmap pc_strmap;

/* capacity: the most keys that will be put. NULL when out of memory. */
pc_strmap *pc_strmap_new(pc_arena *arena, size_t capacity);
/* The key is not copied: it must live as long as the map (arena strings).
 * Returns PC_EEXIST when an equal key (ignoring ASCII case) is present,
 * PC_ERANGE when the map is full. */
int pc_strmap_put(pc_strmap *map, const char *key, size_t key_len, uint32_t value);
bool pc_strmap_get(const pc_strmap *map, const char *key, size_t key_len, uint32_t *value);

/* FNV-1a over the ASCII-lowercased bytes; also used for affinity hashing. */
uint64_t pc_hash_ci(const char *key, size_t len);

#endif
