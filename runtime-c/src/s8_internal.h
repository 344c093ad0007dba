/* Helpers shared by the int8 kernels (s8_*.c); not part of the runtime's API. */
#ifndef ES_S8_INTERNAL_H
#define ES_S8_INTERNAL_H

#include "es_index_internal.h"
#include "es_s8.h"

#include <stddef.h>

/* Accumulators are int64 so that no sum overflows; the spec's int32 accumulator is their value
 * saturated, identical whenever the int32 sum would not have overflowed. */
static inline int32_t es_s8_saturate_i32(int64_t x) {
  return x > INT32_MAX ? INT32_MAX : (x < INT32_MIN ? INT32_MIN : (int32_t)x);
}

/* The ending of every rescaling op: clamp(requantize(acc, m) + Zy, act_min, act_max). The zero
 * point is added in int64 because the requantised value may be near INT32_MAX. */
static inline int8_t es_s8_requantize_output(int64_t acc, es_requant_t m, int32_t output_zp,
                                             int32_t act_min, int32_t act_max) {
  const int64_t shifted = (int64_t)es_requantize(es_s8_saturate_i32(acc), m) + output_zp;
  return (int8_t)(shifted < act_min ? act_min : (shifted > act_max ? act_max : shifted));
}

/* The taps [*first, *end) of a window of `kernel` taps, `dilation` apart and starting at input
 * coordinate `start`, that land inside [0, size): the taps inside form one run. */
static inline void es_s8_window_taps(int32_t start, int32_t dilation, int32_t kernel, int32_t size,
                                     int32_t *first, int32_t *end) {
  const int32_t lowest = start < 0 ? (-start + dilation - 1) / dilation : 0;
  const int32_t past_highest = start < size ? (size - 1 - start) / dilation + 1 : 0;
  *first = lowest;
  *end = past_highest < kernel ? past_highest : kernel;
  if (*end < *first) *end = *first;
}

#endif /* ES_S8_INTERNAL_H */
