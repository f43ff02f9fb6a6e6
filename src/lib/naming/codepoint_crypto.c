/* Signature and encryption formats of codepoints (docs/naming.md, "Signed
 * codepoints" and "Encrypted codepoints"). libsodium does the cryptography;
 * this file only fixes the byte layout around it. */
#include "lib/naming/codepoint_crypto.h"

#include <string.h>

#include <sodium.h>

#include "lib/base/err.h"

/* The longest blob a 255-byte name can carry, decoded: bounds the stack
 * buffers below so no input can make us write past them. */
#define BLOB_MAX (PC_NAME_MAX * 5 / 8 + 1)

void pc__sig_compute(const uint8_t key[PC_KEY_BYTES], const char *msg, size_t msg_len,
                     char out[PC__SIG_CHARS])
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256(mac, (const unsigned char *)msg, msg_len, key);
	pc_base32_encode(mac, PC_SIG_BYTES, out, PC__SIG_CHARS);
	sodium_memzero(mac, sizeof(mac));
}

bool pc__sig_verify(const uint8_t key[PC_KEY_BYTES], const char *msg, size_t msg_len,
                    const char *text, size_t text_len)
{
	uint8_t got[PC_SIG_BYTES], mac[crypto_auth_hmacsha256_BYTES];
	if (text_len != PC__SIG_CHARS ||
	    pc_base32_decode(text, text_len, got, sizeof(got)) != PC_SIG_BYTES)
		return false;
	crypto_auth_hmacsha256(mac, (const unsigned char *)msg, msg_len, key);
	bool ok = sodium_memcmp(mac, got, PC_SIG_BYTES) == 0;
	sodium_memzero(mac, sizeof(mac));
	return ok;
}

int pc__enc_seal(const uint8_t key[PC_KEY_BYTES], const uint8_t nonce[PC__NONCE_BYTES],
                 const char *ad, size_t ad_len, const char *plain, size_t plain_len, char *out,
                 size_t out_size)
{
	uint8_t blob[BLOB_MAX];
	if (plain_len > sizeof(blob) - PC__NONCE_BYTES - PC__TAG_BYTES)
		return PC_ESPACE;
	memcpy(blob, nonce, PC__NONCE_BYTES);
	unsigned long long clen = 0;
	crypto_aead_chacha20poly1305_encrypt(blob + PC__NONCE_BYTES, &clen,
	                                     (const unsigned char *)plain, plain_len,
	                                     (const unsigned char *)ad, ad_len, NULL, nonce, key);
	return pc_base32_encode(blob, PC__NONCE_BYTES + (size_t)clen, out, out_size);
}

int pc__enc_open(const uint8_t key[PC_KEY_BYTES], const char *text, size_t text_len, const char *ad,
                 size_t ad_len, char *plain, size_t plain_size)
{
	uint8_t blob[BLOB_MAX];
	int n = pc_base32_decode(text, text_len, blob, sizeof(blob));
	if (n < PC__NONCE_BYTES + PC__TAG_BYTES)
		return PC_EDECRYPT;
	size_t clen = (size_t)n - PC__NONCE_BYTES;
	if (clen - PC__TAG_BYTES > plain_size)
		return PC_EDECRYPT;
	unsigned long long plen = 0;
	if (crypto_aead_chacha20poly1305_decrypt((unsigned char *)plain, &plen, NULL,
	                                         blob + PC__NONCE_BYTES, clen,
	                                         (const unsigned char *)ad, ad_len, blob, key) != 0)
		return PC_EDECRYPT;
	return (int)plen;
}
