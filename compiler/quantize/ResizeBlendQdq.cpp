#include "quantize/ResizeBlendQdq.h"

#include "ops/Resampling.h"
#include "quantize/IntegerBuilder.h"

#include <cmath>

namespace edgesplit {

namespace {

// The kernel's Q20 weights of one axis as doubles, [output, input] or transposed.
std::vector<double> weightMatrix(const ops::ResampledAxis &axis,
                                 const ops::ResamplingOptions &options, bool transposed) {
  const std::vector<int64_t> weights = ops::linearFixedWeightMatrix(axis, options);
  std::vector<double> matrix(weights.size());
  for (int64_t o = 0; o < axis.outputLength; ++o)
    for (int64_t i = 0; i < axis.inputLength; ++i)
      matrix[static_cast<size_t>(transposed ? i * axis.outputLength + o
                                            : o * axis.inputLength + i)] =
          static_cast<double>(weights[static_cast<size_t>(o * axis.inputLength + i)]);
  return matrix;
}

void spellOut(Graph &graph, Node &resize, const Node &dequantize, const ops::ResamplingPlan &plan) {
  const size_t rank = plan.axes.size();
  const ops::ResampledAxis &height = plan.axes[rank - 2], &width = plan.axes[rank - 1];
  IntegerBuilder b(graph, resize);
  const auto doubles = [&](std::string_view name, const ops::ResampledAxis &axis, bool transposed) {
    const Shape shape = transposed ? Shape{axis.inputLength, axis.outputLength}
                                   : Shape{axis.outputLength, axis.inputLength};
    return b.constant(
        name, Tensor::fromVector<double>(shape, weightMatrix(axis, plan.options, transposed)));
  };
  const auto step = [&](std::string_view opType, llvm::ArrayRef<Value *> inputs,
                        std::string_view name) {
    return b.emit(opType, inputs, name, {}, DType::Float64);
  };

  // Exact in double: |code| <= 128 and each output's two Q20 weights sum to 2^20, so the blend
  // along the columns stays within 2^27 and along the rows within 2^47 (below 2^53), both whole
  // numbers; times 2^-40 is exact too, and Round sends ties to even as the kernel does.
  Value *wide = b.cast(dequantize.input(0), DType::Float64, "codes_double");
  Value *across =
      step("MatMul", {wide, doubles("column_weights", width, /*transposed=*/true)}, "columns");
  Value *blended =
      step("MatMul", {doubles("row_weights", height, /*transposed=*/false), across}, "rows");
  Value *unit = b.constant("q40", Tensor::scalar<double>(std::ldexp(1.0, -40)));
  Value *rounded = step("Round", {step("Mul", {blended, unit}, "blend")}, "blend_rounded");
  // The weights sum to 2^40, so the result is within the codes' range: no Clip needed.
  Value *outputCodes = b.cast(rounded, DType::Int8, "codes");
  b.emitInto("DequantizeLinear", {outputCodes, dequantize.input(1), dequantize.input(2)},
             resize.outputs[0]);
  graph.eraseNode(&resize);
}

} // namespace

void spellOutLinearResizes(Graph &graph) {
  llvm::SmallVector<Node *, 4> resizes;
  for (const auto &node : graph.nodes())
    if (node->opType == "Resize" && node->domain.empty()) resizes.push_back(node.get());
  for (Node *resize : resizes) {
    const Node *dequantize = resize->input(0)->producer;
    if (resize->attributes.getString("mode").value_or("nearest") != "linear" || !dequantize ||
        dequantize->opType != "DequantizeLinear" || dequantize->input(0)->dtype != DType::Int8 ||
        !dequantize->input(0)->shape)
      continue;
    ops::ResamplingPlan plan;
    try {
      plan = ops::resizePlanOf(*resize);
    } catch (const NeedsRuntimeValue &) {
      // An operand computed at run time, which the lowering refuses too: no axes, refused below.
    }
    // What the lowering accepts (lowerResample), which the compile that writes the file checked.
    const size_t rank = plan.axes.size();
    if (rank < 2 || plan.options.transformation == ops::CoordinateTransformation::TfCropAndResize ||
        llvm::any_of(llvm::ArrayRef<ops::ResampledAxis>(plan.axes).drop_back(2),
                     [](const ops::ResampledAxis &axis) {
                       return axis.outputLength != axis.inputLength || axis.scale != 1.0;
                     }))
      fail("internal error: {}: {} has no int8 kernel to spell out", graph.sourcePath,
           resize->describe());
    spellOut(graph, *resize, *dequantize, plan);
  }
}

} // namespace edgesplit
