/* netmap: a multibit trie per family, DIR-16-8-8 style: a 65 536-entry root
 * indexed by the first 16 bits, then 256-entry chunks per further byte.
 * An IPv4 lookup is at most three dependent loads; IPv6 at most fifteen.
 *
 * Prefixes are inserted shortest first, so each insertion simply overwrites
 * every entry its range covers (descending into chunks below them): what
 * was there is a shorter, hence less specific, prefix. Chunks live in one
 * growable pool per family and are addressed by index, so growing the pool
 * never leaves a dangling pointer. Memory is about 2 KiB per distinct /16
 * (or /24) that holds longer prefixes; clustered tables (real ones) are
 * cheap, a table of scattered long IPv6 prefixes is the costly case.
 *
 * When IPv4 prefixes longer than /16 fall in most /16s (a full table, or
 * bench/decide's 900 000 scattered /24s), the IPv4 root is indexed by the
 * first 24 bits instead (DIR-24-8): 64 MiB, about what the chunks of the
 * first level would take, and a /24 look-up is one load instead of two
 * dependent ones. Big tables sit on huge pages (pc_table_alloc): a
 * look-up then costs no page walk. */
#include "lib/model/netmap.h"

#include <stdlib.h>
#include <string.h>

#include "lib/base/arena.h"
#include "lib/base/err.h"
#include "lib/base/hex.h"

enum { ROOT_BITS = 16, CHUNK_BITS = 8, CHUNK_SIZE = 1 << CHUNK_BITS, FLAT_BITS = 24 };

/* One 32-bit word per entry, so a full IPv4 table of /24s stays near 64 MiB:
 * 0 is empty; bit 31 set is a chunk (its pool index below); otherwise a
 * leaf: bits 23-30 hold the prefix length + 1, bits 0-22 the value. */
typedef uint32_t entry;
#define CHUNK_FLAG       0x80000000u
#define VALUE_BITS       23
#define VALUE_MAX        ((1u << VALUE_BITS) - 1)
#define IS_CHUNK(e)      (((e)&CHUNK_FLAG) != 0)
#define IS_LEAF(e)       ((e) != 0 && !IS_CHUNK(e))
#define CHUNK_OF(e)      ((e) & ~CHUNK_FLAG)
#define LEAF(value, len) ((uint32_t)((len) + 1) << VALUE_BITS | (value))

struct trie {
	unsigned bits;      /* 32 or 128 */
	unsigned root_bits; /* ROOT_BITS, or FLAT_BITS for a dense IPv4 table */
	entry *root;        /* 1 << root_bits */
	entry *pool;        /* chunks of CHUNK_SIZE */
	uint32_t n_chunks, cap_chunks;
	size_t count;
};

struct pc_netmap {
	struct trie v4, v6;
};

struct prefix {
	uint8_t addr[16];
	uint8_t len, family;
	uint32_t value;
};

struct pc_netmap_builder {
	struct prefix *items;
	size_t count, cap;
	/* Open-addressing set of item indexes + 1, for duplicate checks. */
	uint32_t *slots;
	size_t n_slots;
};

int pc_netmap_builder_new(pc_netmap_builder **out)
{
	pc_netmap_builder *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return PC_ENOMEM;
	*out = b;
	return PC_OK;
}

void pc_netmap_builder_free(pc_netmap_builder *builder)
{
	if (builder == NULL)
		return;
	free(builder->items);
	free(builder->slots);
	free(builder);
}

static uint64_t prefix_hash(const struct prefix *p)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)p->family << 8 ^ p->len;
	for (int i = 0; i < 16; i++)
		h = (h ^ p->addr[i]) * 1099511628211ULL;
	return h ^ h >> 29;
}

static bool same_prefix(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && a->len == b->len && memcmp(a->addr, b->addr, 16) == 0;
}

static int grow_slots(pc_netmap_builder *b)
{
	size_t n = b->n_slots ? b->n_slots * 2 : 1024;
	uint32_t *slots = calloc(n, sizeof(uint32_t));
	if (slots == NULL)
		return PC_ENOMEM;
	for (size_t i = 0; i < b->count; i++) {
		size_t s = prefix_hash(&b->items[i]) & (n - 1);
		while (slots[s] != 0)
			s = (s + 1) & (n - 1);
		slots[s] = (uint32_t)i + 1;
	}
	free(b->slots);
	b->slots = slots;
	b->n_slots = n;
	return PC_OK;
}

