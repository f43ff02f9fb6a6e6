/* netmap: longest-prefix match from client addresses (IPv4 and IPv6) to a
 * 32-bit value, e.g. the index of a client network in the model.
 *
 * Built once by a builder (which owns all memory until pc_netmap_build),
 * then immutable: any number of threads may look up concurrently without
 * locks. No I/O, no globals. */
#ifndef PC_LIB_NETMAP_H
#define PC_LIB_NETMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pc_netmap pc_netmap;
typedef struct pc_netmap_builder pc_netmap_builder;

/* Address family tags used across the library (not AF_*: the library has
 * no socket headers on purpose). */
enum { PC_AF_NONE = 0, PC_AF_INET = 4, PC_AF_INET6 = 6 };

int pc_netmap_builder_new(pc_netmap_builder **out);
/* Frees the builder and everything added to it; NULL is fine. */
void pc_netmap_builder_free(pc_netmap_builder *builder);

/* Adds prefix/len -> value. addr holds 4 (PC_AF_INET) or 16 (PC_AF_INET6)
 * bytes in network order; host bits beyond len must be zero (PC_EINVAL
 * otherwise, so a config typo such as 10.1.2.3/16 is caught).
 * Returns PC_EEXIST for a prefix already added, PC_ERANGE for a value
 * of 2^23 or more (the map holds up to 8 million client networks). */
int pc_netmap_builder_add(pc_netmap_builder *builder, int family, const uint8_t *addr, unsigned len,
                          uint32_t value);

/* Compiles the lookup structure. The builder stays valid (and must still
 * be freed by the caller); the returned map is owned by the caller. */
int pc_netmap_build(const pc_netmap_builder *builder, pc_netmap **out);
void pc_netmap_free(pc_netmap *map);

/* Longest-prefix match. On a hit stores the value and the matched prefix
 * length (the scope an EDNS Client Subnet answer may claim) and returns
 * true. addr is in network order. Lock-free, allocation-free. */
bool pc_netmap_lookup4(const pc_netmap *map, const uint8_t addr[4], uint32_t *value,
                       unsigned *matched_len);
bool pc_netmap_lookup6(const pc_netmap *map, const uint8_t addr[16], uint32_t *value,
                       unsigned *matched_len);

/* Number of prefixes of each family, and bytes held by the compiled map. */
size_t pc_netmap_count(const pc_netmap *map, int family);
size_t pc_netmap_memory(const pc_netmap *map);

/* Parses "192.0.2.0/24", "2001:db8::/32" or a bare address (full length).
 * Returns 0 or PC_ESYNTAX / PC_ERANGE. addr receives 16 bytes max. */
int pc_prefix_parse(const char *text, size_t text_len, int *family, uint8_t addr[16],
                    unsigned *len);

#endif
