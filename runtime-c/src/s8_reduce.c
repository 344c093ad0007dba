/* int8 ReduceMax and ArgMax (docs/int8.md): codes are compared, never rescaled. */
#include "s8_internal.h"

void es_reduce_max_s8(const es_reduce_max_s8_params_t *p, const int8_t *input, int8_t *output) {
  for (int32_t o = 0; o < p->outer; ++o) {
    const int8_t *block = input + o * p->reduce * p->inner;
    for (int32_t i = 0; i < p->inner; ++i) {
      int32_t largest = INT8_MIN;
      for (int32_t r = 0; r < p->reduce; ++r)
        if (block[r * p->inner + i] > largest) largest = block[r * p->inner + i];
      *output++ = (int8_t)es_clamp_i32(largest, p->act_min, p->act_max);
    }
  }
}

void es_argmax_s8(const es_argmax_s8_params_t *p, const int8_t *input, int8_t *output) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t i = 0; i < p->inner; ++i) {
      const int8_t *line = input + o * p->length * p->inner + i;
      int32_t best = 0;
      for (int32_t k = 1; k < p->length; ++k) {
        const int8_t candidate = line[k * p->inner], current = line[best * p->inner];
        if (p->select_last_index ? candidate >= current : candidate > current) best = k;
      }
      *output++ = (int8_t)es_clamp_i32(best + p->output_zp, INT8_MIN, INT8_MAX);
    }
}
