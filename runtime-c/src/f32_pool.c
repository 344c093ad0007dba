/* Float32 pooling: windowed max/average pools and the global pools. */
#include "f32_internal.h"

/* One window: where it starts in the input and which of its taps read input elements. */
typedef struct {
  int32_t origin_y;
  int32_t origin_x;
  es_f32_tap_range_t rows;
  es_f32_tap_range_t cols;
} pool_window_t;

typedef float (*window_reducer_t)(const es_pool2d_f32_params_t *p, const float *plane,
                                  const pool_window_t *window);

static float window_max(const es_pool2d_f32_params_t *p, const float *plane,
                        const pool_window_t *window) {
  /* Every window reaches the input, so its first inside tap exists. */
  float best = plane[(window->origin_y + window->rows.first * p->dilation_h) * p->in_w +
                     window->origin_x + window->cols.first * p->dilation_w];
  for (int32_t ky = window->rows.first; ky < window->rows.end; ++ky)
    for (int32_t kx = window->cols.first; kx < window->cols.end; ++kx) {
      const float value = plane[(window->origin_y + ky * p->dilation_h) * p->in_w +
                                window->origin_x + kx * p->dilation_w];
      if (es_f32_ranks_above(value, best)) best = value;
    }
  return best;
}

static float window_mean(const es_pool2d_f32_params_t *p, const float *plane,
                         const pool_window_t *window) {
  float sum = 0.0f;
  for (int32_t ky = window->rows.first; ky < window->rows.end; ++ky)
    for (int32_t kx = window->cols.first; kx < window->cols.end; ++kx)
      sum += plane[(window->origin_y + ky * p->dilation_h) * p->in_w + window->origin_x +
                   kx * p->dilation_w];
  int32_t divisor =
      (window->rows.end - window->rows.first) * (window->cols.end - window->cols.first);
  if (p->count_include_pad) {
    /* The taps inside the input grown by its declared padding on both sides. */
    const es_f32_tap_range_t padded_rows =
        es_f32_taps_inside(window->origin_y + p->pad_top, p->kernel_h, p->dilation_h,
                           p->pad_top + p->in_h + p->pad_bottom);
    const es_f32_tap_range_t padded_cols =
        es_f32_taps_inside(window->origin_x + p->pad_left, p->kernel_w, p->dilation_w,
                           p->pad_left + p->in_w + p->pad_right);
    divisor = (padded_rows.end - padded_rows.first) * (padded_cols.end - padded_cols.first);
  }
  return sum / (float)divisor;
}

static void pool2d(const es_pool2d_f32_params_t *p, const float *input, float *output,
                   window_reducer_t reduce) {
  const int32_t planes = p->batch * p->channels;
  for (int32_t plane = 0; plane < planes; ++plane) {
    const float *source = input + plane * p->in_h * p->in_w;
    for (int32_t oy = 0; oy < p->out_h; ++oy)
      for (int32_t ox = 0; ox < p->out_w; ++ox) {
        pool_window_t window;
        window.origin_y = oy * p->stride_h - p->pad_top;
        window.origin_x = ox * p->stride_w - p->pad_left;
        window.rows = es_f32_taps_inside(window.origin_y, p->kernel_h, p->dilation_h, p->in_h);
        window.cols = es_f32_taps_inside(window.origin_x, p->kernel_w, p->dilation_w, p->in_w);
        *output++ = es_f32_clamp(reduce(p, source, &window), p->act_min, p->act_max);
      }
  }
}

void es_max_pool2d_f32(const es_pool2d_f32_params_t *p, const float *input, float *output) {
  pool2d(p, input, output, window_max);
}

void es_avg_pool2d_f32(const es_pool2d_f32_params_t *p, const float *input, float *output) {
  pool2d(p, input, output, window_mean);
}

void es_global_avg_pool_f32(const es_global_pool_f32_params_t *p, const float *input,
                            float *output) {
  const int32_t planes = p->batch * p->channels;
  for (int32_t plane = 0; plane < planes; ++plane) {
    const float *source = input + plane * p->size;
    float sum = 0.0f;
    for (int32_t i = 0; i < p->size; ++i) sum += source[i];
    output[plane] = es_f32_clamp(sum / (float)p->size, p->act_min, p->act_max);
  }
}

void es_global_max_pool_f32(const es_global_pool_f32_params_t *p, const float *input,
                            float *output) {
  const int32_t planes = p->batch * p->channels;
  for (int32_t plane = 0; plane < planes; ++plane) {
    const float *source = input + plane * p->size;
    float best = source[0];
    for (int32_t i = 1; i < p->size; ++i)
      if (es_f32_ranks_above(source[i], best)) best = source[i];
    output[plane] = es_f32_clamp(best, p->act_min, p->act_max);
  }
}

