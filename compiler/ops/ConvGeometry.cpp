#include "ops/ConvGeometry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <llvm/ADT/STLExtras.h>

#include <algorithm>
#include <tuple>

namespace edgesplit::ops {

Shape readAxisAttr(const NodeContext &ctx, std::string_view name, size_t rank, int64_t fallback,
                   int64_t minimum) {
  const std::vector<int64_t> values = ctx.attrInts(name, std::vector<int64_t>(rank, fallback));
  if (values.size() != rank)
    ctx.fail("attribute '{}' must have {} values (one per spatial axis), got [{}]", name, rank,
             fmt::join(values, ", "));
  for (int64_t value : values)
    if (value < minimum)
      ctx.fail("attribute '{}' values must be >= {}, got [{}]", name, minimum,
               fmt::join(values, ", "));
  return Shape(values.begin(), values.end());
}

namespace {
AutoPad parseAutoPad(const NodeContext &ctx) {
  const std::string autoPad = ctx.attrString("auto_pad", "NOTSET");
  if (autoPad == "NOTSET") return AutoPad::NotSet;
  if (autoPad == "SAME_UPPER") return AutoPad::SameUpper;
  if (autoPad == "SAME_LOWER") return AutoPad::SameLower;
  if (autoPad == "VALID") return AutoPad::Valid;
  ctx.fail("auto_pad '{}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", autoPad);
}

// Steps a row-major multi-index through `extent`, wrapping to all zeros after the last position.
void advance(Shape &index, llvm::ArrayRef<int64_t> extent) {
  for (size_t axis = index.size(); axis-- > 0;) {
    if (++index[axis] < extent[axis]) return;
    index[axis] = 0;
  }
}

// `values` minus their zero point, one per tensor or one per slice of the leading (channel) axis.
std::vector<int64_t> shiftedByZeroPoint(const Tensor &values, const Tensor *zeroPoint,
                                        int64_t channels) {
  std::vector<int64_t> result = values.toInt64Vector();
  if (!zeroPoint || result.empty()) return result;
  const std::vector<int64_t> points = zeroPoint->toInt64Vector();
  const int64_t sliceSize = values.numElements() / channels;
  for (size_t i = 0; i < result.size(); ++i)
    result[i] -= points.size() == 1 ? points[0] : points[i / sliceSize];
  return result;
}
} // namespace

ConvWindow readConvWindow(const NodeContext &ctx, llvm::ArrayRef<int64_t> inputShape,
                          llvm::ArrayRef<int64_t> weightShape) {
  if (inputShape.size() < 3)
    ctx.fail("input X must have rank >= 3 ([N, C, D1, ...]), got shape {}",
             formatShape(inputShape));
  if (weightShape.size() != inputShape.size())
    ctx.fail("weight W must have the rank of X {}, got shape {}", formatShape(inputShape),
             formatShape(weightShape));
  const size_t rank = inputShape.size() - 2;

  ConvWindow window;
  window.kernel.assign(weightShape.begin() + 2, weightShape.end());
  for (int64_t extent : window.kernel)
    if (extent < 1) ctx.fail("weight W has an empty kernel {}", formatShape(weightShape));
  if (ctx.hasAttr("kernel_shape")) {
    const std::vector<int64_t> kernelShape = ctx.attrInts("kernel_shape");
    if (!llvm::equal(kernelShape, window.kernel))
      ctx.fail("kernel_shape [{}] does not match the spatial dimensions of W {}",
               fmt::join(kernelShape, ", "), formatShape(weightShape));
  }
  window.strides = readAxisAttr(ctx, "strides", rank, 1, 1);
  window.dilations = readAxisAttr(ctx, "dilations", rank, 1, 1);
  window.group = ctx.attrInt("group", 1);
  if (window.group < 1) ctx.fail("group must be >= 1, got {}", window.group);

  window.autoPad = parseAutoPad(ctx);
  window.padsBegin.assign(rank, 0);
  window.padsEnd.assign(rank, 0);
  // With auto_pad set, runtimes derive the pads and ignore the attribute, which exporters often
  // still write (as zeros); only NOTSET reads it.
  if (window.autoPad == AutoPad::NotSet) {
    const Shape pads = readAxisAttr(ctx, "pads", 2 * rank, 0, 0);
    window.padsBegin.assign(pads.begin(), pads.begin() + rank);
    window.padsEnd.assign(pads.begin() + rank, pads.end());
  }
  return window;
}

std::pair<int64_t, int64_t> splitPadding(int64_t total, bool extraAtEnd) {
  const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2); // floor(total / 2)
  return extraAtEnd ? std::pair{half, total - half} : std::pair{total - half, half};
}

Shape ConvGeometry::outputShape() const {
  Shape shape{batch, outputChannels};
  shape.append(outputSize.begin(), outputSize.end());
  return shape;
}

