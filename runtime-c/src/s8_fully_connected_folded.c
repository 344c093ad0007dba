/* Fully connected with the input zero point folded into the bias (es_s8.h
 * "Specialised convolutions"). */
#include "s8_fast_internal.h"

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
#if ES_S8_USE_DSP
    /* Four weight rows per pass share each group of four inputs, sign-extended once into its
     * even and odd bytes. */
    for (; m + 3 < out_features; m += 4) {
      const int8_t *w0 = weights + m * k_size, *w1 = w0 + k_size, *w2 = w1 + k_size,
                   *w3 = w2 + k_size;
      int32_t a0 = bias_folded[m], a1 = bias_folded[m + 1], a2 = bias_folded[m + 2],
              a3 = bias_folded[m + 3];
      int32_t k = 0;
      for (; k + 4 <= k_size; k += 4) {
        const int32_t in = es_s8_load4(x + k);
        const int32_t in_even = __sxtb16(in), in_odd = es_s8_sxtb16_odd(in);
        const int32_t row0 = es_s8_load4(w0 + k), row1 = es_s8_load4(w1 + k);
        const int32_t row2 = es_s8_load4(w2 + k), row3 = es_s8_load4(w3 + k);
        a0 = __smlad(in_even, __sxtb16(row0), a0);
        a0 = __smlad(in_odd, es_s8_sxtb16_odd(row0), a0);
        a1 = __smlad(in_even, __sxtb16(row1), a1);
        a1 = __smlad(in_odd, es_s8_sxtb16_odd(row1), a1);
        a2 = __smlad(in_even, __sxtb16(row2), a2);
        a2 = __smlad(in_odd, es_s8_sxtb16_odd(row2), a2);
        a3 = __smlad(in_even, __sxtb16(row3), a3);
        a3 = __smlad(in_odd, es_s8_sxtb16_odd(row3), a3);
      }
      for (; k < k_size; ++k) {
        a0 += x[k] * w0[k];
        a1 += x[k] * w1[k];
        a2 += x[k] * w2[k];
        a3 += x[k] * w3[k];
      }
      out[m] = es_s8_rescale_output(a0, es_s8_rescale_of(per_channel[m]), output_zp, act_min,
                                    act_max);
      out[m + 1] = es_s8_rescale_output(a1, es_s8_rescale_of(per_channel[m + 1]), output_zp,
                                        act_min, act_max);
      out[m + 2] = es_s8_rescale_output(a2, es_s8_rescale_of(per_channel[m + 2]), output_zp,
                                        act_min, act_max);
      out[m + 3] = es_s8_rescale_output(a3, es_s8_rescale_of(per_channel[m + 3]), output_zp,
                                        act_min, act_max);
    }
#endif
    for (; m < out_features; ++m) {
      const int8_t *w = weights + m * k_size;
      int32_t acc = bias_folded[m];
      for (int32_t k = 0; k < k_size; ++k) acc += x[k] * w[k];
      out[m] = es_s8_rescale_output(acc, es_s8_rescale_of(per_channel[m]), output_zp, act_min,
                                    act_max);
    }
  }
}
