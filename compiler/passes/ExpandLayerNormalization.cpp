#include "passes/InsertNode.h"
#include "passes/Passes.h"

#include <numeric>

namespace edgesplit {

namespace {
// LayerNormalization's primitives, as PyTorch writes LayerNorm before opset 17.
void expand(Graph &graph, Node &node) {
  Value *x = node.inputs[0];
  const Shape &shape = *x->shape;
  const int64_t rank = static_cast<int64_t>(shape.size());
  const int64_t axis = NodeContext(node).normalizeAxis(node.attributes.getInt("axis").value_or(-1),
                                                       rank);
  std::vector<int64_t> axes(static_cast<size_t>(rank - axis));
  std::iota(axes.begin(), axes.end(), axis);
  Shape statistics = shape;
  for (size_t d = static_cast<size_t>(axis); d < statistics.size(); ++d) statistics[d] = 1;
  auto value = [&](const std::string &what, const Shape &valueShape) {
    Value *result = graph.createValue(graph.uniqueName(node.name + "_" + what), x->dtype);
    result->shape = valueShape;
    return result;
  };
  auto mean = [&](Value *input, const std::string &what) {
    Value *result = value(what, statistics);
    AttributeMap attributes;
    attributes.set("keepdims", int64_t{1});
    // ReduceMean takes its axes as an attribute before opset 18, as an input from it.
    if (node.opset < 18) {
      attributes.set("axes", axes);
      insertNodeBefore(graph, node, node.name + "_" + what, "ReduceMean", 1, {input}, result,
                       std::move(attributes));
    } else {
      insertNodeBefore(graph, node, node.name + "_" + what, "ReduceMean", 18,
                       {input, shapeConstant(graph, node.name + "_axes", axes)}, result,
                       std::move(attributes));
    }
    return result;
  };
  auto binary = [&](const std::string &op, Value *a, Value *b, const std::string &what,
                    const Shape &resultShape, Value *into = nullptr) {
    Value *result = into ? into : value(what, resultShape);
    insertNodeBefore(graph, node, node.name + "_" + what, op, 7, {a, b}, result);
    return result;
  };
  const float epsilon = node.attributes.getFloat("epsilon").value_or(1e-5f);
  Value *y = node.outputs[0];
  Value *average = mean(x, "mean");
  Value *centred = binary("Sub", x, average, "centred", shape);
  Value *variance = mean(binary("Mul", centred, centred, "squares", shape), "variance");
  Value *shifted = binary("Add", variance,
                          graph.createConstant(graph.uniqueName(node.name + "_epsilon"),
                                               Tensor::scalar<float>(epsilon)),
                          "variance_epsilon", statistics);
  Value *deviation = value("deviation", statistics);
  insertNodeBefore(graph, node, node.name + "_deviation", "Sqrt", 6, {shifted}, deviation);
  Value *normalised = binary("Div", centred, deviation, "normalised", shape);
  Value *bias = node.input(2);
  Value *scaled = binary("Mul", normalised, node.inputs[1], "scaled", shape, bias ? nullptr : y);
  if (bias) binary("Add", scaled, bias, "shifted", shape, y);
  node.outputs[0] = nullptr;
  graph.eraseNode(&node);
}
} // namespace

void expandLayerNormalization(Graph &graph) {
  llvm::SmallVector<Node *, 4> nodes;
  for (const auto &node : graph.nodes()) {
    const bool statisticsUsed = llvm::any_of(
        llvm::drop_begin(node->outputs), [&](const Value *v) {
          return v && (!graph.users(v).empty() || graph.isGraphOutput(v));
        });
    if (node->opType == "LayerNormalization" && node->domain.empty() && node->outputs[0] &&
        !statisticsUsed && node->input(0) && node->input(0)->shape &&
        node->input(0)->dtype == DType::Float32 && node->input(1))
      nodes.push_back(node.get());
  }
  for (Node *node : nodes) expand(graph, *node);
}

} // namespace edgesplit
