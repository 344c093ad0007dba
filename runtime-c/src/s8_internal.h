/* Helpers shared by the int8 kernels (s8_*.c); not part of the runtime's API. */
#ifndef ES_S8_INTERNAL_H
#define ES_S8_INTERNAL_H

#include "es_index_internal.h"
#include "es_s8.h"
#include "s8_rounding.h"

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

/* The ending of the ops that rescale a few int8 values rather than a long dot product (means:
 * AveragePool with its own output parameters, GlobalAveragePool, ReduceMean; Concat's rescaled
 * inputs): clamp(round_half_even(x * multiplier / 2^(31 - shift)) + Zy, act_min, act_max), one
 * rounding of the exact 64-bit product (docs/int8.md "Rescaling once"). requantize() rounds the
 * high multiply to an integer first, which on these small values misses round(x * M) in about one
 * output of eight. The shift floors a biased non-negative value, so it does not depend on the
 * compiler's choice for signed shifts. */
static inline int8_t es_s8_rescale_once_output(int64_t x, es_requant_t m, int32_t output_zp,
                                               int32_t act_min, int32_t act_max) {
  const int64_t product = (int64_t)es_s8_saturate_i32(x) * m.multiplier; /* |product| < 2^62 */
  const int32_t right = 31 - m.shift; /* at most 62: a factor below 2^-32 has multiplier 0 */
  int64_t rounded;
  if (right <= 0) {
    /* A factor of 2^30 or more: any non-zero x lands far past the int8 range. */
    rounded = product > 0 ? INT32_MAX : (product < 0 ? INT32_MIN : 0);
  } else {
    /* floor((product + 2^(right-1) - 1 + odd) / 2^right), odd the quotient's lowest bit: ties go
     * to the even neighbour. The 2^62 bias keeps the shifted value non-negative. */
    const uint64_t bias = (uint64_t)1 << 62;
    const uint64_t biased = (uint64_t)product + bias;
    const uint64_t odd = ((biased >> right) - (bias >> right)) & 1u;
    const uint64_t half = (uint64_t)1 << (right - 1);
    rounded = (int64_t)((biased + half - 1u + odd) >> right) - (int64_t)(bias >> right);
  }
  rounded += output_zp;
  return (int8_t)(rounded < act_min ? act_min : (rounded > act_max ? act_max : rounded));
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

/* The softmax family's pass over one line (elements `stride` apart, docs/int8.md "Softmax /
 * LogSoftmax"): its largest code, and the sum of the exp table's entries e[qx - largest + 255].
 * At most 65535 entries of at most 2^16, one of them 2^16: 2^16 <= sum < 2^32. */
static inline uint32_t es_s8_softmax_line_sum(const uint32_t exp_table[256], const int8_t *line,
                                              int32_t length, int32_t stride, int32_t *largest) {
  int32_t top = INT8_MIN;
  for (int32_t k = 0; k < length; ++k)
    if (line[k * stride] > top) top = line[k * stride];
  uint32_t sum = 0;
  for (int32_t k = 0; k < length; ++k) sum += exp_table[line[k * stride] - top + 255];
  *largest = top;
  return sum;
}

#endif /* ES_S8_INTERNAL_H */
