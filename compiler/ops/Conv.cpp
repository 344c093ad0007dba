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

// The kernels of es_s8.h that can run an int8 Conv.
enum class ConvKernel { Reference, Conv1d, Depthwise3x3, Gemm };

ConvKernel chooseKernel(const es_conv2d_s8_params_t &p, KernelIsa isa) {
  const int32_t padBottom = p.out_h + 2 - p.in_h - p.pad_top;
  const int32_t padRight = p.out_w + 2 - p.in_w - p.pad_left;
  auto zeroOrOne = [](int32_t pad) { return pad == 0 || pad == 1; };
  if (p.groups == p.in_channels && p.out_channels == p.in_channels && p.kernel_h == 3 &&
      p.kernel_w == 3 && p.stride_h == 1 && p.stride_w == 1 && p.dilation_h == 1 &&
      p.dilation_w == 1 && zeroOrOne(p.pad_top) && zeroOrOne(p.pad_left) && zeroOrOne(padBottom) &&
      zeroOrOne(padRight))
    return ConvKernel::Depthwise3x3;
  if (p.groups != 1) return ConvKernel::Reference;
  // es_conv1d_s8 reads the input rows in place (no scratch) with SMLAD over pairs of taps, which
  // beats a matrix product where SMLAD is the widest multiply; MVE's sixteen-lane VMLADAVA over
  // gathered windows beats it.
  const bool oneDimensional =
      p.in_h == 1 && p.kernel_h == 1 && p.out_h == 1 && p.pad_top == 0 && p.dilation_w == 1;
  if (oneDimensional && isa != KernelIsa::Mve) return ConvKernel::Conv1d;
  // es_conv2d_gemm_s8 packs a tap's place in its window as (row << 16 | column).
  const bool windowPacks = int64_t{p.kernel_h - 1} * p.dilation_h < (1 << 15) &&
                           int64_t{p.kernel_w - 1} * p.dilation_w < (1 << 16);
  return windowPacks ? ConvKernel::Gemm : ConvKernel::Reference;
}

// Two int16 weights in one word, the first in the low half (es_s8.h's weight words).
int32_t int16Pair(int8_t low, int8_t high) {
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(low)) |
                              (static_cast<uint32_t>(static_cast<uint16_t>(high)) << 16));
}

// es_conv1d_s8's weight words: per (output, input) channel, pairs of taps (k, k + 2) and
// (k + 1, k + 3) per group of four, then three remaining taps as the pair (t0, t2) and t1, or
// one or two remaining taps one per word.
std::vector<int32_t> conv1dWords(llvm::ArrayRef<int8_t> weights, int32_t kernelW) {
  std::vector<int32_t> words;
  const int32_t quads = kernelW / 4;
  for (size_t start = 0; start < weights.size(); start += kernelW) {
    const int8_t *w = weights.data() + start;
    for (int32_t quad = 0; quad < quads; ++quad) {
      words.push_back(int16Pair(w[4 * quad], w[4 * quad + 2]));
      words.push_back(int16Pair(w[4 * quad + 1], w[4 * quad + 3]));
    }
    const int8_t *tail = w + 4 * quads;
    if (kernelW % 4 == 3) {
      words.push_back(int16Pair(tail[0], tail[2]));
      words.push_back(tail[1]);
    } else {
      for (int32_t k = 0; k < kernelW % 4; ++k) words.push_back(tail[k]);
    }
  }
  return words;
}

// es_depthwise_conv3x3_s8's weight words: per channel and kernel row, (w0, w2) then w1.
std::vector<int32_t> depthwiseWords(llvm::ArrayRef<int8_t> weights) {
  std::vector<int32_t> words;
  for (size_t row = 0; row < weights.size(); row += 3) {
    words.push_back(int16Pair(weights[row], weights[row + 2]));
    words.push_back(weights[row + 1]);
  }
  return words;
}

// es_conv2d_gemm_s8's weight rows: each channel's taps padded with zeros to `row`, the rows of
// channels m and m + 1 (m even) interleaved byte by byte, an odd last channel's partner zeros.
std::vector<int8_t> gemmRows(llvm::ArrayRef<int8_t> weights, size_t channels, size_t row) {
  const size_t taps = weights.size() / channels;
  std::vector<int8_t> rows((channels + 1) / 2 * 2 * row, 0);
  for (size_t m = 0; m < channels; ++m)
    for (size_t k = 0; k < taps; ++k) rows[m / 2 * 2 * row + 2 * k + m % 2] = weights[m * taps + k];
  return rows;
}

