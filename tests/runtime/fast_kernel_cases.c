/* Randomised cases for the specialised int8 kernels (es_s8.h "Specialised convolutions",
 * es_conv1d_nwc_mean_s8, es_add_s8, es_global_avg_pool_s8, es_max_pool2d_fast_s8,
 * es_avg_pool2d_same_scale_s8): each
 * case runs the reference kernel (es_conv2d_s8, es_fully_connected_s8, es_binary_s8,
 * es_reduce_mean_s8, es_max_pool2d_s8; for the same-scale average pool, its definition tap by
 * tap, fk_same_scale_average) and the specialised one on the same data, weights re-arranged and
 * bias folded as the compiler does, and compares the outputs byte for byte. Shapes, strides,
 * paddings, zero points, multipliers and activation ranges are drawn within the conditions under
 * which the compiler picks the specialised kernels.
 *
 * One source for every platform: FastKernelTests.cpp includes it on the host (plain C bodies);
 * tests/qemu/test_kernels.py builds it with a main for Cortex-M boards (DSP bodies, and with
 * ES_REFERENCE_KERNELS the plain ones) and runs it under QEMU. It is C99 that is also C++. */
#include "es_s8.h"

#include <stdio.h>
#include <string.h>

static uint32_t fk_state;

static uint32_t fk_next(void) {
  fk_state ^= fk_state << 13;
  fk_state ^= fk_state >> 17;
  fk_state ^= fk_state << 5;
  return fk_state;
}

/* Uniform in [lo, hi]. */
static int32_t fk_range(int32_t lo, int32_t hi) {
  return lo + (int32_t)(fk_next() % (uint32_t)(hi - lo + 1));
}

static void fk_fill(int8_t *values, int32_t count, int32_t lo, int32_t hi) {
  for (int32_t i = 0; i < count; ++i) values[i] = (int8_t)fk_range(lo, hi);
}

/* Zero points, multipliers and the activation range of one case; the shifts keep every factor
 * below 1/2, as the compiler requires. */
static void fk_quantisation(int32_t channels, es_requant_t *per_channel, int32_t *input_zp,
                            int32_t *output_zp, int32_t *act_min, int32_t *act_max) {
  *input_zp = fk_range(-128, 127);
  *output_zp = fk_range(-128, 127);
  *act_min = fk_range(0, 3) == 0 ? fk_range(-128, 127) : -128;
  *act_max = fk_range(0, 3) == 0 ? fk_range(*act_min, 127) : 127;
  for (int32_t m = 0; m < channels; ++m) {
    per_channel[m].multiplier = (int32_t)(0x40000000u + (fk_next() & 0x3fffffffu));
    per_channel[m].shift = fk_range(0, 7) == 0 ? fk_range(-31, -1) : fk_range(-14, -4);
  }
}

/* A bias within the bound |bias| + 256 * sum |w| < 2^29, sometimes near it. */
static int32_t fk_bias(int32_t abs_weight_sum) {
  const int32_t room = (1 << 29) - 1 - 256 * abs_weight_sum;
  return fk_range(0, 3) == 0 ? fk_range(-room, room) : fk_range(-20000, 20000);
}

static int32_t fk_abs_sum(const int8_t *w, int32_t count, int32_t *sum) {
  int32_t abs_sum = 0;
  *sum = 0;
  for (int32_t i = 0; i < count; ++i) {
    *sum += w[i];
    abs_sum += w[i] < 0 ? -w[i] : w[i];
  }
  return abs_sum;
}

static int fk_compare(const char *kernel, int32_t index, const int8_t *expected,
                      const int8_t *actual, int32_t count) {
  if (memcmp(expected, actual, (size_t)count) == 0) return 0;
  for (int32_t i = 0; i < count; ++i) {
    if (expected[i] != actual[i]) {
      printf("%s case %ld: output %ld is %d, the reference gives %d\n", kernel, (long)index,
             (long)i, actual[i], expected[i]);
      break;
    }
  }
  return 1;
}

enum { FK_MAX = 4096 };
static int8_t fk_input[FK_MAX], fk_weights[FK_MAX], fk_expected[FK_MAX], fk_actual[FK_MAX];
static int32_t fk_words[FK_MAX], fk_bias_values[64], fk_folded[64];
static int32_t fk_scratch_words[FK_MAX / 4]; /* 4-byte aligned, as kernels require */
static int8_t *const fk_scratch = (int8_t *)fk_scratch_words;
static es_requant_t fk_requant[64];

