/* Float32 ReduceMean over the middle axis of [outer, reduce, inner]. */
#include "f32_internal.h"

void es_reduce_mean_f32(const es_reduce_mean_f32_params_t *p, const float *input, float *output) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t i = 0; i < p->inner; ++i) {
      const float *first = input + o * p->reduce * p->inner + i;
      float sum = 0.0f;
      for (int32_t r = 0; r < p->reduce; ++r) sum += first[r * p->inner];
      *output++ = es_f32_clamp(sum / (float)p->reduce, p->act_min, p->act_max);
    }
}