// The fields a specialised kernel's parameters share with es_conv2d_s8's.
template <typename Q> Q specialisedParams(const es_conv2d_s8_params_t &p) {
  Q q{};
  q.batch = p.batch;
  q.in_w = p.in_w;
  q.out_w = p.out_w;
  q.pad_left = p.pad_left;
  q.input_zp = p.input_zp;
  q.output_zp = p.output_zp;
  q.act_min = p.act_min;
  q.act_max = p.act_max;
  return q;
}

// es_conv1d_s8's entry point for a window length: 3, 5, 7 and 9 taps have their own unrolled
// bodies, and a program links only the ones it calls.
using Conv1dEntry = void (*)(const es_conv1d_s8_params_t *, const int8_t *, const int32_t *,
                             const int32_t *, const es_requant_t *, int8_t *);
std::pair<std::string, Conv1dEntry> conv1dEntry(int32_t kernelW) {
  switch (kernelW) {
  case 3:
    return {"es_conv1d_k3_s8", es_conv1d_k3_s8};
  case 5:
    return {"es_conv1d_k5_s8", es_conv1d_k5_s8};
  case 7:
    return {"es_conv1d_k7_s8", es_conv1d_k7_s8};
  case 9:
    return {"es_conv1d_k9_s8", es_conv1d_k9_s8};
  default:
    return {"es_conv1d_s8", es_conv1d_s8};
  }
}

// The layer through a specialised kernel of es_s8.h ("Specialised convolutions") when it has
// one's shape and the kernel's int32 accumulation is exact (foldedFastKernelBias); false leaves
// it to es_conv2d_s8. Weights are re-arranged here, once, as the kernel reads them.
bool lowerSpecialised(LowerContext &ctx, const es_conv2d_s8_params_t &p,
                      const std::vector<int8_t> &weights, const std::vector<int32_t> &bias,
                      const std::vector<es_requant_t> &perChannel) {
  const ConvKernel kernel = chooseKernel(p, ctx.isa());
  if (kernel == ConvKernel::Reference) return false;
  std::optional<std::vector<int32_t>> folded =
      foldedFastKernelBias(weights, bias, perChannel, p.input_zp);
  if (!folded) return false;
  const KernelArg foldedArg = ctx.constantArray("bias_folded", std::move(*folded));
  const KernelArg requantArg = ctx.constantArray("requant", perChannel);
  switch (kernel) {
  case ConvKernel::Conv1d: {
    auto q = specialisedParams<es_conv1d_s8_params_t>(p);
    q.in_channels = p.in_channels;
    q.out_channels = p.out_channels;
    q.kernel_w = p.kernel_w;
    q.stride = p.stride_w;
    const auto [function, entry] = conv1dEntry(p.kernel_w);
    ctx.call<es_conv1d_s8_params_t>(
        function, q,
        {ctx.input(0), ctx.constantArray("weights", conv1dWords(weights, p.kernel_w)), foldedArg,
         requantArg, ctx.output()},
        [entry = entry](const es_conv1d_s8_params_t &q, const KernelArgs &a) {
          entry(&q, a.in<int8_t>(1), a.in<int32_t>(2), a.in<int32_t>(3), a.in<es_requant_t>(4),
                a.out<int8_t>(5));
        },
        "conv");
    return true;
  }
  case ConvKernel::Depthwise3x3: {
    auto q = specialisedParams<es_depthwise_conv3x3_s8_params_t>(p);
    q.channels = p.in_channels;
    q.in_h = p.in_h;
    q.out_h = p.out_h;
    q.pad_top = p.pad_top;
    ctx.call<es_depthwise_conv3x3_s8_params_t>(
        "es_depthwise_conv3x3_s8", q,
        {ctx.input(0), ctx.constantArray("weights", depthwiseWords(weights)), foldedArg, requantArg,
         ctx.output()},
        [](const es_depthwise_conv3x3_s8_params_t &q, const KernelArgs &a) {
          es_depthwise_conv3x3_s8(&q, a.in<int8_t>(1), a.in<int32_t>(2), a.in<int32_t>(3),
                                  a.in<es_requant_t>(4), a.out<int8_t>(5));
        },
        "conv");
    return true;
  }
  case ConvKernel::Gemm:
    ctx.call<es_conv2d_s8_params_t>(
        "es_conv2d_gemm_s8", p,
        {ctx.input(0),
         ctx.constantArray("weights", gemmRows(weights, static_cast<size_t>(p.out_channels),
                                               static_cast<size_t>(ES_CONV2D_GEMM_S8_ROW(&p)))),
         foldedArg, requantArg, LowerContext::scratch(ES_CONV2D_GEMM_S8_SCRATCH_BYTES(&p)),
         ctx.output()},
        [](const es_conv2d_s8_params_t &p, const KernelArgs &a) {
          es_conv2d_gemm_s8(&p, a.in<int8_t>(1), a.in<int8_t>(2), a.in<int32_t>(3),
                            a.in<es_requant_t>(4), a.out<int8_t>(5), a.out<int8_t>(6));
        },
        "conv");
    return true;
  case ConvKernel::Reference:
    break;
  }
  return false;
}

