#include "ops/Layout.h"

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

void run(KernelContext &ctx) {
  const Tensor &data = ctx.input(0);
  Tensor &output = ctx.output(0);
  const size_t axis = static_cast<size_t>(ctx.normalizeAxis(ctx.attrInt("axis", 0), data.rank()));
  const int64_t axisLength = data.dim(axis);
  std::vector<int64_t> indices = ctx.input(1).toInt64Vector();
  for (int64_t &index : indices) {
    if (index < -axisLength || index >= axisLength)
      ctx.fail("index {} is out of range for axis {} of size {}", index, axis, axisLength);
    if (index < 0) index += axisLength;
  }
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
} // namespace

extern const OpDef kGather{.name = "Gather", .minInputs = 2, .maxInputs = 2, .infer = infer,
                           .run = run};

} // namespace edgesplit::ops
