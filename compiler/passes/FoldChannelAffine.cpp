#include "passes/ChannelAffine.h"
#include "passes/Passes.h"

namespace edgesplit {

namespace {

// The affine map `node` applies to `input` when it is an Add, Sub (input - constant) or Mul with a
// constant float32 operand that is one value or one per channel of `channels`.
std::optional<ChannelAffine> constantAffine(const Node &node, const Value *input,
                                            const Shape &shape, const OutputChannels &channels) {
  const bool add = node.opType == "Add", sub = node.opType == "Sub", mul = node.opType == "Mul";
  if (!(add || sub || mul) || !node.domain.empty() || node.inputs.size() != 2) return std::nullopt;
  if (sub && node.inputs[0] != input) return std::nullopt; // constant - x negates x
  const Value *other = node.inputs[0] == input ? node.inputs[1] : node.inputs[0];
  if (!other || other == input || !other->isConstant() || other->dtype != DType::Float32)
    return std::nullopt;
  auto values = perChannelValues(*other->constant, shape.size(), channels.axis, channels.count);
  if (!values) return std::nullopt;
  const auto count = static_cast<size_t>(channels.count);
  ChannelAffine affine{std::vector<double>(count, 1.0), std::vector<double>(count, 0.0)};
  if (mul) affine.scale = std::move(*values);
  else
    for (size_t c = 0; c < count; ++c) affine.shift[c] = sub ? -(*values)[c] : (*values)[c];
  return affine;
}

} // namespace

void foldChannelAffine(Graph &graph) {
  // Nodes are visited in execution order, so a chain (Conv, Mul, Add) folds link by link: once the
  // Mul is folded its user reads the Conv.
  llvm::SmallVector<Node *, 32> order;
  for (const auto &node : graph.nodes()) order.push_back(node.get());
  for (Node *node : order) {
    if (node->outputs.size() != 1 || !node->outputs[0] || !node->outputs[0]->shape) continue;
    for (Value *input : node->inputs) {
      Node *layer = input ? input->producer : nullptr;
      if (!layer || graph.isGraphOutput(input) || graph.users(input).size() != 1) continue;
      const auto channels = foldableOutputChannels(*layer);
      // The folded layer's output takes the node's place: it must have the same shape.
      if (!channels || *input->shape != *node->outputs[0]->shape) continue;
      const auto affine = constantAffine(*node, input, *input->shape, *channels);
      if (!affine) continue;
      // Scaled, an integer-deployable layer's whole-number weights would lose their exact int8
      // form; the requantisation that follows them folds in int8 instead (FoldRequantChains).
      const bool scales = llvm::any_of(affine->scale, [](double s) { return s != 1.0; });
      if (scales && hasWholeInt8Weights(*layer)) continue;
      foldChannelAffine(graph, *layer, *affine);
      graph.replaceAllUsesWith(node->outputs[0], input);
      graph.eraseNode(node);
      break;
    }
  }
  graph.removeUnusedValues();
}

} // namespace edgesplit
