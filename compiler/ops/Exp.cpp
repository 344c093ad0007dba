#include "ops/Unary.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  mapFloat(ctx.input(0), ctx.output(0), [](double x) { return std::exp(x); });
}
} // namespace

extern const OpDef kExp{.name = "Exp", .infer = inferFloatUnary, .run = run};

} // namespace edgesplit::ops
