#include "ops/Layout.h"

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  const llvm::ArrayRef<int64_t> inputShape = ctx.inputShape(0);
  const std::optional<std::vector<int64_t>> axes = attrOrInputInts(ctx, "axes", 1, 13);
  if (!axes) ctx.fail("missing axes");
  // Axes index the output, whose rank counts the inserted dimensions.
  const int64_t rank = ctx.inputRank(0) + static_cast<int64_t>(axes->size());
  std::vector<bool> inserted(static_cast<size_t>(rank), false);
  for (int64_t axis : normalizeAxes(ctx, *axes, rank)) inserted[static_cast<size_t>(axis)] = true;
  Shape shape;
  const int64_t *nextInputDim = inputShape.begin();
  for (bool isNew : inserted) shape.push_back(isNew ? 1 : *nextInputDim++);
  ctx.setOutput(0, ctx.inputType(0), shape);
}
} // namespace

extern const OpDef kUnsqueeze{.name = "Unsqueeze", .maxInputs = 2, .infer = infer,
                              .run = runReshapeLike, .quantize = annotateSameAsInput,
                              .lower = lowerView};

} // namespace edgesplit::ops
