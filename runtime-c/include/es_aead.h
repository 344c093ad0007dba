/* edgesplit runtime: ChaCha20-Poly1305 (RFC 8439), the AEAD of fleet links (docs/security.md).
 * Written for microcontrollers: C99, 32-bit arithmetic only (Poly1305 in five 26-bit limbs), no
 * table lookups indexed by secret data, no branch on secret data, no allocation. Checked against
 * RFC 8439's test vectors and, on random inputs, against OpenSSL (tests/runtime/AeadTests.cpp).
 * Keys are 32 bytes, nonces 12, tags 16. */
#ifndef ES_AEAD_H
#define ES_AEAD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ES_AEAD_KEY_BYTES 32u
#define ES_AEAD_NONCE_BYTES 12u
#define ES_AEAD_TAG_BYTES 16u

/* XORs `len` bytes of ChaCha20 keystream (RFC 8439 2.4), starting at block `counter`, into
 * in -> out (in == out is allowed). */
void es_chacha20_xor(const uint8_t key[32], uint32_t counter, const uint8_t nonce[12],
                     const uint8_t *in, uint8_t *out, size_t len);

/* Poly1305 (RFC 8439 2.5) of `len` bytes under a one-time key. */
void es_poly1305(const uint8_t key[32], const uint8_t *message, size_t len, uint8_t tag[16]);

/* The AEAD tag (RFC 8439 2.8) of associated data aad = aad1 || aad2 (two parts, so a caller need
 * not copy them together) and `ciphertext`. Any pointer may be NULL when its length is 0. */
void es_aead_tag(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad1,
                 size_t aad1_len, const uint8_t *aad2, size_t aad2_len,
                 const uint8_t *ciphertext, size_t len, uint8_t tag[16]);

/* Encrypts `len` bytes of data in place and writes their tag over aad (RFC 8439 2.8). */
void es_aead_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
                  size_t aad_len, uint8_t *data, size_t len, uint8_t tag[16]);

/* 1 when `tag` is right for aad and the ciphertext in data, which is then decrypted in place; 0
 * (data untouched) otherwise. The tags are compared in constant time. */
int es_aead_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
                 size_t aad_len, uint8_t *data, size_t len, const uint8_t tag[16]);

/* 1 when the n bytes of a and b are equal; the time taken does not depend on where they differ. */
int es_equal_constant_time(const uint8_t *a, const uint8_t *b, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* ES_AEAD_H */
