#include "memory/ExecutionOrder.h"

#include "memory/BufferSharing.h"

#include <llvm/ADT/BitVector.h>
#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/STLExtras.h>

#include <algorithm>
#include <limits>
#include <numeric>

namespace edgesplit {
namespace {

// The arena cost of executing nodes in some order, under the rules of computeLiveness, kept up to
// date as nodes are executed and undone so that one step of the search costs only that node's
// inputs and outputs. Nodes are numbered in graph order. A storage is a span of bytes with its
// own lifetime: a graph input, or a node output that is not a view of another storage.
class OrderModel {
public:
  OrderModel(const Graph &graph, const ValueBytesFn &valueBytes,
             const ScratchBytesFn &scratchBytes) {
    numberNodes(graph);
    createStorages(graph, valueBytes);
    recordReads(graph);
    for (const GraphOutput &output : graph.outputs)
      if (auto it = storageOf_.find(output.value); it != storageOf_.end())
        storages_[it->second].keptToEnd = true;
    for (size_t i = 0; i < graph.nodes().size(); ++i)
      nodes_[i].scratch = scratchBytes ? scratchBytes(*graph.nodes()[i]) : 0;
    initialiseState();
  }

  uint32_t nodeCount() const { return static_cast<uint32_t>(nodes_.size()); }
  bool finished() const { return executedCount_ == nodes_.size(); }
  bool isReady(uint32_t node) const { return !executed_[node] && pendingProducers_[node] == 0; }
  const llvm::BitVector &executed() const { return executed_; }
  int64_t liveBytes() const { return liveBytes_; }

  // Live bytes while `node` runs next.
  int64_t stepPeak(uint32_t node) const {
    int64_t peak = liveBytes_ + ownBytes(node);
    // computeLiveness keeps an unused graph input for step 0.
    if (executedCount_ == 0) peak += unusedInputBytes_;
    if (overwritesAnInput(node)) peak -= storages_[*nodes_[node].inPlaceOutput].bytes;
    return peak;
  }

  void execute(uint32_t node) {
    const NodeCosts &costs = nodes_[node];
    for (uint32_t storage : costs.creates)
      if (outlivesCreator(storage)) liveBytes_ += storages_[storage].bytes;
    for (uint32_t storage : costs.reads)
      if (--pendingReaders_[storage] == 0 && !storages_[storage].keptToEnd)
        liveBytes_ -= storages_[storage].bytes;
    for (uint32_t user : costs.users) --pendingProducers_[user];
    executed_.set(node);
    ++executedCount_;
  }

  void undo(uint32_t node) {
    const NodeCosts &costs = nodes_[node];
    for (uint32_t user : costs.users) ++pendingProducers_[user];
    for (uint32_t storage : costs.reads)
      if (pendingReaders_[storage]++ == 0 && !storages_[storage].keptToEnd)
        liveBytes_ += storages_[storage].bytes;
    for (uint32_t storage : costs.creates)
      if (outlivesCreator(storage)) liveBytes_ -= storages_[storage].bytes;
    executed_.reset(node);
    --executedCount_;
  }

private:
  struct Storage {
    int64_t bytes = 0;
    uint32_t readers = 0; // nodes reading it directly or through views
    bool graphInput = false;
    bool keptToEnd = false; // it, or a view of it, is a graph output
  };
  struct NodeCosts {
    llvm::SmallVector<uint32_t, 4> reads;   // distinct storages of its inputs
    llvm::SmallVector<uint32_t, 2> creates; // storages of its outputs that are not views
    // Under Sharing::InPlace: the first output's storage and those of the inputs it may overwrite.
    std::optional<uint32_t> inPlaceOutput;
    llvm::SmallVector<uint32_t, 2> overwritable;
    int64_t scratch = 0;
    llvm::SmallVector<uint32_t, 4> producers; // distinct nodes computing its inputs
    llvm::SmallVector<uint32_t, 4> users;     // distinct nodes reading its outputs
  };

