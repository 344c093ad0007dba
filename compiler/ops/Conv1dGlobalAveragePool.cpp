#include "ops/Conv1dGlobalAveragePool.h"

#include "ops/ConvGeometry.h"

namespace edgesplit::ops {
namespace {

// The Conv's geometry: X as the Conv saw it, [N, C, W].
ConvGeometry geometryOf(const NodeContext &ctx, llvm::ArrayRef<int64_t> input,
                        llvm::ArrayRef<int64_t> weight) {
  if (input.size() != 3 || weight.size() != 3)
    ctx.fail("internal error: the fused 1-D convolution needs X and W of rank 3, got X {} and W {}",
             formatShape(input), formatShape(weight));
  Shape ncw(input.begin(), input.end());
  if (ctx.node().attributes.getInt(kChannelsLastAttr).value_or(0) != 0) std::swap(ncw[1], ncw[2]);
  return resolveConvGeometry(ctx, ncw, weight);
}

void infer(InferContext &ctx) {
  const DType type = checkFloatConvolutionTypes(ctx);
  const ConvGeometry g = geometryOf(ctx, ctx.inputShape(0), ctx.inputShape(1));
  if (g.window.group != 1)
    ctx.fail("internal error: the fused 1-D convolution needs group 1, got {}", g.window.group);
  checkChannelBias(ctx, 2, type, g.outputChannels);
  ctx.setOutput(0, type, {g.batch, g.outputChannels, 1});
}

void lower(LowerContext &ctx) {
  if (!ctx.isInt8()) ctx.fail("internal error: the fused 1-D convolution and pool is int8 only");
  const ConvGeometry g = geometryOf(ctx, ctx.inputShape(0), ctx.inputShape(1));
  const AttributeMap &attributes = ctx.node().attributes;
  const TensorQuant in = ctx.inputQuant(0), out = ctx.outputQuant();
  const TensorQuant conv{attributes.getFloat(kConvScaleAttr).value_or(1.0f),
                         static_cast<int32_t>(attributes.getInt(kConvZeroPointAttr).value_or(0))};
  std::optional<ActivationClamp> convClamp;
  if (attributes.has(kConvClampLoAttr))
    convClamp = ActivationClamp{*attributes.getFloat(kConvClampLoAttr),
                                *attributes.getFloat(kConvClampHiAttr)};
  std::optional<Conv1dMeanWeights> weights = conv1dMeanWeights(ctx, in, conv);
  if (!weights)
    ctx.fail("internal error: fused although es_conv1d_nwc_mean_s8's arithmetic is not exact");

  es_conv1d_nwc_mean_s8_params_t p{};
  p.batch = static_cast<int32_t>(g.batch);
  p.in_w = static_cast<int32_t>(g.inputSize[0]);
  p.in_channels = static_cast<int32_t>(g.inputChannels);
  p.out_channels = static_cast<int32_t>(g.outputChannels);
  p.out_w = static_cast<int32_t>(g.outputSize[0]);
  p.kernel_w = static_cast<int32_t>(g.window.kernel[0]);
  p.stride = static_cast<int32_t>(g.window.strides[0]);
  p.pad_left = static_cast<int32_t>(g.window.padsBegin[0]);
  p.channels_last = attributes.getInt(kChannelsLastAttr).value_or(0) != 0;
  p.input_zp = in.zeroPoint;
  p.conv_zp = conv.zeroPoint;
  std::tie(p.act_min, p.act_max) = LowerContext::int8ActivationRange(convClamp, conv);
  p.pool_requant = ctx.requant(conv.scale / (p.out_w * out.scale));
  p.output_zp = out.zeroPoint;
  std::tie(p.pool_act_min, p.pool_act_max) = ctx.int8ActivationRange(out);

  // Each channel's window in the widened row's order (tap k of input channel c at k * C + c),
  // as int16 pairs.
  const int32_t words = ES_CONV1D_NWC_MEAN_S8_WORDS(&p);
  std::vector<int32_t> packed;
  for (int32_t m = 0; m < p.out_channels; ++m) {
    std::vector<int16_t> window(2 * static_cast<size_t>(words), 0);
    for (int32_t c = 0; c < p.in_channels; ++c)
      for (int32_t k = 0; k < p.kernel_w; ++k)
        window[k * p.in_channels + c] = weights->values[(m * p.in_channels + c) * p.kernel_w + k];
    for (int32_t j = 0; j < words; ++j)
      packed.push_back(static_cast<int32_t>(
          static_cast<uint16_t>(window[2 * j]) |
          static_cast<uint32_t>(static_cast<uint16_t>(window[2 * j + 1])) << 16));
  }
  using Entry = void (*)(const es_conv1d_nwc_mean_s8_params_t *, const int8_t *, const int32_t *,
                         const int32_t *, const es_requant_t *, int8_t *, int8_t *);
  // 3 taps of 3 channels at stride 1 (Keras' Conv1D over 3-axis motion windows) have an entry
  // point that keeps the weights in registers.
  const bool threeByThree = conv1dMeanHasFastEntry(p.in_channels, p.kernel_w, p.stride);
  const std::string function = threeByThree ? "es_conv1d_nwc_mean_3x3_s8" : "es_conv1d_nwc_mean_s8";
  const Entry entry = threeByThree ? es_conv1d_nwc_mean_3x3_s8 : es_conv1d_nwc_mean_s8;
  ctx.call<es_conv1d_nwc_mean_s8_params_t>(
      function, p,
      {ctx.input(0), ctx.constantArray("weights", std::move(packed)),
       ctx.constantArray("bias_folded", std::move(weights->biasFolded)),
       ctx.constantArray("requant", std::move(weights->perChannel)),
       LowerContext::scratch(ES_CONV1D_NWC_MEAN_S8_SCRATCH_BYTES(&p)), ctx.output()},
      [entry](const es_conv1d_nwc_mean_s8_params_t &q, const KernelArgs &a) {
        entry(&q, a.in<int8_t>(1), a.in<int32_t>(2), a.in<int32_t>(3), a.in<es_requant_t>(4),
              a.out<int8_t>(5), a.out<int8_t>(6));
      },
      "conv");
}

int64_t macs(const Node &node) {
  const Value *input = node.input(0), *weight = node.input(1), *output = node.outputs[0];
  if (!input || !input->shape || !weight || !weight->shape || !output || !output->shape) return 0;
  const NodeContext ctx(node);
  const ConvGeometry g = geometryOf(ctx, *input->shape, *weight->shape);
  return g.batch * g.outputChannels * g.outputSize[0] * g.inputChannels * g.window.kernel[0];
}

} // namespace

std::optional<Conv1dMeanWeights> conv1dMeanWeights(const LowerContext &ctx, TensorQuant input,
                                                   TensorQuant conv) {
  LowerContext::Weights weights = ctx.int8Weights(1, 0);
  Conv1dMeanWeights result;
  for (double scale : weights.scales)
    result.perChannel.push_back(ctx.requant(input.scale * scale / conv.scale));
  const std::vector<int32_t> bias =
      ctx.hasInput(2) ? ctx.int32Bias(2, input.scale, weights.scales) : std::vector<int32_t>{};
  std::optional<std::vector<int32_t>> folded =
      foldedFastKernelBias(weights.values, bias, result.perChannel, input.zeroPoint);
  if (!folded) return std::nullopt;
  result.values = std::move(weights.values);
  result.biasFolded = std::move(*folded);
  return result;
}

extern const OpDef kConv1dGlobalAveragePool{.name = "Conv1dGlobalAveragePool",
                                            .minInputs = 2,
                                            .maxInputs = 3,
                                            .infer = infer,
                                            .macs = macs,
                                            .lower = lower};

} // namespace edgesplit::ops
