#include "ops/QuantizeCore.h"

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  const DType input = ctx.inputType(0);
  if (input != DType::Float32 && input != DType::Int32)
    ctx.fail("input must be float32 or int32, got {}", dtypeName(input));
  checkAffineParams(ctx);
  // The zero point's type chooses the output type; without one ONNX quantises to uint8.
  const DType output = ctx.hasInput(2) ? ctx.inputType(2) : DType::UInt8;
  if (!isQuantizedType(output))
    ctx.fail("zero point must be uint8 or int8, got {}", dtypeName(output));
  ctx.setOutput(0, output, ctx.inputShape(0));
}

// Real is the type the reference divides in: float for float32 data, double for int32 data.
template <typename Real, typename In, typename Q>
void quantize(const AffineParams &params, const In *input, Q *output, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const size_t p = params.paramIndex(i);
    output[i] = quantizeValue<Q>(static_cast<Real>(input[i]), static_cast<Real>(params.scales[p]),
                                 params.zeroPoints[p]);
  }
}

void run(KernelContext &ctx) {
  const AffineParams params = readAffineParams(ctx);
  const Tensor &input = ctx.input(0);
  Tensor &output = ctx.output(0);
  dispatchDType(output.dtype(), [&](auto tag) {
    using Q = typename decltype(tag)::type;
    if constexpr (std::is_same_v<Q, uint8_t> || std::is_same_v<Q, int8_t>) {
      if (input.dtype() == DType::Float32)
        quantize<float>(params, input.data<float>(), output.data<Q>(), input.numElements());
      else
        quantize<double>(params, input.data<int32_t>(), output.data<Q>(), input.numElements());
    }
  });
}
} // namespace

extern const OpDef kQuantizeLinear{.name = "QuantizeLinear", .minInputs = 2, .maxInputs = 3,
                                   .infer = infer, .run = run};

} // namespace edgesplit::ops
