/* Float32 transposed convolution (ONNX ConvTranspose): each output gathers the input elements
 * whose windows scatter into it, so there is no accumulation buffer and no scratch. */
#include "f32_internal.h"

#include <stddef.h>

/* y[n, m, oy, ox] before bias: the sum over the group's input channels and the taps that reach
 * the output position. */
static float gather_output(const es_conv2d_f32_params_t *p, const float *input,
                           const float *weights, int32_t n, int32_t m, int32_t oy, int32_t ox) {
  const int32_t group_in_channels = p->in_channels / p->groups;
  const int32_t group_out_channels = p->out_channels / p->groups;
  const int32_t first = m / group_out_channels * group_in_channels;
  const int32_t taps = p->kernel_h * p->kernel_w;
  float acc = 0.0f;
  for (int32_t c = first; c < first + group_in_channels; ++c) {
    const float *plane = input + ((size_t)n * p->in_channels + c) * p->in_h * p->in_w;
    const float *filter = weights + ((size_t)(m % group_out_channels) * p->in_channels + c) * taps;
    for (int32_t ky = 0; ky < p->kernel_h; ++ky) {
      const int32_t iy =
          es_transposed_source(oy, p->pad_top, ky, p->dilation_h, p->stride_h, p->in_h);
      if (iy < 0) continue;
      for (int32_t kx = 0; kx < p->kernel_w; ++kx) {
        const int32_t ix =
            es_transposed_source(ox, p->pad_left, kx, p->dilation_w, p->stride_w, p->in_w);
        if (ix >= 0) acc += plane[iy * p->in_w + ix] * filter[ky * p->kernel_w + kx];
      }
    }
  }
  return acc;
}

void es_conv_transpose2d_f32(const es_conv2d_f32_params_t *p, const float *input,
                             const float *weights, const float *bias, float *output) {
  for (int32_t n = 0; n < p->batch; ++n)
    for (int32_t m = 0; m < p->out_channels; ++m)
      for (int32_t oy = 0; oy < p->out_h; ++oy)
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
          float value = gather_output(p, input, weights, n, m, oy, ox);
          if (bias != NULL) value += bias[m];
          *output++ = es_f32_clamp(value, p->act_min, p->act_max);
        }
}
