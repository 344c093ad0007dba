#include "ops/Unary.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  // alpha is 1/6 in float32 for a float32 input, as the runtime's kernel and onnxruntime have it.
  mapFloatInOwnType(ctx.input(0), ctx.output(0), [](auto x) {
    using T = decltype(x);
    return x * hardSigmoid<T>(x, T(1) / T(6), T(0.5));
  });
}

void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_HARD_SWISH); }
} // namespace

extern const OpDef kHardSwish{.name = "HardSwish", .infer = inferFloatUnary, .run = run,
                              .lower = lower};

} // namespace edgesplit::ops
