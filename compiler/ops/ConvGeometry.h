// Shared logic of the convolution family (Conv, ConvTranspose, ConvInteger, QLinearConv): the
// window attributes resolved against the input and weight shapes, and the N-d loops built on them.
#pragma once

#include "codegen/LowerContext.h"
#include "ops/OpKit.h"

#include <llvm/ADT/STLFunctionalExtras.h>

#include <utility>

namespace edgesplit::ops {

enum class AutoPad { NotSet, SameUpper, SameLower, Valid };

// The attributes every op of the family shares: kernel_shape, strides, dilations, pads, auto_pad
// and group, checked against the spatial rank of X [N, C, D1..Dn] and the kernel W[:, :, k1..kn].
struct ConvWindow {
  AutoPad autoPad = AutoPad::NotSet;
  int64_t group = 1;
  Shape kernel;
  Shape strides;
  Shape dilations;
  // Explicit pads; all zero unless auto_pad is NOTSET. The resolved geometry replaces them.
  Shape padsBegin;
  Shape padsEnd;

  size_t spatialRank() const { return kernel.size(); }
  // The input span one kernel application covers once the kernel is dilated.
  int64_t dilatedKernel(size_t axis) const { return (kernel[axis] - 1) * dilations[axis] + 1; }
};

// Reads and validates the window attributes; the pads stay as written (auto_pad not applied yet).
ConvWindow readConvWindow(const NodeContext &ctx, llvm::ArrayRef<int64_t> inputShape,
                          llvm::ArrayRef<int64_t> weightShape);

// An attribute with one value per spatial axis (strides, output_padding...), each >= `minimum`.
Shape readAxisAttr(const NodeContext &ctx, std::string_view name, size_t rank, int64_t fallback,
                   int64_t minimum);

// Splits the padding `total` of one axis between its two ends, the odd unit going to the end when
// `extraAtEnd`, else to the beginning. Floors like ONNX's Python formulas, so a negative total
// (a ConvTranspose output_shape larger than the natural size) extends the end of the axis.
std::pair<int64_t, int64_t> splitPadding(int64_t total, bool extraAtEnd);

// Every shape of one convolution once the attributes are resolved: pads explicit, output known.
struct ConvGeometry {
  ConvWindow window; // pads resolved (auto_pad applied; negative for an enlarged ConvTranspose)
  int64_t batch = 0;
  int64_t inputChannels = 0;  // C
  int64_t outputChannels = 0; // M
  Shape inputSize;            // spatial dimensions of X
  Shape outputSize;           // spatial dimensions of Y

