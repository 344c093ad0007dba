/* The int32 rescaling of a global mean's sum (es_global_avg_pool_s8, and the pool fused into
 * es_conv1d_nwc_mean_s8); not part of the runtime's API. */
#ifndef ES_S8_MEAN_INTERNAL_H
#define ES_S8_MEAN_INTERNAL_H

#include "s8_internal.h"

/* es_s8_rescale_once_output of an int32 sum by a factor below 1/2, so that its right shift,
 * 31 - shift, is 32 to 62: the product's high word then holds the quotient's bits, and the
 * rounding (ties to even) is one 64-bit addition of 2^(right - 1) - 1 plus the quotient's lowest
 * bit before rounding. */
typedef struct {
  int32_t multiplier;
  int32_t high_shift;      /* right - 32 */
  uint64_t half_less_one; /* 2^(right - 1) - 1 */
} once_rescale_t;

static inline int once_rescale_applies(es_requant_t m) { return m.shift <= -1 && m.shift >= -31; }

static inline once_rescale_t once_rescale_of(es_requant_t m) {
  once_rescale_t r;
  r.multiplier = m.multiplier;
  r.high_shift = -1 - m.shift;
  r.half_less_one = ((uint64_t)1 << (30 - m.shift)) - 1u;
  return r;
}

static inline int32_t once_rescale(int32_t x, const once_rescale_t *r) {
  const int64_t product = (int64_t)x * r->multiplier;
  const uint32_t odd = ((uint32_t)((uint64_t)product >> 32) >> r->high_shift) & 1u;
  const int64_t rounded = product + (int64_t)(r->half_less_one + odd);
  return (int32_t)(rounded >> 32) >> r->high_shift;
}

#endif /* ES_S8_MEAN_INTERNAL_H */
