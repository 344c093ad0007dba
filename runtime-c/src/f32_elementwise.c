/* Float32 element-wise kernels: broadcasting arithmetic, clip and the activation functions. */
#include "f32_internal.h"

#include <math.h>

ES_F32_ALWAYS_INLINE float apply_binary(es_binary_f32_op_t op, float a, float b) {
  switch (op) {
  case ES_F32_ADD:
    return a + b;
  case ES_F32_SUB:
    return a - b;
  case ES_F32_MUL:
    return a * b;
  case ES_F32_DIV:
    return a / b;
  case ES_F32_MAX:
    return a > b || a != a ? a : b;
  case ES_F32_MIN:
    return a < b || a != a ? a : b;
  case ES_F32_PRELU:
    return a < 0.0f ? a * b : a;
  case ES_F32_GREATER:
    return a > b ? 1.0f : 0.0f;
  case ES_F32_LESS:
    return a < b ? 1.0f : 0.0f;
  case ES_F32_GREATER_OR_EQUAL:
    return a >= b ? 1.0f : 0.0f;
  case ES_F32_LESS_OR_EQUAL:
    return a <= b ? 1.0f : 0.0f;
  case ES_F32_EQUAL:
    return a == b ? 1.0f : 0.0f;
  }
  return NAN; /* not an es_binary_f32_op_t */
}

void es_binary_f32(const es_binary_f32_params_t *p, const float *a, const float *b, float *output) {
  int32_t a_strides[ES_MAX_RANK];
  int32_t b_strides[ES_MAX_RANK];
  int32_t index[ES_MAX_RANK] = {0, 0, 0, 0};
  es_broadcast_strides(p->a_shape, a_strides);
  es_broadcast_strides(p->b_shape, b_strides);
  const int32_t count = es_element_count(p->out_shape);
  for (int32_t i = 0; i < count; ++i) {
    const float value =
        apply_binary(p->op, a[es_offset(index, a_strides)], b[es_offset(index, b_strides)]);
    output[i] = es_f32_clamp(value, p->act_min, p->act_max);
    es_next_index(index, p->out_shape);
  }
}

void es_where_f32(const es_where_f32_params_t *p, const float *condition, const float *x,
                  const float *y, float *output) {
  int32_t condition_strides[ES_MAX_RANK], x_strides[ES_MAX_RANK], y_strides[ES_MAX_RANK];
  int32_t index[ES_MAX_RANK] = {0, 0, 0, 0};
  es_broadcast_strides(p->condition_shape, condition_strides);
  es_broadcast_strides(p->x_shape, x_strides);
  es_broadcast_strides(p->y_shape, y_strides);
  const int32_t count = es_element_count(p->out_shape);
  for (int32_t i = 0; i < count; ++i) {
    output[i] = condition[es_offset(index, condition_strides)] != 0.0f
                    ? x[es_offset(index, x_strides)]
                    : y[es_offset(index, y_strides)];
    es_next_index(index, p->out_shape);
  }
}

void es_clip_f32(const es_clip_f32_params_t *p, const float *input, float *output) {
  for (int32_t i = 0; i < p->size; ++i) output[i] = es_f32_clamp(input[i], p->min, p->max);
}

void es_fake_quant_f32(const es_fake_quant_f32_params_t *p, const float *input, float *output) {
  /* clamp(round(v) + zp, -128, 127) - zp = round(clamp(v, -128 - zp, 127 - zp)): the bounds
   * are integers, and every sum here is of integers below 2^24, so exact. Clamping first keeps
   * |v| within 256, where es_f32_round_small rounds half to even as QuantizeLinear specifies
   * (and as rintf did), in the same instructions for every value; NaN stays NaN. */
  const float lowest = (float)(-128 - p->zero_point), highest = (float)(127 - p->zero_point);
  for (int32_t i = 0; i < p->size; ++i)
    output[i] =
        es_f32_round_small(es_f32_clamp_selects(input[i] / p->scale, lowest, highest)) * p->scale;
}

