#include "ops/Layout.h"

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  const llvm::ArrayRef<int64_t> inputShape = ctx.inputShape(0);
  const int64_t rank = ctx.inputRank(0);
  std::vector<bool> removed(inputShape.size(), false);
  if (auto axes = attrOrInputInts(ctx, "axes", 1, 13)) {
    for (int64_t axis : normalizeAxes(ctx, *axes, rank)) {
      if (inputShape[static_cast<size_t>(axis)] != 1)
        ctx.fail("cannot squeeze axis {} of shape {}: its size is not 1", axis,
                 formatShape(inputShape));
      removed[static_cast<size_t>(axis)] = true;
    }
  } else {
    // Without axes every size-1 dimension goes.
    for (size_t axis = 0; axis < inputShape.size(); ++axis) removed[axis] = inputShape[axis] == 1;
  }
  Shape shape;
  for (size_t axis = 0; axis < inputShape.size(); ++axis)
    if (!removed[axis]) shape.push_back(inputShape[axis]);
  ctx.setOutput(0, ctx.inputType(0), shape);
}
} // namespace

extern const OpDef kSqueeze{.name = "Squeeze", .maxInputs = 2, .infer = infer,
                            .run = runReshapeLike, .quantize = annotateSameAsInput,
                            .lower = lowerView};

} // namespace edgesplit::ops
