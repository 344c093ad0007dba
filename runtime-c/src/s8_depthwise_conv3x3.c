/* Depthwise 3x3 int8 convolution, specialised (es_s8.h "Specialised convolutions"). */
#include "s8_fast_internal.h"

/* What the windows of one output row of one channel read. A kernel row that falls in the
 * vertical padding reads a real input row with zero weights instead, its taps' input_zp share
 * being in `base`; taps in the horizontal padding add zp_column[kx] (input_zp times column kx's
 * weights over the rows that are read). */
typedef struct {
  const int8_t *rows[3];
  int32_t w[3][3];
  int32_t base;
  int32_t zp_column[3];
} row_window_t;

static void prepare_row(const es_depthwise_conv3x3_s8_params_t *p, const int8_t *plane,
                        const int32_t *words, int32_t bias_folded, int32_t oy,
                        row_window_t *rw) {
  rw->base = bias_folded;
  for (int32_t ky = 0; ky < 3; ++ky) {
    const int32_t y = oy - p->pad_top + ky;
    const int32_t pair = words[2 * ky], mid = words[2 * ky + 1];
    const int32_t w0 = es_s8_low_half(pair), w2 = es_s8_high_half(pair);
    const int32_t inside = y >= 0 && y < p->in_h;
    rw->rows[ky] = plane + (inside ? y * p->in_w : 0);
    rw->w[ky][0] = inside ? w0 : 0;
    rw->w[ky][1] = inside ? mid : 0;
    rw->w[ky][2] = inside ? w2 : 0;
    if (!inside) rw->base += p->input_zp * (w0 + mid + w2);
  }
  for (int32_t kx = 0; kx < 3; ++kx)
    rw->zp_column[kx] = p->input_zp * (rw->w[0][kx] + rw->w[1][kx] + rw->w[2][kx]);
}

/* The window at input column c0, wherever it lies (the edge columns of narrow rows). */
static int32_t accumulate_window(const row_window_t *rw, int32_t c0, int32_t in_w) {
  int32_t first, end;
  es_s8_window_taps(c0, 1, 3, in_w, &first, &end);
  int32_t acc = rw->base;
  for (int32_t kx = 0; kx < 3; ++kx)
    if (kx < first || kx >= end) acc += rw->zp_column[kx];
  for (int32_t ky = 0; ky < 3; ++ky)
    for (int32_t kx = first; kx < end; ++kx) acc += rw->rows[ky][c0 + kx] * rw->w[ky][kx];
  return acc;
}

#if ES_S8_USE_MVE
/* The MVE body and the others each in a function of its own, called by es_depthwise_conv3x3_s8:
 * gcc gives one function a frame for the locals and spills of all its paths, about the sum of
 * theirs. */
#define ES_DW_OWN_FRAME ES_S8_NOINLINE
#else
#define ES_DW_OWN_FRAME
#endif

#if ES_S8_USE_MVE
/* The MVE body goes down each output column four outputs at a time. One byte gather reads a
 * quad: rows b .. b + 3 of the three input columns the column's windows read, tap (row, kx) in
 * lane 3 * row + kx, lanes 12 .. 15 repeating the first tap. It serves two windows, each one
 * VMLADAV: the kernel in lanes 0 .. 8 (`upper`) is the window at row b, in lanes 3 .. 11
 * (`lower`) the one at row b + 1. The windows at rows t .. t + 3 come from the quads at t and
 * t + 2 and are rescaled as one vector, scattered down the column; the last four of a column
 * overlap the previous four when in_h - 2 is not a multiple of 4, storing some outputs twice.
 *
 * Nothing in the padding is read. A tap left or right of the row reads the nearest byte of the
 * row with a zero weight. The window above the first row (below the last) reads the first
 * (last) quad with `top` (`bottom`), the kernel moved up (down) one row and its padded row
 * dropped; the two are rescaled together. The input_zp share of the dropped taps is in the
 * biases. */

/* Output columns [begin, end) whose taps are the same bytes relative to their first one: the
 * column beside each padding, and the columns whose windows lie inside the row. */
