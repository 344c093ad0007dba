/* Float32 Resize / Upsample: nearest and linear (bilinear on the last two axes) from the
 * compiler's per-row and per-column tap tables. */
#include "f32_internal.h"

void es_resize_nearest_f32(const float *in, float *out, int32_t planes, int32_t in_h,
                           int32_t in_w, int32_t out_h, int32_t out_w, const int32_t *rows,
                           const int32_t *cols) {
  for (int32_t p = 0; p < planes; ++p) {
    const float *plane = in + p * in_h * in_w;
    for (int32_t r = 0; r < out_h; ++r) {
      const float *row = plane + rows[r] * in_w;
      for (int32_t c = 0; c < out_w; ++c) *out++ = row[cols[c]];
    }
  }
}

/* The weights are multiplied first, as onnxruntime's bilinear kernel does, so that the results
 * agree to a float rounding. */
void es_resize_linear_f32(const float *in, float *out, int32_t planes, int32_t in_h, int32_t in_w,
                          int32_t out_h, int32_t out_w, const int32_t *rows,
                          const float *row_weights, const int32_t *cols, const float *col_weights) {
  for (int32_t p = 0; p < planes; ++p) {
    const float *plane = in + p * in_h * in_w;
    for (int32_t r = 0; r < out_h; ++r) {
      const float *top = plane + rows[2 * r] * in_w;
      const float *bottom = plane + rows[2 * r + 1] * in_w;
      const float wt = row_weights[2 * r], wb = row_weights[2 * r + 1];
      for (int32_t c = 0; c < out_w; ++c) {
        const int32_t left = cols[2 * c], right = cols[2 * c + 1];
        const float wl = col_weights[2 * c], wr = col_weights[2 * c + 1];
        *out++ = wl * wt * top[left] + wr * wt * top[right] + wl * wb * bottom[left] +
                 wr * wb * bottom[right];
      }
    }
  }
}

/* Each of the four rows is blended along its columns first, then the rows, as onnxruntime's
 * bicubic kernel nests them. */
void es_resize_cubic_f32(const float *in, float *out, int32_t planes, int32_t in_h, int32_t in_w,
                         int32_t out_h, int32_t out_w, const int32_t *rows,
                         const float *row_weights, const int32_t *cols, const float *col_weights) {
  for (int32_t p = 0; p < planes; ++p) {
    const float *plane = in + p * in_h * in_w;
    for (int32_t r = 0; r < out_h; ++r) {
      for (int32_t c = 0; c < out_w; ++c) {
        float sum = 0.0f;
        for (int32_t i = 0; i < 4; ++i) {
          const float *line = plane + rows[4 * r + i] * in_w;
          float across = 0.0f;
          for (int32_t j = 0; j < 4; ++j) across += col_weights[4 * c + j] * line[cols[4 * c + j]];
          sum += row_weights[4 * r + i] * across;
        }
        *out++ = sum;
      }
    }
  }
}
