#include "passes/Passes.h"

#include <llvm/ADT/DenseSet.h>

namespace edgesplit {

void removeDeadNodes(Graph &graph) {
  // Walk backwards so a chain of dead nodes goes in one sweep.
  llvm::DenseSet<const Value *> needed;
  for (const GraphOutput &output : graph.outputs) needed.insert(output.value);
  llvm::SmallVector<Node *, 8> dead;
  for (auto it = graph.nodes().rbegin(); it != graph.nodes().rend(); ++it) {
    const Node &node = **it;
    const bool live = llvm::any_of(node.outputs, [&](const Value *v) { return v && needed.contains(v); });
    if (!live) {
      dead.push_back(it->get());
      continue;
    }
    for (const Value *input : node.inputs)
      if (input) needed.insert(input);
  }
  for (Node *node : dead) graph.eraseNode(node);
  graph.removeUnusedValues();
}

} // namespace edgesplit
