#include "ops/Unary.h"

#include "codegen/FuseActivations.h"
#include "quantize/Annotate.h"

#include <limits>

namespace edgesplit::ops {
namespace {
// Before opset 11 the bounds are float attributes; from 11 they are optional scalar inputs of the
// input's type. A missing bound does not clip.
bool boundsAreInputs(const NodeContext &ctx) { return ctx.opset() >= 11; }

void infer(InferContext &ctx) {
  if (!boundsAreInputs(ctx)) {
    inferFloatUnary(ctx);
    return;
  }
  inferNumericUnary(ctx);
  for (size_t index : {1, 2}) {
    if (!ctx.hasInput(index)) continue;
    if (ctx.inputType(index) != ctx.inputType(0))
      ctx.fail("bound input {} has type {}, expected {} like the input", index,
               dtypeName(ctx.inputType(index)), dtypeName(ctx.inputType(0)));
    const auto shape = ctx.inputShape(index);
    if (numElements(shape) != 1)
      ctx.fail("bound input {} must be a scalar, got shape {}", index, formatShape(shape));
  }
}

// The bound at input `index` (or attribute `attribute` before opset 11), `fallback` when absent.
template <typename T>
T bound(const KernelContext &ctx, size_t index, std::string_view attribute, T fallback) {
  if (!boundsAreInputs(ctx))
    return ctx.hasAttr(attribute) ? static_cast<T>(ctx.attrFloat(attribute, 0.0f)) : fallback;
  if (!ctx.hasInput(index)) return fallback;
  const Tensor &value = ctx.input(index);
  if constexpr (std::is_integral_v<T>) return value.data<T>()[0];
  else return static_cast<T>(value.elementAsDouble(0));
}

void run(KernelContext &ctx) {
  // numpy.clip semantics, min(max(x, low), high): low > high yields high everywhere, NaN stays.
  const Tensor &input = ctx.input(0);
  Tensor &output = ctx.output(0);
  if (isFloatingPoint(input.dtype())) {
    const double low = bound(ctx, 1, "min", -std::numeric_limits<double>::infinity());
    const double high = bound(ctx, 2, "max", std::numeric_limits<double>::infinity());
    mapFloat(input, output, [low, high](double x) { return std::min(std::max(x, low), high); });
    return;
  }
  dispatchArithmetic(input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T low = bound(ctx, 1, "min", std::numeric_limits<T>::lowest());
    const T high = bound(ctx, 2, "max", std::numeric_limits<T>::max());
    auto in = input.values<T>();
    auto out = output.mutableValues<T>();
    for (size_t i = 0; i < in.size(); ++i) out[i] = std::min(std::max(in[i], low), high);
  });
}

// docs/int8.md: the output keeps the input's parameters, so fusing it into its producer is exact.
void quantize(QuantizeContext &ctx) { ctx.annotateOutputSameAsInput(0, 0); }

void lower(LowerContext &ctx) {
  const std::optional<ActivationClamp> bounds = activationClampOf(ctx.node());
  if (!bounds)
    ctx.fail("code generation needs constant scalar min and max inputs; make them "
             "initialisers");
  lowerClamp(ctx, bounds->lo, bounds->hi);
}
} // namespace

extern const OpDef kClip{.name = "Clip", .maxInputs = 3, .infer = infer, .run = run,
                         .quantize = quantize, .lower = lower};

} // namespace edgesplit::ops
