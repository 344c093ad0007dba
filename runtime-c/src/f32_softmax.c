/* Float32 Softmax and LogSoftmax along the middle axis of [outer, length, inner]. */
#include "f32_internal.h"

#include <math.h>

/* Normalises the line of `length` elements `stride` apart that starts at input/output. */
typedef void (*line_normaliser_t)(const float *input, float *output, int32_t length,
                                  int32_t stride);

/* The position of the line's (first) largest element. */
static int32_t line_argmax(const float *input, int32_t length, int32_t stride) {
  int32_t best = 0;
  for (int32_t k = 1; k < length; ++k)
    if (es_f32_ranks_above(input[k * stride], input[best * stride])) best = k;
  return best;
}

static void softmax_line(const float *input, float *output, int32_t length, int32_t stride) {
  /* Shifting by the maximum keeps e^x from overflowing and leaves the result unchanged. */
  const float largest = input[line_argmax(input, length, stride) * stride];
  float sum = 0.0f;
  for (int32_t k = 0; k < length; ++k) {
    output[k * stride] = es_f32_exp(input[k * stride] - largest);
    sum += output[k * stride];
  }
  for (int32_t k = 0; k < length; ++k) output[k * stride] /= sum;
}

static void log_softmax_line(const float *input, float *output, int32_t length, int32_t stride) {
  const int32_t top = line_argmax(input, length, stride);
  const float largest = input[top * stride];
  /* log(sum) as log1p of the sum without the maximum's own term e^0 = 1: when the other terms
   * are tiny, 1 + rest rounds to 1 in float and the results near 0 would lose them. */
  float rest = 0.0f;
  for (int32_t k = 0; k < length; ++k)
    if (k != top) rest += es_f32_exp(input[k * stride] - largest);
  const float log_sum = log1pf(rest);
  for (int32_t k = 0; k < length; ++k) output[k * stride] = input[k * stride] - largest - log_sum;
}

static void normalise_lines(const es_softmax_f32_params_t *p, const float *input, float *output,
                            line_normaliser_t normalise) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t i = 0; i < p->inner; ++i) {
      const int32_t start = o * p->length * p->inner + i;
      normalise(input + start, output + start, p->length, p->inner);
    }
}

void es_softmax_f32(const es_softmax_f32_params_t *p, const float *input, float *output) {
  normalise_lines(p, input, output, softmax_line);
}

void es_log_softmax_f32(const es_softmax_f32_params_t *p, const float *input, float *output) {
  normalise_lines(p, input, output, log_softmax_line);
}
