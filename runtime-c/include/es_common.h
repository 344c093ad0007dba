/* edgesplit runtime: types and fixed-point primitives shared by every kernel.
 * C99, no allocation, no floating point in the int8 path. The arithmetic is specified in
 * docs/int8.md; the compiler's int8 reference and the generated code both call these kernels. */
#ifndef ES_COMMON_H
#define ES_COMMON_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element-wise kernels (broadcasting, pad, transpose) see tensors as 4-D, padded with leading 1s.
 */
#define ES_MAX_RANK 4

/* How Pad fills the border. */
typedef enum {
  ES_PAD_CONSTANT,
  ES_PAD_EDGE,   /* repeats the border element */
  ES_PAD_REFLECT /* mirrors without repeating the border, periodically like numpy */
} es_pad_mode_t;

/* A block of up to 4-D (right-aligned, leading dimensions 1) copied between two layouts: element
 * (i0, i1, i2, i3) of the block is read at in_offset + sum(ik * in_strides[k]) and written at
 * out_offset + sum(ik * out_strides[k]), in elements. Strides may be negative (reversed slices) or
 * 0 (a repeated index); every position the block reaches must lie inside its tensor. Slice and
 * Gather (es_strided_copy_f32/_s8) are such copies. */
typedef struct {
  int32_t shape[ES_MAX_RANK];
  int32_t in_offset;
  int32_t in_strides[ES_MAX_RANK];
  int32_t out_offset;
  int32_t out_strides[ES_MAX_RANK];
} es_strided_copy_params_t;

/* A real factor M ~= multiplier * 2^(shift - 31), multiplier in [2^30, 2^31) (or 0). */
typedef struct {
  int32_t multiplier;
  int32_t shift;
} es_requant_t;

/* docs/int8.md "Fixed-point rescaling": es_requantize is rounding_doubling_high_mul then
 * rounding_divide_by_pot (TFLite's double rounding), or one rounding of the exact product where
 * the build uses single rounding (src/s8_rounding.h). */
int32_t es_rounding_doubling_high_mul(int32_t a, int32_t b);
int32_t es_rounding_divide_by_pot(int32_t x, int32_t exponent);
int32_t es_requantize(int32_t x, es_requant_t m);

static inline int32_t es_clamp_i32(int32_t x, int32_t lo, int32_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

#ifdef __cplusplus
}
#endif

#endif /* ES_COMMON_H */