  // Bytes of the storages the node creates (views create none) plus its scratch.
  int64_t ownBytes(uint32_t node) const {
    int64_t bytes = nodes_[node].scratch;
    for (uint32_t storage : nodes_[node].creates) bytes += storages_[storage].bytes;
    return bytes;
  }

  void numberNodes(const Graph &graph) {
    nodes_.resize(graph.nodes().size());
    for (size_t i = 0; i < graph.nodes().size(); ++i) nodeIndex_[graph.nodes()[i].get()] = i;
  }

  uint32_t newStorage(const Value &value, const ValueBytesFn &valueBytes) {
    storages_.push_back({valueBytes(value), 0, false, false});
    storageOf_[&value] = storages_.size() - 1;
    return storages_.size() - 1;
  }

  std::optional<uint32_t> storageOfInput(const Node &node, size_t index) const {
    const Value *input = node.input(index);
    if (!input || input->isConstant()) return std::nullopt;
    return storageOf_.lookup(input);
  }

  void createStorages(const Graph &graph, const ValueBytesFn &valueBytes) {
    for (const Value *input : graph.inputs)
      if (!input->isConstant()) storages_[newStorage(*input, valueBytes)].graphInput = true;
    for (size_t i = 0; i < graph.nodes().size(); ++i) {
      const Node &node = *graph.nodes()[i];
      for (size_t o = 0; o < node.outputs.size(); ++o) {
        if (!node.outputs[o] || (o == 0 && becomesView(node, valueBytes))) continue;
        nodes_[i].creates.push_back(newStorage(*node.outputs[o], valueBytes));
      }
      recordOverwritable(node, nodes_[i]);
    }
  }

  // A view takes its input's storage (recording it), as computeLiveness makes it alias the
  // input's buffer.
  bool becomesView(const Node &node, const ValueBytesFn &valueBytes) {
    const SharingRule *rule = sharingRuleFor(node);
    if (!rule || rule->sharing != Sharing::View) return false;
    std::optional<uint32_t> input = storageOfInput(node, 0);
    if (!input || storages_[*input].bytes != valueBytes(*node.outputs[0])) return false;
    storageOf_[node.outputs[0]] = *input;
    return true;
  }

  void recordOverwritable(const Node &node, NodeCosts &costs) const {
    const SharingRule *rule = sharingRuleFor(node);
    if (!rule || rule->sharing != Sharing::InPlace || node.outputs.empty() || !node.outputs[0])
      return;
    costs.inPlaceOutput = storageOf_.lookup(node.outputs[0]);
    for (int i = 0; i < rule->candidateInputs; ++i)
      if (std::optional<uint32_t> input = storageOfInput(node, i))
        costs.overwritable.push_back(*input);
  }

  void recordReads(const Graph &graph) {
    for (size_t i = 0; i < graph.nodes().size(); ++i) {
      const Node &node = *graph.nodes()[i];
      NodeCosts &costs = nodes_[i];
      for (size_t k = 0; k < node.inputs.size(); ++k) {
        std::optional<uint32_t> storage = storageOfInput(node, k);
        if (storage && !llvm::is_contained(costs.reads, *storage)) {
          costs.reads.push_back(*storage);
          ++storages_[*storage].readers;
        }
        const Value *input = node.inputs[k];
        if (!input || !input->producer) continue;
        const uint32_t producer = nodeIndex_.lookup(input->producer);
        if (!llvm::is_contained(costs.producers, producer)) {
          costs.producers.push_back(producer);
          nodes_[producer].users.push_back(i);
        }
      }
    }
  }

  void initialiseState() {
    pendingReaders_.resize(storages_.size());
    for (size_t s = 0; s < storages_.size(); ++s) {
      pendingReaders_[s] = storages_[s].readers;
      if (!storages_[s].graphInput) continue;
      if (outlivesCreator(s))
        liveBytes_ += storages_[s].bytes;
      else
        unusedInputBytes_ += storages_[s].bytes;
    }
    pendingProducers_.resize(nodes_.size());
    for (size_t n = 0; n < nodes_.size(); ++n) pendingProducers_[n] = nodes_[n].producers.size();
    executed_.resize(nodes_.size());
  }