static float hard_sigmoid(float x, float alpha, float beta) {
  return es_f32_clamp(alpha * x + beta, 0.0f, 1.0f);
}

/* x rounded half to even: es_f32_round_small where it applies, rintf (the default rounding mode,
 * to nearest with ties to even) for the larger values, which are whole or halves, and NaN. */
static float round_half_even(float x) {
  return fabsf(x) < 4194304.0f ? es_f32_round_small(x) : rintf(x);
}

static float apply_unary(const es_unary_f32_params_t *p, float x) {
  switch (p->op) {
  case ES_F32_SIGMOID:
    return 1.0f / (1.0f + expf(-x)); /* expf(-x) = inf gives 0 */
  case ES_F32_TANH:
    return tanhf(x);
  case ES_F32_HARD_SIGMOID:
    return hard_sigmoid(x, p->alpha, p->beta);
  case ES_F32_HARD_SWISH:
    return x * hard_sigmoid(x, 1.0f / 6.0f, 0.5f);
  case ES_F32_LEAKY_RELU:
    return x >= 0.0f ? x : p->alpha * x;
  /* expm1f keeps e^x - 1 accurate for x near 0, where expf(x) - 1.0f cancels. */
  case ES_F32_ELU:
    return x >= 0.0f ? x : p->alpha * expm1f(x);
  case ES_F32_SELU:
    return p->beta * (x > 0.0f ? x : p->alpha * expm1f(x));
  case ES_F32_EXP:
    return expf(x);
  case ES_F32_FLOOR:
    return floorf(x);
  case ES_F32_ERF:
    return erff(x);
  case ES_F32_TRUNC:
    return x != x ? 0.0f : es_f32_clamp(truncf(x), p->alpha, p->beta);
  case ES_F32_SQRT:
    return sqrtf(x);
  case ES_F32_POW:
    /* x * x exactly as onnxruntime computes a square (LayerNorm's variance) */
    return p->alpha == 2.0f ? x * x : powf(x, p->alpha);
  case ES_F32_RECIPROCAL:
    return 1.0f / x;
  case ES_F32_SOFTPLUS:
    return (x > 0.0f ? x : 0.0f) + log1pf(expf(-fabsf(x)));
  case ES_F32_ABS:
    return fabsf(x);
  case ES_F32_NEG:
    return -x;
  case ES_F32_LOG:
    return logf(x);
  case ES_F32_CEIL:
    return ceilf(x);
  case ES_F32_ROUND:
    return round_half_even(x);
  case ES_F32_SIGN:
    return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x != x ? x : 0.0f;
  case ES_F32_SOFTSIGN: /* times the reciprocal, as onnxruntime rounds it */
    return x * (1.0f / (1.0f + fabsf(x)));
  case ES_F32_THRESHOLDED_RELU:
    return x > p->alpha ? x : 0.0f;
  case ES_F32_CELU: /* alpha * (e^(x / alpha) - 1) is positive exactly where x is */
    return x > 0.0f ? x : p->alpha * expm1f(x / p->alpha);
  case ES_F32_SHRINK:
    return x < -p->alpha ? x + p->beta : x > p->alpha ? x - p->beta : 0.0f;
  case ES_F32_SIN:
    return sinf(x);
  case ES_F32_COS:
    return cosf(x);
  }
  return NAN; /* not an es_unary_f32_op_t */
}

void es_unary_f32(const es_unary_f32_params_t *p, const float *input, float *output) {
  for (int32_t i = 0; i < p->size; ++i) output[i] = apply_unary(p, input[i]);
}

/* ---- es_binary_fast_f32: one operand of the output's shape ---------------------------------- */

/* out = clamp(a op b) with b[c] repeated as [outer, channels, inner]; `op` is a constant after
 * inlining, so each operation gets its own loops. */
