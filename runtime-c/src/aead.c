/* ChaCha20-Poly1305 of RFC 8439, for the microcontrollers of a fleet (es_aead.h).
 * ChaCha20 is additions, rotations and xors of 32-bit words; Poly1305 keeps its accumulator in
 * five 26-bit limbs so that every product fits 64 bits (the "donna" layout), and its final
 * reduction picks between two values with a mask instead of a branch. Nothing here branches on or
 * indexes memory with key, keystream or tag bytes. */
#include "es_aead.h"

#include <string.h>

static uint32_t load32(const uint8_t *at) {
  return (uint32_t)at[0] | ((uint32_t)at[1] << 8) | ((uint32_t)at[2] << 16) |
         ((uint32_t)at[3] << 24);
}

static void store32(uint8_t *at, uint32_t value) {
  at[0] = (uint8_t)value;
  at[1] = (uint8_t)(value >> 8);
  at[2] = (uint8_t)(value >> 16);
  at[3] = (uint8_t)(value >> 24);
}

static void store64(uint8_t *at, uint64_t value) {
  store32(at, (uint32_t)value);
  store32(at + 4, (uint32_t)(value >> 32));
}

/* ---- ChaCha20 (RFC 8439 2.3-2.4) ------------------------------------------------------------ */

#define ROTL32(x, bits) (((x) << (bits)) | ((x) >> (32 - (bits))))
#define QUARTER_ROUND(a, b, c, d)                                                                  \
  do {                                                                                             \
    a += b;                                                                                        \
    d ^= a;                                                                                        \
    d = ROTL32(d, 16);                                                                             \
    c += d;                                                                                        \
    b ^= c;                                                                                        \
    b = ROTL32(b, 12);                                                                             \
    a += b;                                                                                        \
    d ^= a;                                                                                        \
    d = ROTL32(d, 8);                                                                              \
    c += d;                                                                                        \
    b ^= c;                                                                                        \
    b = ROTL32(b, 7);                                                                              \
  } while (0)

static void chacha20_block(const uint8_t key[32], uint32_t counter, const uint8_t nonce[12],
                           uint8_t out[64]) {
  uint32_t initial[16], x[16];
  int i;
  initial[0] = 0x61707865u; /* "expand 32-byte k" */
  initial[1] = 0x3320646eu;
  initial[2] = 0x79622d32u;
  initial[3] = 0x6b206574u;
  for (i = 0; i < 8; ++i) initial[4 + i] = load32(key + 4 * i);
  initial[12] = counter;
  for (i = 0; i < 3; ++i) initial[13 + i] = load32(nonce + 4 * i);
  for (i = 0; i < 16; ++i) x[i] = initial[i];
  for (i = 0; i < 10; ++i) { /* 20 rounds: a column round and a diagonal round each time */
    QUARTER_ROUND(x[0], x[4], x[8], x[12]);
    QUARTER_ROUND(x[1], x[5], x[9], x[13]);
    QUARTER_ROUND(x[2], x[6], x[10], x[14]);
    QUARTER_ROUND(x[3], x[7], x[11], x[15]);
    QUARTER_ROUND(x[0], x[5], x[10], x[15]);
    QUARTER_ROUND(x[1], x[6], x[11], x[12]);
    QUARTER_ROUND(x[2], x[7], x[8], x[13]);
    QUARTER_ROUND(x[3], x[4], x[9], x[14]);
  }
  for (i = 0; i < 16; ++i) store32(out + 4 * i, x[i] + initial[i]);
}

void es_chacha20_xor(const uint8_t key[32], uint32_t counter, const uint8_t nonce[12],
                     const uint8_t *in, uint8_t *out, size_t len) {
  uint8_t block[64];
  size_t done = 0, i;
  while (done < len) {
    const size_t chunk = len - done < 64u ? len - done : 64u;
    chacha20_block(key, counter++, nonce, block);
    for (i = 0; i < chunk; ++i) out[done + i] = (uint8_t)(in[done + i] ^ block[i]);
    done += chunk;
  }
  memset(block, 0, sizeof block); /* no keystream left on the stack */
}

/* ---- Poly1305 (RFC 8439 2.5), 26-bit limbs ------------------------------------------------- */

typedef struct {
  uint32_t r[5], h[5], pad[4];
  uint8_t buffer[16];
  size_t buffered;
} poly1305_t;