/* The parameters of es_conv2d_s8, the reference, for the 1-D convolution `p` describes (any of
 * the 1-D kernels' parameter structs: they name the shape alike) as a one-row image whose
 * convolution writes `conv_output_zp`. */
#define FK_CONV1D_REFERENCE(r, p, conv_output_zp)                                                  \
  do {                                                                                             \
    memset(&(r), 0, sizeof(r));                                                                    \
    (r).batch = (p).batch;                                                                         \
    (r).in_channels = (p).in_channels;                                                             \
    (r).in_h = 1;                                                                                  \
    (r).in_w = (p).in_w;                                                                           \
    (r).out_channels = (p).out_channels;                                                           \
    (r).out_h = 1;                                                                                 \
    (r).out_w = (p).out_w;                                                                         \
    (r).kernel_h = 1;                                                                              \
    (r).kernel_w = (p).kernel_w;                                                                   \
    (r).stride_h = 1;                                                                              \
    (r).stride_w = (p).stride;                                                                     \
    (r).dilation_h = 1;                                                                            \
    (r).dilation_w = 1;                                                                            \
    (r).pad_left = (p).pad_left;                                                                   \
    (r).groups = 1;                                                                                \
    (r).input_zp = (p).input_zp;                                                                   \
    (r).output_zp = (conv_output_zp);                                                              \
    (r).act_min = (p).act_min;                                                                     \
    (r).act_max = (p).act_max;                                                                     \
  } while (0)

static int fk_conv1d_case(int32_t index) {
  es_conv1d_s8_params_t p;
  p.batch = fk_range(1, 2);
  p.in_channels = fk_range(1, 5);
  p.in_w = fk_range(1, 40);
  p.out_channels = fk_range(1, 7);
  p.kernel_w = fk_range(1, 9);
  p.stride = fk_range(1, 3);
  p.pad_left = fk_range(0, 3);
  const int32_t pad_right = fk_range(0, 3);
  if (p.in_w + p.pad_left + pad_right < p.kernel_w) p.kernel_w = p.in_w + p.pad_left + pad_right;
  p.out_w = (p.in_w + p.pad_left + pad_right - p.kernel_w) / p.stride + 1;
  fk_quantisation(p.out_channels, fk_requant, &p.input_zp, &p.output_zp, &p.act_min, &p.act_max);
  const int32_t taps = p.in_channels * p.kernel_w;
  fk_fill(fk_input, p.batch * p.in_channels * p.in_w, -128, 127);
  fk_fill(fk_weights, p.out_channels * taps, -127, 127);
  const int32_t words = ES_CONV1D_S8_WORDS(p.kernel_w), quads = p.kernel_w / 4;
  for (int32_t m = 0; m < p.out_channels; ++m) {
    int32_t sum;
    const int32_t abs_sum = fk_abs_sum(fk_weights + m * taps, taps, &sum);
    fk_bias_values[m] = fk_bias(abs_sum);
    fk_folded[m] = fk_bias_values[m] - p.input_zp * sum;
    for (int32_t c = 0; c < p.in_channels; ++c) {
      const int8_t *w = fk_weights + m * taps + c * p.kernel_w;
      int32_t *out = fk_words + (m * p.in_channels + c) * words;
      for (int32_t q = 0; q < quads; ++q) {
        out[2 * q] =
            (int32_t)(((uint32_t)(uint16_t)w[4 * q]) | ((uint32_t)(uint16_t)w[4 * q + 2] << 16));
        out[2 * q + 1] = (int32_t)(((uint32_t)(uint16_t)w[4 * q + 1]) |
                                   ((uint32_t)(uint16_t)w[4 * q + 3] << 16));
      }
      const int8_t *tail = w + 4 * quads;
      if (p.kernel_w % 4 == 3) {
        out[2 * quads] =
            (int32_t)(((uint32_t)(uint16_t)tail[0]) | ((uint32_t)(uint16_t)tail[2] << 16));
        out[2 * quads + 1] = tail[1];
      } else {
        for (int32_t t = 0; t < p.kernel_w % 4; ++t) out[2 * quads + t] = tail[t];
      }
    }
  }
  es_conv2d_s8_params_t r;
  FK_CONV1D_REFERENCE(r, p, p.output_zp);
  const int32_t count = p.batch * p.out_channels * p.out_w;
  es_conv2d_s8(&r, fk_input, fk_weights, fk_bias_values, fk_requant, fk_expected);
  /* The width's own entry point where it has one, as the compiler calls them; the others and,
   * every other case, the generic one. */
  const char *kernel = "es_conv1d_s8";
  if (p.kernel_w % 2 == 1 && p.kernel_w >= 3 && index % 2 == 0) {
    switch (p.kernel_w) {
    case 3:
      es_conv1d_k3_s8(&p, fk_input, fk_words, fk_folded, fk_requant, fk_actual);
      break;
    case 5:
      es_conv1d_k5_s8(&p, fk_input, fk_words, fk_folded, fk_requant, fk_actual);
      break;
    case 7:
      es_conv1d_k7_s8(&p, fk_input, fk_words, fk_folded, fk_requant, fk_actual);
      break;
    default:
      es_conv1d_k9_s8(&p, fk_input, fk_words, fk_folded, fk_requant, fk_actual);
      break;
    }
    kernel = "es_conv1d_kN_s8";
  } else {
    es_conv1d_s8(&p, fk_input, fk_words, fk_folded, fk_requant, fk_actual);
  }
  return fk_compare(kernel, index, fk_expected, fk_actual, count);
}

