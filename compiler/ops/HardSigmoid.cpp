#include "ops/Unary.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  const float alpha = ctx.attrFloat("alpha", 0.2f);
  const float beta = ctx.attrFloat("beta", 0.5f);
  mapFloatInOwnType(ctx.input(0), ctx.output(0), [alpha, beta](auto x) {
    using T = decltype(x);
    return hardSigmoid<T>(x, alpha, beta);
  });
}

void lower(LowerContext &ctx) {
  lowerActivation(ctx, ES_F32_HARD_SIGMOID, ctx.attrFloat("alpha", 0.2f),
                  ctx.attrFloat("beta", 0.5f));
}
} // namespace

extern const OpDef kHardSigmoid{.name = "HardSigmoid", .infer = inferFloatUnary, .run = run,
                                .lower = lower};

} // namespace edgesplit::ops
