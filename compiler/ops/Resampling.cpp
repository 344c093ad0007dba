#include "ops/Resampling.h"

#include "codegen/LowerContext.h"
#include "ops/Layout.h"
#include "quantize/QuantMath.h"

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
                    .scale = scale});
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
                    .scale = inputShape[i] == 0 ? 1.0 : length / static_cast<double>(inputShape[i])});
  }
  return axes;
}

Shape resampledShape(llvm::ArrayRef<ResampledAxis> axes) {
  Shape shape;
  for (const ResampledAxis &axis : axes) shape.push_back(axis.outputLength);
  return shape;
}

namespace {
// Where output coordinate `outputIndex` lies in input coordinates. align_corners,
// tf_crop_and_resize and pytorch_half_pixel read the resized length as onnxruntime does, the
// output's whole length: ONNX's reference takes input * scale unrounded, which differs when that is
// no whole number (a scale of 1.7 on 5 elements: 8.5 there, 8 here; the conformance cases
// test_resize_downsample_scales_{linear,cubic}_align_corners hold the reference's values).
double sourceCoordinate(int64_t outputIndex, const ResampledAxis &axis,
                        CoordinateTransformation transformation) {
  const double x = static_cast<double>(outputIndex);
  const double resizedLength = static_cast<double>(axis.outputLength);
  // An unscaled axis is left alone (as onnxruntime does) even by tf_half_pixel_for_nn, whose
  // half-pixel shift would otherwise move ceil-rounded nearest samples; only a crop still moves it.
  if (axis.scale == 1.0 && transformation != CoordinateTransformation::TfCropAndResize) return x;
  const double lastInput = static_cast<double>(axis.inputLength - 1);
  switch (transformation) {
  case CoordinateTransformation::HalfPixel: return (x + 0.5) / axis.scale - 0.5;
  case CoordinateTransformation::PytorchHalfPixel:
    return resizedLength > 1.0 ? (x + 0.5) / axis.scale - 0.5 : 0.0;
  case CoordinateTransformation::AlignCorners:
    return resizedLength > 1.0 ? x * lastInput / (resizedLength - 1.0) : 0.0;
  case CoordinateTransformation::Asymmetric: return x / axis.scale;
  case CoordinateTransformation::TfHalfPixelForNN: return (x + 0.5) / axis.scale;
  case CoordinateTransformation::TfCropAndResize: {
    const double start = axis.roiStart * lastInput;
    const double span = (axis.roiEnd - axis.roiStart) * lastInput;
    return resizedLength > 1.0 ? start + x * span / (resizedLength - 1.0)
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

} // namespace

std::vector<Taps> axisTaps(const ResampledAxis &axis, const ResamplingOptions &options) {
  std::vector<Taps> taps;
  for (int64_t i = 0; i < axis.outputLength; ++i) taps.push_back(tapsFor(i, axis, options));
  return taps;
}

namespace {
// Resamples axis `axisIndex` of a Float64 tensor.
Tensor resampleAxis(const Tensor &input, size_t axisIndex, const ResampledAxis &axis,
                    const ResamplingOptions &options) {
  const std::vector<Taps> taps = axisTaps(axis, options);
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

const Tensor *operandValue(const LowerContext &ctx, size_t index) {
  return ctx.hasInput(index) ? &ctx.constantInput(index) : nullptr;
}

namespace {
// One resampled axis as the kernels' tables: for nearest, the input index of every output
// coordinate; for linear, the two indices and their weights (real, and Q20 for int8) of each; for
// cubic, four (real, and Q30 for int8; a tap exclude_outside drops weighs 0).
struct AxisTable {
  std::vector<int32_t> indices;
  std::vector<float> weights;
  std::vector<int32_t> fixedWeights;
};

AxisTable axisTable(const ResampledAxis &axis, const ResamplingOptions &options) {
  AxisTable table;
  // lowerResample crops before.
  for (const Taps &tap : axisTaps(axis, options)) {
    for (int64_t index : tap.indices) table.indices.push_back(static_cast<int32_t>(index));
    if (options.mode == InterpolationMode::Nearest) continue;
    if (options.mode == InterpolationMode::Linear) {
      // docs/int8.md "Resize": the second tap's weight rounded to 2^-20, the first its complement.
      constexpr int64_t kOne = int64_t{1} << 20;
      const int32_t second = static_cast<int32_t>(
          roundHalfAway(tap.weights[1] * static_cast<double>(kOne), 0, kOne));
      table.fixedWeights.insert(table.fixedWeights.end(),
                                {static_cast<int32_t>(kOne) - second, second});
      table.weights.insert(table.weights.end(), {static_cast<float>(tap.weights[0]),
                                                 static_cast<float>(tap.weights[1])});
      continue;
    }
    // docs/int8.md "Resize": each weight rounded to 2^-30, the largest taking what makes the four
    // sum to 2^30, so that the zero point carries over (lowerResample checks they fit).
    constexpr int64_t kOne = int64_t{1} << 30;
    size_t largest = 0;
    int64_t total = 0;
    for (size_t k = 0; k < tap.weights.size(); ++k) {
      table.weights.push_back(static_cast<float>(tap.weights[k]));
      table.fixedWeights.push_back(static_cast<int32_t>(
          roundHalfAway(tap.weights[k] * static_cast<double>(kOne), -2 * kOne + 1, 2 * kOne - 1)));
      total += table.fixedWeights.back();
      if (tap.weights[k] > tap.weights[largest]) largest = k;
    }
    table.fixedWeights[table.fixedWeights.size() - tap.weights.size() + largest] +=
        static_cast<int32_t>(kOne - total);
    for (size_t k = tap.weights.size(); k < 4; ++k) {
      table.indices.push_back(static_cast<int32_t>(tap.indices.front()));
      table.weights.push_back(0.0f);
      table.fixedWeights.push_back(0);
    }
  }
  return table;
}
} // namespace

std::vector<int64_t> linearFixedWeightMatrix(const ResampledAxis &axis,
                                             const ResamplingOptions &options) {
  const AxisTable table = axisTable(axis, options);
  std::vector<int64_t> matrix(static_cast<size_t>(axis.outputLength * axis.inputLength), 0);
  for (int64_t o = 0; o < axis.outputLength; ++o)
    for (int64_t k = 2 * o; k < 2 * o + 2; ++k)
      matrix[static_cast<size_t>(o * axis.inputLength + table.indices[k])] +=
          table.fixedWeights[k];
  return matrix;
}

// Cost classes: nearest gathers like a transpose, linear and cubic blend four or sixteen taps per
// output like an element-wise op.
void lowerResample(LowerContext &ctx, llvm::ArrayRef<ResampledAxis> axes,
                   const ResamplingOptions &options) {
  const size_t rank = axes.size();
  if (rank < 2) ctx.fail("code generation supports Resize of data with 2 or more dimensions only");
  for (size_t i = 0; i + 2 < rank; ++i)
    if (axes[i].outputLength != axes[i].inputLength || axes[i].scale != 1.0)
      ctx.fail("code generation resizes only the last two dimensions; dimension {} changes "
               "from {} to {}",
               i, axes[i].inputLength, axes[i].outputLength);
  if (options.transformation == CoordinateTransformation::TfCropAndResize)
    ctx.fail("code generation does not support coordinate_transformation_mode "
             "'tf_crop_and_resize'");
  if (ctx.isInt8() && options.mode != InterpolationMode::Cubic) checkUnchangedQuant(ctx);
  const ResampledAxis &height = axes[rank - 2], &width = axes[rank - 1];
  const int32_t planes = kernelInt(ctx, numElements(ctx.inputShape(0)) /
                                            std::max<int64_t>(1, height.inputLength *
                                                                     width.inputLength),
                                   "plane count");
  const int32_t inH = kernelInt(ctx, height.inputLength, "height"),
                inW = kernelInt(ctx, width.inputLength, "width"),
                outH = kernelInt(ctx, height.outputLength, "height"),
                outW = kernelInt(ctx, width.outputLength, "width");
  AxisTable rows = axisTable(height, options), cols = axisTable(width, options);
  std::vector<KernelArg> args{ctx.input(0),
                              ctx.output(),
                              LowerContext::integer(planes),
                              LowerContext::integer(inH),
                              LowerContext::integer(inW),
                              LowerContext::integer(outH),
                              LowerContext::integer(outW),
                              ctx.constantArray("rows", std::move(rows.indices))};
  if (options.mode == InterpolationMode::Nearest) {
    args.push_back(ctx.constantArray("cols", std::move(cols.indices)));
    if (ctx.isInt8())
      ctx.callPlain(
          "es_resize_nearest_s8", std::move(args),
          [=](const KernelArgs &a) {
            es_resize_nearest_s8(a.in<int8_t>(0), a.out<int8_t>(1), planes, inH, inW, outH, outW,
                                 a.in<int32_t>(7), a.in<int32_t>(8));
          },
          "transpose");
    else
      ctx.callPlain(
          "es_resize_nearest_f32", std::move(args),
          [=](const KernelArgs &a) {
            es_resize_nearest_f32(a.in<float>(0), a.out<float>(1), planes, inH, inW, outH, outW,
                                  a.in<int32_t>(7), a.in<int32_t>(8));
          },
          "transpose");
    return;
  }
  const bool cubic = options.mode == InterpolationMode::Cubic;
  if (ctx.isInt8()) {
    args.push_back(ctx.constantArray("row_weights", std::move(rows.fixedWeights)));
    args.push_back(ctx.constantArray("cols", std::move(cols.indices)));
    args.push_back(ctx.constantArray("col_weights", std::move(cols.fixedWeights)));
    if (cubic) {
      // The kernel's Q30 weights are int32 and its sums int64 (es_s8.h): each tap's weight
      // below 2 and each four's absolute values below 4, which Keys' kernel keeps for
      // cubic_coeff_a in [-3, 0] (-0.75 and -0.5 in practice).
      for (const std::vector<float> *weights : {&rows.weights, &cols.weights})
        for (size_t k = 0; k < weights->size(); k += 4) {
          double magnitude = 0.0;
          for (size_t j = k; j < k + 4; ++j) magnitude += std::abs((*weights)[j]);
          if (magnitude >= 4.0 || std::any_of(weights->begin() + static_cast<ptrdiff_t>(k),
                                              weights->begin() + static_cast<ptrdiff_t>(k + 4),
                                              [](float w) { return std::abs(w) >= 2.0f; }))
            ctx.fail("int8 cubic Resize takes tap weights below 2 whose absolute values sum to "
                     "less than 4; cubic_coeff_a = {:g} gives {:g}, {:g}, {:g}, {:g}; compile "
                     "the model for float32",
                     options.cubicCoeffA, (*weights)[k], (*weights)[k + 1], (*weights)[k + 2],
                     (*weights)[k + 3]);
        }
      // docs/int8.md "Resize": the output in its own parameters, rescaled by Sx / Sy.
      const TensorQuant in = ctx.inputQuant(0), out = ctx.outputQuant();
      const es_requant_t factor = ctx.requant(in.scale / out.scale);
      if (factor.shift < -17 || factor.shift > 44)
        ctx.fail("int8 cubic Resize rescales by Sx / Sy = {:g}, outside [2^-18, 2^44); compile "
                 "the model for float32",
                 in.scale / out.scale);
      for (int64_t value : {int64_t{in.zeroPoint}, int64_t{out.zeroPoint},
                            int64_t{factor.multiplier}, int64_t{factor.shift}})
        args.push_back(LowerContext::integer(value));
      ctx.callPlain(
          "es_resize_cubic_s8", std::move(args),
          [=](const KernelArgs &a) {
            es_resize_cubic_s8(a.in<int8_t>(0), a.out<int8_t>(1), planes, inH, inW, outH, outW,
                               a.in<int32_t>(7), a.in<int32_t>(8), a.in<int32_t>(9),
                               a.in<int32_t>(10), in.zeroPoint, out.zeroPoint, factor.multiplier,
                               factor.shift);
          },
          "elementwise");
      return;
    }
    ctx.callPlain(
        "es_resize_linear_s8", std::move(args),
        [=](const KernelArgs &a) {
          es_resize_linear_s8(a.in<int8_t>(0), a.out<int8_t>(1), planes, inH, inW, outH, outW,
                              a.in<int32_t>(7), a.in<int32_t>(8), a.in<int32_t>(9),
                              a.in<int32_t>(10));
        },
        "elementwise");
    return;
  }
  args.push_back(ctx.constantArray("row_weights", std::move(rows.weights)));
  args.push_back(ctx.constantArray("cols", std::move(cols.indices)));
  args.push_back(ctx.constantArray("col_weights", std::move(cols.weights)));
  if (cubic) {
    ctx.callPlain(
        "es_resize_cubic_f32", std::move(args),
        [=](const KernelArgs &a) {
          es_resize_cubic_f32(a.in<float>(0), a.out<float>(1), planes, inH, inW, outH, outW,
                              a.in<int32_t>(7), a.in<float>(8), a.in<int32_t>(9),
                              a.in<float>(10));
        },
        "elementwise");
    return;
  }
  ctx.callPlain(
      "es_resize_linear_f32", std::move(args),
      [=](const KernelArgs &a) {
        es_resize_linear_f32(a.in<float>(0), a.out<float>(1), planes, inH, inW, outH, outW,
                             a.in<int32_t>(7), a.in<float>(8), a.in<int32_t>(9), a.in<float>(10));
      },
      "elementwise");
}

} // namespace edgesplit::ops
