#include "ops/Layout.h"
#include "ops/OpKit.h"

#include "codegen/LowerContext.h"
#include "quantize/Annotate.h"

#include <cstring>

namespace edgesplit::ops {
namespace {
// Expand broadcasts the input and the requested shape against each other (numpy's rule, so a
// requested 1 keeps the input's dimension). PyTorch's exports build a recurrent layer's zero
// initial state this way from the input's Shape; with static shapes it folds to a constant.
Shape expandedShape(const NodeContext &ctx, llvm::ArrayRef<int64_t> input,
                    llvm::ArrayRef<int64_t> requested) {
  for (int64_t dim : requested)
    if (dim < 0) ctx.fail("shape {} has the negative dimension {}", formatShape(requested), dim);
  return broadcastShapes(ctx, {input, requested});
}

void infer(InferContext &ctx) {
  if (ctx.inputType(1) != DType::Int64)
    ctx.fail("the shape input must be int64, got {}", dtypeName(ctx.inputType(1)));
  if (ctx.inputRank(1) != 1) ctx.fail("the shape input must be 1-D, got rank {}", ctx.inputRank(1));
  ctx.setOutput(0, ctx.inputType(0), expandedShape(ctx, ctx.inputShape(0), readInt64s(ctx, 1)));
}

void run(KernelContext &ctx) {
  const Tensor &input = ctx.input(0);
  Tensor &output = ctx.output(0);
  const BroadcastIndexer sourceOf(input.shape(), output.shape());
  const size_t elementSize = dtypeSize(input.dtype());
  for (int64_t i = 0; i < output.numElements(); ++i)
    std::memcpy(output.rawData() + i * elementSize, input.rawData() + sourceOf(i) * elementSize,
                elementSize);
}

// A strided copy whose input strides are 0 along the broadcast axes (PyTorch's F.normalize
// expands the norm to the input's shape before its Div); int8 values are moved unchanged.
void lower(LowerContext &ctx) {
  const llvm::ArrayRef<int64_t> in = ctx.inputShape(0), out = ctx.outputShape();
  StridedLayout from = denseLayout(in);
  // The input's axes align with the output's last ones; leading and size-1 axes repeat.
  from.strides.insert(from.strides.begin(), out.size() - in.size(), 0);
  for (size_t axis = out.size() - in.size(); axis < out.size(); ++axis)
    if (in[axis - (out.size() - in.size())] == 1) from.strides[axis] = 0;
  lowerStridedCopy(ctx, out, from, denseLayout(out));
}
} // namespace

extern const OpDef kExpand{.name = "Expand", .minInputs = 2, .maxInputs = 2, .infer = infer,
                           .run = run, .quantize = annotateSameAsInput, .lower = lower};

} // namespace edgesplit::ops
