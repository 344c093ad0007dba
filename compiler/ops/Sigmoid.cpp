#include "ops/Unary.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  mapFloat(ctx.input(0), ctx.output(0), [](double x) { return 1.0 / (1.0 + std::exp(-x)); });
}
} // namespace

extern const OpDef kSigmoid{.name = "Sigmoid", .infer = inferFloatUnary, .run = run};

} // namespace edgesplit::ops
