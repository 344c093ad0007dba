/* Concat (docs/int8.md "Concat"): inputs with the output's parameters are copied, the others
 * rescaled to them. */
#include "s8_internal.h"

#include <string.h>

void es_concat_s8(const es_concat_s8_params_t *p, const int8_t *const *inputs, int8_t *output) {
  int32_t out_axis_size = 0;
  for (int32_t k = 0; k < p->input_count; ++k) out_axis_size += p->inputs[k].axis_size;
  const int32_t out_block = out_axis_size * p->inner;
  int32_t block_offset = 0; /* where input k's block starts inside each output block */
  for (int32_t k = 0; k < p->input_count; ++k) {
    const es_concat_s8_input_t *in = &p->inputs[k];
    const int32_t block = in->axis_size * p->inner;
    for (int32_t o = 0; o < p->outer; ++o) {
      const int8_t *source = inputs[k] + o * block;
      int8_t *destination = output + o * out_block + block_offset;
      if (!in->rescale) {
        memcpy(destination, source, (size_t)block);
        continue;
      }
      for (int32_t j = 0; j < block; ++j)
        destination[j] = es_s8_rescale_once_output(source[j] - in->input_zp, in->requant,
                                                   p->output_zp, INT8_MIN, INT8_MAX);
    }
    block_offset += block;
  }
}
