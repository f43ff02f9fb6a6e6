/* base32: RFC 4648 alphabet in lower case, no padding, so that the output is
 * a valid DNS label character run (letters and digits 2-7) and case-folding
 * resolvers cannot corrupt it (decoding ignores case). */
#ifndef PC_LIB_BASE32_H
#define PC_LIB_BASE32_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed for n bytes. */
#define PC_BASE32_LEN(n) (((n)*8 + 4) / 5)

/* Writes PC_BASE32_LEN(len) characters (no NUL); returns that count, or
 * PC_ESPACE. */
int pc_base32_encode(const uint8_t *data, size_t len, char *out, size_t out_size);
/* Returns the number of bytes decoded, or PC_ESYNTAX for a character outside
 * the alphabet or non-zero trailing bits, PC_ESPACE when out is short. */
int pc_base32_decode(const char *text, size_t len, uint8_t *out, size_t out_size);

#endif
