#include "ops/Resampling.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgesplit::ops {

InterpolationMode parseInterpolationMode(const NodeContext &ctx, bool allowCubic) {
  const std::string mode = ctx.attrString("mode", "nearest");
  if (mode == "nearest") return InterpolationMode::Nearest;
  if (mode == "linear") return InterpolationMode::Linear;
  if (mode == "cubic" && allowCubic) return InterpolationMode::Cubic;
  ctx.fail("mode '{}' is not supported; expected {}", mode,
           allowCubic ? "nearest, linear or cubic" : "nearest or linear");
}

CoordinateTransformation parseCoordinateTransformation(const NodeContext &ctx) {
  const std::string mode = ctx.attrString("coordinate_transformation_mode", "half_pixel");
  if (mode == "half_pixel") return CoordinateTransformation::HalfPixel;
  if (mode == "pytorch_half_pixel") return CoordinateTransformation::PytorchHalfPixel;
  if (mode == "align_corners") return CoordinateTransformation::AlignCorners;
  if (mode == "asymmetric") return CoordinateTransformation::Asymmetric;
  if (mode == "tf_half_pixel_for_nn") return CoordinateTransformation::TfHalfPixelForNN;
  if (mode == "tf_crop_and_resize") return CoordinateTransformation::TfCropAndResize;
  ctx.fail("coordinate_transformation_mode '{}' is not supported; expected half_pixel, "
           "pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn or "
           "tf_crop_and_resize",
           mode);
}

NearestRounding parseNearestRounding(const NodeContext &ctx) {
  const std::string mode = ctx.attrString("nearest_mode", "round_prefer_floor");
  if (mode == "round_prefer_floor") return NearestRounding::RoundPreferFloor;
  if (mode == "round_prefer_ceil") return NearestRounding::RoundPreferCeil;
  if (mode == "floor") return NearestRounding::Floor;
  if (mode == "ceil") return NearestRounding::Ceil;
  ctx.fail("nearest_mode '{}' is not supported; expected round_prefer_floor, round_prefer_ceil, "
           "floor or ceil",
           mode);
}

std::vector<double> readScales(const NodeContext &ctx, const Tensor &scales) {
  if (!isFloatingPoint(scales.dtype()))
    ctx.fail("scales must be a floating-point tensor, got {}", dtypeName(scales.dtype()));
  if (scales.rank() != 1) ctx.fail("scales must be 1-D, got shape {}", formatShape(scales.shape()));
  return scales.toDoubleVector();
}

namespace {
// Far beyond any tensor a microcontroller holds, and small enough that every coordinate computed
// from it converts to int64 without overflow.
constexpr double kMaxOutputLength = static_cast<double>(std::numeric_limits<int32_t>::max());

void checkAxisCount(const NodeContext &ctx, std::string_view what, size_t count, size_t rank) {
  if (count != rank)
    ctx.fail("{} has {} values, expected one per input dimension ({})", what, count, rank);
}
} // namespace

llvm::SmallVector<ResampledAxis, 4> axesFromScales(const NodeContext &ctx,
                                                   llvm::ArrayRef<int64_t> inputShape,
                                                   llvm::ArrayRef<double> scales,
                                                   bool allowDownsampling) {
  checkAxisCount(ctx, "scales", scales.size(), inputShape.size());
  llvm::SmallVector<ResampledAxis, 4> axes;
  for (size_t i = 0; i < scales.size(); ++i) {
    const double scale = scales[i];
    if (!std::isfinite(scale) || scale <= 0.0 || (!allowDownsampling && scale < 1.0))
      ctx.fail("scale {} of dimension {} is invalid: scales must be finite and {}", scale, i,
               allowDownsampling ? "positive" : "at least 1");
    const double resizedLength = static_cast<double>(inputShape[i]) * scale;
    if (resizedLength > kMaxOutputLength)
      ctx.fail("scale {} makes dimension {} too long ({} elements)", scale, i, resizedLength);
    axes.push_back({.inputLength = inputShape[i],
                    .outputLength = static_cast<int64_t>(std::floor(resizedLength)),
                    .scale = scale,
                    .resizedLength = resizedLength});
  }
  return axes;
}

