#include "ops/Reduction.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) { runSoftmax(ctx, /*logarithm=*/false); }
} // namespace

extern const OpDef kSoftmax{.name = "Softmax", .infer = inferSoftmax, .run = run};

} // namespace edgesplit::ops
