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

/* A column's last two kernel rows, sign-extended (dsp_column). */
typedef struct {
  int32_t even0, odd0, even1, odd1;
} column_history_t;

/* One output row of a column: the bytes b0..b3 of each kernel row, sign-extended into (b0, b2)
 * and (b1, b3), give out0 = (b0, b2).(w0, w2) + b1 * w1 and out1 = (b1, b3).(w0, w2) + b2 * w1
 * (`words` as es_s8.h describes them). */
static inline void column_step(column_history_t *h, int32_t bytes2, const int32_t *words,
                               int32_t base, int32_t pair, es_s8_rescale_t r, int32_t output_zp,
                               int32_t act_min, int32_t act_max, int8_t *out) {
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
  out[0] = es_s8_rescale_output(acc0, r, output_zp, act_min, act_max);
  if (pair) out[1] = es_s8_rescale_output(acc1, r, output_zp, act_min, act_max);
  h->even0 = h->even1;
  h->odd0 = h->odd1;
  h->even1 = even2;
  h->odd1 = odd2;
}

/* Outputs x and x + 1 (or x alone when `pair` is 0) of every output row of one plane, going
 * down: each input row is loaded and sign-extended once and serves up to three output rows. A
 * kernel row in the vertical padding reads zp_bytes. */
static inline void dsp_column(const es_depthwise_conv3x3_s8_params_t *p, const int8_t *plane,
                              const int32_t *words, int32_t base, int32_t x, int32_t pair,
                              uint32_t zp_bytes, es_s8_rescale_t r, int8_t *out) {
  const int32_t in_w = p->in_w, out_w = p->out_w, output_zp = p->output_zp;
  const int32_t act_min = p->act_min, act_max = p->act_max;
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
    column_step(&h, read_column(row, &reader), words, base, pair, r, output_zp, act_min, act_max,
                out);
  if (p->out_h + 2 - p->in_h - p->pad_top)
    column_step(&h, (int32_t)zp_bytes, words, base, pair, r, output_zp, act_min, act_max, out);
}
#endif

/* Taps written out: gcc -O2 would keep loops over the kernel's rows and columns. */
#define ES_DW_TAPS2(r, c, wa, wb) ((r)[c] * (wa) + (r)[(c) + 1] * (wb))
#define ES_DW_TAPS3(r, c, wa, wb, wc) (ES_DW_TAPS2(r, c, wa, wb) + (r)[(c) + 2] * (wc))

void es_depthwise_conv3x3_s8(const es_depthwise_conv3x3_s8_params_t *p, const int8_t *input,
                             const int32_t *weights, const int32_t *bias_folded,
                             const es_requant_t *per_channel, int8_t *output) {
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
      for (; x + 1 < out_w; x += 2) dsp_column(p, plane, words, base, x, 1, zp_bytes, r, out);
      if (x < out_w) dsp_column(p, plane, words, base, x, 0, zp_bytes, r, out);
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
