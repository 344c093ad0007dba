/* 4-D index arithmetic shared by the int8 and float32 kernels; not part of the runtime's API. */
#ifndef ES_INDEX_INTERNAL_H
#define ES_INDEX_INTERNAL_H

#include "es_common.h"

static inline int32_t es_element_count(const int32_t shape[ES_MAX_RANK]) {
  int32_t count = 1;
  for (int axis = 0; axis < ES_MAX_RANK; ++axis) count *= shape[axis];
  return count;
}

/* Row-major strides of `shape`, 0 along its size-1 axes: indexing with an index of a larger
 * (broadcast) shape then reads the element numpy broadcasting would; a size-1 axis is only ever
 * indexed at 0, so for the tensor's own indices these are just its strides. */
static inline void es_broadcast_strides(const int32_t shape[ES_MAX_RANK],
                                        int32_t strides[ES_MAX_RANK]) {
  int32_t stride = 1;
  for (int axis = ES_MAX_RANK - 1; axis >= 0; --axis) {
    strides[axis] = shape[axis] == 1 ? 0 : stride;
    stride *= shape[axis];
  }
}

/* The input position a transposed convolution's output position `out` reads through tap `k`:
 * the `in` with out + pad - k * dilation = in * stride, or -1 when that is no whole position
 * inside [0, size). */
static inline int32_t es_transposed_source(int32_t out, int32_t pad, int32_t k, int32_t dilation,
                                           int32_t stride, int32_t size) {
  const int32_t reach = out + pad - k * dilation;
  if (reach < 0 || reach % stride != 0 || reach / stride >= size) return -1;
  return reach / stride;
}

static inline int32_t es_offset(const int32_t index[ES_MAX_RANK],
                                const int32_t strides[ES_MAX_RANK]) {
  int32_t offset = 0;
  for (int axis = 0; axis < ES_MAX_RANK; ++axis) offset += index[axis] * strides[axis];
  return offset;
}

/* Steps a 4-D index through `shape` in row-major order (the last axis fastest). */
static inline void es_next_index(int32_t index[ES_MAX_RANK], const int32_t shape[ES_MAX_RANK]) {
  for (int axis = ES_MAX_RANK - 1; axis >= 0; --axis) {
    if (++index[axis] < shape[axis]) return;
    index[axis] = 0;
  }
}

/* Transpose as a strided walk: the output shape, and per output axis the input stride it steps
 * by (output axis k runs along input axis perm[k]), so copying in output order is
 * out[i] = in[es_offset(index, strides)]. */
static inline void es_transpose_walk(const int32_t in_shape[ES_MAX_RANK],
                                     const int32_t perm[ES_MAX_RANK],
                                     int32_t out_shape[ES_MAX_RANK], int32_t strides[ES_MAX_RANK]) {
  int32_t in_strides[ES_MAX_RANK];
  es_broadcast_strides(in_shape, in_strides);
  for (int axis = 0; axis < ES_MAX_RANK; ++axis) {
    out_shape[axis] = in_shape[perm[axis]];
    strides[axis] = in_strides[perm[axis]];
  }
}

/* The input coordinate that Pad's output coordinate `position` (already shifted by the begin
 * padding) reads along an axis of `length`, or -1 where the constant goes. Reflection repeats
 * with period 2 * (length - 1), as numpy keeps reflecting when the padding is wider than the
 * input. */
static inline int32_t es_pad_source_position(int32_t position, int32_t length, es_pad_mode_t mode) {
  if (position >= 0 && position < length) return position;
  switch (mode) {
  case ES_PAD_CONSTANT:
    return -1;
  case ES_PAD_EDGE:
    return position < 0 ? 0 : length - 1;
  case ES_PAD_REFLECT: {
    if (length == 1) return 0;
    const int32_t period = 2 * (length - 1);
    int32_t phase = position % period;
    if (phase < 0) phase += period;
    return phase < length ? phase : period - phase;
  }
  }
  return -1;
}

/* The outputs [*first, *end) along one axis whose windows lie wholly inside the input: window o
 * starts at o * stride - pad and its last tap is (kernel - 1) * dilation further. */
static inline void es_inside_outputs(int32_t pad, int32_t stride, int32_t kernel,
                                     int32_t dilation, int32_t in_size, int32_t out_size,
                                     int32_t *first, int32_t *end) {
  const int32_t room = in_size - 1 - (kernel - 1) * dilation + pad;
  *first = (pad + stride - 1) / stride;
  *end = room < 0 ? 0 : room / stride + 1;
  if (*end > out_size) *end = out_size;
  if (*first > *end) *first = *end;
}

#endif /* ES_INDEX_INTERNAL_H */