typedef struct {
  int32_t begin, end;
  int32_t first;        /* the byte of the row where column `begin`'s taps are counted from */
  mve_pred16_t columns; /* the lanes of the taps inside the row */
  uint8x16_t taps;      /* byte offsets from `first` in the quad's first row */
} quad_run_t;

/* A channel's kernels for one run, and their biases. */
typedef struct {
  int8x16_t top, upper, lower, bottom;
  int32_t bias;                  /* of `upper` and `lower` */
  int32_t top_bias, bottom_bias; /* added to `bias` */
} quad_kernel_t;

typedef struct {
  es_requant_t factor;
  int32_t output_zp;
  int32x4_t act_min, act_max;
} quad_output_t;

/* A quad's taps' kernel column and row; lanes 12 .. 15 read the byte of lane 0. */
static const int8_t quad_columns[16] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 0, 0, 0};
static const uint8_t quad_rows[16] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 0, 0, 0};

/* Where weight (j / 3, j % 3) lies among a channel's 24 weight bytes (es_s8.h's words): the low
 * byte of its int16 half or int32 word. Gathered from offsets 8 lower, the kernel lands one row
 * further down the lanes (`lower`; `bottom` from 16 lower), from 8 higher one row up (`top`). */
#if defined(__ARM_BIG_ENDIAN)
#define ES_DW_LOW(byte) (3 - (byte))
#else
#define ES_DW_LOW(byte) (byte)
#endif
#define ES_DW_ROW(ky) 8 * (ky) + ES_DW_LOW(0), 8 * (ky) + 4 + ES_DW_LOW(0), 8 * (ky) + ES_DW_LOW(2)
static const uint8_t quad_weight_bytes[16] = {
    ES_DW_ROW(0), ES_DW_ROW(1), ES_DW_ROW(2), ES_DW_ROW(3), 0, 0, 0, 0};

/* The run starting at output column x, whose windows start at input column c0. A predicate has
 * one bit per byte lane: 0x249 are the lanes of kernel column 0. Offsets stay below 256 as
 * 3 * in_w + 2 <= 255. */
static quad_run_t quad_run(int32_t x, int32_t c0, int32_t in_w, int32_t inside_end) {
  quad_run_t run;
  run.begin = x;
  run.end = c0 >= 0 && c0 + 2 < in_w ? inside_end : x + 1;
  run.first = c0 > 0 ? c0 : 0;
  run.columns = 0;
  for (int32_t kx = 0; kx < 3; ++kx)
    if (c0 + kx >= 0 && c0 + kx < in_w) run.columns |= (mve_pred16_t)(0x249u << kx);
  int8x16_t column = vaddq_n_s8(vld1q_s8(quad_columns), (int8_t)c0);
  column = vminq_s8(vmaxq_s8(column, vdupq_n_s8(0)), vdupq_n_s8((int8_t)(in_w - 1)));
  column = vsubq_n_s8(column, (int8_t)run.first);
  run.taps = vmlaq_n_u8(vreinterpretq_u8_s8(column), vld1q_u8(quad_rows), (uint8_t)in_w);
  return run;
}

/* 0x1ff are the lanes of kernel rows 0 .. 2; masked-off lanes of a gather read nothing. */
static void quad_kernel(const int8_t *weight_bytes, uint8x16_t bytes, mve_pred16_t columns,
                        int32_t base, int32_t input_zp, quad_kernel_t *k) {
  const int32_t all = vaddvq_s8(vldrbq_gather_offset_z_s8(weight_bytes, bytes, 0x1ff));
  k->top = vldrbq_gather_offset_z_s8(weight_bytes, vaddq_n_u8(bytes, 8), columns & 0x03f);
  k->upper = vldrbq_gather_offset_z_s8(weight_bytes, bytes, columns & 0x1ff);
  k->lower = vldrbq_gather_offset_z_s8(weight_bytes, vsubq_n_u8(bytes, 8), columns & 0xff8);
  k->bottom = vldrbq_gather_offset_z_s8(weight_bytes, vsubq_n_u8(bytes, 16), columns & 0xfc0);
  const int32_t used = vaddvq_s8(k->upper);
  k->bias = base + input_zp * (all - used);
  k->top_bias = input_zp * (used - vaddvq_s8(k->top));
  k->bottom_bias = input_zp * (used - vaddvq_s8(k->bottom));
}

