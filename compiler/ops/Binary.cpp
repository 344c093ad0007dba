#include "ops/Binary.h"

namespace edgesplit::ops {

void inferBroadcastBinary(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (type == DType::Bool) ctx.fail("bool inputs are not supported");
  for (size_t i = 1; i < ctx.numInputs(); ++i)
    if (ctx.inputType(i) != type)
      ctx.fail("inputs have different types (input 0 is {}, input {} is {}); insert a Cast",
               dtypeName(type), i, dtypeName(ctx.inputType(i)));
  const size_t firstRank = ctx.inputShape(0).size();
  llvm::SmallVector<Shape, 4> shapes;
  for (size_t i = 0; i < ctx.numInputs(); ++i)
    shapes.push_back(broadcastOperandShape(ctx, i, ctx.inputShape(i), firstRank));
  llvm::SmallVector<llvm::ArrayRef<int64_t>, 4> shapeRefs(shapes.begin(), shapes.end());
  ctx.setOutput(0, type, broadcastShapes(ctx, shapeRefs));
}

Shape broadcastOperandShape(const NodeContext &ctx, size_t index, llvm::ArrayRef<int64_t> shape,
                            size_t firstRank) {
  Shape result(shape.begin(), shape.end());
  const bool legacyAxisBroadcast =
      index == 1 && ctx.opset() < 7 && ctx.attrInt("broadcast", 0) != 0 && ctx.hasAttr("axis");
  if (!legacyAxisBroadcast) return result;
  const int64_t rank = static_cast<int64_t>(firstRank);
  const int64_t axis = ctx.normalizeAxis(ctx.attrInt("axis", 0), rank);
  const int64_t trailingOnes = rank - axis - static_cast<int64_t>(shape.size());
  if (trailingOnes < 0)
    ctx.fail("input 1 of shape {} does not fit in input 0 (rank {}) from axis {}",
             formatShape(shape), rank, axis);
  result.append(static_cast<size_t>(trailingOnes), 1);
  return result;
}

} // namespace edgesplit::ops
