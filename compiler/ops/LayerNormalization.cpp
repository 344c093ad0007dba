#include "ops/OpKit.h"

namespace edgesplit::ops {
namespace {
// y = (x - mean) / sqrt(var + epsilon) * scale + bias over the dimensions from `axis` on (PyTorch's
// LayerNorm from opset 17). Code generation sees it as the primitives that define it
// (passes/ExpandLayerNormalization.cpp).
int64_t normalizedAxis(const NodeContext &ctx, int64_t rank) {
  return ctx.normalizeAxis(ctx.attrInt("axis", -1), rank);
}

void infer(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (!isFloatingPoint(type)) ctx.fail("X must be a floating-point tensor, got {}", dtypeName(type));
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(0);
  const int64_t axis = normalizedAxis(ctx, static_cast<int64_t>(shape.size()));
  const llvm::ArrayRef<int64_t> normalized = shape.drop_front(static_cast<size_t>(axis));
  for (size_t i = 1; i < 3; ++i) {
    if (!ctx.hasInput(i)) continue;
    if (ctx.inputType(i) != type)
      ctx.fail("input {} is {}, X is {}", i, dtypeName(ctx.inputType(i)), dtypeName(type));
    if (llvm::ArrayRef<int64_t>(broadcastShapes(ctx, {normalized, ctx.inputShape(i)})) != normalized)
      ctx.fail("input {} of shape {} does not broadcast to the normalised shape {}", i,
               formatShape(ctx.inputShape(i)), formatShape(normalized));
  }
  ctx.setOutput(0, type, shape);
  Shape statistics(shape.begin(), shape.end());
  for (size_t d = static_cast<size_t>(axis); d < statistics.size(); ++d) statistics[d] = 1;
  ctx.setOutput(1, DType::Float32, statistics);
  ctx.setOutput(2, DType::Float32, statistics);
}

void run(KernelContext &ctx) {
  const Tensor x = ctx.input(0).castTo(DType::Float64);
  const int64_t axis = normalizedAxis(ctx, x.rank());
  const llvm::ArrayRef<int64_t> normalized = x.shape().drop_front(static_cast<size_t>(axis));
  const int64_t inner = numElements(normalized), outer = x.numElements() / std::max<int64_t>(inner, 1);
  const double epsilon = ctx.attrFloat("epsilon", 1e-5f);
  auto operand = [&](size_t i, double fallback) {
    Tensor full(DType::Float64, normalized);
    double *values = full.data<double>();
    if (!ctx.hasInput(i)) {
      std::fill(values, values + inner, fallback);
      return full;
    }
    const Tensor given = ctx.input(i).castTo(DType::Float64);
    const BroadcastIndexer at(given.shape(), normalized);
    for (int64_t k = 0; k < inner; ++k) values[k] = given.data<double>()[at(k)];
    return full;
  };
  const Tensor scale = operand(1, 1.0), bias = operand(2, 0.0);
  Tensor y(DType::Float64, x.shape()), mean(DType::Float64, {outer}), inverse(DType::Float64, {outer});
  const double *in = x.data<double>();
  for (int64_t row = 0; row < outer; ++row) {
    const double *line = in + row * inner;
    double sum = 0.0, squares = 0.0;
    for (int64_t k = 0; k < inner; ++k) sum += line[k];
    const double mu = sum / static_cast<double>(inner);
    for (int64_t k = 0; k < inner; ++k) squares += (line[k] - mu) * (line[k] - mu);
    const double invStd = 1.0 / std::sqrt(squares / static_cast<double>(inner) + epsilon);
    for (int64_t k = 0; k < inner; ++k)
      y.data<double>()[row * inner + k] =
          (line[k] - mu) * invStd * scale.data<double>()[k] + bias.data<double>()[k];
    mean.data<double>()[row] = mu;
    inverse.data<double>()[row] = invStd;
  }
  ctx.output(0) = y.castTo(ctx.output(0).dtype());
  for (size_t i = 1; i < 3; ++i) {
    if (!ctx.hasOutput(i)) continue;
    Tensor &statistic = ctx.output(i);
    const Tensor &source = i == 1 ? mean : inverse;
    statistic = source.castTo(DType::Float32).reshaped(statistic.shape());
  }
}
} // namespace

extern const OpDef kLayerNormalization{.name = "LayerNormalization", .minInputs = 2, .maxInputs = 3,
                                       .maxOutputs = 3, .infer = infer, .run = run};

} // namespace edgesplit::ops
