#include "ops/Binary.h"

#include <functional>

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  runBroadcastBinary(
      ctx, [](double a, double b) { return a - b; },
      [](auto a, auto b) { return wrapping(std::minus<>(), a, b); });
}

void lower(LowerContext &ctx) { lowerArithmetic(ctx, ArithmeticKind::Sub); }
} // namespace

extern const OpDef kSub{.name = "Sub", .minInputs = 2, .maxInputs = 2,
                        .infer = inferBroadcastBinary, .run = run,
                        .quantize = quantizeArithmetic, .lower = lower,
                        .fusesActivation = true};

} // namespace edgesplit::ops
