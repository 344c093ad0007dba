#include "ops/Unary.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  const double alpha = ctx.attrFloat("alpha", 0.2f);
  const double beta = ctx.attrFloat("beta", 0.5f);
  mapFloat(ctx.input(0), ctx.output(0),
           [alpha, beta](double x) { return hardSigmoid(x, alpha, beta); });
}
} // namespace

extern const OpDef kHardSigmoid{.name = "HardSigmoid", .infer = inferFloatUnary, .run = run};

} // namespace edgesplit::ops
