#include "passes/InsertNode.h"
#include "passes/Passes.h"

#include "es_common.h"

#include <numeric>

namespace edgesplit {

namespace {

// A transpose as the kernels see it: size-1 axes dropped, and input axes that stay neighbours in
// the same order merged into one. `shape` is the grouped input shape, `perm` the groups' order.
struct GroupedTranspose {
  Shape shape;
  std::vector<int64_t> perm;
};

// `sizes` are the input's dimensions, output axis i is input axis order[i].
GroupedTranspose group(llvm::ArrayRef<int64_t> sizes, llvm::ArrayRef<int64_t> order) {
  std::vector<int64_t> kept; // order without the size-1 axes
  for (int64_t axis : order)
    if (sizes[static_cast<size_t>(axis)] != 1) kept.push_back(axis);
  // Runs of consecutive input axes in the output order become one group each.
  std::vector<std::vector<int64_t>> runs;
  for (int64_t axis : kept) {
    if (!runs.empty()) {
      // The next kept input axis after the run's last (skipping size-1 axes) must be this one.
      int64_t next = runs.back().back() + 1;
      while (next < axis && sizes[static_cast<size_t>(next)] == 1) ++next;
      if (next == axis) {
        runs.back().push_back(axis);
        continue;
      }
    }
    runs.push_back({axis});
  }
  // Groups are numbered in input order.
  std::vector<size_t> byInput(runs.size());
  std::iota(byInput.begin(), byInput.end(), 0);
  std::sort(byInput.begin(), byInput.end(),
            [&](size_t a, size_t b) { return runs[a].front() < runs[b].front(); });
  GroupedTranspose result;
  result.perm.resize(runs.size());
  for (size_t g = 0; g < byInput.size(); ++g) {
    int64_t size = 1;
    for (int64_t axis : runs[byInput[g]]) size *= sizes[static_cast<size_t>(axis)];
    result.shape.push_back(size);
    result.perm[byInput[g]] = static_cast<int64_t>(g);
  }
  if (result.shape.empty()) result.shape = {1}, result.perm = {0};
  return result;
}

class Splitter {
public:
  Splitter(Graph &graph, Node &transpose) : graph_(graph), transpose_(transpose) {}

  // Replaces the transpose by Reshape -> Transpose (at most 4-D) steps. Each step that cannot
  // finish moves one axis (with the block it belongs to) to its place: [done][rest][axis][after]
  // becomes [done][axis][rest][after], four groups at most.
  void run(llvm::ArrayRef<int64_t> perm) {
    Value *input = transpose_.inputs[0];
    const Shape inputShape = *input->shape;
    std::vector<int64_t> current(perm.size()); // input axis at each position of the tensor now
    std::iota(current.begin(), current.end(), 0);
    Value *tensor = input;
    for (;;) {
      Shape sizes;
      for (int64_t axis : current) sizes.push_back(inputShape[static_cast<size_t>(axis)]);
      std::vector<int64_t> order; // where each wanted axis is now
      for (int64_t axis : perm)
        order.push_back(std::find(current.begin(), current.end(), axis) - current.begin());
      GroupedTranspose whole = group(sizes, order);
      if (whole.shape.size() <= ES_MAX_RANK) {
        tensor = step(tensor, whole);
        break;
      }
      size_t first = 0;
      while (current[first] == perm[first]) ++first;
      const size_t from = static_cast<size_t>(order[first]);
      std::vector<int64_t> move(current.size());
      std::iota(move.begin(), move.end(), 0);
      std::rotate(move.begin() + static_cast<ptrdiff_t>(first),
                  move.begin() + static_cast<ptrdiff_t>(from),
                  move.begin() + static_cast<ptrdiff_t>(from + 1));
      tensor = step(tensor, group(sizes, move));
      std::vector<int64_t> moved;
      for (int64_t position : move) moved.push_back(current[static_cast<size_t>(position)]);
      current = std::move(moved);
    }
    Value *output = transpose_.outputs[0];
    transpose_.outputs[0] = nullptr;
    add("Reshape", {tensor, shapeConstant(*output->shape)}, output, {});
    graph_.eraseNode(&transpose_);
  }

private:
  Value *step(Value *tensor, const GroupedTranspose &grouped) {
    Value *reshaped = newValue("reshaped", grouped.shape, tensor->dtype);
    add("Reshape", {tensor, shapeConstant(grouped.shape)}, reshaped, {});
    Shape outShape;
    for (int64_t axis : grouped.perm) outShape.push_back(grouped.shape[static_cast<size_t>(axis)]);
    Value *transposed = newValue("transposed", outShape, tensor->dtype);
    AttributeMap attributes;
    attributes.set("perm", grouped.perm);
    add("Transpose", {reshaped}, transposed, std::move(attributes));
    return transposed;
  }

  Value *shapeConstant(llvm::ArrayRef<int64_t> shape) {
    return edgesplit::shapeConstant(graph_, transpose_.name + "_shape", shape);
  }

  Value *newValue(const std::string &what, llvm::ArrayRef<int64_t> shape, DType dtype) {
    Value *value = graph_.createValue(graph_.uniqueName(transpose_.name + "_" + what), dtype);
    value->shape = Shape(shape.begin(), shape.end());
    return value;
  }

  // Reshape reads its shape from an input from opset 5 on.
  void add(std::string opType, llvm::ArrayRef<Value *> inputs, Value *output,
           AttributeMap attributes) {
    std::string name =
        fmt::format("{}_{}{}", transpose_.name, llvm::StringRef(opType).lower(), added_++);
    insertNodeBefore(graph_, transpose_, std::move(name), std::move(opType), 5, inputs, output,
                     std::move(attributes));
  }

  Graph &graph_;
  Node &transpose_;
  int added_ = 0; // numbers the nodes' names
};

std::vector<int64_t> permutationOf(const Node &node, size_t rank) {
  if (const AttributeValue *perm = node.attributes.find("perm"))
    if (const auto *values = std::get_if<std::vector<int64_t>>(perm)) return *values;
  std::vector<int64_t> reversed(rank);
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  return reversed;
}

} // namespace

void splitWideTransposes(Graph &graph) {
  llvm::SmallVector<Node *, 4> wide;
  for (const auto &node : graph.nodes()) {
    if (node->opType != "Transpose" || !node->domain.empty() || node->outputs.size() != 1) continue;
    const Value *input = node->input(0);
    if (!input || input->isConstant() || !input->shape || !node->outputs[0] ||
        !node->outputs[0]->shape || input->shape->size() <= ES_MAX_RANK)
      continue;
    wide.push_back(node.get());
  }
  for (Node *node : wide)
    Splitter(graph, *node).run(permutationOf(*node, node->inputs[0]->shape->size()));
}

} // namespace edgesplit
