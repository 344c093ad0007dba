#include "ops/OpKit.h"

#include <cstring>

namespace edgesplit::ops {
namespace {
// PyTorch builds a recurrent layer's zero initial state, and other fills, from the input's
// batch size: Shape -> Gather -> Unsqueeze -> Concat -> ConstantOfShape. With the model's input
// shapes fixed at compile time the shape input folds to a constant, and so does this node.

// The fill value: the optional one-element `value` tensor (its type is the output's), else a
// float32 zero.
Tensor fillValue(const NodeContext &ctx) {
  const Tensor *value = ctx.node().attributes.getTensor("value");
  if (!value) return Tensor::scalar<float>(0.0f);
  if (value->numElements() != 1)
    ctx.fail("attribute 'value' must hold one element, got shape {}", formatShape(value->shape()));
  return *value;
}

void infer(InferContext &ctx) {
  if (ctx.inputType(0) != DType::Int64)
    ctx.fail("the shape input must be int64, got {}", dtypeName(ctx.inputType(0)));
  if (ctx.inputRank(0) != 1) ctx.fail("the shape input must be 1-D, got rank {}", ctx.inputRank(0));
  ctx.setOutput(0, fillValue(ctx).dtype(), readInt64s(ctx, 0));
}

void run(KernelContext &ctx) {
  const Tensor value = fillValue(ctx);
  Tensor &output = ctx.output(0);
  const size_t elementSize = dtypeSize(value.dtype());
  for (int64_t i = 0; i < output.numElements(); ++i)
    std::memcpy(output.rawData() + i * elementSize, value.rawData(), elementSize);
}
} // namespace

extern const OpDef kConstantOfShape{.name = "ConstantOfShape", .infer = infer, .run = run};

} // namespace edgesplit::ops