static void poly1305_init(poly1305_t *p, const uint8_t key[32]) {
  int i;
  /* r clamped as the RFC requires, split into 26-bit limbs. */
  p->r[0] = load32(key + 0) & 0x3ffffffu;
  p->r[1] = (load32(key + 3) >> 2) & 0x3ffff03u;
  p->r[2] = (load32(key + 6) >> 4) & 0x3ffc0ffu;
  p->r[3] = (load32(key + 9) >> 6) & 0x3f03fffu;
  p->r[4] = (load32(key + 12) >> 8) & 0x00fffffu;
  for (i = 0; i < 5; ++i) p->h[i] = 0;
  for (i = 0; i < 4; ++i) p->pad[i] = load32(key + 16 + 4 * i);
  p->buffered = 0;
}

/* h = (h + block) * r mod 2^130 - 5, for one 16-byte block; `high` is 2^128's bit (1 << 24 in
 * the top limb) for a full block, 0 for the padded last one, whose 1 byte is already in it. */
static void poly1305_block(poly1305_t *p, const uint8_t block[16], uint32_t high) {
  const uint32_t r0 = p->r[0], r1 = p->r[1], r2 = p->r[2], r3 = p->r[3], r4 = p->r[4];
  const uint32_t s1 = r1 * 5u, s2 = r2 * 5u, s3 = r3 * 5u, s4 = r4 * 5u;
  uint32_t h0 = p->h[0], h1 = p->h[1], h2 = p->h[2], h3 = p->h[3], h4 = p->h[4], c;
  uint64_t d0, d1, d2, d3, d4;
  h0 += load32(block + 0) & 0x3ffffffu;
  h1 += (load32(block + 3) >> 2) & 0x3ffffffu;
  h2 += (load32(block + 6) >> 4) & 0x3ffffffu;
  h3 += (load32(block + 9) >> 6) & 0x3ffffffu;
  h4 += (load32(block + 12) >> 8) | high;
  d0 = (uint64_t)h0 * r0 + (uint64_t)h1 * s4 + (uint64_t)h2 * s3 + (uint64_t)h3 * s2 +
       (uint64_t)h4 * s1;
  d1 = (uint64_t)h0 * r1 + (uint64_t)h1 * r0 + (uint64_t)h2 * s4 + (uint64_t)h3 * s3 +
       (uint64_t)h4 * s2;
  d2 = (uint64_t)h0 * r2 + (uint64_t)h1 * r1 + (uint64_t)h2 * r0 + (uint64_t)h3 * s4 +
       (uint64_t)h4 * s3;
  d3 = (uint64_t)h0 * r3 + (uint64_t)h1 * r2 + (uint64_t)h2 * r1 + (uint64_t)h3 * r0 +
       (uint64_t)h4 * s4;
  d4 = (uint64_t)h0 * r4 + (uint64_t)h1 * r3 + (uint64_t)h2 * r2 + (uint64_t)h3 * r1 +
       (uint64_t)h4 * r0;
  c = (uint32_t)(d0 >> 26);
  h0 = (uint32_t)d0 & 0x3ffffffu;
  d1 += c;
  c = (uint32_t)(d1 >> 26);
  h1 = (uint32_t)d1 & 0x3ffffffu;
  d2 += c;
  c = (uint32_t)(d2 >> 26);
  h2 = (uint32_t)d2 & 0x3ffffffu;
  d3 += c;
  c = (uint32_t)(d3 >> 26);
  h3 = (uint32_t)d3 & 0x3ffffffu;
  d4 += c;
  c = (uint32_t)(d4 >> 26);
  h4 = (uint32_t)d4 & 0x3ffffffu;
  h0 += c * 5u;
  c = h0 >> 26;
  h0 &= 0x3ffffffu;
  h1 += c;
  p->h[0] = h0;
  p->h[1] = h1;
  p->h[2] = h2;
  p->h[3] = h3;
  p->h[4] = h4;
}

static void poly1305_update(poly1305_t *p, const uint8_t *data, size_t len) {
  size_t i;
  for (i = 0; i < len; ++i) {
    p->buffer[p->buffered++] = data[i];
    if (p->buffered == 16u) {
      poly1305_block(p, p->buffer, 1u << 24);
      p->buffered = 0;
    }
  }
}

/* The AEAD's zero padding to a whole block (RFC 8439 2.8: pad16). */
static void poly1305_pad16(poly1305_t *p) {
  if (p->buffered == 0) return;
  memset(p->buffer + p->buffered, 0, 16u - p->buffered);
  poly1305_block(p, p->buffer, 1u << 24);
  p->buffered = 0;
}