int pc_netmap_builder_add(pc_netmap_builder *builder, int family, const uint8_t *addr, unsigned len,
                          uint32_t value)
{
	unsigned bits = family == PC_AF_INET ? 32 : family == PC_AF_INET6 ? 128 : 0;
	if (bits == 0 || addr == NULL)
		return PC_EINVAL;
	if (len > bits)
		return PC_ERANGE;
	struct prefix p = {.len = (uint8_t)len, .family = (uint8_t)family, .value = value};
	memcpy(p.addr, addr, bits / 8);
	for (unsigned b = len; b < bits; b++)
		if (p.addr[b / 8] >> (7 - b % 8) & 1)
			return PC_EINVAL; /* host bits set: 10.1.2.3/16 is a typo */
	if (builder->count >= UINT32_MAX - 1 || value > VALUE_MAX)
		return PC_ERANGE;
	if ((builder->count + 1) * 2 > builder->n_slots && grow_slots(builder) != PC_OK)
		return PC_ENOMEM;
	size_t mask = builder->n_slots - 1, s = prefix_hash(&p) & mask;
	for (; builder->slots[s] != 0; s = (s + 1) & mask)
		if (same_prefix(&builder->items[builder->slots[s] - 1], &p))
			return PC_EEXIST;
	if (builder->count == builder->cap) {
		size_t cap = builder->cap ? builder->cap * 2 : 256;
		struct prefix *items = realloc(builder->items, cap * sizeof(*items));
		if (items == NULL)
			return PC_ENOMEM;
		builder->items = items;
		builder->cap = cap;
	}
	builder->items[builder->count] = p;
	builder->slots[s] = (uint32_t)++builder->count;
	return PC_OK;
}

static unsigned bits_at(const uint8_t *addr, unsigned offset, unsigned width)
{
	/* offset is a multiple of 8 here, width 8, 16 or 24 */
	unsigned v = 0;
	for (unsigned i = 0; i < width / 8; i++)
		v = v << 8 | addr[offset / 8 + i];
	return v;
}

static int new_chunk(struct trie *t, entry fill, uint32_t *index)
{
	if (t->n_chunks == t->cap_chunks) {
		uint32_t cap = t->cap_chunks ? t->cap_chunks * 2 : 64;
		if (cap > CHUNK_FLAG / CHUNK_SIZE)
			return PC_ENOMEM;
		entry *pool = realloc(t->pool, (size_t)cap * CHUNK_SIZE * sizeof(*pool));
		if (pool == NULL)
			return PC_ENOMEM;
		t->pool = pool;
		t->cap_chunks = cap;
	}
	entry *chunk = &t->pool[(size_t)t->n_chunks * CHUNK_SIZE];
	for (unsigned i = 0; i < CHUNK_SIZE; i++)
		chunk[i] = fill;
	*index = t->n_chunks++;
	return PC_OK;
}

/* Overwrites an entry and everything below it with a leaf. */
static void fill(struct trie *t, entry *e, entry leaf)
{
	if (!IS_CHUNK(*e)) {
		*e = leaf;
		return;
	}
	entry *chunk = &t->pool[(size_t)CHUNK_OF(*e) * CHUNK_SIZE];
	for (unsigned i = 0; i < CHUNK_SIZE; i++)
		fill(t, &chunk[i], leaf);
}

static int trie_insert(struct trie *t, const struct prefix *p)
{
	entry leaf = LEAF(p->value, p->len);
	/* table == NULL means the root; otherwise a chunk index. */
	uint32_t chunk = UINT32_MAX;
	unsigned offset = 0, width = t->root_bits;
	for (;;) {
		entry *table = chunk == UINT32_MAX ? t->root : &t->pool[(size_t)chunk * CHUNK_SIZE];
		unsigned index = bits_at(p->addr, offset, width);
		if (p->len <= offset + width) {
			unsigned span = 1u << (offset + width - p->len);
			unsigned start = index & ~(span - 1);
			for (unsigned i = start; i < start + span; i++)
				fill(t, &table[i], leaf);
			return PC_OK;
		}
		entry e = table[index];
		if (!IS_CHUNK(e)) {
			uint32_t fresh;
			int rc = new_chunk(t, e, &fresh);
			if (rc != PC_OK)
				return rc;
			/* The pool may have moved: find the table again. */
			table =
			    chunk == UINT32_MAX ? t->root : &t->pool[(size_t)chunk * CHUNK_SIZE];
			table[index] = CHUNK_FLAG | fresh;
			e = table[index];
		}
		chunk = CHUNK_OF(e);
		offset += width;
		width = CHUNK_BITS;
	}
}

static void trie_free(struct trie *t)
{
	free(t->root);
	free(t->pool);
}

/* The width of the IPv4 root: FLAT_BITS once it costs at most twice
 * what the first level's chunks would (a chunk per /16 holding a longer
 * prefix: 1 KiB each, against 64 MiB for the flat root). */