/* es_conv1d_nwc_mean_s8 against what it replaces: the NWC input transposed (in about half the
 * cases; the others give the kernel the NCW input), es_conv2d_s8 (the reference convolution,
 * clamped to the fused activation) and es_global_avg_pool_s8. */
static int fk_conv1d_nwc_mean_case(int32_t index) {
  es_conv1d_nwc_mean_s8_params_t p;
  p.batch = fk_range(1, 2);
  /* One case in three has the 3x3 entry point's shape. */
  const int three_by_three = fk_range(0, 2) == 0;
  p.in_channels = three_by_three ? 3 : fk_range(1, 5);
  p.in_w = fk_range(1, 40);
  p.out_channels = fk_range(1, 9);
  p.kernel_w = three_by_three ? 3 : fk_range(1, 5);
  p.stride = three_by_three ? 1 : fk_range(1, 3);
  p.pad_left = fk_range(0, 2);
  p.channels_last = fk_range(0, 1);
  const int32_t pad_right = fk_range(0, 2);
  if (p.in_w + p.pad_left + pad_right < p.kernel_w) p.kernel_w = p.in_w + p.pad_left + pad_right;
  p.out_w = (p.in_w + p.pad_left + pad_right - p.kernel_w) / p.stride + 1;
  fk_quantisation(p.out_channels, fk_requant, &p.input_zp, &p.conv_zp, &p.act_min, &p.act_max);
  /* A Relu fused as calibration makes it (conv_zp -128, full range) in some cases. */
  if (fk_range(0, 2) == 0) {
    p.conv_zp = -128;
    p.act_min = -128;
    p.act_max = 127;
  }
  p.output_zp = fk_range(-128, 127);
  p.pool_act_min = fk_range(0, 3) == 0 ? fk_range(-128, 127) : -128;
  p.pool_act_max = fk_range(0, 3) == 0 ? fk_range(p.pool_act_min, 127) : 127;
  p.pool_requant.multiplier = (int32_t)(0x40000000u + (fk_next() & 0x3fffffffu));
  p.pool_requant.shift = fk_range(-12, 0);
  const int32_t taps = p.in_channels * p.kernel_w, words = ES_CONV1D_NWC_MEAN_S8_WORDS(&p);
  const int32_t row = p.in_w * p.in_channels;
  fk_fill(fk_input, p.batch * row, -128, 127);
  fk_fill(fk_weights, p.out_channels * taps, -127, 127);
  for (int32_t m = 0; m < p.out_channels; ++m) {
    int32_t sum;
    const int8_t *w = fk_weights + m * taps; /* ONNX's [m][c][k] */
    const int32_t abs_sum = fk_abs_sum(w, taps, &sum);
    fk_bias_values[m] = fk_bias(abs_sum);
    fk_folded[m] = fk_bias_values[m] - p.input_zp * sum;
    int16_t window[2 * 45 + 2] = {0};
    for (int32_t c = 0; c < p.in_channels; ++c)
      for (int32_t k = 0; k < p.kernel_w; ++k)
        window[k * p.in_channels + c] = w[c * p.kernel_w + k];
    for (int32_t j = 0; j < words; ++j)
      fk_words[m * words + j] = (int32_t)(((uint32_t)(uint16_t)window[2 * j]) |
                                          ((uint32_t)(uint16_t)window[2 * j + 1] << 16));
  }
  /* The reference's NCW input, then its convolution into fk_expected's second half. */
  static int8_t ncw[FK_MAX];
  for (int32_t n = 0; n < p.batch; ++n)
    for (int32_t x = 0; x < p.in_w; ++x)
      for (int32_t c = 0; c < p.in_channels; ++c)
        ncw[n * row + c * p.in_w + x] = p.channels_last ? fk_input[n * row + x * p.in_channels + c]
                                                        : fk_input[n * row + c * p.in_w + x];
  es_conv2d_s8_params_t r;
  FK_CONV1D_REFERENCE(r, p, p.conv_zp);
  int8_t *convolved = fk_expected + FK_MAX / 2;
  es_conv2d_s8(&r, ncw, fk_weights, fk_bias_values, fk_requant, convolved);
  es_global_avg_pool_s8_params_t g;
  g.batch = p.batch;
  g.channels = p.out_channels;
  g.size = p.out_w;
  g.input_zp = p.conv_zp;
  g.output_zp = p.output_zp;
  g.requant = p.pool_requant;
  g.act_min = p.pool_act_min;
  g.act_max = p.pool_act_max;
  es_global_avg_pool_s8(&g, convolved, fk_expected);
  const char *kernel = "es_conv1d_nwc_mean_s8";
  if (p.in_channels == 3 && p.kernel_w == 3 && p.stride == 1 && index % 2 == 0) {
    es_conv1d_nwc_mean_3x3_s8(&p, fk_input, fk_words, fk_folded, fk_requant, fk_scratch, fk_actual);
    kernel = "es_conv1d_nwc_mean_3x3_s8";
  } else {
    es_conv1d_nwc_mean_s8(&p, fk_input, fk_words, fk_folded, fk_requant, fk_scratch, fk_actual);
  }
  return fk_compare(kernel, index, fk_expected, fk_actual, p.batch * p.out_channels);
}

