#include "passes/InsertNode.h"
#include "passes/Passes.h"

#include "ops/Binary.h"

#include <string>

namespace edgesplit {

void sumMeanToAdds(Graph &graph) {
  llvm::SmallVector<Node *, 4> nodes;
  for (const auto &node : graph.nodes())
    if ((node->opType == "Sum" || node->opType == "Mean") && node->domain.empty() &&
        node->outputs.size() == 1 && node->outputs[0] && !node->inputs.empty() &&
        llvm::all_of(node->inputs, [](const Value *input) { return input != nullptr; }))
      nodes.push_back(node.get());
  for (Node *node : nodes) {
    Value *output = node->outputs[0];
    const llvm::SmallVector<Value *, 4> inputs(node->inputs.begin(), node->inputs.end());
    if (inputs.size() == 1) {
      graph.replaceAllUsesWith(output, inputs[0]);
      graph.eraseNode(node);
      continue;
    }
    const bool mean = node->opType == "Mean";
    node->outputs[0] = nullptr;
    // Opset 7 is the first whose Add broadcasts as numpy does, as Sum and Mean always have.
    Value *sum = inputs[0];
    for (size_t k = 1; k < inputs.size(); ++k) {
      const bool last = k + 1 == inputs.size();
      Value *partial =
          last && !mean
              ? output
              : graph.createValue(graph.uniqueName(fmt::format("{}_sum{}", output->name, k)),
                                  output->dtype);
      Node *add = insertNodeBefore(graph, *node, fmt::format("{}_add{}", node->name, k), "Add", 7,
                                   {sum, inputs[k]}, partial);
      inferNodeShapes(*add);
      sum = partial;
    }
    if (mean) {
      // Times 1/n in the output's type, as onnxruntime's Mean computes it, so that float32
      // agrees bit for bit; in int8 a Mul by a positive constant keeps the sum's codes, its scale
      // multiplied (docs/int8.md).
      Value *reciprocal = graph.createConstant(graph.uniqueName(output->name + "_reciprocal"),
                                               ops::meanFactor(inputs.size(), output->dtype));
      Node *mul = insertNodeBefore(graph, *node, node->name + "_scale", "Mul", 7, {sum, reciprocal},
                                   output);
      inferNodeShapes(*mul);
    }
    graph.eraseNode(node);
  }
  graph.removeUnusedValues();
}

} // namespace edgesplit
