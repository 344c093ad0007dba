#include "ops/QuantizeCore.h"

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  const DType input = ctx.inputType(0);
  if (!isQuantizedType(input) && input != DType::Int32)
    ctx.fail("input must be uint8, int8 or int32, got {}", dtypeName(input));
  if (ctx.hasInput(2) && ctx.inputType(2) != input)
    ctx.fail("zero point is {} but the input is {}", dtypeName(ctx.inputType(2)), dtypeName(input));
  checkAffineParams(ctx);
  ctx.setOutput(0, DType::Float32, ctx.inputShape(0));
}

void run(KernelContext &ctx) {
  const AffineParams params = readAffineParams(ctx);
  const Tensor &input = ctx.input(0);
  float *output = ctx.output(0).data<float>();
  dispatchDType(input.dtype(), [&](auto tag) {
    using Q = typename decltype(tag)::type;
    if constexpr (std::is_same_v<Q, uint8_t> || std::is_same_v<Q, int8_t> ||
                  std::is_same_v<Q, int32_t>) {
      const Q *values = input.data<Q>();
      // In double, int32 data cannot overflow the subtraction, and for 8-bit data the product is
      // exact before its one rounding to float, as in the float32 reference.
      for (int64_t i = 0; i < input.numElements(); ++i) {
        const size_t p = params.paramIndex(i);
        output[i] = static_cast<float>((static_cast<double>(values[i]) - params.zeroPoints[p]) *
                                       params.scales[p]);
      }
    }
  });
}
} // namespace

extern const OpDef kDequantizeLinear{.name = "DequantizeLinear", .minInputs = 2, .maxInputs = 3,
                                     .infer = infer, .run = run};

} // namespace edgesplit::ops