llvm::SmallVector<ResampledAxis, 4> axesFromSizes(const NodeContext &ctx,
                                                  llvm::ArrayRef<int64_t> inputShape,
                                                  llvm::ArrayRef<int64_t> sizes) {
  checkAxisCount(ctx, "sizes", sizes.size(), inputShape.size());
  llvm::SmallVector<ResampledAxis, 4> axes;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const int64_t size = sizes[i];
    if (size < 0 || static_cast<double>(size) > kMaxOutputLength)
      ctx.fail("size {} of dimension {} is invalid", size, i);
    if (size > 0 && inputShape[i] == 0)
      ctx.fail("dimension {} is empty and cannot be resized to {} elements", i, size);
    const double length = static_cast<double>(size);
    axes.push_back({.inputLength = inputShape[i],
                    .outputLength = size,
                    .scale = inputShape[i] == 0 ? 1.0 : length / static_cast<double>(inputShape[i]),
                    .resizedLength = length});
  }
  return axes;
}

Shape resampledShape(llvm::ArrayRef<ResampledAxis> axes) {
  Shape shape;
  for (const ResampledAxis &axis : axes) shape.push_back(axis.outputLength);
  return shape;
}

namespace {
// The input elements, with their weights, that one output coordinate reads along one axis.
struct Taps {
  bool extrapolated = false; // tf_crop_and_resize outside the input: the output is a constant
  llvm::SmallVector<int64_t, 4> indices;
  llvm::SmallVector<double, 4> weights;
};

// Where output coordinate `outputIndex` lies in input coordinates.
double sourceCoordinate(int64_t outputIndex, const ResampledAxis &axis,
                        CoordinateTransformation transformation) {
  const double x = static_cast<double>(outputIndex);
  // An unscaled axis is left alone (as onnxruntime does) even by tf_half_pixel_for_nn, whose
  // half-pixel shift would otherwise move ceil-rounded nearest samples; only a crop still moves it.
  if (axis.scale == 1.0 && transformation != CoordinateTransformation::TfCropAndResize) return x;
  const double lastInput = static_cast<double>(axis.inputLength - 1);
  switch (transformation) {
  case CoordinateTransformation::HalfPixel: return (x + 0.5) / axis.scale - 0.5;
  case CoordinateTransformation::PytorchHalfPixel:
    return axis.resizedLength > 1.0 ? (x + 0.5) / axis.scale - 0.5 : 0.0;
  case CoordinateTransformation::AlignCorners:
    return axis.resizedLength > 1.0 ? x * lastInput / (axis.resizedLength - 1.0) : 0.0;
  case CoordinateTransformation::Asymmetric: return x / axis.scale;
  case CoordinateTransformation::TfHalfPixelForNN: return (x + 0.5) / axis.scale;
  case CoordinateTransformation::TfCropAndResize: {
    const double start = axis.roiStart * lastInput;
    const double span = (axis.roiEnd - axis.roiStart) * lastInput;
    return axis.resizedLength > 1.0 ? start + x * span / (axis.resizedLength - 1.0)
                                    : start + 0.5 * span;
  }
  }
  return x;
}

int64_t nearestIndex(double coordinate, NearestRounding rounding, double scale) {
  const double below = std::floor(coordinate);
  const double fraction = coordinate - below;
  double chosen = below;
  switch (rounding) {
  case NearestRounding::RoundPreferFloor: chosen = fraction <= 0.5 ? below : below + 1; break;
  case NearestRounding::RoundPreferCeil: chosen = fraction < 0.5 ? below : below + 1; break;
  case NearestRounding::Floor: chosen = below; break;
  case NearestRounding::Ceil: chosen = std::ceil(coordinate); break;
  case NearestRounding::Legacy: chosen = scale < 1.0 ? std::ceil(coordinate) : below; break;
  }
  return static_cast<int64_t>(chosen);
}

// Keys' cubic convolution kernel at `distance` from the sample, with parameter `a`.
double cubicWeight(double distance, double a) {
  const double d = std::abs(distance);
  if (d <= 1.0) return ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0;
  if (d < 2.0) return ((a * d - 5.0 * a) * d + 8.0 * a) * d - 4.0 * a;
  return 0.0;
}

Taps tapsFor(int64_t outputIndex, const ResampledAxis &axis, const ResamplingOptions &options) {
  Taps taps;
  const double coordinate = sourceCoordinate(outputIndex, axis, options.transformation);
  const int64_t lastInput = axis.inputLength - 1;
  // Written so that a NaN coordinate (from a NaN roi) also counts as outside.
  if (options.transformation == CoordinateTransformation::TfCropAndResize &&
      !(coordinate >= 0.0 && coordinate <= static_cast<double>(lastInput))) {
    taps.extrapolated = true;
    return taps;
  }
  // Neighbours beyond the border repeat the edge element, as the reference's edge padding does.
  auto clampToInput = [&](int64_t index) { return std::clamp<int64_t>(index, 0, lastInput); };
  const double below = std::floor(coordinate);
  const double fraction = coordinate - below;
  const int64_t base = static_cast<int64_t>(below);
  switch (options.mode) {
  case InterpolationMode::Nearest:
    taps.indices = {clampToInput(nearestIndex(coordinate, options.rounding, axis.scale))};
    taps.weights = {1.0};
    break;
  case InterpolationMode::Linear:
    taps.indices = {clampToInput(base), clampToInput(base + 1)};
    taps.weights = {1.0 - fraction, fraction};
    break;
  case InterpolationMode::Cubic: {
    double total = 0.0;
    for (int64_t offset = -1; offset <= 2; ++offset) {
      const int64_t index = base + offset;
      const bool inside = index >= 0 && index <= lastInput;
      if (options.excludeOutside && !inside) continue;
      const double weight = cubicWeight(fraction - static_cast<double>(offset), options.cubicCoeffA);
      taps.indices.push_back(clampToInput(index));
      taps.weights.push_back(weight);
      total += weight;
    }
    // exclude_outside drops the taps beyond the border and renormalises what is left.
    if (options.excludeOutside)
      for (double &weight : taps.weights) weight /= total;
    break;
  }
  }
  return taps;
}

bool isIdentity(llvm::ArrayRef<Taps> taps, const ResampledAxis &axis) {
  if (axis.outputLength != axis.inputLength) return false;
  for (size_t i = 0; i < taps.size(); ++i) {
    const Taps &tap = taps[i];
    if (tap.extrapolated) return false;
    for (size_t k = 0; k < tap.indices.size(); ++k)
      if (tap.weights[k] != (tap.indices[k] == static_cast<int64_t>(i) ? 1.0 : 0.0)) return false;
  }
  return true;
}

// Resamples axis `axisIndex` of a Float64 tensor.
Tensor resampleAxis(const Tensor &input, size_t axisIndex, const ResampledAxis &axis,
                    const ResamplingOptions &options) {
  std::vector<Taps> taps;
  for (int64_t i = 0; i < axis.outputLength; ++i) taps.push_back(tapsFor(i, axis, options));
  if (isIdentity(taps, axis)) return input;

  Shape outputShape(input.shape().begin(), input.shape().end());
  outputShape[axisIndex] = axis.outputLength;
  Tensor output(DType::Float64, outputShape);
  const int64_t outer = numElements(input.shape().take_front(axisIndex));
  const int64_t inner = numElements(input.shape().drop_front(axisIndex + 1));
  const double *in = input.data<double>();
  double *out = output.data<double>();
  for (int64_t o = 0; o < outer; ++o) {
    const double *inputBlock = in + o * axis.inputLength * inner;
    for (int64_t m = 0; m < axis.outputLength; ++m) {
      double *outputRow = out + (o * axis.outputLength + m) * inner;
      const Taps &tap = taps[m];
      if (tap.extrapolated) {
        std::fill(outputRow, outputRow + inner, options.extrapolationValue);
        continue;
      }
      for (size_t k = 0; k < tap.indices.size(); ++k) {
        const double *inputRow = inputBlock + tap.indices[k] * inner;
        for (int64_t i = 0; i < inner; ++i) outputRow[i] += tap.weights[k] * inputRow[i];
      }
    }
  }
  return output;
}
} // namespace

void resample(const Tensor &input, llvm::ArrayRef<ResampledAxis> axes,
              const ResamplingOptions &options, Tensor &output) {
  Tensor current = input.castTo(DType::Float64);
  // Innermost axis first, the order the ONNX reference nests its 1-D interpolations in, so the
  // rounding of the intermediate results matches it too.
  for (size_t axis = axes.size(); axis-- > 0;)
    current = resampleAxis(current, axis, axes[axis], options);
  output = current.castTo(input.dtype());
}

} // namespace edgesplit::ops
