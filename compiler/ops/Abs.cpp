#include "ops/Unary.h"

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
} // namespace

extern const OpDef kAbs{.name = "Abs", .infer = inferNumericUnary, .run = run};

} // namespace edgesplit::ops
