#include "ops/Binary.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  runBroadcastBinary(
      ctx, [](double a, double b) { return a + b; },
      [](auto a, auto b) {
        using T = decltype(a);
        // Wrap like numpy instead of signed-overflow UB.
        using U = std::make_unsigned_t<T>;
        return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
      });
}

void lower(LowerContext &ctx) { lowerArithmetic(ctx, ArithmeticKind::Add); }
} // namespace

extern const OpDef kAdd{.name = "Add", .minInputs = 2, .maxInputs = 2,
                        .infer = inferBroadcastBinary, .run = run,
                        .quantize = quantizeArithmetic, .lower = lower,
                        .fusesActivation = true};

} // namespace edgesplit::ops
