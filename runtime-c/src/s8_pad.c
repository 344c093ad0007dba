/* Pad (docs/int8.md: values are moved, the constant is the zero point). */
#include "s8_internal.h"

/* The input coordinate an output coordinate reads along one axis (`position` already shifted by
 * the begin padding), or -1 where the constant goes. */
static int32_t source_position(int32_t position, int32_t length, es_pad_s8_mode_t mode) {
  if (position >= 0 && position < length) return position;
  switch (mode) {
  case ES_S8_PAD_CONSTANT: return -1;
  case ES_S8_PAD_EDGE: return position < 0 ? 0 : length - 1;
  case ES_S8_PAD_REFLECT: {
    if (length == 1) return 0;
    const int32_t period = 2 * (length - 1);
    int32_t phase = position % period;
    if (phase < 0) phase += period;
    return phase < length ? phase : period - phase;
  }
  }
  return -1;
}

void es_pad_s8(const es_pad_s8_params_t *p, const int8_t *input, int8_t *output) {
  int32_t out_shape[ES_S8_MAX_RANK], in_strides[ES_S8_MAX_RANK];
  for (int axis = 0; axis < ES_S8_MAX_RANK; ++axis)
    out_shape[axis] = p->in_shape[axis] + p->pads_begin[axis] + p->pads_end[axis];
  es_s8_broadcast_strides(p->in_shape, in_strides);
  int32_t index[ES_S8_MAX_RANK] = {0, 0, 0, 0};
  const int32_t count = es_s8_element_count(out_shape);
  for (int32_t i = 0; i < count; ++i) {
    int32_t source[ES_S8_MAX_RANK];
    int inside = 1;
    for (int axis = 0; axis < ES_S8_MAX_RANK; ++axis) {
      source[axis] = source_position(index[axis] - p->pads_begin[axis], p->in_shape[axis], p->mode);
      inside = inside && source[axis] >= 0;
    }
    output[i] = inside ? input[es_s8_offset(source, in_strides)] : (int8_t)p->value;
    es_s8_next_index(index, out_shape);
  }
}
