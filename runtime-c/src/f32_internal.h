/* Helpers shared by the float32 kernels (f32_*.c); not part of the runtime's API. */
#ifndef ES_F32_INTERNAL_H
#define ES_F32_INTERNAL_H

#include "es_f32.h"
#include "es_index_internal.h"

#include <math.h>

/* Written with comparisons rather than fminf/fmaxf so that NaN passes through, as in ONNX. */
static inline float es_f32_clamp(float x, float lo, float hi) {
  return x < lo ? lo : (x > hi ? hi : x);
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
