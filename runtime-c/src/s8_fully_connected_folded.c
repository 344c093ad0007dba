/* Fully connected with the input zero point folded into the bias (es_s8.h
 * "Specialised convolutions"). */
#include "s8_fast_internal.h"

#if ES_S8_USE_MVE
/* Four weight rows against one input row, sixteen inputs per VMLADAVA; the rows' last, partial
 * group loads zeros past their end. The loop is written out as in s8_conv2d_gemm.c (gcc 12
 * schedules the intrinsics' loads with extra pointer copies); "Te": VMLADAVA accumulates into
 * even-numbered registers only. */
static void mve_four_rows(const int8_t *x, const int8_t *w0, int32_t k_size, int32_t acc[4]) {
  const int8_t *w1 = w0 + k_size, *w2 = w1 + k_size, *w3 = w2 + k_size;
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  for (uint32_t groups = (uint32_t)k_size / 16; groups != 0; --groups) {
    __asm__("vldrb.u8 q0, [%[x]], #16\n\t"
            "vldrb.u8 q1, [%[w0]], #16\n\t"
            "vmlava.s8 %[a0], q1, q0\n\t"
            "vldrb.u8 q1, [%[w1]], #16\n\t"
            "vmlava.s8 %[a1], q1, q0\n\t"
            "vldrb.u8 q1, [%[w2]], #16\n\t"
            "vmlava.s8 %[a2], q1, q0\n\t"
            "vldrb.u8 q1, [%[w3]], #16\n\t"
            "vmlava.s8 %[a3], q1, q0"
            : [x] "+r"(x), [w0] "+r"(w0), [w1] "+r"(w1), [w2] "+r"(w2), [w3] "+r"(w3),
              [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [a3] "+Te"(a3)
            :
            : "d0", "d1", "d2", "d3", "memory");
  }
  if (k_size % 16 != 0) {
    const mve_pred16_t tail = vctp8q((uint32_t)(k_size % 16));
    const int8x16_t in = vld1q_z_s8(x, tail);
    a0 = vmladavaq_s8(a0, in, vld1q_z_s8(w0, tail));
    a1 = vmladavaq_s8(a1, in, vld1q_z_s8(w1, tail));
    a2 = vmladavaq_s8(a2, in, vld1q_z_s8(w2, tail));
    a3 = vmladavaq_s8(a3, in, vld1q_z_s8(w3, tail));
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

/* Outputs m .. m + 3 rescaled as one vector, each lane with its channel's factor: the rounding
 * of es_s8_rescale4 with per-lane multipliers and shifts. */
static void mve_store_four(const int32_t acc[4], const es_requant_t *per_channel, int32_t output_zp,
                           int32_t act_min, int32_t act_max, int8_t *out) {
  /* The factors' multipliers and shifts: every other int32 of the four es_requant_t. */
  const int32_t *fields = &per_channel->multiplier;
  const int32x4_t multiplier = vldrwq_gather_shifted_offset_s32(fields, vidupq_n_u32(0, 2));
  const int32x4_t shift = vldrwq_gather_shifted_offset_s32(fields, vidupq_n_u32(1, 2));
  int32x4_t y = vqrdmulhq_s32(vld1q_s32(acc), multiplier);
  y = vrshlq_s32(vaddq_s32(y, vshrq_n_s32(y, 31)), shift);
  y = vminq_s32(vmaxq_s32(vaddq_n_s32(y, output_zp), vdupq_n_s32(act_min)), vdupq_n_s32(act_max));
  vstrbq_s32(out, y);
}
#endif

#if ES_S8_USE_DSP && !ES_S8_USE_MVE
/* One group of four inputs (sign-extended) against rows r and r + 2 at *w; *w moves on. */
static inline void dsp_row_pair(const int8_t **w, int32_t k_size, int32_t even, int32_t odd,
                                int32_t *acc, int32_t *acc2) {
  int32_t word, half;
  __asm__(
      "ldr %[word], [%[w], %[k], lsl #1]\n\t"
      "sxtb16 %[half], %[word]\n\t"
      "smlad %[acc2], %[even], %[half], %[acc2]\n\t"
      "sxtb16 %[half], %[word], ror #8\n\t"
      "smlad %[acc2], %[odd], %[half], %[acc2]\n\t"
      "ldr %[word], [%[w]], #4\n\t"
      "sxtb16 %[half], %[word]\n\t"
      "smlad %[acc], %[even], %[half], %[acc]\n\t"
      "sxtb16 %[half], %[word], ror #8\n\t"
      "smlad %[acc], %[odd], %[half], %[acc]"
      : [w] "+r"(*w), [acc] "+r"(*acc), [acc2] "+r"(*acc2), [word] "=&r"(word), [half] "=&r"(half)
      : [k] "r"(k_size), [even] "r"(even), [odd] "r"(odd)
      : "memory");
}

/* Four weight rows against the inputs' groups of four, each group sign-extended once into its
 * even and odd bytes; returns how many inputs it took (a multiple of four). The rows' part is
 * written out: gcc 12 spills pointers of the same loop in C to the stack. */
static int32_t dsp_four_rows(const int8_t *x, const int8_t *w0, int32_t k_size, int32_t acc[4]) {
  const int8_t *w1 = w0 + k_size;
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  const int32_t taken = k_size / 4 * 4;
  for (int32_t groups = taken / 4; groups != 0; --groups) {
    const int32_t in = es_s8_load4(x);
    const int32_t even = __sxtb16(in), odd = es_s8_sxtb16_odd(in);
    x += 4;
    /* Rows r and r + 2, the latter at 2 * k_size past the former (a shifted register offset):
     * fewer pointers, so the loop fits the registers (with a frame pointer reserved, too). */
    dsp_row_pair(&w0, k_size, even, odd, &a0, &a2);
    dsp_row_pair(&w1, k_size, even, odd, &a1, &a3);
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
  return taken;
}
#endif

void es_fully_connected_folded_s8(const es_fully_connected_s8_params_t *p, const int8_t *input,
                                  const int8_t *weights, const int32_t *bias_folded,
                                  const es_requant_t *per_channel, int8_t *output) {
  const int32_t k_size = p->in_features;
  /* Locals, not p->: the int8 output stores could alias *p for all the compiler knows. */
  const int32_t out_features = p->out_features, output_zp = p->output_zp;
  const int32_t act_min = p->act_min, act_max = p->act_max;
  for (int32_t n = 0; n < p->batch; ++n) {
    const int8_t *x = input + n * k_size;
    int8_t *out = output + n * out_features;
    int32_t m = 0;
#if ES_S8_USE_MVE
    for (; m + 3 < out_features; m += 4) {
      int32_t acc[4] = {bias_folded[m], bias_folded[m + 1], bias_folded[m + 2], bias_folded[m + 3]};
      mve_four_rows(x, weights + m * k_size, k_size, acc);
      mve_store_four(acc, per_channel + m, output_zp, act_min, act_max, out + m);
    }
#elif ES_S8_USE_DSP
    /* Four weight rows per pass share each group of four inputs. */
    for (; m + 3 < out_features; m += 4) {
      int32_t acc[4] = {bias_folded[m], bias_folded[m + 1], bias_folded[m + 2], bias_folded[m + 3]};
      const int32_t k = dsp_four_rows(x, weights + m * k_size, k_size, acc);
      const int8_t *w0 = weights + m * k_size, *w1 = w0 + k_size, *w2 = w1 + k_size,
                   *w3 = w2 + k_size;
      for (int32_t t = k; t < k_size; ++t) {
        acc[0] += x[t] * w0[t];
        acc[1] += x[t] * w1[t];
        acc[2] += x[t] * w2[t];
        acc[3] += x[t] * w3[t];
      }
      for (int32_t i = 0; i < 4; ++i)
        out[m + i] = es_s8_rescale_output(acc[i], es_s8_rescale_of(per_channel[m + i]), output_zp,
                                          act_min, act_max);
    }
#endif
    for (; m < out_features; ++m) {
      const int8_t *w = weights + m * k_size;
      int32_t acc = bias_folded[m];
      for (int32_t k = 0; k < k_size; ++k) acc += x[k] * w[k];
      out[m] =
          es_s8_rescale_output(acc, es_s8_rescale_of(per_channel[m]), output_zp, act_min, act_max);
    }
  }
}
