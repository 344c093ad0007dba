/* Windowed and global pools (docs/int8.md "MaxPool" and "AveragePool / GlobalAveragePool"). */
#include "s8_internal.h"

/* One output position's window: the taps [first, end) per axis that land inside the input, and
 * where the window starts in input coordinates. */
typedef struct {
  int32_t y0, x0;
  int32_t ky_first, ky_end;
  int32_t kx_first, kx_end;
} window_t;

static window_t window_at(const es_pool2d_s8_params_t *p, int32_t oy, int32_t ox) {
  window_t w;
  w.y0 = oy * p->stride_h - p->pad_top;
  w.x0 = ox * p->stride_w - p->pad_left;
  es_s8_window_taps(w.y0, p->dilation_h, p->kernel_h, p->in_h, &w.ky_first, &w.ky_end);
  es_s8_window_taps(w.x0, p->dilation_w, p->kernel_w, p->in_w, &w.kx_first, &w.kx_end);
  return w;
}

static int8_t window_element(const es_pool2d_s8_params_t *p, const int8_t *plane, const window_t *w,
                             int32_t ky, int32_t kx) {
  return plane[(w->y0 + ky * p->dilation_h) * p->in_w + w->x0 + kx * p->dilation_w];
}

void es_max_pool2d_s8(const es_pool2d_s8_params_t *p, const int8_t *input, int8_t *output) {
  for (int32_t plane_index = 0; plane_index < p->batch * p->channels; ++plane_index) {
    const int8_t *plane = input + plane_index * p->in_h * p->in_w;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
      for (int32_t ox = 0; ox < p->out_w; ++ox) {
        const window_t w = window_at(p, oy, ox);
        int32_t largest = p->act_min;
        for (int32_t ky = w.ky_first; ky < w.ky_end; ++ky) {
          for (int32_t kx = w.kx_first; kx < w.kx_end; ++kx) {
            const int32_t x = window_element(p, plane, &w, ky, kx);
            if (x > largest) largest = x;
          }
        }
        *output++ = (int8_t)(largest > p->act_max ? p->act_max : largest);
      }
    }
  }
}

/* The count_include_pad divisor along one axis: taps inside the input or its declared padding
 * [-pad_begin, size + pad_end). */
static int32_t taps_in_padded_axis(int32_t start, int32_t dilation, int32_t kernel, int32_t size,
                                   int32_t pad_begin, int32_t pad_end) {
  int32_t first, end;
  es_s8_window_taps(start + pad_begin, dilation, kernel, pad_begin + size + pad_end, &first, &end);
  return end - first;
}

static int32_t counted_elements(const es_pool2d_s8_params_t *p, const window_t *w) {
  if (!p->count_include_pad) return (w->ky_end - w->ky_first) * (w->kx_end - w->kx_first);
  return taps_in_padded_axis(w->y0, p->dilation_h, p->kernel_h, p->in_h, p->pad_top,
                             p->pad_bottom) *
         taps_in_padded_axis(w->x0, p->dilation_w, p->kernel_w, p->in_w, p->pad_left, p->pad_right);
}

void es_avg_pool2d_s8(const es_pool2d_s8_params_t *p, const es_requant_t *per_count,
                      const int8_t *input, int8_t *output) {
  for (int32_t plane_index = 0; plane_index < p->batch * p->channels; ++plane_index) {
    const int8_t *plane = input + plane_index * p->in_h * p->in_w;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
      for (int32_t ox = 0; ox < p->out_w; ++ox) {
        const window_t w = window_at(p, oy, ox);
        int64_t sum = 0;
        for (int32_t ky = w.ky_first; ky < w.ky_end; ++ky)
          for (int32_t kx = w.kx_first; kx < w.kx_end; ++kx)
            sum += window_element(p, plane, &w, ky, kx) - p->input_zp;
        *output++ = es_s8_rescale_once_output(sum, per_count[counted_elements(p, &w) - 1],
                                              p->output_zp, p->act_min, p->act_max);
      }
    }
  }
}

void es_avg_pool2d_same_scale_s8(const es_pool2d_s8_params_t *p, const int8_t *input,
                                 int8_t *output) {
  for (int32_t plane_index = 0; plane_index < p->batch * p->channels; ++plane_index) {
    const int8_t *plane = input + plane_index * p->in_h * p->in_w;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
      for (int32_t ox = 0; ox < p->out_w; ++ox) {
        const window_t w = window_at(p, oy, ox);
        const int32_t inside = (w.ky_end - w.ky_first) * (w.kx_end - w.kx_first);
        const int32_t count = counted_elements(p, &w);
        int32_t sum = (count - inside) * p->input_zp;
        for (int32_t ky = w.ky_first; ky < w.ky_end; ++ky)
          for (int32_t kx = w.kx_first; kx < w.kx_end; ++kx)
            sum += window_element(p, plane, &w, ky, kx);
        /* TFLite's rounded integer division: halves away from zero. */
        int32_t average = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
        average = average < p->act_min ? p->act_min : average;
        *output++ = (int8_t)(average > p->act_max ? p->act_max : average);
      }
    }
  }
}

void es_global_avg_pool_s8(const es_global_avg_pool_s8_params_t *p, const int8_t *input,
                           int8_t *output) {
  const es_reduce_mean_s8_params_t mean = {.outer = p->batch * p->channels,
                                           .reduce = p->size,
                                           .inner = 1,
                                           .input_zp = p->input_zp,
                                           .output_zp = p->output_zp,
                                           .requant = p->requant,
                                           .act_min = p->act_min,
                                           .act_max = p->act_max};
  es_reduce_mean_s8(&mean, input, output);
}
