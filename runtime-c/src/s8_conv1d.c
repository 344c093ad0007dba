/* 1-D int8 convolution, specialised (es_s8.h "Specialised convolutions"). */
#include "s8_fast_internal.h"
#include "s8_mean_internal.h"

/* Where tap k of a `kernel_w`-tap window lies among one (output, input) channel pair's words
 * (es_s8.h's ES_CONV1D_S8_WORDS layout): the word, and whether it is the word's high half. */
static inline int32_t tap_word(int32_t k, int32_t kernel_w) {
  const int32_t quads = kernel_w / 4, t = k - 4 * quads;
  if (t < 0) return 2 * (k / 4) + (k & 1);
  return 2 * quads + (kernel_w % 4 == 3 ? (t & 1) : t);
}

static inline int tap_is_high(int32_t k, int32_t kernel_w) {
  const int32_t quads = kernel_w / 4, t = k - 4 * quads;
  return t < 0 ? (k & 2) != 0 : kernel_w % 4 == 3 && t == 2;
}

static inline int32_t tap_weight(const int32_t *words, int32_t k, int32_t kernel_w) {
  const int32_t word = words[tap_word(k, kernel_w)];
  return tap_is_high(k, kernel_w) ? es_s8_high_half(word) : es_s8_low_half(word);
}

/* Any window of output channel m, taps outside the row read as input_zp: the plain body's every
 * output and the DSP body's odd last output channel (inline there, see conv1d). */
ES_S8_ALWAYS_INLINE int32_t window_sum(const es_conv1d_s8_params_t *p, const int8_t *input,
                                       const int32_t *words, int32_t acc, int32_t start) {
  const int32_t step = ES_CONV1D_S8_WORDS(p->kernel_w);
  for (int32_t c = 0; c < p->in_channels; ++c, words += step) {
    const int8_t *row = input + c * p->in_w;
    for (int32_t k = 0; k < p->kernel_w; ++k) {
      const int32_t at = start + k;
      const int32_t x = at >= 0 && at < p->in_w ? row[at] : p->input_zp;
      acc += x * tap_weight(words, k, p->kernel_w);
    }
  }
  return acc;
}

/* window_sum out of line: the plain body's every output, es_conv1d_s8's border windows. */
static int32_t accumulate_window(const es_conv1d_s8_params_t *p, const int8_t *input,
                                 const int32_t *words, int32_t acc, int32_t start) {
  return window_sum(p, input, words, acc, start);
}

#if ES_S8_USE_DSP
/* x times tap k's weight, added to acc: SMLABB or SMLABT on the weight's word (x is an int8
 * value, so its low half is itself). */
static inline int32_t multiply_tap(int32_t x, const int32_t *words, int32_t k, int32_t kernel_w,
                                   int32_t acc) {
  const int32_t word = words[tap_word(k, kernel_w)];
  return tap_is_high(k, kernel_w) ? __smlabt(x, word, acc) : __smlabb(x, word, acc);
}

/* gcc -O2 unrolls a loop completely only where that makes no more code; the loops over a
 * window's taps below have a constant count in the width's own entry points. */
#if defined(__GNUC__) && !defined(__clang__)
#define ES_UNROLL_TAPS _Pragma("GCC unroll 16")
#else
#define ES_UNROLL_TAPS
#endif

/* Two output channels over a window that overlaps the padding: taps outside the row read
 * input_zp. With `kernel_w` a constant the taps unroll, and each tap's bounds check is one
 * unsigned comparison. */
static inline void accumulate_edge_pair(const es_conv1d_s8_params_t *p, const int8_t *input,
                                        const int32_t *w0, const int32_t *w1, int32_t *acc0,
                                        int32_t *acc1, const int32_t start,
                                        const int32_t kernel_w) {
  const int32_t step = ES_CONV1D_S8_WORDS(kernel_w);
  const int32_t in_channels = p->in_channels, in_w = p->in_w, input_zp = p->input_zp;
  int32_t a0 = *acc0, a1 = *acc1;
  for (int32_t c = 0; c < in_channels; ++c, w0 += step, w1 += step) {
    const int8_t *row = input + c * in_w;
    ES_UNROLL_TAPS
    for (int32_t k = 0; k < kernel_w; ++k) {
      const int32_t at = start + k;
      const int32_t x = (uint32_t)at < (uint32_t)in_w ? row[at] : input_zp;
      a0 = multiply_tap(x, w0, k, kernel_w, a0);
      a1 = multiply_tap(x, w1, k, kernel_w, a1);
    }
  }
  *acc0 = a0;
  *acc1 = a1;
}

