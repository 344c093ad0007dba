#include "ops/OpKit.h"

#include <cstring>

namespace edgesplit::ops {
namespace {
// output = condition ? x : y with numpy broadcasting of all three. PyTorch's expand(-1, ...)
// picks the input's own sizes this way; with static shapes it folds to a constant.
void infer(InferContext &ctx) {
  if (ctx.inputType(0) != DType::Bool)
    ctx.fail("the condition must be bool, got {}", dtypeName(ctx.inputType(0)));
  if (ctx.inputType(1) != ctx.inputType(2))
    ctx.fail("inputs have different types (input 1 is {}, input 2 is {}); insert a Cast",
             dtypeName(ctx.inputType(1)), dtypeName(ctx.inputType(2)));
  ctx.setOutput(0, ctx.inputType(1),
                broadcastShapes(ctx, {ctx.inputShape(0), ctx.inputShape(1), ctx.inputShape(2)}));
}

void run(KernelContext &ctx) {
  const Tensor &condition = ctx.input(0), &x = ctx.input(1), &y = ctx.input(2);
  Tensor &out = ctx.output(0);
  const BroadcastIndexer indexC(condition.shape(), out.shape()), indexX(x.shape(), out.shape()),
      indexY(y.shape(), out.shape());
  const size_t elementSize = dtypeSize(out.dtype());
  const bool *pick = condition.data<bool>();
  for (int64_t i = 0; i < out.numElements(); ++i) {
    const uint8_t *source = pick[indexC(i)] ? x.rawData() + indexX(i) * elementSize
                                            : y.rawData() + indexY(i) * elementSize;
    std::memcpy(out.rawData() + i * elementSize, source, elementSize);
  }
}
} // namespace

extern const OpDef kWhere{.name = "Where", .minInputs = 3, .maxInputs = 3, .infer = infer,
                          .run = run};

} // namespace edgesplit::ops
