#include "ops/Unary.h"

#include "codegen/LowerContext.h"

#include <limits>

namespace edgesplit::ops {
namespace {
DType targetType(const NodeContext &ctx) {
  const int64_t code = ctx.requireAttrInt("to");
  const std::optional<DType> type = dtypeFromOnnx(static_cast<int32_t>(code));
  if (!type)
    ctx.fail("cannot cast to ONNX element type {}: only numeric and bool types are supported", code);
  return *type;
}

void infer(InferContext &ctx) { ctx.setOutput(0, targetType(ctx), ctx.inputShape(0)); }

// Float to integer truncates toward zero, as onnxruntime does; ONNX leaves values outside the
// integer type undefined, and edgesplit saturates them (NaN becomes 0) rather than wrap
// (Tensor::castTo).
void run(KernelContext &ctx) { ctx.output(0) = ctx.input(0).castTo(targetType(ctx)); }

bool isInteger(DType type) { return isSignedInteger(type) || isUnsignedInteger(type); }

// Code generation keeps a Cast's integer result as float32 (codegen/Lowering.cpp allows it only
// when Casts back to float32 alone read it, as in x.int().float() or an integer-deployable
// graph's requantisation): the Cast to the integer type truncates and saturates in float, the
// Cast back is a copy. Whole-number round trips are removed before (remove-cast-round-trips).
void lower(LowerContext &ctx) {
  const DType from = ctx.inputValue(0).dtype, to = ctx.outputValue().dtype;
  if (from == DType::Float32 && isInteger(to)) {
    if (ctx.isInt8())
      ctx.fail("int8 code generation does not support a Cast from float32 to {} whose input is "
               "not known to hold whole numbers (its truncation has no int8 kernel); compile the "
               "model for float32",
               dtypeName(to));
    const auto [lo, hi] = dispatchArithmetic(to, [](auto tag) {
      using T = typename decltype(tag)::type;
      return std::pair<float, float>(static_cast<float>(std::numeric_limits<T>::lowest()),
                                     static_cast<float>(std::numeric_limits<T>::max()));
    });
    lowerActivation(ctx, ES_F32_TRUNC, lo, hi);
    return;
  }
  const Node *source = ctx.inputValue(0).producer;
  if (to == DType::Float32 && isInteger(from) && source && source->opType == "Cast") {
    ctx.copy();
    return;
  }
  ctx.fail("code generation supports Cast only from float32 to an integer type and back to "
           "float32, not {} to {}",
           dtypeName(from), dtypeName(to));
}
} // namespace

extern const OpDef kCast{.name = "Cast", .infer = infer, .run = run, .lower = lower};

} // namespace edgesplit::ops
