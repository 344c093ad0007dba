#include "ops/Unary.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {
namespace {
// PyTorch exports GELU (exact form, every opset before 20) as x * 0.5 * (1 + Erf(x / sqrt 2)).
void run(KernelContext &ctx) {
  mapFloat(ctx.input(0), ctx.output(0), [](double x) { return std::erf(x); });
}

// int8: a table, like the other smooth functions (docs/int8.md); its output range is calibrated.
void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_ERF); }
} // namespace

extern const OpDef kErf{.name = "Erf", .infer = inferFloatUnary, .run = run, .lower = lower};

} // namespace edgesplit::ops
