/* Randomised cases for the fast float32 kernels (es_f32.h): each case runs the reference kernel
 * (es_conv2d_f32, es_fully_connected_f32, es_max_pool2d_f32, es_avg_pool2d_f32, es_binary_f32)
 * and the fast one on the same data and compares the outputs bit for bit: the fast kernels sum
 * in the reference's order, so they must give the same floats, infinities included (NaN where the
 * reference gives NaN). The kernels whose cost must not follow the values are compared with the
 * library functions they replace: es_fake_quant_f32 bit for bit with the rintf formula, and
 * es_f32_exp (softmax, log-softmax) with expf within 2 ulp, over random and edge arguments.
 * Shapes, strides, dilations, paddings, groups, activation ranges and broadcasts are drawn within
 * the conditions under which the compiler picks the fast kernels; a few inputs are NaN or
 * infinite.
 *
 * One source for every platform: F32FastKernelTests.cpp includes it on the host;
 * tests/qemu/test_kernels.py builds it with a main for Cortex-M boards (FPU code) and runs it
 * under QEMU. It is C99 that is also C++. */
#include "es_f32.h"
/* es_f32_exp is internal to the runtime */
#include "../../runtime-c/src/f32_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static uint32_t ff_state;

static uint32_t ff_next(void) {
  ff_state ^= ff_state << 13;
  ff_state ^= ff_state >> 17;
  ff_state ^= ff_state << 5;
  return ff_state;
}

/* Uniform in [lo, hi]. */
static int32_t ff_range(int32_t lo, int32_t hi) {
  return lo + (int32_t)(ff_next() % (uint32_t)(hi - lo + 1));
}

/* Values in [-2, 2) with a few specials (NaN, infinities, signed zeros) when `specials`. */
static void ff_fill(float *values, int32_t count, int specials) {
  for (int32_t i = 0; i < count; ++i) {
    values[i] = (float)((int32_t)(ff_next() % 65536u) - 32768) / 16384.0f;
    if (specials && ff_range(0, 199) == 0) {
      const float special[] = {NAN, INFINITY, -INFINITY, -0.0f};
      values[i] = special[ff_range(0, 3)];
    }
  }
}

/* An activation range: none, Relu, Relu6 or a random one. */
static void ff_activation(float *act_min, float *act_max) {
  switch (ff_range(0, 3)) {
  case 0: *act_min = -INFINITY, *act_max = INFINITY; break;
  case 1: *act_min = 0.0f, *act_max = INFINITY; break;
  case 2: *act_min = 0.0f, *act_max = 6.0f; break;
  default: *act_min = -0.5f, *act_max = 0.75f; break;
  }
}

/* The same float bits, or both NaN: a NaN's sign and payload depend on the order in which the
 * compiler puts a commutative operation's operands, which C leaves to it. */
static int ff_compare(const char *kernel, int32_t index, const float *expected,
                      const float *actual, int32_t count) {
  for (int32_t i = 0; i < count; ++i) {
    const int same = memcmp(&expected[i], &actual[i], sizeof(float)) == 0 ||
                     (isnan(expected[i]) && isnan(actual[i]));
    if (!same) {
      printf("%s case %ld: output %ld of %ld is %g, the reference gives %g\n", kernel,
             (long)index, (long)i, (long)count, (double)actual[i], (double)expected[i]);
      return 1;
    }
  }
  return 0;
}

enum { FF_MAX = 6144 };
static float ff_input[FF_MAX], ff_operand[FF_MAX], ff_weights[FF_MAX], ff_bias[64];
static float ff_expected[FF_MAX], ff_actual[FF_MAX];

/* The output size of a window axis, or 0 when the drawn geometry has none. */
static int32_t ff_out_size(int32_t in, int32_t kernel, int32_t stride, int32_t dilation,
                           int32_t pad_begin, int32_t pad_end) {
  const int32_t span = in + pad_begin + pad_end - (kernel - 1) * dilation - 1;
  return span < 0 ? 0 : span / stride + 1;
}

