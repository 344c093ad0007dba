/* Layout helpers shared by the recurrent kernels (f32_recurrent.c, s8_recurrent.c); not part of
 * the runtime's API. Vector indices (to multiply by the vector's length) of one batch entry in
 * ONNX's tensors, for either layout; see es_f32.h "Recurrent layers". */
#ifndef ES_RECURRENT_INTERNAL_H
#define ES_RECURRENT_INTERNAL_H

#include <stdint.h>

typedef struct {
  int32_t seq_length;
  int32_t batch;
  int32_t directions;
  int32_t batch_major;
} es_recurrent_layout_t;

/* The layout of a kernel's parameters (es_recurrent_f32_params_t or es_recurrent_s8_params_t,
 * whose fields of these names agree). */
#define ES_RECURRENT_LAYOUT_OF(p)                                                                  \
  es_recurrent_layout((p)->seq_length, (p)->batch, (p)->directions, (p)->batch_major)

static inline es_recurrent_layout_t es_recurrent_layout(int32_t seq_length, int32_t batch,
                                                        int32_t directions, int32_t batch_major) {
  es_recurrent_layout_t l;
  l.seq_length = seq_length;
  l.batch = batch;
  l.directions = directions;
  l.batch_major = batch_major;
  return l;
}

/* x[t][b] (or x[b][t]). */
static inline int32_t es_recurrent_input_index(const es_recurrent_layout_t *l, int32_t t,
                                               int32_t b) {
  return l->batch_major ? b * l->seq_length + t : t * l->batch + b;
}

/* y[t][d][b] (or y[b][t][d]). */
static inline int32_t es_recurrent_output_index(const es_recurrent_layout_t *l, int32_t t,
                                                int32_t d, int32_t b) {
  return l->batch_major ? (b * l->seq_length + t) * l->directions + d
                        : (t * l->directions + d) * l->batch + b;
}

/* states[d][b] (or states[b][d]). */
static inline int32_t es_recurrent_state_index(const es_recurrent_layout_t *l, int32_t d,
                                               int32_t b) {
  return l->batch_major ? b * l->directions + d : d * l->batch + b;
}

/* The time index of step `step` of direction d: the second direction of a bidirectional layer,
 * or a single reverse one, walks backwards. */
static inline int32_t es_recurrent_time(const es_recurrent_layout_t *l, int32_t reverse, int32_t d,
                                        int32_t step) {
  return (reverse || d == 1) ? l->seq_length - 1 - step : step;
}

#endif /* ES_RECURRENT_INTERNAL_H */