static inline int32x4_t quad_rescale(int32x4_t acc, const quad_output_t *q) {
  return es_s8_rescale4(acc, q->factor, q->output_zp, q->act_min, q->act_max);
}

/* The windows at rows t .. t + 3 of a column, `row` pointing at its row t. */
static inline void quad_inner(const int8_t *row, int32_t in_w, uint8x16_t taps, int8x16_t upper,
                              int8x16_t lower, int32_t bias, const quad_output_t *q,
                              uint32x4_t rows, int8_t *out) {
  int8x16_t quad = vldrbq_gather_offset_s8(row, taps);
  const int32_t a0 = vmladavq_s8(quad, upper), a1 = vmladavq_s8(quad, lower);
  quad = vldrbq_gather_offset_s8(row + 2 * in_w, taps);
  const int32_t a2 = vmladavq_s8(quad, upper), a3 = vmladavq_s8(quad, lower);
  const int32x4_t acc = vaddq_n_s32(es_s8_vector4(a0, a1, a2, a3), bias);
  vstrbq_scatter_offset_s32(out, rows, quad_rescale(acc, q));
}

/* Needs in_h >= 6, four windows inside the plane's rows, and 3 * in_w + 2 <= 255. The runs are
 * the outer loop: each run's taps are worked out once, and one run's kernels are live at a time. */
ES_DW_OWN_FRAME static void mve_planes(const es_depthwise_conv3x3_s8_params_t *p,
                                       const int8_t *input, const int32_t *weights,
                                       const int32_t *bias_folded, const es_requant_t *per_channel,
                                       int8_t *output) {
  const int32_t in_h = p->in_h, in_w = p->in_w, out_h = p->out_h, out_w = p->out_w;
  const int32_t pad_top = p->pad_top, pad_left = p->pad_left, input_zp = p->input_zp;
  const int32_t pad_bottom = out_h + 2 - in_h - pad_top, channels = p->channels;
  const int32_t planes = p->batch * channels;
  const int32_t in_size = in_h * in_w, out_size = out_h * out_w;
  const int32_t inside_end = in_w - 2 + pad_left < out_w ? in_w - 2 + pad_left : out_w;
  quad_output_t q;
  q.output_zp = p->output_zp;
  q.act_min = vdupq_n_s32(p->act_min);
  q.act_max = vdupq_n_s32(p->act_max);
  const uint32x4_t rows = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)out_w);
  /* The windows in the padding, lanes 0 (top) and 1 (bottom); a predicate has 4 bits per lane. */
  const uint32x4_t edge_rows = vsetq_lane_u32((uint32_t)((out_h - 1) * out_w), vdupq_n_u32(0), 1);
  const mve_pred16_t edges = (mve_pred16_t)((pad_top ? 0x000f : 0) | (pad_bottom ? 0x00f0 : 0));
  const int32_t bottom = (in_h - 4) * in_w;
  /* The windows inside the plane: `groups` fours at rows 4i, then the last four. */
  const int32_t groups = (in_h - 3) / 4, last = (in_h - 6) * in_w;
  const int32_t out_first = pad_top * out_w, out_last = (in_h - 6 + pad_top) * out_w;
  const uint8x16_t weight_bytes = vld1q_u8(quad_weight_bytes);
  for (int32_t x0 = 0; x0 < out_w;) {
    const quad_run_t run = quad_run(x0, x0 - pad_left, in_w, inside_end);
    const uint8x16_t taps = run.taps;
    x0 = run.end;
    for (int32_t plane_index = 0, c = 0; plane_index < planes; ++plane_index) {
      quad_kernel_t k;
      quad_kernel((const int8_t *)(weights + c * 6), weight_bytes, run.columns, bias_folded[c],
                  input_zp, &k);
      q.factor = per_channel[c];
      c = c + 1 < channels ? c + 1 : 0;
      /* Locals, not k.: the stores could alias it for all the compiler knows. */
      const int8x16_t top = k.top, upper = k.upper, lower = k.lower, bottom_kernel = k.bottom;
      const int32_t bias = k.bias, top_bias = k.top_bias, bottom_bias = k.bottom_bias;
      const int8_t *at = input + plane_index * in_size + run.first;
      int8_t *o = output + plane_index * out_size + run.begin;
      for (int32_t x = run.end - run.begin; x > 0; --x, ++at, ++o) {
        if (edges) {
          const int32_t a0 = vmladavaq_s8(top_bias, vldrbq_gather_offset_s8(at, taps), top);
          const int32_t a1 =
              vmladavaq_s8(bottom_bias, vldrbq_gather_offset_s8(at + bottom, taps), bottom_kernel);
          const int32x4_t acc = vaddq_n_s32(vsetq_lane_s32(a1, vdupq_n_s32(a0), 1), bias);
          vstrbq_scatter_offset_p_s32(o, edge_rows, quad_rescale(acc, &q), edges);
        }
        const int8_t *row = at;
        int8_t *column = o + out_first;
        for (int32_t n = groups; n > 0; --n, row += 4 * in_w, column += 4 * out_w)
          quad_inner(row, in_w, taps, upper, lower, bias, &q, rows, column);
        quad_inner(at + last, in_w, taps, upper, lower, bias, &q, rows, o + out_last);
      }
    }
  }
}
#endif

