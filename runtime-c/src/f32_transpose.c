/* Float32 Transpose of up to 4-D tensors. */
#include "f32_internal.h"

void es_transpose_f32(const es_transpose_f32_params_t *p, const float *input, float *output) {
  int32_t out_shape[ES_MAX_RANK], strides[ES_MAX_RANK];
  es_transpose_walk(p->in_shape, p->perm, out_shape, strides);
  int32_t index[ES_MAX_RANK] = {0, 0, 0, 0};
  const int32_t count = es_element_count(out_shape);
  for (int32_t i = 0; i < count; ++i) {
    output[i] = input[es_offset(index, strides)];
    es_next_index(index, out_shape);
  }
}
