// Shared machinery of the resampling ops (Resize, Upsample): how an output coordinate maps back onto
// the input (coordinate transformation), and nearest / linear / cubic interpolation applied
// separably along every axis, following the ONNX reference implementation of Resize.
#pragma once

#include "ops/OpKit.h"

namespace edgesplit::ops {

enum class InterpolationMode { Nearest, Linear, Cubic };

enum class CoordinateTransformation {
  HalfPixel,
  PytorchHalfPixel,
  AlignCorners,
  Asymmetric,
  TfHalfPixelForNN,
  TfCropAndResize,
};

enum class NearestRounding {
  RoundPreferFloor,
  RoundPreferCeil,
  Floor,
  Ceil,
  // Upsample and Resize-10 predate nearest_mode: onnxruntime truncates when upsampling and rounds up
  // when downsampling, which is what models exported for those opsets expect.
  Legacy,
};

struct ResamplingOptions {
  InterpolationMode mode = InterpolationMode::Nearest;
  CoordinateTransformation transformation = CoordinateTransformation::HalfPixel;
  NearestRounding rounding = NearestRounding::RoundPreferFloor;
  double cubicCoeffA = -0.75;
  bool excludeOutside = false;
  double extrapolationValue = 0.0; // tf_crop_and_resize, where the roi reaches outside the input
};

// How one axis is resampled.
struct ResampledAxis {
  int64_t inputLength = 0;
  int64_t outputLength = 0;
  // output / input as the model states it: the scale itself when scales are given, so coordinates
  // follow the requested ratio rather than the rounded output length.
  double scale = 1.0;
  double roiStart = 0.0; // normalised region of interest, for tf_crop_and_resize
  double roiEnd = 1.0;
};

// An operand (scales, sizes, roi) read the same way by an op's infer, where only a constant is known
// (NeedsRuntimeValue otherwise), and by its kernel; nullptr when the model omits it.
inline const Tensor *operandValue(const InferContext &ctx, size_t index) {
  return ctx.hasInput(index) ? &ctx.requireInputValue(index) : nullptr;
}
inline const Tensor *operandValue(const KernelContext &ctx, size_t index) {
  return ctx.hasInput(index) ? &ctx.input(index) : nullptr;
}
// Code generation: the operand must be a constant (fails naming it otherwise).
const Tensor *operandValue(const LowerContext &ctx, size_t index);

// mode attribute: "nearest" (default), "linear" and, when `allowCubic`, "cubic".
InterpolationMode parseInterpolationMode(const NodeContext &ctx, bool allowCubic);
// coordinate_transformation_mode attribute, default half_pixel.
CoordinateTransformation parseCoordinateTransformation(const NodeContext &ctx);
// nearest_mode attribute, default round_prefer_floor.
NearestRounding parseNearestRounding(const NodeContext &ctx);

// A 1-D floating-point scales tensor as doubles.
std::vector<double> readScales(const NodeContext &ctx, const Tensor &scales);

// Axes whose output lengths are floor(input length * scale); scales must be positive, and at least
// 1 unless `allowDownsampling`.
llvm::SmallVector<ResampledAxis, 4> axesFromScales(const NodeContext &ctx,
                                                   llvm::ArrayRef<int64_t> inputShape,
                                                   llvm::ArrayRef<double> scales,
                                                   bool allowDownsampling);
llvm::SmallVector<ResampledAxis, 4> axesFromSizes(const NodeContext &ctx,
                                                  llvm::ArrayRef<int64_t> inputShape,
                                                  llvm::ArrayRef<int64_t> sizes);

Shape resampledShape(llvm::ArrayRef<ResampledAxis> axes);

// The input elements, with their weights, that one output coordinate reads along one axis.
struct Taps {
  bool extrapolated = false; // tf_crop_and_resize outside the input: the output is a constant
  llvm::SmallVector<int64_t, 4> indices;
  llvm::SmallVector<double, 4> weights;
};
// The taps of every output coordinate of `axis`, in order.
std::vector<Taps> axisTaps(const ResampledAxis &axis, const ResamplingOptions &options);

// A resampling node's interpolation and its axes.
struct ResamplingPlan {
  ResamplingOptions options;
  llvm::SmallVector<ResampledAxis, 4> axes;
};
// The plan of a Resize node (any opset) from the static shape of its input and its constant
// operands, read as shape inference and the lowering read them; throws NeedsRuntimeValue when an
// operand is not constant. For --emit-qdq's int8 expansion (quantize/ResizeBlendQdq.h).
ResamplingPlan resizePlanOf(const Node &node);

// The int8 linear kernel's Q20 weights along one axis as a dense [output, input] matrix
// (docs/int8.md "Resize"): row o holds output o's two weights at their input indices (added up
// where the border clamps both to one element), so that a matrix product with the int8 codes is
// exactly the kernel's blend along that axis, times 2^20. The same weights the lowering passes to
// es_resize_linear_s8.
std::vector<int64_t> linearFixedWeightMatrix(const ResampledAxis &axis,
                                             const ResamplingOptions &options);

// Code generation of Resize and Upsample (docs/int8.md "Resize"): nearest and linear on the last
// two axes, every other axis unchanged; float32 and int8 (with the input's parameters).
void lowerResample(LowerContext &ctx, llvm::ArrayRef<ResampledAxis> axes,
                   const ResamplingOptions &options);

// Resamples `input` (any numeric type; the arithmetic runs in double) into `output`, whose type is
// the input's and whose shape is resampledShape(axes).
void resample(const Tensor &input, llvm::ArrayRef<ResampledAxis> axes,
              const ResamplingOptions &options, Tensor &output);

} // namespace edgesplit::ops
