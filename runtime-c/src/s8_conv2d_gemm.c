/* int8 convolution as a matrix product over gathered windows (es_s8.h "Specialised
 * convolutions"). Four output pixels are in flight at a time: their windows are gathered once
 * into the scratch area, laid out for the body that reads them, and every output channel's weight
 * row is then read once for the four, each weight load feeding four multiply-accumulates.
 *
 * Scratch (ES_CONV2D_GEMM_S8_SCRATCH_BYTES; rows are multiples of 16 taps):
 *   offsets [row] int32     tap k lies at input index origin + offsets[k], origin being the
 *                           window's tap (0, 0) (taps past the row: 0, their weights are zero)
 *   spans   [row] int32     where tap k lies in the window: (ky * dilation_h) << 16 | kx *
 *                           dilation_w, to tell the taps of a window in the padding
 *   block                   the four windows: groups of 16 taps, pixel after pixel (plain, MVE),
 *                           or (DSP) groups of 4 taps widened to int16 pairs (b0, b2), (b1, b3)
 *                           per pixel, the order in which SXTB16 splits a weight word
 * All of it is accessed bytewise or through memcpy: the arena holding it is an int8 array. */
#include "s8_fast_internal.h"

enum { PIXELS = 4 };

/* The layer's constants for the gather. */
typedef struct {
  const es_conv2d_s8_params_t *p;
  int32_t row;
  int8_t *offsets, *spans; /* int32 entries */
  int8_t *block;
} gemm_t;

static void set_tap_tables(const gemm_t *g) {
  const es_conv2d_s8_params_t *p = g->p;
  const int32_t taps = p->in_channels * p->kernel_h * p->kernel_w;
  int8_t *offsets = g->offsets, *spans = g->spans;
  for (int32_t k = 0; k < g->row; ++k, offsets += 4, spans += 4) {
    int32_t offset = 0, span = 0;
    if (k < taps) {
      const int32_t kx = k % p->kernel_w, ky = k / p->kernel_w % p->kernel_h;
      const int32_t c = k / (p->kernel_w * p->kernel_h);
      offset = (c * p->in_h + ky * p->dilation_h) * p->in_w + kx * p->dilation_w;
      span = (int32_t)((uint32_t)(ky * p->dilation_h) << 16) | kx * p->dilation_w;
    }
    memcpy(offsets, &offset, sizeof offset);
    memcpy(spans, &span, sizeof span);
  }
}

/* Where output pixel `pixel`'s window starts (tap (0, 0), possibly in the padding). */
typedef struct {
  int32_t y0, x0;
  int32_t origin; /* y0 * in_w + x0 */
  int32_t inside; /* every tap lies inside the input */
} window_t;

static window_t window_of(const es_conv2d_s8_params_t *p, int32_t pixel) {
  window_t w;
  w.y0 = pixel / p->out_w * p->stride_h - p->pad_top;
  w.x0 = pixel % p->out_w * p->stride_w - p->pad_left;
  w.origin = w.y0 * p->in_w + w.x0;
  w.inside = w.y0 >= 0 && w.x0 >= 0 && w.y0 + (p->kernel_h - 1) * p->dilation_h < p->in_h &&
             w.x0 + (p->kernel_w - 1) * p->dilation_w < p->in_w;
  return w;
}

#if !ES_S8_USE_MVE
/* Tap k of a window that overlaps the padding: input_zp there. The unsigned comparisons test
 * 0 <= y < in_h and 0 <= x < in_w at once. */
static inline int32_t border_tap(const gemm_t *g, const int8_t *in, window_t w, int32_t k) {
  int32_t span, offset;
  memcpy(&span, g->spans + 4 * k, sizeof span);
  const uint32_t y = (uint32_t)(w.y0 + (span >> 16)), x = (uint32_t)(w.x0 + (span & 0xffff));
  if (y >= (uint32_t)g->p->in_h || x >= (uint32_t)g->p->in_w) return g->p->input_zp;
  memcpy(&offset, g->offsets + 4 * k, sizeof offset);
  return in[w.origin + offset];
}
#endif

