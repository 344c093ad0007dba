#include "ops/Unary.h"

#include "quantize/Annotate.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) {
  mapFloat(ctx.input(0), ctx.output(0), [](double x) { return 1.0 / (1.0 + std::exp(-x)); });
}

// docs/int8.md: (0, 1) in fixed parameters, whatever the calibration saw.
void quantize(QuantizeContext &ctx) { ctx.annotateOutputFixed(0, 1.0 / 256.0, -128); }

void lower(LowerContext &ctx) { lowerActivation(ctx, ES_F32_SIGMOID); }
} // namespace

extern const OpDef kSigmoid{.name = "Sigmoid", .infer = inferFloatUnary, .run = run,
                            .quantize = quantize, .lower = lower};

} // namespace edgesplit::ops