  Shape outputShape() const; // [N, M, outputSize...]
};

// Geometry of the forward convolutions (Conv, ConvInteger, QLinearConv): X [N, C, D...] and
// W [M, C/group, k...].
ConvGeometry resolveConvGeometry(const NodeContext &ctx, llvm::ArrayRef<int64_t> inputShape,
                                 llvm::ArrayRef<int64_t> weightShape);

// One kernel tap of a window and the flat spatial position it reaches.
struct ConvTap {
  int64_t kernelIndex;
  int64_t position;
};

// For every flat position p of the `from` spatial grid, calls visit(p, taps) with the kernel taps k
// for which q = p * stride + k * dilation - padBegin lies inside the `to` grid. The forward
// convolution walks output -> input with this rule and the transposed one input -> output. Taps
// depend neither on the batch nor on the channel, so callers reuse them across both.
void forEachWindow(const ConvWindow &window, llvm::ArrayRef<int64_t> fromSize,
                   llvm::ArrayRef<int64_t> toSize,
                   llvm::function_ref<void(int64_t, llvm::ArrayRef<ConvTap>)> visit);

// y[n, m, o] = sum over the channels c of m's group and the taps k inside the input of
// x[n, c, o * stride + k * dilation - padBegin] * w[m, c, k]. Padding contributes nothing, so the
// quantised ops pass zero-point-shifted values. Instantiated for double and int64_t.
template <typename T>
void convolveGrouped(const ConvGeometry &geometry, const T *input, const T *weight, T *output);

// Conv and ConvTranspose: X floating point and W of the same type, which is returned.
DType checkFloatConvolutionTypes(const InferContext &ctx);

// The float kernel of Conv and ConvTranspose: widens X (input 0) and W (input 1) to double, lets
// `loop` fill the zero-initialised output of `outputShape`, adds the optional bias (input 2) and
// rounds once to the type of X, so every float precision gets the same accumulation.
void runFloatConvolution(KernelContext &ctx, llvm::ArrayRef<int64_t> outputShape,
                         llvm::function_ref<void(const double *, const double *, double *)> loop);

// Multiply-accumulates of a convolution where each element of `streamed` meets one slice W[i] of
// the weight: the output of the forward ops, the input of ConvTranspose. 0 when shapes are unknown.
int64_t convolutionMacs(const Value *streamed, const Value *weight);

// Adds bias[m] to every element of channel m of an [N, M, spatial...] tensor.
template <typename T>
void addChannelBias(llvm::MutableArrayRef<T> output, llvm::ArrayRef<int64_t> outputShape,
                    llvm::ArrayRef<T> bias) {
  const int64_t channels = outputShape[1];
  const int64_t plane = numElements(outputShape.drop_front(2));
  for (size_t i = 0; i < output.size(); ++i)
    output[i] += bias[(static_cast<int64_t>(i) / plane) % channels];
}

// Checks the optional 1-D bias input `index` of a layer with `outputChannels` channels.
void checkChannelBias(const InferContext &ctx, size_t index, DType expectedType,
                      int64_t outputChannels);

// --- Code generation ---

// es_conv2d_f32 / es_conv2d_s8's window fields (P is either params struct) of a Conv or
// ConvTranspose: 1-D is the 2-D kernel with H = 1; 3-D and wider windows have no kernel.
template <typename P> P windowParams(const NodeContext &ctx, const ConvGeometry &g) {
  const size_t rank = g.window.spatialRank();
  if (rank < 1 || rank > 2)
    ctx.fail("code generation supports 1-D and 2-D convolutions, not {}-D", rank);
  auto at = [&](llvm::ArrayRef<int64_t> values, size_t axis2d) -> int32_t {
    if (rank == 1) return axis2d == 0 ? 1 : static_cast<int32_t>(values[0]);
    return static_cast<int32_t>(values[axis2d]);
  };
  auto padAt = [&](llvm::ArrayRef<int64_t> values, size_t axis2d) -> int32_t {
    if (rank == 1) return axis2d == 0 ? 0 : static_cast<int32_t>(values[0]);
    return static_cast<int32_t>(values[axis2d]);
  };
  P p{};
  p.batch = static_cast<int32_t>(g.batch);
  p.in_channels = static_cast<int32_t>(g.inputChannels);
  p.in_h = at(g.inputSize, 0);
  p.in_w = at(g.inputSize, 1);
  p.out_channels = static_cast<int32_t>(g.outputChannels);
  p.out_h = at(g.outputSize, 0);
  p.out_w = at(g.outputSize, 1);
  p.kernel_h = at(g.window.kernel, 0);
  p.kernel_w = at(g.window.kernel, 1);
  p.stride_h = at(g.window.strides, 0);
  p.stride_w = at(g.window.strides, 1);
  p.dilation_h = at(g.window.dilations, 0);
  p.dilation_w = at(g.window.dilations, 1);
  p.pad_top = padAt(g.window.padsBegin, 0);
  p.pad_left = padAt(g.window.padsBegin, 1);
  p.groups = static_cast<int32_t>(g.window.group);
  return p;
}

// --- Quantised convolutions (ConvInteger, QLinearConv) ---

bool isQuantizedType(DType type); // int8 or uint8

// Checks a quantisation parameter (scale or zero point) input: its type, and a shape that is a
// single element or, when `perChannel`, also a 1-D tensor of `outputChannels` elements.
void checkQuantParam(const InferContext &ctx, size_t index, std::string_view name,
                     DType expectedType, bool perChannel, int64_t outputChannels);

// The exact integer convolution both quantised ops define, the sum of
// (x - xZeroPoint) * (w - wZeroPoint[m]) accumulated in int64 so it cannot overflow. Absent zero
// points are 0; the result is [N, M, outputSize...].
std::vector<int64_t> convolveQuantized(const ConvGeometry &geometry, const Tensor &input,
                                       const Tensor *inputZeroPoint, const Tensor &weight,
                                       const Tensor *weightZeroPoint);

// An int8 convolution's operands besides its input (Conv and ConvTranspose): the window's
// parameters with the zero points and the fused activation's range, W quantised per output
// channel (slices along `weightAxis`), each channel's rescale Sx * Sw / Sy, and the int32 bias
// (empty without one).
struct S8ConvOperands {
  es_conv2d_s8_params_t params;
  std::vector<int8_t> weights;
  std::vector<es_requant_t> perChannel;
  std::vector<int32_t> bias;
};
S8ConvOperands s8ConvOperands(LowerContext &ctx, const ConvGeometry &g, int64_t weightAxis,
                              bool hasBias);

} // namespace edgesplit::ops
