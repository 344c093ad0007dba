#include "memory/Liveness.h"

#include "memory/BufferSharing.h"
#include "support/Error.h"

#include <algorithm>

namespace edgesplit {
namespace {

void checkExecutionOrder(const Graph &graph, llvm::ArrayRef<const Node *> order) {
  llvm::DenseMap<const Node *, size_t> stepOf;
  for (size_t step = 0; step < order.size(); ++step)
    if (!stepOf.try_emplace(order[step], step).second)
      fail("internal error: execution order lists {} twice", order[step]->describe());
  for (const auto &node : graph.nodes())
    if (!stepOf.count(node.get()))
      fail("internal error: execution order misses {}", node->describe());
  if (stepOf.size() != graph.nodes().size())
    fail("internal error: execution order holds nodes that are not in graph '{}'", graph.name);
  for (size_t step = 0; step < order.size(); ++step)
    for (const Value *input : order[step]->inputs)
      if (input && input->producer && stepOf.lookup(input->producer) >= step)
        fail("internal error: execution order runs {} before {}, which computes its input '{}'",
             order[step]->describe(), input->producer->describe(), input->name);
}

// Builds the buffers step by step, deciding sharing as it goes: whether a node may overwrite an
// input depends on what earlier nodes already made share that input's bytes.
class LivenessBuilder {
public:
  LivenessBuilder(const Graph &graph, llvm::ArrayRef<const Node *> order,
                  const ValueBytesFn &valueBytes, int64_t alignment)
      : graph_(graph), order_(order), valueBytes_(valueBytes), alignment_(alignment),
        finalStep_(order.empty() ? 0 : static_cast<int>(order.size()) - 1) {}

  Liveness build(const ScratchBytesFn &scratchBytes) {
    recordLastUses();
    for (const Value *input : graph_.inputs)
      if (!input->isConstant()) addValue(*input, 0);
    for (size_t step = 0; step < order_.size(); ++step) {
      const Node &node = *order_[step];
      for (const Value *input : node.inputs) requireInArena(input, node);
      for (const Value *output : node.outputs)
        if (output) addValue(*output, static_cast<int>(step));
      shareFirstOutput(node, static_cast<int>(step));
    }
    if (scratchBytes) addScratch(scratchBytes);
    return std::move(liveness_);
  }

private:
  // What the buffers sharing one root buffer's bytes hold together, kept at the root's index.
  struct Group {
    int lastStep = 0;
    bool holdsGraphInput = false;
    bool holdsGraphOutput = false;
  };

  void recordLastUses() {
    for (size_t step = 0; step < order_.size(); ++step)
      for (const Value *input : order_[step]->inputs)
        if (input) lastUse_[input] = static_cast<int>(step);
    for (const GraphOutput &output : graph_.outputs) lastUse_[output.value] = finalStep_;
  }

  void addValue(const Value &value, int firstStep) {
    const int64_t bytes = valueBytes_(value);
    if (bytes < 0) fail("internal error: value '{}': negative arena size {}", value.name, bytes);
    const int lastStep = std::max(firstStep, lastUse_.lookup(&value));
    liveness_.bufferOfValue[&value] = liveness_.buffers.size();
    liveness_.buffers.push_back({value.name, bytes, firstStep, lastStep, std::nullopt, alignment_});
    groups_.push_back({lastStep, graph_.isGraphInput(&value), graph_.isGraphOutput(&value)});
  }

  void requireInArena(const Value *input, const Node &user) const {
    if (input && !input->isConstant() && !liveness_.bufferOfValue.count(input))
      fail("internal error: {} reads '{}', which is neither computed nor a graph input",
           user.describe(), input->name);
  }

  size_t rootOf(const Value *value) const {
    const Buffer &buffer = liveness_.buffers[liveness_.bufferOfValue.lookup(value)];
    return buffer.aliasOf.value_or(liveness_.bufferOfValue.lookup(value));
  }

  bool canOverwrite(size_t root, int step) const {
    const Group &group = groups_[root];
    return group.lastStep == step && !group.holdsGraphInput && !group.holdsGraphOutput;
  }

  void shareFirstOutput(const Node &node, int step) {
    const SharingRule *rule = sharingRuleFor(node);
    if (!rule || node.outputs.empty() || !node.outputs[0]) return;
    const size_t output = liveness_.bufferOfValue.lookup(node.outputs[0]);
    const size_t candidates = std::min<size_t>(rule->candidateInputs, node.inputs.size());
    for (size_t i = 0; i < candidates; ++i) {
      const Value *input = node.inputs[i];
      if (!input || input->isConstant()) continue;
      const size_t root = rootOf(input);
      if (liveness_.buffers[root].bytes != liveness_.buffers[output].bytes) continue;
      if (rule->sharing == Sharing::View || canOverwrite(root, step)) {
        join(output, root);
        return;
      }
    }
  }

  void join(size_t member, size_t root) {
    liveness_.buffers[member].aliasOf = root;
    Group &group = groups_[root];
    group.lastStep = std::max(group.lastStep, groups_[member].lastStep);
    group.holdsGraphOutput |= groups_[member].holdsGraphOutput;
  }

  void addScratch(const ScratchBytesFn &scratchBytes) {
    for (size_t step = 0; step < order_.size(); ++step) {
      const Node &node = *order_[step];
      const int64_t bytes = scratchBytes(node);
      if (bytes < 0) fail("internal error: {}: negative scratch size {}", node.describe(), bytes);
      if (bytes == 0) continue;
      liveness_.scratchOfNode[&node] = liveness_.buffers.size();
      const int at = static_cast<int>(step);
      liveness_.buffers.push_back(
          {node.name + " (scratch)", bytes, at, at, std::nullopt, alignment_});
    }
  }

  const Graph &graph_;
  llvm::ArrayRef<const Node *> order_;
  const ValueBytesFn &valueBytes_;
  int64_t alignment_;
  int finalStep_;
  llvm::DenseMap<const Value *, int> lastUse_;
  llvm::SmallVector<Group, 0> groups_; // parallel to the value buffers
  Liveness liveness_;
};

} // namespace

ValueBytesFn bytesPerElement(int64_t elementBytes) {
  return [elementBytes](const Value &value) {
    if (!value.shape)
      fail("internal error: value '{}' has no static shape, so no arena size", value.name);
    return numElements(*value.shape) * elementBytes;
  };
}

Liveness computeLiveness(const Graph &graph, llvm::ArrayRef<const Node *> order,
                         const ValueBytesFn &valueBytes, const ScratchBytesFn &scratchBytes,
                         int64_t alignment) {
  checkExecutionOrder(graph, order);
  return LivenessBuilder(graph, order, valueBytes, alignment).build(scratchBytes);
}

int64_t peakBytes(const Graph &graph, llvm::ArrayRef<const Node *> order,
                  const ValueBytesFn &valueBytes, const ScratchBytesFn &scratchBytes) {
  return lowerBoundBytes(computeLiveness(graph, order, valueBytes, scratchBytes).buffers);
}

} // namespace edgesplit