/* The taps after the last group of four (x points at the first of them), two output channels. */
static inline void accumulate_tail_pair(const int8_t *x, const int32_t *w0, const int32_t *w1,
                                        int32_t *acc0, int32_t *acc1, const int32_t kernel_w) {
  const int32_t first = kernel_w / 4 * 4, tail = kernel_w & 3; /* kernel_w > 0 */
  int32_t a0 = *acc0, a1 = *acc1;
  ES_UNROLL_TAPS
  for (int32_t t = 0; t < tail; ++t) {
    a0 = multiply_tap(x[t], w0, first + t, kernel_w, a0);
    a1 = multiply_tap(x[t], w1, first + t, kernel_w, a1);
  }
  *acc0 = a0;
  *acc1 = a1;
}

/* Two output channels over one window inside the row: each group of four input bytes is
 * sign-extended once, into the even and the odd taps, and feeds four SMLADs. */
static inline void accumulate_inside_pair(const es_conv1d_s8_params_t *p, const int8_t *window,
                                          const int32_t *w0, const int32_t *w1, int32_t *acc0,
                                          int32_t *acc1, const int32_t kernel_w) {
  const int32_t quads = kernel_w / 4;
  const int32_t step = ES_CONV1D_S8_WORDS(kernel_w);
  const int32_t in_channels = p->in_channels, in_w = p->in_w;
  int32_t a0 = *acc0, a1 = *acc1;
  for (int32_t c = 0; c < in_channels; ++c, w0 += step, w1 += step) {
    const int8_t *x = window + c * in_w;
    for (int32_t q = 0; q < quads; ++q) {
      const int32_t word = es_s8_load4(x + 4 * q);
      const int32_t even = __sxtb16(word), odd = es_s8_sxtb16_odd(word);
      a0 = __smlad(even, w0[2 * q], a0);
      a0 = __smlad(odd, w0[2 * q + 1], a0);
      a1 = __smlad(even, w1[2 * q], a1);
      a1 = __smlad(odd, w1[2 * q + 1], a1);
    }
    accumulate_tail_pair(x + 4 * quads, w0, w1, &a0, &a1, kernel_w);
  }
  *acc0 = a0;
  *acc1 = a1;
}

/* Two output channels at two neighbouring outputs (stride 1), windows inside the row. Per group
 * of four taps the words at the window and one byte on give (b0, b2), (b1, b3) and (b2, b4): the
 * first output is (b0, b2).(w0, w2) + (b1, b3).(w1, w3), the second (b1, b3).(w0, w2) +
 * (b2, b4).(w1, w3), so three sign-extensions feed eight SMLADs. */
