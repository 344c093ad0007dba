#include "ops/Unary.h"

#include "quantize/Annotate.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  mapFloat(ctx.input(0), ctx.output(0), [](double x) { return std::tanh(x); });
}

// docs/int8.md: (-1, 1) in fixed parameters, whatever the calibration saw.
void quantize(QuantizeContext &ctx) { ctx.annotateOutputFixed(0, 1.0 / 128.0, 0); }

void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_TANH); }
} // namespace

extern const OpDef kTanh{.name = "Tanh", .infer = inferFloatUnary, .run = run,
                         .quantize = quantize, .lower = lower};

} // namespace edgesplit::ops