#if ES_S8_USE_DSP
/* How a column of outputs reads its four input columns c0 .. c0 + 3 from every row: one load
 * at `offset`, shifted right then left by the given bits, the padding's input_zp bytes or-ed in
 * (all zero inside the row). */
typedef struct {
  int32_t offset;
  int32_t shift_right, shift_left;
  uint32_t padding;
} column_reader_t;

static column_reader_t column_reader(int32_t c0, int32_t in_w, uint32_t zp_bytes) {
  column_reader_t reader = {c0, 0, 0, 0};
  if (c0 < 0) {
    reader.offset = 0;
    reader.shift_left = 8;
    reader.padding = zp_bytes >> 24;
  } else if (c0 + 4 > in_w) {
    reader.offset = in_w - 4;
    reader.shift_right = 8 * (c0 + 4 - in_w);
    reader.padding = zp_bytes << (32 - reader.shift_right);
  }
  return reader;
}

static inline int32_t read_column(const int8_t *row, const column_reader_t *reader) {
  return (int32_t)((((uint32_t)es_s8_load4(row + reader->offset) >> reader->shift_right)
                    << reader->shift_left) | reader->padding);
}

/* A channel's factor as es_s8_rescale_saturated takes it, and the activation range (`clamp`:
 * narrower than int8, the saturation's). */
typedef struct {
  int32_t multiplier, shift, offset;
  int32_t clamp, act_min, act_max;
} column_rescale_t;

static inline int8_t column_output(int32_t acc, const column_rescale_t *r) {
  int32_t y = es_s8_rescale_saturated(acc, r->multiplier, r->shift, r->offset);
  if (r->clamp) {
    y = y > r->act_min ? y : r->act_min;
    y = y < r->act_max ? y : r->act_max;
  }
  return (int8_t)y;
}

/* A column's last two kernel rows, sign-extended (dsp_column). */
typedef struct {
  int32_t even0, odd0, even1, odd1;
} column_history_t;

/* One output row of a column: the bytes b0..b3 of each kernel row, sign-extended into (b0, b2)
 * and (b1, b3), give out0 = (b0, b2).(w0, w2) + b1 * w1 and out1 = (b1, b3).(w0, w2) + b2 * w1
 * (`words` as es_s8.h describes them). */
static inline void column_step(column_history_t *h, int32_t bytes2, const int32_t *words,
                               int32_t base, int32_t pair, const column_rescale_t *r,
                               int8_t *out) {
  const int32_t even2 = __sxtb16(bytes2), odd2 = es_s8_sxtb16_odd(bytes2);
  int32_t acc0 = __smlad(h->even0, words[0], base), acc1 = __smlad(h->odd0, words[0], base);
  acc0 = __smlabb(h->odd0, words[1], acc0);
  acc1 = __smlatb(h->even0, words[1], acc1);
  acc0 = __smlad(h->even1, words[2], acc0);
  acc1 = __smlad(h->odd1, words[2], acc1);
  acc0 = __smlabb(h->odd1, words[3], acc0);
  acc1 = __smlatb(h->even1, words[3], acc1);
  acc0 = __smlad(even2, words[4], acc0);
  acc1 = __smlad(odd2, words[4], acc1);
  acc0 = __smlabb(odd2, words[5], acc0);
  acc1 = __smlatb(even2, words[5], acc1);
  out[0] = column_output(acc0, r);
  if (pair) out[1] = column_output(acc1, r);
  h->even0 = h->even1;
  h->odd0 = h->odd1;
  h->even1 = even2;
  h->odd1 = odd2;
}

