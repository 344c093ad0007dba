#include "ops/ConvGeometry.h"

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  const DType inputType = ctx.inputType(0);
  const DType weightType = ctx.inputType(1);
  if (!isQuantizedType(inputType) || !isQuantizedType(weightType))
    ctx.fail("x and w must be int8 or uint8, got {} and {}", dtypeName(inputType),
             dtypeName(weightType));
  const ConvGeometry geometry = resolveConvGeometry(ctx, ctx.inputShape(0), ctx.inputShape(1));
  checkQuantParam(ctx, 2, "x_zero_point", inputType, false, geometry.outputChannels);
  checkQuantParam(ctx, 3, "w_zero_point", weightType, true, geometry.outputChannels);
  ctx.setOutput(0, DType::Int32, geometry.outputShape());
}

void run(KernelContext &ctx) {
  const ConvGeometry geometry =
      resolveConvGeometry(ctx, ctx.input(0).shape(), ctx.input(1).shape());
  const std::vector<int64_t> sums =
      convolveQuantized(geometry, ctx.input(0), ctx.hasInput(2) ? &ctx.input(2) : nullptr,
                        ctx.input(1), ctx.hasInput(3) ? &ctx.input(3) : nullptr);
  // ONNX accumulates in int32: wrap like it would (narrowing is modular since C++20).
  llvm::MutableArrayRef<int32_t> output = ctx.output(0).mutableValues<int32_t>();
  for (size_t i = 0; i < sums.size(); ++i) output[i] = static_cast<int32_t>(sums[i]);
}
} // namespace

extern const OpDef kConvInteger{.name = "ConvInteger", .minInputs = 2, .maxInputs = 4,
                                .infer = infer, .run = run,
                                .macs = [](const Node &node) {
                                  return convolutionMacs(node.outputs[0], node.inputs[1]);
                                }};

} // namespace edgesplit::ops
