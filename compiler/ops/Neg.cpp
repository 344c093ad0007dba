#include "ops/Unary.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  mapNumeric(
      ctx.input(0), ctx.output(0), [](double x) { return -x; },
      [](auto x) { return wrappingNegate(x); });
}

// float32 es_unary_f32, int8 a table (docs/int8.md).
void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_NEG); }
} // namespace

extern const OpDef kNeg{.name = "Neg", .infer = inferSignedUnary, .run = run,
                      .lower = lower};

} // namespace edgesplit::ops
