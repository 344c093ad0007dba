#include "ops/Unary.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  const double alpha = ctx.attrFloat("alpha", 1.0f);
  mapFloat(ctx.input(0), ctx.output(0),
           [alpha](double x) { return x >= 0.0 ? x : alpha * (std::exp(x) - 1.0); });
}

void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_ELU, ctx.attrFloat("alpha", 1.0f)); }
} // namespace

extern const OpDef kElu{.name = "Elu", .infer = inferFloatUnary, .run = run, .lower = lower};

} // namespace edgesplit::ops
