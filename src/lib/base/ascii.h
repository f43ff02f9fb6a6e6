/* ascii: upper case to lower eight bytes at a time, for the names and URLs
 * the answer paths lower on every request (naming/hosts, naming/url, the
 * CDSR hints). Bytes outside 'A'..'Z', non-ASCII included, are kept. */
#ifndef PC_LIB_ASCII_H
#define PC_LIB_ASCII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* 0x80 marks each byte in 'A'..'Z' (no carry crosses a byte: the high
 * bits are masked first), shifted to 0x20 and or-ed in. */
static inline uint64_t pc_ascii_lower8(uint64_t x)
{
	const uint64_t high = 0x8080808080808080u;
	uint64_t t = x & ~high;
	uint64_t upper = (t + 0x3f3f3f3f3f3f3f3fu) & ~(t + 0x2525252525252525u) & ~x & high;
	return x | upper >> 2;
}

/* Copies len bytes of from into to (not overlapping), lowered. Lowering
 * is idempotent, so a tail of 8 or more bytes is done as the last eight,
 * overlapping what is already written; nothing past len is read or
 * written. */
static inline void pc_ascii_copy_lower(char *to, const char *from, size_t len)
{
	uint64_t x;
	if (len < 8) {
		for (size_t i = 0; i < len; i++) {
			char c = from[i];
			to[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		}
		return;
	}
	for (size_t i = 0; i + 8 <= len; i += 8) {
		memcpy(&x, from + i, 8);
		x = pc_ascii_lower8(x);
		memcpy(to + i, &x, 8);
	}
	if (len % 8 != 0) {
		memcpy(&x, from + len - 8, 8);
		x = pc_ascii_lower8(x);
		memcpy(to + len - 8, &x, 8);
	}
}

/* Whether text (len bytes, any case) lowered equals lower (already lower
 * case); nothing past len is read. A word is lowered only when it is not
 * equal as it is: hosts are nearly always spelt in lower case. */
static inline bool pc_ascii_equal_lower(const char *text, const char *lower, size_t len)
{
	uint64_t x, y;
	if (len < 8) {
		for (size_t i = 0; i < len; i++) {
			char c = text[i];
			if ((c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c) != lower[i])
				return false;
		}
		return true;
	}
	for (size_t i = 0; i + 8 <= len; i += 8) {
		memcpy(&x, text + i, 8);
		memcpy(&y, lower + i, 8);
		if (x != y && pc_ascii_lower8(x) != y)
			return false;
	}
	memcpy(&x, text + len - 8, 8);
	memcpy(&y, lower + len - 8, 8);
	return x == y || pc_ascii_lower8(x) == y;
}

#endif