static int ff_conv_case(int32_t index) {
  es_conv2d_f32_params_t p;
  int32_t elements;
  do {
    const int one_d = ff_range(0, 2) == 0;
    p.batch = ff_range(1, 2);
    p.groups = ff_range(0, 3) == 0 ? ff_range(2, 4) : 1;
    const int depthwise = p.groups > 1 && ff_range(0, 1) == 0;
    p.in_channels = p.groups * (depthwise ? 1 : ff_range(1, 4));
    p.out_channels = p.groups * ff_range(1, 9);
    p.kernel_h = one_d ? 1 : ff_range(1, 5);
    p.kernel_w = ff_range(1, 7);
    p.in_h = one_d ? 1 : ff_range(p.kernel_h, 12);
    p.in_w = ff_range(1, 24);
    p.stride_h = one_d ? 1 : ff_range(1, 3);
    p.stride_w = ff_range(0, 2) == 0 ? ff_range(2, 3) : 1;
    p.dilation_h = one_d || ff_range(0, 4) != 0 ? 1 : 2;
    p.dilation_w = ff_range(0, 4) != 0 ? 1 : ff_range(2, 3);
    p.pad_top = one_d ? 0 : ff_range(0, p.kernel_h - 1);
    p.pad_left = ff_range(0, p.kernel_w - 1);
    const int32_t pad_bottom = one_d ? 0 : ff_range(0, p.kernel_h - 1);
    const int32_t pad_right = ff_range(0, p.kernel_w - 1);
    p.out_h = ff_out_size(p.in_h, p.kernel_h, p.stride_h, p.dilation_h, p.pad_top, pad_bottom);
    p.out_w = ff_out_size(p.in_w, p.kernel_w, p.stride_w, p.dilation_w, p.pad_left, pad_right);
    elements = p.batch * p.out_channels * p.out_h * p.out_w;
  } while (p.out_h < 1 || p.out_w < 1 || elements > FF_MAX ||
           p.batch * p.in_channels * p.in_h * p.in_w > FF_MAX ||
           p.out_channels * (p.in_channels / p.groups) * p.kernel_h * p.kernel_w > FF_MAX);
  ff_activation(&p.act_min, &p.act_max);
  ff_fill(ff_input, p.batch * p.in_channels * p.in_h * p.in_w, 1);
  ff_fill(ff_weights, p.out_channels * (p.in_channels / p.groups) * p.kernel_h * p.kernel_w, 0);
  ff_fill(ff_bias, p.out_channels, 0);
  const float *bias = ff_range(0, 3) == 0 ? NULL : ff_bias;
  es_conv2d_f32(&p, ff_input, ff_weights, bias, ff_expected);
  /* Grouped convolutions through their own entry point, as the compiler calls them. */
  if (p.groups > 1)
    es_conv2d_grouped_blocked_f32(&p, ff_input, ff_weights, bias, ff_actual);
  else
    es_conv2d_blocked_f32(&p, ff_input, ff_weights, bias, ff_actual);
  return ff_compare("es_conv2d_blocked_f32", index, ff_expected, ff_actual, elements);
}

static int ff_fully_connected_case(int32_t index) {
  es_fully_connected_f32_params_t p;
  p.batch = ff_range(1, 3);
  p.in_features = ff_range(1, 40);
  p.out_features = ff_range(1, 40);
  ff_activation(&p.act_min, &p.act_max);
  ff_fill(ff_input, p.batch * p.in_features, 1);
  ff_fill(ff_weights, p.out_features * p.in_features, 0);
  ff_fill(ff_bias, p.out_features, 0);
  const float *bias = ff_range(0, 3) == 0 ? NULL : ff_bias;
  es_fully_connected_f32(&p, ff_input, ff_weights, bias, ff_expected);
  es_fully_connected_blocked_f32(&p, ff_input, ff_weights, bias, ff_actual);
  return ff_compare("es_fully_connected_blocked_f32", index, ff_expected, ff_actual,
                    p.batch * p.out_features);
}

