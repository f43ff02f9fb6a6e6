/* codepoint_crypto: the two keyed transforms of a codepoint (the patent's
 * §3.1.4: "the names can include a digital signature ... the <codepoint>
 * field may be encrypted, also with a secret key"), kept apart from the
 * label grammar so the formats are in one place (docs/naming.md).
 *
 * Internal to libpeercdn (naming.c): the pc__ prefix says so. Everything
 * works on caller buffers; nothing allocates. The program must have called
 * sodium_init() once before any of these runs. */
#ifndef PC_LIB_CODEPOINT_CRYPTO_H
#define PC_LIB_CODEPOINT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/base32.h"
#include "lib/model/model.h"
#include "lib/naming/naming.h"

#define PC__SIG_CHARS   PC_BASE32_LEN(PC_SIG_BYTES) /* 16 */
#define PC__NONCE_BYTES 8  /* original ChaCha20-Poly1305 (crypto_aead_chacha20poly1305) */
#define PC__TAG_BYTES   16 /* Poly1305 */
/* Base32 characters per "e-" label: 63 minus the prefix. */
#define PC__ENC_CHUNK 61

/* HMAC-SHA256(key, msg) truncated to PC_SIG_BYTES, as PC__SIG_CHARS base32
 * characters (no NUL). */
void pc__sig_compute(const uint8_t key[PC_KEY_BYTES], const char *msg, size_t msg_len,
                     char out[PC__SIG_CHARS]);

/* True when text (the label without "s-", any case) is the signature of
 * msg. Constant time in the compared bytes. */
bool pc__sig_verify(const uint8_t key[PC_KEY_BYTES], const char *msg, size_t msg_len,
                    const char *text, size_t text_len);

/* Seals plaintext into base32(nonce || ciphertext || tag), binding ad.
 * Returns the number of characters written (no NUL) or PC_ESPACE. */
int pc__enc_seal(const uint8_t key[PC_KEY_BYTES], const uint8_t nonce[PC__NONCE_BYTES],
                 const char *ad, size_t ad_len, const char *plain, size_t plain_len, char *out,
                 size_t out_size);

/* Opens what pc__enc_seal made. Returns the plaintext length, or
 * PC_EDECRYPT for anything that does not decode and authenticate (bad
 * base32, too short, too long for plain_size, wrong key or ad, tampering). */
int pc__enc_open(const uint8_t key[PC_KEY_BYTES], const char *text, size_t text_len, const char *ad,
                 size_t ad_len, char *plain, size_t plain_size);

#endif
