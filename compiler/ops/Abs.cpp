#include "ops/Unary.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  mapNumeric(
      ctx.input(0), ctx.output(0), [](double x) { return std::fabs(x); },
      [](auto x) {
        if constexpr (std::is_signed_v<decltype(x)>) return x < 0 ? wrappingNegate(x) : x;
        else return x;
      });
}

// float32 es_unary_f32, int8 a table (docs/int8.md).
void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_ABS); }
} // namespace

extern const OpDef kAbs{.name = "Abs", .infer = inferNumericUnary, .run = run,
                      .lower = lower};

} // namespace edgesplit::ops
