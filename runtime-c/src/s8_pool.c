/* Windowed and global pools (docs/int8.md "MaxPool" and "AveragePool / GlobalAveragePool"). */
#include "s8_fast_internal.h"
#include "s8_mean_internal.h"

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

/* The largest element of output (oy, ox)'s window, any window, not below act_min: the
 * reference's loop. A function of its own, so that the specialised copies of max_pool2d_fast
 * share it. */
static ES_S8_NOINLINE int32_t window_max(const es_pool2d_s8_params_t *p, const int8_t *plane,
                                         int32_t oy, int32_t ox) {
  const window_t w = window_at(p, oy, ox);
  int32_t largest = p->act_min;
  for (int32_t ky = w.ky_first; ky < w.ky_end; ++ky) {
    for (int32_t kx = w.kx_first; kx < w.kx_end; ++kx) {
      const int32_t x = window_element(p, plane, &w, ky, kx);
      if (x > largest) largest = x;
    }
  }
  return largest;
}

void es_max_pool2d_s8(const es_pool2d_s8_params_t *p, const int8_t *input, int8_t *output) {
  for (int32_t plane_index = 0; plane_index < p->batch * p->channels; ++plane_index) {
    const int8_t *plane = input + plane_index * p->in_h * p->in_w;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
      for (int32_t ox = 0; ox < p->out_w; ++ox) {
        const int32_t largest = window_max(p, plane, oy, ox);
        *output++ = (int8_t)(largest > p->act_max ? p->act_max : largest);
      }
    }
  }
}

/* The largest of a window wholly inside the input, first tap at x, not below act_min (the
 * reference's starting value). */
ES_S8_ALWAYS_INLINE int32_t inside_max(const int8_t *x, int32_t act_min, int32_t kernel_h,
                                       int32_t kernel_w, int32_t row_step, int32_t col_step) {
  int32_t largest = act_min;
  for (int32_t ky = 0; ky < kernel_h; ++ky) {
    for (int32_t kx = 0; kx < kernel_w; ++kx) {
      const int32_t value = x[ky * row_step + kx * col_step];
      largest = value > largest ? value : largest;
    }
  }
  return largest;
}

/* es_max_pool2d_s8 with the run of windows wholly inside the input on each output row read
 * without per-tap bounds (the 1-D window of two taps, common after a 1-D convolution, with the
 * kernel size constant so that the taps unroll, and on DSP cores (`pairs`) two windows a word
 * at stride 2); the other windows go through window_max. */
ES_S8_ALWAYS_INLINE void max_pool2d_fast(const es_pool2d_s8_params_t *p, const int8_t *input,
                                         int8_t *output, int32_t kernel_h, int32_t kernel_w,
                                         const int pairs) {
#if !ES_S8_USE_DSP
  (void)pairs;
#endif
  int32_t row_first, row_end, col_first, col_end;
  es_inside_outputs(p->pad_top, p->stride_h, p->kernel_h, p->dilation_h, p->in_h, p->out_h,
                    &row_first, &row_end);
  es_inside_outputs(p->pad_left, p->stride_w, p->kernel_w, p->dilation_w, p->in_w, p->out_w,
                    &col_first, &col_end);
  /* Locals, not p->: the int8 output stores could alias *p for all the compiler knows. */
  const int32_t in_w = p->in_w, out_w = p->out_w, row_step = p->dilation_h * in_w;
  const int32_t col_step = p->dilation_w, stride_w = p->stride_w;
  const int32_t act_min = p->act_min, act_max = p->act_max;
  const int32_t planes = p->batch * p->channels, plane_size = p->in_h * in_w;
  for (int32_t plane_index = 0; plane_index < planes; ++plane_index) {
    const int8_t *plane = input + plane_index * plane_size;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
      const int row_inside = oy >= row_first && oy < row_end;
      const int32_t inside_first = row_inside ? col_first : out_w;
      const int32_t inside_end = row_inside ? col_end : out_w;
      int32_t ox = 0;
      for (; ox < inside_first; ++ox) {
        const int32_t largest = window_max(p, plane, oy, ox);
        *output++ = (int8_t)(largest > act_max ? act_max : largest);
      }
      if (ox < inside_end) {
        /* Offsets, not a pointer stepped along the row, which would point outside the input
         * before the first window (padding) and after the last. */
        const int32_t row_start = (oy * p->stride_h - p->pad_top) * in_w - p->pad_left;
#if ES_S8_USE_DSP
        if (pairs && stride_w == 2 && col_step == 1) {
          /* Two windows a word: the bytes (b0, b1, b2, b3) against the word rotated by a byte
           * give max(b0, b1) and max(b2, b3) in bytes 0 and 2 (SSUB8 sets a flag per byte, SEL
           * picks by them), then act_min and act_max the same way. */
          const uint32_t lowest = 0x01010101u * (uint8_t)act_min;
          const uint32_t highest = 0x01010101u * (uint8_t)act_max;
          for (; ox + 1 < inside_end; ox += 2, output += 2) {
            const uint32_t word = (uint32_t)es_s8_load4(plane + row_start + ox * 2);
            const uint32_t rotated = word >> 8 | word << 24;
            (void)__ssub8((int32_t)word, (int32_t)rotated);
            uint32_t largest = __sel(word, rotated);
            (void)__ssub8((int32_t)largest, (int32_t)lowest);
            largest = __sel(largest, lowest);
            (void)__ssub8((int32_t)highest, (int32_t)largest);
            largest = __sel(largest, highest);
            /* Stored as the bytes they are (a character type may access any object). */
            ((uint8_t *)output)[0] = (uint8_t)largest;
            ((uint8_t *)output)[1] = (uint8_t)(largest >> 16);
          }
        }
#endif
        for (; ox < inside_end; ++ox) {
          const int32_t largest = inside_max(plane + row_start + ox * stride_w, act_min, kernel_h,
                                             kernel_w, row_step, col_step);
          *output++ = (int8_t)(largest > act_max ? act_max : largest);
        }
      }
      for (; ox < out_w; ++ox) {
        const int32_t largest = window_max(p, plane, oy, ox);
        *output++ = (int8_t)(largest > act_max ? act_max : largest);
      }
    }
  }
}