/* Outputs x and x + 1 (or x alone when `pair` is 0) of every output row of one plane, going
 * down: each input row is loaded and sign-extended once and serves up to three output rows. A
 * kernel row in the vertical padding reads zp_bytes. */
ES_S8_ALWAYS_INLINE void dsp_column(const es_depthwise_conv3x3_s8_params_t *p,
                                    const int8_t *plane, const int32_t *words, int32_t base,
                                    int32_t x, int32_t pair, uint32_t zp_bytes,
                                    es_requant_t factor, int8_t *out) {
  const int32_t in_w = p->in_w, out_w = p->out_w;
  const column_rescale_t r = {factor.multiplier, -factor.shift - 1, 2 * p->output_zp + 1,
                              p->act_min != -128 || p->act_max != 127, p->act_min, p->act_max};
  const column_reader_t reader = column_reader(x - p->pad_left, in_w, zp_bytes);
  const int8_t *row = plane;
  const int32_t bytes0 = p->pad_top ? (int32_t)zp_bytes : read_column(row, &reader);
  if (!p->pad_top) row += in_w;
  const int32_t bytes1 = read_column(row, &reader);
  column_history_t h;
  h.even0 = __sxtb16(bytes0);
  h.odd0 = es_s8_sxtb16_odd(bytes0);
  h.even1 = __sxtb16(bytes1);
  h.odd1 = es_s8_sxtb16_odd(bytes1);
  out += x;
  const int8_t *const end = plane + p->in_h * in_w;
  for (row += in_w; row != end; row += in_w, out += out_w)
    column_step(&h, read_column(row, &reader), words, base, pair, &r, out);
  if (p->out_h + 2 - p->in_h - p->pad_top)
    column_step(&h, (int32_t)zp_bytes, words, base, pair, &r, out);
}
#endif

/* Taps written out: gcc -O2 would keep loops over the kernel's rows and columns. */
#define ES_DW_TAPS2(r, c, wa, wb) ((r)[c] * (wa) + (r)[(c) + 1] * (wb))
#define ES_DW_TAPS3(r, c, wa, wb, wc) (ES_DW_TAPS2(r, c, wa, wb) + (r)[(c) + 2] * (wc))

