#include "ops/Resampling.h"

#include "codegen/LowerContext.h"
#include "ops/Layout.h"
#include "quantize/Annotate.h"

namespace edgesplit::ops {
namespace {
// Opset 11 makes roi and scales mandatory inputs even when unused; models then pass empty tensors.
const Tensor *nonEmpty(const Tensor *operand) {
  return operand && operand->numElements() > 0 ? operand : nullptr;
}

// Resize-10: X and scales only, coordinates mapped like Upsample's.
template <typename Context>
ResamplingPlan planResize10(const Context &ctx, llvm::ArrayRef<int64_t> inputShape) {
  ResamplingPlan plan;
  plan.options.mode = parseInterpolationMode(ctx, /*allowCubic=*/false);
  plan.options.transformation = CoordinateTransformation::Asymmetric;
  plan.options.rounding = NearestRounding::Legacy;
  const Tensor *scales = operandValue(ctx, 1);
  if (!scales) ctx.fail("input 1 (scales) is required before opset 11");
  plan.axes = axesFromScales(ctx, inputShape, readScales(ctx, *scales), /*allowDownsampling=*/true);
  return plan;
}

template <typename Context>
ResamplingPlan planResize(const Context &ctx, llvm::ArrayRef<int64_t> inputShape) {
  if (ctx.opset() < 11) return planResize10(ctx, inputShape);
  ResamplingPlan plan;
  ResamplingOptions &options = plan.options;
  options.mode = parseInterpolationMode(ctx, /*allowCubic=*/true);
  options.transformation = parseCoordinateTransformation(ctx);
  options.rounding = parseNearestRounding(ctx);
  options.cubicCoeffA = ctx.attrFloat("cubic_coeff_a", -0.75f);
  options.excludeOutside = ctx.attrInt("exclude_outside", 0) != 0;
  options.extrapolationValue = ctx.attrFloat("extrapolation_value", 0.0f);

  const Tensor *scales = nonEmpty(operandValue(ctx, 2));
  const Tensor *sizes = nonEmpty(operandValue(ctx, 3));
  if (scales && sizes) ctx.fail("give either scales (input 2) or sizes (input 3), not both");
  if (scales) {
    plan.axes = axesFromScales(ctx, inputShape, readScales(ctx, *scales), true);
  } else if (sizes) {
    if (sizes->dtype() != DType::Int64)
      ctx.fail("sizes must be an int64 tensor, got {}", dtypeName(sizes->dtype()));
    plan.axes = axesFromSizes(ctx, inputShape, sizes->toInt64Vector());
  } else {
    ctx.fail("needs scales (input 2) or sizes (input 3)");
  }

  if (options.transformation == CoordinateTransformation::TfCropAndResize) {
    const Tensor *roi = nonEmpty(operandValue(ctx, 1));
    if (!roi) ctx.fail("coordinate_transformation_mode tf_crop_and_resize needs input 1 (roi)");
    if (!isFloatingPoint(roi->dtype()))
      ctx.fail("roi must be a floating-point tensor, got {}", dtypeName(roi->dtype()));
    // Laid out as [start of every axis..., end of every axis...].
    const std::vector<double> bounds = roi->toDoubleVector();
    const size_t rank = inputShape.size();
    if (bounds.size() != 2 * rank)
      ctx.fail("roi has {} values, expected {} (start and end of each dimension)", bounds.size(),
               2 * rank);
    for (size_t i = 0; i < rank; ++i) {
      plan.axes[i].roiStart = bounds[i];
      plan.axes[i].roiEnd = bounds[rank + i];
    }
  }
  return plan;
}

void infer(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (type == DType::Bool) ctx.fail("bool input is not supported");
  const ResamplingPlan plan = planResize(ctx, ctx.inputShape(0));
  ctx.setOutput(0, type, resampledShape(plan.axes));
}

void run(KernelContext &ctx) {
  const Tensor &input = ctx.input(0);
  const ResamplingPlan plan = planResize(ctx, input.shape());
  resample(input, plan.axes, plan.options, ctx.output(0));
}

void lower(LowerContext &ctx) {
  const ResamplingPlan plan = planResize(ctx, ctx.inputShape(0));
  lowerResample(ctx, plan.axes, plan.options);
}
// docs/int8.md "Resize": nearest and linear stay inside the input's range and keep its
// parameters; cubic's negative lobes overshoot it, so its output takes its own calibrated ones.
void quantize(QuantizeContext &ctx) {
  if (ctx.opset() >= 11 && ctx.attrString("mode", "nearest") == "cubic")
    ctx.annotateOutputFromRange(0);
  else
    annotateSameAsInput(ctx);
}
} // namespace

ResamplingPlan resizePlanOf(const Node &node) {
  llvm::SmallVector<InferInput, 4> inputs;
  for (const Value *input : node.inputs)
    inputs.push_back(input ? InferInput{true, input->dtype, input->shape ? &*input->shape : nullptr,
                                        input->constant.get()}
                           : InferInput{});
  const InferContext ctx(node, inputs);
  return planResize(ctx, ctx.inputShape(0));
}

// int8: the output keeps the input's parameters, as nearest copies values and linear blends them
// (docs/int8.md "Resize").
extern const OpDef kResize{.name = "Resize", .minInputs = 2, .maxInputs = 4, .infer = infer,
                           .run = run, .quantize = quantize, .lower = lower};

} // namespace edgesplit::ops
