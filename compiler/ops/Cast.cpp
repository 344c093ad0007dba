#include "ops/Unary.h"

#include "codegen/LowerContext.h"
#include "codegen/Lowering.h"
#include "ops/Layout.h"
#include "quantize/Annotate.h"
#include "quantize/QuantMath.h"

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

const Node *roundTripSource(const NodeContext &ctx) {
  const Value *input = ctx.node().input(0);
  const Node *source = input ? input->producer : nullptr;
  return source && source->opType == "Cast" && source->domain.empty() && source->input(0) &&
                 source->input(0)->dtype == DType::Float32
             ? source
             : nullptr;
}

// (x > 0).float(), tf.cast(mask, tf.float32): a comparison's mask already holds 1.0f / 0.0f in
// float32, so the Cast is a copy; int8 writes the codes of 1 and 0 in the output's parameters
// (from its calibrated range) with es_where_s8 picking between the two.
void lowerMaskToFloat(LowerContext &ctx) {
  if (!ctx.isInt8()) {
    ctx.copy();
    return;
  }
  const TensorQuant out = ctx.outputQuant();
  const auto code = [&](double value) {
    return static_cast<int8_t>(roundHalfAway(value / out.scale + out.zeroPoint, -128, 127));
  };
  es_where_s8_params_t p{};
  kernelShape4D(ctx, ctx.inputShape(0), p.condition_shape);
  kernelShape4D(ctx, {}, p.x_shape);
  kernelShape4D(ctx, {}, p.y_shape);
  kernelShape4D(ctx, ctx.outputShape(), p.out_shape);
  p.x_zp = p.y_zp = p.output_zp = out.zeroPoint;
  p.x_requant = p.y_requant = ctx.requant(1.0);
  ctx.call<es_where_s8_params_t>(
      "es_where_s8", p,
      {ctx.input(0), ctx.constantArray("one", std::vector<int8_t>{code(1.0)}),
       ctx.constantArray("zero", std::vector<int8_t>{code(0.0)}), ctx.output()},
      [](const es_where_s8_params_t &p, const KernelArgs &a) {
        es_where_s8(&p, a.in<int8_t>(1), a.in<int8_t>(2), a.in<int8_t>(3), a.out<int8_t>(4));
      },
      "elementwise");
}

// Code generation keeps a Cast's integer result as float32 (codegen/Lowering.cpp allows it only
// when Casts back to float32 alone read it, as in x.int().float() or an integer-deployable
// graph's requantisation): the Cast to the integer type truncates and saturates in float, the
// Cast back is a copy. Whole-number round trips are removed before (remove-cast-round-trips).
// int8 keeps the round trip's input parameters throughout (docs/int8.md "Truncating Cast"): the
// truncation is a table into them, the Cast back a copy.
void lower(LowerContext &ctx) {
  const DType from = ctx.inputValue(0).dtype, to = ctx.outputValue().dtype;
  if (from == DType::Float32 && isInteger(to)) {
    const auto [lo, hi] = dispatchArithmetic(to, [](auto tag) {
      using T = typename decltype(tag)::type;
      return std::pair<float, float>(static_cast<float>(std::numeric_limits<T>::lowest()),
                                     static_cast<float>(std::numeric_limits<T>::max()));
    });
    if (ctx.isInt8()) {
      const TensorQuant in = ctx.inputQuant(0);
      lowerLookupTable(ctx, in.scale, in.zeroPoint);
      return;
    }
    lowerActivation(ctx, ES_F32_TRUNC, lo, hi);
    return;
  }
  if (to == DType::Float32 && isInteger(from) && roundTripSource(ctx)) {
    ctx.copy();
    return;
  }
  if (to == DType::Float32 && from == DType::Bool && isComparisonMask(ctx.inputValue(0))) {
    lowerMaskToFloat(ctx);
    return;
  }
  ctx.fail("code generation supports Cast only from float32 to an integer type and back to "
           "float32, or of a comparison's mask to float32, not {} to {}",
           dtypeName(from), dtypeName(to));
}

// The Cast back to float32 of a round trip takes the parameters of the round trip's input, which
// the truncation's table writes; any other float32 result its calibrated range.
void quantize(QuantizeContext &ctx) {
  const Node *source = roundTripSource(ctx);
  const Value *input = source ? source->input(0) : nullptr;
  if (!input || !input->quant || input->quant->scales.size() != 1) {
    ctx.annotateOutputFromRange(0);
    return;
  }
  ctx.annotateOutputFixed(0, input->quant->scales[0],
                          input->quant->zeroPoints.empty() ? 0 : input->quant->zeroPoints[0]);
}
} // namespace

extern const OpDef kCast{.name = "Cast", .infer = infer, .run = run, .quantize = quantize,
                         .lower = lower};

} // namespace edgesplit::ops
