/* Float32 Transpose of up to 4-D tensors. */
#include "f32_internal.h"

void es_transpose_f32(const es_transpose_f32_params_t *p, const float *input, float *output) {
  int32_t shape[ES_MAX_RANK], strides[ES_MAX_RANK];
  es_transpose_walk(p->in_shape, p->perm, shape, strides);
  /* In output order: the innermost axis walks the input by its stride. */
  for (int32_t i0 = 0; i0 < shape[0]; ++i0)
    for (int32_t i1 = 0; i1 < shape[1]; ++i1)
      for (int32_t i2 = 0; i2 < shape[2]; ++i2) {
        const float *source = input + (i0 * strides[0] + i1 * strides[1] + i2 * strides[2]);
        for (int32_t i3 = 0; i3 < shape[3]; ++i3) *output++ = source[i3 * strides[3]];
      }
}
