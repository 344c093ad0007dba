#include "ops/Layout.h"

#include "codegen/LowerContext.h"
#include "codegen/Lowering.h"
#include "quantize/Annotate.h"

#include <cstring>

namespace edgesplit::ops {
namespace {
// output = condition ? x : y with numpy broadcasting of all three. PyTorch's expand(-1, ...)
// picks the input's own sizes this way (with static shapes it folds to a constant);
// torch.where(x > t, a, b) and masked_fill pick between activations on a comparison's mask.
void infer(InferContext &ctx) {
  if (ctx.inputType(0) != DType::Bool)
    ctx.fail("the condition must be bool, got {}", dtypeName(ctx.inputType(0)));
  if (ctx.inputType(1) != ctx.inputType(2))
    ctx.fail("inputs have different types (input 1 is {}, input 2 is {}); insert a Cast",
             dtypeName(ctx.inputType(1)), dtypeName(ctx.inputType(2)));
  ctx.setOutput(0, ctx.inputType(1),
                broadcastShapes(ctx, {ctx.inputShape(0), ctx.inputShape(1), ctx.inputShape(2)}));
}

void run(KernelContext &ctx) {
  const Tensor &condition = ctx.input(0), &x = ctx.input(1), &y = ctx.input(2);
  Tensor &out = ctx.output(0);
  const BroadcastIndexer indexC(condition.shape(), out.shape()), indexX(x.shape(), out.shape()),
      indexY(y.shape(), out.shape());
  const size_t elementSize = dtypeSize(out.dtype());
  const bool *pick = condition.data<bool>();
  for (int64_t i = 0; i < out.numElements(); ++i) {
    const uint8_t *source = pick[indexC(i)] ? x.rawData() + indexX(i) * elementSize
                                            : y.rawData() + indexY(i) * elementSize;
    std::memcpy(out.rawData() + i * elementSize, source, elementSize);
  }
}

// The condition as the kernels read it: a comparison's mask (one element of the program's type
// per value, 1 or 0) or a constant in that form.
KernelArg condition(LowerContext &ctx) {
  if (ctx.inputIsConstant(0)) {
    const Tensor &mask = ctx.constantInput(0);
    const bool *values = mask.data<bool>();
    if (ctx.isInt8())
      return ctx.constantArray("condition",
                               std::vector<int8_t>(values, values + mask.numElements()));
    return ctx.constantArray("condition", std::vector<float>(values, values + mask.numElements()));
  }
  if (!isComparisonMask(ctx.inputValue(0)))
    ctx.fail("the condition '{}' is computed by {}; code generation computes a condition with "
             "Greater, Less, GreaterOrEqual, LessOrEqual, Equal or a Not of one only; compute "
             "the mask with one of them",
             ctx.inputValue(0).name,
             ctx.inputValue(0).producer ? ctx.inputValue(0).producer->opType : "the caller");
  return ctx.input(0);
}

// A value input: an activation, or a constant (int8: in the output's parameters, see quantize).
KernelArg value(LowerContext &ctx, size_t index) {
  if (!ctx.inputIsConstant(index)) return ctx.input(index);
  const std::string suffix = index == 1 ? "x" : "y";
  if (ctx.isInt8()) return ctx.constantArray(suffix, ctx.int8Constant(index));
  return ctx.constantArray(suffix, ctx.floatConstant(index));
}

template <typename P> P whereParams(const LowerContext &ctx) {
  P p{};
  kernelShape4D(ctx, ctx.inputShape(0), p.condition_shape);
  kernelShape4D(ctx, ctx.inputShape(1), p.x_shape);
  kernelShape4D(ctx, ctx.inputShape(2), p.y_shape);
  kernelShape4D(ctx, ctx.outputShape(), p.out_shape);
  return p;
}

void lower(LowerContext &ctx) {
  if (!ctx.isInt8()) {
    const auto p = whereParams<es_where_f32_params_t>(ctx);
    ctx.call<es_where_f32_params_t>(
        "es_where_f32", p, {condition(ctx), value(ctx, 1), value(ctx, 2), ctx.output()},
        [](const es_where_f32_params_t &p, const KernelArgs &a) {
          es_where_f32(&p, a.in<float>(1), a.in<float>(2), a.in<float>(3), a.out<float>(4));
        },
        "elementwise");
    return;
  }
  // docs/int8.md "Where": each value moves to the output's parameters as Concat's inputs do.
  const TensorQuant x = ctx.inputQuant(1), y = ctx.inputQuant(2), out = ctx.outputQuant();
  auto p = whereParams<es_where_s8_params_t>(ctx);
  p.x_zp = x.zeroPoint;
  p.y_zp = y.zeroPoint;
  p.output_zp = out.zeroPoint;
  p.x_requant = ctx.requant(x.scale / out.scale);
  p.y_requant = ctx.requant(y.scale / out.scale);
  ctx.call<es_where_s8_params_t>(
      "es_where_s8", p, {condition(ctx), value(ctx, 1), value(ctx, 2), ctx.output()},
      [](const es_where_s8_params_t &p, const KernelArgs &a) {
        es_where_s8(&p, a.in<int8_t>(1), a.in<int8_t>(2), a.in<int8_t>(3), a.out<int8_t>(4));
      },
      "elementwise");
}

// The output takes its calibrated range; a constant value (masked_fill's fill, 0.0 of a ReLU-like
// select) the output's parameters, so that it is copied, not rescaled (docs/int8.md "Where").
void quantize(QuantizeContext &ctx) {
  ctx.annotateOutputFromRange(0);
  ctx.annotateConstantAsOutput(1, 0);
  ctx.annotateConstantAsOutput(2, 0);
}
} // namespace

extern const OpDef kWhere{.name = "Where", .minInputs = 3, .maxInputs = 3, .infer = infer,
                          .run = run, .quantize = quantize, .lower = lower};

} // namespace edgesplit::ops
