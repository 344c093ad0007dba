#include "ops/Unary.h"

#include "codegen/LowerContext.h"

#include <cmath>

namespace edgesplit::ops {
namespace {
// Halves to even, as ONNX specifies: nearbyint in the default rounding mode.
void run(KernelContext &ctx) {
  mapFloat(ctx.input(0), ctx.output(0), [](double x) { return std::nearbyint(x); });
}

// float32 es_unary_f32, int8 a table (docs/int8.md).
void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_ROUND); }
} // namespace

extern const OpDef kRound{.name = "Round", .infer = inferFloatUnary, .run = run, .lower = lower};

} // namespace edgesplit::ops