/* ---- The fast pools: windows inside the input reduced inline ----------------------------------
 */

/* The largest of a window inside the input (first tap at x), in the reference's order. NaN is
 * rare: a plain comparison ignores it, so the sum of the taps tells whether one was there
 * (inf - inf raises a false alarm, which costs only time), and such a window goes to
 * window_max. */
ES_F32_ALWAYS_INLINE int inside_max(const float *x, int32_t kernel_h, int32_t kernel_w,
                                    int32_t row_step, int32_t col_step, float *result) {
  float best = x[0], sum = 0.0f;
  for (int32_t ky = 0; ky < kernel_h; ++ky) {
    ES_F32_UNROLL
    for (int32_t kx = 0; kx < kernel_w; ++kx) {
      const float value = x[ky * row_step + kx * col_step];
      sum += value;
      if (value > best) best = value;
    }
  }
  *result = best;
  return sum == sum;
}

/* The mean of a window inside the input, summed in the reference's order. */
ES_F32_ALWAYS_INLINE int inside_mean(const float *x, int32_t kernel_h, int32_t kernel_w,
                                     int32_t row_step, int32_t col_step, float *result) {
  float sum = 0.0f;
  for (int32_t ky = 0; ky < kernel_h; ++ky) {
    ES_F32_UNROLL
    for (int32_t kx = 0; kx < kernel_w; ++kx) sum += x[ky * row_step + kx * col_step];
  }
  *result = sum / (float)(kernel_h * kernel_w);
  return 1;
}

/* The pool with windows inside the input reduced by `inside` (given constant kernel sizes where
 * they are common, so that its loops unroll) and the others by the reference's `reduce`. */
ES_F32_ALWAYS_INLINE void pool2d_fast(const es_pool2d_f32_params_t *p, const float *input,
                                      float *output, int is_max, int32_t kernel_h,
                                      int32_t kernel_w) {
  int32_t row_first, row_end, col_first, col_end;
  es_inside_outputs(p->pad_top, p->stride_h, p->kernel_h, p->dilation_h, p->in_h, p->out_h,
                        &row_first, &row_end);
  es_inside_outputs(p->pad_left, p->stride_w, p->kernel_w, p->dilation_w, p->in_w, p->out_w,
                        &col_first, &col_end);
  const int32_t in_w = p->in_w, row_step = p->dilation_h * in_w, col_step = p->dilation_w;
  const int32_t stride_w = p->stride_w;
  const float act_min = p->act_min, act_max = p->act_max;
  const int act_max_binds = act_max < INFINITY;
  const int32_t planes = p->batch * p->channels;
  for (int32_t plane = 0; plane < planes; ++plane) {
    const float *source = input + plane * p->in_h * in_w;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
      const int row_inside = oy >= row_first && oy < row_end;
      const int32_t origin_y = oy * p->stride_h - p->pad_top;
      for (int32_t ox = 0; ox < p->out_w; ++ox) {
        const int32_t origin_x = ox * stride_w - p->pad_left;
        float value;
        int done = 0;
        if (row_inside && ox >= col_first && ox < col_end) {
          const float *x = source + (origin_y * in_w + origin_x);
          done = is_max ? inside_max(x, kernel_h, kernel_w, row_step, col_step, &value)
                        : inside_mean(x, kernel_h, kernel_w, row_step, col_step, &value);
        }
        if (!done) {
          pool_window_t window;
          window.origin_y = origin_y;
          window.origin_x = origin_x;
          window.rows = es_f32_taps_inside(origin_y, p->kernel_h, p->dilation_h, p->in_h);
          window.cols = es_f32_taps_inside(origin_x, p->kernel_w, p->dilation_w, in_w);
          value = is_max ? window_max(p, source, &window) : window_mean(p, source, &window);
        }
        *output++ = es_f32_clamp_below(value, act_min, act_max, act_max_binds);
      }
    }
  }
}

void es_max_pool2d_fast_f32(const es_pool2d_f32_params_t *p, const float *input, float *output) {
  if (p->kernel_h == 2 && p->kernel_w == 2)
    pool2d_fast(p, input, output, 1, 2, 2);
  else if (p->kernel_h == 3 && p->kernel_w == 3)
    pool2d_fast(p, input, output, 1, 3, 3);
  else
    pool2d_fast(p, input, output, 1, p->kernel_h, p->kernel_w);
}

void es_avg_pool2d_fast_f32(const es_pool2d_f32_params_t *p, const float *input, float *output) {
  if (p->kernel_h == 2 && p->kernel_w == 2)
    pool2d_fast(p, input, output, 0, 2, 2);
  else if (p->kernel_h == 3 && p->kernel_w == 3)
    pool2d_fast(p, input, output, 0, 3, 3);
  else
    pool2d_fast(p, input, output, 0, p->kernel_h, p->kernel_w);
}