ES_F32_ALWAYS_INLINE void binary_repeated(es_binary_f32_op_t op, const float *a, const float *b,
                                          int32_t outer, int32_t channels, int32_t inner,
                                          float act_min, float act_max, float *output) {
  const int act_max_binds = act_max < INFINITY;
  for (int32_t o = 0; o < outer; ++o) {
    if (inner == 1) {
      for (int32_t c = 0; c < channels; ++c)
        output[c] =
            es_f32_clamp_below(apply_binary(op, a[c], b[c]), act_min, act_max, act_max_binds);
    } else {
      for (int32_t c = 0; c < channels; ++c) {
        const float value = b[c];
        for (int32_t i = 0; i < inner; ++i)
          output[c * inner + i] = es_f32_clamp_below(apply_binary(op, a[c * inner + i], value),
                                                     act_min, act_max, act_max_binds);
      }
    }
    a += channels * inner;
    output += channels * inner;
  }
}

void es_binary_fast_f32(const es_binary_f32_params_t *p, const float *a, const float *b,
                        float *output) {
  /* b's axes of size above 1 are one run [first, last] of the output's (es_f32.h). */
  int32_t first = ES_MAX_RANK, last = -1;
  for (int32_t axis = 0; axis < ES_MAX_RANK; ++axis)
    if (p->b_shape[axis] != 1) {
      if (first == ES_MAX_RANK) first = axis;
      last = axis;
    }
  int32_t outer = 1, channels = 1, inner = 1;
  for (int32_t axis = 0; axis < ES_MAX_RANK; ++axis) {
    const int32_t size = p->out_shape[axis];
    if (axis < first)
      outer *= size;
    else if (axis <= last)
      channels *= size;
    else
      inner *= size;
  }
  if (last < 0) outer = 1, inner = es_element_count(p->out_shape); /* b is a scalar */
  switch (p->op) {
  case ES_F32_ADD:
    binary_repeated(ES_F32_ADD, a, b, outer, channels, inner, p->act_min, p->act_max, output);
    break;
  case ES_F32_SUB:
    binary_repeated(ES_F32_SUB, a, b, outer, channels, inner, p->act_min, p->act_max, output);
    break;
  case ES_F32_MUL:
    binary_repeated(ES_F32_MUL, a, b, outer, channels, inner, p->act_min, p->act_max, output);
    break;
  case ES_F32_DIV:
    binary_repeated(ES_F32_DIV, a, b, outer, channels, inner, p->act_min, p->act_max, output);
    break;
  case ES_F32_MAX:
    binary_repeated(ES_F32_MAX, a, b, outer, channels, inner, p->act_min, p->act_max, output);
    break;
  case ES_F32_MIN:
    binary_repeated(ES_F32_MIN, a, b, outer, channels, inner, p->act_min, p->act_max, output);
    break;
  case ES_F32_PRELU:
    binary_repeated(ES_F32_PRELU, a, b, outer, channels, inner, p->act_min, p->act_max, output);
    break;
  case ES_F32_GREATER:
    binary_repeated(ES_F32_GREATER, a, b, outer, channels, inner, p->act_min, p->act_max, output);
    break;
  case ES_F32_LESS:
    binary_repeated(ES_F32_LESS, a, b, outer, channels, inner, p->act_min, p->act_max, output);
    break;
  case ES_F32_GREATER_OR_EQUAL:
    binary_repeated(ES_F32_GREATER_OR_EQUAL, a, b, outer, channels, inner, p->act_min, p->act_max, output);
    break;
  case ES_F32_LESS_OR_EQUAL:
    binary_repeated(ES_F32_LESS_OR_EQUAL, a, b, outer, channels, inner, p->act_min, p->act_max, output);
    break;
  case ES_F32_EQUAL:
    binary_repeated(ES_F32_EQUAL, a, b, outer, channels, inner, p->act_min, p->act_max, output);
    break;
  }
}
