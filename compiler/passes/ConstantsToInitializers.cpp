#include "ops/Constant.h"
#include "passes/Passes.h"

namespace edgesplit {

void constantsToInitializers(Graph &graph) {
  llvm::SmallVector<Node *, 8> constants;
  for (const auto &node : graph.nodes())
    if (node->opType == "Constant" && node->domain.empty()) constants.push_back(node.get());
  for (Node *node : constants) {
    Value *output = node->outputs.empty() ? nullptr : node->outputs[0];
    Tensor value = ops::constantNodeValue(*node);
    graph.eraseNode(node);
    if (!output) continue;
    output->dtype = value.dtype();
    output->shape = Shape(value.shape().begin(), value.shape().end());
    output->constant = std::make_shared<const Tensor>(std::move(value));
  }
}

} // namespace edgesplit
