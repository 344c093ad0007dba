/* Float32 convolution with register blocking: up to four output channels by four neighbouring
 * output pixels of a row per pass, their sixteen sums in registers, so that each weight loaded
 * feeds four multiply-adds and so does each input element. The input is read in place (a 1-D
 * convolution is the case in_h = 1; a 1x1 convolution a matrix product of the weights and the
 * input planes). Pixels whose windows cross the left or right padding go one at a time with their
 * columns clipped; rows are clipped per output row.
 *
 * Every output sums its taps in the reference kernel's order (input channel, kernel row, kernel
 * column, taps in the padding skipped), starting from 0, and adds the bias last: the results equal
 * es_conv2d_f32's bit for bit (C99 does not fuse a * b + c). */
#include "f32_internal.h"

#include <stddef.h>

/* Output channels and pixels per block; taps of the largest filter read through a table. */
enum { BLOCK = 4, TABLE_TAPS = 64 };

/* What the block bodies need of the layer, in locals of the caller's frame. */
typedef struct {
  int32_t channels; /* input channels of the group */
  int32_t plane;    /* elements of one input channel */
  int32_t row_step; /* elements between the rows one kernel row apart (dilation_h * in_w) */
  int32_t col_step; /* elements between neighbouring taps of a row (dilation_w) */
  int32_t kernel_h;
  int32_t kernel_w;
  int32_t filter_size; /* weights of one output channel */
  int32_t stride_w;
  float act_min; /* read from here, the compiler keeps them in registers across the stores */
  float act_max;
  int act_max_binds;
} geometry_t;

/* acc[b][i] += the taps [rows) x [cols) of pixel i's window (its first tap, in the padding or
 * not, is element window + i * pixel_step of image) against output channel b's filter (channel b's
 * filter starts b * filter_size after `filter`), for b < channels_in_block and i < pixels. Called
 * with constant block sizes (and a constant pixel_step of 1 where it is), so that the loops over b
 * and i unroll and acc lives in registers. */
ES_F32_ALWAYS_INLINE void accumulate(const geometry_t *g, const float *image, int32_t window,
                                     int32_t pixel_step, const float *filter,
                                     int32_t channels_in_block, int32_t pixels,
                                     es_f32_tap_range_t rows, es_f32_tap_range_t cols,
                                     float acc[BLOCK][BLOCK]) {
  const int32_t channels = g->channels, plane = g->plane, row_step = g->row_step;
  const int32_t col_step = g->col_step, kernel_h = g->kernel_h, kernel_w = g->kernel_w;
  const int32_t filter_size = g->filter_size;
  for (int32_t c = 0; c < channels; ++c)
    for (int32_t ky = rows.first; ky < rows.end; ++ky) {
      /* The offset first: the window's own first tap may lie in the padding. */
      const float *x = image + (window + c * plane + ky * row_step + cols.first * col_step);
      const float *w = filter + (c * kernel_h + ky) * kernel_w + cols.first;
      for (int32_t kx = cols.first; kx < cols.end; ++kx, x += col_step, ++w) {
        float wv[BLOCK], xv[BLOCK];
        ES_F32_UNROLL
        for (int32_t b = 0; b < channels_in_block; ++b) wv[b] = w[b * filter_size];
        ES_F32_UNROLL
        for (int32_t i = 0; i < pixels; ++i) xv[i] = x[i * pixel_step];
        ES_F32_UNROLL
        for (int32_t b = 0; b < channels_in_block; ++b) {
          ES_F32_UNROLL
          for (int32_t i = 0; i < pixels; ++i)
            acc[b][i] = es_f32_multiply_add(acc[b][i], wv[b], xv[i]);
        }
      }
    }
}

/* As accumulate, for windows that lie wholly inside the input: tap t of pixel i's window is
 * element window + i * pixel_step + taps[t] of image and meets weight t of the filter; one loop
 * over the taps, however few a kernel row has. */
ES_F32_ALWAYS_INLINE void accumulate_inside(const geometry_t *g, const float *image, int32_t window,
                                            int32_t pixel_step, const float *filter,
                                            int32_t channels_in_block, int32_t pixels,
                                            const int32_t *taps, float acc[BLOCK][BLOCK]) {
  const float *origin = image + window;
  const int32_t filter_size = g->filter_size;
  for (int32_t t = 0; t < filter_size; ++t) {
    const float *x = origin + taps[t];
    float wv[BLOCK], xv[BLOCK];
    ES_F32_UNROLL
    for (int32_t b = 0; b < channels_in_block; ++b) wv[b] = filter[b * filter_size + t];
    ES_F32_UNROLL
    for (int32_t i = 0; i < pixels; ++i) xv[i] = x[i * pixel_step];
    ES_F32_UNROLL
    for (int32_t b = 0; b < channels_in_block; ++b) {
      ES_F32_UNROLL
      for (int32_t i = 0; i < pixels; ++i) acc[b][i] = es_f32_multiply_add(acc[b][i], wv[b], xv[i]);
    }
  }
}

