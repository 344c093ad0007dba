/* Matrix products (docs/int8.md "Gemm / MatMul (constant weights)" and "MatMul of two
 * activations"). */
#include "s8_internal.h"

/* sum over k of (a[k * a_step] - a_zp) * (b[k * b_step] - b_zp). */
static int64_t dot_product(const int8_t *a, int32_t a_zp, int32_t a_step, const int8_t *b,
                           int32_t b_zp, int32_t b_step, int32_t length) {
  int64_t acc = 0;
  for (int32_t k = 0; k < length; ++k) acc += (a[k * a_step] - a_zp) * (b[k * b_step] - b_zp);
  return acc;
}

void es_fully_connected_s8(const es_fully_connected_s8_params_t *p, const int8_t *input,
                           const int8_t *weights, const int32_t *bias,
                           const es_requant_t *per_channel, int8_t *output) {
  for (int32_t n = 0; n < p->batch; ++n) {
    const int8_t *row = input + n * p->in_features;
    for (int32_t m = 0; m < p->out_features; ++m) {
      /* Weights are symmetric (zero point 0). */
      const int64_t acc =
          (bias != NULL ? bias[m] : 0) +
          dot_product(row, p->input_zp, 1, weights + m * p->in_features, 0, 1, p->in_features);
      *output++ =
          es_s8_requantize_output(acc, per_channel[m], p->output_zp, p->act_min, p->act_max);
    }
  }
}

void es_batch_matmul_s8(const es_batch_matmul_s8_params_t *p, const int8_t *a, const int8_t *b,
                        int8_t *output) {
  for (int32_t i = 0; i < p->batch[0]; ++i) {
    for (int32_t j = 0; j < p->batch[1]; ++j) {
      const int8_t *a_matrix = a + i * p->a_batch_stride[0] + j * p->a_batch_stride[1];
      const int8_t *b_matrix = b + i * p->b_batch_stride[0] + j * p->b_batch_stride[1];
      for (int32_t row = 0; row < p->rows; ++row) {
        for (int32_t col = 0; col < p->cols; ++col) {
          const int64_t acc = dot_product(a_matrix + row * p->inner, p->a_zp, 1, b_matrix + col,
                                          p->b_zp, p->cols, p->inner);
          *output++ =
              es_s8_requantize_output(acc, p->requant, p->output_zp, p->act_min, p->act_max);
        }
      }
    }
  }
}
