#include "ops/OpKit.h"

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) { ctx.setOutput(0, ctx.inputType(0), ctx.inputShape(0)); }
void run(KernelContext &ctx) { ctx.output(0) = ctx.input(0); }
} // namespace

extern const OpDef kIdentity{.name = "Identity", .infer = infer, .run = run};

} // namespace edgesplit::ops
