/* Float32 Pad of up to 4-D tensors in constant, edge or reflect mode. */
#include "f32_internal.h"

/* The input position along an axis of `length` that output position `position` (counted from
 * the input's first element) copies, or -1 where the constant goes. */
static int32_t source_position(int32_t position, int32_t length, es_pad_f32_mode_t mode) {
  if (position >= 0 && position < length) return position;
  switch (mode) {
  case ES_F32_PAD_CONSTANT: return -1;
  case ES_F32_PAD_EDGE: return position < 0 ? 0 : length - 1;
  case ES_F32_PAD_REFLECT: {
    if (length == 1) return 0;
    /* Reflection repeats with this period; numpy keeps reflecting when the padding is wider
     * than the input. */
    const int32_t period = 2 * (length - 1);
    int32_t phase = position % period;
    if (phase < 0) phase += period;
    return phase < length ? phase : period - phase;
  }
  }
  return -1;
}

void es_pad_f32(const es_pad_f32_params_t *p, const float *input, float *output) {
  int32_t out_shape[ES_F32_MAX_RANK];
  for (int axis = 0; axis < ES_F32_MAX_RANK; ++axis)
    out_shape[axis] = p->in_shape[axis] + p->pads_begin[axis] + p->pads_end[axis];
  int32_t in_strides[ES_F32_MAX_RANK];
  es_f32_broadcast_strides(p->in_shape, in_strides);
  int32_t index[ES_F32_MAX_RANK] = {0, 0, 0, 0};
  const int32_t count = es_f32_element_count(out_shape);
  for (int32_t i = 0; i < count; ++i) {
    int32_t offset = 0;
    int in_padding = 0;
    for (int axis = 0; axis < ES_F32_MAX_RANK && !in_padding; ++axis) {
      const int32_t source =
          source_position(index[axis] - p->pads_begin[axis], p->in_shape[axis], p->mode);
      in_padding = source < 0;
      offset += source * in_strides[axis];
    }
    output[i] = in_padding ? p->value : input[offset];
    es_f32_next_index(index, out_shape);
  }
}
