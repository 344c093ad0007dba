/* ONNX LSTM and GRU in integers: docs/int8.md "LSTM and GRU", step by step. */
#include "es_s8.h"
#include "recurrent_internal.h"

#include <string.h>

#define Q15_ONE 32768

static int32_t saturate_i32(int64_t x) {
  return x > INT32_MAX ? INT32_MAX : (x < INT32_MIN ? INT32_MIN : (int32_t)x);
}

static int32_t saturate_i16(int64_t x) {
  return x > INT16_MAX ? INT16_MAX : (x < INT16_MIN ? INT16_MIN : (int32_t)x);
}

/* bias + sum (x[k] - zp) * w[k], accumulated in 64 bits and saturated to int32. */
static int32_t dot_s8(const int8_t *w, const int8_t *x, int32_t n, int32_t zp, int32_t bias) {
  int64_t sum = bias;
  int32_t k;
  for (k = 0; k < n; ++k) sum += (int64_t)(x[k] - zp) * w[k];
  return saturate_i32(sum);
}

/* The same over a state vector (zero point 0). */
static int32_t dot_state(const int8_t *w, const int8_t *h, int32_t n, int32_t bias) {
  int64_t sum = bias;
  int32_t k;
  for (k = 0; k < n; ++k) sum += (int64_t)h[k] * w[k];
  return saturate_i32(sum);
}

/* f(z / 2^12) in Q0.15 by linear interpolation between the table's points, 1/16 apart. */
static int32_t lookup(const int32_t *table, int32_t z) {
  const int32_t u = z + Q15_ONE; /* [0, 65535] */
  const int32_t i = u >> 8, frac = u & 255;
  return table[i] + es_rounding_divide_by_pot((table[i + 1] - table[i]) * frac, 8);
}

static int32_t clip_gate(const es_recurrent_s8_params_t *p, int64_t z) {
  const int32_t s = saturate_i16(z);
  return s < -p->gate_clip ? -p->gate_clip : (s > p->gate_clip ? p->gate_clip : s);
}

/* A gate row's pre-activation in Q3.12: its input part and its recurrent part, each rescaled. */
static int32_t pre_activation(const es_recurrent_s8_params_t *p, int32_t input_acc,
                              int32_t recurrent_acc, es_requant_t input_requant,
                              es_requant_t recurrent_requant) {
  return clip_gate(p, (int64_t)es_requantize(input_acc, input_requant) +
                          es_requantize(recurrent_acc, recurrent_requant));
}

/* int16 entries of the byte scratch area, through memcpy: the arena is an int8_t array. */
static int32_t load16(const int8_t *area, int32_t i) {
  int16_t value;
  memcpy(&value, area + 2 * i, sizeof value);
  return value;
}

static void store16(int8_t *area, int32_t i, int32_t value) {
  const int16_t narrowed = (int16_t)value;
  memcpy(area + 2 * i, &narrowed, sizeof narrowed);
}

/* An initial state rescaled into the kernel's format (h: int8 at 2^-7, c: int16), or zeros. */
static void load_hidden(const es_recurrent_s8_params_t *p, const int8_t *initial, int32_t offset,
                        int8_t *h) {
  int32_t j;
  for (j = 0; j < p->hidden_size; ++j)
    h[j] = (int8_t)(initial ? es_clamp_i32(es_requantize(initial[offset + j] - p->initial_h_zp,
                                                         p->initial_h_requant),
                                           -128, 127)
                            : 0);
}

/* The hidden state (2^-7) in an output's parameters. */
static void store_hidden(const int8_t *h, int32_t n, es_requant_t requant, int32_t zp,
                         int8_t *out) {
  int32_t j;
  for (j = 0; j < n; ++j)
    out[j] = (int8_t)es_clamp_i32(es_requantize(h[j], requant) + zp, -128, 127);
}

