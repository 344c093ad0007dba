#include "ops/Unary.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  mapFloat(ctx.input(0), ctx.output(0), [](double x) { return std::floor(x); });
}

// int8: a table like the smooth functions (the requantisation chains of integer-deployable
// graphs floor between layers).
void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_FLOOR); }
} // namespace

extern const OpDef kFloor{.name = "Floor", .infer = inferFloatUnary, .run = run, .lower = lower};

} // namespace edgesplit::ops
