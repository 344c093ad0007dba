// The runtime-c parameter structs as the compiler sees them: each one's C type name and its
// description as a C initialiser, so lowering fills a real struct once and the emitter prints
// exactly what the in-process executor passed.
#pragma once

#include "codegen/CInit.h"

#include "es_f32.h"
#include "es_s8.h"

#include <string_view>

namespace edgesplit {

template <typename T> struct CTypeName;

#define ES_RUNTIME_STRUCTS(X)                                                                      \
  X(es_requant_t)                                                                                  \
  X(es_conv2d_s8_params_t)                                                                         \
  X(es_fully_connected_s8_params_t)                                                                \
  X(es_batch_matmul_s8_params_t)                                                                   \
  X(es_pool2d_s8_params_t)                                                                         \
  X(es_global_avg_pool_s8_params_t)                                                                \
  X(es_binary_s8_params_t)                                                                         \
  X(es_softmax_s8_params_t)                                                                        \
  X(es_concat_s8_input_t)                                                                          \
  X(es_concat_s8_params_t)                                                                         \
  X(es_pad_s8_params_t)                                                                            \
  X(es_transpose_s8_params_t)                                                                      \
  X(es_reduce_mean_s8_params_t)                                                                    \
  X(es_conv2d_f32_params_t)                                                                        \
  X(es_fully_connected_f32_params_t)                                                               \
  X(es_batch_matmul_f32_params_t)                                                                  \
  X(es_pool2d_f32_params_t)                                                                        \
  X(es_global_pool_f32_params_t)                                                                   \
  X(es_binary_f32_params_t)                                                                        \
  X(es_clip_f32_params_t)                                                                          \
  X(es_fake_quant_f32_params_t)                                                                    \
  X(es_unary_f32_params_t)                                                                         \
  X(es_softmax_f32_params_t)                                                                       \
  X(es_concat_f32_params_t)                                                                        \
  X(es_pad_f32_params_t)                                                                           \
  X(es_transpose_f32_params_t)                                                                     \
  X(es_reduce_mean_f32_params_t)

#define ES_DECLARE_BINDING(type)                                                                   \
  template <> struct CTypeName<type> {                                                             \
    static constexpr std::string_view value = #type;                                               \
  };                                                                                               \
  CInit describe(const type &params);
ES_RUNTIME_STRUCTS(ES_DECLARE_BINDING)
#undef ES_DECLARE_BINDING

// Pointer fields (es_concat_*_params_t's tables) describe as NULL; lowering sets the symbol.

} // namespace edgesplit
