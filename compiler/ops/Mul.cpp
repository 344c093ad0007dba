#include "ops/Binary.h"

#include <functional>

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  runBroadcastBinary(
      ctx, [](double a, double b) { return a * b; },
      [](auto a, auto b) { return wrapping(std::multiplies<>(), a, b); });
}

void lower(LowerContext &ctx) { lowerArithmetic(ctx, ArithmeticKind::Mul); }
void quantize(QuantizeContext &ctx) { annotateScalarScaling(ctx, ArithmeticKind::Mul); }
} // namespace

extern const OpDef kMul{.name = "Mul", .minInputs = 2, .maxInputs = 2,
                        .infer = inferBroadcastBinary, .run = run, .quantize = quantize,
                        .lower = lower,
                        .fusesActivation = true};

} // namespace edgesplit::ops
