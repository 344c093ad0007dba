/* int8 Resize / Upsample (docs/int8.md "Resize"): nearest copies, linear blends the raw int8
 * values with Q20 weights and rounds once, ties to even; cubic blends with Q30 weights, each tap
 * row's sum kept to 2^-19 of an input step. */
#include "s8_internal.h"

void es_resize_nearest_s8(const int8_t *in, int8_t *out, int32_t planes, int32_t in_h,
                          int32_t in_w, int32_t out_h, int32_t out_w, const int32_t *rows,
                          const int32_t *cols) {
  for (int32_t p = 0; p < planes; ++p) {
    const int8_t *plane = in + p * in_h * in_w;
    for (int32_t r = 0; r < out_h; ++r) {
      const int8_t *row = plane + rows[r] * in_w;
      for (int32_t c = 0; c < out_w; ++c) *out++ = row[cols[c]];
    }
  }
}

/* The weights of a pair sum to 2^20, so the four products sum to a value in [-128, 127] * 2^40.
 * Offsetting the inputs by 128 keeps every sum non-negative: each row's pair blends exactly in 32
 * bits (below 2^28), the two rows in 64 (below 2^48), the division by 2^40 is then a plain shift
 * and the tie test needs no sign. */
void es_resize_linear_s8(const int8_t *in, int8_t *out, int32_t planes, int32_t in_h, int32_t in_w,
                         int32_t out_h, int32_t out_w, const int32_t *rows,
                         const int32_t *row_weights, const int32_t *cols,
                         const int32_t *col_weights) {
  const uint64_t half = (uint64_t)1 << 39, mask = ((uint64_t)1 << 40) - 1;
  for (int32_t p = 0; p < planes; ++p) {
    const int8_t *plane = in + p * in_h * in_w;
    for (int32_t r = 0; r < out_h; ++r) {
      const int8_t *top = plane + rows[2 * r] * in_w;
      const int8_t *bottom = plane + rows[2 * r + 1] * in_w;
      const uint32_t wt = (uint32_t)row_weights[2 * r], wb = (uint32_t)row_weights[2 * r + 1];
      for (int32_t c = 0; c < out_w; ++c) {
        const int32_t left = cols[2 * c], right = cols[2 * c + 1];
        const uint32_t wl = (uint32_t)col_weights[2 * c], wr = (uint32_t)col_weights[2 * c + 1];
        const uint32_t upper = wl * (uint32_t)(top[left] + 128) + wr * (uint32_t)(top[right] + 128);
        const uint32_t lower =
            wl * (uint32_t)(bottom[left] + 128) + wr * (uint32_t)(bottom[right] + 128);
        const uint64_t sum = (uint64_t)wt * upper + (uint64_t)wb * lower;
        uint64_t quotient = sum >> 40;
        const uint64_t remainder = sum & mask;
        if (remainder > half || (remainder == half && (quotient & 1u))) ++quotient;
        *out++ = (int8_t)((int32_t)quotient - 128);
      }
    }
  }
}

/* round(x / 2^n) to the nearest, ties to even; |x| < 2^61, 1 <= n <= 62. The 2^62 bias keeps the
 * shifted value non-negative, so the division is a shift and the tie test needs no sign. */
static int64_t round_shift_even(int64_t x, int32_t n) {
  const uint64_t bias = (uint64_t)1 << 62;
  const uint64_t biased = (uint64_t)x + bias;
  uint64_t quotient = biased >> n;
  const uint64_t remainder = biased & (((uint64_t)1 << n) - 1);
  const uint64_t half = (uint64_t)1 << (n - 1);
  if (remainder > half || (remainder == half && (quotient & 1u))) ++quotient;
  return (int64_t)quotient - (int64_t)(bias >> n);
}

/* |s| < 2^30 * 255 * (sum of |weights| per axis)^2 < 2^40, |t * multiplier| < 2^55. */
void es_resize_cubic_s8(const int8_t *in, int8_t *out, int32_t planes, int32_t in_h, int32_t in_w,
                        int32_t out_h, int32_t out_w, const int32_t *rows,
                        const int32_t *row_weights, const int32_t *cols,
                        const int32_t *col_weights, int32_t input_zp, int32_t output_zp,
                        int32_t multiplier, int32_t shift) {
  for (int32_t p = 0; p < planes; ++p) {
    const int8_t *plane = in + p * in_h * in_w;
    for (int32_t r = 0; r < out_h; ++r) {
      for (int32_t c = 0; c < out_w; ++c) {
        int64_t sum = 0;
        for (int32_t i = 0; i < 4; ++i) {
          const int8_t *line = plane + rows[4 * r + i] * in_w;
          int64_t across = 0; /* Q30 */
          for (int32_t j = 0; j < 4; ++j)
            across += (int64_t)col_weights[4 * c + j] * (line[cols[4 * c + j]] - input_zp);
          sum += round_shift_even(across, 11) * row_weights[4 * r + i]; /* Q19 * Q30 */
        }
        const int64_t t = round_shift_even(sum, 35); /* Q14 */
        const int64_t q = round_shift_even(t * multiplier, 45 - shift) + output_zp;
        *out++ = (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
      }
    }
  }
}
