#include "partition/Subgraph.h"

#include "ir/Verifier.h"
#include "support/Error.h"

namespace edgesplit {

Subgraph extractSubgraph(const Graph &source, llvm::ArrayRef<const Node *> nodes,
                         llvm::ArrayRef<const Value *> inputs,
                         llvm::ArrayRef<GraphOutput> outputs,
                         const llvm::DenseMap<const Node *, ActivationClamp> &fused) {
  Subgraph result;
  result.graph = std::make_unique<Graph>();
  Graph &graph = *result.graph;
  graph.name = source.name;
  graph.sourcePath = source.sourcePath;
  graph.opset = source.opset;
  graph.producer = source.producer;

  llvm::DenseMap<const Value *, Value *> clones;
  auto clone = [&](const Value *value) -> Value * {
    if (!value) return nullptr;
    auto found = clones.find(value);
    if (found != clones.end()) return found->second;
    Value *copy = graph.createValue(value->name, value->dtype);
    copy->shape = value->shape;
    copy->constant = value->constant;
    copy->quant = value->quant;
    clones[value] = copy;
    return copy;
  };
  for (const Value *input : inputs) graph.inputs.push_back(clone(input));
  for (const Node *node : nodes) {
    auto copy = std::make_unique<Node>();
    copy->name = node->name;
    copy->opType = node->opType;
    copy->domain = node->domain;
    copy->opset = node->opset;
    copy->attributes = node->attributes;
    copy->op = node->op;
    for (const Value *input : node->inputs) {
      if (input && !input->isConstant() && !clones.count(input))
        fail("internal error: {} reads '{}', which is neither produced on its device nor "
             "received",
             node->describe(), input->name);
      copy->inputs.push_back(clone(input));
    }
    for (const Value *output : node->outputs) copy->outputs.push_back(clone(output));
    Node *added = graph.appendNode(std::move(copy));
    auto clamp = fused.find(node);
    if (clamp != fused.end()) result.fused[added] = clamp->second;
  }
  for (const GraphOutput &output : outputs) {
    auto found = clones.find(output.value);
    if (found == clones.end())
      fail("internal error: output '{}' is not computed by its device", output.name);
    graph.outputs.push_back({output.name, found->second});
  }
  verifyGraph(graph);
  return result;
}

} // namespace edgesplit