  bool outlivesCreator(uint32_t storage) const {
    return storages_[storage].readers > 0 || storages_[storage].keptToEnd;
  }

  // The same test as computeLiveness: an input storage of the output's size that this node reads
  // last and that is neither a graph input nor kept for the caller.
  bool overwritesAnInput(uint32_t node) const {
    const NodeCosts &costs = nodes_[node];
    if (!costs.inPlaceOutput) return false;
    const int64_t bytes = storages_[*costs.inPlaceOutput].bytes;
    return llvm::any_of(costs.overwritable, [&](uint32_t input) {
      const Storage &storage = storages_[input];
      return storage.bytes == bytes && !storage.graphInput && !storage.keptToEnd &&
             pendingReaders_[input] == 1;
    });
  }

  llvm::DenseMap<const Node *, uint32_t> nodeIndex_;
  llvm::DenseMap<const Value *, uint32_t> storageOf_;
  llvm::SmallVector<Storage, 0> storages_;
  llvm::SmallVector<NodeCosts, 0> nodes_;
  int64_t unusedInputBytes_ = 0;
  // Search state.
  llvm::SmallVector<uint32_t, 0> pendingReaders_;   // per storage: readers not executed yet
  llvm::SmallVector<uint32_t, 0> pendingProducers_; // per node: producers not executed yet
  llvm::BitVector executed_;
  size_t executedCount_ = 0;
  int64_t liveBytes_ = 0; // storages alive after the executed nodes
};

using NodeOrder = std::vector<uint32_t>;

// Memoised minimum, over the completions of the executed set, of their peak.
class ExactSearch {
public:
  ExactSearch(OrderModel &model, size_t stateLimit) : model_(model), stateLimit_(stateLimit) {}

  // The order with the least peak and that peak, or nullopt past the state limit.
  std::optional<std::pair<NodeOrder, int64_t>> run() {
    std::optional<int64_t> peak = bestCompletion();
    if (!peak) return std::nullopt;
    NodeOrder order;
    while (!model_.finished()) {
      order.push_back(memo_.find(model_.executed())->second.next);
      model_.execute(order.back());
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it) model_.undo(*it);
    return std::pair(std::move(order), *peak);
  }

private:
  struct Choice {
    int64_t peak;
    uint32_t next;
  };

  std::optional<int64_t> bestCompletion() {
    if (model_.finished()) return 0;
    if (auto it = memo_.find(model_.executed()); it != memo_.end()) return it->second.peak;
    if (memo_.size() >= stateLimit_) return std::nullopt;
    Choice best{std::numeric_limits<int64_t>::max(), 0};
    // Lower node numbers first and only strict improvements: ties keep the graph's own order.
    for (uint32_t node = 0; node < model_.nodeCount(); ++node) {
      if (!model_.isReady(node)) continue;
      const int64_t step = model_.stepPeak(node);
      if (step >= best.peak) continue; // this branch cannot beat the best one
      model_.execute(node);
      std::optional<int64_t> rest = bestCompletion();
      model_.undo(node);
      if (!rest) return std::nullopt;
      if (std::max(step, *rest) < best.peak) best = {std::max(step, *rest), node};
    }
    memo_[model_.executed()] = best;
    return best.peak;
  }

  OrderModel &model_;
  size_t stateLimit_;
  llvm::DenseMap<llvm::BitVector, Choice> memo_;
};

// Breadth-first over the sets of executed nodes, like the exact search, but keeping at each depth
// only the `width` sets with the lowest (peak so far, bytes alive); among equals the first found,
// which favours the graph's own order. Width 1 is a greedy list scheduler.
class BeamSearch {
public:
  BeamSearch(OrderModel &model, size_t width) : model_(model), width_(width) {}

  NodeOrder run() {
    layers_.assign(1, {Partial{0, 0, 0, 0}}); // the empty set
    for (uint32_t depth = 0; depth < model_.nodeCount(); ++depth) layers_.push_back(extendLast());
    return pathTo(model_.nodeCount(), 0);
  }

private:
  // A set reached by executing `node` after entry `parent` of the previous layer.
  struct Partial {
    uint32_t parent;
    uint32_t node;
    int64_t peak;
    int64_t live;
  };

