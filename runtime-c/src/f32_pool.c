/* Float32 pooling: windowed max/average pools and the global pools. */
#include "f32_internal.h"

/* The taps [first, end) of one window axis that land in [0, size), the window starting at
 * `origin` (negative in the leading padding). */
typedef struct {
  int32_t first;
  int32_t end;
} tap_range_t;

static tap_range_t taps_inside(int32_t origin, int32_t kernel, int32_t dilation, int32_t size) {
  tap_range_t range = {0, kernel};
  while (range.first < kernel && origin + range.first * dilation < 0) ++range.first;
  while (range.end > range.first && origin + (range.end - 1) * dilation >= size) --range.end;
  return range;
}

/* One window: where it starts in the input and which of its taps read input elements. */
typedef struct {
  int32_t origin_y;
  int32_t origin_x;
  tap_range_t rows;
  tap_range_t cols;
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
    const tap_range_t padded_rows =
        taps_inside(window->origin_y + p->pad_top, p->kernel_h, p->dilation_h,
                    p->pad_top + p->in_h + p->pad_bottom);
    const tap_range_t padded_cols =
        taps_inside(window->origin_x + p->pad_left, p->kernel_w, p->dilation_w,
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
        window.rows = taps_inside(window.origin_y, p->kernel_h, p->dilation_h, p->in_h);
        window.cols = taps_inside(window.origin_x, p->kernel_w, p->dilation_w, p->in_w);
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