static int fk_depthwise_case(int32_t index) {
  es_depthwise_conv3x3_s8_params_t p;
  p.batch = fk_range(1, 2);
  p.channels = fk_range(1, 6);
  p.in_h = fk_range(1, 9);
  p.in_w = fk_range(1, 12);
  p.pad_top = fk_range(0, 1);
  p.pad_left = fk_range(0, 1);
  /* The end pads make room for at least one window. */
  const int32_t pad_bottom = p.in_h + p.pad_top < 3 ? 3 - p.in_h - p.pad_top : fk_range(0, 1);
  const int32_t pad_right = p.in_w + p.pad_left < 3 ? 3 - p.in_w - p.pad_left : fk_range(0, 1);
  if (pad_bottom > 1 || pad_right > 1) return 0; /* a window larger than input and pads */
  p.out_h = p.in_h + p.pad_top + pad_bottom - 2;
  p.out_w = p.in_w + p.pad_left + pad_right - 2;
  fk_quantisation(p.channels, fk_requant, &p.input_zp, &p.output_zp, &p.act_min, &p.act_max);
  fk_fill(fk_input, p.batch * p.channels * p.in_h * p.in_w, -128, 127);
  fk_fill(fk_weights, p.channels * 9, -127, 127);
  for (int32_t c = 0; c < p.channels; ++c) {
    const int8_t *w = fk_weights + c * 9;
    int32_t sum;
    fk_bias_values[c] = fk_bias(fk_abs_sum(w, 9, &sum));
    fk_folded[c] = fk_bias_values[c] - p.input_zp * sum;
    for (int32_t ky = 0; ky < 3; ++ky) {
      fk_words[c * 6 + 2 * ky] =
          (int32_t)(((uint32_t)(uint16_t)w[3 * ky]) | ((uint32_t)(uint16_t)w[3 * ky + 2] << 16));
      fk_words[c * 6 + 2 * ky + 1] = w[3 * ky + 1];
    }
  }
  es_conv2d_s8_params_t r;
  r.batch = p.batch;
  r.in_channels = p.channels;
  r.in_h = p.in_h;
  r.in_w = p.in_w;
  r.out_channels = p.channels;
  r.out_h = p.out_h;
  r.out_w = p.out_w;
  r.kernel_h = 3;
  r.kernel_w = 3;
  r.stride_h = 1;
  r.stride_w = 1;
  r.dilation_h = 1;
  r.dilation_w = 1;
  r.pad_top = p.pad_top;
  r.pad_left = p.pad_left;
  r.groups = p.channels;
  r.input_zp = p.input_zp;
  r.output_zp = p.output_zp;
  r.act_min = p.act_min;
  r.act_max = p.act_max;
  const int32_t count = p.batch * p.channels * p.out_h * p.out_w;
  es_conv2d_s8(&r, fk_input, fk_weights, fk_bias_values, fk_requant, fk_expected);
  es_depthwise_conv3x3_s8(&p, fk_input, fk_words, fk_folded, fk_requant, fk_actual);
  return fk_compare("es_depthwise_conv3x3_s8", index, fk_expected, fk_actual, count);
}

