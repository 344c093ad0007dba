/* int8 transposed convolution (ONNX ConvTranspose, docs/int8.md "ConvTranspose"): each output
 * gathers the input elements whose windows scatter into it, then rescales as Conv does. */
#include "s8_internal.h"

/* acc = bias + sum (qx - Zx) * qw over the group's input channels and the taps that reach output
 * (n, m, oy, ox), in 64 bits. */
static int64_t gather_output(const es_conv2d_s8_params_t *p, const int8_t *input,
                             const int8_t *weights, int64_t bias, int32_t n, int32_t m,
                             int32_t oy, int32_t ox) {
  const int32_t group_in_channels = p->in_channels / p->groups;
  const int32_t group_out_channels = p->out_channels / p->groups;
  const int32_t first = m / group_out_channels * group_in_channels;
  const int32_t taps = p->kernel_h * p->kernel_w;
  int64_t acc = bias;
  for (int32_t c = first; c < first + group_in_channels; ++c) {
    const int8_t *plane = input + ((size_t)n * p->in_channels + c) * p->in_h * p->in_w;
    const int8_t *filter =
        weights + ((size_t)(m % group_out_channels) * p->in_channels + c) * taps;
    for (int32_t ky = 0; ky < p->kernel_h; ++ky) {
      const int32_t iy =
          es_transposed_source(oy, p->pad_top, ky, p->dilation_h, p->stride_h, p->in_h);
      if (iy < 0) continue;
      for (int32_t kx = 0; kx < p->kernel_w; ++kx) {
        const int32_t ix =
            es_transposed_source(ox, p->pad_left, kx, p->dilation_w, p->stride_w, p->in_w);
        if (ix >= 0)
          acc += (int32_t)(plane[iy * p->in_w + ix] - p->input_zp) * filter[ky * p->kernel_w + kx];
      }
    }
  }
  return acc;
}

void es_conv_transpose2d_s8(const es_conv2d_s8_params_t *p, const int8_t *input,
                            const int8_t *weights, const int32_t *bias,
                            const es_requant_t *requant, int8_t *output) {
  for (int32_t n = 0; n < p->batch; ++n)
    for (int32_t m = 0; m < p->out_channels; ++m) {
      const int64_t channel_bias = bias != NULL ? bias[m] : 0;
      for (int32_t oy = 0; oy < p->out_h; ++oy)
        for (int32_t ox = 0; ox < p->out_w; ++ox)
          *output++ = es_s8_requantize_output(
              gather_output(p, input, weights, channel_bias, n, m, oy, ox), requant[m],
              p->output_zp, p->act_min, p->act_max);
    }
}
