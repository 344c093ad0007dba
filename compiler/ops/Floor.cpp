#include "ops/Unary.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  mapFloat(ctx.input(0), ctx.output(0), [](double x) { return std::floor(x); });
}
} // namespace

extern const OpDef kFloor{.name = "Floor", .infer = inferFloatUnary, .run = run};

} // namespace edgesplit::ops