static unsigned v4_root_bits(const pc_netmap_builder *builder)
{
	uint64_t *seen = calloc((1u << ROOT_BITS) / 64, sizeof(uint64_t));
	if (seen == NULL)
		return ROOT_BITS; /* only a hint: the narrow root works too */
	uint32_t dense = 0;
	for (size_t i = 0; i < builder->count; i++) {
		const struct prefix *p = &builder->items[i];
		if (p->family != PC_AF_INET || p->len <= ROOT_BITS)
			continue;
		uint32_t slash16 = (uint32_t)p->addr[0] << 8 | p->addr[1];
		dense += !(seen[slash16 / 64] >> slash16 % 64 & 1);
		seen[slash16 / 64] |= 1ULL << slash16 % 64;
	}
	free(seen);
	return dense >= 1u << (ROOT_BITS - 1) ? FLAT_BITS : ROOT_BITS;
}

void pc_netmap_free(pc_netmap *map)
{
	if (map == NULL)
		return;
	trie_free(&map->v4);
	trie_free(&map->v6);
	free(map);
}

int pc_netmap_build(const pc_netmap_builder *builder, pc_netmap **out)
{
	pc_netmap *map = calloc(1, sizeof(*map));
	if (map == NULL)
		return PC_ENOMEM;
	map->v4.bits = 32;
	map->v6.bits = 128;
	map->v4.root_bits = v4_root_bits(builder);
	map->v6.root_bits = ROOT_BITS;
	map->v4.root = pc_table_alloc(((size_t)1 << map->v4.root_bits) * sizeof(entry));
	map->v6.root = pc_table_alloc(((size_t)1 << ROOT_BITS) * sizeof(entry));
	/* Shortest first: a counting sort by length keeps it linear. */
	size_t starts[130] = {0};
	uint32_t *order = malloc((builder->count ? builder->count : 1) * sizeof(uint32_t));
	if (map->v4.root == NULL || map->v6.root == NULL || order == NULL) {
		free(order);
		pc_netmap_free(map);
		return PC_ENOMEM;
	}
	for (size_t i = 0; i < builder->count; i++)
		starts[builder->items[i].len + 1]++;
	for (int l = 1; l < 130; l++)
		starts[l] += starts[l - 1];
	for (size_t i = 0; i < builder->count; i++)
		order[starts[builder->items[i].len]++] = (uint32_t)i;
	int rc = PC_OK;
	for (size_t i = 0; i < builder->count && rc == PC_OK; i++) {
		const struct prefix *p = &builder->items[order[i]];
		struct trie *t = p->family == PC_AF_INET ? &map->v4 : &map->v6;
		rc = trie_insert(t, p);
		t->count++;
	}
	free(order);
	if (rc != PC_OK) {
		pc_netmap_free(map);
		return rc;
	}
	*out = map;
	return PC_OK;
}

static bool found(entry e, uint32_t *value, unsigned *matched_len)
{
	if (!IS_LEAF(e))
		return false;
	if (value != NULL)
		*value = e & VALUE_MAX;
	if (matched_len != NULL)
		*matched_len = (e >> VALUE_BITS) - 1;
	return true;
}

bool pc_netmap_lookup4(const pc_netmap *map, const uint8_t addr[4], uint32_t *value,
                       unsigned *matched_len)
{
	const struct trie *t = &map->v4;
	if (t->root_bits == FLAT_BITS) {
		entry e = t->root[(uint32_t)addr[0] << 16 | addr[1] << 8 | addr[2]];
		if (IS_CHUNK(e))
			e = t->pool[(size_t)CHUNK_OF(e) * CHUNK_SIZE + addr[3]];
		return found(e, value, matched_len);
	}
	entry e = t->root[addr[0] << 8 | addr[1]];
	if (IS_CHUNK(e)) {
		e = t->pool[(size_t)CHUNK_OF(e) * CHUNK_SIZE + addr[2]];
		if (IS_CHUNK(e))
			e = t->pool[(size_t)CHUNK_OF(e) * CHUNK_SIZE + addr[3]];
	}
	return found(e, value, matched_len);
}

bool pc_netmap_lookup6(const pc_netmap *map, const uint8_t addr[16], uint32_t *value,
                       unsigned *matched_len)
{
	const struct trie *t = &map->v6;
	entry e = t->root[addr[0] << 8 | addr[1]];
	for (unsigned i = 2; IS_CHUNK(e) && i < 16; i++)
		e = t->pool[(size_t)CHUNK_OF(e) * CHUNK_SIZE + addr[i]];
	return found(e, value, matched_len);
}

