/* The fixed-point primitives of docs/int8.md "Fixed-point rescaling". Every intermediate that can
 * exceed int32 is computed in int64, and right shifts of negative values are written so that they
 * do not depend on the compiler's choice for signed shifts. Preconditions are the spec's:
 * exponent in [0, 31] and shift >= -31 (a factor below 2^-32 is stored as multiplier 0). */
#include "es_common.h"
#include "s8_rounding.h"

#if defined(ES_S8_ROUNDING_AT_RUN_TIME)
int es_s8_single_rounding = 0;
#endif

int32_t es_rounding_doubling_high_mul(int32_t a, int32_t b) {
  /* The one product whose doubled high half does not fit int32. */
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  const int64_t product = (int64_t)a * (int64_t)b;
  const int64_t half = (int64_t)1 << 30;
  const int64_t nudge = product >= 0 ? half : 1 - half;
  /* C99 division truncates toward zero, as the spec's "/" does. */
  return (int32_t)((product + nudge) / ((int64_t)1 << 31));
}

/* floor(x / 2^exponent): an arithmetic right shift without shifting a negative value. */
static int32_t floor_shift_right(int32_t x, int32_t exponent) {
  return x >= 0 ? x >> exponent : ~(~x >> exponent);
}

int32_t es_rounding_divide_by_pot(int32_t x, int32_t exponent) {
  const uint32_t mask = (uint32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = (int32_t)((uint32_t)x & mask);
  const int32_t threshold = (int32_t)(mask >> 1) + (x < 0 ? 1 : 0);
  return floor_shift_right(x, exponent) + (remainder > threshold ? 1 : 0);
}

/* x * 2^left saturated to int32. Past 31 every non-zero x saturates anyway, so the factor is
 * capped there, where |x| * 2^31 still fits int64. */
static int32_t saturating_left_shift(int32_t x, int32_t left) {
  const int64_t scaled = (int64_t)x * ((int64_t)1 << (left < 31 ? left : 31));
  if (scaled > INT32_MAX) return INT32_MAX;
  if (scaled < INT32_MIN) return INT32_MIN;
  return (int32_t)scaled;
}

/* requantize with one rounding: round(x * multiplier / 2^(31 - shift)), halves up, saturated to
 * int32 (docs/int8.md "Fixed-point rescaling", single rounding). The exact product is below 2^62
 * in magnitude; the 2^62 bias makes the shifted value non-negative. */
static int32_t requantize_once(int32_t x, es_requant_t m) {
  const int64_t product = (int64_t)x * m.multiplier;
  const int32_t right = 31 - m.shift; /* at most 62: a factor below 2^-32 has multiplier 0 */
  int64_t rounded;
  if (right > 0) {
    const uint64_t bias = (uint64_t)1 << 62;
    const uint64_t biased = (uint64_t)product + ((uint64_t)1 << (right - 1)) + bias;
    rounded = (int64_t)(biased >> right) - (int64_t)(bias >> right);
  } else if (right == 0) {
    rounded = product;
  } else {
    /* A factor of 2^31 or more: any non-zero x saturates. */
    rounded = product > 0 ? INT32_MAX : (product < 0 ? INT32_MIN : 0);
  }
  return rounded > INT32_MAX ? INT32_MAX : (rounded < INT32_MIN ? INT32_MIN : (int32_t)rounded);
}

int32_t es_requantize(int32_t x, es_requant_t m) {
  if (ES_S8_SINGLE_ROUNDING) return requantize_once(x, m);
  const int32_t left = m.shift > 0 ? m.shift : 0;
  const int32_t right = m.shift < 0 ? -m.shift : 0;
  const int32_t high = es_rounding_doubling_high_mul(saturating_left_shift(x, left), m.multiplier);
  return es_rounding_divide_by_pot(high, right);
}
