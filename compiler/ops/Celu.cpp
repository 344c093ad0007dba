#include "ops/Unary.h"

#include "codegen/LowerContext.h"

#include <cmath>

namespace edgesplit::ops {
namespace {
// max(0, x) + min(0, alpha * (e^(x / alpha) - 1)): the second term is negative exactly where x is.
void run(KernelContext &ctx) {
  const double alpha = ctx.attrFloat("alpha", 1.0f);
  mapFloat(ctx.input(0), ctx.output(0),
           [alpha](double x) { return x > 0.0 ? x : alpha * std::expm1(x / alpha); });
}

// float32 es_unary_f32, int8 a table (docs/int8.md).
void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_CELU, ctx.attrFloat("alpha", 1.0f)); }
} // namespace

extern const OpDef kCelu{.name = "Celu", .infer = inferFloatUnary, .run = run, .lower = lower};

} // namespace edgesplit::ops