/* Whether every window of the pool reaches an input element, as the compiler guarantees. */
static int ff_windows_reach_input(const es_pool2d_f32_params_t *p) {
  for (int32_t oy = 0; oy < p->out_h; ++oy)
    for (int32_t ox = 0; ox < p->out_w; ++ox) {
      int reaches = 0;
      for (int32_t ky = 0; ky < p->kernel_h; ++ky)
        for (int32_t kx = 0; kx < p->kernel_w; ++kx) {
          const int32_t y = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
          const int32_t x = ox * p->stride_w - p->pad_left + kx * p->dilation_w;
          reaches |= y >= 0 && y < p->in_h && x >= 0 && x < p->in_w;
        }
      if (!reaches) return 0;
    }
  return 1;
}

static int ff_pool_case(int32_t index) {
  es_pool2d_f32_params_t p;
  do {
    p.batch = ff_range(1, 2);
    p.channels = ff_range(1, 5);
    const int32_t square = ff_range(0, 2);
    p.kernel_h = square == 0 ? 2 : square == 1 ? 3 : ff_range(1, 4);
    p.kernel_w = square == 0 ? 2 : square == 1 ? 3 : ff_range(1, 4);
    p.in_h = ff_range(1, 14);
    p.in_w = ff_range(1, 14);
    p.stride_h = ff_range(1, 3);
    p.stride_w = ff_range(1, 3);
    p.dilation_h = ff_range(0, 4) == 0 ? 2 : 1;
    p.dilation_w = ff_range(0, 4) == 0 ? 2 : 1;
    p.pad_top = ff_range(0, p.kernel_h - 1);
    p.pad_left = ff_range(0, p.kernel_w - 1);
    p.pad_bottom = ff_range(0, p.kernel_h - 1);
    p.pad_right = ff_range(0, p.kernel_w - 1);
    p.out_h = ff_out_size(p.in_h, p.kernel_h, p.stride_h, p.dilation_h, p.pad_top, p.pad_bottom);
    p.out_w = ff_out_size(p.in_w, p.kernel_w, p.stride_w, p.dilation_w, p.pad_left, p.pad_right);
    /* ceil_mode: one more window that runs past the end padding, sometimes */
    if (p.out_h >= 1 && ff_range(0, 3) == 0) ++p.out_h;
    if (p.out_w >= 1 && ff_range(0, 3) == 0) ++p.out_w;
    p.count_include_pad = ff_range(0, 1);
  } while (p.out_h < 1 || p.out_w < 1 || !ff_windows_reach_input(&p) ||
           p.batch * p.channels * p.out_h * p.out_w > FF_MAX ||
           p.batch * p.channels * p.in_h * p.in_w > FF_MAX);
  ff_activation(&p.act_min, &p.act_max);
  ff_fill(ff_input, p.batch * p.channels * p.in_h * p.in_w, 1);
  const int32_t count = p.batch * p.channels * p.out_h * p.out_w;
  int failures = 0;
  es_max_pool2d_f32(&p, ff_input, ff_expected);
  es_max_pool2d_fast_f32(&p, ff_input, ff_actual);
  failures += ff_compare("es_max_pool2d_fast_f32", index, ff_expected, ff_actual, count);
  es_avg_pool2d_f32(&p, ff_input, ff_expected);
  es_avg_pool2d_fast_f32(&p, ff_input, ff_actual);
  failures += ff_compare("es_avg_pool2d_fast_f32", index, ff_expected, ff_actual, count);
  return failures;
}

static int ff_binary_case(int32_t index) {
  es_binary_f32_params_t p;
  int32_t count = 1;
  for (int32_t axis = 0; axis < ES_MAX_RANK; ++axis) {
    p.out_shape[axis] = ff_range(1, 6);
    p.a_shape[axis] = p.out_shape[axis];
    p.b_shape[axis] = 1;
    count *= p.out_shape[axis];
  }
  /* b: a scalar, a's shape, or one run of the output's axes */
  const int32_t first = ff_range(0, ES_MAX_RANK), last = ff_range(first, ES_MAX_RANK) - 1;
  for (int32_t axis = first; axis <= last; ++axis) p.b_shape[axis] = p.out_shape[axis];
  p.op = (es_binary_f32_op_t)ff_range(0, ES_F32_PRELU); /* every operation */
  ff_activation(&p.act_min, &p.act_max);
  ff_fill(ff_input, count, 1);
  ff_fill(ff_operand, count, 1);
  es_binary_f32(&p, ff_input, ff_operand, ff_expected);
  es_binary_fast_f32(&p, ff_input, ff_operand, ff_actual);
  return ff_compare("es_binary_fast_f32", index, ff_expected, ff_actual, count);
}