/* The DSP and plain bodies. */
ES_DW_OWN_FRAME static void dw_planes(const es_depthwise_conv3x3_s8_params_t *p,
                                      const int8_t *input, const int32_t *weights,
                                      const int32_t *bias_folded, const es_requant_t *per_channel,
                                      int8_t *output) {
  /* Locals, not p->: the int8 output stores could alias *p for all the compiler knows. */
  const int32_t in_w = p->in_w, out_w = p->out_w, out_h = p->out_h, pad_left = p->pad_left;
  const int32_t input_zp = p->input_zp, output_zp = p->output_zp;
  const int32_t act_min = p->act_min, act_max = p->act_max;
  const int32_t plane_size = p->in_h * in_w;
  /* Output rows [p->pad_top, rows_end) read three input rows; the others (at most one at each
   * end) take the general path. Outputs [pad_left, inside_end) of a row have their whole
   * window inside it; the others are output 0 (when pad_left is 1) and the last ones. */
  const int32_t rows_end = p->in_h - 2 + p->pad_top < out_h ? p->in_h - 2 + p->pad_top : out_h;
  const int32_t inside_end = in_w - 2 + pad_left < out_w ? in_w - 2 + pad_left : out_w;
  for (int32_t plane_index = 0; plane_index < p->batch * p->channels; ++plane_index) {
    const int32_t c = plane_index % p->channels;
    const int8_t *plane = input + plane_index * plane_size;
    int8_t *out = output + plane_index * out_h * out_w;
    const int32_t *words = weights + c * 6;
    const es_s8_rescale_t r = es_s8_rescale_of(per_channel[c]);
    const int32_t base = bias_folded[c];
    const int32_t pair0 = words[0], w01 = words[1], pair1 = words[2], w11 = words[3],
                  pair2 = words[4], w21 = words[5];
    const int32_t w00 = es_s8_low_half(pair0), w02 = es_s8_high_half(pair0);
    const int32_t w10 = es_s8_low_half(pair1), w12 = es_s8_high_half(pair1);
    const int32_t w20 = es_s8_low_half(pair2), w22 = es_s8_high_half(pair2);
    const int32_t left_padding = base + input_zp * (w00 + w10 + w20);
    const int32_t right_padding = base + input_zp * (w02 + w12 + w22);
#if ES_S8_USE_DSP
    /* The column readers load four bytes inside a row; narrower planes take the plain body. */
    if (in_w >= 4) {
      const uint32_t zp_bytes = 0x01010101u * (uint8_t)input_zp;
      /* Separate calls for the pairs and the last single output compile each for its constant
       * `pair`. */
      int32_t x = 0;
      for (; x + 1 < out_w; x += 2)
        dsp_column(p, plane, words, base, x, 1, zp_bytes, per_channel[c], out);
      if (x < out_w) dsp_column(p, plane, words, base, x, 0, zp_bytes, per_channel[c], out);
      continue;
    }
#endif
    for (int32_t oy = 0; oy < out_h; ++oy, out += out_w) {
      if (oy < p->pad_top || oy >= rows_end) {
        row_window_t rw;
        prepare_row(p, plane, words, base, oy, &rw);
        for (int32_t x = 0; x < out_w; ++x)
          out[x] = es_s8_rescale_output(accumulate_window(&rw, x - pad_left, in_w), r, output_zp,
                                        act_min, act_max);
        continue;
      }
      const int8_t *r0 = plane + (oy - p->pad_top) * in_w, *r1 = r0 + in_w, *r2 = r1 + in_w;
      int32_t x = 0;
      if (pad_left == 1 && in_w >= 2) {
        const int32_t acc = left_padding + ES_DW_TAPS2(r0, 0, w01, w02) +
                            ES_DW_TAPS2(r1, 0, w11, w12) + ES_DW_TAPS2(r2, 0, w21, w22);
        out[x++] = es_s8_rescale_output(acc, r, output_zp, act_min, act_max);
      }
      for (; x < inside_end; ++x) {
        const int32_t c0 = x - pad_left;
        const int32_t acc = base + ES_DW_TAPS3(r0, c0, w00, w01, w02) +
                            ES_DW_TAPS3(r1, c0, w10, w11, w12) + ES_DW_TAPS3(r2, c0, w20, w21, w22);
        out[x] = es_s8_rescale_output(acc, r, output_zp, act_min, act_max);
      }
      for (; x < out_w; ++x) {
        const int32_t c0 = x - pad_left;
        int32_t acc;
        if (c0 >= 0 && c0 + 2 == in_w) {
          acc = right_padding + ES_DW_TAPS2(r0, c0, w00, w01) + ES_DW_TAPS2(r1, c0, w10, w11) +
                ES_DW_TAPS2(r2, c0, w20, w21);
        } else {
          row_window_t rw;
          prepare_row(p, plane, words, base, oy, &rw);
          acc = accumulate_window(&rw, c0, in_w);
        }
        out[x] = es_s8_rescale_output(acc, r, output_zp, act_min, act_max);
      }
    }
  }
}

void es_depthwise_conv3x3_s8(const es_depthwise_conv3x3_s8_params_t *p, const int8_t *input,
                             const int32_t *weights, const int32_t *bias_folded,
                             const es_requant_t *per_channel, int8_t *output) {
#if ES_S8_USE_MVE
  if (p->in_h >= 6 && p->in_w <= 84) {
    mve_planes(p, input, weights, bias_folded, per_channel, output);
    return;
  }
#endif
  dw_planes(p, input, weights, bias_folded, per_channel, output);
}
