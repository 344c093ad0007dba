/* Float32 Pad of up to 4-D tensors in constant, edge or reflect mode. */
#include "f32_internal.h"

void es_pad_f32(const es_pad_f32_params_t *p, const float *input, float *output) {
  int32_t out_shape[ES_MAX_RANK];
  for (int axis = 0; axis < ES_MAX_RANK; ++axis)
    out_shape[axis] = p->in_shape[axis] + p->pads_begin[axis] + p->pads_end[axis];
  int32_t in_strides[ES_MAX_RANK];
  es_broadcast_strides(p->in_shape, in_strides);
  int32_t index[ES_MAX_RANK] = {0, 0, 0, 0};
  const int32_t count = es_element_count(out_shape);
  for (int32_t i = 0; i < count; ++i) {
    int32_t offset = 0;
    int in_padding = 0;
    for (int axis = 0; axis < ES_MAX_RANK && !in_padding; ++axis) {
      const int32_t source =
          es_pad_source_position(index[axis] - p->pads_begin[axis], p->in_shape[axis], p->mode);
      in_padding = source < 0;
      offset += source * in_strides[axis];
    }
    output[i] = in_padding ? p->value : input[offset];
    es_next_index(index, out_shape);
  }
}
