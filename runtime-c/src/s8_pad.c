/* Pad (docs/int8.md: values are moved, the constant is the zero point). */
#include "s8_internal.h"

void es_pad_s8(const es_pad_s8_params_t *p, const int8_t *input, int8_t *output) {
  int32_t out_shape[ES_MAX_RANK], in_strides[ES_MAX_RANK];
  for (int axis = 0; axis < ES_MAX_RANK; ++axis)
    out_shape[axis] = p->in_shape[axis] + p->pads_begin[axis] + p->pads_end[axis];
  es_broadcast_strides(p->in_shape, in_strides);
  int32_t index[ES_MAX_RANK] = {0, 0, 0, 0};
  const int32_t count = es_element_count(out_shape);
  for (int32_t i = 0; i < count; ++i) {
    int32_t source[ES_MAX_RANK];
    int inside = 1;
    for (int axis = 0; axis < ES_MAX_RANK; ++axis) {
      source[axis] =
          es_pad_source_position(index[axis] - p->pads_begin[axis], p->in_shape[axis], p->mode);
      inside = inside && source[axis] >= 0;
    }
    output[i] = inside ? input[es_offset(source, in_strides)] : (int8_t)p->value;
    es_next_index(index, out_shape);
  }
}
