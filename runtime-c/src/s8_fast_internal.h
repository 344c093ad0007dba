/* Helpers of the specialised int8 kernels (s8_conv1d.c, s8_depthwise_conv3x3.c,
 * s8_fully_connected_folded.c); not part of the runtime's API.
 *
 * Each specialised kernel has one plain C body, one ARMv7E-M DSP body (SXTB16/SMLAD) and, for
 * some, an Armv8.1-M MVE body, chosen when the runtime is compiled: __ARM_FEATURE_SIMD32 is what
 * gcc and clang define for the DSP extension (Cortex-M4/M7/M33/M55) and what guards arm_acle.h's
 * SIMD32 intrinsics, __ARM_FEATURE_MVE what they define for MVE (Cortex-M55). Defining
 * ES_REFERENCE_KERNELS forces the plain bodies, so one cross-compiled test can compare both. A
 * generated folder is thus valid everywhere; the compiler picks kernels by the target's features
 * only where one kernel suits one instruction set better than another. */
#ifndef ES_S8_FAST_INTERNAL_H
#define ES_S8_FAST_INTERNAL_H

#include "s8_internal.h"

#include <string.h>

#if defined(__ARM_FEATURE_SIMD32) && !defined(ES_REFERENCE_KERNELS)
#define ES_S8_USE_DSP 1
#include <arm_acle.h>
#else
#define ES_S8_USE_DSP 0
#endif

/* Armv8.1-M MVE (Helium) integer instructions (Cortex-M55): the kernels that have an MVE body
 * use it in place of their DSP body. gcc and clang set bit 0 of __ARM_FEATURE_MVE for them. */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(ES_REFERENCE_KERNELS)
#define ES_S8_USE_MVE 1
#include <arm_mve.h>
#else
#define ES_S8_USE_MVE 0
#endif

/* Keeps a hot loop's function apart from its caller, whose live values would otherwise crowd
 * the loop's registers (Thumb-2 has 13). */
#if defined(__GNUC__)
#define ES_S8_NOINLINE __attribute__((noinline))
#define ES_S8_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define ES_S8_NOINLINE
#define ES_S8_ALWAYS_INLINE static inline
#endif

/* A channel's rescaling factor, as the specialised kernels apply it. They are chosen only when
 * every factor is below 1/2 (shift < 0, so no saturating left shift) and every accumulator,
 * partial sums included, stays below 2^29 in magnitude: then the rounding below, done in int32
 * without its range checks, equals docs/int8.md's requantize bit for bit. */
typedef struct {
  int32_t multiplier;
  int32_t right; /* -shift, in [1, 31] */
  int32_t half;  /* 2^(right - 1) */
} es_s8_rescale_t;

static inline es_s8_rescale_t es_s8_rescale_of(es_requant_t m) {
  es_s8_rescale_t r;
  r.multiplier = m.multiplier;
  r.right = -m.shift;
  r.half = (int32_t)1 << (r.right - 1);
  return r;
}

/* The rescaling of docs/int8.md, in the build's rule (s8_rounding.h), as two steps: a high
 * multiply of p = acc * multiplier and a division by 2^right. Every specialised kernel rescales
 * through the helpers below, so that the rule lives here alone.
 * - Double rounding (TFLite's): rounding_doubling_high_mul is (p + nudge) / 2^31 truncated,
 *   which for either sign of p equals floor((p + 2^30) / 2^31); rounding_divide_by_pot rounds
 *   halves away from zero, which is floor((x + half - (x < 0)) / 2^right).
 * - Single rounding: the high multiply truncates, h = floor(p / 2^31), and the division rounds
 *   halves up, floor((h + half) / 2^right); nested floors make that floor((p + 2^(30 + right)) /
 *   2^(31 + right)), one rounding of the exact product. No sign correction: fewer instructions.
 * Both shifts are arithmetic (as in common.c). */
static inline int32_t es_s8_high_mul(int32_t acc, int32_t multiplier) {
#if ES_S8_USE_DSP
  /* floor((p + 2^30) / 2^31) is floor((2 * acc * multiplier + 2^31) / 2^32), one SMMULR, and
   * floor(p / 2^31) one SMMUL; 2 * acc fits int32 as |acc| < 2^29. ACLE has no intrinsic for
   * either. */
  int32_t high;
  if (ES_S8_SINGLE_ROUNDING)
    __asm__("smmul %0, %1, %2" : "=r"(high) : "r"(acc * 2), "r"(multiplier));
  else
    __asm__("smmulr %0, %1, %2" : "=r"(high) : "r"(acc * 2), "r"(multiplier));
  return high;
#else
  const int64_t product = (int64_t)acc * multiplier;
  if (ES_S8_SINGLE_ROUNDING) return (int32_t)(product >> 31);
  return (int32_t)((product + ((int64_t)1 << 30)) >> 31);
#endif
}

/* The division of es_s8_high_mul's result by 2^right (right >= 1, half = 2^(right - 1)). */
static inline int32_t es_s8_round_shift(int32_t high, int32_t half, int32_t right) {
  if (ES_S8_SINGLE_ROUNDING) return (high + half) >> right;
  return (high + half - (high < 0)) >> right;
}

static inline int8_t es_s8_rescale_output(int32_t acc, es_s8_rescale_t r, int32_t output_zp,
                                          int32_t act_min, int32_t act_max) {
  const int32_t high = es_s8_high_mul(acc, r.multiplier);
  int32_t y = es_s8_round_shift(high, r.half, r.right) + output_zp;
  /* Two independent selections: gcc makes them conditional moves, not branches. */
  y = y > act_min ? y : act_min;
  y = y < act_max ? y : act_max;
  return (int8_t)y;
}