static inline void accumulate_inside_block(const es_conv1d_s8_params_t *p, const int8_t *window,
                                           const int32_t *w0, const int32_t *w1, int32_t acc[4],
                                           const int32_t kernel_w) {
  const int32_t quads = kernel_w / 4;
  const int32_t tail = kernel_w % 4;
  const int32_t step = ES_CONV1D_S8_WORDS(kernel_w);
  const int32_t in_channels = p->in_channels, in_w = p->in_w;
  int32_t a0 = acc[0], a1 = acc[1], b0 = acc[2], b1 = acc[3];
  for (int32_t c = 0; c < in_channels; ++c, w0 += step, w1 += step) {
    const int8_t *x = window + c * in_w;
    for (int32_t q = 0; q < quads; ++q) {
      const int32_t here = es_s8_load4(x + 4 * q), next = es_s8_load4(x + 4 * q + 1);
      const int32_t even = __sxtb16(here), odd = es_s8_sxtb16_odd(here);
      const int32_t odd_next = es_s8_sxtb16_odd(next);
      const int32_t w0_even = w0[2 * q], w0_odd = w0[2 * q + 1];
      const int32_t w1_even = w1[2 * q], w1_odd = w1[2 * q + 1];
      a0 = __smlad(even, w0_even, a0);
      a0 = __smlad(odd, w0_odd, a0);
      a1 = __smlad(even, w1_even, a1);
      a1 = __smlad(odd, w1_odd, a1);
      b0 = __smlad(odd, w0_even, b0);
      b0 = __smlad(odd_next, w0_odd, b0);
      b1 = __smlad(odd, w1_even, b1);
      b1 = __smlad(odd_next, w1_odd, b1);
    }
    const int8_t *t = x + 4 * quads;
    if (tail == 3) {
      /* Taps t0..t2 over bytes b0..b3: the first output is (b0, b2).(t0, t2) + b1 * t1, the
       * second (b1, b3).(t0, t2) + b2 * t1; (t0, t2) is one weight word. */
      const int32_t here = es_s8_load4(t);
      const int32_t even = __sxtb16(here), odd = es_s8_sxtb16_odd(here);
      const int32_t *v0 = w0 + 2 * quads, *v1 = w1 + 2 * quads;
      a0 = __smlabb(odd, v0[1], __smlad(even, v0[0], a0));
      a1 = __smlabb(odd, v1[1], __smlad(even, v1[0], a1));
      b0 = __smlatb(even, v0[1], __smlad(odd, v0[0], b0));
      b1 = __smlatb(even, v1[1], __smlad(odd, v1[0], b1));
    } else {
      accumulate_tail_pair(t, w0, w1, &a0, &a1, kernel_w);
      accumulate_tail_pair(t + 1, w0, w1, &b0, &b1, kernel_w);
    }
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = b0;
  acc[3] = b1;
}

/* Two output channels at two outputs `stride` (2 or more) apart, windows inside the row: the
 * weight words are loaded once for both outputs. */
static inline void accumulate_inside_strided_block(const es_conv1d_s8_params_t *p,
                                                   const int8_t *window, const int32_t *w0,
                                                   const int32_t *w1, int32_t acc[4],
                                                   const int32_t kernel_w) {
  const int32_t quads = kernel_w / 4;
  const int32_t step = ES_CONV1D_S8_WORDS(kernel_w);
  const int32_t in_channels = p->in_channels, in_w = p->in_w, stride = p->stride;
  int32_t a0 = acc[0], a1 = acc[1], b0 = acc[2], b1 = acc[3];
  for (int32_t c = 0; c < in_channels; ++c, w0 += step, w1 += step) {
    const int8_t *x = window + c * in_w, *y = x + stride;
    for (int32_t q = 0; q < quads; ++q) {
      const int32_t here = es_s8_load4(x + 4 * q), there = es_s8_load4(y + 4 * q);
      const int32_t even = __sxtb16(here), odd = es_s8_sxtb16_odd(here);
      const int32_t even_there = __sxtb16(there), odd_there = es_s8_sxtb16_odd(there);
      const int32_t w0_even = w0[2 * q], w0_odd = w0[2 * q + 1];
      const int32_t w1_even = w1[2 * q], w1_odd = w1[2 * q + 1];
      a0 = __smlad(even, w0_even, a0);
      a0 = __smlad(odd, w0_odd, a0);
      a1 = __smlad(even, w1_even, a1);
      a1 = __smlad(odd, w1_odd, a1);
      b0 = __smlad(even_there, w0_even, b0);
      b0 = __smlad(odd_there, w0_odd, b0);
      b1 = __smlad(even_there, w1_even, b1);
      b1 = __smlad(odd_there, w1_odd, b1);
    }
    accumulate_tail_pair(x + 4 * quads, w0, w1, &a0, &a1, kernel_w);
    accumulate_tail_pair(y + 4 * quads, w0, w1, &b0, &b1, kernel_w);
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = b0;
  acc[3] = b1;
}

/* Output x of two output channels, a window that overlaps the padding. */
ES_S8_ALWAYS_INLINE void edge_pair(const es_conv1d_s8_params_t *p, const int8_t *in,
                                   const int32_t *w0, const int32_t *w1, int32_t acc0,
                                   int32_t acc1, es_s8_rescale_t r0, es_s8_rescale_t r1,
                                   int8_t *out0, int8_t *out1, int32_t x, const int32_t kernel_w,
                                   const int unrolled) {
  const int32_t start = x * p->stride - p->pad_left;
  if (unrolled) {
    accumulate_edge_pair(p, in, w0, w1, &acc0, &acc1, start, kernel_w);
  } else {
    acc0 = accumulate_window(p, in, w0, acc0, start);
    acc1 = accumulate_window(p, in, w1, acc1, start);
  }
  out0[x] = es_s8_rescale_output(acc0, r0, p->output_zp, p->act_min, p->act_max);
  out1[x] = es_s8_rescale_output(acc1, r1, p->output_zp, p->act_min, p->act_max);
}

/* es_s8_rescale_output for an activation whose range is all of int8: one SSAT clamps. */
static inline int8_t rescale_full_range(int32_t acc, es_s8_rescale_t r, int32_t output_zp) {
  const int32_t high = es_s8_high_mul(acc, r.multiplier);
  return (int8_t)__ssat(es_s8_round_shift(high, r.half, r.right) + output_zp, 8);
}

/* A block's four outputs, (x, x + 1) of two channels. Most layers' activation ranges are all of
 * int8 (no activation, or a Relu whose output zero point is -128, as calibration makes it):
 * there SSAT clamps in place of two comparisons, the choice one branch a block. */
ES_S8_ALWAYS_INLINE void store_block(const int32_t acc[4], es_s8_rescale_t r0,
                                     es_s8_rescale_t r1, int8_t *out0, int8_t *out1, int32_t x,
                                     int32_t output_zp, int32_t act_min, int32_t act_max,
                                     int full_range) {
  if (full_range) {
    out0[x] = rescale_full_range(acc[0], r0, output_zp);
    out1[x] = rescale_full_range(acc[1], r1, output_zp);
    out0[x + 1] = rescale_full_range(acc[2], r0, output_zp);
    out1[x + 1] = rescale_full_range(acc[3], r1, output_zp);
  } else {
    out0[x] = es_s8_rescale_output(acc[0], r0, output_zp, act_min, act_max);
    out1[x] = es_s8_rescale_output(acc[1], r1, output_zp, act_min, act_max);
    out0[x + 1] = es_s8_rescale_output(acc[2], r0, output_zp, act_min, act_max);
    out1[x + 1] = es_s8_rescale_output(acc[3], r1, output_zp, act_min, act_max);
  }
}
#endif

/* The kernel for windows of `kernel_w` taps: a constant in the specialised entry points below
 * (`unrolled`), which lets the compiler unroll each channel's taps. */
ES_S8_ALWAYS_INLINE void conv1d(const es_conv1d_s8_params_t *p, const int8_t *input,
                                const int32_t *weights, const int32_t *bias_folded,
                                const es_requant_t *per_channel, int8_t *output,
                                const int32_t kernel_w, const int unrolled) {
#if !ES_S8_USE_DSP
  (void)kernel_w; /* the plain body's windows read p->kernel_w */
  (void)unrolled;
#endif
  /* A local copy, and locals, not *p: the int8 output stores could alias *p for all the
   * compiler knows, which would reload each field after every store. */
  const es_conv1d_s8_params_t params = *p;
  p = &params;
  const int32_t channel_words = p->in_channels * ES_CONV1D_S8_WORDS(p->kernel_w);
  const int32_t out_w = p->out_w, stride = p->stride, pad_left = p->pad_left;
  const int32_t output_zp = p->output_zp, act_min = p->act_min, act_max = p->act_max;
  for (int32_t n = 0; n < p->batch; ++n) {
    const int8_t *in = input + n * p->in_channels * p->in_w;
    int8_t *out = output + n * p->out_channels * p->out_w;
    int32_t m = 0;
#if ES_S8_USE_DSP
    /* Outputs [inside_first, inside_end) have their whole window inside the row. */
    const int32_t inside_first = (pad_left + stride - 1) / stride;
    int32_t inside_end =
        p->in_w + pad_left >= p->kernel_w ? (p->in_w + pad_left - p->kernel_w) / stride + 1 : 0;
    if (inside_end > out_w) inside_end = out_w;
    const int full_range = act_min == -128 && act_max == 127;
    /* Left edge [0, inside_lo), windows inside the row [inside_lo, inside_hi), right edge
     * [inside_hi, out_w); each range in its own loop, so no window checks its bounds per tap. */
    const int32_t inside_lo = inside_first < out_w ? inside_first : out_w;
    const int32_t inside_hi = inside_end > inside_lo ? inside_end : inside_lo;
    for (; m + 1 < p->out_channels; m += 2) {
      const int32_t *w0 = weights + m * channel_words, *w1 = w0 + channel_words;
      const es_s8_rescale_t r0 = es_s8_rescale_of(per_channel[m]);
      const es_s8_rescale_t r1 = es_s8_rescale_of(per_channel[m + 1]);
      const int32_t bias0 = bias_folded[m], bias1 = bias_folded[m + 1];
      int8_t *out0 = out + m * out_w, *out1 = out0 + out_w;
      int32_t x = 0;
      for (; x < inside_lo; ++x)
        edge_pair(p, in, w0, w1, bias0, bias1, r0, r1, out0, out1, x, kernel_w, unrolled);
      if (stride == 1) {
        for (; x + 1 < inside_hi; x += 2) {
          int32_t acc[4] = {bias0, bias1, bias0, bias1};
          accumulate_inside_block(p, in + x - pad_left, w0, w1, acc, kernel_w);
          store_block(acc, r0, r1, out0, out1, x, output_zp, act_min, act_max, full_range);
        }
      } else {
        for (; x + 1 < inside_hi; x += 2) {
          int32_t acc[4] = {bias0, bias1, bias0, bias1};
          accumulate_inside_strided_block(p, in + x * stride - pad_left, w0, w1, acc, kernel_w);
          store_block(acc, r0, r1, out0, out1, x, output_zp, act_min, act_max, full_range);
        }
      }
      if (x < inside_hi) {
        int32_t acc0 = bias0, acc1 = bias1;
        accumulate_inside_pair(p, in + x * stride - pad_left, w0, w1, &acc0, &acc1, kernel_w);
        out0[x] = es_s8_rescale_output(acc0, r0, output_zp, act_min, act_max);
        out1[x] = es_s8_rescale_output(acc1, r1, output_zp, act_min, act_max);
        ++x;
      }
      for (; x < out_w; ++x)
        edge_pair(p, in, w0, w1, bias0, bias1, r0, r1, out0, out1, x, kernel_w, unrolled);
    }
#endif
    for (; m < p->out_channels; ++m) {
      const int32_t *w = weights + m * channel_words;
      const es_s8_rescale_t r = es_s8_rescale_of(per_channel[m]);
      for (int32_t x = 0; x < out_w; ++x) {
        /* The DSP entry points of one window length take their odd last channel inline: a
         * layer whose channels pair up then reserves no stack for a call it never makes (the
         * report's stack figure counts every call: 88 B more than the M4 painted otherwise). */
        const int32_t start = x * stride - pad_left;
        const int32_t acc = ES_S8_USE_DSP && unrolled
                                ? window_sum(p, in, w, bias_folded[m], start)
                                : accumulate_window(p, in, w, bias_folded[m], start);
        out[m * out_w + x] = es_s8_rescale_output(acc, r, output_zp, act_min, act_max);
      }
    }
  }
}

void es_conv1d_s8(const es_conv1d_s8_params_t *p, const int8_t *input, const int32_t *weights,
                  const int32_t *bias_folded, const es_requant_t *per_channel, int8_t *output) {
  conv1d(p, input, weights, bias_folded, per_channel, output, p->kernel_w, 0);
}

/* The compiler calls the entry point of the layer's window length, so that a program links the
 * bodies of the lengths it has, not all of them. */
void es_conv1d_k3_s8(const es_conv1d_s8_params_t *p, const int8_t *input, const int32_t *weights,
                     const int32_t *bias_folded, const es_requant_t *per_channel, int8_t *output) {
  conv1d(p, input, weights, bias_folded, per_channel, output, 3, 1);
}

void es_conv1d_k5_s8(const es_conv1d_s8_params_t *p, const int8_t *input, const int32_t *weights,
                     const int32_t *bias_folded, const es_requant_t *per_channel, int8_t *output) {
  conv1d(p, input, weights, bias_folded, per_channel, output, 5, 1);
}

void es_conv1d_k7_s8(const es_conv1d_s8_params_t *p, const int8_t *input, const int32_t *weights,
                     const int32_t *bias_folded, const es_requant_t *per_channel, int8_t *output) {
  conv1d(p, input, weights, bias_folded, per_channel, output, 7, 1);
}

void es_conv1d_k9_s8(const es_conv1d_s8_params_t *p, const int8_t *input, const int32_t *weights,
                     const int32_t *bias_folded, const es_requant_t *per_channel, int8_t *output) {
  conv1d(p, input, weights, bias_folded, per_channel, output, 9, 1);
}

/* ---- es_conv1d_nwc_mean_s8: channels-last input, the global average pool fused ------------- */

#if !ES_S8_USE_DSP
/* Tap t of channel m's window (es_s8.h's ES_CONV1D_NWC_MEAN_S8_WORDS layout). */
static inline int32_t nwc_tap_weight(const int32_t *words, int32_t t) {
  return (t & 1) ? es_s8_high_half(words[t / 2]) : es_s8_low_half(words[t / 2]);
}
#endif

/* The pool's ending: the channel's sum of clamped convolution outputs, less the convolution's
 * zero point over the row, rescaled once as es_global_avg_pool_s8 rescales a plane's sum: by
 * `once` (once_rescale_of(p->pool_requant)) where es_global_avg_pool_s8 takes that int32
 * rescaling (`int32_rescale`: the factor below 1/2, the row under 2^23 outputs). */
static inline int8_t nwc_mean_output(const es_conv1d_nwc_mean_s8_params_t *p,
                                     const once_rescale_t *once, int int32_rescale, int32_t sum) {
  if (!int32_rescale)
    return es_s8_rescale_once_output((int64_t)sum - (int64_t)p->conv_zp * p->out_w,
                                     p->pool_requant, p->output_zp, p->pool_act_min,
                                     p->pool_act_max);
  int32_t y = once_rescale(sum - p->conv_zp * p->out_w, once) + p->output_zp;
  y = y > p->pool_act_min ? y : p->pool_act_min;
  return (int8_t)(y < p->pool_act_max ? y : p->pool_act_max);
}

#if ES_S8_USE_DSP
/* Row n of the input with its padding as int16 in the channels-last order, padding positions
 * input_zp, and a zero after the last value (the partner of an odd window's last tap, whose
 * weight is zero). A channels-last row goes four values a pass (SXTB16 twice and two PKHs), a
 * channels-first one is transposed value by value. */
static void widen_row(const es_conv1d_nwc_mean_s8_params_t *p, const int8_t *in, int8_t *scratch) {
  const int32_t channels = p->in_channels;
  const int32_t before = p->pad_left * channels, values = p->in_w * channels;
  const int32_t total = ES_CONV1D_NWC_MEAN_S8_ROW(p) * channels;
  const int16_t zp = (int16_t)p->input_zp;
  int32_t i = 0;
  for (; i < before; ++i) memcpy(scratch + 2 * i, &zp, sizeof zp);
  int8_t *values_at = scratch + 2 * before;
  int32_t k = 0;
  if (!p->channels_last) {
    for (int32_t x = 0; x < p->in_w; ++x)
      for (int32_t c = 0; c < channels; ++c) {
        const int16_t value = in[c * p->in_w + x];
        memcpy(values_at + 2 * (x * channels + c), &value, sizeof value);
      }
    k = values;
  }
  for (; k + 4 <= values; k += 4) {
    const int32_t word = es_s8_load4(in + k);
    const int32_t even = __sxtb16(word), odd = es_s8_sxtb16_odd(word);
    const int32_t low = es_s8_pack_pair(even, odd);
    const int32_t high = (int32_t)(((uint32_t)even >> 16) | ((uint32_t)odd & 0xffff0000u));
    memcpy(values_at + 2 * k, &low, sizeof low);
    memcpy(values_at + 2 * k + 4, &high, sizeof high);
  }
  for (; k < values; ++k) {
    const int16_t value = in[k];
    memcpy(values_at + 2 * k, &value, sizeof value);
  }
  for (i = before + values; i < total; ++i) memcpy(scratch + 2 * i, &zp, sizeof zp);
  const int16_t zero = 0;
  memcpy(scratch + 2 * total, &zero, sizeof zero);
}

/* Channel m's outputs summed: each window `words` SMLADs over int16 pairs of the widened row
 * (pairs at any 2-byte alignment: LDR takes unaligned addresses; with `words` a constant the
 * weight words stay in registers over the row), rescaled and saturated by
 * es_s8_rescale_saturated and clamped to the activation where it is narrower than int8
 * (`clamp`, a constant in each caller, so the loop has no branch for it). */
ES_S8_ALWAYS_INLINE int32_t nwc_window(const int8_t *row, const int32_t *w, int32_t acc,
                                       const int32_t words) {
  ES_UNROLL_TAPS
  for (int32_t j = 0; j < words; ++j) acc = __smlad(es_s8_load4(row + 4 * j), w[j], acc);
  return acc;
}

ES_S8_ALWAYS_INLINE int32_t nwc_output(int32_t acc, int32_t multiplier, int32_t shift,
                                       int32_t offset, int32_t act_min, int32_t act_max,
                                       const int clamp) {
  int32_t y = es_s8_rescale_saturated(acc, multiplier, shift, offset);
  if (clamp) {
    y = y > act_min ? y : act_min;
    y = y < act_max ? y : act_max;
  }
  return y;
}

/* Two outputs a pass, so the rescaling's operands and the weight words that do not fit in
 * registers are loaded once per pair. `step` is the bytes between windows in the widened row:
 * a constant in the 3x3 entry point, whose second window then lies at a constant offset from
 * the first (no second pointer, so the weight words keep their registers). */
ES_S8_ALWAYS_INLINE int32_t nwc_channel_sum(const es_conv1d_nwc_mean_s8_params_t *p,
                                            const int8_t *row, const int32_t *w, int32_t bias,
                                            es_requant_t factor, const int32_t words,
                                            const int32_t step, const int clamp,
                                            const int32_t conv_zp) {
  const int32_t multiplier = factor.multiplier, shift = -factor.shift - 1;
  const int32_t offset = 2 * conv_zp + 1, act_min = p->act_min, act_max = p->act_max;
  const int8_t *const pairs_end = row + (p->out_w & ~1) * step;
  int32_t sum = 0;
  for (; row != pairs_end; row += 2 * step) {
    const int32_t first = nwc_window(row, w, bias, words);
    const int32_t second = nwc_window(row + step, w, bias, words);
    sum += nwc_output(first, multiplier, shift, offset, act_min, act_max, clamp);
    sum += nwc_output(second, multiplier, shift, offset, act_min, act_max, clamp);
  }
  if (p->out_w & 1)
    sum += nwc_output(nwc_window(row, w, bias, words), multiplier, shift, offset, act_min,
                      act_max, clamp);
  return sum;
}

ES_S8_NOINLINE static int32_t nwc_channel_sum_clamped(const es_conv1d_nwc_mean_s8_params_t *p,
                                                      const int8_t *row, const int32_t *w,
                                                      int32_t bias, es_requant_t factor,
                                                      int32_t words) {
  return nwc_channel_sum(p, row, w, bias, factor, words, 2 * p->stride * p->in_channels, 1,
                         p->conv_zp);
}
#endif

/* `words` is ES_CONV1D_NWC_MEAN_S8_WORDS(p) and `step` 2 * stride * in_channels: constants in
 * the specialised entry point. */
ES_S8_ALWAYS_INLINE void conv1d_nwc_mean(const es_conv1d_nwc_mean_s8_params_t *p,
                                         const int8_t *input, const int32_t *weights,
                                         const int32_t *bias_folded,
                                         const es_requant_t *per_channel, int8_t *scratch,
                                         int8_t *output, const int32_t words,
                                         const int32_t step) {
  const int32_t channels = p->in_channels, taps = channels * p->kernel_w;
  const int int32_rescale = p->out_w < (1 << 23) && once_rescale_applies(p->pool_requant);
  const es_requant_t half = {1 << 30, -1}; /* any factor once_rescale_of takes */
  const once_rescale_t once = once_rescale_of(int32_rescale ? p->pool_requant : half);
#if ES_S8_USE_DSP
  (void)taps;
  /* A Relu as calibration makes it (output zero point -128, so its range is all of int8) needs
   * no clamp and has a constant zero point, which leaves the loop a register. */
  const int full_range = p->act_min == -128 && p->act_max == 127;
  const int relu = full_range && p->conv_zp == -128;
  for (int32_t n = 0; n < p->batch; ++n) {
    widen_row(p, input + n * p->in_w * channels, scratch);
    for (int32_t m = 0; m < p->out_channels; ++m) {
      const int32_t *w = weights + m * words;
      const int32_t bias = bias_folded[m];
      const es_requant_t factor = per_channel[m];
      const int32_t sum =
          relu         ? nwc_channel_sum(p, scratch, w, bias, factor, words, step, 0, -128)
          : full_range ? nwc_channel_sum(p, scratch, w, bias, factor, words, step, 0, p->conv_zp)
                       : nwc_channel_sum_clamped(p, scratch, w, bias, factor, words);
      output[n * p->out_channels + m] = nwc_mean_output(p, &once, int32_rescale, sum);
    }
  }
#else
  (void)scratch;
  (void)words;
  (void)step;
  const int32_t in_w = p->in_w;
  for (int32_t n = 0; n < p->batch; ++n) {
    const int8_t *in = input + n * in_w * channels;
    for (int32_t m = 0; m < p->out_channels; ++m) {
      const int32_t *w = weights + m * ES_CONV1D_NWC_MEAN_S8_WORDS(p);
      const es_s8_rescale_t r = es_s8_rescale_of(per_channel[m]);
      int32_t sum = 0;
      for (int32_t x = 0; x < p->out_w; ++x) {
        const int32_t first = (x * p->stride - p->pad_left) * channels;
        int32_t acc = bias_folded[m];
        for (int32_t t = 0; t < taps; ++t) {
          const int32_t at = first + t, x_at = at / channels, c_at = at - x_at * channels;
          const int32_t value = at < 0 || at >= in_w * channels ? p->input_zp
                                : p->channels_last              ? in[at]
                                                                : in[c_at * in_w + x_at];
          acc += value * nwc_tap_weight(w, t);
        }
        sum += es_s8_rescale_output(acc, r, p->conv_zp, p->act_min, p->act_max);
      }
      output[n * p->out_channels + m] = nwc_mean_output(p, &once, int32_rescale, sum);
    }
  }
#endif
}

void es_conv1d_nwc_mean_s8(const es_conv1d_nwc_mean_s8_params_t *p, const int8_t *input,
                           const int32_t *weights, const int32_t *bias_folded,
                           const es_requant_t *per_channel, int8_t *scratch, int8_t *output) {
  conv1d_nwc_mean(p, input, weights, bias_folded, per_channel, scratch, output,
                  ES_CONV1D_NWC_MEAN_S8_WORDS(p), 2 * p->stride * p->in_channels);
}

void es_conv1d_nwc_mean_3x3_s8(const es_conv1d_nwc_mean_s8_params_t *p, const int8_t *input,
                               const int32_t *weights, const int32_t *bias_folded,
                               const es_requant_t *per_channel, int8_t *scratch, int8_t *output) {
  conv1d_nwc_mean(p, input, weights, bias_folded, per_channel, scratch, output, 5, 2 * 3);
}