static int fk_conv2d_gemm_case(int32_t index) {
  es_conv2d_s8_params_t p;
  p.batch = fk_range(1, 2);
  p.in_channels = fk_range(1, 6);
  p.in_h = fk_range(1, 9);
  p.in_w = fk_range(1, 9);
  p.out_channels = fk_range(1, 7);
  p.kernel_h = fk_range(1, 4);
  p.kernel_w = fk_range(1, 4);
  p.stride_h = fk_range(1, 3);
  p.stride_w = fk_range(1, 3);
  p.dilation_h = fk_range(0, 3) == 0 ? 2 : 1;
  p.dilation_w = fk_range(0, 3) == 0 ? 2 : 1;
  p.pad_top = fk_range(0, 2);
  p.pad_left = fk_range(0, 2);
  p.groups = 1;
  const int32_t pad_bottom = fk_range(0, 2), pad_right = fk_range(0, 2);
  const int32_t span_h = (p.kernel_h - 1) * p.dilation_h + 1;
  const int32_t span_w = (p.kernel_w - 1) * p.dilation_w + 1;
  if (p.in_h + p.pad_top + pad_bottom < span_h || p.in_w + p.pad_left + pad_right < span_w)
    return 0; /* no window fits */
  p.out_h = (p.in_h + p.pad_top + pad_bottom - span_h) / p.stride_h + 1;
  p.out_w = (p.in_w + p.pad_left + pad_right - span_w) / p.stride_w + 1;
  fk_quantisation(p.out_channels, fk_requant, &p.input_zp, &p.output_zp, &p.act_min, &p.act_max);
  const int32_t taps = p.in_channels * p.kernel_h * p.kernel_w, row = ES_CONV2D_GEMM_S8_ROW(&p);
  if (ES_CONV2D_GEMM_S8_WEIGHT_BYTES(&p) > FK_MAX || ES_CONV2D_GEMM_S8_SCRATCH_BYTES(&p) > FK_MAX)
    return 0;
  fk_fill(fk_input, p.batch * p.in_channels * p.in_h * p.in_w, -128, 127);
  fk_fill(fk_weights, p.out_channels * taps, -127, 127);
  /* Channel pairs interleaved byte by byte; an odd last channel's partner is zeros. */
  int8_t *rows = (int8_t *)fk_words;
  memset(rows, 0, (size_t)ES_CONV2D_GEMM_S8_WEIGHT_BYTES(&p));
  for (int32_t m = 0; m < p.out_channels; ++m) {
    int32_t sum;
    fk_bias_values[m] = fk_bias(fk_abs_sum(fk_weights + m * taps, taps, &sum));
    fk_folded[m] = fk_bias_values[m] - p.input_zp * sum;
    for (int32_t k = 0; k < taps; ++k)
      rows[m / 2 * 2 * row + 2 * k + m % 2] = fk_weights[m * taps + k];
  }
  /* Scratch contents are undefined on entry: start from garbage. */
  fk_fill(fk_scratch, FK_MAX, -128, 127);
  const int32_t count = p.batch * p.out_channels * p.out_h * p.out_w;
  es_conv2d_s8(&p, fk_input, fk_weights, fk_bias_values, fk_requant, fk_expected);
  es_conv2d_gemm_s8(&p, fk_input, rows, fk_folded, fk_requant, fk_scratch, fk_actual);
  return fk_compare("es_conv2d_gemm_s8", index, fk_expected, fk_actual, count);
}

