#include "ops/Binary.h"

#include <functional>
#include <limits>

namespace edgesplit::ops {
namespace {
// The inputs added from the left, numpy-broadcast, as a chain of Adds computes them.
void run(KernelContext &ctx) {
  runBroadcastBinary(
      ctx, [](double a, double b) { return a + b; },
      [](auto a, auto b) { return wrapping(std::plus<>(), a, b); });
}
} // namespace

// No lowering of its own: normalisation writes Sum as a chain of two-input Adds
// (passes/SumMeanToAdds.cpp), which code generation, int8 and the QDQ file have.
extern const OpDef kSum{.name = "Sum",
                        .maxInputs = std::numeric_limits<int>::max(),
                        .infer = inferBroadcastBinary,
                        .run = run};

} // namespace edgesplit::ops
