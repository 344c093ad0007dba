#include "ops/ConvGeometry.h"

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  const DType type = checkFloatConvolutionTypes(ctx);
  const ConvGeometry geometry = resolveConvGeometry(ctx, ctx.inputShape(0), ctx.inputShape(1));
  checkChannelBias(ctx, 2, type, geometry.outputChannels);
  ctx.setOutput(0, type, geometry.outputShape());
}

void run(KernelContext &ctx) {
  const ConvGeometry geometry =
      resolveConvGeometry(ctx, ctx.input(0).shape(), ctx.input(1).shape());
  runFloatConvolution(ctx, geometry.outputShape(),
                      [&](const double *input, const double *weight, double *output) {
                        convolveGrouped(geometry, input, weight, output);
                      });
}
} // namespace

extern const OpDef kConv{.name = "Conv", .minInputs = 2, .maxInputs = 3, .infer = infer,
                         .run = run,
                         .macs = [](const Node &node) {
                           return convolutionMacs(node.outputs[0], node.inputs[1]);
                         }};

} // namespace edgesplit::ops
