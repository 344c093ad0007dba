/* es_add_s8: Add and Sub of int8 tensors laid out so that no index arithmetic is needed
 * (es_s8.h). The arithmetic is docs/int8.md's "Add / Sub", done in int32 without
 * es_requantize's range checks: the compiler picks this kernel only when a_requant and b_requant
 * are at most 1/2 and output_requant's left shift at most 1. Then |(q - Z) * 2^20| < 2^28, each
 * rescaled operand is below 2^27 and their sum, shifted (by at most 2 in single rounding, see
 * add_rescale_of), below 2^30, so 2 * x fits int32 for es_s8_high_mul and nothing saturates.
 *
 * The loops take every parameter by value (add_plan_t): read through the params pointer, gcc
 * reloads them after each int8 store, which may alias anything. */
#include "s8_fast_internal.h"

/* requantize as docs/int8.md defines it, for factors whose pre-multiply shift is free of
 * saturation: left shift, rounding doubling high multiply, rounding division by 2^right with
 * halves away from zero (right may be 0). */
typedef struct {
  int32_t multiplier;
  int32_t left;
  int32_t right;
  int32_t half;     /* 2^(right - 1), 0 when right is 0 */
  int32_t negative; /* 1 when right > 0: negative values round down one more */
} add_rescale_t;

/* An operand's factor (at most 1/2) applied to (q - Z) * 2^20: no left shift, and right >= 1.
 * The factor 1/2 itself, (2^30, shift 0), is applied as (2^31 - 1, right 1): the high multiply
 * by 2^31 - 1 returns any |x| <= 2^30 unchanged, and x, a multiple of 2^20, halves exactly, as
 * the multiply by 2^30 halves it. A factor that underflowed, (0, shift 0), stays 0. */
typedef struct {
  int32_t multiplier;
  int32_t right;
  int32_t half; /* 2^(right - 1) */
} add_operand_rescale_t;

typedef struct {
  add_operand_rescale_t a, b;
  add_rescale_t out;
  int32_t a_zp, b_zp, output_zp, act_min, act_max;
} add_plan_t;

static add_operand_rescale_t add_operand_rescale_of(es_requant_t m) {
  add_operand_rescale_t r;
  const int32_t is_half = m.shift == 0 && m.multiplier != 0;
  r.multiplier = is_half ? INT32_MAX : m.multiplier;
  r.right = m.shift == 0 ? 1 : -m.shift;
  r.half = (int32_t)1 << (r.right - 1);
  return r;
}

/* In single rounding the division rounds, so it needs right >= 1: a factor with right 0 is
 * applied as x * 2^(left + 1) and right 1, the same value (|x| * 2^(left + 1) < 2^30). */
static add_rescale_t add_rescale_of(es_requant_t m) {
  add_rescale_t r;
  r.multiplier = m.multiplier;
  r.left = m.shift > 0 ? m.shift : 0;
  r.right = m.shift < 0 ? -m.shift : 0;
  if (ES_S8_SINGLE_ROUNDING && r.right == 0) {
    r.left += 1;
    r.right = 1;
  }
  r.half = r.right > 0 ? (int32_t)1 << (r.right - 1) : 0;
  r.negative = r.right > 0;
  return r;
}

#if !ES_S8_USE_MVE
static inline int32_t add_rescale(int32_t x, add_rescale_t r) {
  const int32_t high = es_s8_high_mul(x * ((int32_t)1 << r.left), r.multiplier);
  if (ES_S8_SINGLE_ROUNDING) return es_s8_round_shift(high, r.half, r.right);
  return (high + r.half - ((int32_t)((uint32_t)high >> 31) & r.negative)) >> r.right;
}
#endif

#define ADD_S8_SCALE ((int32_t)1 << ES_S8_ADD_LEFT_SHIFT)

/* The rescaled operand: (q - Z) * 2^20 times its factor, rounded as requantize does. */
static inline int32_t add_operand(int32_t q, int32_t zp, add_operand_rescale_t r) {
  const int32_t high = es_s8_high_mul((q - zp) * ADD_S8_SCALE, r.multiplier);
  return es_s8_round_shift(high, r.half, r.right);
}

#if ES_S8_USE_MVE
/* add_rescale of four lanes: in double rounding, VRSHL by -right rounds halves up, so negative
 * values lose 1 first where right > 0, which rounds them away from zero (es_s8_round_shift4_n
 * cannot, as right may be 0 there). */
static inline int32x4_t add_rescale4(int32x4_t x, add_rescale_t r, int32x4_t negative_mask) {
  const int32x4_t high = es_s8_high_mul4_n(vshlq_r_s32(x, r.left), r.multiplier);
  if (ES_S8_SINGLE_ROUNDING) return es_s8_round_shift4_n(high, -r.right);
  const int32x4_t negative = vandq_s32(vshrq_n_s32(high, 31), negative_mask);
  return vrshlq_n_s32(vsubq_s32(high, negative), -r.right);
}

