#include "ops/Unary.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  mapFloat(ctx.input(0), ctx.output(0), [](double x) { return std::sqrt(x); });
}

// LayerNorm's standard deviation (PyTorch's exports before opset 17). int8: a table.
void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_SQRT); }
} // namespace

extern const OpDef kSqrt{.name = "Sqrt", .infer = inferFloatUnary, .run = run, .lower = lower};

} // namespace edgesplit::ops
