#include "ops/ConvGeometry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace edgesplit::ops {
namespace {
// X [N, C, D...] and W [C, M/group, k...]. Each axis has a natural output size, stride * (D - 1) +
// output_padding + dilated kernel, from which the pads are cut. An explicit output_shape, or
// auto_pad SAME asking for D * stride, fixes the size instead and the pads follow from it (the
// formulas of the ONNX operator definition).
ConvGeometry resolveTransposeGeometry(const NodeContext &ctx, llvm::ArrayRef<int64_t> inputShape,
                                      llvm::ArrayRef<int64_t> weightShape) {
  ConvGeometry geometry;
  geometry.window = readConvWindow(ctx, inputShape, weightShape);
  ConvWindow &window = geometry.window;
  const size_t rank = window.spatialRank();
  geometry.batch = inputShape[0];
  geometry.inputChannels = inputShape[1];
  geometry.outputChannels = weightShape[1] * window.group;
  geometry.inputSize.assign(inputShape.begin() + 2, inputShape.end());
  if (weightShape[0] != geometry.inputChannels)
    ctx.fail("weight W {} must have the {} input channels of X in dimension 0",
             formatShape(weightShape), geometry.inputChannels);
  if (geometry.inputChannels % window.group != 0)
    ctx.fail("the {} input channels are not divisible by group {}", geometry.inputChannels,
             window.group);

  const Shape outputPadding = readAxisAttr(ctx, "output_padding", rank, 0, 0);
  const std::vector<int64_t> requestedSize = ctx.attrInts("output_shape");
  if (!requestedSize.empty() && requestedSize.size() != rank)
    ctx.fail("output_shape [{}] must have {} values (one per spatial axis)",
             fmt::join(requestedSize, ", "), rank);
  const bool same = window.autoPad == AutoPad::SameUpper || window.autoPad == AutoPad::SameLower;

  for (size_t axis = 0; axis < rank; ++axis) {
    const int64_t input = geometry.inputSize[axis];
    const int64_t stride = window.strides[axis];
    if (outputPadding[axis] >= std::max(stride, window.dilations[axis]))
      ctx.fail("output_padding [{}] must be smaller than the stride or the dilation of its axis",
               fmt::join(outputPadding, ", "));
    const int64_t natural = stride * (input - 1) + outputPadding[axis] + window.dilatedKernel(axis);
    int64_t output = natural - window.padsBegin[axis] - window.padsEnd[axis];
    if (!requestedSize.empty() || same) {
      output = requestedSize.empty() ? input * stride : requestedSize[axis];
      std::tie(window.padsBegin[axis], window.padsEnd[axis]) =
          splitPadding(natural - output, window.autoPad == AutoPad::SameUpper);
    }
    if (output < 0)
      ctx.fail("spatial axis {}: pads {} and {} exceed the natural output size {}", axis,
               window.padsBegin[axis], window.padsEnd[axis], natural);
    geometry.outputSize.push_back(output);
  }
  return geometry;
}

void infer(InferContext &ctx) {
  const DType type = checkFloatConvolutionTypes(ctx);
  const ConvGeometry geometry =
      resolveTransposeGeometry(ctx, ctx.inputShape(0), ctx.inputShape(1));
  checkChannelBias(ctx, 2, type, geometry.outputChannels);
  ctx.setOutput(0, type, geometry.outputShape());
}

// The transpose of Conv's gather: each input element scatters through its window into the output.
void scatterGrouped(const ConvGeometry &geometry, const double *input, const double *weight,
                    double *output) {
  const int64_t inputPlane = numElements(geometry.inputSize);
  const int64_t outputPlane = numElements(geometry.outputSize);
  const int64_t kernelSize = numElements(geometry.window.kernel);
  const int64_t groupInputs = geometry.inputChannels / geometry.window.group;
  const int64_t groupOutputs = geometry.outputChannels / geometry.window.group;
  forEachWindow(
      geometry.window, geometry.inputSize, geometry.outputSize,
      [&](int64_t inputPosition, llvm::ArrayRef<ConvTap> taps) {
        for (int64_t n = 0; n < geometry.batch; ++n)
          for (int64_t c = 0; c < geometry.inputChannels; ++c) {
            const double value =
                input[(n * geometry.inputChannels + c) * inputPlane + inputPosition];
            const int64_t firstOutput =
                n * geometry.outputChannels + c / groupInputs * groupOutputs;
            for (int64_t m = 0; m < groupOutputs; ++m) {
              double *plane = output + (firstOutput + m) * outputPlane;
              const double *kernel = weight + (c * groupOutputs + m) * kernelSize;
              for (const ConvTap &tap : taps)
                plane[tap.position] += value * kernel[tap.kernelIndex];
            }
          }
      });
}

void run(KernelContext &ctx) {
  const ConvGeometry geometry =
      resolveTransposeGeometry(ctx, ctx.input(0).shape(), ctx.input(1).shape());
  runFloatConvolution(ctx, geometry.outputShape(),
                      [&](const double *input, const double *weight, double *output) {
                        scatterGrouped(geometry, input, weight, output);
                      });
}
} // namespace

extern const OpDef kConvTranspose{.name = "ConvTranspose", .minInputs = 2, .maxInputs = 3,
                                  .infer = infer, .run = run,
                                  .macs = [](const Node &node) {
                                    return convolutionMacs(node.inputs[0], node.inputs[1]);
                                  }};

} // namespace edgesplit::ops
