#include "ops/Unary.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  mapFloat(ctx.input(0), ctx.output(0),
           [](double x) { return x * hardSigmoid(x, 1.0 / 6.0, 0.5); });
}

void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_HARD_SWISH); }
} // namespace

extern const OpDef kHardSwish{.name = "HardSwish", .infer = inferFloatUnary, .run = run,
                              .lower = lower};

} // namespace edgesplit::ops