static void poly1305_finish(poly1305_t *p, uint8_t tag[16]) {
  uint32_t h0, h1, h2, h3, h4, c, g0, g1, g2, g3, g4, mask;
  uint64_t f;
  if (p->buffered > 0) { /* the last partial block: its bytes, a 1, zeros */
    p->buffer[p->buffered] = 1;
    memset(p->buffer + p->buffered + 1, 0, 15u - p->buffered);
    poly1305_block(p, p->buffer, 0);
    p->buffered = 0;
  }
  h0 = p->h[0];
  h1 = p->h[1];
  h2 = p->h[2];
  h3 = p->h[3];
  h4 = p->h[4];
  /* Carry fully. */
  c = h1 >> 26;
  h1 &= 0x3ffffffu;
  h2 += c;
  c = h2 >> 26;
  h2 &= 0x3ffffffu;
  h3 += c;
  c = h3 >> 26;
  h3 &= 0x3ffffffu;
  h4 += c;
  c = h4 >> 26;
  h4 &= 0x3ffffffu;
  h0 += c * 5u;
  c = h0 >> 26;
  h0 &= 0x3ffffffu;
  h1 += c;
  /* g = h + 5 - 2^130: h itself when that is negative, else g (h was >= p). */
  g0 = h0 + 5u;
  c = g0 >> 26;
  g0 &= 0x3ffffffu;
  g1 = h1 + c;
  c = g1 >> 26;
  g1 &= 0x3ffffffu;
  g2 = h2 + c;
  c = g2 >> 26;
  g2 &= 0x3ffffffu;
  g3 = h3 + c;
  c = g3 >> 26;
  g3 &= 0x3ffffffu;
  g4 = h4 + c - (1u << 26);
  mask = (g4 >> 31) - 1u; /* all ones when g4 did not borrow: take g */
  h0 = (h0 & ~mask) | (g0 & mask);
  h1 = (h1 & ~mask) | (g1 & mask);
  h2 = (h2 & ~mask) | (g2 & mask);
  h3 = (h3 & ~mask) | (g3 & mask);
  h4 = (h4 & ~mask) | (g4 & mask);
  /* h mod 2^128 in four words, plus the pad. */
  h0 = h0 | (h1 << 26);
  h1 = (h1 >> 6) | (h2 << 20);
  h2 = (h2 >> 12) | (h3 << 14);
  h3 = (h3 >> 18) | (h4 << 8);
  f = (uint64_t)h0 + p->pad[0];
  store32(tag, (uint32_t)f);
  f = (uint64_t)h1 + p->pad[1] + (f >> 32);
  store32(tag + 4, (uint32_t)f);
  f = (uint64_t)h2 + p->pad[2] + (f >> 32);
  store32(tag + 8, (uint32_t)f);
  f = (uint64_t)h3 + p->pad[3] + (f >> 32);
  store32(tag + 12, (uint32_t)f);
  memset(p, 0, sizeof *p);
}

void es_poly1305(const uint8_t key[32], const uint8_t *message, size_t len, uint8_t tag[16]) {
  poly1305_t p;
  poly1305_init(&p, key);
  poly1305_update(&p, message, len);
  poly1305_finish(&p, tag);
}

/* ---- The AEAD construction (RFC 8439 2.6, 2.8) --------------------------------------------- */

void es_aead_tag(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad1,
                 size_t aad1_len, const uint8_t *aad2, size_t aad2_len,
                 const uint8_t *ciphertext, size_t len, uint8_t tag[16]) {
  uint8_t block[64], lengths[16];
  poly1305_t p;
  /* The one-time Poly1305 key: the first 32 bytes of block 0. */
  chacha20_block(key, 0, nonce, block);
  poly1305_init(&p, block);
  memset(block, 0, sizeof block);
  poly1305_update(&p, aad1, aad1_len);
  poly1305_update(&p, aad2, aad2_len);
  poly1305_pad16(&p);
  poly1305_update(&p, ciphertext, len);
  poly1305_pad16(&p);
  store64(lengths, (uint64_t)aad1_len + aad2_len);
  store64(lengths + 8, (uint64_t)len);
  poly1305_update(&p, lengths, sizeof lengths);
  poly1305_finish(&p, tag);
}

void es_aead_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
                  size_t aad_len, uint8_t *data, size_t len, uint8_t tag[16]) {
  if (len > 0) es_chacha20_xor(key, 1, nonce, data, data, len);
  es_aead_tag(key, nonce, aad, aad_len, NULL, 0, data, len, tag);
}

int es_aead_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
                 size_t aad_len, uint8_t *data, size_t len, const uint8_t tag[16]) {
  uint8_t expected[16];
  int ok;
  es_aead_tag(key, nonce, aad, aad_len, NULL, 0, data, len, expected);
  ok = es_equal_constant_time(expected, tag, sizeof expected);
  if (ok && len > 0) es_chacha20_xor(key, 1, nonce, data, data, len);
  return ok;
}

int es_equal_constant_time(const uint8_t *a, const uint8_t *b, size_t n) {
  uint8_t difference = 0;
  size_t i;
  for (i = 0; i < n; ++i) difference |= (uint8_t)(a[i] ^ b[i]);
  return difference == 0;
}
