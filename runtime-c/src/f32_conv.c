/* Float32 convolution: a plain loop over output positions and the taps of their windows. */
#include "f32_internal.h"

#include <stddef.h>

/* One output element before bias: the dot product of the window at (out_y, out_x) over the
 * group's input channels, starting at first_in_channel, with one output channel's filter. Taps
 * in the padding are skipped. */
static float window_dot(const es_conv2d_f32_params_t *p, const float *image, const float *filter,
                        int32_t first_in_channel, int32_t out_y, int32_t out_x) {
  const int32_t group_in_channels = p->in_channels / p->groups;
  const int32_t origin_y = out_y * p->stride_h - p->pad_top;
  const int32_t origin_x = out_x * p->stride_w - p->pad_left;
  float acc = 0.0f;
  for (int32_t c = 0; c < group_in_channels; ++c) {
    const float *plane = image + (first_in_channel + c) * p->in_h * p->in_w;
    const float *kernel = filter + c * p->kernel_h * p->kernel_w;
    for (int32_t ky = 0; ky < p->kernel_h; ++ky) {
      const int32_t y = origin_y + ky * p->dilation_h;
      if (y < 0 || y >= p->in_h) continue;
      for (int32_t kx = 0; kx < p->kernel_w; ++kx) {
        const int32_t x = origin_x + kx * p->dilation_w;
        if (x < 0 || x >= p->in_w) continue;
        acc += plane[y * p->in_w + x] * kernel[ky * p->kernel_w + kx];
      }
    }
  }
  return acc;
}

void es_conv2d_f32(const es_conv2d_f32_params_t *p, const float *input, const float *weights,
                   const float *bias, float *output) {
  const int32_t group_in_channels = p->in_channels / p->groups;
  const int32_t group_out_channels = p->out_channels / p->groups;
  const int32_t filter_size = group_in_channels * p->kernel_h * p->kernel_w;
  for (int32_t n = 0; n < p->batch; ++n) {
    const float *image = input + n * p->in_channels * p->in_h * p->in_w;
    for (int32_t oc = 0; oc < p->out_channels; ++oc) {
      const int32_t first_in_channel = oc / group_out_channels * group_in_channels;
      const float *filter = weights + oc * filter_size;
      const float initial = bias != NULL ? bias[oc] : 0.0f;
      for (int32_t oy = 0; oy < p->out_h; ++oy)
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
          const float acc = initial + window_dot(p, image, filter, first_in_channel, oy, ox);
          *output++ = es_f32_clamp(acc, p->act_min, p->act_max);
        }
    }
  }
}
