/* Transpose (docs/int8.md: values are moved, never rescaled). */
#include "s8_internal.h"

void es_transpose_s8(const es_transpose_s8_params_t *p, const int8_t *input, int8_t *output) {
  int32_t out_shape[ES_MAX_RANK], strides[ES_MAX_RANK];
  es_transpose_walk(p->in_shape, p->perm, out_shape, strides);
  int32_t index[ES_MAX_RANK] = {0, 0, 0, 0};
  const int32_t count = es_element_count(out_shape);
  for (int32_t i = 0; i < count; ++i) {
    output[i] = input[es_offset(index, strides)];
    es_next_index(index, out_shape);
  }
}
