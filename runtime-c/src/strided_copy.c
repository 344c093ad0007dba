/* Slice and Gather as strided copies, one body for float32 and int8 (the element type is all that
 * differs: values are moved, never rescaled). */
#include "es_f32.h"
#include "es_index_internal.h"
#include "es_s8.h"

/* Every offset computed lies inside its tensor (es_common.h), and products of a coordinate and
 * its stride are bounded by the tensor's element count, which the compiler checks fits int32_t. */
#define ES_STRIDED_COPY_BODY                                                                       \
  int32_t index[ES_MAX_RANK] = {0, 0, 0, 0};                                                       \
  const int32_t count = es_element_count(p->shape);                                                \
  int32_t i;                                                                                       \
  for (i = 0; i < count; ++i) {                                                                    \
    output[p->out_offset + es_offset(index, p->out_strides)] =                                     \
        input[p->in_offset + es_offset(index, p->in_strides)];                                     \
    es_next_index(index, p->shape);                                                                \
  }

void es_strided_copy_f32(const es_strided_copy_params_t *p, const float *input, float *output) {
  ES_STRIDED_COPY_BODY
}

void es_strided_copy_s8(const es_strided_copy_params_t *p, const int8_t *input, int8_t *output) {
  ES_STRIDED_COPY_BODY
}
