#include "ops/Reduction.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) { runSoftmax(ctx, /*logarithm=*/true); }
} // namespace

extern const OpDef kLogSoftmax{.name = "LogSoftmax", .infer = inferSoftmax, .run = run};

} // namespace edgesplit::ops
