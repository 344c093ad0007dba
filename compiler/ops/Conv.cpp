#include "ops/ConvGeometry.h"

#include "codegen/LowerContext.h"
#include "quantize/Annotate.h"

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  const DType type = checkFloatConvolutionTypes(ctx);
  const ConvGeometry geometry = resolveConvGeometry(ctx, ctx.inputShape(0), ctx.inputShape(1));
  checkChannelBias(ctx, 2, type, geometry.outputChannels);
  ctx.setOutput(0, type, geometry.outputShape());
}

void run(KernelContext &ctx) {
  const ConvGeometry geometry =
      resolveConvGeometry(ctx, ctx.input(0).shape(), ctx.input(1).shape());
  runFloatConvolution(ctx, geometry.outputShape(),
                      [&](const double *input, const double *weight, double *output) {
                        convolveGrouped(geometry, input, weight, output);
                      });
}

// Conv1-D is the 2-D kernel with H = 1; 3-D and wider windows have no kernel.
template <typename P> P windowParams(const LowerContext &ctx, const ConvGeometry &g) {
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

void lower(LowerContext &ctx) {
  const ConvGeometry g = resolveConvGeometry(ctx, ctx.inputShape(0), ctx.inputShape(1));
  const bool hasBias = ctx.hasInput(2);
  if (!ctx.isInt8()) {
    auto p = windowParams<es_conv2d_f32_params_t>(ctx, g);
    std::tie(p.act_min, p.act_max) = ctx.floatActivationRange();
    ctx.call<es_conv2d_f32_params_t>(
        "es_conv2d_f32", p,
        {ctx.input(0), ctx.constantArray("weights", ctx.floatWeights(1, 0)),
         hasBias ? ctx.constantArray("bias", ctx.floatConstant(2)) : LowerContext::null(),
         ctx.output()},
        [](const es_conv2d_f32_params_t &p, const KernelArgs &a) {
          es_conv2d_f32(&p, a.in<float>(1), a.in<float>(2), a.in<float>(3), a.out<float>(4));
        },
        "conv");
    return;
  }
  const TensorQuant in = ctx.inputQuant(0), out = ctx.outputQuant();
  LowerContext::Weights weights = ctx.int8Weights(1, 0);
  auto p = windowParams<es_conv2d_s8_params_t>(ctx, g);
  p.input_zp = in.zeroPoint;
  p.output_zp = out.zeroPoint;
  std::tie(p.act_min, p.act_max) = ctx.int8ActivationRange(out);
  std::vector<es_requant_t> perChannel;
  for (double scale : weights.scales) perChannel.push_back(ctx.requant(in.scale * scale / out.scale));
  ctx.call<es_conv2d_s8_params_t>(
      "es_conv2d_s8", p,
      {ctx.input(0), ctx.constantArray("weights", std::move(weights.values)),
       hasBias ? ctx.constantArray("bias", ctx.int32Bias(2, in.scale, weights.scales))
               : LowerContext::null(),
       ctx.constantArray("requant", std::move(perChannel)), ctx.output()},
      [](const es_conv2d_s8_params_t &p, const KernelArgs &a) {
        es_conv2d_s8(&p, a.in<int8_t>(1), a.in<int8_t>(2), a.in<int32_t>(3),
                     a.in<es_requant_t>(4), a.out<int8_t>(5));
      },
      "conv");
}

void quantize(QuantizeContext &ctx) {
  ctx.annotateOutputFromRange(0);
  ctx.annotateWeights(1, 0);
  if (ctx.hasInput(2)) ctx.annotateBias(2, 0, 1);
}
} // namespace

extern const OpDef kConv{.name = "Conv", .minInputs = 2, .maxInputs = 3, .infer = infer,
                         .run = run,
                         .macs = [](const Node &node) {
                           return convolutionMacs(node.outputs[0], node.inputs[1]);
                         },
                         .quantize = quantize,
                         .lower = lower,
                         .fusesActivation = true};

} // namespace edgesplit::ops
