/* int8 convolution as a matrix product over gathered windows (es_s8.h "Specialised
 * convolutions"). Four output pixels are in flight at a time: their windows are gathered once
 * into the scratch area, laid out for the body that reads them, and the output channels' weight
 * rows are then read two at a time (stored interleaved, byte by byte) for the four, each weight
 * load feeding eight multiply-accumulates.
 *
 * Scratch (ES_CONV2D_GEMM_S8_SCRATCH_BYTES; rows are multiples of 16 taps):
 *   offsets [row] int32     tap k lies at input index origin + offsets[k], origin being the
 *                           window's tap (0, 0) (taps past the row: 0, their weights are zero)
 *   spans   [row] int32     where tap k lies in the window: (ky * dilation_h) << 16 | kx *
 *                           dilation_w, to tell the taps of a window in the padding
 *   block                   the four windows: groups of 16 taps, pixel after pixel (plain, MVE),
 *                           or (DSP) groups of 2 taps widened to an int16 pair (b0, b1), pixel
 *                           after pixel: what SXTB16 makes of a word of two interleaved rows
 *   end                     (DSP) ES_GEMM_DSP_BLOCK_END, where the dot products' loop stops
 *   short offsets [row]     (MVE, after its block of 4 * row bytes) uint16: the offsets, when
 *                           each is below 2^16
 * All of it is accessed bytewise or through memcpy: the arena holding it is an int8 array. */
#include "s8_fast_internal.h"

enum { PIXELS = 4 };

/* (MVE) Windows whose taps all lie less than this many bytes from the first are gathered eight
 * taps at a time (uint16 offsets). tests/qemu/test_kernels.py lowers it to run the four-tap
 * gathers of larger layers on small ones. */
#ifndef ES_GEMM_SHORT_OFFSETS_BELOW
#define ES_GEMM_SHORT_OFFSETS_BELOW 65536
#endif