#if ES_S8_USE_DSP && !ES_S8_USE_MVE
/* Two int16 in one word, `low` in the low half. gcc 12's ACLE has no __pkhbt, and gcc spells
 * the C expression as two instructions. */
static inline int32_t es_s8_int16_pair(int32_t low, int32_t high) {
  int32_t pair;
  __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(pair) : "r"(low), "r"(high));
  return pair;
}

/* Pixel `slot` of the block: per group of four taps, two gathered pairs. */
static void gather(const gemm_t *g, const int8_t *in, window_t w, int32_t slot) {
  int8_t *out = g->block + 8 * slot;
  if (w.inside) {
    const int8_t *origin = in + w.origin, *offsets = g->offsets;
    for (const int8_t *end = offsets + 4 * g->row; offsets != end;
         offsets += 16, out += 8 * PIXELS) {
      const int32_t even =
          es_s8_int16_pair(origin[es_s8_load4(offsets)], origin[es_s8_load4(offsets + 8)]);
      const int32_t odd =
          es_s8_int16_pair(origin[es_s8_load4(offsets + 4)], origin[es_s8_load4(offsets + 12)]);
      memcpy(out, &even, sizeof even);
      memcpy(out + 4, &odd, sizeof odd);
    }
    return;
  }
  for (int32_t k = 0; k < g->row; k += 4, out += 8 * PIXELS) {
    const int32_t even = es_s8_int16_pair(border_tap(g, in, w, k), border_tap(g, in, w, k + 2));
    const int32_t odd = es_s8_int16_pair(border_tap(g, in, w, k + 1), border_tap(g, in, w, k + 3));
    memcpy(out, &even, sizeof even);
    memcpy(out + 4, &odd, sizeof odd);
  }
}

/* One group of four taps: the weight word split once, then two SMLADs per pixel. */
static inline void dot_group(const int8_t *w, const int8_t *x, int32_t acc[PIXELS]) {
  const int32_t word = es_s8_load4(w);
  const int32_t even = __sxtb16(word), odd = es_s8_sxtb16_odd(word);
  acc[0] = __smlad(es_s8_load4(x), even, __smlad(es_s8_load4(x + 4), odd, acc[0]));
  acc[1] = __smlad(es_s8_load4(x + 8), even, __smlad(es_s8_load4(x + 12), odd, acc[1]));
  acc[2] = __smlad(es_s8_load4(x + 16), even, __smlad(es_s8_load4(x + 20), odd, acc[2]));
  acc[3] = __smlad(es_s8_load4(x + 24), even, __smlad(es_s8_load4(x + 28), odd, acc[3]));
}

/* acc[i] += pixel i's window . the weight row, two groups per iteration. A function of its own,
 * so that gcc does not spill. */
static ES_S8_NOINLINE void dot_row(const int8_t *x, const int8_t *w, uint32_t row,
                                   int32_t acc[PIXELS]) {
  int32_t a[PIXELS] = {acc[0], acc[1], acc[2], acc[3]};
  for (const int8_t *const end = w + row; w != end; w += 8, x += 16 * PIXELS) {
    dot_group(w, x, a);
    dot_group(w + 4, x + 8 * PIXELS, a);
  }
  acc[0] = a[0];
  acc[1] = a[1];
  acc[2] = a[2];
  acc[3] = a[3];
}
#else
#if ES_S8_USE_MVE
/* Pixel `slot` of the block, four taps per gather (VLDRB with a vector of offsets, narrowed
 * back to bytes by the store). A window that overlaps the padding gathers only the taps inside
 * (the others are masked off, so their addresses are never formed) and puts input_zp in the
 * others' lanes. */
