#include "ops/Unary.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {
namespace {
// The spec's defaults: the self-normalising constants, as the nearest float32 values.
constexpr float kDefaultAlpha = 1.67326319217681884765625f;
constexpr float kDefaultGamma = 1.05070102214813232421875f;

void run(KernelContext &ctx) {
  const double alpha = ctx.attrFloat("alpha", kDefaultAlpha);
  const double gamma = ctx.attrFloat("gamma", kDefaultGamma);
  mapFloat(ctx.input(0), ctx.output(0), [alpha, gamma](double x) {
    return gamma * (x > 0.0 ? x : alpha * (std::exp(x) - 1.0));
  });
}

void lower(LowerContext &ctx) {
  lowerActivation(ctx, ES_F32_SELU, ctx.attrFloat("alpha", kDefaultAlpha),
                  ctx.attrFloat("gamma", kDefaultGamma));
}
} // namespace

extern const OpDef kSelu{.name = "Selu", .infer = inferFloatUnary, .run = run, .lower = lower};

} // namespace edgesplit::ops
