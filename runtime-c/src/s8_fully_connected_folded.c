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
  int32x4_t y = es_s8_round_shift4(es_s8_high_mul4(vld1q_s32(acc), multiplier), shift);
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

/* es_s8_rescale_output of one accumulator with the factor at *factor, which moves on to the next
 * (one LDRD loads the factor's two words): es_s8_rescale_saturated. An activation range narrower
 * than int8's is clamped afterwards (clamp_outputs). */
ES_S8_ALWAYS_INLINE int32_t dsp_rescale(int32_t acc, const es_requant_t **factor,
                                        int32_t zp_twice_plus_one) {
  int32_t multiplier, shift;
  __asm__("ldrd %[multiplier], %[shift], [%[factor]], #8"
          : [multiplier] "=r"(multiplier), [shift] "=r"(shift), [factor] "+r"(*factor)
          :
          : "memory");
  return es_s8_rescale_saturated(acc, multiplier, ~shift, zp_twice_plus_one);
}

/* Passes of four weight rows from w against the input, each rescaled into four outputs as soon
 * as its accumulators are complete (they never leave the registers): each group of four inputs
 * is sign-extended once into its even and odd bytes and feeds all four rows, the last
 * k_size % 4 inputs are multiplied one by one. A function of its own (a leaf) so that the
 * thirteen values of the inner loop stay in registers; the rows' part is written out, as gcc 12
 * spills pointers of the same loop in C to the stack. */
static ES_S8_NOINLINE void dsp_four_row_passes(const int8_t *x, const int8_t *w, int32_t k_size,
                                               int32_t passes, const int32_t *bias,
                                               const es_requant_t *per_channel,
                                               int32_t zp_twice_plus_one, int8_t *out) {
  const int8_t *const x_groups_end = x + (k_size & ~3);
  for (; passes != 0; --passes) {
    int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
    const int8_t *xk = x, *w0 = w, *w1 = w + k_size;
    while (xk != x_groups_end) {
      const int32_t in = es_s8_load4(xk);
      const int32_t even = __sxtb16(in), odd = es_s8_sxtb16_odd(in);
      xk += 4;
      /* Rows r and r + 2, the latter at 2 * k_size past the former (a shifted register
       * offset): fewer pointers, so the loop fits the registers. */
      dsp_row_pair(&w0, k_size, even, odd, &a0, &a2);
      dsp_row_pair(&w1, k_size, even, odd, &a1, &a3);
    }
    for (int32_t t = 0; t < k_size % 4; ++t) {
      const int32_t in = xk[t];
      a0 += in * w0[t];
      a1 += in * w1[t];
      a2 += in * w0[2 * k_size + t];
      a3 += in * w1[2 * k_size + t];
    }
    out[0] = (int8_t)dsp_rescale(a0, &per_channel, zp_twice_plus_one);
    out[1] = (int8_t)dsp_rescale(a1, &per_channel, zp_twice_plus_one);
    out[2] = (int8_t)dsp_rescale(a2, &per_channel, zp_twice_plus_one);
    out[3] = (int8_t)dsp_rescale(a3, &per_channel, zp_twice_plus_one);
    w += 4 * k_size;
    bias += 4;
    out += 4;
  }
}

/* acc plus one weight row against the input, two SMLADs per group of four. */
ES_S8_ALWAYS_INLINE int32_t dsp_one_row(const int8_t *x, const int8_t *w, int32_t k_size,
                                        int32_t acc) {
  int32_t k = 0;
  for (; k + 3 < k_size; k += 4) {
    const int32_t in = es_s8_load4(x + k), weight = es_s8_load4(w + k);
    acc = __smlad(__sxtb16(in), __sxtb16(weight), acc);
    acc = __smlad(es_s8_sxtb16_odd(in), es_s8_sxtb16_odd(weight), acc);
  }
  for (; k < k_size; ++k) acc += x[k] * w[k];
  return acc;
}

/* One batch row, the DSP body: four-row passes where a row has eight inputs or more (below, a
 * pass's setup costs more than the loads it saves), then the other rows one at a time; rows of
 * one to three inputs with the first input in a register, no loop per output for the first. */
static void dsp_batch_row(const es_fully_connected_s8_params_t *p, const int8_t *x, const int8_t *w,
                          const int32_t *bias, const es_requant_t *per_channel, int8_t *out) {
  const int32_t k_size = p->in_features, out_features = p->out_features;
  const int32_t zp_twice_plus_one = 2 * p->output_zp + 1;
  int32_t m = 0;
  if (k_size >= 8 && out_features >= 4) {
    m = out_features & ~3;
    dsp_four_row_passes(x, w, k_size, m / 4, bias, per_channel, zp_twice_plus_one, out);
    w += m * k_size;
    per_channel += m;
  }
  if (k_size < 4) {
    const int32_t x0 = x[0];
    for (; m < out_features; ++m, w += k_size) {
      int32_t acc = bias[m] + x0 * w[0];
      for (int32_t t = 1; t < k_size; ++t) acc += x[t] * w[t];
      out[m] = (int8_t)dsp_rescale(acc, &per_channel, zp_twice_plus_one);
    }
  }
  for (; m < out_features; ++m, w += k_size)
    out[m] =
        (int8_t)dsp_rescale(dsp_one_row(x, w, k_size, bias[m]), &per_channel, zp_twice_plus_one);
}

