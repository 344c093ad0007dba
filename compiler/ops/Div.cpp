#include "ops/Binary.h"

#include <functional>

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  runBroadcastBinary(
      ctx, [](double a, double b) { return a / b; },
      [&ctx](auto a, auto b) {
        using T = decltype(a);
        if (b == 0) ctx.fail("integer division by zero");
        // Truncates toward zero like C. The one overflowing quotient, INT_MIN / -1, wraps.
        if constexpr (std::is_signed_v<T>)
          if (b == -1) return wrapping(std::minus<>(), T(0), a);
        return static_cast<T>(a / b);
      });
}

void lower(LowerContext &ctx) { lowerArithmetic(ctx, ArithmeticKind::Div); }
void quantize(QuantizeContext &ctx) { annotateScalarScaling(ctx, ArithmeticKind::Div); }
} // namespace

extern const OpDef kDiv{.name = "Div", .minInputs = 2, .maxInputs = 2,
                        .infer = inferBroadcastBinary, .run = run, .quantize = quantize,
                        .lower = lower,
                        .fusesActivation = true};

} // namespace edgesplit::ops
