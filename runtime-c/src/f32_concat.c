/* Float32 Concat: each input's [axis_size, inner] blocks interleaved along the outer dimension. */
#include "f32_internal.h"

void es_concat_f32(const es_concat_f32_params_t *p, const float *const *inputs, float *output) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t k = 0; k < p->input_count; ++k) {
      const int32_t block = p->axis_sizes[k] * p->inner;
      const float *source = inputs[k] + o * block;
      for (int32_t i = 0; i < block; ++i) *output++ = source[i];
    }
}
