#include "ops/LayerNormalization.h"
#include "ops/Layout.h"
#include "ops/OpKit.h"

#include "codegen/LowerContext.h"
#include "quantize/Annotate.h"

#include <cmath>

namespace edgesplit::ops {
namespace {
// y = (x - mean) / sqrt(var + epsilon) * scale[c] + B[c], the mean and the biased variance over
// the spatial plane of each (n, c) of X [N, C, D...]: PyTorch's InstanceNorm2d, and GroupNorm
// between Reshapes. It is LayerNormalization of the rows [N * C, D1 * ... * Dn] with one Scale
// and B per row's channel, and is lowered to that op's kernels.

// The rows' shape: N * C rows of the plane's elements.
std::pair<int64_t, int64_t> rowsAndLength(llvm::ArrayRef<int64_t> shape) {
  return {shape[0] * shape[1], numElements(shape.drop_front(2))};
}

void infer(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (!isFloatingPoint(type))
    ctx.fail("input must be a floating-point tensor, got {}", dtypeName(type));
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(0);
  if (shape.size() < 3)
    ctx.fail("input of shape {} must be [N, C, D1, ...] with at least one spatial axis",
             formatShape(shape));
  for (size_t i : {1, 2}) {
    if (ctx.inputType(i) != type)
      ctx.fail("input {} is {}, the input is {}", i, dtypeName(ctx.inputType(i)), dtypeName(type));
    if (ctx.inputShape(i) != llvm::ArrayRef<int64_t>{shape[1]})
      ctx.fail("input {} of shape {} must hold one value per channel, [{}]", i,
               formatShape(ctx.inputShape(i)), shape[1]);
  }
  ctx.setOutput(0, type, shape);
}

void run(KernelContext &ctx) {
  const Tensor x = ctx.input(0).castTo(DType::Float64);
  const Tensor scale = ctx.input(1).castTo(DType::Float64),
               bias = ctx.input(2).castTo(DType::Float64);
  const auto [rows, length] = rowsAndLength(x.shape());
  const int64_t channels = x.shape()[1];
  const double epsilon = ctx.attrFloat("epsilon", 1e-5f);
  Tensor y(DType::Float64, x.shape());
  for (int64_t row = 0; row < rows; ++row) {
    const double *line = x.data<double>() + row * length;
    double *out = y.data<double>() + row * length;
    double sum = 0.0, squares = 0.0;
    for (int64_t k = 0; k < length; ++k) sum += line[k];
    const double mean = sum / static_cast<double>(length);
    for (int64_t k = 0; k < length; ++k) squares += (line[k] - mean) * (line[k] - mean);
    const double inverse = 1.0 / std::sqrt(squares / static_cast<double>(length) + epsilon);
    const double gamma = scale.data<double>()[row % channels],
                 beta = bias.data<double>()[row % channels];
    for (int64_t k = 0; k < length; ++k) out[k] = (line[k] - mean) * inverse * gamma + beta;
  }
  ctx.output(0) = y.castTo(ctx.output(0).dtype());
}

// docs/int8.md "InstanceNormalization": the output from its calibrated range; scale and B stay
// float and fold into the kernel's per-channel factors and offsets, as LayerNormalization's do.
void quantize(QuantizeContext &ctx) { ctx.annotateOutputFromRange(0); }

void lower(LowerContext &ctx) {
  for (size_t i : {1, 2})
    if (!ctx.inputIsConstant(i))
      ctx.fail("code generation needs InstanceNormalization's scale and B to be constants; '{}' "
               "is computed at run time",
               ctx.inputValue(i).name);
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(0);
  const auto [rowCount, rowLength] = rowsAndLength(shape);
  const int32_t rows = kernelInt(ctx, rowCount, "size");
  const int32_t length = kernelInt(ctx, rowLength, "normalised length");
  const int32_t channels = kernelInt(ctx, shape[1], "channel count");
  const double epsilon = ctx.attrFloat("epsilon", 1e-5f);
  const std::vector<float> gamma = ctx.floatConstant(1), beta = ctx.floatConstant(2);
  lowerNormalizedRows(ctx, {.rows = rows,
                            .length = length,
                            .channels = channels,
                            .epsilon = epsilon,
                            .gamma = std::vector<double>(gamma.begin(), gamma.end()),
                            .beta = std::vector<double>(beta.begin(), beta.end()),
                            .rowNoun = "planes"});
}
} // namespace

extern const OpDef kInstanceNormalization{.name = "InstanceNormalization",
                                          .minInputs = 3,
                                          .maxInputs = 3,
                                          .infer = infer,
                                          .run = run,
                                          .quantize = quantize,
                                          .lower = lower};

} // namespace edgesplit::ops