void es_max_pool2d_fast_s8(const es_pool2d_s8_params_t *p, const int8_t *input, int8_t *output) {
  if (p->kernel_h == 1 && p->kernel_w == 2)
    max_pool2d_fast(p, input, output, 1, 2, 1);
  else
    max_pool2d_fast(p, input, output, p->kernel_h, p->kernel_w, 0);
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

static int32_t run_sum(const int8_t *x, int32_t size);

/* TFLite's rounded integer division of a window's sum by its count (halves away from zero),
 * clamped to the activation range. */
static inline int8_t rounded_average(int32_t sum, int32_t count, int32_t act_min, int32_t act_max) {
  int32_t average = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
  average = average < act_min ? act_min : average;
  return (int8_t)(average > act_max ? act_max : average);
}

/* Output (oy, ox) of es_avg_pool2d_same_scale_s8, any window: tap by tap within the bounds, the
 * padded taps it counts reading Zx. */
static ES_S8_NOINLINE int8_t window_average(const es_pool2d_s8_params_t *p, const int8_t *plane,
                                            int32_t oy, int32_t ox) {
  const window_t w = window_at(p, oy, ox);
  const int32_t inside = (w.ky_end - w.ky_first) * (w.kx_end - w.kx_first);
  const int32_t count = counted_elements(p, &w);
  int32_t sum = (count - inside) * p->input_zp;
  for (int32_t ky = w.ky_first; ky < w.ky_end; ++ky)
    for (int32_t kx = w.kx_first; kx < w.kx_end; ++kx) sum += window_element(p, plane, &w, ky, kx);
  return rounded_average(sum, count, p->act_min, p->act_max);
}

/* The sum of `size` consecutive int8 values (size < 2^24). */
static int32_t contiguous_sum(const int8_t *x, int32_t size) {
#if ES_S8_USE_MVE
  /* Sixteen bytes per VADDVA, the last group under a tail predicate. */
  int32_t sum = 0;
  for (int32_t k = 0; k < size; k += 16) {
    const mve_pred16_t lanes = vctp8q((uint32_t)(size - k));
    sum = vaddvaq_p_s8(sum, vld1q_z_s8(x + k, lanes), lanes);
  }
  return sum;
#else
  return run_sum(x, size);
#endif
}

/* Windows wholly inside the input with dilation 1 along the row are `kernel_h` runs of
 * `kernel_w` bytes, one run when the rows follow each other (a window as wide as the input),
 * summed without per-tap bounds; the others take window_average. Inside windows count every tap,
 * padding or not. */
void es_avg_pool2d_same_scale_s8(const es_pool2d_s8_params_t *p, const int8_t *input,
                                 int8_t *output) {
  int32_t row_first, row_end, col_first, col_end;
  es_inside_outputs(p->pad_top, p->stride_h, p->kernel_h, p->dilation_h, p->in_h, p->out_h,
                    &row_first, &row_end);
  es_inside_outputs(p->pad_left, p->stride_w, p->kernel_w, p->dilation_w, p->in_w, p->out_w,
                    &col_first, &col_end);
  if (p->dilation_w != 1) col_first = col_end = p->out_w;
  /* Locals, not p->: the int8 output stores could alias *p for all the compiler knows. */
  const int32_t in_w = p->in_w, out_w = p->out_w, stride_w = p->stride_w;
  const int32_t act_min = p->act_min, act_max = p->act_max, count = p->kernel_h * p->kernel_w;
  const int32_t row_step = p->dilation_h * in_w, plane_size = p->in_h * in_w;
  const int32_t runs = row_step == p->kernel_w ? 1 : p->kernel_h;
  const int32_t run = runs == 1 ? count : p->kernel_w;
  for (int32_t plane_index = 0; plane_index < p->batch * p->channels; ++plane_index) {
    const int8_t *plane = input + plane_index * plane_size;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
      const int row_inside = oy >= row_first && oy < row_end;
      const int32_t inside_first = row_inside ? col_first : out_w;
      const int32_t inside_end = row_inside ? col_end : out_w;
      int32_t ox = 0;
      for (; ox < inside_first; ++ox) *output++ = window_average(p, plane, oy, ox);
      /* Offsets, not a pointer stepped along the row, which would point outside the input
       * before the first window (padding). */
      const int32_t row_start = (oy * p->stride_h - p->pad_top) * in_w - p->pad_left;
      for (; ox < inside_end; ++ox) {
        const int8_t *x = plane + row_start + ox * stride_w;
        int32_t sum = 0;
        for (int32_t r = 0; r < runs; ++r) sum += contiguous_sum(x + r * row_step, run);
        *output++ = rounded_average(sum, count, act_min, act_max);
      }
      for (; ox < out_w; ++ox) *output++ = window_average(p, plane, oy, ox);
    }
  }
}

