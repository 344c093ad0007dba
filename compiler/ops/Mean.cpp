#include "ops/Binary.h"

#include <limits>

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  if (!isFloatingPoint(ctx.inputType(0)))
    ctx.fail("input type {} is not supported", dtypeName(ctx.inputType(0)));
  inferBroadcastBinary(ctx);
}

// The inputs added from the left, numpy-broadcast, then multiplied by 1/n in their type: the
// Adds and the Mul that normalisation writes (passes/SumMeanToAdds.cpp), each rounding once.
void run(KernelContext &ctx) {
  runBroadcastBinary(
      ctx, [](double a, double b) { return a + b; }, [](auto a, auto) { return a; });
  Tensor &out = ctx.output(0);
  const double factor = meanFactor(ctx.numInputs(), out.dtype()).elementAsDouble(0);
  mapFloat(out, out, [factor](double sum) { return sum * factor; });
}
} // namespace

Tensor meanFactor(size_t count, DType type) {
  return Tensor::scalar<double>(1.0 / static_cast<double>(count)).castTo(type);
}

// No lowering of its own: normalisation writes Mean as a chain of two-input Adds and a Mul by
// 1/n (passes/SumMeanToAdds.cpp), which code generation, int8 and the QDQ file have.
extern const OpDef kMean{
    .name = "Mean", .maxInputs = std::numeric_limits<int>::max(), .infer = infer, .run = run};

} // namespace edgesplit::ops
