#include "ops/OpKit.h"

#include "codegen/LowerContext.h"
#include "codegen/Lowering.h"
#include "ops/Layout.h"

namespace edgesplit::ops {
namespace {
// PyTorch before opset 12 writes x >= t as Not(Less(x, t)) and x <= t as Not(Greater(x, t)).
void infer(InferContext &ctx) {
  if (ctx.inputType(0) != DType::Bool)
    ctx.fail("the input must be bool, got {}", dtypeName(ctx.inputType(0)));
  ctx.setOutput(0, DType::Bool, ctx.inputShape(0));
}

void run(KernelContext &ctx) {
  const Tensor &input = ctx.input(0);
  Tensor &out = ctx.output(0);
  const bool *x = input.data<bool>();
  bool *result = out.data<bool>();
  for (int64_t i = 0; i < out.numElements(); ++i) result[i] = !x[i];
}

// A mask holds 1 or 0 in the program's type (codegen/Lowering.h): its negation is the Where that
// picks 0 where it holds 1, in int8 with the codes themselves (zero point 0, factor 1).
void lower(LowerContext &ctx) {
  if (!isComparisonMask(ctx.inputValue(0)))
    ctx.fail("the input '{}' is not a comparison's mask; code generation negates the result of "
             "Greater, Less, GreaterOrEqual, LessOrEqual or Equal only",
             ctx.inputValue(0).name);
  if (!ctx.isInt8()) {
    es_where_f32_params_t p{};
    kernelShape4D(ctx, ctx.inputShape(0), p.condition_shape);
    kernelShape4D(ctx, {}, p.x_shape);
    kernelShape4D(ctx, {}, p.y_shape);
    kernelShape4D(ctx, ctx.outputShape(), p.out_shape);
    ctx.call<es_where_f32_params_t>(
        "es_where_f32", p,
        {ctx.input(0), ctx.constantArray("false", std::vector<float>{0.0f}),
         ctx.constantArray("true", std::vector<float>{1.0f}), ctx.output()},
        [](const es_where_f32_params_t &p, const KernelArgs &a) {
          es_where_f32(&p, a.in<float>(1), a.in<float>(2), a.in<float>(3), a.out<float>(4));
        },
        "elementwise");
    return;
  }
  es_where_s8_params_t p{};
  kernelShape4D(ctx, ctx.inputShape(0), p.condition_shape);
  kernelShape4D(ctx, {}, p.x_shape);
  kernelShape4D(ctx, {}, p.y_shape);
  kernelShape4D(ctx, ctx.outputShape(), p.out_shape);
  p.x_requant = p.y_requant = ctx.requant(1.0);
  ctx.call<es_where_s8_params_t>(
      "es_where_s8", p,
      {ctx.input(0), ctx.constantArray("false", std::vector<int8_t>{0}),
       ctx.constantArray("true", std::vector<int8_t>{1}), ctx.output()},
      [](const es_where_s8_params_t &p, const KernelArgs &a) {
        es_where_s8(&p, a.in<int8_t>(1), a.in<int8_t>(2), a.in<int8_t>(3), a.out<int8_t>(4));
      },
      "elementwise");
}
} // namespace

extern const OpDef kNot{.name = "Not", .infer = infer, .run = run, .lower = lower};

} // namespace edgesplit::ops