/* How many floats lie between a and b (0 when equal, both zeros alike); a huge count for a NaN
 * against a number. */
static uint32_t ff_ulps_apart(float a, float b) {
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b) ? 0u : 0xFFFFFFFFu;
  int32_t ia, ib;
  memcpy(&ia, &a, sizeof ia);
  memcpy(&ib, &b, sizeof ib);
  /* map the sign-magnitude bits onto a line that orders the floats */
  const int64_t la = ia < 0 ? -(int64_t)(ia & 0x7FFFFFFF) : (int64_t)ia;
  const int64_t lb = ib < 0 ? -(int64_t)(ib & 0x7FFFFFFF) : (int64_t)ib;
  return (uint32_t)(la > lb ? la - lb : lb - la);
}

static float ff_uniform(float lo, float hi) {
  return lo + (hi - lo) * (float)(ff_next() >> 8) / 16777216.0f;
}

/* es_f32_exp against expf at the edges of its range and at random arguments. */
static int ff_exp_cases(int32_t randoms) {
  const float edges[] = {0.0f,       -0.0f,      1e-30f,     -1e-30f,      0.5f * 0.6931472f,
                         -0.3465736f, 1.0f,      -1.0f,      -10.0f,       -87.33654f,
                         -87.3366f,  -88.0f,     -100.0f,    -103.27893f,  -103.97208f,
                         -103.9721f, -104.0f,    -105.0f,    -200.0f,      -3.4e38f,
                         88.0f,      88.72283f,  88.72284f,  89.0f,        3.4e38f,
                         INFINITY,   -INFINITY,  NAN,        -NAN};
  const int32_t edge_count = (int32_t)(sizeof edges / sizeof edges[0]);
  int failures = 0;
  for (int32_t i = 0; i < edge_count + randoms; ++i) {
    float x = i < edge_count ? edges[i] : 0.0f;
    if (i >= edge_count) {
      switch (i % 3) {
      case 0: x = ff_uniform(-110.0f, 90.0f); break;
      case 1: x = ff_uniform(-20.0f, 0.0f); break;
      default: x = ff_uniform(-104.0f, -86.0f); break; /* subnormal results */
      }
    }
    const float expected = expf(x), actual = es_f32_exp(x);
    if (ff_ulps_apart(expected, actual) > 2u) {
      printf("es_f32_exp(%.9g) is %.9g, expf gives %.9g\n", (double)x, (double)actual,
             (double)expected);
      ++failures;
    }
  }
  return failures;
}

/* es_fake_quant_f32 as it was written with rintf, the oracle for the fixed-cost rounding. */
static void ff_fake_quant_rintf(const es_fake_quant_f32_params_t *p, const float *input,
                                float *output) {
  for (int32_t i = 0; i < p->size; ++i) {
    const float q =
        es_f32_clamp(rintf(input[i] / p->scale) + (float)p->zero_point, -128.0f, 127.0f);
    output[i] = (q - (float)p->zero_point) * p->scale;
  }
}

