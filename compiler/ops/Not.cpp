#include "ops/OpKit.h"

namespace edgesplit::ops {
namespace {
// PyTorch before opset 12 writes x >= t as Not(Less(x, t)). The reference interpreter runs it;
// code generation does not have it yet (docs/errors.md, codegen-unsupported).
void infer(InferContext &ctx) {
  if (ctx.inputType(0) != DType::Bool)
    ctx.fail("the input must be bool, got {}", dtypeName(ctx.inputType(0)));
  ctx.setOutput(0, DType::Bool, ctx.inputShape(0));
}

void run(KernelContext &ctx) {
  const Tensor &input = ctx.input(0);
  Tensor &out = ctx.output(0);
  const bool *x = input.data<bool>();
  bool *result = out.data<bool>();
  for (int64_t i = 0; i < out.numElements(); ++i) result[i] = !x[i];
}
} // namespace

extern const OpDef kNot{.name = "Not", .infer = infer, .run = run};

} // namespace edgesplit::ops