/* add_operand of four int8 lanes, predicated. */
static inline int32x4_t add_operand4(const int8_t *q, int32_t zp, add_operand_rescale_t r,
                                     mve_pred16_t lanes) {
  const int32x4_t x =
      vshlq_n_s32(vsubq_n_s32(vldrbq_z_s32(q, lanes), zp), ES_S8_ADD_LEFT_SHIFT);
  return es_s8_round_shift4_n(es_s8_high_mul4_n(x, r.multiplier), -r.right);
}

/* count elements of a with, per element, b[i] (b_step 1) or b_term (b_step 0). */
static inline void add_loop(add_plan_t plan, const int8_t *a, const int8_t *b, int32_t b_step,
                            int32_t b_term, int32_t subtract, int8_t *out, int32_t count) {
  const int32x4_t out_negative = vdupq_n_s32(plan.out.negative);
  const int32x4_t act_min = vdupq_n_s32(plan.act_min), act_max = vdupq_n_s32(plan.act_max);
  for (int32_t i = 0; i < count; i += 4) {
    const mve_pred16_t lanes = vctp32q((uint32_t)(count - i));
    const int32x4_t a_value = add_operand4(a + i, plan.a_zp, plan.a, lanes);
    int32x4_t b_value = vdupq_n_s32(b_term);
    if (b_step) b_value = add_operand4(b + i, plan.b_zp, plan.b, lanes);
    const int32x4_t sum = subtract ? vsubq_s32(a_value, b_value) : vaddq_s32(a_value, b_value);
    int32x4_t y = vaddq_n_s32(add_rescale4(sum, plan.out, out_negative), plan.output_zp);
    y = vminq_s32(vmaxq_s32(y, act_min), act_max);
    vstrbq_p_s32(out + i, y, lanes);
  }
}
#else
static inline void add_loop(add_plan_t plan, const int8_t *a, const int8_t *b, int32_t b_step,
                            int32_t b_term, int32_t subtract, int8_t *out, int32_t count) {
  for (int32_t i = 0; i < count; ++i) {
    const int32_t a_value = add_operand(a[i], plan.a_zp, plan.a);
    const int32_t b_value = b_step ? add_operand(b[i], plan.b_zp, plan.b) : b_term;
    int32_t y = add_rescale(subtract ? a_value - b_value : a_value + b_value, plan.out) +
                plan.output_zp;
    y = y > plan.act_min ? y : plan.act_min;
    y = y < plan.act_max ? y : plan.act_max;
    out[i] = (int8_t)y;
  }
}
#endif

/* The four loops, each with its flags constant so that the compiler drops what it does not
 * need. */
ES_S8_NOINLINE static void add_same(add_plan_t plan, const int8_t *a, const int8_t *b,
                                    int8_t *out, int32_t count) {
  add_loop(plan, a, b, 1, 0, 0, out, count);
}
ES_S8_NOINLINE static void sub_same(add_plan_t plan, const int8_t *a, const int8_t *b,
                                    int8_t *out, int32_t count) {
  add_loop(plan, a, b, 1, 0, 1, out, count);
}
ES_S8_NOINLINE static void add_repeated(add_plan_t plan, const int8_t *a, int32_t b_term,
                                        int8_t *out, int32_t count) {
  add_loop(plan, a, a, 0, b_term, 0, out, count);
}

void es_add_s8(const es_add_s8_params_t *p, const int8_t *a, const int8_t *b, int8_t *output) {
  add_plan_t plan;
  plan.a = add_operand_rescale_of(p->a_requant);
  plan.b = add_operand_rescale_of(p->b_requant);
  plan.out = add_rescale_of(p->output_requant);
  plan.a_zp = p->a_zp;
  plan.b_zp = p->b_zp;
  plan.output_zp = p->output_zp;
  plan.act_min = p->act_min;
  plan.act_max = p->act_max;
  if (p->b_layout == ES_ADD_S8_SAME) {
    const int32_t count = p->outer * p->channels * p->inner;
    if (p->subtract) sub_same(plan, a, b, output, count);
    else add_same(plan, a, b, output, count);
    return;
  }
  /* b repeats: rescaled once per channel, its sign folded in. */
  for (int32_t o = 0; o < p->outer; ++o) {
    for (int32_t c = 0; c < p->channels; ++c) {
      const int8_t qb = b[p->b_layout == ES_ADD_S8_PER_CHANNEL ? c : 0];
      const int32_t b_value = add_operand(qb, p->b_zp, plan.b);
      add_repeated(plan, a, p->subtract ? -b_value : b_value, output, p->inner);
      a += p->inner;
      output += p->inner;
    }
  }
}
