#include "ops/Unary.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {
namespace {
// ONNX's defaults; a NaN gives 0, as in onnxruntime (neither comparison holds).
constexpr float kDefaultLambd = 0.5f;
constexpr float kDefaultBias = 0.0f;

void run(KernelContext &ctx) {
  const double lambd = ctx.attrFloat("lambd", kDefaultLambd);
  const double bias = ctx.attrFloat("bias", kDefaultBias);
  mapFloat(ctx.input(0), ctx.output(0), [lambd, bias](double x) {
    return x < -lambd ? x + bias : x > lambd ? x - bias : 0.0;
  });
}

// float32 es_unary_f32 (alpha = lambd, beta = bias), int8 a table (docs/int8.md).
void lower(LowerContext &ctx) {
  lowerActivation(ctx, ES_F32_SHRINK, ctx.attrFloat("lambd", kDefaultLambd),
                  ctx.attrFloat("bias", kDefaultBias));
}
} // namespace

extern const OpDef kShrink{.name = "Shrink", .infer = inferFloatUnary, .run = run, .lower = lower};

} // namespace edgesplit::ops
