/* libFuzzer target: the prefix parser, and the netmap built from what it
 * parses, checked against a linear longest-prefix match. Input: prefixes
 * separated by newlines; the last line is also looked up as an address. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"
#include "lib/model/netmap.h"

enum { MAX_PREFIXES = 64 };

struct prefix {
	int family;
	uint8_t addr[16];
	unsigned len;
};

static bool covers(const struct prefix *p, int family, const uint8_t *addr)
{
	if (p->family != family)
		return false;
	for (unsigned b = 0; b < p->len; b++)
		if (((p->addr[b / 8] ^ addr[b / 8]) >> (7 - b % 8)) & 1)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prefix prefixes[MAX_PREFIXES];
	uint32_t n = 0;
	pc_netmap_builder *builder;
	if (pc_netmap_builder_new(&builder) != PC_OK)
		abort();
	const char *text = (const char *)data;
	size_t start = 0;
	struct prefix last = {0};
	bool have_last = false;
	while (start < size && n < MAX_PREFIXES) {
		const char *nl = memchr(text + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - (text + start)) : size - start;
		struct prefix p;
		if (pc_prefix_parse(text + start, len, &p.family, p.addr, &p.len) == PC_OK) {
			if (p.family != PC_AF_INET && p.family != PC_AF_INET6)
				abort();
			if (p.len > (p.family == PC_AF_INET ? 32u : 128u))
				abort();
			last = p;
			have_last = true;
			int rc = pc_netmap_builder_add(builder, p.family, p.addr, p.len, n);
			if (rc == PC_OK)
				prefixes[n++] = p;
			else if (rc != PC_EINVAL && rc != PC_EEXIST)
				abort();
		}
		start += len + 1;
	}
	pc_netmap *map;
	if (pc_netmap_build(builder, &map) != PC_OK)
		abort();
	pc_netmap_builder_free(builder);
	if (have_last) {
		uint32_t value;
		unsigned matched;
		bool hit = last.family == PC_AF_INET
		               ? pc_netmap_lookup4(map, last.addr, &value, &matched)
		               : pc_netmap_lookup6(map, last.addr, &value, &matched);
		int best = -1;
		for (uint32_t i = 0; i < n; i++)
			if (covers(&prefixes[i], last.family, last.addr) &&
			    (best < 0 || prefixes[i].len > prefixes[best].len))
				best = (int)i;
		if (hit != (best >= 0) ||
		    (hit && (value != (uint32_t)best || matched != prefixes[best].len)))
			abort();
	}
	pc_netmap_free(map);
	return 0;
}
