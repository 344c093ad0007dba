#include "ops/QuantizeCore.h"

namespace edgesplit::ops {

bool matchingParamShapes(llvm::ArrayRef<int64_t> scale, llvm::ArrayRef<int64_t> zeroPoint) {
  return scale == zeroPoint || (numElements(scale) == 1 && numElements(zeroPoint) == 1);
}

void checkAffineParams(const InferContext &ctx) {
  if (ctx.inputType(1) != DType::Float32)
    ctx.fail("scale (input 1) must be float32, got {}", dtypeName(ctx.inputType(1)));
  const llvm::ArrayRef<int64_t> scaleShape = ctx.inputShape(1);
  if (ctx.hasInput(2) && !matchingParamShapes(scaleShape, ctx.inputShape(2)))
    ctx.fail("zero point shape {} differs from scale shape {}", formatShape(ctx.inputShape(2)),
             formatShape(scaleShape));
  const int64_t count = numElements(scaleShape);
  if (scaleShape.size() > 1)
    ctx.fail("scale must be a scalar or a 1-D per-axis vector, got shape {}",
             formatShape(scaleShape));
  if (count == 1) return;
  if (ctx.opset() < 13)
    ctx.fail(
        "scale must be a scalar before opset 13 (per-axis quantisation needs 13), got shape {}",
        formatShape(scaleShape));
  const llvm::ArrayRef<int64_t> dataShape = ctx.inputShape(0);
  const int64_t axis =
      ctx.normalizeAxis(ctx.attrInt("axis", 1), static_cast<int64_t>(dataShape.size()));
  if (dataShape[axis] != count)
    ctx.fail("per-axis scale has {} values but the input's axis {} has size {} (input shape {})",
             count, axis, dataShape[axis], formatShape(dataShape));
}

AffineParams readAffineParams(const KernelContext &ctx) {
  const Tensor &data = ctx.input(0);
  const Tensor &scale = ctx.input(1);
  AffineParams params;
  params.scales.assign(scale.values<float>().begin(), scale.values<float>().end());
  if (ctx.hasInput(2)) {
    for (int64_t zeroPoint : ctx.input(2).toInt64Vector())
      params.zeroPoints.push_back(static_cast<int32_t>(zeroPoint));
  } else {
    params.zeroPoints.assign(params.scales.size(), 0);
  }
  if (params.scales.size() > 1) {
    const int64_t axis =
        ctx.normalizeAxis(ctx.attrInt("axis", 1), static_cast<int64_t>(data.rank()));
    params.sliceSize = numElements(data.shape().drop_front(axis + 1));
  }
  return params;
}

} // namespace edgesplit::ops