  std::vector<Partial> extendLast() {
    const uint32_t depth = layers_.size() - 1;
    std::vector<Partial> next;
    llvm::DenseMap<llvm::BitVector, uint32_t> indexOfSet;
    for (uint32_t parent = 0; parent < layers_[depth].size(); ++parent) {
      const NodeOrder path = pathTo(depth, parent);
      for (uint32_t node : path) model_.execute(node);
      for (uint32_t node = 0; node < model_.nodeCount(); ++node) {
        if (!model_.isReady(node)) continue;
        const int64_t peak = std::max(layers_[depth][parent].peak, model_.stepPeak(node));
        model_.execute(node);
        const Partial reached{parent, node, peak, model_.liveBytes()};
        auto [it, inserted] = indexOfSet.try_emplace(model_.executed(), next.size());
        if (inserted)
          next.push_back(reached);
        else if (peak < next[it->second].peak)
          next[it->second] = reached;
        model_.undo(node);
      }
      for (auto it = path.rbegin(); it != path.rend(); ++it) model_.undo(*it);
    }
    std::stable_sort(next.begin(), next.end(), [](const Partial &a, const Partial &b) {
      return std::pair(a.peak, a.live) < std::pair(b.peak, b.live);
    });
    if (next.size() > width_) next.resize(width_);
    return next;
  }

  NodeOrder pathTo(uint32_t depth, uint32_t index) const {
    NodeOrder path(depth);
    for (; depth > 0; --depth) {
      const Partial &partial = layers_[depth][index];
      path[depth - 1] = partial.node;
      index = partial.parent;
    }
    return path;
  }

  OrderModel &model_;
  size_t width_;
  std::vector<std::vector<Partial>> layers_; // layer d: sets of d executed nodes, best first
};

// The beam search costs about width * nodes^2 model steps; this many take about half a second at
// most (measured on random 300- and 1000-node networks).
constexpr size_t kBeamWork = 8'000'000;

size_t beamWidthFor(size_t nodeCount, size_t maxWidth) {
  return std::clamp<size_t>(kBeamWork / (nodeCount * nodeCount), 1, std::max<size_t>(maxWidth, 1));
}

std::vector<const Node *> toNodes(const Graph &graph, const NodeOrder &order) {
  std::vector<const Node *> nodes;
  for (uint32_t index : order) nodes.push_back(graph.nodes()[index].get());
  return nodes;
}

} // namespace

ExecutionOrder chooseExecutionOrder(const Graph &graph, const ValueBytesFn &valueBytes,
                                    const ScratchBytesFn &scratchBytes,
                                    const OrderSearchOptions &options) {
  ExecutionOrder chosen;
  for (const auto &node : graph.nodes()) chosen.nodes.push_back(node.get());
  chosen.peakBytes = peakBytes(graph, chosen.nodes, valueBytes, scratchBytes);
  if (graph.nodes().empty()) {
    chosen.provenMinimal = true;
    return chosen;
  }
  OrderModel model(graph, valueBytes, scratchBytes);
  std::optional<std::pair<NodeOrder, int64_t>> exact =
      ExactSearch(model, options.exactSearchStateLimit).run();
  const NodeOrder candidate =
      exact ? exact->first
            : BeamSearch(model, beamWidthFor(model.nodeCount(), options.beamWidth)).run();
  std::vector<const Node *> nodes = toNodes(graph, candidate);
  const int64_t peak = peakBytes(graph, nodes, valueBytes, scratchBytes);
  if (peak < chosen.peakBytes) {
    chosen.nodes = std::move(nodes);
    chosen.peakBytes = peak;
  }
  // The model follows computeLiveness, so this holds whenever the exact search finished; checking
  // it keeps the claim honest should the two ever disagree.
  chosen.provenMinimal = exact && chosen.peakBytes == exact->second;
  return chosen;
}

} // namespace edgesplit