/* Writes clamp(bias + acc) for the block's outputs; channel b's pixel i goes to
 * out[b * out_plane + i]. */
ES_F32_ALWAYS_INLINE void store(const geometry_t *g, const float *bias, int32_t channels_in_block,
                                int32_t pixels, int32_t out_plane, float acc[BLOCK][BLOCK],
                                float *out) {
  const float act_min = g->act_min, act_max = g->act_max;
  const int act_max_binds = g->act_max_binds;
  ES_F32_UNROLL
  for (int32_t b = 0; b < channels_in_block; ++b) {
    const float initial = bias != NULL ? bias[b] : 0.0f;
    ES_F32_UNROLL
    for (int32_t i = 0; i < pixels; ++i)
      out[b * out_plane + i] =
          es_f32_clamp_below(initial + acc[b][i], act_min, act_max, act_max_binds);
  }
}

/* One block: channels_in_block output channels (filter, bias and out at the first) by `pixels`
 * pixels, the first one's window at offset `window` of image. `taps` is the tap table of
 * accumulate_inside when the windows lie wholly inside the input and the table exists, else
 * NULL. */
ES_F32_ALWAYS_INLINE void block(const geometry_t *g, const float *image, int32_t window,
                                int32_t pixel_step, const float *filter, const float *bias,
                                int32_t channels_in_block, int32_t pixels, es_f32_tap_range_t rows,
                                es_f32_tap_range_t cols, const int32_t *taps, int32_t out_plane,
                                float *out) {
  float acc[BLOCK][BLOCK];
  ES_F32_UNROLL
  for (int32_t b = 0; b < channels_in_block; ++b) {
    ES_F32_UNROLL
    for (int32_t i = 0; i < pixels; ++i) acc[b][i] = 0.0f;
  }
  if (taps != NULL)
    accumulate_inside(g, image, window, pixel_step, filter, channels_in_block, pixels, taps, acc);
  else
    accumulate(g, image, window, pixel_step, filter, channels_in_block, pixels, rows, cols, acc);
  store(g, bias, channels_in_block, pixels, out_plane, acc, out);
}

/* Four pixels of a row whose windows lie inside the input along x; a stride of 1 gets its own
 * copy of the four-channel body, where the four pixels' taps are neighbours. A short block of
 * channels (the end of a group: depthwise convolutions) goes one channel at a time, its taps
 * row by row. */
static void interior_block(const geometry_t *g, const float *image, int32_t window,
                           const float *filter, const float *bias, int32_t channels_in_block,
                           es_f32_tap_range_t rows, es_f32_tap_range_t cols, const int32_t *taps,
                           int32_t out_plane, float *out) {
  if (channels_in_block == BLOCK && g->stride_w == 1) {
    block(g, image, window, 1, filter, bias, BLOCK, BLOCK, rows, cols, taps, out_plane, out);
  } else if (channels_in_block == BLOCK) {
    block(g, image, window, g->stride_w, filter, bias, BLOCK, BLOCK, rows, cols, taps, out_plane,
          out);
  } else {
    for (int32_t b = 0; b < channels_in_block; ++b)
      block(g, image, window, g->stride_w, filter + b * g->filter_size,
            bias != NULL ? bias + b : NULL, 1, BLOCK, rows, cols, NULL, out_plane,
            out + b * out_plane);
  }
}

/* One pixel, its columns clipped to the input; `taps` as for block (the last pixels of a row,
 * too few for a block of four, may lie inside). */
static void edge_block(const geometry_t *g, const float *image, int32_t window, const float *filter,
                       const float *bias, int32_t channels_in_block, es_f32_tap_range_t rows,
                       es_f32_tap_range_t cols, const int32_t *taps, int32_t out_plane,
                       float *out) {
  if (channels_in_block == BLOCK) {
    block(g, image, window, 0, filter, bias, BLOCK, 1, rows, cols, taps, out_plane, out);
  } else {
    for (int32_t b = 0; b < channels_in_block; ++b)
      block(g, image, window, 0, filter + b * g->filter_size, bias != NULL ? bias + b : NULL, 1, 1,
            rows, cols, NULL, out_plane, out + b * out_plane);
  }
}

