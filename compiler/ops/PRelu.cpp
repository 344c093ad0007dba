#include "ops/Binary.h"

#include <functional>

namespace edgesplit::ops {
namespace {
// Like the arithmetic ops, except the slope broadcasts one way only: the output has X's shape.
void infer(InferContext &ctx) {
  inferBroadcastBinary(ctx);
  const auto inputShape = ctx.inputShape(0);
  if (ctx.outputs()[0].shape != Shape(inputShape.begin(), inputShape.end()))
    ctx.fail("slope of shape {} does not broadcast to the input's shape {}",
             formatShape(ctx.inputShape(1)), formatShape(inputShape));
}

void run(KernelContext &ctx) {
  runBroadcastBinary(
      ctx, [](double x, double slope) { return x < 0.0 ? slope * x : x; },
      [](auto x, auto slope) {
        if constexpr (std::is_signed_v<decltype(x)>)
          return x < 0 ? wrapping(std::multiplies<>(), slope, x) : x;
        else return x;
      });
}

// es_binary_f32 / es_binary_s8 with the slope as operand b: float32 x < 0 ? x * slope : x, int8
// the two rescalings of docs/int8.md ("PRelu").
void lower(LowerContext &ctx) { lowerArithmetic(ctx, ArithmeticKind::PRelu); }
} // namespace

extern const OpDef kPRelu{.name = "PRelu", .minInputs = 2, .maxInputs = 2, .infer = infer,
                          .run = run, .quantize = quantizeArithmetic, .lower = lower,
                          .fusesActivation = true};

} // namespace edgesplit::ops
