/* RFC 4648 §6 base32, lower case, unpadded. */
#include "lib/base/base32.h"

#include "lib/base/err.h"

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

int pc_base32_encode(const uint8_t *data, size_t len, char *out, size_t out_size)
{
	size_t need = PC_BASE32_LEN(len);
	if (need > out_size || need > 0x7fffffff)
		return PC_ESPACE;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (5 - bits)) & 31];
	return (int)o;
}

static int value_of(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int pc_base32_decode(const char *text, size_t len, uint8_t *out, size_t out_size)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	if (len > 0x7fffffff)
		return PC_ERANGE;
	for (size_t i = 0; i < len; i++) {
		int v = value_of(text[i]);
		if (v < 0)
			return PC_ESYNTAX;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (o >= out_size)
				return PC_ESPACE;
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	/* a canonical encoding leaves fewer than 5 zero bits over */
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		return PC_ESYNTAX;
	return (int)o;
}
