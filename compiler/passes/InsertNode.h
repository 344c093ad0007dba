// Building nodes inside passes that rewrite one node into several.
#pragma once

#include "ir/Graph.h"
#include "ops/OpDef.h"

#include <algorithm>

namespace edgesplit {

// Inserts `opType` (default domain, the op resolved from the registry) before `position`, reading
// `inputs` and writing `output`. It takes `position`'s opset, at least `minOpset` (the version
// whose input/attribute form the caller uses).
inline Node *insertNodeBefore(Graph &graph, const Node &position, std::string name,
                              std::string opType, int minOpset, llvm::ArrayRef<Value *> inputs,
                              Value *output, AttributeMap attributes = {}) {
  auto node = std::make_unique<Node>();
  node->name = std::move(name);
  node->opType = std::move(opType);
  node->opset = std::max(position.opset, minOpset);
  node->inputs.assign(inputs.begin(), inputs.end());
  node->outputs = {output};
  node->attributes = std::move(attributes);
  node->op = findOp("", node->opType);
  return graph.insertNodeBefore(&position, std::move(node));
}

// A constant int64 vector (Reshape's target shape) named after `base`.
inline Value *shapeConstant(Graph &graph, const std::string &base, llvm::ArrayRef<int64_t> shape) {
  return graph.createConstant(
      graph.uniqueName(base), Tensor::fromVector<int64_t>({static_cast<int64_t>(shape.size())}, shape));
}

} // namespace edgesplit
