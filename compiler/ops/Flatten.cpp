#include "ops/Layout.h"

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(0);
  const int64_t rank = static_cast<int64_t>(shape.size());
  // Unlike most axis attributes, axis == rank is valid: it flattens everything into the rows.
  int64_t axis = ctx.attrInt("axis", 1);
  if (axis < -rank || axis > rank)
    ctx.fail("axis {} is out of range for a rank-{} input (expected {} to {})", axis, rank, -rank,
             rank);
  if (axis < 0) axis += rank;
  const int64_t rows = numElements(shape.take_front(static_cast<size_t>(axis)));
  const int64_t columns = numElements(shape.drop_front(static_cast<size_t>(axis)));
  ctx.setOutput(0, ctx.inputType(0), {rows, columns});
}
} // namespace

extern const OpDef kFlatten{.name = "Flatten", .infer = infer, .run = runReshapeLike,
                            .quantize = annotateSameAsInput, .lower = lowerView};

} // namespace edgesplit::ops
