#include "ops/Softmax.h"

#include "ops/Layout.h"
#include "ops/Reduction.h"

#include "codegen/LowerContext.h"
#include "quantize/Annotate.h"
#include "quantize/QuantMath.h"

#include <algorithm>
#include <cmath>

namespace edgesplit::ops {

std::vector<uint32_t> softmaxExpTable(double inputScale) {
  std::vector<uint32_t> table;
  for (int d = 0; d < 256; ++d)
    table.push_back(
        static_cast<uint32_t>(roundHalfAway(65536.0 * std::exp(inputScale * (d - 255)), 0, 65536)));
  return table;
}

int8_t softmaxOutputCode(int64_t quotient, double outputScale, int32_t outputZeroPoint) {
  const int64_t probability = std::min<int64_t>(quotient, 255);
  return static_cast<int8_t>(
      roundHalfAway(probability / 256.0 / outputScale + outputZeroPoint, -128, 127));
}

namespace {
void run(KernelContext &ctx) { runSoftmax(ctx, /*logarithm=*/false); }

void lower(LowerContext &ctx) {
  if (!ctx.isInt8()) {
    ctx.call<es_softmax_f32_params_t>(
        "es_softmax_f32", softmaxParams<es_softmax_f32_params_t>(ctx, ctx.inputShape(0)),
        {ctx.input(0), ctx.output()},
        [](const es_softmax_f32_params_t &p, const KernelArgs &a) {
          es_softmax_f32(&p, a.in<float>(1), a.out<float>(2));
        },
        "softmax");
    return;
  }
  const auto p = softmaxParams<es_softmax_s8_params_t>(ctx, ctx.inputShape(0));
  const TensorQuant out = ctx.outputQuant();
  ctx.call<es_softmax_s8_params_t>(
      "es_softmax_s8", p,
      {ctx.constantArray("exp", softmaxExpTable(ctx, ctx.inputQuant(0).scale, p.length)),
       ctx.input(0), ctx.output()},
      [](const es_softmax_s8_params_t &p, const KernelArgs &a) {
        es_softmax_s8(&p, a.in<uint32_t>(1), a.in<int8_t>(2), a.out<int8_t>(3));
      },
      "softmax");
  if (out.scale == 1.0 / 256.0 && out.zeroPoint == -128) return;
  // A pre-quantised model may give other output parameters (onnxruntime's quantiser uses 1/255):
  // the kernel's fixed-parameter result is requantised in place by a table.
  std::vector<int8_t> requantise;
  for (int quotient = 0; quotient < 256; ++quotient)
    requantise.push_back(softmaxOutputCode(quotient, out.scale, out.zeroPoint));
  ctx.callPlain(
      "es_lut_s8",
      {ctx.constantArray("requantise", std::move(requantise)), ctx.output(), ctx.output(),
       LowerContext::integer(static_cast<int32_t>(numElements(ctx.outputShape())))},
      [n = static_cast<int32_t>(numElements(ctx.outputShape()))](const KernelArgs &a) {
        es_lut_s8(a.in<int8_t>(0), a.out<int8_t>(1), a.out<int8_t>(2), n);
      },
      "lut");
}

// docs/int8.md: probabilities in fixed parameters, whatever the calibration saw.
void quantize(QuantizeContext &ctx) { ctx.annotateOutputFixed(0, 1.0 / 256.0, -128); }
} // namespace

extern const OpDef kSoftmax{.name = "Softmax", .infer = inferSoftmax, .run = run,
                            .quantize = quantize, .lower = lower};

} // namespace edgesplit::ops
