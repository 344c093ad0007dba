#include "ops/Reduction.h"

#include "codegen/LowerContext.h"
#include "quantize/Annotate.h"
#include "quantize/QuantMath.h"

#include <cmath>

namespace edgesplit::ops {
namespace {
// docs/int8.md "Softmax / LogSoftmax": log-probabilities in fixed parameters, as TFLite's int8
// LOG_SOFTMAX has them: [-255/16, 0] in steps of 1/16 (down to a probability of about 1e-7).
constexpr double kOutputScale = 16.0 / 256.0;
constexpr int32_t kOutputZeroPoint = 127;

void run(KernelContext &ctx) { runSoftmax(ctx, /*logarithm=*/true); }

void lower(LowerContext &ctx) {
  if (!ctx.isInt8()) {
    ctx.call<es_softmax_f32_params_t>(
        "es_log_softmax_f32", softmaxParams<es_softmax_f32_params_t>(ctx, ctx.inputShape(0)),
        {ctx.input(0), ctx.output()},
        [](const es_softmax_f32_params_t &p, const KernelArgs &a) {
          es_log_softmax_f32(&p, a.in<float>(1), a.out<float>(2));
        },
        "softmax");
    return;
  }
  auto p = softmaxParams<es_log_softmax_s8_params_t>(ctx, ctx.inputShape(0));
  const double inputScale = ctx.inputQuant(0).scale;
  const TensorQuant out = ctx.outputQuant();
  // ln(2) / Sy in Q16 must fit int32: a pre-quantised model's finer output is refused.
  const double logFactor = 65536.0 * std::log(2.0) / out.scale;
  if (logFactor >= 2147483647.0)
    ctx.fail("int8 LogSoftmax needs an output scale of at least ln(2) * 2^-15, got {}; compile "
             "the model for float32",
             out.scale);
  p.log_factor = static_cast<int32_t>(roundHalfAway(logFactor, 0, INT32_MAX));
  p.output_zp = out.zeroPoint;
  // Sx (qx - max) in Q16 steps of Sy; anything below -2^14 steps saturates the output anyway.
  std::vector<int32_t> shifts;
  for (int d = 0; d < 256; ++d)
    shifts.push_back(static_cast<int32_t>(
        roundHalfAway(65536.0 * inputScale * (d - 255) / out.scale, -(int64_t{1} << 30), 0)));
  KernelArg exp = ctx.constantArray("exp", softmaxExpTable(ctx, inputScale, p.length));
  KernelArg shift = ctx.constantArray("shift", std::move(shifts));
  ctx.call<es_log_softmax_s8_params_t>(
      "es_log_softmax_s8", p, {exp, shift, ctx.input(0), ctx.output()},
      [](const es_log_softmax_s8_params_t &p, const KernelArgs &a) {
        es_log_softmax_s8(&p, a.in<uint32_t>(1), a.in<int32_t>(2), a.in<int8_t>(3),
                          a.out<int8_t>(4));
      },
      "softmax");
}

void quantize(QuantizeContext &ctx) {
  ctx.annotateOutputFixed(0, kOutputScale, kOutputZeroPoint);
}
} // namespace

extern const OpDef kLogSoftmax{.name = "LogSoftmax", .infer = inferSoftmax, .run = run,
                               .quantize = quantize, .lower = lower};

} // namespace edgesplit::ops
