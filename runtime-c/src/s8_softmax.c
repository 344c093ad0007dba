/* Softmax (docs/int8.md "Softmax / LogSoftmax"): integer arithmetic over the compiler's
 * exponential table, output parameters fixed at Sy = 1/256, Zy = -128. */
#include "s8_internal.h"

void es_softmax_s8(const es_softmax_s8_params_t *p, const uint32_t exp_table[256],
                   const int8_t *input, int8_t *output) {
  for (int32_t o = 0; o < p->outer; ++o) {
    for (int32_t i = 0; i < p->inner; ++i) {
      /* The line's elements are `inner` apart. */
      const int32_t first = o * p->length * p->inner + i;
      int32_t largest;
      const uint32_t sum =
          es_s8_softmax_line_sum(exp_table, input + first, p->length, p->inner, &largest);
      for (int32_t k = 0; k < p->length; ++k) {
        /* e * 256 <= 2^24 and sum / 2 < 2^31: the numerator fits uint32, and a 32-bit division
         * keeps the 64-bit one's library routine (700 bytes on Cortex-M) out of the program. */
        const uint32_t e = exp_table[input[first + k * p->inner] - largest + 255];
        const int32_t quotient = (int32_t)((e * 256 + sum / 2) / sum); /* <= 256 + 1/2 */
        output[first + k * p->inner] = (int8_t)es_clamp_i32(quotient - 128, INT8_MIN, INT8_MAX);
      }
    }
  }
}
