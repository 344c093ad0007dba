/* Grouped int8 convolution (docs/int8.md "Conv / depthwise conv"). */
#include "s8_internal.h"

/* acc = bias + sum (qx - Zx) * qw over the taps of output (n, m, oy, ox) that land inside the
 * input; padded taps are qx = Zx and add nothing, so they are skipped. */
static int64_t accumulate_output(const es_conv2d_s8_params_t *p, const int8_t *input,
                                 const int8_t *weights, int64_t bias, int32_t n, int32_t m,
                                 int32_t oy, int32_t ox) {
  const int32_t group_in_channels = p->in_channels / p->groups;
  const int32_t group = m / (p->out_channels / p->groups);
  const int32_t in_y0 = oy * p->stride_h - p->pad_top;
  const int32_t in_x0 = ox * p->stride_w - p->pad_left;
  int32_t ky_first, ky_end, kx_first, kx_end;
  es_s8_window_taps(in_y0, p->dilation_h, p->kernel_h, p->in_h, &ky_first, &ky_end);
  es_s8_window_taps(in_x0, p->dilation_w, p->kernel_w, p->in_w, &kx_first, &kx_end);
  int64_t acc = bias;
  for (int32_t c = 0; c < group_in_channels; ++c) {
    const int32_t in_channel = group * group_in_channels + c;
    const int8_t *plane = input + (n * p->in_channels + in_channel) * p->in_h * p->in_w;
    const int8_t *kernel = weights + (m * group_in_channels + c) * p->kernel_h * p->kernel_w;
    for (int32_t ky = ky_first; ky < ky_end; ++ky) {
      const int8_t *row = plane + (in_y0 + ky * p->dilation_h) * p->in_w;
      for (int32_t kx = kx_first; kx < kx_end; ++kx) {
        const int32_t x = row[in_x0 + kx * p->dilation_w] - p->input_zp;
        acc += x * kernel[ky * p->kernel_w + kx];
      }
    }
  }
  return acc;
}

void es_conv2d_s8(const es_conv2d_s8_params_t *p, const int8_t *input, const int8_t *weights,
                  const int32_t *bias, const es_requant_t *per_channel, int8_t *output) {
  for (int32_t n = 0; n < p->batch; ++n) {
    for (int32_t m = 0; m < p->out_channels; ++m) {
      const int64_t channel_bias = bias != NULL ? bias[m] : 0;
      for (int32_t oy = 0; oy < p->out_h; ++oy) {
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
          const int64_t acc = accumulate_output(p, input, weights, channel_bias, n, m, oy, ox);
          *output++ =
              es_s8_requantize_output(acc, per_channel[m], p->output_zp, p->act_min, p->act_max);
        }
      }
    }
  }
}
