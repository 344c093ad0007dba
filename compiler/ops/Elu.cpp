#include "ops/Unary.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  const double alpha = ctx.attrFloat("alpha", 1.0f);
  mapFloat(ctx.input(0), ctx.output(0),
           [alpha](double x) { return x >= 0.0 ? x : alpha * (std::exp(x) - 1.0); });
}
} // namespace

extern const OpDef kElu{.name = "Elu", .infer = inferFloatUnary, .run = run};

} // namespace edgesplit::ops