static int fk_fully_connected_case(int32_t index) {
  es_fully_connected_s8_params_t p;
  p.batch = fk_range(1, 3);
  /* Often one to three inputs (the rows the DSP body takes with the first input in a register)
   * and sometimes tens of outputs (several four-row passes, then the remaining rows). */
  p.in_features = fk_range(0, 3) == 0 ? fk_range(1, 3) : fk_range(1, 70);
  p.out_features = fk_range(0, 3) == 0 ? fk_range(10, 40) : fk_range(1, 9);
  fk_quantisation(p.out_features, fk_requant, &p.input_zp, &p.output_zp, &p.act_min,
                  &p.act_max);
  fk_fill(fk_input, p.batch * p.in_features, -128, 127);
  fk_fill(fk_weights, p.out_features * p.in_features, -127, 127);
  for (int32_t m = 0; m < p.out_features; ++m) {
    int32_t sum;
    fk_bias_values[m] = fk_bias(fk_abs_sum(fk_weights + m * p.in_features, p.in_features, &sum));
    fk_folded[m] = fk_bias_values[m] - p.input_zp * sum;
    /* Sometimes a factor that underflowed, as the compiler passes it: (0, -1), the bias dropped. */
    if (fk_range(0, 15) == 0) {
      fk_requant[m].multiplier = 0;
      fk_requant[m].shift = -1;
      fk_folded[m] = -p.input_zp * sum;
    }
  }
  const int32_t count = p.batch * p.out_features;
  es_fully_connected_s8(&p, fk_input, fk_weights, fk_bias_values, fk_requant, fk_expected);
  es_fully_connected_folded_s8(&p, fk_input, fk_weights, fk_folded, fk_requant, fk_actual);
  return fk_compare("es_fully_connected_folded_s8", index, fk_expected, fk_actual, count);
}

/* A factor at most 1/2 (shift <= 0), often exactly 1/2 as the larger operand's is, sometimes
 * one that underflowed to (0, 0). */
static es_requant_t fk_add_operand_factor(void) {
  es_requant_t m;
  if (fk_range(0, 15) == 0) {
    m.multiplier = 0;
    m.shift = 0;
  } else if (fk_range(0, 2) == 0) {
    m.multiplier = 0x40000000;
    m.shift = 0;
  } else {
    m.multiplier = (int32_t)(0x40000000u + (fk_next() & 0x3fffffffu));
    m.shift = fk_range(-12, -1);
  }
  return m;
}

/* es_add_s8 in each layout against es_binary_s8 with the shapes broadcast spelled out. */
static int fk_add_case(int32_t index) {
  es_add_s8_params_t p;
  p.outer = fk_range(1, 3);
  p.channels = fk_range(1, 9);
  p.inner = fk_range(1, 40);
  p.b_layout = (es_add_s8_layout_t)fk_range(0, 2);
  p.subtract = fk_range(0, 1);
  fk_quantisation(0, fk_requant, &p.a_zp, &p.output_zp, &p.act_min, &p.act_max);
  p.b_zp = fk_range(-128, 127);
  p.a_requant = fk_add_operand_factor();
  p.b_requant = fk_add_operand_factor();
  p.output_requant.multiplier = (int32_t)(0x40000000u + (fk_next() & 0x3fffffffu));
  p.output_requant.shift = fk_range(-14, 1);
  const int32_t count = p.outer * p.channels * p.inner;
  const int32_t b_count = p.b_layout == ES_ADD_S8_SAME     ? count
                          : p.b_layout == ES_ADD_S8_SCALAR ? 1
                                                           : p.channels;
  fk_fill(fk_input, count, -128, 127);
  fk_fill(fk_weights, b_count, -128, 127);

  es_binary_s8_params_t r;
  r.op = p.subtract ? ES_S8_SUB : ES_S8_ADD;
  const int32_t shape[ES_MAX_RANK] = {p.outer, p.channels, p.inner, 1};
  for (int32_t k = 0; k < ES_MAX_RANK; ++k) {
    r.a_shape[k] = r.out_shape[k] = shape[k];
    r.b_shape[k] = p.b_layout == ES_ADD_S8_SAME ? shape[k] : 1;
  }
  if (p.b_layout == ES_ADD_S8_PER_CHANNEL) r.b_shape[1] = p.channels;
  r.a_zp = p.a_zp;
  r.b_zp = p.b_zp;
  r.output_zp = p.output_zp;
  r.a_requant = p.a_requant;
  r.b_requant = p.b_requant;
  r.output_requant = p.output_requant;
  r.act_min = p.act_min;
  r.act_max = p.act_max;
  es_binary_s8(&r, fk_input, fk_weights, fk_expected);
  es_add_s8(&p, fk_input, fk_weights, fk_actual);
  return fk_compare("es_add_s8", index, fk_expected, fk_actual, count);
}

