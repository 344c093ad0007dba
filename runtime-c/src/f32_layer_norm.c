/* Float32 LayerNormalization (and InstanceNormalization) over the rows of [outer, length]. */
#include "f32_internal.h"

#include <math.h>
#include <stddef.h>

void es_layer_norm_f32(const es_layer_norm_f32_params_t *p, const float *input, const float *gamma,
                       const float *beta, float *output) {
  const int32_t n = p->length;
  for (int32_t row = 0; row < p->outer; ++row) {
    const float *x = input + (size_t)row * (size_t)n;
    float *y = output + (size_t)row * (size_t)n;
    float sum = 0.0f;
    for (int32_t k = 0; k < n; ++k) sum += x[k];
    const float mean = sum / (float)n;
    /* Two passes: the squares of the distances, not the mean of squares minus the squared mean,
     * which cancels badly when the mean is large against the spread. */
    float squares = 0.0f;
    for (int32_t k = 0; k < n; ++k) squares += (x[k] - mean) * (x[k] - mean);
    const float inverse = 1.0f / sqrtf(squares / (float)n + p->epsilon);
    if (p->channels > 0) {
      const int32_t c = row % p->channels;
      const float g = gamma[c], b = beta ? beta[c] : 0.0f;
      for (int32_t k = 0; k < n; ++k) y[k] = (x[k] - mean) * inverse * g + b;
    } else {
      for (int32_t k = 0; k < n; ++k)
        y[k] = (x[k] - mean) * inverse * gamma[k] + (beta ? beta[k] : 0.0f);
    }
  }
}
