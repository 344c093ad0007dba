#include "ops/Unary.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  mapNumeric(
      ctx.input(0), ctx.output(0), [](double x) { return -x; },
      [](auto x) { return wrappingNegate(x); });
}
} // namespace

extern const OpDef kNeg{.name = "Neg", .infer = inferSignedUnary, .run = run};

} // namespace edgesplit::ops
