#include "ops/Reduction.h"

namespace edgesplit::ops {
namespace {
// Opset 18 moved the axes from an attribute to an optional input.
constexpr int kAxesInputOpset = 18;

void infer(InferContext &ctx) { inferReduceOp(ctx, kAxesInputOpset); }
void run(KernelContext &ctx) { runReduceOp(ctx, kAxesInputOpset, Reduction::Max); }
} // namespace

extern const OpDef kReduceMax{.name = "ReduceMax", .maxInputs = 2, .infer = infer, .run = run};

} // namespace edgesplit::ops
