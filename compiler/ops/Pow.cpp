#include "ops/Unary.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {
namespace {
// base^exponent with numpy broadcasting; the exponent may have another numeric type (opset 12+).
// PyTorch writes LayerNorm's variance (before opset 17) as Pow(x - mean, 2).
void infer(InferContext &ctx) {
  if (!isFloatingPoint(ctx.inputType(0)))
    ctx.fail("the base must be a floating-point tensor, got {}", dtypeName(ctx.inputType(0)));
  if (ctx.inputType(1) == DType::Bool) ctx.fail("the exponent must be numeric, got bool");
  ctx.setOutput(0, ctx.inputType(0), broadcastShapes(ctx, {ctx.inputShape(0), ctx.inputShape(1)}));
}

void run(KernelContext &ctx) {
  const Tensor base = ctx.input(0).castTo(DType::Float64);
  const Tensor exponent = ctx.input(1).castTo(DType::Float64);
  Tensor &out = ctx.output(0);
  Tensor result(DType::Float64, out.shape());
  const BroadcastIndexer baseAt(base.shape(), out.shape()), exponentAt(exponent.shape(), out.shape());
  const double *x = base.data<double>(), *y = exponent.data<double>();
  double *z = result.data<double>();
  for (int64_t i = 0; i < out.numElements(); ++i) z[i] = std::pow(x[baseAt(i)], y[exponentAt(i)]);
  out = result.castTo(out.dtype());
}

// A constant scalar exponent: es_unary_f32's power in float32, a table in int8 (the exponent read
// as the constant it is). An exponent computed at run time has no kernel.
void lower(LowerContext &ctx) {
  if (!ctx.inputIsConstant(1) || ctx.constantInput(1).numElements() != 1)
    ctx.fail("code generation supports Pow only by a constant scalar exponent");
  if (ctx.inputShape(0) != ctx.outputShape())
    ctx.fail("code generation supports Pow only where the exponent does not broadcast the base");
  lowerActivation(ctx, ES_F32_POW, static_cast<float>(ctx.constantInput(1).elementAsDouble(0)));
}
} // namespace

extern const OpDef kPow{.name = "Pow", .minInputs = 2, .maxInputs = 2, .infer = infer, .run = run,
                        .lower = lower};

} // namespace edgesplit::ops
