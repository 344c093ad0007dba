#include "ops/Unary.h"

#include "quantize/Annotate.h"

namespace edgesplit::ops {
namespace {
bool isSignedOrFloat(DType type) { return isFloatingPoint(type) || isSignedInteger(type); }

void infer(InferContext &ctx) { inferSameAsInput(ctx, isSignedOrFloat); }

void run(KernelContext &ctx) {
  const Tensor &input = ctx.input(0);
  Tensor &output = ctx.output(0);
  if (isFloatingPoint(input.dtype())) {
    mapFloat(input, output, [](double x) { return x > 0.0 ? x : 0.0; });
    return;
  }
  dispatchArithmetic(input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    auto in = input.values<T>();
    auto out = output.mutableValues<T>();
    for (size_t i = 0; i < in.size(); ++i) out[i] = in[i] > T(0) ? in[i] : T(0);
  });
}

// docs/int8.md: the output keeps the input's parameters, so fusing it into its producer is exact.
void quantize(QuantizeContext &ctx) { ctx.annotateOutputSameAsInput(0, 0); }

void lower(LowerContext &ctx) { lowerClamp(ctx, 0.0f, INFINITY); }
} // namespace

extern const OpDef kRelu{.name = "Relu", .infer = infer, .run = run, .quantize = quantize,
                         .lower = lower};

} // namespace edgesplit::ops