/* es_global_avg_pool_s8 against es_reduce_mean_s8 over the same planes. */
static int fk_global_avg_pool_case(int32_t index) {
  es_global_avg_pool_s8_params_t p;
  p.batch = fk_range(1, 2);
  p.channels = fk_range(1, 9);
  p.size = fk_range(1, FK_MAX / 18);
  fk_quantisation(0, fk_requant, &p.input_zp, &p.output_zp, &p.act_min, &p.act_max);
  p.requant.multiplier = (int32_t)(0x40000000u + (fk_next() & 0x3fffffffu));
  p.requant.shift = fk_range(-16, 1);
  const int32_t count = p.batch * p.channels;
  fk_fill(fk_input, count * p.size, -128, 127);
  es_reduce_mean_s8_params_t r;
  r.outer = count;
  r.reduce = p.size;
  r.inner = 1;
  r.input_zp = p.input_zp;
  r.output_zp = p.output_zp;
  r.requant = p.requant;
  r.act_min = p.act_min;
  r.act_max = p.act_max;
  es_reduce_mean_s8(&r, fk_input, fk_expected);
  /* From an odd address too: the DSP body loads four bytes at any alignment. */
  int8_t *const input = fk_input + 1;
  memmove(input, fk_input, (size_t)(count * p.size));
  es_global_avg_pool_s8(&p, input, fk_actual);
  return fk_compare("es_global_avg_pool_s8", index, fk_expected, fk_actual, count);
}

/* One axis of a pool window: padding within the dilated window, so that every window reaches
 * an input element (as the compiler guarantees). */
static void fk_pool_axis(int32_t *in, int32_t *out, int32_t *kernel, int32_t *stride,
                         int32_t *dilation, int32_t *pad_begin, int32_t *pad_end) {
  *kernel = fk_range(1, 3);
  *dilation = fk_range(0, 3) == 0 ? 2 : 1;
  *stride = fk_range(1, 3);
  *pad_begin = fk_range(0, (*kernel - 1) * *dilation);
  *pad_end = fk_range(0, (*kernel - 1) * *dilation);
  *in = fk_range(1, 14);
  const int32_t span = *in + *pad_begin + *pad_end - (*kernel - 1) * *dilation;
  if (span < 1) *pad_end += 1 - span;
  *out = (*in + *pad_begin + *pad_end - (*kernel - 1) * *dilation - 1) / *stride + 1;
}

/* es_max_pool2d_fast_s8 against es_max_pool2d_s8. */
static int fk_max_pool_case(int32_t index) {
  es_pool2d_s8_params_t p;
  memset(&p, 0, sizeof p);
  p.batch = fk_range(1, 2);
  p.channels = fk_range(1, 6);
  fk_pool_axis(&p.in_h, &p.out_h, &p.kernel_h, &p.stride_h, &p.dilation_h, &p.pad_top,
               &p.pad_bottom);
  fk_pool_axis(&p.in_w, &p.out_w, &p.kernel_w, &p.stride_w, &p.dilation_w, &p.pad_left,
               &p.pad_right);
  if (index % 4 == 1) {
    /* Two taps at stride 2 along a row, as after a 1-D convolution: the DSP body takes two
     * windows a word. */
    p.in_h = p.out_h = p.kernel_h = p.stride_h = p.dilation_h = 1;
    p.pad_top = p.pad_bottom = 0;
    p.kernel_w = p.stride_w = 2;
    p.dilation_w = 1;
    p.pad_left = fk_range(0, 1);
    p.pad_right = fk_range(0, 1);
    p.in_w = fk_range(1, 40);
    if (p.in_w + p.pad_left + p.pad_right < 2) p.pad_right = 1;
    p.out_w = (p.in_w + p.pad_left + p.pad_right - 2) / 2 + 1;
  }
  fk_quantisation(0, fk_requant, &p.input_zp, &p.output_zp, &p.act_min, &p.act_max);
  p.output_zp = p.input_zp;
  const int32_t planes = p.batch * p.channels;
  fk_fill(fk_input, planes * p.in_h * p.in_w, -128, 127);
  const int32_t count = planes * p.out_h * p.out_w;
  es_max_pool2d_s8(&p, fk_input, fk_expected);
  es_max_pool2d_fast_s8(&p, fk_input, fk_actual);
  return fk_compare("es_max_pool2d_fast_s8", index, fk_expected, fk_actual, count);
}