/* es_s8_rescale_output's rounding of high = es_s8_high_mul(acc, multiplier), doubled, plus
 * `offset` = 2 Zy + 1: halved (an arithmetic shift right by one) it is the output before the
 * clamp. With right = -shift of the factor, floor((u + 2^(right-1)) / 2^right) =
 * floor((floor(u / 2^(right-1)) + 1) / 2), so the zero point joins the + 1 and the shift is by
 * `shift` = right - 1 (~ of the factor's shift); u = high - (high < 0) in double rounding, high
 * itself in single rounding. Fewer instructions than es_s8_rescale_output where the factor
 * changes with every output. */
static inline int32_t es_s8_doubled_output(int32_t high, int32_t shift, int32_t offset) {
  if (ES_S8_SINGLE_ROUNDING) return (high >> shift) + offset;
  return ((high + (high >> 31)) >> shift) + offset;
}

/* es_s8_doubled_output halved and saturated to int8 (on DSP cores SSAT does the halving and the
 * saturation in one instruction); the activation range is the caller's to apply when it is
 * narrower. */
static inline int32_t es_s8_rescale_saturated(int32_t acc, int32_t multiplier, int32_t shift,
                                              int32_t offset) {
  const int32_t t = es_s8_doubled_output(es_s8_high_mul(acc, multiplier), shift, offset);
#if ES_S8_USE_DSP
  return __ssat(t >> 1, 8);
#else
  const int32_t y = t >> 1;
  return y < -128 ? -128 : y > 127 ? 127 : y;
#endif
}

/* Weight words of the specialised kernels hold two int16 weights, the first in the low half:
 * SMLAD multiplies halves pairwise. */
static inline int32_t es_s8_low_half(int32_t word) { return ((word & 0xffff) ^ 0x8000) - 0x8000; }
static inline int32_t es_s8_high_half(int32_t word) {
  return (((word >> 16) & 0xffff) ^ 0x8000) - 0x8000;
}

#if ES_S8_USE_DSP
/* Four consecutive int8 at any alignment: Cortex-M LDR accepts unaligned addresses, memcpy says
 * so to C without undefined behaviour and compiles to that one LDR. */
static inline int32_t es_s8_load4(const int8_t *p) {
  int32_t word;
  memcpy(&word, p, sizeof word);
  return word;
}

/* Two int16 values (the low halves of low and high) as one SMLAD operand, low in the low half:
 * PKHBT. gcc 12's ACLE has no __pkhbt. */
static inline int32_t es_s8_pack_pair(int32_t low, int32_t high) {
  return (int32_t)(((uint32_t)low & 0xffffu) | ((uint32_t)high << 16));
}

/* Bytes 1 and 3 sign-extended to two int16 (bytes 0 and 2 are __sxtb16). gcc 12's ACLE has no
 * rotated form, hence the assembly. */
static inline int32_t es_s8_sxtb16_odd(int32_t word) {
  int32_t result;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(result) : "r"(word));
  return result;
}
#endif

#if ES_S8_USE_MVE
/* Four int32 in a vector, lane by lane: gcc 12 fills lane pairs (vcreateq_s32, VMOV Qd[2],
 * Qd[0], Rt, Rt2) in the opposite order to QEMU's model of that instruction. */
static inline int32x4_t es_s8_vector4(int32_t a0, int32_t a1, int32_t a2, int32_t a3) {
  int32x4_t v = vdupq_n_s32(a0);
  v = vsetq_lane_s32(a1, v, 1);
  v = vsetq_lane_s32(a2, v, 2);
  return vsetq_lane_s32(a3, v, 3);
}

/* es_s8_high_mul and es_s8_round_shift of four lanes, with one factor (_n: a scalar multiplier,
 * shift = -right) or one per lane. VQRDMULH is the spec's rounding doubling high multiply (it
 * saturates only for INT32_MIN squared), VQDMULH the truncating one of single rounding. VRSHL by
 * the negative shift rounds halves up, single rounding's division; double rounding subtracts 1
 * from negative values first, which rounds them away from zero. */
static inline int32x4_t es_s8_high_mul4_n(int32x4_t acc, int32_t multiplier) {
  return ES_S8_SINGLE_ROUNDING ? vqdmulhq_n_s32(acc, multiplier)
                               : vqrdmulhq_n_s32(acc, multiplier);
}
static inline int32x4_t es_s8_high_mul4(int32x4_t acc, int32x4_t multiplier) {
  return ES_S8_SINGLE_ROUNDING ? vqdmulhq_s32(acc, multiplier) : vqrdmulhq_s32(acc, multiplier);
}
static inline int32x4_t es_s8_round_shift4_n(int32x4_t high, int32_t shift) {
  if (ES_S8_SINGLE_ROUNDING) return vrshlq_n_s32(high, shift);
  return vrshlq_n_s32(vaddq_s32(high, vshrq_n_s32(high, 31)), shift);
}
static inline int32x4_t es_s8_round_shift4(int32x4_t high, int32x4_t shift) {
  if (ES_S8_SINGLE_ROUNDING) return vrshlq_s32(high, shift);
  return vrshlq_s32(vaddq_s32(high, vshrq_n_s32(high, 31)), shift);
}

/* es_s8_rescale_output of four accumulators of one channel. */
static inline int32x4_t es_s8_rescale4(int32x4_t acc, es_requant_t factor, int32_t output_zp,
                                       int32x4_t act_min, int32x4_t act_max) {
  const int32x4_t y =
      es_s8_round_shift4_n(es_s8_high_mul4_n(acc, factor.multiplier), factor.shift);
  return vminq_s32(vmaxq_s32(vaddq_n_s32(y, output_zp), act_min), act_max);
}
#endif

#endif /* ES_S8_FAST_INTERNAL_H */
