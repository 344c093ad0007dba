#include "ops/Layout.h"

#include "codegen/LowerContext.h"
#include "quantize/Annotate.h"

#include <cstring>
#include <limits>

namespace edgesplit::ops {

std::vector<int64_t> normalizeAxes(const NodeContext &ctx, llvm::ArrayRef<int64_t> axes,
                                   int64_t rank, std::string_view what) {
  std::vector<int64_t> normalized;
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t axis : axes) {
    const int64_t positive = ctx.normalizeAxis(axis, rank, what);
    if (seen[static_cast<size_t>(positive)]) ctx.fail("{} names axis {} twice", what, positive);
    seen[static_cast<size_t>(positive)] = true;
    normalized.push_back(positive);
  }
  return normalized;
}

StridedLayout denseLayout(llvm::ArrayRef<int64_t> shape) { return {0, stridesOf(shape)}; }

void copyStrided(const Tensor &source, const StridedLayout &from, Tensor &destination,
                 const StridedLayout &to, llvm::ArrayRef<int64_t> extent) {
  // An empty block may start past the end of its tensor (e.g. a slice at the very end), so it
  // must not even form a pointer.
  if (numElements(extent) == 0) return;
  const int64_t elementSize = static_cast<int64_t>(dtypeSize(source.dtype()));
  const uint8_t *sourceBytes = source.rawData();
  uint8_t *destinationBytes = destination.rawData();
  const int64_t rank = static_cast<int64_t>(extent.size());

  // The innermost axis is copied row by row: one memcpy when both sides are contiguous there,
  // which is the common case of Concat, Split and unit-step Slice.
  const int64_t rowLength = rank == 0 ? 1 : extent.back();
  const int64_t sourceStep = rank == 0 ? 0 : from.strides.back();
  const int64_t destinationStep = rank == 0 ? 0 : to.strides.back();
  const bool contiguousRows = sourceStep == 1 && destinationStep == 1;

  Shape index(extent.size(), 0);
  int64_t sourceOffset = from.offset, destinationOffset = to.offset;
  while (true) {
    if (contiguousRows) {
      std::memcpy(destinationBytes + destinationOffset * elementSize,
                  sourceBytes + sourceOffset * elementSize,
                  static_cast<size_t>(rowLength * elementSize));
    } else {
      for (int64_t i = 0; i < rowLength; ++i)
        std::memcpy(destinationBytes + (destinationOffset + i * destinationStep) * elementSize,
                    sourceBytes + (sourceOffset + i * sourceStep) * elementSize,
                    static_cast<size_t>(elementSize));
    }
    // Advance an odometer over the outer axes, keeping both offsets in step with it.
    int64_t axis = rank - 2;
    for (; axis >= 0; --axis) {
      sourceOffset += from.strides[axis];
      destinationOffset += to.strides[axis];
      if (++index[axis] < extent[axis]) break;
      sourceOffset -= from.strides[axis] * extent[axis];
      destinationOffset -= to.strides[axis] * extent[axis];
      index[axis] = 0;
    }
    if (axis < 0) return;
  }
}

void runReshapeLike(KernelContext &ctx) {
  ctx.output(0) = ctx.input(0).reshaped(ctx.output(0).shape());
}

std::vector<int64_t> intListInput(const LowerContext &ctx, size_t index) {
  return ctx.constantInput(index).toInt64Vector();
}

int32_t kernelInt(const NodeContext &ctx, int64_t value, std::string_view what) {
  if (value < std::numeric_limits<int32_t>::min() || value > std::numeric_limits<int32_t>::max())
    ctx.fail("{} {} does not fit the kernels' int32_t", what, value);
  return static_cast<int32_t>(value);
}

void kernelShape4D(const NodeContext &ctx, llvm::ArrayRef<int64_t> shape,
                   int32_t (&result)[ES_MAX_RANK]) {
  if (shape.size() > ES_MAX_RANK)
    ctx.fail("code generation supports tensors of up to {} dimensions, got shape {}; reshape "
             "the tensor to fewer dimensions in the model",
             ES_MAX_RANK, formatShape(shape));
  const size_t leading = ES_MAX_RANK - shape.size();
  for (size_t axis = 0; axis < ES_MAX_RANK; ++axis) {
    const int64_t dim = axis < leading ? 1 : shape[axis - leading];
    if (dim < 1)
      ctx.fail("shape {} is empty; code generation needs every dimension >= 1", formatShape(shape));
    result[axis] = kernelInt(ctx, dim, "dimension");
  }
}

void lowerStridedCopy(LowerContext &ctx, llvm::ArrayRef<int64_t> extent, const StridedLayout &from,
                      const StridedLayout &to, size_t output) {
  checkUnchangedQuant(ctx, output);
  lowerStridedCopyOf(ctx, ctx.input(0), numElements(ctx.inputShape(0)), extent, from, to, output);
}

void lowerStridedCopyOf(LowerContext &ctx, const KernelArg &source, int64_t sourceElements,
                        llvm::ArrayRef<int64_t> extent, const StridedLayout &from,
                        const StridedLayout &to, size_t output) {
  // Offsets and strides are bounded by the tensors' element counts, so these bound every
  // position the kernel computes.
  kernelInt(ctx, sourceElements, "element count");
  kernelInt(ctx, numElements(ctx.outputShape(output)), "element count");
  es_strided_copy_params_t p{};
  kernelShape4D(ctx, extent, p.shape);
  const size_t leading = ES_MAX_RANK - extent.size();
  for (size_t axis = leading; axis < ES_MAX_RANK; ++axis) {
    p.in_strides[axis] = kernelInt(ctx, from.strides[axis - leading], "stride");
    p.out_strides[axis] = kernelInt(ctx, to.strides[axis - leading], "stride");
  }
  p.in_offset = kernelInt(ctx, from.offset, "offset");
  p.out_offset = kernelInt(ctx, to.offset, "offset");
  if (!ctx.isInt8()) {
    ctx.call<es_strided_copy_params_t>(
        "es_strided_copy_f32", p, {source, ctx.output(output)},
        [](const es_strided_copy_params_t &p, const KernelArgs &a) {
          es_strided_copy_f32(&p, a.in<float>(1), a.out<float>(2));
        },
        "transpose");
    return;
  }
  ctx.call<es_strided_copy_params_t>(
      "es_strided_copy_s8", p, {source, ctx.output(output)},
      [](const es_strided_copy_params_t &p, const KernelArgs &a) {
        es_strided_copy_s8(&p, a.in<int8_t>(1), a.out<int8_t>(2));
      },
      "transpose");
}

void annotateSameAsInput(QuantizeContext &ctx) { ctx.annotateOutputSameAsInput(0, 0); }

void checkUnchangedQuant(const LowerContext &ctx, size_t output) {
  if (!ctx.isInt8()) return;
  const TensorQuant in = ctx.inputQuant(0), out = ctx.outputQuant(output);
  if (in.scale != out.scale || in.zeroPoint != out.zeroPoint)
    ctx.fail("the output's int8 parameters (scale {}, zero point {}) differ from the input's "
             "(scale {}, zero point {}); this op moves values without rescaling them, "
             "quantise the model again so that they match",
             out.scale, out.zeroPoint, in.scale, in.zeroPoint);
}

void lowerView(LowerContext &ctx) {
  checkUnchangedQuant(ctx);
  ctx.copy();
}

} // namespace edgesplit::ops
