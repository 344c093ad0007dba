#include "ops/MatMulCore.h"
#include "ops/QuantizeCore.h"

namespace edgesplit::ops {
namespace {
enum Input { kA, kAScale, kAZeroPoint, kB, kBScale, kBZeroPoint, kYScale, kYZeroPoint };

// One quantisation parameter (scale or zero point) with the indexer that finds its value for a
// flat index of the matmul's [batch..., M, N] output.
struct OutputParam {
  std::vector<double> values;
  BroadcastIndexer indexOf;
  double operator()(int64_t outputIndex) const { return values[indexOf(outputIndex)]; }
};

OutputParam outputParam(const KernelContext &ctx, size_t index, llvm::ArrayRef<int64_t> operand,
                        QuantAxis axis, const MatMulShape &shape) {
  const Tensor &param = ctx.input(index);
  const Shape paramShape =
      quantParamShape(ctx, fmt::format("input {}", index), param.shape(), operand, axis);
  return {param.toDoubleVector(), BroadcastIndexer(paramShape, shape.matrixOutput)};
}

void checkScale(const InferContext &ctx, size_t scale, size_t zeroPoint) {
  if (ctx.inputType(scale) != DType::Float32)
    ctx.fail("scale (input {}) must be float32, got {}", scale, dtypeName(ctx.inputType(scale)));
  if (!matchingParamShapes(ctx.inputShape(scale), ctx.inputShape(zeroPoint)))
    ctx.fail("scale (input {}) has shape {} but its zero point (input {}) has {}", scale,
             formatShape(ctx.inputShape(scale)), zeroPoint, formatShape(ctx.inputShape(zeroPoint)));
}

void infer(InferContext &ctx) {
  for (size_t operand : {kA, kB, kYZeroPoint})
    if (!isQuantizedType(ctx.inputType(operand)))
      ctx.fail("input {} must be uint8 or int8, got {}", operand,
               dtypeName(ctx.inputType(operand)));
  const MatMulShape shape = matMulShape(ctx, ctx.inputShape(kA), ctx.inputShape(kB));
  checkScale(ctx, kAScale, kAZeroPoint);
  checkScale(ctx, kBScale, kBZeroPoint);
  checkScale(ctx, kYScale, kYZeroPoint);
  checkZeroPoint(ctx, kAZeroPoint, kA, QuantAxis::Rows);
  checkZeroPoint(ctx, kBZeroPoint, kB, QuantAxis::Columns);
  quantParamShape(ctx, "y_zero_point (input 7)", ctx.inputShape(kYZeroPoint), shape.matrixOutput,
                  QuantAxis::Rows);
  ctx.setOutput(0, ctx.inputType(kYZeroPoint), shape.output);
}

void run(KernelContext &ctx) {
  const Tensor &a = ctx.input(kA);
  const Tensor &b = ctx.input(kB);
  const MatMulShape shape = matMulShape(ctx, a.shape(), b.shape());
  const Tensor centredA = subtractZeroPoint(ctx, a, &ctx.input(kAZeroPoint), QuantAxis::Rows);
  const Tensor centredB = subtractZeroPoint(ctx, b, &ctx.input(kBZeroPoint), QuantAxis::Columns);
  const OutputParam scaleA = outputParam(ctx, kAScale, a.shape(), QuantAxis::Rows, shape);
  const OutputParam scaleB = outputParam(ctx, kBScale, b.shape(), QuantAxis::Columns, shape);
  const OutputParam scaleY = outputParam(ctx, kYScale, shape.matrixOutput, QuantAxis::Rows, shape);
  const OutputParam zeroPointY =
      outputParam(ctx, kYZeroPoint, shape.matrixOutput, QuantAxis::Rows, shape);
  Tensor &out = ctx.output(0);
  dispatchDType(out.dtype(), [&](auto tag) {
    using Q = typename decltype(tag)::type;
    if constexpr (std::is_same_v<Q, uint8_t> || std::is_same_v<Q, int8_t>) {
      Q *result = out.data<Q>();
      // The integer sum is exact; the real product it stands for is requantised to the output's
      // parameters.
      batchedMatMul<int64_t>(shape, centredA.data<int32_t>(), centredB.data<int32_t>(),
                             [&](int64_t index, int64_t sum) {
                               const double real =
                                   static_cast<double>(sum) * scaleA(index) * scaleB(index);
                               result[index] = quantizeValue<Q>(
                                   real, scaleY(index), static_cast<int32_t>(zeroPointY(index)));
                             });
    }
  });
}
} // namespace

extern const OpDef kQLinearMatMul{.name = "QLinearMatMul", .minInputs = 8, .maxInputs = 8,
                                  .infer = infer, .run = run, .macs = matMulMacs};

} // namespace edgesplit::ops
