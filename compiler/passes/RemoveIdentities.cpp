#include "passes/Passes.h"

#include <cstring>

namespace edgesplit {

namespace {
// Dropout is the identity unless training_mode is set (or not constant): then it is random and
// stays for the op to handle or reject.
bool isInferenceDropout(const Node &node) {
  const Value *trainingMode = node.input(2);
  if (!trainingMode) return true;
  if (!trainingMode->isConstant()) return false;
  return trainingMode->constant->numElements() == 1 &&
         trainingMode->constant->elementAsDouble(0) == 0.0;
}
} // namespace

void removeIdentities(Graph &graph) {
  llvm::SmallVector<Node *, 8> removable;
  for (const auto &node : graph.nodes()) {
    if (!node->domain.empty() || node->inputs.empty() || !node->inputs[0]) continue;
    if (node->opType == "Identity") removable.push_back(node.get());
    if (node->opType == "Dropout" && isInferenceDropout(*node)) {
      // The mask output, if anyone reads it, is all true: it needs a static shape to be made.
      const Value *mask = node->outputs.size() > 1 ? node->outputs[1] : nullptr;
      const bool maskUsed = mask && (graph.isGraphOutput(mask) || !graph.users(mask).empty());
      if (!maskUsed || node->inputs[0]->shape) removable.push_back(node.get());
    }
  }
  for (Node *node : removable) {
    Value *input = node->inputs[0];
    if (node->outputs.size() > 1 && node->outputs[1]) {
      Value *mask = node->outputs[1];
      // The mask is bool from opset 10; before that it has the input's type.
      const Tensor trueScalar = Tensor::scalar<bool>(true);
      const DType maskType = node->opset >= 10 ? DType::Bool : input->dtype;
      Tensor ones(maskType, *input->shape);
      const Tensor one = trueScalar.castTo(maskType);
      for (int64_t i = 0; i < ones.numElements(); ++i)
        std::memcpy(ones.rawData() + i * one.byteSize(), one.rawData(), one.byteSize());
      Value *constant = graph.createConstant(graph.uniqueName(mask->name + "_ones"), std::move(ones));
      graph.replaceAllUsesWith(mask, constant);
    }
    graph.replaceAllUsesWith(node->outputs[0], input);
    graph.eraseNode(node);
  }
  graph.removeUnusedValues();
}

} // namespace edgesplit