void lower(LowerContext &ctx) {
  const ConvGeometry g = resolveConvGeometry(ctx, ctx.inputShape(0), ctx.inputShape(1));
  const bool hasBias = ctx.hasInput(2);
  if (!ctx.isInt8()) {
    auto p = windowParams<es_conv2d_f32_params_t>(ctx, g);
    std::tie(p.act_min, p.act_max) = ctx.floatActivationRange();
    // The register-blocked kernel equals the reference bit for bit and is faster on every shape
    // (docs/performance.md); the reference stays the oracle the kernel tests compare it with.
    // Grouped convolutions call it through an entry point of their own, priced apart.
    const bool grouped = p.groups > 1;
    ctx.call<es_conv2d_f32_params_t>(
        grouped ? "es_conv2d_grouped_blocked_f32" : "es_conv2d_blocked_f32", p,
        {ctx.input(0), ctx.constantArray("weights", ctx.floatWeights(1, 0)),
         hasBias ? ctx.constantArray("bias", ctx.floatConstant(2)) : LowerContext::null(),
         ctx.output()},
        [grouped](const es_conv2d_f32_params_t &p, const KernelArgs &a) {
          (grouped ? es_conv2d_grouped_blocked_f32 : es_conv2d_blocked_f32)(
              &p, a.in<float>(1), a.in<float>(2), a.in<float>(3), a.out<float>(4));
        },
        "conv");
    return;
  }
  S8ConvOperands s8 = s8ConvOperands(ctx, g, /*weightAxis=*/0, hasBias);
  if (lowerSpecialised(ctx, s8.params, s8.weights, s8.bias, s8.perChannel)) return;
  ctx.call<es_conv2d_s8_params_t>(
      "es_conv2d_s8", s8.params,
      {ctx.input(0), ctx.constantArray("weights", std::move(s8.weights)),
       hasBias ? ctx.constantArray("bias", std::move(s8.bias)) : LowerContext::null(),
       ctx.constantArray("requant", std::move(s8.perChannel)), ctx.output()},
      [](const es_conv2d_s8_params_t &p, const KernelArgs &a) {
        es_conv2d_s8(&p, a.in<int8_t>(1), a.in<int8_t>(2), a.in<int32_t>(3), a.in<es_requant_t>(4),
                     a.out<int8_t>(5));
      },
      "conv");
}

void quantize(QuantizeContext &ctx) {
  ctx.annotateOutputFromRange(0);
  ctx.annotateWeights(1, 0);
  if (ctx.hasInput(2)) ctx.annotateBias(2, 0, 1);
}
} // namespace

extern const OpDef kConv{
    .name = "Conv",
    .minInputs = 2,
    .maxInputs = 3,
    .infer = infer,
    .run = run,
    .macs = [](const Node &node) { return convolutionMacs(node.outputs[0], node.inputs[1]); },
    .quantize = quantize,
    .lower = lower,
    .fusesActivation = true};

} // namespace edgesplit::ops
