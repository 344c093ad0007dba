#include "ops/Pooling.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) { runGlobalPool(ctx, Reduction::Mean); }
} // namespace

extern const OpDef kGlobalAveragePool{
    .name = "GlobalAveragePool", .infer = inferGlobalPool, .run = run};

} // namespace edgesplit::ops
