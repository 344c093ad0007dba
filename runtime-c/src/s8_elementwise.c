/* Element-wise kernels: broadcasting Add/Sub/Mul (docs/int8.md "Add / Sub" and "Mul"), Max, Min
 * and PRelu, and the table lookup of every one-input function. */
#include "s8_internal.h"

/* The int32 value that output_requant rescales for one pair of elements. */
static int32_t combine(const es_binary_s8_params_t *p, int8_t qa, int8_t qb) {
  const int32_t a = qa - p->a_zp;
  const int32_t b = qb - p->b_zp;
  if (p->op == ES_S8_MUL) return a * b;
  /* |a|, |b| <= 255, so both the scaling by 2^20 and (after factors <= 1/2) the sum fit int32. */
  const int32_t scale = (int32_t)1 << ES_S8_ADD_LEFT_SHIFT;
  const int32_t a_rescaled = es_requantize(a * scale, p->a_requant);
  const int32_t b_rescaled = es_requantize(b * scale, p->b_requant);
  return p->op == ES_S8_ADD ? a_rescaled + b_rescaled : a_rescaled - b_rescaled;
}

/* qy for one pair of elements (es_binary_s8_op_t). */
static int8_t binary_output(const es_binary_s8_params_t *p, int8_t qa, int8_t qb) {
  const int32_t a = qa - p->a_zp;
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

void es_lut_s8(const int8_t table[256], const int8_t *in, int8_t *out, int32_t n) {
  for (int32_t i = 0; i < n; ++i) out[i] = table[in[i] + 128];
}
