/* Bump allocator: chunks of at least 64 KiB, larger requests get their own
 * chunk. See arena.h. */
#include "lib/base/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

enum { ARENA_CHUNK = 64 * 1024, HUGE_PAGE = 2 * 1024 * 1024 };

struct chunk {
	struct chunk *next;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

struct pc_arena {
	struct chunk *head;
	size_t total;
};

void *pc_table_alloc(size_t size)
{
	if (size < HUGE_PAGE)
		return calloc(1, size ? size : 1);
	if (size > SIZE_MAX - HUGE_PAGE)
		return NULL;
	/* Whole huge pages, so the table shares none with other data. */
	size = (size + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	void *p = aligned_alloc(HUGE_PAGE, size);
	if (p == NULL)
		return NULL;
#ifdef MADV_HUGEPAGE
	/* Before the first touch: THP in "madvise" mode faults huge pages
	 * in only where asked. A refusal changes nothing but speed. */
	(void)madvise(p, size, MADV_HUGEPAGE);
#endif
	memset(p, 0, size);
	return p;
}

pc_arena *pc_arena_new(void)
{
	return calloc(1, sizeof(pc_arena));
}

void pc_arena_free(pc_arena *arena)
{
	if (arena == NULL)
		return;
	struct chunk *c = arena->head;
	while (c != NULL) {
		struct chunk *next = c->next;
		free(c);
		c = next;
	}
	free(arena);
}

void *pc_arena_alloc(pc_arena *arena, size_t size)
{
	const size_t align = alignof(max_align_t);
	size = (size + align - 1) & ~(align - 1);
	if (size == 0)
		size = align;
	struct chunk *c = arena->head;
	if (c == NULL || c->size - c->used < size) {
		size_t want = size > ARENA_CHUNK ? size : ARENA_CHUNK;
		if (want > SIZE_MAX - sizeof(struct chunk))
			return NULL;
		struct chunk *fresh = malloc(sizeof(struct chunk) + want);
		if (fresh == NULL)
			return NULL;
		fresh->size = want;
		fresh->used = 0;
		arena->total += sizeof(struct chunk) + want;
		if (c != NULL && want == size && c->size - c->used >= ARENA_CHUNK / 4) {
			/* a big one-off: keep filling the current chunk */
			fresh->next = c->next;
			c->next = fresh;
		} else {
			fresh->next = c;
			arena->head = fresh;
		}
		c = fresh;
	}
	void *p = c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

void *pc_arena_alloc_table(pc_arena *arena, size_t size)
{
	if (size < HUGE_PAGE)
		return pc_arena_alloc(arena, size);
	if (size > SIZE_MAX - HUGE_PAGE - sizeof(struct chunk))
		return NULL;
	struct chunk *fresh = pc_table_alloc(sizeof(struct chunk) + size);
	if (fresh == NULL)
		return NULL;
	fresh->size = fresh->used = size;
	arena->total += sizeof(struct chunk) + size;
	/* Full from the start: behind the head, which keeps being filled. */
	struct chunk *c = arena->head;
	fresh->next = c != NULL ? c->next : NULL;
	if (c != NULL)
		c->next = fresh;
	else
		arena->head = fresh;
	return fresh->data;
}

char *pc_arena_strndup(pc_arena *arena, const char *text, size_t len)
{
	char *copy = pc_arena_alloc(arena, len + 1);
	if (copy == NULL)
		return NULL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	return copy;
}

char *pc_arena_strdup(pc_arena *arena, const char *text)
{
	return pc_arena_strndup(arena, text, strlen(text));
}

size_t pc_arena_used(const pc_arena *arena)
{
	return arena->total;
}
