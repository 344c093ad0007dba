#include "ops/Binary.h"

#include <functional>

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  runBroadcastBinary(
      ctx, [](double a, double b) { return a * b; },
      [](auto a, auto b) { return wrapping(std::multiplies<>(), a, b); });
}
} // namespace

extern const OpDef kMul{.name = "Mul", .minInputs = 2, .maxInputs = 2,
                        .infer = inferBroadcastBinary, .run = run};

} // namespace edgesplit::ops
