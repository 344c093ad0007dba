/* Float32 fully connected layer, four weight rows per pass: each input element is loaded once
 * for four outputs, whose sums stay in registers. Every output sums its products in the reference
 * kernel's order from 0 and adds the bias last, so the results equal es_fully_connected_f32's
 * bit for bit (C99 does not fuse a * b + c). */
#include "f32_internal.h"

#include <stddef.h>

enum { ROWS = 4 };

/* output[o + r] for r < rows (a constant after inlining, so that the loops over r unroll). */
ES_F32_ALWAYS_INLINE void rows_block(const es_fully_connected_f32_params_t *p, const float *input,
                                     const float *weights, const float *bias, int32_t rows,
                                     float *output) {
  const int32_t in_features = p->in_features;
  const float act_min = p->act_min, act_max = p->act_max;
  const int act_max_binds = act_max < INFINITY;
  float acc[ROWS];
  ES_F32_UNROLL
  for (int32_t r = 0; r < rows; ++r) acc[r] = 0.0f;
  for (int32_t k = 0; k < in_features; ++k) {
    const float x = input[k];
    ES_F32_UNROLL
    for (int32_t r = 0; r < rows; ++r)
      acc[r] = es_f32_multiply_add(acc[r], weights[r * in_features + k], x);
  }
  ES_F32_UNROLL
  for (int32_t r = 0; r < rows; ++r) {
    const float initial = bias != NULL ? bias[r] : 0.0f;
    output[r] = es_f32_clamp_below(initial + acc[r], act_min, act_max, act_max_binds);
  }
}

void es_fully_connected_blocked_f32(const es_fully_connected_f32_params_t *p, const float *input,
                                    const float *weights, const float *bias, float *output) {
  for (int32_t b = 0; b < p->batch; ++b) {
    const float *row = input + b * p->in_features;
    int32_t o = 0;
    for (; o + ROWS <= p->out_features; o += ROWS)
      rows_block(p, row, weights + o * p->in_features, bias != NULL ? bias + o : NULL, ROWS,
                 output + o);
    for (; o < p->out_features; ++o)
      rows_block(p, row, weights + o * p->in_features, bias != NULL ? bias + o : NULL, 1,
                 output + o);
    output += p->out_features;
  }
}
