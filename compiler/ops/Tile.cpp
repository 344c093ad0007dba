#include "ops/Layout.h"

#include "ir/Limits.h"

namespace edgesplit::ops {
namespace {
// Output dimension k is input dimension k times repeats[k].
template <typename Context>
Shape tiledShape(const Context &ctx, llvm::ArrayRef<int64_t> inputShape,
                 llvm::ArrayRef<int64_t> repeats) {
  if (repeats.size() != inputShape.size())
    ctx.fail("repeats has {} entries, the input has rank {}", repeats.size(), inputShape.size());
  Shape shape;
  for (size_t k = 0; k < repeats.size(); ++k) {
    if (repeats[k] < 0) ctx.fail("repeats {} has a negative entry", formatShape(repeats));
    const std::optional<int64_t> size = checkedMul(inputShape[k], repeats[k]);
    if (!size) ctx.fail("repeats {} overflow dimension {}", formatShape(repeats), k);
    shape.push_back(*size);
  }
  return shape;
}

void infer(InferContext &ctx) {
  if (ctx.opset() < 6) ctx.fail("Tile before opset 6 (tiles and axis inputs) is not supported");
  if (ctx.inputType(1) != DType::Int64)
    ctx.fail("repeats must be int64, got {}", dtypeName(ctx.inputType(1)));
  const std::vector<int64_t> repeats = intListInput(ctx, 1);
  ctx.setOutput(0, ctx.inputType(0), tiledShape(ctx, ctx.inputShape(0), repeats));
}

// Output block (a0, a1, ...) of the input's shape is the input: copy it once per block.
void run(KernelContext &ctx) {
  const Tensor &input = ctx.input(0);
  Tensor &output = ctx.output(0);
  if (output.numElements() == 0) return;
  const std::vector<int64_t> repeats = intListInput(ctx, 1);
  const Shape outputStrides = stridesOf(output.shape());
  Shape block(repeats.size(), 0);
  StridedLayout to{0, outputStrides};
  for (;;) {
    to.offset = 0;
    for (size_t k = 0; k < block.size(); ++k) to.offset += block[k] * input.dim(k) * outputStrides[k];
    copyStrided(input, denseLayout(input.shape()), output, to, input.shape());
    size_t k = block.size();
    while (k > 0 && ++block[k - 1] == repeats[k - 1]) block[--k] = 0;
    if (k == 0) return;
  }
}
} // namespace

// Code generation sees Tile only on activations: constant folding evaluates it on constants.
extern const OpDef kTile{.name = "Tile", .minInputs = 2, .maxInputs = 2, .infer = infer,
                         .run = run};

} // namespace edgesplit::ops
