#include "passes/InsertNode.h"
#include "passes/Passes.h"

#include "ops/DepthToSpace.h"

namespace edgesplit {

void expandDepthToSpace(Graph &graph) {
  llvm::SmallVector<Node *, 4> nodes;
  for (const auto &node : graph.nodes())
    if (node->opType == "DepthToSpace" && node->domain.empty() && node->outputs.size() == 1 &&
        node->outputs[0] && node->input(0) && node->input(0)->shape)
      nodes.push_back(node.get());
  for (Node *node : nodes) {
    Value *input = node->inputs[0];
    const ops::DepthToSpaceView view = ops::depthToSpaceView(NodeContext(*node), *input->shape);
    auto value = [&](const std::string &what, Shape shape) {
      Value *result = graph.createValue(graph.uniqueName(node->name + "_" + what), input->dtype);
      result->shape = std::move(shape);
      return result;
    };
    Value *sixD = value("6d", view.sixD);
    Shape transposedShape;
    for (int64_t axis : view.perm) transposedShape.push_back(view.sixD[static_cast<size_t>(axis)]);
    Value *transposed = value("transposed", transposedShape);
    Value *output = node->outputs[0];
    node->outputs[0] = nullptr;
    insertNodeBefore(graph, *node, node->name + "_to_6d", "Reshape", 5,
                     {input, shapeConstant(graph, node->name + "_shape_6d", view.sixD)}, sixD);
    AttributeMap perm;
    perm.set("perm", view.perm);
    insertNodeBefore(graph, *node, node->name + "_transpose", "Transpose", 1, {sixD}, transposed,
                     std::move(perm));
    insertNodeBefore(graph, *node, node->name + "_to_4d", "Reshape", 5,
                     {transposed, shapeConstant(graph, node->name + "_shape_4d", view.output)},
                     output);
    graph.eraseNode(node);
  }
}

} // namespace edgesplit
