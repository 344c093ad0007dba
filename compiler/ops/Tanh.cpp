// STUB: to be implemented.
#include "ops/OpKit.h"

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) { ctx.fail("not implemented yet"); }
void run(KernelContext &ctx) { ctx.fail("not implemented yet"); }
} // namespace

extern const OpDef kTanh{.name = "Tanh", .minInputs = 0, .maxInputs = 16, .minOutputs = 0,
                        .maxOutputs = 16, .infer = infer, .run = run};

} // namespace edgesplit::ops
