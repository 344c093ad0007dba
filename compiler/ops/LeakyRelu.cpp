#include "ops/Unary.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  const double alpha = ctx.attrFloat("alpha", 0.01f);
  mapFloat(ctx.input(0), ctx.output(0), [alpha](double x) { return x >= 0.0 ? x : alpha * x; });
}

void lower(LowerContext &ctx) {
  lowerActivation(ctx, ES_F32_LEAKY_RELU, ctx.attrFloat("alpha", 0.01f));
}
} // namespace

extern const OpDef kLeakyRelu{.name = "LeakyRelu", .infer = inferFloatUnary, .run = run,
                              .lower = lower};

} // namespace edgesplit::ops
