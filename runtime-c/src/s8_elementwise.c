/* Element-wise kernels: broadcasting Add/Sub/Mul/Div (docs/int8.md "Add / Sub", "Mul" and "Div"),
 * Max, Min and PRelu, the comparisons and Where, and the table lookup of every one-input
 * function. */
#include "s8_internal.h"

/* round(a * 2^ES_S8_DIV_SHIFT / b) for b != 0 (docs/int8.md "Div"). |a|, |b| <= 255, so the
 * doubled numerator 2 |a| 2^23 + |b| < 2^32 fits uint32 and the quotient, below 255 * 2^23 + 1,
 * fits int32. The quotient is never exactly a half (b would need 2^23 as a factor), so adding
 * half the divisor before the truncating division rounds to nearest. */
static int32_t scaled_quotient(int32_t a, int32_t b) {
  const uint32_t magnitude_a = (uint32_t)(a < 0 ? -a : a);
  const uint32_t magnitude_b = (uint32_t)(b < 0 ? -b : b);
  const uint32_t quotient =
      ((magnitude_a << (ES_S8_DIV_SHIFT + 1)) + magnitude_b) / (magnitude_b << 1);
  return (a < 0) != (b < 0) ? -(int32_t)quotient : (int32_t)quotient;
}

/* The int32 value that output_requant rescales for one pair of elements. */
static int32_t combine(const es_binary_s8_params_t *p, int8_t qa, int8_t qb) {
  const int32_t a = qa - p->a_zp;
  const int32_t b = qb - p->b_zp;
  if (p->op == ES_S8_MUL) return a * b;
  if (p->op == ES_S8_DIV) return scaled_quotient(a, b);
  /* |a|, |b| <= 255, so both the scaling by 2^20 and (after factors <= 1/2) the sum fit int32. */
  const int32_t scale = (int32_t)1 << ES_S8_ADD_LEFT_SHIFT;
  const int32_t a_rescaled = es_requantize(a * scale, p->a_requant);
  const int32_t b_rescaled = es_requantize(b * scale, p->b_requant);
  return p->op == ES_S8_ADD ? a_rescaled + b_rescaled : a_rescaled - b_rescaled;
}

/* qy for one pair of elements (es_binary_s8_op_t). */
static int8_t binary_output(const es_binary_s8_params_t *p, int8_t qa, int8_t qb) {
  const int32_t a = qa - p->a_zp;
  if (p->op == ES_S8_DIV && qb == p->b_zp) {
    /* Division by zero: the real quotient's limit, +-infinity saturating by the sign of a (as
     * QuantizeLinear saturates infinities), and 0 / 0 the output's zero (docs/int8.md "Div"). */
    const int32_t limit = a > 0 ? p->act_max : (a < 0 ? p->act_min : p->output_zp);
    return (int8_t)(limit < p->act_min ? p->act_min : (limit > p->act_max ? p->act_max : limit));
  }
  switch (p->op) {
  case ES_S8_MAX:
  case ES_S8_MIN: {
    /* Each operand moves to the output's parameters as Concat's inputs do (one rounding, ties
     * to even); that and the clamp are monotonic, so comparing the results compares the reals. */
    const int8_t ya =
        es_s8_rescale_once_output(a, p->a_requant, p->output_zp, p->act_min, p->act_max);
    const int8_t yb = es_s8_rescale_once_output(qb - p->b_zp, p->b_requant, p->output_zp,
                                                p->act_min, p->act_max);
    if (p->op == ES_S8_MAX) return ya > yb ? ya : yb;
    return ya < yb ? ya : yb;
  }
  case ES_S8_PRELU:
    if (a >= 0)
      return es_s8_requantize_output(a, p->a_requant, p->output_zp, p->act_min, p->act_max);
    return es_s8_requantize_output(a * (qb - p->b_zp), p->output_requant, p->output_zp,
                                   p->act_min, p->act_max);
  default:
    return es_s8_requantize_output(combine(p, qa, qb), p->output_requant, p->output_zp,
                                   p->act_min, p->act_max);
  }
}

void es_binary_s8(const es_binary_s8_params_t *p, const int8_t *a, const int8_t *b,
                  int8_t *output) {
  int32_t a_strides[ES_MAX_RANK], b_strides[ES_MAX_RANK];
  es_broadcast_strides(p->a_shape, a_strides);
  es_broadcast_strides(p->b_shape, b_strides);
  int32_t index[ES_MAX_RANK] = {0, 0, 0, 0};
  const int32_t count = es_element_count(p->out_shape);
  for (int32_t i = 0; i < count; ++i) {
    output[i] = binary_output(p, a[es_offset(index, a_strides)], b[es_offset(index, b_strides)]);
    es_next_index(index, p->out_shape);
  }
}

/* a op b on one common integer scale (es_s8.h). */
static int8_t compare_output(es_compare_s8_op_t op, int32_t a, int32_t b) {
  switch (op) {
  case ES_S8_GREATER:
    return (int8_t)(a > b);
  case ES_S8_LESS:
    return (int8_t)(a < b);
  case ES_S8_GREATER_OR_EQUAL:
    return (int8_t)(a >= b);
  case ES_S8_LESS_OR_EQUAL:
    return (int8_t)(a <= b);
  case ES_S8_EQUAL:
    return (int8_t)(a == b);
  }
  return 0; /* not an es_compare_s8_op_t */
}

void es_compare_s8(const es_compare_s8_params_t *p, const int8_t *a, const int8_t *b,
                   const int16_t *a_grid, int8_t *output) {
  int32_t a_strides[ES_MAX_RANK], b_strides[ES_MAX_RANK];
  es_broadcast_strides(p->a_shape, a_strides);
  es_broadcast_strides(p->b_shape, b_strides);
  int32_t index[ES_MAX_RANK] = {0, 0, 0, 0};
  const int32_t count = es_element_count(p->out_shape);
  for (int32_t i = 0; i < count; ++i) {
    const int32_t qa = a[es_offset(index, a_strides)];
    const int32_t qb = b[es_offset(index, b_strides)];
    output[i] = a_grid ? compare_output(p->op, a_grid[qa + 128], 2 * (qb + 128))
                       : compare_output(p->op, qa, qb);
    es_next_index(index, p->out_shape);
  }
}

void es_where_s8(const es_where_s8_params_t *p, const int8_t *condition, const int8_t *x,
                 const int8_t *y, int8_t *output) {
  int32_t condition_strides[ES_MAX_RANK], x_strides[ES_MAX_RANK], y_strides[ES_MAX_RANK];
  int32_t index[ES_MAX_RANK] = {0, 0, 0, 0};
  es_broadcast_strides(p->condition_shape, condition_strides);
  es_broadcast_strides(p->x_shape, x_strides);
  es_broadcast_strides(p->y_shape, y_strides);
  const int32_t count = es_element_count(p->out_shape);
  for (int32_t i = 0; i < count; ++i) {
    output[i] = condition[es_offset(index, condition_strides)] != 0
                    ? es_s8_rescale_once_output(x[es_offset(index, x_strides)] - p->x_zp,
                                                p->x_requant, p->output_zp, -128, 127)
                    : es_s8_rescale_once_output(y[es_offset(index, y_strides)] - p->y_zp,
                                                p->y_requant, p->output_zp, -128, 127);
    es_next_index(index, p->out_shape);
  }
}

void es_lut_s8(const int8_t table[256], const int8_t *in, int8_t *out, int32_t n) {
  for (int32_t i = 0; i < n; ++i) out[i] = table[in[i] + 128];
}