static int ff_fake_quant_case(int32_t index) {
  es_fake_quant_f32_params_t p;
  p.size = ff_range(1, 512);
  p.zero_point = ff_range(0, 2) == 0 ? 0 : ff_range(-128, 127);
  /* a power of two (every tie exact) or any scale */
  p.scale = ff_range(0, 1) == 0 ? ldexpf(1.0f, ff_range(-12, 3)) : ff_uniform(1e-4f, 2.0f);
  for (int32_t i = 0; i < p.size; ++i) {
    switch (ff_range(0, 5)) {
    case 0: /* a tie, or next to one */
      ff_input[i] = ((float)ff_range(-300, 300) + 0.5f) * p.scale;
      if (ff_range(0, 1)) ff_input[i] = nextafterf(ff_input[i], ff_range(0, 1) ? 1e9f : -1e9f);
      break;
    case 1: ff_input[i] = ff_uniform(-1e6f, 1e6f) * p.scale; break; /* saturated */
    case 2: { /* specials and the magic number's neighbourhood */
      const float special[] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f, 3.4e38f, -3.4e38f,
                               4194303.5f, 8388608.5f, 12582912.0f, 1e-40f};
      ff_input[i] = special[ff_range(0, 10)];
      break;
    }
    default: ff_input[i] = ff_uniform(-300.0f, 300.0f) * p.scale; break;
    }
  }
  ff_fake_quant_rintf(&p, ff_input, ff_expected);
  es_fake_quant_f32(&p, ff_input, ff_actual);
  return ff_compare("es_fake_quant_f32", index, ff_expected, ff_actual, p.size);
}

/* Softmax and log-softmax against the same lines through expf. */
static int ff_softmax_case(int32_t index) {
  es_softmax_f32_params_t p;
  p.outer = ff_range(1, 3);
  p.length = ff_range(1, 40);
  p.inner = ff_range(1, 3);
  const int32_t count = p.outer * p.length * p.inner;
  const float spread = ff_range(0, 1) ? 4.0f : 60.0f;
  for (int32_t i = 0; i < count; ++i) ff_input[i] = ff_uniform(-spread, spread);
  if (ff_range(0, 9) == 0) ff_input[ff_range(0, count - 1)] = ff_range(0, 1) ? NAN : -INFINITY;
  int failures = 0;
  for (int log = 0; log <= 1; ++log) {
    for (int32_t o = 0; o < p.outer; ++o)
      for (int32_t in = 0; in < p.inner; ++in) {
        const float *x = ff_input + o * p.length * p.inner + in;
        float *y = ff_expected + o * p.length * p.inner + in;
        float largest = x[0];
        for (int32_t k = 1; k < p.length; ++k)
          if (es_f32_ranks_above(x[k * p.inner], largest)) largest = x[k * p.inner];
        float sum = 0.0f;
        for (int32_t k = 0; k < p.length; ++k) sum += expf(x[k * p.inner] - largest);
        for (int32_t k = 0; k < p.length; ++k)
          y[k * p.inner] = log ? x[k * p.inner] - largest - logf(sum)
                               : expf(x[k * p.inner] - largest) / sum;
      }
    (log ? es_log_softmax_f32 : es_softmax_f32)(&p, ff_input, ff_actual);
    for (int32_t i = 0; i < count; ++i) {
      /* a few ulp relative (softmax), or of the log of the sum (log-softmax) */
      const float e = ff_expected[i], a = ff_actual[i];
      const int near = log ? fabsf(a - e) <= 1e-5f * (1.0f + fabsf(e))
                           : ff_ulps_apart(e, a) <= 8u || fabsf(a - e) <= 1e-37f;
      const int close = a == e || (isnan(e) && isnan(a)) || near;
      if (!close) {
        printf("%s case %ld: output %ld is %.9g, through expf %.9g\n",
               log ? "es_log_softmax_f32" : "es_softmax_f32", (long)index, (long)i, (double)a,
               (double)e);
        ++failures;
        break;
      }
    }
  }
  return failures;
}

/* Runs `cases` cases of every fast float32 kernel from `seed`; returns how many differ. */
static int ff_run_cases(uint32_t seed, int32_t cases) {
  int failures = 0;
  ff_state = seed != 0 ? seed : 1;
  for (int32_t i = 0; i < cases; ++i) {
    failures += ff_conv_case(i);
    failures += ff_fully_connected_case(i);
    failures += ff_pool_case(i);
    failures += ff_binary_case(i);
    failures += ff_fake_quant_case(i);
    failures += ff_softmax_case(i);
  }
  failures += ff_exp_cases(cases * 20);
  return failures;
}
