/* ONNX LSTM and GRU in float32 (es_f32.h "Recurrent layers"): per step, each gate row's
 * pre-activation is its bias plus the dot products of its W row with x_t and of its R row with
 * h_{t-1}, accumulated in float in that order; then the cell update of the ONNX operator. */
#include "f32_internal.h"
#include "recurrent_internal.h"

static float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

static float dot(const float *a, const float *b, int32_t n) {
  float sum = 0.0f;
  int32_t k;
  for (k = 0; k < n; ++k) sum += a[k] * b[k];
  return sum;
}

static float clipped(const es_recurrent_f32_params_t *p, float x) {
  return es_f32_clamp(x, -p->clip, p->clip);
}

/* The initial state of one batch entry and direction, or zeros. */
static void load_state(const float *initial, int32_t offset, int32_t hidden, float *state) {
  int32_t j;
  for (j = 0; j < hidden; ++j) state[j] = initial ? initial[offset + j] : 0.0f;
}

static void store_state(const float *state, int32_t hidden, float *out) {
  int32_t j;
  if (!out) return;
  for (j = 0; j < hidden; ++j) out[j] = state[j];
}

/* rows[i] = wb[i] + rb[i] (or 0) + w[i] . x + r[i] . h for `count` rows. */
static void gate_rows(const float *w, const float *r, const float *wb, const float *rb,
                      const float *x, const float *h, int32_t count, int32_t input_size,
                      int32_t hidden, float *rows) {
  int32_t i;
  for (i = 0; i < count; ++i)
    rows[i] = (wb ? wb[i] + rb[i] : 0.0f) + dot(w + i * input_size, x, input_size) +
              dot(r + i * hidden, h, hidden);
}

void es_lstm_f32(const es_recurrent_f32_params_t *p, const float *x, const float *w, const float *r,
                 const float *bias, const float *initial_h, const float *initial_c, float *scratch,
                 float *y, float *y_h, float *y_c) {
  const int32_t hidden = p->hidden_size, rows = 4 * hidden;
  const es_recurrent_layout_t l = ES_RECURRENT_LAYOUT_OF(p);
  float *gates = scratch, *h = scratch + rows, *c = h + hidden;
  int32_t d, b, step, j;
  for (d = 0; d < p->directions; ++d) {
    const float *wd = w + d * rows * p->input_size, *rd = r + d * rows * hidden;
    const float *wb = bias ? bias + d * 2 * rows : 0, *rb = bias ? wb + rows : 0;
    for (b = 0; b < p->batch; ++b) {
      const int32_t state = es_recurrent_state_index(&l, d, b) * hidden;
      load_state(initial_h, state, hidden, h);
      load_state(initial_c, state, hidden, c);
      for (step = 0; step < p->seq_length; ++step) {
        const int32_t t = es_recurrent_time(&l, p->reverse, d, step);
        gate_rows(wd, rd, wb, rb, x + es_recurrent_input_index(&l, t, b) * p->input_size, h, rows,
                  p->input_size, hidden, gates);
        for (j = 0; j < hidden; ++j) {
          const float input_gate = sigmoid(clipped(p, gates[j]));
          const float output_gate = sigmoid(clipped(p, gates[hidden + j]));
          const float forget_gate = sigmoid(clipped(p, gates[2 * hidden + j]));
          const float candidate = tanhf(clipped(p, gates[3 * hidden + j]));
          c[j] = forget_gate * c[j] + input_gate * candidate;
          h[j] = output_gate * tanhf(c[j]);
        }
        if (y) store_state(h, hidden, y + es_recurrent_output_index(&l, t, d, b) * hidden);
      }
      if (y_h) store_state(h, hidden, y_h + state);
      if (y_c) store_state(c, hidden, y_c + state);
    }
  }
}

void es_gru_f32(const es_recurrent_f32_params_t *p, const float *x, const float *w, const float *r,
                const float *bias, const float *initial_h, float *scratch, float *y, float *y_h) {
  const int32_t hidden = p->hidden_size, rows = 3 * hidden;
  const es_recurrent_layout_t l = ES_RECURRENT_LAYOUT_OF(p);
  /* gates: update and reset pre-activations, then the hidden gate's input part; recurrent: the
   * hidden gate's recurrent part; reset_h: r * h_{t-1}. */
  float *gates = scratch, *recurrent = gates + rows, *reset_h = recurrent + hidden;
  float *h = reset_h + hidden;
  int32_t d, b, step, j;
  for (d = 0; d < p->directions; ++d) {
    const float *wd = w + d * rows * p->input_size, *rd = r + d * rows * hidden;
    const float *wb = bias ? bias + d * 2 * rows : 0, *rb = bias ? wb + rows : 0;
    const float *w_hidden = wd + 2 * hidden * p->input_size, *r_hidden = rd + 2 * hidden * hidden;
    for (b = 0; b < p->batch; ++b) {
      const int32_t state = es_recurrent_state_index(&l, d, b) * hidden;
      load_state(initial_h, state, hidden, h);
      for (step = 0; step < p->seq_length; ++step) {
        const int32_t t = es_recurrent_time(&l, p->reverse, d, step);
        const float *xt = x + es_recurrent_input_index(&l, t, b) * p->input_size;
        gate_rows(wd, rd, wb, rb, xt, h, 2 * hidden, p->input_size, hidden, gates);
        for (j = 0; j < hidden; ++j) {
          gates[2 * hidden + j] = (wb ? wb[2 * hidden + j] : 0.0f) +
                                  dot(w_hidden + j * p->input_size, xt, p->input_size);
          gates[j] = sigmoid(clipped(p, gates[j]));                   /* update gate z */
          gates[hidden + j] = sigmoid(clipped(p, gates[hidden + j])); /* reset gate r */
          reset_h[j] = gates[hidden + j] * h[j];
        }
        for (j = 0; j < hidden; ++j) {
          const float rbh = rb ? rb[2 * hidden + j] : 0.0f;
          recurrent[j] = p->linear_before_reset
                             ? gates[hidden + j] * (dot(r_hidden + j * hidden, h, hidden) + rbh)
                             : dot(r_hidden + j * hidden, reset_h, hidden) + rbh;
        }
        for (j = 0; j < hidden; ++j) {
          const float z = gates[j];
          const float candidate = tanhf(clipped(p, gates[2 * hidden + j] + recurrent[j]));
          h[j] = (1.0f - z) * candidate + z * h[j];
        }
        if (y) store_state(h, hidden, y + es_recurrent_output_index(&l, t, d, b) * hidden);
      }
      if (y_h) store_state(h, hidden, y_h + state);
    }
  }
}
