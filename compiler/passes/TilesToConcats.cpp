#include "passes/InsertNode.h"
#include "passes/Passes.h"

namespace edgesplit {

namespace {
// More copies than this along one axis stay a Tile (which code generation refuses): a Concat of
// that many inputs is no longer a sensible kernel call.
constexpr int64_t kMaxCopies = 64;

std::optional<std::vector<int64_t>> constantRepeats(const Node &tile) {
  const Value *repeats = tile.input(1);
  if (!repeats || !repeats->isConstant() || repeats->dtype != DType::Int64) return std::nullopt;
  return repeats->constant->toInt64Vector();
}
} // namespace

void tilesToConcats(Graph &graph) {
  llvm::SmallVector<Node *, 4> tiles;
  for (const auto &node : graph.nodes()) {
    if (node->opType != "Tile" || !node->domain.empty() || node->outputs.size() != 1 ||
        !node->outputs[0])
      continue;
    const Value *input = node->input(0);
    const auto repeats = constantRepeats(*node);
    if (!input || input->isConstant() || !input->shape || !repeats || repeats->empty() ||
        repeats->size() != input->shape->size())
      continue;
    if (llvm::all_of(*repeats, [](int64_t r) { return r >= 1 && r <= kMaxCopies; }))
      tiles.push_back(node.get());
  }
  for (Node *tile : tiles) {
    const std::vector<int64_t> repeats = *constantRepeats(*tile);
    Value *current = tile->inputs[0];
    Shape shape = *current->shape;
    Value *output = tile->outputs[0];
    tile->outputs[0] = nullptr;
    size_t last = repeats.size();
    while (last > 0 && repeats[last - 1] == 1) --last;
    for (size_t axis = 0; axis < repeats.size(); ++axis) {
      if (repeats[axis] == 1 && !(axis + 1 == repeats.size() && last == 0)) continue;
      shape[axis] *= repeats[axis];
      // The last Concat writes the Tile's output (all repeats 1: one Concat of one input).
      const bool final = axis + 1 >= last;
      Value *joined = output;
      if (!final) {
        joined = graph.createValue(graph.uniqueName(tile->name + "_tiled"), current->dtype);
        joined->shape = shape;
      }
      AttributeMap attributes;
      attributes.set("axis", static_cast<int64_t>(axis));
      // Concat's axis is required from opset 4 on.
      insertNodeBefore(graph, *tile, fmt::format("{}_concat{}", tile->name, axis), "Concat", 4,
                       llvm::SmallVector<Value *, 8>(static_cast<size_t>(repeats[axis]), current),
                       joined, std::move(attributes));
      current = joined;
      if (final) break;
    }
    graph.eraseNode(tile);
  }
  if (!tiles.empty()) graph.removeUnusedValues();
}

} // namespace edgesplit