/* o * tanh(c) (Q0.15 times Q0.15) as int8 at 2^-7. */
static int32_t hidden_value(const int32_t *tanh_table, int32_t output_gate, int32_t cell,
                            int32_t cell_shift) {
  const int32_t tanh_input = cell_shift >= 12
                                 ? es_rounding_divide_by_pot(cell, cell_shift - 12)
                                 : saturate_i16((int64_t)cell * (1 << (12 - cell_shift)));
  return es_clamp_i32(es_rounding_divide_by_pot(output_gate * lookup(tanh_table, tanh_input), 23),
                      -128, 127);
}

void es_lstm_s8(const es_recurrent_s8_params_t *p, const int8_t *x, const int8_t *w,
                const int8_t *r, const int32_t *bias, const es_requant_t *input_requant,
                const es_requant_t *recurrent_requant, const int32_t *tables,
                const int8_t *initial_h, const int8_t *initial_c, int8_t *scratch, int8_t *y,
                int8_t *y_h, int8_t *y_c) {
  const int32_t hidden = p->hidden_size, rows = 4 * hidden, in = p->input_size;
  const int32_t *sigmoid_table = tables, *tanh_table = tables + ES_RECURRENT_TABLE_SIZE;
  const es_recurrent_layout_t l = ES_RECURRENT_LAYOUT_OF(p);
  /* int16 gates (rows) and cell state (hidden), then the int8 hidden state. */
  int8_t *gates = scratch, *c = gates + 2 * rows, *h = c + 2 * hidden;
  int32_t d, b, step, j;
  for (d = 0; d < p->directions; ++d) {
    const int8_t *wd = w + d * rows * in, *rd = r + d * rows * hidden;
    const int32_t *bd = bias + d * rows;
    const es_requant_t *mx = input_requant + d * rows, *mh = recurrent_requant + d * rows;
    for (b = 0; b < p->batch; ++b) {
      const int32_t state = es_recurrent_state_index(&l, d, b) * hidden;
      load_hidden(p, initial_h, state, h);
      for (j = 0; j < hidden; ++j)
        store16(c, j,
                initial_c ? saturate_i16(es_requantize(initial_c[state + j] - p->initial_c_zp,
                                                       p->initial_c_requant))
                          : 0);
      for (step = 0; step < p->seq_length; ++step) {
        const int32_t t = es_recurrent_time(&l, p->reverse, d, step);
        const int8_t *xt = x + es_recurrent_input_index(&l, t, b) * in;
        for (j = 0; j < rows; ++j)
          store16(gates, j,
                  pre_activation(p, dot_s8(wd + j * in, xt, in, p->input_zp, bd[j]),
                                 dot_state(rd + j * hidden, h, hidden, 0), mx[j], mh[j]));
        for (j = 0; j < hidden; ++j) {
          const int32_t input_gate = lookup(sigmoid_table, load16(gates, j));
          const int32_t output_gate = lookup(sigmoid_table, load16(gates, hidden + j));
          const int32_t forget_gate = lookup(sigmoid_table, load16(gates, 2 * hidden + j));
          const int32_t candidate = lookup(tanh_table, load16(gates, 3 * hidden + j));
          const int32_t cell =
              saturate_i16((int64_t)es_rounding_divide_by_pot(forget_gate * load16(c, j), 15) +
                           es_rounding_divide_by_pot(input_gate * candidate, 30 - p->cell_shift));
          store16(c, j, cell);
          h[j] = (int8_t)hidden_value(tanh_table, output_gate, cell, p->cell_shift);
        }
        if (y)
          store_hidden(h, hidden, p->y_requant, p->y_zp,
                       y + es_recurrent_output_index(&l, t, d, b) * hidden);
      }
      if (y_h) store_hidden(h, hidden, p->y_h_requant, p->y_h_zp, y_h + state);
      if (y_c)
        for (j = 0; j < hidden; ++j)
          y_c[state + j] = (int8_t)es_clamp_i32(
              es_requantize(load16(c, j), p->y_c_requant) + p->y_c_zp, -128, 127);
    }
  }
}

