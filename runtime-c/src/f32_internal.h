/* Helpers shared by the float32 kernels (f32_*.c); not part of the runtime's API. */
#ifndef ES_F32_INTERNAL_H
#define ES_F32_INTERNAL_H

#include "es_f32.h"

#include <math.h>

/* Written with comparisons rather than fminf/fmaxf so that NaN passes through, as in ONNX. */
static inline float es_f32_clamp(float x, float lo, float hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/* The order max-like kernels pick by: NaN ranks above every number so that it propagates, as in
 * numpy's max and the compiler's reference. */
static inline int es_f32_ranks_above(float candidate, float best) {
  if (isnan(best)) return 0;
  if (isnan(candidate)) return 1;
  return candidate > best;
}

static inline int32_t es_f32_element_count(const int32_t shape[ES_F32_MAX_RANK]) {
  int32_t count = 1;
  for (int axis = 0; axis < ES_F32_MAX_RANK; ++axis) count *= shape[axis];
  return count;
}

/* Row-major strides of `shape`, 0 along its size-1 axes: indexing with an index of a larger
 * shape then reads the element numpy broadcasting would (and a size-1 axis is only ever indexed
 * at 0, so for the tensor's own indices these are just its strides). */
static inline void es_f32_broadcast_strides(const int32_t shape[ES_F32_MAX_RANK],
                                            int32_t strides[ES_F32_MAX_RANK]) {
  int32_t stride = 1;
  for (int axis = ES_F32_MAX_RANK - 1; axis >= 0; --axis) {
    strides[axis] = shape[axis] == 1 ? 0 : stride;
    stride *= shape[axis];
  }
}

static inline int32_t es_f32_offset(const int32_t index[ES_F32_MAX_RANK],
                                    const int32_t strides[ES_F32_MAX_RANK]) {
  int32_t offset = 0;
  for (int axis = 0; axis < ES_F32_MAX_RANK; ++axis) offset += index[axis] * strides[axis];
  return offset;
}

/* Steps a 4-D index through `shape` in row-major order (the last axis fastest). */
static inline void es_f32_next_index(int32_t index[ES_F32_MAX_RANK],
                                     const int32_t shape[ES_F32_MAX_RANK]) {
  for (int axis = ES_F32_MAX_RANK - 1; axis >= 0; --axis) {
    if (++index[axis] < shape[axis]) return;
    index[axis] = 0;
  }
}

#endif /* ES_F32_INTERNAL_H */
