#include "ops/Unary.h"

#include "codegen/LowerContext.h"

#include <cmath>

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  // Times the reciprocal, in the input's own type, as onnxruntime and the runtime's kernel
  // compute it: a division by 1 + |x| rounds some float32 results the other way.
  mapFloatInOwnType(ctx.input(0), ctx.output(0), [](auto x) {
    using T = decltype(x);
    return x * (T(1) / (T(1) + std::abs(x)));
  });
}

// float32 es_unary_f32, int8 a table (docs/int8.md).
void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_SOFTSIGN); }
} // namespace

extern const OpDef kSoftsign{
    .name = "Softsign", .infer = inferFloatUnary, .run = run, .lower = lower};

} // namespace edgesplit::ops
