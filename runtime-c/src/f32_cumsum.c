/* Float32 CumSum along the middle axis of [outer, length, inner]. */
#include "f32_internal.h"

void es_cumsum_f32(const es_cumsum_f32_params_t *p, const float *input, float *output) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t i = 0; i < p->inner; ++i) {
      const int32_t first = o * p->length * p->inner + i;
      float sum = 0.0f;
      for (int32_t k = 0; k < p->length; ++k) {
        /* Reverse walks the line from its end; the step's own input joins the sum after the
         * output is written when exclusive. */
        const int32_t at = first + (p->reverse ? p->length - 1 - k : k) * p->inner;
        if (p->exclusive) {
          output[at] = sum;
          sum += input[at];
        } else {
          sum += input[at];
          output[at] = sum;
        }
      }
    }
}
