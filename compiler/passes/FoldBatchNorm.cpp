#include "passes/ChannelAffine.h"
#include "passes/Passes.h"

#include <cmath>

namespace edgesplit {

namespace {

// scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
std::optional<ChannelAffine> constantBatchNorm(const Node &bn) {
  if (bn.inputs.size() != 5 || bn.outputs.size() != 1) return std::nullopt; // training outputs
  if (bn.attributes.getInt("training_mode").value_or(0) != 0) return std::nullopt;
  for (size_t i = 1; i < 5; ++i)
    if (!bn.inputs[i] || !bn.inputs[i]->isConstant()) return std::nullopt;
  const double epsilon = bn.attributes.getFloat("epsilon").value_or(1e-5f);
  auto gamma = bn.inputs[1]->constant->toDoubleVector();
  auto beta = bn.inputs[2]->constant->toDoubleVector();
  auto mean = bn.inputs[3]->constant->toDoubleVector();
  auto var = bn.inputs[4]->constant->toDoubleVector();
  ChannelAffine result;
  for (size_t c = 0; c < gamma.size(); ++c) {
    result.scale.push_back(gamma[c] / std::sqrt(var[c] + epsilon));
    result.shift.push_back(beta[c] - mean[c] * result.scale.back());
  }
  return result;
}

} // namespace

void foldBatchNorm(Graph &graph) {
  llvm::SmallVector<Node *, 8> folded;
  for (const auto &node : graph.nodes()) {
    if (node->opType != "BatchNormalization" || !node->domain.empty()) continue;
    Value *input = node->input(0);
    Node *producer = input ? input->producer : nullptr;
    if (!producer || graph.isGraphOutput(input) || graph.users(input).size() != 1) continue;
    // BatchNormalization normalises axis 1: the layer's channels must be there.
    const auto channels = foldableOutputChannels(*producer);
    if (!channels || channels->axis != 1) continue;
    auto bn = constantBatchNorm(*node);
    if (!bn || static_cast<int64_t>(bn->scale.size()) != channels->count) continue;
    foldChannelAffine(graph, *producer, *bn);
    graph.replaceAllUsesWith(node->outputs[0], input);
    folded.push_back(node.get());
  }
  for (Node *node : folded) graph.eraseNode(node);
  graph.removeUnusedValues();
}

} // namespace edgesplit