/* The sum of `size` int8 values, exact in int32 as size < 2^24. On DSP cores USADA8 adds four
 * bytes at a time: each value x is taken as the unsigned byte x + 128 (x ^ 0x80), and the
 * 128 * 4 that adds per word is taken off once at the end. */
static inline int32_t run_sum(const int8_t *x, int32_t size) {
  int32_t sum = 0, k = 0;
#if ES_S8_USE_DSP
  uint32_t biased = 0;
  for (; k + 3 < size; k += 4) biased = __usada8((uint32_t)es_s8_load4(x + k) ^ 0x80808080u, 0u,
                                                 biased);
  sum = (int32_t)(biased - 128u * (uint32_t)k);
#endif
  for (; k < size; ++k) sum += x[k];
  return sum;
}

/* es_reduce_mean_s8 over [batch * channels, size, 1] (the reference), with each plane summed as
 * stored, in runs of under 2^24 values, and its zero point's share, Zx * size, subtracted once:
 * the same integer sum. Planes of under 2^23 values (whose sum fits int32) by a factor below
 * 1/2, as global pools have, take the int32 rescaling above. */
void es_global_avg_pool_s8(const es_global_avg_pool_s8_params_t *p, const int8_t *input,
                           int8_t *output) {
  const int32_t planes = p->batch * p->channels, size = p->size;
  const int32_t output_zp = p->output_zp, act_min = p->act_min, act_max = p->act_max;
  if (size < (1 << 23) && once_rescale_applies(p->requant)) {
    const once_rescale_t r = once_rescale_of(p->requant);
    const int32_t zero_share = p->input_zp * size;
    for (int32_t plane = 0; plane < planes; ++plane) {
      int32_t y = once_rescale(run_sum(input + plane * size, size) - zero_share, &r) + output_zp;
      y = y > act_min ? y : act_min;
      output[plane] = (int8_t)(y < act_max ? y : act_max);
    }
    return;
  }
  const int32_t run = (1 << 24) - 1;
  const int64_t zero_share = (int64_t)p->input_zp * size;
  for (int32_t plane = 0; plane < planes; ++plane) {
    const int8_t *x = input + plane * size;
    int64_t sum = -zero_share;
    for (int32_t k = 0; k < size; k += run) sum += run_sum(x + k, size - k < run ? size - k : run);
    output[plane] = es_s8_rescale_once_output(sum, p->requant, output_zp, act_min, act_max);
  }
}
