#include "ops/OpKit.h"

namespace edgesplit::ops {
namespace {
// ONNX's expanded GreaterOrEqual and LessOrEqual (Or of Greater and Equal) and masks combined
// in exports. The reference interpreter runs it; code generation does not have it yet
// (docs/errors.md, codegen-unsupported).
void infer(InferContext &ctx) {
  if (ctx.inputType(0) != DType::Bool || ctx.inputType(1) != DType::Bool)
    ctx.fail("the inputs must be bool, got {} and {}", dtypeName(ctx.inputType(0)),
             dtypeName(ctx.inputType(1)));
  ctx.setOutput(0, DType::Bool, broadcastShapes(ctx, {ctx.inputShape(0), ctx.inputShape(1)}));
}

void run(KernelContext &ctx) {
  const Tensor &a = ctx.input(0), &b = ctx.input(1);
  Tensor &out = ctx.output(0);
  const BroadcastIndexer indexA(a.shape(), out.shape()), indexB(b.shape(), out.shape());
  const bool *x = a.data<bool>(), *y = b.data<bool>();
  bool *result = out.data<bool>();
  for (int64_t i = 0; i < out.numElements(); ++i) result[i] = x[indexA(i)] || y[indexB(i)];
}
} // namespace

extern const OpDef kOr{.name = "Or", .minInputs = 2, .maxInputs = 2, .infer = infer, .run = run};

} // namespace edgesplit::ops
