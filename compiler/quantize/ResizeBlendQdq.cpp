#include "quantize/ResizeBlendQdq.h"

#include "ops/Resampling.h"
#include "passes/InsertNode.h"

#include <llvm/ADT/StringSet.h>

#include <cmath>

namespace edgesplit {

namespace {

Value *doubleConstant(Graph &graph, const std::string &base, llvm::ArrayRef<int64_t> shape,
                      llvm::ArrayRef<double> values) {
  return graph.createConstant(graph.uniqueName(base), Tensor::fromVector<double>(shape, values));
}

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
  Value *codes = dequantize.input(0);
  Value *output = resize.outputs[0];
  const Shape &inputShape = *codes->shape;
  Shape acrossShape(inputShape.begin(), inputShape.end());
  acrossShape[rank - 1] = width.outputLength;
  const Shape outputShape = ops::resampledShape(plan.axes);

  auto value = [&](const char *suffix, DType dtype, const Shape &shape) {
    Value *created = graph.createValue(graph.uniqueName(output->name + suffix), dtype);
    created->shape = shape;
    return created;
  };
  // onnxruntime refuses two nodes of one name (insertQdq names its own after the values).
  llvm::StringSet<> nodeNames;
  for (const auto &node : graph.nodes()) nodeNames.insert(node->name);
  auto insert = [&](const char *opType, const char *suffix, llvm::ArrayRef<Value *> inputs,
                    Value *result, AttributeMap attributes = {}) {
    const std::string base = output->name + "_int8_blend" + suffix;
    std::string name = base;
    for (int i = 1; nodeNames.contains(name); ++i) name = base + "_" + std::to_string(i);
    nodeNames.insert(name);
    insertNodeBefore(graph, resize, name, opType, 0, inputs, result, std::move(attributes));
  };
  auto castTo = [](DType type) {
    AttributeMap attributes;
    attributes.set("to", static_cast<int64_t>(type));
    return attributes;
  };

  // Exact in double: |code| <= 128 and each output's two Q20 weights sum to 2^20, so the blend
  // along the columns stays within 2^27 and along the rows within 2^47 (below 2^53), both whole
  // numbers; times 2^-40 is exact too, and Round sends ties to even as the kernel does.
  Value *wide = value("_codes_double", DType::Float64, inputShape);
  insert("Cast", "_cast_to_double", {codes}, wide, castTo(DType::Float64));
  Value *columns = doubleConstant(graph, output->name + "_column_weights",
                                  {width.inputLength, width.outputLength},
                                  weightMatrix(width, plan.options, /*transposed=*/true));
  Value *across = value("_blend_columns", DType::Float64, acrossShape);
  insert("MatMul", "_columns", {wide, columns}, across);
  Value *rows = doubleConstant(graph, output->name + "_row_weights",
                               {height.outputLength, height.inputLength},
                               weightMatrix(height, plan.options, /*transposed=*/false));
  Value *blended = value("_blend_rows", DType::Float64, outputShape);
  insert("MatMul", "_rows", {rows, across}, blended);
  Value *unit = doubleConstant(graph, output->name + "_q40", {}, {std::ldexp(1.0, -40)});
  Value *scaled = value("_blend", DType::Float64, outputShape);
  insert("Mul", "_scale", {blended, unit}, scaled);
  Value *rounded = value("_blend_rounded", DType::Float64, outputShape);
  insert("Round", "_round", {scaled}, rounded);
  // The weights sum to 2^40, so the result is within the codes' range: no Clip needed.
  Value *outputCodes = value("_codes", DType::Int8, outputShape);
  insert("Cast", "_cast_to_int8", {rounded}, outputCodes, castTo(DType::Int8));
  insert("DequantizeLinear", "_dequantize", {outputCodes, dequantize.input(1), dequantize.input(2)},
         output);
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
