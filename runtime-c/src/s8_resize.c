/* int8 Resize / Upsample (docs/int8.md "Resize"): nearest copies, linear blends the raw int8
 * values with Q10 weights and rounds once, ties to even. */
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

/* The weights of a pair sum to 2^10, so the four products sum to a value in [-128, 127] * 2^20.
 * Offsetting the inputs by 128 keeps the sum non-negative (below 2^28): the division by 2^20 is
 * then a plain shift and the tie test needs no sign. */
void es_resize_linear_s8(const int8_t *in, int8_t *out, int32_t planes, int32_t in_h, int32_t in_w,
                         int32_t out_h, int32_t out_w, const int32_t *rows,
                         const int32_t *row_weights, const int32_t *cols,
                         const int32_t *col_weights) {
  const uint32_t half = (uint32_t)1 << 19, mask = ((uint32_t)1 << 20) - 1;
  for (int32_t p = 0; p < planes; ++p) {
    const int8_t *plane = in + p * in_h * in_w;
    for (int32_t r = 0; r < out_h; ++r) {
      const int8_t *top = plane + rows[2 * r] * in_w;
      const int8_t *bottom = plane + rows[2 * r + 1] * in_w;
      const uint32_t wt = (uint32_t)row_weights[2 * r], wb = (uint32_t)row_weights[2 * r + 1];
      for (int32_t c = 0; c < out_w; ++c) {
        const int32_t left = cols[2 * c], right = cols[2 * c + 1];
        const uint32_t wl = (uint32_t)col_weights[2 * c], wr = (uint32_t)col_weights[2 * c + 1];
        const uint32_t sum = wl * wt * (uint32_t)(top[left] + 128) +
                             wr * wt * (uint32_t)(top[right] + 128) +
                             wl * wb * (uint32_t)(bottom[left] + 128) +
                             wr * wb * (uint32_t)(bottom[right] + 128);
        uint32_t quotient = sum >> 20;
        const uint32_t remainder = sum & mask;
        if (remainder > half || (remainder == half && (quotient & 1u))) ++quotient;
        *out++ = (int8_t)((int32_t)quotient - 128);
      }
    }
  }
}
