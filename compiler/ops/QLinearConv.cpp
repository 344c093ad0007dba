#include "ops/ConvGeometry.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgesplit::ops {
namespace {
enum Input : size_t {
  kX,
  kXScale,
  kXZeroPoint,
  kW,
  kWScale,
  kWZeroPoint,
  kYScale,
  kYZeroPoint,
  kBias,
};

void infer(InferContext &ctx) {
  const DType inputType = ctx.inputType(kX);
  const DType weightType = ctx.inputType(kW);
  const DType outputType = ctx.inputType(kYZeroPoint);
  if (!isQuantizedType(inputType) || !isQuantizedType(weightType) || !isQuantizedType(outputType))
    ctx.fail("x, w and y_zero_point must be int8 or uint8, got {}, {} and {}",
             dtypeName(inputType), dtypeName(weightType), dtypeName(outputType));
  const ConvGeometry geometry = resolveConvGeometry(ctx, ctx.inputShape(kX), ctx.inputShape(kW));
  const int64_t channels = geometry.outputChannels;
  checkQuantParam(ctx, kXScale, "x_scale", DType::Float32, false, channels);
  checkQuantParam(ctx, kXZeroPoint, "x_zero_point", inputType, false, channels);
  checkQuantParam(ctx, kWScale, "w_scale", DType::Float32, true, channels);
  checkQuantParam(ctx, kWZeroPoint, "w_zero_point", weightType, true, channels);
  checkQuantParam(ctx, kYScale, "y_scale", DType::Float32, false, channels);
  checkQuantParam(ctx, kYZeroPoint, "y_zero_point", outputType, false, channels);
  checkChannelBias(ctx, kBias, DType::Int32, channels);
  ctx.setOutput(0, outputType, geometry.outputShape());
}

// y = saturate(round_half_even(sum * x_scale * w_scale[m] / y_scale + y_zero_point)), with the
// scale ratio in float32 and the rest in double, as the ONNX reference computes it.
template <typename T>
void requantize(KernelContext &ctx, const ConvGeometry &geometry, llvm::ArrayRef<int64_t> sums) {
  const float inputScale = ctx.input(kXScale).values<float>()[0];
  const float outputScale = ctx.input(kYScale).values<float>()[0];
  const llvm::ArrayRef<float> weightScales = ctx.input(kWScale).values<float>();
  const double zeroPoint = ctx.input(kYZeroPoint).elementAsDouble(0);
  std::vector<double> multipliers;
  for (int64_t m = 0; m < geometry.outputChannels; ++m) {
    const float weightScale = weightScales[weightScales.size() == 1 ? 0 : m];
    const float multiplier = inputScale * weightScale / outputScale;
    if (!std::isfinite(multiplier))
      ctx.fail("the requantisation scale x_scale * w_scale / y_scale of channel {} is {}", m,
               multiplier);
    multipliers.push_back(multiplier);
  }

  const int64_t plane = numElements(geometry.outputSize);
  llvm::MutableArrayRef<T> output = ctx.output(0).mutableValues<T>();
  for (size_t i = 0; i < sums.size(); ++i) {
    const int64_t channel = static_cast<int64_t>(i) / plane % geometry.outputChannels;
    const double scaled = static_cast<double>(sums[i]) * multipliers[channel] + zeroPoint;
    // Rounds in the default to-nearest-even mode; clamping first keeps the cast in range.
    output[i] = static_cast<T>(std::nearbyint(std::clamp<double>(
        scaled, std::numeric_limits<T>::min(), std::numeric_limits<T>::max())));
  }
}

void run(KernelContext &ctx) {
  const ConvGeometry geometry =
      resolveConvGeometry(ctx, ctx.input(kX).shape(), ctx.input(kW).shape());
  std::vector<int64_t> sums = convolveQuantized(geometry, ctx.input(kX), &ctx.input(kXZeroPoint),
                                                ctx.input(kW), &ctx.input(kWZeroPoint));
  // The bias is already quantised with scale x_scale * w_scale and zero point 0.
  if (ctx.hasInput(kBias))
    addChannelBias<int64_t>(sums, geometry.outputShape(), ctx.input(kBias).toInt64Vector());
  if (ctx.output(0).dtype() == DType::UInt8) requantize<uint8_t>(ctx, geometry, sums);
  else requantize<int8_t>(ctx, geometry, sums);
}
} // namespace

extern const OpDef kQLinearConv{.name = "QLinearConv", .minInputs = 8, .maxInputs = 9,
                                .infer = infer, .run = run,
                                .macs = [](const Node &node) {
                                  return convolutionMacs(node.outputs[0], node.inputs[kW]);
                                }};

} // namespace edgesplit::ops