static void gather(const gemm_t *g, const int8_t *in, window_t w, int32_t slot) {
  const es_conv2d_s8_params_t *p = g->p;
  int8_t *out = g->block + 16 * slot;
  const int8_t *offsets = g->offsets, *spans = g->spans;
  if (w.inside) {
    const int8_t *origin = in + w.origin;
    for (int32_t k = 0; k < g->row; k += 16, out += 16 * PIXELS) {
      for (int32_t q = 0; q < 16; q += 4, offsets += 16) {
        const uint32x4_t at = vreinterpretq_u32_s8(vld1q_s8(offsets));
        vstrbq_s32(out + q, vldrbq_gather_offset_s32(origin, at));
      }
    }
    return;
  }
  const int32x4_t zp = vdupq_n_s32(p->input_zp), low_half = vdupq_n_s32(0xffff);
  const int32_t in_h = p->in_h, in_w = p->in_w;
  for (int32_t k = 0; k < g->row; k += 16, out += 16 * PIXELS) {
    for (int32_t q = 0; q < 16; q += 4, offsets += 16, spans += 16) {
      const int32x4_t span = vreinterpretq_s32_s8(vld1q_s8(spans));
      const int32x4_t y = vaddq_n_s32(vshrq_n_s32(span, 16), w.y0);
      const int32x4_t x = vaddq_n_s32(vandq_s32(span, low_half), w.x0);
      /* 0 <= y < in_h exactly when y - in_h is negative and y is not: the sign bit of
       * (y - in_h) & ~y. One comparison then covers both coordinates (gcc 12 handles chained
       * predicated comparisons poorly). */
      const int32x4_t y_in = vbicq_s32(vsubq_n_s32(y, in_h), y);
      const int32x4_t x_in = vbicq_s32(vsubq_n_s32(x, in_w), x);
      const mve_pred16_t inside = vcmpltq_n_s32(vandq_s32(y_in, x_in), 0);
      const uint32x4_t at =
          vreinterpretq_u32_s32(vaddq_n_s32(vreinterpretq_s32_s8(vld1q_s8(offsets)), w.origin));
      const int32x4_t taps = vldrbq_gather_offset_z_s32(in, at, inside);
      vstrbq_s32(out + q, vpselq_s32(taps, zp, inside));
    }
  }
}

/* The weight row against the four windows, sixteen taps per VMLADAVA (which sums the lane
 * products of two int8 vectors into a general register). Four accumulators is what the
 * instruction allows: it accumulates into even-numbered registers only ("Te" tells gcc so).
 * gcc 12 schedules the intrinsics' loads with extra pointer copies; written out, a pass over 64
 * multiply-accumulates is nine instructions and the loop's LE. */