void es_conv2d_blocked_f32(const es_conv2d_f32_params_t *p, const float *input,
                           const float *weights, const float *bias, float *output) {
  const int32_t group_in_channels = p->in_channels / p->groups;
  const int32_t group_out_channels = p->out_channels / p->groups;
  const int32_t out_plane = p->out_h * p->out_w;
  geometry_t g;
  g.channels = group_in_channels;
  g.plane = p->in_h * p->in_w;
  g.row_step = p->dilation_h * p->in_w;
  g.col_step = p->dilation_w;
  g.kernel_h = p->kernel_h;
  g.kernel_w = p->kernel_w;
  g.filter_size = group_in_channels * p->kernel_h * p->kernel_w;
  g.stride_w = p->stride_w;
  g.act_min = p->act_min;
  g.act_max = p->act_max;
  g.act_max_binds = p->act_max < INFINITY;
  int32_t inner_first, inner_end;
  es_inside_outputs(p->pad_left, p->stride_w, p->kernel_w, p->dilation_w, p->in_w, p->out_w,
                        &inner_first, &inner_end);
  /* Small filters (1-D convolutions, few channels) read their taps through a table, in one loop
   * instead of one per kernel row; larger ones spend long enough in each row. */
  int32_t tap_table[TABLE_TAPS];
  const int32_t *taps = NULL;
  if (g.filter_size <= TABLE_TAPS) {
    int32_t t = 0;
    for (int32_t c = 0; c < g.channels; ++c)
      for (int32_t ky = 0; ky < p->kernel_h; ++ky)
        for (int32_t kx = 0; kx < p->kernel_w; ++kx)
          tap_table[t++] = c * g.plane + ky * g.row_step + kx * g.col_step;
    taps = tap_table;
  }
  for (int32_t n = 0; n < p->batch; ++n)
    for (int32_t oc = 0, channels_in_block; oc < p->out_channels; oc += channels_in_block) {
      /* A block stays within one group. */
      const int32_t group = oc / group_out_channels;
      const int32_t group_end = (group + 1) * group_out_channels;
      channels_in_block = group_end - oc < BLOCK ? group_end - oc : BLOCK;
      const float *image = input + (n * p->in_channels + group * group_in_channels) * g.plane;
      const float *filter = weights + oc * g.filter_size;
      const float *block_bias = bias != NULL ? bias + oc : NULL;
      float *planes = output + (n * p->out_channels + oc) * out_plane;
      for (int32_t oy = 0; oy < p->out_h; ++oy) {
        const int32_t origin_y = oy * p->stride_h - p->pad_top;
        const es_f32_tap_range_t rows =
            es_f32_taps_inside(origin_y, p->kernel_h, p->dilation_h, p->in_h);
        const int32_t *row_taps = rows.first == 0 && rows.end == p->kernel_h ? taps : NULL;
        float *out = planes + oy * p->out_w;
        for (int32_t ox = 0; ox < p->out_w;) {
          const int32_t origin_x = ox * p->stride_w - p->pad_left;
          const int inside = ox >= inner_first && ox < inner_end;
          if (inside && ox + BLOCK <= inner_end) {
            const es_f32_tap_range_t cols = {0, p->kernel_w};
            interior_block(&g, image, origin_y * p->in_w + origin_x, filter, block_bias,
                           channels_in_block, rows, cols, row_taps, out_plane, out + ox);
            ox += BLOCK;
          } else {
            const es_f32_tap_range_t cols =
                es_f32_taps_inside(origin_x, p->kernel_w, p->dilation_w, p->in_w);
            edge_block(&g, image, origin_y * p->in_w + origin_x, filter, block_bias,
                       channels_in_block, rows, cols, inside ? row_taps : NULL, out_plane,
                       out + ox);
            ox += 1;
          }
        }
      }
    }
}

/* Grouped convolutions (depthwise ones above all) run the same body, one channel by four pixels at
 * a time: an entry point of their own lets the cost model, which prices each function by its MACs
 * and elements (tools/calibrate-costs), tell them from the four-channel blocks of the others. */
void es_conv2d_grouped_blocked_f32(const es_conv2d_f32_params_t *p, const float *input,
                                   const float *weights, const float *bias, float *output) {
  es_conv2d_blocked_f32(p, input, weights, bias, output);
}