/* Outputs clamped to an activation range narrower than int8's, after the DSP body's rescaling
 * saturated them to int8 (clamping to a range within int8 after saturating to int8 clamps once). */
static void clamp_outputs(int8_t *out, int32_t count, int32_t act_min, int32_t act_max) {
  for (int32_t i = 0; i < count; ++i) {
    int32_t y = out[i];
    y = y > act_min ? y : act_min;
    out[i] = (int8_t)(y < act_max ? y : act_max);
  }
}
#endif

#if !ES_S8_USE_DSP
/* acc plus one weight row against the input. */
static inline int32_t one_row(const int8_t *x, const int8_t *w, int32_t k_size, int32_t acc) {
  for (int32_t k = 0; k < k_size; ++k) acc += x[k] * w[k];
  return acc;
}

/* The accumulators of `count` outputs rescaled into out (es_s8_doubled_output, halved and clamped). A
 * loop of its own, with nothing else live, so that gcc keeps its values in registers. */
static ES_S8_NOINLINE void rescale_outputs(const es_fully_connected_s8_params_t *p,
                                           const int32_t *acc, const es_requant_t *per_channel,
                                           int32_t count, int8_t *out) {
  /* Locals, not p->: the int8 output stores could alias *p for all the compiler knows. */
  const int32_t zp_twice_plus_one = 2 * p->output_zp + 1;
  const int32_t act_min = p->act_min, act_max = p->act_max;
  for (int32_t i = 0; i < count; ++i) {
    const int32_t high = es_s8_high_mul(acc[i], per_channel[i].multiplier);
    int32_t y = es_s8_doubled_output(high, ~per_channel[i].shift, zp_twice_plus_one) >> 1;
    y = y > act_min ? y : act_min;
    y = y < act_max ? y : act_max;
    out[i] = (int8_t)y;
  }
}

/* Outputs are computed in blocks: their accumulators first, then the block's rescaling. */
enum { BLOCK = 16 };
#endif

void es_fully_connected_folded_s8(const es_fully_connected_s8_params_t *p, const int8_t *input,
                                  const int8_t *weights, const int32_t *bias_folded,
                                  const es_requant_t *per_channel, int8_t *output) {
  const int32_t k_size = p->in_features, out_features = p->out_features;
  for (int32_t n = 0; n < p->batch; ++n) {
    const int8_t *x = input + n * k_size;
    int8_t *out = output + n * out_features;
#if ES_S8_USE_MVE
    /* Locals, not p->: the int8 output stores could alias *p for all the compiler knows. */
    const int32_t output_zp = p->output_zp, act_min = p->act_min, act_max = p->act_max;
    int32_t m = 0;
    for (; m + 3 < out_features; m += 4) {
      int32_t acc[4] = {bias_folded[m], bias_folded[m + 1], bias_folded[m + 2], bias_folded[m + 3]};
      mve_four_rows(x, weights + m * k_size, k_size, acc);
      mve_store_four(acc, per_channel + m, output_zp, act_min, act_max, out + m);
    }
    for (; m < out_features; ++m) {
      const int8_t *w = weights + m * k_size;
      int32_t acc = bias_folded[m];
      for (int32_t k = 0; k < k_size; ++k) acc += x[k] * w[k];
      out[m] =
          es_s8_rescale_output(acc, es_s8_rescale_of(per_channel[m]), output_zp, act_min, act_max);
    }
#elif ES_S8_USE_DSP
    dsp_batch_row(p, x, weights, bias_folded, per_channel, out);
    if (p->act_min > -128 || p->act_max < 127)
      clamp_outputs(out, out_features, p->act_min, p->act_max);
#else
    for (int32_t m = 0; m < out_features; m += BLOCK) {
      const int32_t count = out_features - m < BLOCK ? out_features - m : BLOCK;
      int32_t acc[BLOCK];
      int32_t i = 0;
      if (k_size < 4) {
        /* A few inputs (a Dense layer of one input, say): each multiplies a column of the
         * block's weights, without a loop per output. */
        const int8_t *w = weights + m * k_size;
        for (; i < count; ++i) acc[i] = bias_folded[m + i] + x[0] * w[i * k_size];
        for (int32_t t = 1; t < k_size; ++t)
          for (int32_t j = 0; j < count; ++j) acc[j] += x[t] * w[j * k_size + t];
      }
      for (; i < count; ++i)
        acc[i] = one_row(x, weights + (m + i) * k_size, k_size, bias_folded[m + i]);
      rescale_outputs(p, acc, per_channel + m, count, out + m);
    }
#endif
  }
}