size_t pc_netmap_count(const pc_netmap *map, int family)
{
	return family == PC_AF_INET ? map->v4.count : family == PC_AF_INET6 ? map->v6.count : 0;
}

size_t pc_netmap_memory(const pc_netmap *map)
{
	size_t roots =
	    (((size_t)1 << map->v4.root_bits) + ((size_t)1 << ROOT_BITS)) * sizeof(entry);
	return sizeof(*map) + roots +
	       ((size_t)map->v4.cap_chunks + map->v6.cap_chunks) * CHUNK_SIZE * sizeof(entry);
}

/* Text parsing. By hand, because the input is not NUL-terminated and the
 * library stays free of socket headers. */

static int parse_v4(const char *s, size_t n, uint8_t out[4])
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= n || s[i] != '.')
				return PC_ESYNTAX;
			i++;
		}
		size_t start = i;
		unsigned v = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		/* No empty parts, no leading zeros (octal in some parsers). */
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return PC_ESYNTAX;
		out[part] = (uint8_t)v;
	}
	return i == n ? PC_OK : PC_ESYNTAX;
}

/* RFC 4291 §2.2: groups of one to four hex digits, at most one "::", and
 * optionally a dotted IPv4 address in the last 32 bits. */
static int parse_v6(const char *s, size_t n, uint8_t out[16])
{
	uint16_t groups[8] = {0};
	int count = 0, gap = -1;
	size_t i = 0;
	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
		if (i == n)
			goto done;
	} else if (n >= 1 && s[0] == ':') {
		return PC_ESYNTAX;
	}
	for (;;) {
		size_t start = i;
		unsigned v = 0;
		int d;
		while (i < n && i - start < 4 && (d = pc_hex_digit(s[i])) >= 0) {
			v = v << 4 | (unsigned)d;
			i++;
		}
		if (i < n && s[i] == '.') {
			/* Embedded IPv4: takes two groups and ends the address. */
			uint8_t v4[4];
			if (count > 6 || parse_v4(s + start, n - start, v4) != PC_OK)
				return PC_ESYNTAX;
			groups[count++] = (uint16_t)(v4[0] << 8 | v4[1]);
			groups[count++] = (uint16_t)(v4[2] << 8 | v4[3]);
			i = n;
			break;
		}
		if (i == start || count == 8)
			return PC_ESYNTAX;
		groups[count++] = (uint16_t)v;
		if (i == n)
			break;
		if (s[i] != ':')
			return PC_ESYNTAX;
		i++;
		if (i < n && s[i] == ':') {
			if (gap >= 0)
				return PC_ESYNTAX;
			gap = count;
			i++;
			if (i == n)
				break;
		} else if (i == n) {
			return PC_ESYNTAX; /* trailing single colon */
		}
	}
	if ((gap < 0 && count != 8) || (gap >= 0 && count > 7))
		return PC_ESYNTAX;
done:
	memset(out, 0, 16);
	if (gap < 0)
		gap = count;
	int tail = count - gap;
	for (int g = 0; g < gap; g++) {
		out[2 * g] = (uint8_t)(groups[g] >> 8);
		out[2 * g + 1] = (uint8_t)groups[g];
	}
	for (int g = 0; g < tail; g++) {
		int at = 8 - tail + g;
		out[2 * at] = (uint8_t)(groups[gap + g] >> 8);
		out[2 * at + 1] = (uint8_t)groups[gap + g];
	}
	return PC_OK;
}

int pc_prefix_parse(const char *text, size_t text_len, int *family, uint8_t addr[16], unsigned *len)
{
	if (text == NULL || text_len == 0 || text_len > 64)
		return PC_ESYNTAX;
	const char *slash = memchr(text, '/', text_len);
	size_t addr_len = slash != NULL ? (size_t)(slash - text) : text_len;
	bool v6 = memchr(text, ':', addr_len) != NULL;
	int rc = v6 ? parse_v6(text, addr_len, addr) : parse_v4(text, addr_len, addr);
	if (rc != PC_OK)
		return rc;
	unsigned max = v6 ? 128 : 32, length = max;
	if (slash != NULL) {
		size_t i = addr_len + 1;
		if (i == text_len || text_len - i > 3 || (text[i] == '0' && text_len - i > 1))
			return PC_ESYNTAX;
		length = 0;
		for (; i < text_len; i++) {
			if (text[i] < '0' || text[i] > '9')
				return PC_ESYNTAX;
			length = length * 10 + (unsigned)(text[i] - '0');
		}
		if (length > max)
			return PC_ERANGE;
	}
	if (!v6)
		memset(addr + 4, 0, 12);
	*family = v6 ? PC_AF_INET6 : PC_AF_INET;
	*len = length;
	return PC_OK;
}
