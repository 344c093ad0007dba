#include "ops/Layout.h"

#include <numeric>

namespace edgesplit::ops {
namespace {
// Output axis i is input axis perm[i]; the default reverses the axes.
std::vector<int64_t> permutation(const NodeContext &ctx, int64_t rank) {
  std::vector<int64_t> reversed(static_cast<size_t>(rank));
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  std::vector<int64_t> perm = ctx.attrInts("perm", reversed);
  if (static_cast<int64_t>(perm.size()) != rank)
    ctx.fail("perm has {} entries, the input has rank {}", perm.size(), rank);
  std::vector<bool> used(static_cast<size_t>(rank), false);
  for (int64_t axis : perm) {
    if (axis < 0 || axis >= rank || used[static_cast<size_t>(axis)])
      ctx.fail("perm {} is not a permutation of 0..{}", formatShape(perm), rank - 1);
    used[static_cast<size_t>(axis)] = true;
  }
  return perm;
}

void infer(InferContext &ctx) {
  const llvm::ArrayRef<int64_t> inputShape = ctx.inputShape(0);
  Shape shape;
  for (int64_t axis : permutation(ctx, ctx.inputRank(0)))
    shape.push_back(inputShape[static_cast<size_t>(axis)]);
  ctx.setOutput(0, ctx.inputType(0), shape);
}

void run(KernelContext &ctx) {
  const Tensor &input = ctx.input(0);
  Tensor &output = ctx.output(0);
  // Walking the output in order reads the input along permuted strides.
  const Shape inputStrides = stridesOf(input.shape());
  StridedLayout reading;
  for (int64_t axis : permutation(ctx, static_cast<int64_t>(input.rank())))
    reading.strides.push_back(inputStrides[static_cast<size_t>(axis)]);
  copyStrided(input, reading, output, denseLayout(output.shape()), output.shape());
}
} // namespace

extern const OpDef kTranspose{.name = "Transpose", .infer = infer, .run = run};

} // namespace edgesplit::ops
