/* Float32 fully connected layer (Gemm) and batched MatMul: both are dot products of a row of
 * one operand with a row or column of the other. */
#include "f32_internal.h"

#include <stddef.h>

static float strided_dot(const float *a, int32_t a_step, const float *b, int32_t b_step,
                         int32_t length) {
  float acc = 0.0f;
  for (int32_t k = 0; k < length; ++k) acc += a[k * a_step] * b[k * b_step];
  return acc;
}

void es_fully_connected_f32(const es_fully_connected_f32_params_t *p, const float *input,
                            const float *weights, const float *bias, float *output) {
  for (int32_t b = 0; b < p->batch; ++b) {
    const float *row = input + b * p->in_features;
    for (int32_t o = 0; o < p->out_features; ++o) {
      const float initial = bias != NULL ? bias[o] : 0.0f;
      const float acc =
          initial + strided_dot(row, 1, weights + o * p->in_features, 1, p->in_features);
      *output++ = es_f32_clamp(acc, p->act_min, p->act_max);
    }
  }
}

void es_batch_matmul_f32(const es_batch_matmul_f32_params_t *p, const float *a, const float *b,
                         float *output) {
  for (int32_t i = 0; i < p->batch[0]; ++i)
    for (int32_t j = 0; j < p->batch[1]; ++j) {
      const float *a_matrix = a + i * p->a_batch_stride[0] + j * p->a_batch_stride[1];
      const float *b_matrix = b + i * p->b_batch_stride[0] + j * p->b_batch_stride[1];
      for (int32_t r = 0; r < p->rows; ++r)
        for (int32_t c = 0; c < p->cols; ++c) {
          const float acc =
              strided_dot(a_matrix + r * p->inner, 1, b_matrix + c, p->cols, p->inner);
          *output++ = es_f32_clamp(acc, p->act_min, p->act_max);
        }
    }
}
