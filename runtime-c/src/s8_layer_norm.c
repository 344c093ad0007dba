/* LayerNormalization (docs/int8.md "LayerNormalization"): the row's mean and variance in integers,
 * an integer square root and one division per row, then a signed rescaling per element. */
#include "s8_internal.h"

/* floor(sqrt(x)), bit by bit: exact, no division, no floating point. */
static uint64_t isqrt_u64(uint64_t x) {
  uint64_t root = 0;
  uint64_t bit = (uint64_t)1 << 62;
  while (bit > x) bit >>= 2;
  while (bit != 0) {
    if (x >= root + bit) {
      x -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
    bit >>= 2;
  }
  return root;
}

/* round(x / 2^n), halves away from zero; |x| < 2^62, 0 <= n <= 62. Negative values are negated
 * rather than shifted, as C leaves right shifts of negative values to the compiler. */
static int64_t round_shift_away(int64_t x, int32_t n) {
  if (n == 0) return x;
  const uint64_t half = (uint64_t)1 << (n - 1);
  return x >= 0 ? (int64_t)(((uint64_t)x + half) >> n) : -(int64_t)(((uint64_t)-x + half) >> n);
}

/* round(x / 2^16), ties to the even neighbour; |x| < 2^62. The 2^62 bias keeps the shifted value
 * non-negative. */
static int64_t round_q16_even(int64_t x) {
  const uint64_t bias = (uint64_t)1 << 62;
  const uint64_t biased = (uint64_t)x + bias;
  const uint64_t floor = biased >> 16;
  const uint64_t rem = biased & 0xFFFFu;
  const uint64_t up = rem > 0x8000u || (rem == 0x8000u && (floor & 1u));
  return (int64_t)(floor + up) - (int64_t)(bias >> 16);
}

void es_layer_norm_s8(const es_layer_norm_s8_params_t *p, const es_requant_t *scale,
                      const int32_t *bias, const int8_t *input, int8_t *output) {
  const int32_t n = p->length;
  for (int32_t row = 0; row < p->outer; ++row) {
    const int8_t *x = input + (size_t)row * (size_t)n;
    int8_t *y = output + (size_t)row * (size_t)n;
    int32_t sum = 0;
    for (int32_t k = 0; k < n; ++k) sum += x[k] - p->input_zp;
    /* c = n (qx - Zx) - sum, n times the distance from the mean: |c| < 2^21, sum c^2 < 2^53. */
    uint64_t squares = 0;
    for (int32_t k = 0; k < n; ++k) {
      const int64_t c = (int64_t)n * (x[k] - p->input_zp) - sum;
      squares += (uint64_t)(c * c);
    }
    /* u = 2^31 * 16 c / sqrt(W) = c * reciprocal / 2^right with W = 2^8 sum c^2 + epsilon
     * (< 2^62) brought into [2^60, 2^62) by 4^k, reciprocal = round(2^61 / floor(sqrt(W 4^k)))
     * and right = 26 - k (k <= 26 as W >= 2^8). A row of equal values has every c = 0. */
    int64_t reciprocal = 0;
    int32_t right = 0;
    if (squares != 0) {
      uint64_t w = (squares << 8) + (uint64_t)p->epsilon;
      int32_t k = 0;
      while (w < ((uint64_t)1 << 60)) {
        w <<= 2;
        ++k;
      }
      const uint64_t root = isqrt_u64(w); /* in [2^30, 2^31) */
      reciprocal = (int64_t)((((uint64_t)1 << 61) + root / 2) / root);
      right = 26 - k;
    }
    for (int32_t k = 0; k < n; ++k) {
      const int32_t e = p->channels > 0 ? row % p->channels : k; /* the scale and bias entry */
      const int64_t c = (int64_t)n * (x[k] - p->input_zp) - sum;
      const int64_t u = round_shift_away(c * reciprocal, right);
      /* |u * multiplier| < 2^62; the compiler keeps shift in [-16, 40]. */
      const int64_t q16 =
          round_shift_away(u * scale[e].multiplier, 46 - scale[e].shift) + bias[e];
      const int64_t q = round_q16_even(q16);
      y[k] = (int8_t)(q < p->act_min ? p->act_min : (q > p->act_max ? p->act_max : q));
    }
  }
}
