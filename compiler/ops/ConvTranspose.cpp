#include "ops/ConvGeometry.h"

#include "codegen/LowerContext.h"
#include "quantize/Annotate.h"

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

// W's output channels are its axis 1: the kernels read W with that axis first (es_f32.h).
constexpr int64_t kWeightChannelAxis = 1;

void lower(LowerContext &ctx) {
  const ConvGeometry g = resolveTransposeGeometry(ctx, ctx.inputShape(0), ctx.inputShape(1));
  const bool hasBias = ctx.hasInput(2);
  if (!ctx.isInt8()) {
    auto p = windowParams<es_conv2d_f32_params_t>(ctx, g);
    std::tie(p.act_min, p.act_max) = ctx.floatActivationRange();
    ctx.call<es_conv2d_f32_params_t>(
        "es_conv_transpose2d_f32", p,
        {ctx.input(0), ctx.constantArray("weights", ctx.floatWeights(1, kWeightChannelAxis)),
         hasBias ? ctx.constantArray("bias", ctx.floatConstant(2)) : LowerContext::null(),
         ctx.output()},
        [](const es_conv2d_f32_params_t &p, const KernelArgs &a) {
          es_conv_transpose2d_f32(&p, a.in<float>(1), a.in<float>(2), a.in<float>(3),
                                  a.out<float>(4));
        },
        "conv");
    return;
  }
  // One weight scale per slice of W's axis 1 is one per output channel only without groups.
  if (g.window.group != 1)
    ctx.fail("int8 code generation supports ConvTranspose with group 1, and this one has group "
             "{}; compile the model for float32",
             g.window.group);
  S8ConvOperands s8 = s8ConvOperands(ctx, g, kWeightChannelAxis, hasBias);
  ctx.call<es_conv2d_s8_params_t>(
      "es_conv_transpose2d_s8", s8.params,
      {ctx.input(0), ctx.constantArray("weights", std::move(s8.weights)),
       hasBias ? ctx.constantArray("bias", std::move(s8.bias)) : LowerContext::null(),
       ctx.constantArray("requant", std::move(s8.perChannel)), ctx.output()},
      [](const es_conv2d_s8_params_t &p, const KernelArgs &a) {
        es_conv_transpose2d_s8(&p, a.in<int8_t>(1), a.in<int8_t>(2), a.in<int32_t>(3),
                               a.in<es_requant_t>(4), a.out<int8_t>(5));
      },
      "conv");
}

// As Conv (docs/int8.md): per-output-channel weights, which are W's axis 1.
void quantize(QuantizeContext &ctx) {
  ctx.annotateOutputFromRange(0);
  ctx.annotateWeights(1, kWeightChannelAxis);
  if (ctx.hasInput(2)) ctx.annotateBias(2, 0, 1);
}
} // namespace

extern const OpDef kConvTranspose{.name = "ConvTranspose", .minInputs = 2, .maxInputs = 3,
                                  .infer = infer, .run = run,
                                  .macs = [](const Node &node) {
                                    return convolutionMacs(node.inputs[0], node.inputs[1]);
                                  },
                                  .quantize = quantize, .lower = lower,
                                  .fusesActivation = true};

} // namespace edgesplit::ops