/* The layer's constants for the gather. */
typedef struct {
  const es_conv2d_s8_params_t *p;
  int32_t row;
  int8_t *offsets, *spans; /* int32 entries */
  int8_t *block;
  int8_t *short_offsets; /* (MVE) the offsets as uint16 when every one is below 2^16, or NULL */
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
  if (!g->short_offsets) return;
  offsets = g->offsets;
  for (int32_t k = 0; k < g->row; ++k, offsets += 4) {
    int32_t offset;
    memcpy(&offset, offsets, sizeof offset);
    const uint16_t narrow = (uint16_t)offset;
    memcpy(g->short_offsets + 2 * k, &narrow, sizeof narrow);
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

/* Pixel `slot` of the block: per group of four taps, the pairs (k, k + 1) and (k + 2, k + 3),
 * each in its group of two taps. */
static void gather(const gemm_t *g, const int8_t *in, window_t w, int32_t slot) {
  int8_t *out = g->block + 4 * slot;
  if (w.inside) {
    const int8_t *origin = in + w.origin, *offsets = g->offsets;
    for (const int8_t *end = offsets + 4 * g->row; offsets != end;
         offsets += 16, out += 8 * PIXELS) {
      const int32_t low =
          es_s8_int16_pair(origin[es_s8_load4(offsets)], origin[es_s8_load4(offsets + 4)]);
      const int32_t high =
          es_s8_int16_pair(origin[es_s8_load4(offsets + 8)], origin[es_s8_load4(offsets + 12)]);
      memcpy(out, &low, sizeof low);
      memcpy(out + 4 * PIXELS, &high, sizeof high);
    }
    return;
  }
  for (int32_t k = 0; k < g->row; k += 4, out += 8 * PIXELS) {
    const int32_t low = es_s8_int16_pair(border_tap(g, in, w, k), border_tap(g, in, w, k + 1));
    const int32_t high = es_s8_int16_pair(border_tap(g, in, w, k + 2), border_tap(g, in, w, k + 3));
    memcpy(out, &low, sizeof low);
    memcpy(out + 4 * PIXELS, &high, sizeof high);
  }
}

/* Two taps of channels m and m + 1 against the four pixels (x: their pairs, 16 bytes, from
 * byte `at` of the group of 16 taps): the weight word (w_m[k], w_m+1[k], w_m[k+1], w_m+1[k+1])
 * splits into (w_m[k], w_m[k+1]) and (w_m+1[k], w_m+1[k+1]), and each pixel's pair feeds an
 * SMLAD per channel. */
#define ES_GEMM_DSP_TAP_PAIR(at)                                                                   \
  "ldr r11, [r10], #4\n\t"                                                                        \
  "sxtb16 r12, r11\n\t"                                                                           \
  "sxtb16 r11, r11, ror #8\n\t"                                                                   \
  "ldr lr, [r9, #" at "]\n\t"                                                                     \
  "smlad r0, lr, r12, r0\n\t"                                                                     \
  "smlad r4, lr, r11, r4\n\t"                                                                     \
  "ldr lr, [r9, #" at " + 4]\n\t"                                                                 \
  "smlad r1, lr, r12, r1\n\t"                                                                     \
  "smlad r5, lr, r11, r5\n\t"                                                                     \
  "ldr lr, [r9, #" at " + 8]\n\t"                                                                 \
  "smlad r2, lr, r12, r2\n\t"                                                                     \
  "smlad r6, lr, r11, r6\n\t"                                                                     \
  "ldr lr, [r9, #" at " + 12]\n\t"                                                                \
  "smlad r3, lr, r12, r3\n\t"                                                                     \
  "smlad r8, lr, r11, r8\n\t"

/* Follows the DSP block: no pair of int8 values widened to int16 has 0x8000 as a half. */
#define ES_GEMM_DSP_BLOCK_END 0x80008000u

/* acc[i] += pixel i's window . row m, acc[4 + i] += . row m + 1, over `row` taps (a multiple of
 * 16). Written out: the eight accumulators, both pointers and three temporaries are thirteen
 * registers, every one Thumb-2 has but the stack and frame pointers, so the registers are named
 * (r7, the frame pointer of unoptimised builds, is not among them), and the loop ends at the
 * word after the block (ES_GEMM_DSP_BLOCK_END), not on a count. A pass is 16 taps: 123
 * instructions for 128 multiply-accumulates. */
static ES_S8_NOINLINE void dot_pair(const int8_t *x, const int8_t *w, uint32_t row,
                                    int32_t acc[2 * PIXELS]) {
  (void)row;
  register int32_t a0 __asm__("r0") = acc[0];
  register int32_t a1 __asm__("r1") = acc[1];
  register int32_t a2 __asm__("r2") = acc[2];
  register int32_t a3 __asm__("r3") = acc[3];
  register int32_t b0 __asm__("r4") = acc[4];
  register int32_t b1 __asm__("r5") = acc[5];
  register int32_t b2 __asm__("r6") = acc[6];
  register int32_t b3 __asm__("r8") = acc[7];
  register const int8_t *xr __asm__("r9") = x;
  register const int8_t *wr __asm__("r10") = w;
  __asm__ volatile("1:\n\t"
                   ES_GEMM_DSP_TAP_PAIR("0") ES_GEMM_DSP_TAP_PAIR("16") ES_GEMM_DSP_TAP_PAIR("32")
                   ES_GEMM_DSP_TAP_PAIR("48") ES_GEMM_DSP_TAP_PAIR("64") ES_GEMM_DSP_TAP_PAIR("80")
                   ES_GEMM_DSP_TAP_PAIR("96") ES_GEMM_DSP_TAP_PAIR("112")
                   "ldr r11, [r9, #128]!\n\t"
                   "cmp r11, #0x80008000\n\t"
                   "bne 1b"
                   : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(b0), "+r"(b1), "+r"(b2),
                     "+r"(b3), "+r"(xr), "+r"(wr)
                   :
                   : "r11", "r12", "lr", "cc", "memory");
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
  acc[4] = b0;
  acc[5] = b1;
  acc[6] = b2;
  acc[7] = b3;
}
#undef ES_GEMM_DSP_TAP_PAIR
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
  if (w.inside && g->short_offsets) {
    /* Eight taps per gather: VLDRB widening to int16 lanes with uint16 offsets. */
    const int8_t *origin = in + w.origin, *at = g->short_offsets;
    for (int32_t k = 0; k < g->row; k += 16, out += 16 * PIXELS, at += 32) {
      vstrbq_s16(out, vldrbq_gather_offset_s16(origin, vreinterpretq_u16_s8(vld1q_s8(at))));
      vstrbq_s16(out + 8,
                 vldrbq_gather_offset_s16(origin, vreinterpretq_u16_s8(vld1q_s8(at + 16))));
    }
    return;
  }
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

/* Rows m and m + 1 against the four windows, sixteen taps per VMLADAVA (which sums the lane
 * products of two int8 vectors into a general register): VLD20/VLD21 split 32 interleaved bytes
 * into the two rows' 16 taps, and each window's load feeds both rows. VMLADAVA accumulates into
 * even-numbered registers only, and eight accumulators take all of them (lr included: the loop
 * counts with SUBS, not LE), so the registers are named. A pass over 128 multiply-accumulates is
 * fourteen instructions and the loop's two. */
ES_S8_ALWAYS_INLINE void dot_pair(const int8_t *x, const int8_t *w, uint32_t row,
                                  int32_t acc[2 * PIXELS]) {
  register int32_t a0 __asm__("r0") = acc[0];
  register int32_t a1 __asm__("r2") = acc[1];
  register int32_t a2 __asm__("r4") = acc[2];
  register int32_t a3 __asm__("r6") = acc[3];
  register int32_t b0 __asm__("r8") = acc[4];
  register int32_t b1 __asm__("r10") = acc[5];
  register int32_t b2 __asm__("r12") = acc[6];
  register int32_t b3 __asm__("lr") = acc[7];
  register const int8_t *xr __asm__("r1") = x;
  register const int8_t *wr __asm__("r3") = w;
  register uint32_t passes __asm__("r5") = row / 16;
  __asm__ volatile("1:\n\t"
                   "vld20.8 {q0, q1}, [r3]\n\t"
                   "vld21.8 {q0, q1}, [r3]!\n\t"
                   "vldrb.u8 q2, [r1], #16\n\t"
                   "vmlava.s8 r0, q2, q0\n\t"
                   "vmlava.s8 r8, q2, q1\n\t"
                   "vldrb.u8 q2, [r1], #16\n\t"
                   "vmlava.s8 r2, q2, q0\n\t"
                   "vmlava.s8 r10, q2, q1\n\t"
                   "vldrb.u8 q2, [r1], #16\n\t"
                   "vmlava.s8 r4, q2, q0\n\t"
                   "vmlava.s8 r12, q2, q1\n\t"
                   "vldrb.u8 q2, [r1], #16\n\t"
                   "vmlava.s8 r6, q2, q0\n\t"
                   "vmlava.s8 lr, q2, q1\n\t"
                   "subs r5, r5, #1\n\t"
                   "bne 1b"
                   : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(b0), "+r"(b1), "+r"(b2),
                     "+r"(b3), "+r"(xr), "+r"(wr), "+r"(passes)
                   :
                   : "d0", "d1", "d2", "d3", "d4", "d5", "cc", "memory");
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
  acc[4] = b0;
  acc[5] = b1;
  acc[6] = b2;
  acc[7] = b3;
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

static inline void dot_pair(const int8_t *x, const int8_t *w, uint32_t row,
                            int32_t acc[2 * PIXELS]) {
  for (const int8_t *const end = w + 2 * row; w != end; w += 32, x += 16 * PIXELS)
    for (int32_t i = 0; i < PIXELS; ++i)
      for (int32_t k = 0; k < 16; ++k) {
        acc[i] += x[16 * i + k] * w[2 * k];
        acc[PIXELS + i] += x[16 * i + k] * w[2 * k + 1];
      }
}
#endif
#endif

/* The four (or, last, fewer) outputs of one channel; `clamp` when the activation range is
 * narrower than int8. */
ES_S8_ALWAYS_INLINE void store_outputs(const int32_t acc[PIXELS], const es_requant_t *requant,
                                       int32_t output_zp, int32_t act_min, int32_t act_max,
                                       int32_t count, int clamp, int8_t *out) {
#if ES_S8_USE_MVE
  (void)clamp;
  const int32x4_t y = es_s8_rescale4(es_s8_vector4(acc[0], acc[1], acc[2], acc[3]), *requant,
                                     output_zp, vdupq_n_s32(act_min), vdupq_n_s32(act_max));
  vstrbq_p_s32(out, y, vctp32q((uint32_t)count));
#else
  const int32_t multiplier = requant->multiplier, shift = -requant->shift - 1;
  const int32_t offset = 2 * output_zp + 1;
  for (int32_t i = 0; i < count; ++i) {
    int32_t y = es_s8_rescale_saturated(acc[i], multiplier, shift, offset);
    if (clamp) {
      y = y > act_min ? y : act_min;
      y = y < act_max ? y : act_max;
    }
    out[i] = (int8_t)y;
  }
#endif
}

/* Every output channel of one block of pixels, two at a time (an odd last channel's partner is
 * the zero row the weights end with, computed and dropped). Kept out of the pixel loop so that
 * the compiler can give the hot loop all the registers. */
ES_S8_ALWAYS_INLINE void block_channels_clamped(const gemm_t *g, const int8_t *w,
                                                const int32_t *bias_folded,
                                                const es_requant_t *per_channel, int32_t count,
                                                int32_t pixels, int clamp, int8_t *out) {
  const es_conv2d_s8_params_t *p = g->p;
  /* Locals, not p->: the int8 output stores could alias *p for all the compiler knows. */
  const int32_t output_zp = p->output_zp, act_min = p->act_min, act_max = p->act_max;
  const int32_t row = g->row, out_channels = p->out_channels;
  const int8_t *const block = g->block;
  for (int32_t m = 0; m < out_channels; m += 2, w += 2 * row, out += 2 * pixels) {
    const int32_t first = bias_folded[m], second = m + 1 < out_channels ? bias_folded[m + 1] : 0;
    int32_t acc[2 * PIXELS] = {first, first, first, first, second, second, second, second};
    dot_pair(block, w, (uint32_t)row, acc);
    store_outputs(acc, per_channel + m, output_zp, act_min, act_max, count, clamp, out);
    if (m + 1 < out_channels)
      store_outputs(acc + PIXELS, per_channel + m + 1, output_zp, act_min, act_max, count, clamp,
                    out + pixels);
  }
}

static ES_S8_NOINLINE void block_channels(const gemm_t *g, const int8_t *w,
                                          const int32_t *bias_folded,
                                          const es_requant_t *per_channel, int32_t count,
                                          int32_t pixels, int8_t *out) {
  if (g->p->act_min == -128 && g->p->act_max == 127)
    block_channels_clamped(g, w, bias_folded, per_channel, count, pixels, 0, out);
  else
    block_channels_clamped(g, w, bias_folded, per_channel, count, pixels, 1, out);
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
  /* After the MVE body's block of 4 * row bytes, when the last tap, the farthest from the
   * first, lies less than 2^16 bytes on. */
  const int32_t farthest = (p->in_channels - 1) * p->in_h * p->in_w +
                           (p->kernel_h - 1) * p->dilation_h * p->in_w +
                           (p->kernel_w - 1) * p->dilation_w;
  g.short_offsets =
      ES_S8_USE_MVE && farthest < ES_GEMM_SHORT_OFFSETS_BELOW ? scratch + 12 * g.row : NULL;
  set_tap_tables(&g);
#if ES_S8_USE_DSP && !ES_S8_USE_MVE
  const uint32_t block_end = ES_GEMM_DSP_BLOCK_END;
  memcpy(g.block + 8 * g.row, &block_end, sizeof block_end);
#endif
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