/* The output of es_avg_pool2d_same_scale_s8 as es_s8.h defines it, tap by tap: TFLite's rounded
 * division of the window's sum by its counted elements (count_include_pad: padded taps read Zx);
 * FK_NO_AVERAGE for a window with none (dilated taps all over the padding, which no model has). */
enum { FK_NO_AVERAGE = 1000 };
static int32_t fk_same_scale_average(const es_pool2d_s8_params_t *p, const int8_t *plane,
                                     int32_t oy, int32_t ox) {
  int32_t sum = 0, count = 0;
  for (int32_t ky = 0; ky < p->kernel_h; ++ky) {
    for (int32_t kx = 0; kx < p->kernel_w; ++kx) {
      const int32_t y = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
      const int32_t x = ox * p->stride_w - p->pad_left + kx * p->dilation_w;
      const int inside = y >= 0 && y < p->in_h && x >= 0 && x < p->in_w;
      const int padded = y >= -p->pad_top && y < p->in_h + p->pad_bottom && x >= -p->pad_left &&
                         x < p->in_w + p->pad_right;
      if (inside) {
        sum += plane[y * p->in_w + x];
        ++count;
      } else if (padded && p->count_include_pad) {
        sum += p->input_zp;
        ++count;
      }
    }
  }
  if (count == 0) return FK_NO_AVERAGE;
  int32_t average = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
  average = average < p->act_min ? p->act_min : average;
  return average > p->act_max ? p->act_max : average;
}

/* es_avg_pool2d_same_scale_s8 against the tap-by-tap definition above: windows of the pool axes
 * above, and windows as large as the input (MobileNet's and DS-CNN's last pool), rows of
 * which follow each other. */
static int fk_same_scale_avg_pool_case(int32_t index) {
  es_pool2d_s8_params_t p;
  memset(&p, 0, sizeof p);
  p.batch = fk_range(1, 2);
  p.channels = fk_range(1, 6);
  if (fk_range(0, 2) == 0) {
    p.in_h = p.kernel_h = fk_range(1, 25);
    p.in_w = p.kernel_w = fk_range(1, 12);
    p.out_h = p.out_w = p.stride_h = p.stride_w = p.dilation_h = p.dilation_w = 1;
  } else {
    fk_pool_axis(&p.in_h, &p.out_h, &p.kernel_h, &p.stride_h, &p.dilation_h, &p.pad_top,
                 &p.pad_bottom);
    fk_pool_axis(&p.in_w, &p.out_w, &p.kernel_w, &p.stride_w, &p.dilation_w, &p.pad_left,
                 &p.pad_right);
  }
  p.count_include_pad = fk_range(0, 1);
  fk_quantisation(0, fk_requant, &p.input_zp, &p.output_zp, &p.act_min, &p.act_max);
  p.output_zp = p.input_zp;
  const int32_t planes = p.batch * p.channels, plane_size = p.in_h * p.in_w;
  if (planes * plane_size > FK_MAX) return 0;
  fk_fill(fk_input, planes * plane_size, -128, 127);
  int8_t *expected = fk_expected;
  for (int32_t plane = 0; plane < planes; ++plane)
    for (int32_t oy = 0; oy < p.out_h; ++oy)
      for (int32_t ox = 0; ox < p.out_w; ++ox) {
        const int32_t average = fk_same_scale_average(&p, fk_input + plane * plane_size, oy, ox);
        if (average == FK_NO_AVERAGE) return 0;
        *expected++ = (int8_t)average;
      }
  es_avg_pool2d_same_scale_s8(&p, fk_input, fk_actual);
  return fk_compare("es_avg_pool2d_same_scale_s8", index, fk_expected, fk_actual,
                    planes * p.out_h * p.out_w);
}

/* Runs `cases` cases of every specialised kernel from `seed`; returns how many differ. */
static int fk_run_cases(uint32_t seed, int32_t cases) {
  int failures = 0;
  fk_state = seed != 0 ? seed : 1;
  for (int32_t i = 0; i < cases; ++i) {
    failures += fk_conv1d_case(i);
    failures += fk_conv1d_nwc_mean_case(i);
    failures += fk_depthwise_case(i);
    failures += fk_fully_connected_case(i);
    failures += fk_conv2d_gemm_case(i);
    failures += fk_add_case(i);
    failures += fk_global_avg_pool_case(i);
    failures += fk_max_pool_case(i);
    failures += fk_same_scale_avg_pool_case(i);
  }
  return failures;
}
