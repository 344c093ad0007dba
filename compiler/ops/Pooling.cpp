#include "ops/Pooling.h"

#include "codegen/LowerContext.h"

#include <algorithm>
#include <tuple>

namespace edgesplit::ops {

Shape PoolGeometry::outputShape() const {
  Shape shape{batch, channels};
  shape.append(outputSize.begin(), outputSize.end());
  return shape;
}

PoolGeometry resolvePoolGeometry(const NodeContext &ctx, llvm::ArrayRef<int64_t> inputShape) {
  if (inputShape.size() < 3)
    ctx.fail("input X must have rank >= 3 ([N, C, D1, ...]), got shape {}",
             formatShape(inputShape));
  if (!ctx.hasAttr("kernel_shape")) ctx.fail("missing required attribute 'kernel_shape'");
  const size_t rank = inputShape.size() - 2;
  // A pool's window is a convolution window whose kernel comes from kernel_shape instead of a
  // weight tensor, so readConvWindow() is given kernel_shape as a [1, 1, kernel_shape...] weight.
  Shape weightShape{1, 1};
  weightShape.append(readAxisAttr(ctx, "kernel_shape", rank, 1, 1));

  PoolGeometry geometry;
  geometry.window = readConvWindow(ctx, inputShape, weightShape);
  ConvWindow &window = geometry.window;
  geometry.batch = inputShape[0];
  geometry.channels = inputShape[1];
  geometry.inputSize.assign(inputShape.begin() + 2, inputShape.end());
  const bool ceilMode = ctx.attrInt("ceil_mode", 0) != 0;

  for (size_t axis = 0; axis < rank; ++axis) {
    const int64_t input = geometry.inputSize[axis];
    const int64_t stride = window.strides[axis];
    const int64_t kernel = window.dilatedKernel(axis);
    int64_t &padBegin = window.padsBegin[axis];
    int64_t &padEnd = window.padsEnd[axis];
    int64_t output = 0;
    if (window.autoPad == AutoPad::SameUpper || window.autoPad == AutoPad::SameLower) {
      output = (input + stride - 1) / stride;
      const int64_t total = std::max<int64_t>(0, (output - 1) * stride + kernel - input);
      std::tie(padBegin, padEnd) = splitPadding(total, window.autoPad == AutoPad::SameUpper);
    } else {
      const int64_t span = input + padBegin + padEnd - kernel;
      if (span < 0)
        ctx.fail("spatial axis {}: the padded input ({}) is smaller than the dilated kernel ({})",
                 axis, span + kernel, kernel);
      output = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
      // Rounding up may add a window that starts in the end padding; like PyTorch, whose exports
      // are where ceil_mode comes from, and onnxruntime, such a window is dropped.
      if (ceilMode && (output - 1) * stride >= input + padBegin) --output;
    }
    for (int64_t position = 0; position < output; ++position) {
      const int64_t start = position * stride - padBegin;
      bool reachesInput = false;
      for (int64_t tap = 0; tap < window.kernel[axis] && !reachesInput; ++tap) {
        const int64_t coordinate = start + tap * window.dilations[axis];
        reachesInput = coordinate >= 0 && coordinate < input;
      }
      if (!reachesInput)
        ctx.fail("spatial axis {}: window {} covers only padding (input {}, pads {} and {})", axis,
                 position, input, padBegin, padEnd);
    }
    geometry.outputSize.push_back(output);
  }
  return geometry;
}

namespace {
// The global pools' reduced axes: every spatial one.
llvm::SmallVector<bool, 6> spatialAxes(size_t rank) {
  llvm::SmallVector<bool, 6> axes(rank, true);
  axes[0] = axes[1] = false;
  return axes;
}
} // namespace

void inferGlobalPool(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (!isFloatingPoint(type)) ctx.fail("input X must be floating point, got {}", dtypeName(type));
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(0);
  if (shape.size() < 2)
    ctx.fail("input X must have rank >= 2 ([N, C, D1, ...]), got shape {}", formatShape(shape));
  ctx.setOutput(0, type, reducedShape(shape, spatialAxes(shape.size()), /*keepDims=*/true));
}

void runGlobalPool(KernelContext &ctx, Reduction kind) {
  const Tensor &input = ctx.input(0);
  reduce(input, spatialAxes(input.rank()), kind, ctx.output(0));
}

GlobalPoolPlanes globalPoolPlanes(llvm::ArrayRef<int64_t> inputShape) {
  return {static_cast<int32_t>(inputShape[0]), static_cast<int32_t>(inputShape[1]),
          static_cast<int32_t>(numElements(inputShape.drop_front(2)))};
}

void lowerMaxPoolS8(LowerContext &ctx, es_pool2d_s8_params_t window, std::string_view kernelClass) {
  const TensorQuant in = ctx.inputQuant(0), out = ctx.outputQuant();
  if (in.scale != out.scale || in.zeroPoint != out.zeroPoint)
    ctx.fail("int8 max pooling moves values without rescaling them, so the output needs the "
             "input's parameters (scale {}, zero point {}), got scale {}, zero point {}; "
             "quantise the model again so that they match",
             in.scale, in.zeroPoint, out.scale, out.zeroPoint);
  window.input_zp = in.zeroPoint;
  window.output_zp = out.zeroPoint;
  std::tie(window.act_min, window.act_max) = ctx.int8ActivationRange(out);
  ctx.call<es_pool2d_s8_params_t>(
      "es_max_pool2d_fast_s8", window, {ctx.input(0), ctx.output()},
      [](const es_pool2d_s8_params_t &p, const KernelArgs &a) {
        es_max_pool2d_fast_s8(&p, a.in<int8_t>(1), a.out<int8_t>(2));
      },
      kernelClass);
}

} // namespace edgesplit::ops