ConvGeometry resolveConvGeometry(const NodeContext &ctx, llvm::ArrayRef<int64_t> inputShape,
                                 llvm::ArrayRef<int64_t> weightShape) {
  ConvGeometry geometry;
  geometry.window = readConvWindow(ctx, inputShape, weightShape);
  ConvWindow &window = geometry.window;
  geometry.batch = inputShape[0];
  geometry.inputChannels = inputShape[1];
  geometry.outputChannels = weightShape[0];
  geometry.inputSize.assign(inputShape.begin() + 2, inputShape.end());
  if (geometry.inputChannels % window.group != 0 ||
      weightShape[1] * window.group != geometry.inputChannels)
    ctx.fail("W {} must have C / group = {} / {} input channels in dimension 1",
             formatShape(weightShape), geometry.inputChannels, window.group);
  if (geometry.outputChannels % window.group != 0)
    ctx.fail("the {} output channels (W dimension 0) are not divisible by group {}",
             geometry.outputChannels, window.group);

  for (size_t axis = 0; axis < window.spatialRank(); ++axis) {
    const int64_t input = geometry.inputSize[axis];
    const int64_t stride = window.strides[axis];
    const int64_t kernel = window.dilatedKernel(axis);
    if (window.autoPad == AutoPad::SameUpper || window.autoPad == AutoPad::SameLower) {
      const int64_t output = (input + stride - 1) / stride;
      const int64_t total = std::max<int64_t>(0, (output - 1) * stride + kernel - input);
      std::tie(window.padsBegin[axis], window.padsEnd[axis]) =
          splitPadding(total, window.autoPad == AutoPad::SameUpper);
    }
    const int64_t padded = input + window.padsBegin[axis] + window.padsEnd[axis];
    if (padded < kernel)
      ctx.fail("spatial axis {}: the padded input ({}) is smaller than the dilated kernel ({})",
               axis, padded, kernel);
    geometry.outputSize.push_back((padded - kernel) / stride + 1);
  }
  return geometry;
}

void forEachWindow(const ConvWindow &window, llvm::ArrayRef<int64_t> fromSize,
                   llvm::ArrayRef<int64_t> toSize,
                   llvm::function_ref<void(int64_t, llvm::ArrayRef<ConvTap>)> visit) {
  const size_t rank = window.spatialRank();
  const Shape toStrides = stridesOf(toSize);
  const int64_t kernelSize = numElements(window.kernel);
  std::vector<ConvTap> taps;
  Shape from(rank, 0);
  for (int64_t fromPosition = 0; fromPosition < numElements(fromSize); ++fromPosition) {
    taps.clear();
    Shape tap(rank, 0);
    for (int64_t kernelIndex = 0; kernelIndex < kernelSize; ++kernelIndex) {
      int64_t toPosition = 0;
      bool inside = true;
      for (size_t axis = 0; axis < rank && inside; ++axis) {
        const int64_t coordinate = from[axis] * window.strides[axis] +
                                   tap[axis] * window.dilations[axis] - window.padsBegin[axis];
        inside = coordinate >= 0 && coordinate < toSize[axis];
        toPosition += coordinate * toStrides[axis];
      }
      if (inside) taps.push_back({kernelIndex, toPosition});
      advance(tap, window.kernel);
    }
    visit(fromPosition, taps);
    advance(from, fromSize);
  }
}

template <typename T>
void convolveGrouped(const ConvGeometry &geometry, const T *input, const T *weight, T *output) {
  const int64_t inputPlane = numElements(geometry.inputSize);
  const int64_t outputPlane = numElements(geometry.outputSize);
  const int64_t kernelSize = numElements(geometry.window.kernel);
  const int64_t groupInputs = geometry.inputChannels / geometry.window.group;
  const int64_t groupOutputs = geometry.outputChannels / geometry.window.group;
  forEachWindow(
      geometry.window, geometry.outputSize, geometry.inputSize,
      [&](int64_t outputPosition, llvm::ArrayRef<ConvTap> taps) {
        for (int64_t n = 0; n < geometry.batch; ++n)
          for (int64_t m = 0; m < geometry.outputChannels; ++m) {
            const int64_t firstInput = n * geometry.inputChannels + m / groupOutputs * groupInputs;
            T sum{};
            for (int64_t c = 0; c < groupInputs; ++c) {
              const T *plane = input + (firstInput + c) * inputPlane;
              const T *kernel = weight + (m * groupInputs + c) * kernelSize;
              for (const ConvTap &tap : taps) sum += plane[tap.position] * kernel[tap.kernelIndex];
            }
            output[(n * geometry.outputChannels + m) * outputPlane + outputPosition] = sum;
          }
      });
}

