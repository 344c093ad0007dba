#include "ops/Unary.h"

#include "codegen/LowerContext.h"

#include <cmath>

namespace edgesplit::ops {
namespace {
// A NaN stays NaN, as in onnxruntime.
void run(KernelContext &ctx) {
  mapNumeric(
      ctx.input(0), ctx.output(0),
      [](double x) {
        return x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : std::isnan(x) ? x : 0.0;
      },
      [](auto x) {
        using T = decltype(x);
        if constexpr (std::is_signed_v<T>)
          return static_cast<T>((x > 0) - (x < 0));
        else
          return static_cast<T>(x > 0);
      });
}

// float32 es_unary_f32, int8 a table (docs/int8.md).
void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_SIGN); }
} // namespace

extern const OpDef kSign{.name = "Sign", .infer = inferNumericUnary, .run = run, .lower = lower};

} // namespace edgesplit::ops
