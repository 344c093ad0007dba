// Conv1dGlobalAveragePool (domain "edgesplit", made only by code generation's
// fuseConvGlobalPools, never read from a model): a 1-D Conv, its fused Relu/Clip and the
// GlobalAveragePool that alone reads it, optionally with the NWC Transpose before the Conv folded
// into the input's layout, as one int8 call (es_s8.h's es_conv1d_nwc_mean_s8). Inputs X, W[, B]
// of the Conv (X in [N, W, C] when channels_last); the Conv's window attributes; output the
// pool's [N, M, 1].
#pragma once

#include "codegen/LowerContext.h"

namespace edgesplit::ops {

extern const OpDef kConv1dGlobalAveragePool;
inline constexpr std::string_view kConv1dGlobalAveragePoolDomain = "edgesplit";

// Attributes the fused node carries besides the Conv's: the input layout, and the parameters and
// clamp the Conv's int8 output had (its value is gone: the pool reads registers).
inline constexpr llvm::StringLiteral kChannelsLastAttr = "channels_last";
inline constexpr llvm::StringLiteral kConvScaleAttr = "conv_output_scale";
inline constexpr llvm::StringLiteral kConvZeroPointAttr = "conv_output_zero_point";
inline constexpr llvm::StringLiteral kConvClampLoAttr = "conv_clamp_min";
inline constexpr llvm::StringLiteral kConvClampHiAttr = "conv_clamp_max";

// Whether es_conv1d_nwc_mean_3x3_s8 takes the layer (3 input channels, 3 taps, stride 1): the
// fusion is made only for it. es_conv1d_nwc_mean_s8's generic body loops over each window's
// weight words, which es_conv1d_k*_s8's blocks of two outputs by two channels beat by more than
// the pool costs (two_imu's 8-channel 3-tap layer: 26,499 instructions fused on the M4 against
// 18,124 for the convolution and the pool apart).
inline bool conv1dMeanHasFastEntry(int64_t inChannels, int64_t kernel, int64_t stride) {
  return inChannels == 3 && kernel == 3 && stride == 1;
}

// The int8 convolution as es_conv1d_nwc_mean_s8 takes it, from the W and B inputs of `ctx`'s
// node (a Conv, or the fused node), when that kernel's int32 arithmetic is exact for it
// (foldedFastKernelBias); nullopt otherwise, and the layers stay apart.
struct Conv1dMeanWeights {
  std::vector<int8_t> values; // [M][C][K], ONNX's order
  std::vector<es_requant_t> perChannel;
  std::vector<int32_t> biasFolded;
};
std::optional<Conv1dMeanWeights> conv1dMeanWeights(const LowerContext &ctx, TensorQuant input,
                                                   TensorQuant conv);

} // namespace edgesplit::ops