template void convolveGrouped<double>(const ConvGeometry &, const double *, const double *,
                                      double *);
template void convolveGrouped<int64_t>(const ConvGeometry &, const int64_t *, const int64_t *,
                                       int64_t *);

DType checkFloatConvolutionTypes(const InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (!isFloatingPoint(type)) ctx.fail("input X must be floating point, got {}", dtypeName(type));
  if (ctx.inputType(1) != type)
    ctx.fail("weight W must have the type of X ({}), got {}", dtypeName(type),
             dtypeName(ctx.inputType(1)));
  return type;
}

void runFloatConvolution(KernelContext &ctx, llvm::ArrayRef<int64_t> outputShape,
                         llvm::function_ref<void(const double *, const double *, double *)> loop) {
  const Tensor input = ctx.input(0).castTo(DType::Float64);
  const Tensor weight = ctx.input(1).castTo(DType::Float64);
  Tensor output(DType::Float64, outputShape);
  loop(input.data<double>(), weight.data<double>(), output.data<double>());
  if (ctx.hasInput(2))
    addChannelBias<double>(output.mutableValues<double>(), outputShape,
                           ctx.input(2).toDoubleVector());
  ctx.output(0) = output.castTo(ctx.input(0).dtype());
}

int64_t convolutionMacs(const Value *streamed, const Value *weight) {
  if (!streamed || !weight || !streamed->shape || !weight->shape || weight->shape->empty())
    return 0;
  const int64_t weightSlice = numElements(llvm::makeArrayRef(*weight->shape).drop_front());
  return numElements(*streamed->shape) * weightSlice;
}

void checkChannelBias(const InferContext &ctx, size_t index, DType expectedType,
                      int64_t outputChannels) {
  if (!ctx.hasInput(index)) return;
  if (ctx.inputType(index) != expectedType)
    ctx.fail("bias B must be {}, got {}", dtypeName(expectedType), dtypeName(ctx.inputType(index)));
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(index);
  if (shape.size() != 1 || shape[0] != outputChannels)
    ctx.fail("bias B must have shape [{}] (one value per output channel), got {}", outputChannels,
             formatShape(shape));
}

bool isQuantizedType(DType type) { return type == DType::Int8 || type == DType::UInt8; }

void checkQuantParam(const InferContext &ctx, size_t index, std::string_view name,
                     DType expectedType, bool perChannel, int64_t outputChannels) {
  if (!ctx.hasInput(index)) return;
  if (ctx.inputType(index) != expectedType)
    ctx.fail("{} must be {}, got {}", name, dtypeName(expectedType),
             dtypeName(ctx.inputType(index)));
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(index);
  const bool perTensor = shape.size() <= 1 && numElements(shape) == 1;
  const bool perOutputChannel = perChannel && shape.size() == 1 && shape[0] == outputChannels;
  if (perTensor || perOutputChannel) return;
  if (perChannel)
    ctx.fail("{} must be a scalar or a 1-D tensor of {} values (one per output channel), got {}",
             name, outputChannels, formatShape(shape));
  ctx.fail("{} must be a scalar (per-tensor quantisation), got shape {}", name, formatShape(shape));
}

std::vector<int64_t> convolveQuantized(const ConvGeometry &geometry, const Tensor &input,
                                       const Tensor *inputZeroPoint, const Tensor &weight,
                                       const Tensor *weightZeroPoint) {
  const std::vector<int64_t> x = shiftedByZeroPoint(input, inputZeroPoint, 1);
  const std::vector<int64_t> w =
      shiftedByZeroPoint(weight, weightZeroPoint, geometry.outputChannels);
  std::vector<int64_t> y(static_cast<size_t>(numElements(geometry.outputShape())));
  convolveGrouped(geometry, x.data(), w.data(), y.data());
  return y;
}

S8ConvOperands s8ConvOperands(LowerContext &ctx, const ConvGeometry &g, int64_t weightAxis,
                              bool hasBias) {
  const TensorQuant in = ctx.inputQuant(0), out = ctx.outputQuant();
  LowerContext::Weights weights = ctx.int8Weights(1, weightAxis);
  S8ConvOperands operands{windowParams<es_conv2d_s8_params_t>(ctx, g), std::move(weights.values),
                          {}, {}};
  operands.params.input_zp = in.zeroPoint;
  operands.params.output_zp = out.zeroPoint;
  std::tie(operands.params.act_min, operands.params.act_max) = ctx.int8ActivationRange(out);
  for (double scale : weights.scales)
    operands.perChannel.push_back(ctx.requant(in.scale * scale / out.scale));
  if (hasBias) operands.bias = ctx.int32Bias(2, in.scale, weights.scales);
  return operands;
}

} // namespace edgesplit::ops
