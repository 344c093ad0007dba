/* int8 CumSum (docs/int8.md "CumSum"): the exact running sum of the codes, rescaled once. */
#include "s8_internal.h"

void es_cumsum_s8(const es_cumsum_s8_params_t *p, const int8_t *input, int8_t *output) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t i = 0; i < p->inner; ++i) {
      const int32_t first = o * p->length * p->inner + i;
      int32_t sum = 0; /* at most 2^23 terms of magnitude below 2^8 */
      for (int32_t k = 0; k < p->length; ++k) {
        const int32_t at = first + (p->reverse ? p->length - 1 - k : k) * p->inner;
        const int32_t d = input[at] - p->input_zp;
        if (!p->exclusive) sum += d;
        output[at] = es_s8_rescale_once_output(sum, p->requant, p->output_zp, -128, 127);
        if (p->exclusive) sum += d;
      }
    }
}
