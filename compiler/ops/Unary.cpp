#include "ops/Unary.h"

#include "codegen/LowerContext.h"
#include "interp/Interpreter.h"
#include "ops/Layout.h"
#include "quantize/QuantMath.h"

namespace edgesplit::ops {
namespace {
bool isNumeric(DType type) { return type != DType::Bool; }
bool isSignedNumber(DType type) { return isFloatingPoint(type) || isSignedInteger(type); }
} // namespace

void inferFloatUnary(InferContext &ctx) { inferSameAsInput(ctx, isFloatingPoint); }
void inferNumericUnary(InferContext &ctx) { inferSameAsInput(ctx, isNumeric); }
void inferSignedUnary(InferContext &ctx) { inferSameAsInput(ctx, isSignedNumber); }

std::vector<int8_t> quantizeLookupTable(llvm::ArrayRef<float> values, const TensorQuant &output,
                                        S8Rounding rounding) {
  std::vector<int8_t> table;
  table.reserve(values.size());
  if (rounding == S8Rounding::Double) {
    for (float y : values)
      table.push_back(static_cast<int8_t>(std::clamp<int64_t>(
          roundHalfAway(y / output.scale, -256, 256) + output.zeroPoint, -128, 127)));
    return table;
  }
  // onnxruntime's QuantizeLinear (and the QLinearSigmoid / QLinearLeakyRelu tables it fuses a
  // DQ -> op -> Q into) divides by the float32 scale in float32, clamps to the codes' range
  // before rounding (its MAXPS keeps the bound for a NaN) and rounds ties to even.
  const float scale = static_cast<float>(output.scale);
  const float lo = static_cast<float>(-128 - output.zeroPoint);
  const float hi = static_cast<float>(127 - output.zeroPoint);
  for (float y : values) {
    const float ratio = y / scale;
    const float clamped = std::isnan(ratio) ? lo : std::clamp(ratio, lo, hi);
    table.push_back(static_cast<int8_t>(std::nearbyint(clamped) + output.zeroPoint));
  }
  return table;
}

void lowerLookupTable(LowerContext &ctx) {
  const TensorQuant out = ctx.outputQuant();
  lowerLookupTable(ctx, out.scale, out.zeroPoint);
}

void lowerLookupTable(LowerContext &ctx, double outputScale, int32_t outputZeroPoint) {
  const TensorQuant in = ctx.inputQuant(0), out{outputScale, outputZeroPoint};
  // The float32 scale times an int8 difference is exact in double: rounded once to float32, it
  // is what onnxruntime's DequantizeLinear computes in float32.
  Tensor x(DType::Float32, {256});
  float *values = x.data<float>();
  for (int32_t q = -128; q < 128; ++q)
    values[q + 128] = static_cast<float>(in.scale * (q - in.zeroPoint));
  llvm::SmallVector<const Tensor *, 3> inputs{&x};
  for (size_t i = 1; i < ctx.numInputs(); ++i)
    inputs.push_back(ctx.hasInput(i) ? &ctx.constantInput(i) : nullptr);
  const Tensor y = evaluateNode(ctx.node(), inputs)[0].castTo(DType::Float32);
  std::vector<int8_t> table = quantizeLookupTable(y.values<float>(), out, ctx.rounding());
  const int32_t count = kernelInt(ctx, numElements(ctx.outputShape()), "element count");
  ctx.callPlain(
      "es_lut_s8",
      {ctx.constantArray("table", std::move(table)), ctx.input(0), ctx.output(),
       LowerContext::integer(count)},
      [count](const KernelArgs &a) {
        es_lut_s8(a.in<int8_t>(0), a.in<int8_t>(1), a.out<int8_t>(2), count);
      },
      "lut");
}

void lowerActivation(LowerContext &ctx, es_unary_f32_op_t function, float alpha, float beta) {
  if (ctx.isInt8()) {
    lowerLookupTable(ctx);
    return;
  }
  es_unary_f32_params_t p{};
  p.op = function;
  p.size = kernelInt(ctx, numElements(ctx.outputShape()), "element count");
  p.alpha = alpha;
  p.beta = beta;
  ctx.call<es_unary_f32_params_t>(
      "es_unary_f32", p, {ctx.input(0), ctx.output()},
      [](const es_unary_f32_params_t &p, const KernelArgs &a) {
        es_unary_f32(&p, a.in<float>(1), a.out<float>(2));
      },
      "elementwise");
}

void lowerClamp(LowerContext &ctx, float lo, float hi) {
  if (ctx.isInt8()) {
    lowerLookupTable(ctx);
    return;
  }
  es_clip_f32_params_t p{};
  p.size = kernelInt(ctx, numElements(ctx.outputShape()), "element count");
  p.min = lo;
  p.max = hi;
  ctx.call<es_clip_f32_params_t>(
      "es_clip_f32", p, {ctx.input(0), ctx.output()},
      [](const es_clip_f32_params_t &p, const KernelArgs &a) {
        es_clip_f32(&p, a.in<float>(1), a.out<float>(2));
      },
      "elementwise");
}

} // namespace edgesplit::ops
