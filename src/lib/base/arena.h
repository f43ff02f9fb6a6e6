/* arena: a bump allocator that owns everything of one lifetime, such as all
 * the objects parsed from one config file (BIRD's pools, Knot's mm
 * contexts). Objects are never freed one by one; pc_arena_free releases all. */
#ifndef PC_LIB_ARENA_H
#define PC_LIB_ARENA_H

#include <stddef.h>

typedef struct pc_arena pc_arena;

/* NULL when out of memory (a constructor: err.h's exception). */
pc_arena *pc_arena_new(void);
void pc_arena_free(pc_arena *arena); /* NULL is fine */

/* Zeroed, aligned to max_align_t; NULL when out of memory. */
void *pc_arena_alloc(pc_arena *arena, size_t size);
/* Copies len bytes and adds a NUL; NULL when out of memory. */
char *pc_arena_strndup(pc_arena *arena, const char *text, size_t len);
char *pc_arena_strdup(pc_arena *arena, const char *text);
/* Zeroed memory for one large table read at random (the netmap, the reach
 * rows), released with free(): from 2 MiB on it is aligned to
 * 2 MiB and advised for transparent huge pages, so a look-up costs no TLB
 * miss per 4 KiB page (a memory hint, no I/O; a kernel without THP ignores
 * it). NULL when out of memory. */
void *pc_table_alloc(size_t size);
/* As pc_arena_alloc, for such a table: a chunk of its own from
 * pc_table_alloc. */
void *pc_arena_alloc_table(pc_arena *arena, size_t size);
/* Bytes obtained from the system so far. */
size_t pc_arena_used(const pc_arena *arena);

#endif
