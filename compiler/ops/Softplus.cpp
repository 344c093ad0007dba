#include "ops/Unary.h"

#include "codegen/LowerContext.h"

#include <cmath>

namespace edgesplit::ops {
namespace {
// log(1 + e^x), written so that e^x never overflows: max(x, 0) + log1p(e^-|x|).
void run(KernelContext &ctx) {
  mapFloat(ctx.input(0), ctx.output(0),
           [](double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); });
}

// int8: a table (docs/int8.md), the output in its calibrated parameters.
void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_SOFTPLUS); }
} // namespace

extern const OpDef kSoftplus{.name = "Softplus", .infer = inferFloatUnary, .run = run,
                             .lower = lower};

} // namespace edgesplit::ops
