/* Helpers shared by the float32 kernels (f32_*.c); not part of the runtime's API. */
#ifndef ES_F32_INTERNAL_H
#define ES_F32_INTERNAL_H

#include "es_f32.h"
#include "es_index_internal.h"

#include <math.h>
#include <string.h>

/* Written with comparisons rather than fminf/fmaxf so that NaN passes through, as in ONNX. */
static inline float es_f32_clamp(float x, float lo, float hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/* es_f32_clamp (lo <= hi) as two independent selects, which gcc makes conditional moves rather
 * than branches: the same instructions whatever x is. */
static inline float es_f32_clamp_selects(float x, float lo, float hi) {
  x = x < lo ? lo : x;
  return x > hi ? hi : x;
}

/* es_f32_clamp for a kernel that knows once per call whether hi can bind (hi < INFINITY, not so
 * after a Relu): the test is one integer branch per element instead of a float comparison. */
static inline float es_f32_clamp_below(float x, float lo, float hi, int hi_binds) {
  if (x < lo) return lo;
  return hi_binds && x > hi ? hi : x;
}

/* acc + a * b with the product rounded before the sum, as C99 evaluates it (no contraction: the
 * generated code builds with -std=c99, where gcc never fuses): on an Arm FPU that is one VMLA,
 * which gcc does not emit by itself, instead of VMUL and VADD. */
static inline float es_f32_multiply_add(float acc, float a, float b) {
#if defined(__GNUC__) && defined(__ARM_FP) && (__ARM_FP & 4) && defined(__thumb2__)
  __asm__("vmla.f32 %0, %1, %2" : "+t"(acc) : "t"(a), "t"(b));
  return acc;
#else
  return acc + a * b;
#endif
}

/* The order max-like kernels pick by: NaN ranks above every number so that it propagates, as in
 * numpy's max and the compiler's reference. */
static inline int es_f32_ranks_above(float candidate, float best) {
  if (isnan(best)) return 0;
  if (isnan(candidate)) return 1;
  return candidate > best;
}

/* 1.5 * 2^23: adding it to a float of magnitude below 2^22 leaves that float rounded to an
 * integer (half to even, the default rounding mode) in the sum's last mantissa bits. */
#define ES_F32_ROUND_MAGIC 12582912.0f

/* v rounded half to even, for |v| < 2^22 (NaN stays NaN): the same as rintf there, in two
 * additions whatever the value, where a software rintf (FPv4 has no VRINT) branches on it. */
static inline float es_f32_round_small(float v) {
  return (v + ES_F32_ROUND_MAGIC) - ES_F32_ROUND_MAGIC;
}

/* e^x within 2 ulp of a correctly rounded expf (subnormal results within 2 of their last place),
 * infinity above 88.73, 0 below -103.98, NaN for NaN, in the same operations whatever x is (a
 * library expf branches on its argument's range, and on soft-float cores every operation's cost
 * follows its operands): x = n ln2 + r with |r| <= ln2 / 2, e^r by a degree-7 polynomial (Cephes'
 * expf coefficients), and 2^n as the product of two powers of two built from their exponent
 * bits, so that e^x in the subnormal range is rounded once. */
static inline float es_f32_exp(float x) {
  x = es_f32_clamp_selects(x, -104.0f, 89.0f); /* n in [-150, 128] below */
  const float shifted = x * 1.44269504088896341f + ES_F32_ROUND_MAGIC;
  const float n = shifted - ES_F32_ROUND_MAGIC;
  /* ln2 split in two: n * 0.693359375 (9 significant bits) is exact for |n| < 2^15 */
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  float poly = 1.9875691500e-4f;
  poly = poly * r + 1.3981999507e-3f;
  poly = poly * r + 8.3334519073e-3f;
  poly = poly * r + 4.1665795894e-2f;
  poly = poly * r + 1.6666665459e-1f;
  poly = poly * r + 5.0000001201e-1f;
  const float e_r = poly * (r * r) + r + 1.0f;
  /* n + 300 in [150, 428] from the sum's low bits (unsigned: a NaN's bits wrap harmlessly);
   * 2^n = 2^(h - 150) * 2^(n + 300 - h - 150) with h = (n + 300) / 2, both normal. */
  uint32_t bits;
  memcpy(&bits, &shifted, sizeof bits);
  const uint32_t biased = bits - 0x4B400000u + 300u;
  const uint32_t half = biased / 2u;
  const uint32_t first_bits = ((half - 23u) & 0xFFu) << 23;
  const uint32_t second_bits = ((biased - half - 23u) & 0xFFu) << 23;
  float first, second;
  memcpy(&first, &first_bits, sizeof first);
  memcpy(&second, &second_bits, sizeof second);
  return e_r * first * second;
}

/* The taps [first, end) of one window axis that land in [0, size), the window starting at
 * `origin` (negative in the leading padding). */
typedef struct {
  int32_t first;
  int32_t end;
} es_f32_tap_range_t;

static inline es_f32_tap_range_t es_f32_taps_inside(int32_t origin, int32_t kernel,
                                                    int32_t dilation, int32_t size) {
  es_f32_tap_range_t range = {0, kernel};
  while (range.first < kernel && origin + range.first * dilation < 0) ++range.first;
  while (range.end > range.first && origin + (range.end - 1) * dilation >= size) --range.end;
  return range;
}

/* Inlining a block body into each of its callers lets constant arguments (a stride of 1, a block
 * of four) fold into it, and unrolling its loops over the block keeps the block's sums in
 * registers; other compilers merely lose that. */
#if defined(__GNUC__)
#define ES_F32_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define ES_F32_ALWAYS_INLINE static inline
#endif
/* clang unrolls the constant loops by itself and warns where an unroll pragma meets a loop whose
 * count is not constant (the generic bodies); gcc needs the pragma at -O2. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define ES_F32_UNROLL _Pragma("GCC unroll 4")
#else
#define ES_F32_UNROLL
#endif

#endif /* ES_F32_INTERNAL_H */
