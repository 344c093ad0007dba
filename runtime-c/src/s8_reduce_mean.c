/* ReduceMean (docs/int8.md "AveragePool / GlobalAveragePool / ReduceMean"). */
#include "s8_internal.h"

void es_reduce_mean_s8(const es_reduce_mean_s8_params_t *p, const int8_t *input, int8_t *output) {
  for (int32_t o = 0; o < p->outer; ++o) {
    const int8_t *block = input + o * p->reduce * p->inner;
    for (int32_t i = 0; i < p->inner; ++i) {
      int64_t sum = 0;
      for (int32_t r = 0; r < p->reduce; ++r) sum += block[r * p->inner + i] - p->input_zp;
      *output++ = es_s8_rescale_once_output(sum, p->requant, p->output_zp, p->act_min, p->act_max);
    }
  }
}
