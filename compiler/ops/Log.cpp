#include "ops/Unary.h"

#include "codegen/LowerContext.h"

#include <cmath>

namespace edgesplit::ops {
namespace {
// -inf at 0 and NaN below, as onnxruntime computes it.
void run(KernelContext &ctx) {
  mapFloat(ctx.input(0), ctx.output(0), [](double x) { return std::log(x); });
}

// float32 es_unary_f32; int8 a table, whose entries for codes at or below 0 (-inf, NaN) saturate
// to -128 (docs/int8.md).
void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_LOG); }
} // namespace

extern const OpDef kLog{.name = "Log", .infer = inferFloatUnary, .run = run, .lower = lower};

} // namespace edgesplit::ops
