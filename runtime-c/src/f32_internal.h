/* Helpers shared by the float32 kernels (f32_*.c); not part of the runtime's API. */
#ifndef ES_F32_INTERNAL_H
#define ES_F32_INTERNAL_H

#include "es_f32.h"
#include "es_index_internal.h"

#include <math.h>

/* Written with comparisons rather than fminf/fmaxf so that NaN passes through, as in ONNX. */
static inline float es_f32_clamp(float x, float lo, float hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/* The order max-like kernels pick by: NaN ranks above every number so that it propagates, as in
 * numpy's max and the compiler's reference. */
static inline int es_f32_ranks_above(float candidate, float best) {
  if (isnan(best)) return 0;
  if (isnan(candidate)) return 1;
  return candidate > best;
}

#endif /* ES_F32_INTERNAL_H */
