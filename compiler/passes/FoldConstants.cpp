#include "interp/Interpreter.h"
#include "ops/OpDef.h"
#include "passes/Passes.h"

namespace edgesplit {

namespace {

bool keepsQuantisationStructure(const Node &node) {
  return node.opType == "QuantizeLinear" || node.opType == "DequantizeLinear";
}

// Shape and Size only need the input's shape, which is often static when its data is not.
std::optional<Tensor> foldShapeQuery(const Node &node) {
  const Value *input = node.input(0);
  if (!input || !input->shape || input->isConstant()) return std::nullopt;
  if (node.opType != "Shape" && node.opType != "Size") return std::nullopt;
  // Run the op's own kernel on a placeholder of the right shape: one rule for start/end etc.
  Tensor placeholder(input->dtype, *input->shape);
  return evaluateNode(node, {&placeholder})[0];
}

} // namespace

void foldConstants(Graph &graph) {
  llvm::SmallVector<Node *, 8> folded;
  for (const auto &nodePtr : graph.nodes()) {
    Node &node = *nodePtr;
    if (!node.op) continue;
    // Inputs folded earlier in this sweep may pin down shapes that were data-dependent.
    inferNodeShapes(node);
    if (keepsQuantisationStructure(node)) continue;
    llvm::SmallVector<Tensor, 2> results;
    if (auto shapeQuery = foldShapeQuery(node)) {
      results.push_back(std::move(*shapeQuery));
    } else {
      const bool allConstant = llvm::all_of(node.inputs, [](const Value *v) {
        return !v || v->isConstant();
      });
      if (!allConstant || node.inputs.empty()) continue;
      llvm::SmallVector<const Tensor *, 4> inputs;
      for (const Value *input : node.inputs) inputs.push_back(input ? input->constant.get() : nullptr);
      results = evaluateNode(node, inputs);
    }
    for (size_t i = 0; i < node.outputs.size() && i < results.size(); ++i) {
      Value *output = node.outputs[i];
      if (!output) continue;
      output->producer = nullptr;
      output->dtype = results[i].dtype();
      output->shape = Shape(results[i].shape().begin(), results[i].shape().end());
      output->constant = std::make_shared<const Tensor>(std::move(results[i]));
    }
    folded.push_back(&node);
  }
  for (Node *node : folded) graph.eraseNode(node);
  graph.removeUnusedValues();
}

} // namespace edgesplit
