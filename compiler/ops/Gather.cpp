#include "ops/Layout.h"

#include "codegen/LowerContext.h"

#include <cstring>

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  const llvm::ArrayRef<int64_t> dataShape = ctx.inputShape(0);
  if (dataShape.empty()) ctx.fail("data must have rank >= 1");
  const DType indexType = ctx.inputType(1);
  if (indexType != DType::Int32 && indexType != DType::Int64)
    ctx.fail("indices must be int32 or int64, got {}", dtypeName(indexType));
  const size_t axis =
      static_cast<size_t>(ctx.normalizeAxis(ctx.attrInt("axis", 0), ctx.inputRank(0)));
  // The indexed axis is replaced by the shape of the indices.
  Shape shape(dataShape.begin(), dataShape.begin() + axis);
  shape.append(ctx.inputShape(1).begin(), ctx.inputShape(1).end());
  shape.append(dataShape.begin() + axis + 1, dataShape.end());
  ctx.setOutput(0, ctx.inputType(0), shape);
}

// The indices counted from the start of the axis; fails on one out of range.
std::vector<int64_t> normalizedIndices(const NodeContext &ctx, const Tensor &indexTensor,
                                       size_t axis, int64_t axisLength) {
  std::vector<int64_t> indices = indexTensor.toInt64Vector();
  for (int64_t &index : indices) {
    if (index < -axisLength || index >= axisLength)
      ctx.fail("index {} is out of range for axis {} of size {}", index, axis, axisLength);
    if (index < 0) index += axisLength;
  }
  return indices;
}

void run(KernelContext &ctx) {
  const Tensor &data = ctx.input(0);
  Tensor &output = ctx.output(0);
  const size_t axis = static_cast<size_t>(ctx.normalizeAxis(ctx.attrInt("axis", 0), data.rank()));
  const int64_t axisLength = data.dim(axis);
  const std::vector<int64_t> indices = normalizedIndices(ctx, ctx.input(1), axis, axisLength);
  if (output.numElements() == 0) return; // an empty tensor may have no storage to point into

  // Each index picks one contiguous block (the axes after `axis`) per outer position.
  const int64_t outerCount = numElements(data.shape().take_front(axis));
  const size_t blockBytes = static_cast<size_t>(numElements(data.shape().drop_front(axis + 1))) *
                            dtypeSize(data.dtype());
  const uint8_t *source = data.rawData();
  uint8_t *destination = output.rawData();
  for (int64_t outer = 0; outer < outerCount; ++outer)
    for (int64_t index : indices) {
      std::memcpy(destination, source + (outer * axisLength + index) * blockBytes, blockBytes);
      destination += blockBytes;
    }
}

// The indices must be constants. The output, whatever the indices' shape, is the data with the
// axis resized to the number of indices (its dense layout is the same); each run of indices in
// arithmetic progression (a single index, a range, a reversed range, a repeat) is one strided
// copy of the data's slices at those indices.
void lower(LowerContext &ctx) {
  const llvm::ArrayRef<int64_t> dataShape = ctx.inputShape(0);
  const size_t axis = static_cast<size_t>(
      ctx.normalizeAxis(ctx.attrInt("axis", 0), static_cast<int64_t>(dataShape.size())));
  const std::vector<int64_t> indices =
      normalizedIndices(ctx, ctx.constantInput(1), axis, dataShape[axis]);
  const Shape dataStrides = stridesOf(dataShape);
  Shape outputShape(dataShape.begin(), dataShape.end());
  outputShape[axis] = static_cast<int64_t>(indices.size());
  const StridedLayout writing = denseLayout(outputShape);

  for (size_t first = 0; first < indices.size();) {
    const int64_t step = first + 1 < indices.size() ? indices[first + 1] - indices[first] : 0;
    size_t end = first + 1;
    while (end < indices.size() && indices[end] - indices[end - 1] == step) ++end;
    Shape extent(dataShape.begin(), dataShape.end());
    extent[axis] = static_cast<int64_t>(end - first);
    StridedLayout from = denseLayout(dataShape), to = writing;
    from.offset = indices[first] * dataStrides[axis];
    from.strides[axis] = step * dataStrides[axis];
    to.offset = static_cast<int64_t>(first) * writing.strides[axis];
    lowerStridedCopy(ctx, extent, from, to);
    first = end;
  }
}
} // namespace

extern const OpDef kGather{.name = "Gather", .minInputs = 2, .maxInputs = 2, .infer = infer,
                           .run = run, .quantize = annotateSameAsInput, .lower = lower};

} // namespace edgesplit::ops
