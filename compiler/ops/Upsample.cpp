#include "ops/Resampling.h"

#include "codegen/LowerContext.h"
#include "ops/Layout.h"

namespace edgesplit::ops {
namespace {
// Upsample-7 carries the scales as an attribute, Upsample-9 as input 1.
template <typename Context>
llvm::SmallVector<ResampledAxis, 4> upsampledAxes(const Context &ctx,
                                                  llvm::ArrayRef<int64_t> inputShape) {
  std::vector<double> scales;
  if (ctx.opset() < 9) {
    if (ctx.hasInput(1)) ctx.fail("scales is an attribute before opset 9, not input 1");
    if (!ctx.hasAttr("scales")) ctx.fail("missing required attribute 'scales'");
    const std::vector<float> values = ctx.attrFloats("scales");
    scales.assign(values.begin(), values.end());
  } else {
    if (ctx.hasAttr("scales")) ctx.fail("scales is input 1 from opset 9 on, not an attribute");
    const Tensor *values = operandValue(ctx, 1);
    if (!values) ctx.fail("input 1 (scales) is required from opset 9 on");
    scales = readScales(ctx, *values);
  }
  return axesFromScales(ctx, inputShape, scales, /*allowDownsampling=*/false);
}

ResamplingOptions upsampleOptions(const NodeContext &ctx) {
  return {.mode = parseInterpolationMode(ctx, /*allowCubic=*/false),
          .transformation = CoordinateTransformation::Asymmetric,
          .rounding = NearestRounding::Legacy};
}

void infer(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (type == DType::Bool) ctx.fail("bool input is not supported");
  upsampleOptions(ctx); // validates the mode
  ctx.setOutput(0, type, resampledShape(upsampledAxes(ctx, ctx.inputShape(0))));
}

void run(KernelContext &ctx) {
  const Tensor &input = ctx.input(0);
  resample(input, upsampledAxes(ctx, input.shape()), upsampleOptions(ctx), ctx.output(0));
}

void lower(LowerContext &ctx) {
  lowerResample(ctx, upsampledAxes(ctx, ctx.inputShape(0)), upsampleOptions(ctx));
}
} // namespace

// int8 as Resize's (docs/int8.md "Resize").
extern const OpDef kUpsample{.name = "Upsample", .minInputs = 1, .maxInputs = 2, .infer = infer,
                             .run = run, .quantize = annotateSameAsInput, .lower = lower};

} // namespace edgesplit::ops