void es_gru_s8(const es_recurrent_s8_params_t *p, const int8_t *x, const int8_t *w, const int8_t *r,
               const int32_t *bias, const es_requant_t *input_requant,
               const es_requant_t *recurrent_requant, const int32_t *tables,
               const int8_t *initial_h, int8_t *scratch, int8_t *y, int8_t *y_h) {
  const int32_t hidden = p->hidden_size, rows = 3 * hidden, in = p->input_size;
  const int32_t *sigmoid_table = tables, *tanh_table = tables + ES_RECURRENT_TABLE_SIZE;
  const es_recurrent_layout_t l = ES_RECURRENT_LAYOUT_OF(p);
  /* int16 gates: update and reset values (Q0.15), then the hidden gate's pre-activation
   * (Q3.12); int8 reset_h (r * h_{t-1} at 2^-7) and hidden state. */
  int8_t *gates = scratch, *reset_h = gates + 2 * rows, *h = reset_h + hidden;
  int32_t d, b, step, j;
  for (d = 0; d < p->directions; ++d) {
    const int8_t *wd = w + d * rows * in, *rd = r + d * rows * hidden;
    const int32_t *bd = bias + d * 4 * hidden;
    const es_requant_t *mx = input_requant + d * rows, *mh = recurrent_requant + d * rows;
    for (b = 0; b < p->batch; ++b) {
      const int32_t state = es_recurrent_state_index(&l, d, b) * hidden;
      load_hidden(p, initial_h, state, h);
      for (step = 0; step < p->seq_length; ++step) {
        const int32_t t = es_recurrent_time(&l, p->reverse, d, step);
        const int8_t *xt = x + es_recurrent_input_index(&l, t, b) * in;
        /* Update and reset gates; Q0.15 values stay below 2^15 (the sigmoid table's maximum). */
        for (j = 0; j < 2 * hidden; ++j)
          store16(gates, j,
                  lookup(sigmoid_table,
                         pre_activation(p, dot_s8(wd + j * in, xt, in, p->input_zp, bd[j]),
                                        dot_state(rd + j * hidden, h, hidden, 0), mx[j], mh[j])));
        for (j = 0; j < hidden; ++j)
          reset_h[j] = (int8_t)es_rounding_divide_by_pot(load16(gates, hidden + j) * h[j], 15);
        for (j = 0; j < hidden; ++j) {
          const int32_t row = 2 * hidden + j;
          const int32_t input_part =
              es_requantize(dot_s8(wd + row * in, xt, in, p->input_zp, bd[row]), mx[row]);
          int32_t recurrent_part;
          if (p->linear_before_reset) {
            /* r * (R_h h + Rb_h): the product rescaled first, limited to +-16 (Q3.12) so that
             * its product with r fits 32 bits. */
            const int32_t product = es_clamp_i32(
                es_requantize(dot_state(rd + row * hidden, h, hidden, bd[rows + j]), mh[row]),
                -65536, 65536);
            recurrent_part = es_rounding_divide_by_pot(load16(gates, hidden + j) * product, 15);
          } else {
            recurrent_part =
                es_requantize(dot_state(rd + row * hidden, reset_h, hidden, bd[rows + j]), mh[row]);
          }
          store16(gates, row, clip_gate(p, (int64_t)input_part + recurrent_part));
        }
        for (j = 0; j < hidden; ++j) {
          const int32_t update = load16(gates, j);
          const int32_t candidate = lookup(tanh_table, load16(gates, 2 * hidden + j));
          h[j] = (int8_t)es_clamp_i32(
              es_rounding_divide_by_pot((Q15_ONE - update) * candidate + update * (h[j] * 256), 23),
              -128, 127);
        }
        if (y)
          store_hidden(h, hidden, p->y_requant, p->y_zp,
                       y + es_recurrent_output_index(&l, t, d, b) * hidden);
      }
      if (y_h) store_hidden(h, hidden, p->y_h_requant, p->y_h_zp, y_h + state);
    }
  }
}
