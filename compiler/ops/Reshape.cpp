#include "ops/Layout.h"

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  const llvm::ArrayRef<int64_t> inputShape = ctx.inputShape(0);
  if (ctx.inputType(1) != DType::Int64)
    ctx.fail("the shape input must be int64, got {}", dtypeName(ctx.inputType(1)));
  if (ctx.inputRank(1) != 1) ctx.fail("the shape input must be 1-D, got rank {}", ctx.inputRank(1));
  // Opset 14 added allowzero; before it a 0 always copies the input's dimension.
  const bool zeroIsLiteral = ctx.attrInt("allowzero", 0) != 0;
  const std::vector<int64_t> requested = readInt64s(ctx, 1);

  Shape shape;
  std::optional<size_t> inferredAxis;
  for (size_t axis = 0; axis < requested.size(); ++axis) {
    int64_t dim = requested[axis];
    if (dim == 0 && !zeroIsLiteral) {
      if (axis >= inputShape.size())
        ctx.fail("shape {} copies dimension {} (a 0), but the input {} has only {} dimensions",
                 formatShape(requested), axis, formatShape(inputShape), inputShape.size());
      dim = inputShape[axis];
    } else if (dim == -1) {
      if (inferredAxis) ctx.fail("shape {} has more than one -1", formatShape(requested));
      inferredAxis = axis;
      dim = 1; // placeholder until the other dimensions are known
    } else if (dim < 0) {
      ctx.fail("shape {} has the invalid dimension {}", formatShape(requested), dim);
    }
    shape.push_back(dim);
  }

  const int64_t inputElements = numElements(inputShape);
  int64_t knownElements = 1;
  for (int64_t dim : shape)
    if (__builtin_mul_overflow(knownElements, dim, &knownElements))
      ctx.fail("shape {} has too many elements", formatShape(requested));
  if (inferredAxis) {
    if (knownElements == 0)
      ctx.fail("cannot infer the -1 of shape {}: the other dimensions hold no elements",
               formatShape(requested));
    shape[*inferredAxis] = inputElements / knownElements;
    knownElements *= shape[*inferredAxis];
  }
  if (knownElements != inputElements)
    ctx.fail("cannot reshape {} ({} elements) to {}", formatShape(inputShape), inputElements,
             formatShape(requested));
  ctx.setOutput(0, ctx.inputType(0), shape);
}
} // namespace

extern const OpDef kReshape{.name = "Reshape", .minInputs = 2, .maxInputs = 2,
                            .infer = infer, .run = runReshapeLike,
                            .quantize = annotateSameAsInput, .lower = lowerView};

} // namespace edgesplit::ops
