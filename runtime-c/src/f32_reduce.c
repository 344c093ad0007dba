/* Float32 ReduceSum, ReduceMax, ReduceMin, ReduceL2, ReduceSumSquare, ReduceL1, ReduceLogSumExp
 * and ReduceProd over the middle axis of [outer, reduce, inner], and ArgMax along the middle axis
 * of [outer, length, inner]. */
#include "f32_internal.h"

void es_reduce_sum_f32(const es_reduce_mean_f32_params_t *p, const float *input, float *output) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t i = 0; i < p->inner; ++i) {
      const float *first = input + o * p->reduce * p->inner + i;
      float sum = 0.0f;
      for (int32_t r = 0; r < p->reduce; ++r) sum += first[r * p->inner];
      *output++ = es_f32_clamp(sum, p->act_min, p->act_max);
    }
}

void es_reduce_max_f32(const es_reduce_mean_f32_params_t *p, const float *input, float *output) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t i = 0; i < p->inner; ++i) {
      const float *first = input + o * p->reduce * p->inner + i;
      float largest = -INFINITY;
      for (int32_t r = 0; r < p->reduce; ++r)
        if (es_f32_ranks_above(first[r * p->inner], largest)) largest = first[r * p->inner];
      *output++ = es_f32_clamp(largest, p->act_min, p->act_max);
    }
}

/* The sum of squares of each line of p->reduce values p->inner apart; with root, its square root
 * (ReduceL2 and ReduceSumSquare differ only there). */
static void reduce_sum_of_squares(const es_reduce_mean_f32_params_t *p, const float *input,
                                  float *output, int root) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t i = 0; i < p->inner; ++i) {
      const float *first = input + o * p->reduce * p->inner + i;
      float sum = 0.0f;
      for (int32_t r = 0; r < p->reduce; ++r)
        sum = es_f32_multiply_add(sum, first[r * p->inner], first[r * p->inner]);
      *output++ = es_f32_clamp(root ? sqrtf(sum) : sum, p->act_min, p->act_max);
    }
}

void es_reduce_l2_f32(const es_reduce_mean_f32_params_t *p, const float *input, float *output) {
  reduce_sum_of_squares(p, input, output, 1);
}

void es_reduce_min_f32(const es_reduce_mean_f32_params_t *p, const float *input, float *output) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t i = 0; i < p->inner; ++i) {
      const float *first = input + o * p->reduce * p->inner + i;
      float smallest = INFINITY;
      for (int32_t r = 0; r < p->reduce; ++r) {
        const float value = first[r * p->inner];
        /* NaN ranks below every number, so that it propagates as in numpy's min. */
        if (smallest == smallest && (value != value || value < smallest)) smallest = value;
      }
      *output++ = es_f32_clamp(smallest, p->act_min, p->act_max);
    }
}

void es_reduce_sum_square_f32(const es_reduce_mean_f32_params_t *p, const float *input,
                              float *output) {
  reduce_sum_of_squares(p, input, output, 0);
}

void es_reduce_l1_f32(const es_reduce_mean_f32_params_t *p, const float *input, float *output) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t i = 0; i < p->inner; ++i) {
      const float *first = input + o * p->reduce * p->inner + i;
      float sum = 0.0f;
      for (int32_t r = 0; r < p->reduce; ++r) sum += fabsf(first[r * p->inner]);
      *output++ = es_f32_clamp(sum, p->act_min, p->act_max);
    }
}

void es_reduce_log_sum_exp_f32(const es_reduce_mean_f32_params_t *p, const float *input,
                               float *output) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t i = 0; i < p->inner; ++i) {
      const float *first = input + o * p->reduce * p->inner + i;
      /* Shifting by the maximum keeps e^x from overflowing; an infinite maximum shifts by 0. */
      float largest = -INFINITY;
      for (int32_t r = 0; r < p->reduce; ++r)
        if (es_f32_ranks_above(first[r * p->inner], largest)) largest = first[r * p->inner];
      if (isinf(largest)) largest = 0.0f;
      float sum = 0.0f;
      for (int32_t r = 0; r < p->reduce; ++r) sum += expf(first[r * p->inner] - largest);
      *output++ = es_f32_clamp(logf(sum) + largest, p->act_min, p->act_max);
    }
}

void es_reduce_prod_f32(const es_reduce_mean_f32_params_t *p, const float *input, float *output) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t i = 0; i < p->inner; ++i) {
      const float *first = input + o * p->reduce * p->inner + i;
      float product = 1.0f;
      for (int32_t r = 0; r < p->reduce; ++r) product *= first[r * p->inner];
      *output++ = es_f32_clamp(product, p->act_min, p->act_max);
    }
}

void es_argmax_f32(const es_argmax_f32_params_t *p, const float *input, float *output) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t i = 0; i < p->inner; ++i) {
      const float *line = input + o * p->length * p->inner + i;
      int32_t best = 0;
      for (int32_t k = 1; k < p->length; ++k) {
        const float candidate = line[k * p->inner], current = line[best * p->inner];
        if (p->select_last_index ? !es_f32_ranks_above(current, candidate)
                                 : es_f32_ranks_above(candidate, current))
          best = k;
      }
      *output++ = (float)best;
    }
}
