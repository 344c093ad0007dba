#include "ops/Pooling.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) { runGlobalPool(ctx, Reduction::Max); }
} // namespace

extern const OpDef kGlobalMaxPool{.name = "GlobalMaxPool", .infer = inferGlobalPool, .run = run};

} // namespace edgesplit::ops
