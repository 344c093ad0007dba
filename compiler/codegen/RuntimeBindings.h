// The runtime-c parameter structs as the compiler sees them: each one's C type name and its
// description as a C initialiser, so lowering fills a real struct once and the emitter prints
// exactly what the in-process executor passed.
#pragma once

#include "codegen/CInit.h"

#include "es_f32.h"
#include "es_s8.h"

#include <llvm/ADT/ArrayRef.h>

#include <optional>
#include <string_view>
#include <vector>

namespace edgesplit {

template <typename T> struct CTypeName;

#define ES_RUNTIME_STRUCTS(X)                                                                      \
  X(es_requant_t)                                                                                  \
  X(es_strided_copy_params_t)                                                                      \
  X(es_conv2d_s8_params_t)                                                                         \
  X(es_conv1d_s8_params_t)                                                                         \
  X(es_conv1d_nwc_mean_s8_params_t)                                                                \
  X(es_depthwise_conv3x3_s8_params_t)                                                              \
  X(es_fully_connected_s8_params_t)                                                                \
  X(es_batch_matmul_s8_params_t)                                                                   \
  X(es_pool2d_s8_params_t)                                                                         \
  X(es_global_avg_pool_s8_params_t)                                                                \
  X(es_binary_s8_params_t)                                                                         \
  X(es_add_s8_params_t)                                                                            \
  X(es_compare_s8_params_t)                                                                        \
  X(es_cumsum_s8_params_t)                                                                         \
  X(es_where_s8_params_t)                                                                          \
  X(es_softmax_s8_params_t)                                                                        \
  X(es_log_softmax_s8_params_t)                                                                    \
  X(es_concat_s8_input_t)                                                                          \
  X(es_concat_s8_params_t)                                                                         \
  X(es_pad_s8_params_t)                                                                            \
  X(es_transpose_s8_params_t)                                                                      \
  X(es_reduce_mean_s8_params_t)                                                                    \
  X(es_reduce_max_s8_params_t)                                                                     \
  X(es_argmax_s8_params_t)                                                                         \
  X(es_layer_norm_s8_params_t)                                                                     \
  X(es_recurrent_s8_params_t)                                                                      \
  X(es_conv2d_f32_params_t)                                                                        \
  X(es_fully_connected_f32_params_t)                                                               \
  X(es_batch_matmul_f32_params_t)                                                                  \
  X(es_pool2d_f32_params_t)                                                                        \
  X(es_global_pool_f32_params_t)                                                                   \
  X(es_binary_f32_params_t)                                                                        \
  X(es_clip_f32_params_t)                                                                          \
  X(es_where_f32_params_t)                                                                         \
  X(es_cumsum_f32_params_t)                                                                        \
  X(es_fake_quant_f32_params_t)                                                                    \
  X(es_unary_f32_params_t)                                                                         \
  X(es_softmax_f32_params_t)                                                                       \
  X(es_concat_f32_params_t)                                                                        \
  X(es_pad_f32_params_t)                                                                           \
  X(es_transpose_f32_params_t)                                                                     \
  X(es_reduce_mean_f32_params_t)                                                                   \
  X(es_argmax_f32_params_t)                                                                        \
  X(es_layer_norm_f32_params_t)                                                                    \
  X(es_recurrent_f32_params_t)

#define ES_DECLARE_BINDING(type)                                                                   \
  template <> struct CTypeName<type> {                                                             \
    static constexpr std::string_view value = #type;                                               \
  };                                                                                               \
  CInit describe(const type &params);
ES_RUNTIME_STRUCTS(ES_DECLARE_BINDING)
#undef ES_DECLARE_BINDING

// Pointer fields (es_concat_*_params_t's tables) describe as NULL; lowering sets the symbol.

// The bias of a specialised int8 kernel (es_s8.h "Specialised convolutions"), bias[m] -
// input_zp * sum of channel m's weights, when the kernel may be used: every factor below 1/2
// and |bias| + 256 * sum |w| < 2^29 for every channel, so its int32 accumulation equals the
// reference's. `weights` is [channels][weights per channel]; an empty `bias` is zero, and so is
// the bias of a channel whose factor has multiplier 0 (its outputs are the zero point).
std::optional<std::vector<int32_t>> foldedFastKernelBias(llvm::ArrayRef<int8_t> weights,
                                                         llvm::ArrayRef<int32_t> bias,
                                                         llvm::ArrayRef<es_requant_t> perChannel,
                                                         int32_t inputZeroPoint);

} // namespace edgesplit
