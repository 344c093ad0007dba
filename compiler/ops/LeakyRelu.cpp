#include "ops/Unary.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  const double alpha = ctx.attrFloat("alpha", 0.01f);
  mapFloat(ctx.input(0), ctx.output(0), [alpha](double x) { return x >= 0.0 ? x : alpha * x; });
}
} // namespace

extern const OpDef kLeakyRelu{.name = "LeakyRelu", .infer = inferFloatUnary, .run = run};

} // namespace edgesplit::ops
