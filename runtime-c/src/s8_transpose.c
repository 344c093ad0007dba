/* Transpose (docs/int8.md: values are moved, never rescaled). */
#include "s8_internal.h"

void es_transpose_s8(const es_transpose_s8_params_t *p, const int8_t *input, int8_t *output) {
  int32_t shape[ES_MAX_RANK], strides[ES_MAX_RANK];
  es_transpose_walk(p->in_shape, p->perm, shape, strides);
  /* In output order: the innermost axis walks the input by its stride. */
  for (int32_t i0 = 0; i0 < shape[0]; ++i0)
    for (int32_t i1 = 0; i1 < shape[1]; ++i1)
      for (int32_t i2 = 0; i2 < shape[2]; ++i2) {
        const int8_t *source = input + (i0 * strides[0] + i1 * strides[1] + i2 * strides[2]);
        /* Four elements a pass: a load and a store each, one loop step for the four. */
        const int32_t step = strides[3], count = shape[3];
        int32_t i3 = 0;
        for (; i3 + 3 < count; i3 += 4, output += 4) {
          output[0] = source[i3 * step];
          output[1] = source[(i3 + 1) * step];
          output[2] = source[(i3 + 2) * step];
          output[3] = source[(i3 + 3) * step];
        }
        for (; i3 < count; ++i3) *output++ = source[i3 * step];
      }
}
