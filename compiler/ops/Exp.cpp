#include "ops/Unary.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  mapFloat(ctx.input(0), ctx.output(0), [](double x) { return std::exp(x); });
}

void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_EXP); }
} // namespace

extern const OpDef kExp{.name = "Exp", .infer = inferFloatUnary, .run = run, .lower = lower};

} // namespace edgesplit::ops