static inline void dot_row(const int8_t *x, const int8_t *w, uint32_t row, int32_t acc[PIXELS]) {
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  for (uint32_t groups = row / 16; groups != 0; --groups) {
    __asm__(
        "vldrb.u8 q0, [%[w]], #16\n\t"
        "vldrb.u8 q1, [%[x]], #16\n\t"
        "vmlava.s8 %[a0], q1, q0\n\t"
        "vldrb.u8 q1, [%[x]], #16\n\t"
        "vmlava.s8 %[a1], q1, q0\n\t"
        "vldrb.u8 q1, [%[x]], #16\n\t"
        "vmlava.s8 %[a2], q1, q0\n\t"
        "vldrb.u8 q1, [%[x]], #16\n\t"
        "vmlava.s8 %[a3], q1, q0"
        : [w] "+r"(w), [x] "+r"(x), [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [a3] "+Te"(a3)
        :
        : "d0", "d1", "d2", "d3", "memory");
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}
#else
/* The block as the plain and MVE bodies lay it out: tap k of pixel `slot`. */
static inline int32_t block_index(int32_t k, int32_t slot) {
  return k / 16 * 16 * PIXELS + 16 * slot + k % 16;
}

static void gather(const gemm_t *g, const int8_t *in, window_t w, int32_t slot) {
  for (int32_t k = 0; k < g->row; ++k) {
    int32_t offset;
    memcpy(&offset, g->offsets + 4 * k, sizeof offset);
    g->block[block_index(k, slot)] =
        (int8_t)(w.inside ? in[w.origin + offset] : border_tap(g, in, w, k));
  }
}

static inline void dot_row(const int8_t *x, const int8_t *w, uint32_t row, int32_t acc[PIXELS]) {
  for (const int8_t *const end = w + row; w != end; w += 16, x += 16 * PIXELS)
    for (int32_t i = 0; i < PIXELS; ++i)
      for (int32_t k = 0; k < 16; ++k) acc[i] += x[16 * i + k] * w[k];
}
#endif
#endif

/* The four (or, last, fewer) outputs of one channel. */
static inline void store_outputs(const int32_t acc[PIXELS], const es_requant_t *requant,
                                 int32_t output_zp, int32_t act_min, int32_t act_max, int32_t count,
                                 int8_t *out) {
#if ES_S8_USE_MVE
  const int32x4_t y = es_s8_rescale4(es_s8_vector4(acc[0], acc[1], acc[2], acc[3]), *requant,
                                     output_zp, vdupq_n_s32(act_min), vdupq_n_s32(act_max));
  vstrbq_p_s32(out, y, vctp32q((uint32_t)count));
#else
  const es_s8_rescale_t r = es_s8_rescale_of(*requant);
  for (int32_t i = 0; i < count; ++i)
    out[i] = es_s8_rescale_output(acc[i], r, output_zp, act_min, act_max);
#endif
}

/* Every output channel of one block of pixels. Kept out of the pixel loop so that the compiler
 * can give the hot loop all the registers. */
static ES_S8_NOINLINE void block_channels(const gemm_t *g, const int8_t *w,
                                          const int32_t *bias_folded,
                                          const es_requant_t *per_channel, int32_t count,
                                          int32_t pixels, int8_t *out) {
  const es_conv2d_s8_params_t *p = g->p;
  /* Locals, not p->: the int8 output stores could alias *p for all the compiler knows. */
  const int32_t output_zp = p->output_zp, act_min = p->act_min, act_max = p->act_max;
  const int32_t row = g->row, out_channels = p->out_channels;
  const int8_t *const block = g->block;
  for (int32_t m = 0; m < out_channels; ++m, w += row, out += pixels) {
    int32_t acc[PIXELS] = {bias_folded[m], bias_folded[m], bias_folded[m], bias_folded[m]};
    dot_row(block, w, (uint32_t)row, acc);
    store_outputs(acc, per_channel + m, output_zp, act_min, act_max, count, out);
  }
}

void es_conv2d_gemm_s8(const es_conv2d_s8_params_t *p, const int8_t *input, const int8_t *weights,
                       const int32_t *bias_folded, const es_requant_t *per_channel, int8_t *scratch,
                       int8_t *output) {
  gemm_t g;
  g.p = p;
  g.row = ES_CONV2D_GEMM_S8_ROW(p);
  g.offsets = scratch;
  g.spans = scratch + 4 * g.row;
  g.block = scratch + 8 * g.row;
  set_tap_tables(&g);
  const int32_t pixels = p->out_h * p->out_w;
  for (int32_t n = 0; n < p->batch; ++n) {
    const int8_t *in = input + n * p->in_channels * p->in_h * p->in_w;
    int8_t *out = output + n * p->out_channels * pixels;
    for (int32_t pixel = 0; pixel < pixels; pixel += PIXELS) {
      /* A last, partial block repeats its last pixel and stores only its own outputs. */
      const int32_t count = pixels - pixel < PIXELS ? pixels - pixel : PIXELS;
      for (int32_t slot = 0; slot < PIXELS; ++slot)
        gather(&g, in, window_of(p, pixel + (slot < count ? slot : count - 1)), slot);
      block_channels(&g, weights, bias_folded, per_channel, count, pixels, out + pixel);
    }
  }
}
