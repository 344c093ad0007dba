#include "ops/Unary.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  const double alpha = ctx.attrFloat("alpha", 1.0f);
  mapFloat(ctx.input(0), ctx.output(0), [alpha](double x) { return x > alpha ? x : 0.0; });
}

// float32 es_unary_f32, int8 a table (docs/int8.md).
void lower(LowerContext &ctx) {
  lowerActivation(ctx, ES_F32_THRESHOLDED_RELU, ctx.attrFloat("alpha", 1.0f));
}
} // namespace

extern const OpDef kThresholdedRelu{
    .name = "ThresholdedRelu", .infer = inferFloatUnary, .run = run, .lower = lower};

} // namespace edgesplit::ops
