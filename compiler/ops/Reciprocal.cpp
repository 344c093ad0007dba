#include "ops/Unary.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  mapFloat(ctx.input(0), ctx.output(0), [](double x) { return 1.0 / x; });
}

// tf2onnx writes TensorFlow's rsqrt as Sqrt -> Reciprocal (LayerNorm's 1 / standard deviation,
// which passes/FoldLayerNormalization.cpp folds away where it can). int8: a table.
void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_RECIPROCAL); }
} // namespace

extern const OpDef kReciprocal{.name = "Reciprocal", .infer = inferFloatUnary, .run = run,
                               .lower = lower};

} // namespace edgesplit::ops
