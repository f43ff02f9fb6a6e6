/* minheap: a binary min-heap of (key, value) pairs in a caller's array,
 * for the shortest-path searches of the model (AS paths) and the overlay
 * (router paths). Lazy deletion is the caller's: push again with a lower
 * key and skip stale pops. */
#ifndef PC_LIB_MINHEAP_H
#define PC_LIB_MINHEAP_H

#include <stdint.h>

struct pc_heap_item {
	uint64_t key;
	uint32_t value;
};

/* Adds item; heap has room for one more (the caller sizes it). */
static inline void pc_heap_push(struct pc_heap_item *heap, uint32_t *n, struct pc_heap_item item)
{
	uint32_t i = (*n)++;
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (heap[parent].key <= item.key)
			break;
		heap[i] = heap[parent];
		i = parent;
	}
	heap[i] = item;
}

/* Removes and returns the item with the smallest key; *n > 0. */
static inline struct pc_heap_item pc_heap_pop(struct pc_heap_item *heap, uint32_t *n)
{
	struct pc_heap_item top = heap[0], last = heap[--(*n)];
	uint32_t i = 0;
	for (;;) {
		uint32_t child = 2 * i + 1;
		if (child >= *n)
			break;
		if (child + 1 < *n && heap[child + 1].key < heap[child].key)
			child++;
		if (heap[child].key >= last.key)
			break;
		heap[i] = heap[child];
		i = child;
	}
	if (*n > 0)
		heap[i] = last;
	return top;
}

#endif
