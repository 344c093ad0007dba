#include "codegen/FuseActivations.h"

#include "ops/Constant.h"

namespace edgesplit {

std::optional<ActivationClamp> activationClampOf(const Node &node) {
  if (!node.domain.empty()) return std::nullopt;
  if (node.opType == "Relu") return ActivationClamp{0.0f, INFINITY};
  if (node.opType != "Clip") return std::nullopt;
  ActivationClamp clamp;
  if (node.opset < 11) {
    clamp.lo = node.attributes.getFloat("min").value_or(-INFINITY);
    clamp.hi = node.attributes.getFloat("max").value_or(INFINITY);
    return clamp;
  }
  for (size_t index : {1, 2}) {
    const Value *bound = node.input(index);
    if (!bound) continue;
    if (!bound->isConstant() || bound->constant->numElements() != 1) return std::nullopt;
    const float value = static_cast<float>(bound->constant->elementAsDouble(0));
    (index == 1 ? clamp.lo : clamp.hi) = value;
  }
  return clamp;
}

static bool sameQuant(const Value &a, const Value &b) {
  if (a.quant.has_value() != b.quant.has_value()) return false;
  if (!a.quant) return true;
  return a.quant->scales == b.quant->scales && a.quant->zeroPoints == b.quant->zeroPoints;
}

const Node *fusableActivation(const Graph &graph, const Node &producer) {
  if (!producer.op || !producer.op->fusesActivation || producer.outputs.size() != 1 ||
      !producer.outputs[0])
    return nullptr;
  const Value *output = producer.outputs[0];
  if (graph.isGraphOutput(output)) return nullptr;
  const auto users = graph.users(output);
  if (users.size() != 1 || users[0]->input(0) != output) return nullptr;
  const Node *activation = users[0];
  if (!activationClampOf(*activation)) return nullptr;
  return activation;
}

llvm::DenseMap<const Node *, ActivationClamp> fuseActivations(Graph &graph) {
  llvm::DenseMap<const Node *, ActivationClamp> fused;
  std::vector<std::pair<Node *, Node *>> pairs;
  for (const auto &node : graph.nodes()) {
    const Node *activation = fusableActivation(graph, *node);
    if (!activation || !sameQuant(*node->outputs[0], *activation->outputs[0])) continue;
    pairs.emplace_back(node.get(), const_cast<Node *>(activation));
  }
  for (auto [producer, activation] : pairs) {
    ActivationClamp clamp = *activationClampOf(*activation);
    // Chains (Conv -> Relu -> Clip) are not fused twice: the second sees a non-fusing producer.
    Value *result = activation->outputs[0];
    activation->outputs[0] = nullptr;
    result->producer = producer;
    producer->outputs[0] = result;
    graph.eraseNode(activation);
    fused[producer] = clamp;
  }
  graph.removeUnusedValues();
  return fused;
}

} // namespace edgesplit
