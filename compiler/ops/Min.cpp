#include "ops/Binary.h"

#include <limits>

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  // A NaN operand gives NaN, as numpy.minimum does.
  runBroadcastBinary(
      ctx, [](double a, double b) { return a < b || std::isnan(a) ? a : b; },
      [](auto a, auto b) { return std::min(a, b); });
}

void lower(LowerContext &ctx) { lowerArithmetic(ctx, ArithmeticKind::Min); }
} // namespace

extern const OpDef kMin{.name = "Min", .maxInputs = std::numeric_limits<int>::max(),
                        .infer = inferBroadcastBinary, .run = run,
                        .quantize = quantizeArithmetic, .lower = lower,
                        .fusesActivation = true};

} // namespace edgesplit::ops
