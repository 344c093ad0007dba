#include "passes/ChannelAffine.h"
#include "passes/Passes.h"

#include <numeric>

namespace edgesplit {

namespace {

bool isChannelOp(const Node &node) {
  return node.domain.empty() && (node.opType == "Add" || node.opType == "Sub" ||
                                 node.opType == "Mul" || node.opType == "Relu" ||
                                 node.opType == "Clip");
}

std::vector<int64_t> permutationOf(const Node &transpose, size_t rank) {
  if (auto perm = transpose.attributes.getInts("perm")) return *perm;
  std::vector<int64_t> reversed(rank);
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  return reversed;
}

// The constant operand of a binary channel op seen before the Transpose `perm`: its one
// dimension other than 1 (at most one) moves to where the Transpose takes it from. nullopt when
// it varies along more than one axis.
std::optional<Shape> shapeBeforeTranspose(const Tensor &constant, llvm::ArrayRef<int64_t> perm) {
  const size_t rank = perm.size();
  if (constant.rank() > rank) return std::nullopt;
  Shape padded(rank - constant.rank(), 1);
  padded.append(constant.shape().begin(), constant.shape().end());
  Shape before(rank, 1);
  int varying = 0;
  for (size_t i = 0; i < rank; ++i)
    if (padded[i] != 1) {
      ++varying;
      before[static_cast<size_t>(perm[i])] = padded[i];
    }
  if (varying > 1) return std::nullopt;
  return before;
}

// Swaps `transpose` -> `op` into `op` -> `transpose` when `op` is an element-wise channel op whose
// only input is the transposed value (and constants): the two nodes exchange their contents, so
// the execution order stays valid. False when the pattern does not hold.
bool sinkBelow(Graph &graph, Node &transpose, Node &op) {
  Value *source = transpose.input(0);
  Value *transposed = transpose.outputs[0];
  Value *result = op.outputs.size() == 1 ? op.outputs[0] : nullptr;
  if (!source || !source->shape || !transposed->shape || !result || !result->shape ||
      *result->shape != *transposed->shape || op.input(0) == nullptr)
    return false;
  const std::vector<int64_t> perm = permutationOf(transpose, source->shape->size());
  llvm::SmallVector<Value *, 3> inputs;
  for (Value *input : op.inputs) {
    if (input == transposed) {
      inputs.push_back(source);
      continue;
    }
    if (!input || op.opType == "Clip") { // Clip's bounds are scalars: unchanged
      inputs.push_back(input);
      continue;
    }
    if (!input->isConstant() || input->dtype != DType::Float32) return false;
    const auto shape = shapeBeforeTranspose(*input->constant, perm);
    if (!shape) return false;
    inputs.push_back(graph.createConstant(graph.uniqueName(input->name + "_channels"),
                                          input->constant->reshaped(*shape)));
  }
  if (llvm::count(op.inputs, transposed) != 1) return false;
  // `transpose`'s place now computes the op into `transposed` (in the source's layout), `op`'s
  // place transposes it into `result`.
  std::swap(transpose.opType, op.opType);
  std::swap(transpose.op, op.op);
  std::swap(transpose.name, op.name);
  std::swap(transpose.opset, op.opset);
  std::swap(transpose.attributes, op.attributes);
  transpose.inputs.assign(inputs.begin(), inputs.end());
  transposed->shape = source->shape;
  op.inputs = {transposed};
  return true;
}

} // namespace

void sinkTransposes(Graph &graph) {
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto &nodePtr : graph.nodes()) {
      Node &transpose = *nodePtr;
      if (transpose.opType != "Transpose" || !transpose.domain.empty() ||
          transpose.outputs.size() != 1 || !transpose.outputs[0] || !transpose.input(0))
        continue;
      const Node *producer = transpose.input(0)->producer;
      Value *transposed = transpose.outputs[0];
      if (!producer || (!isChannelOp(*producer) && !foldableOutputChannels(*producer)) ||
          graph.isGraphOutput(transposed) || graph.users(transposed).size() != 1)
        continue;
      Node &op = *graph.users(transposed)[0];
      if (isChannelOp(op) && sinkBelow(graph, transpose, op)) changed = true;
    }
  }
}

} // namespace edgesplit
