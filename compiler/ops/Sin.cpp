#include "ops/Unary.h"

#include "codegen/LowerContext.h"

#include <cmath>

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  mapFloat(ctx.input(0), ctx.output(0), [](double x) { return std::sin(x); });
}

// float32 es_unary_f32, int8 a table (docs/int8.md).
void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_SIN); }
} // namespace

extern const OpDef kSin{.name = "Sin", .infer = inferFloatUnary, .run = run, .lower = lower};

} // namespace edgesplit::ops
