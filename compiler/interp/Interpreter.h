// The float reference interpreter: runs a verified graph node by node with each op's reference
// kernel. It is the oracle for generated code and the engine behind calibration.
#pragma once

#include "ir/Graph.h"
#include "ops/OpDef.h"

#include <functional>
#include <vector>

namespace edgesplit {

// Shape inference for one node given everything known about its inputs. Shared by the static
// inference pass and the interpreter so both apply the very same op rules; checks input/output
// counts against the op's declaration first.
struct InferResult {
  bool complete = true; // false when a shape needs a run-time value
  llvm::SmallVector<InferContext::Output, 2> outputs;
};
InferResult inferNode(const Node &node, llvm::ArrayRef<InferInput> inputs);

// Runs one node on concrete inputs (nullptr for omitted ones); returns its outputs, an empty
// Tensor for each omitted output. Used by the interpreter and by constant folding.
llvm::SmallVector<Tensor, 2> evaluateNode(const Node &node, llvm::ArrayRef<const Tensor *> inputs);

class Interpreter {
public:
  explicit Interpreter(const Graph &graph) : graph_(graph) {}

  // Called after every node with each output it produced (calibration observes ranges with it).
  using Observer = std::function<void(const Value &, const Tensor &)>;
  void setObserver(Observer observer) { observer_ = std::move(observer); }

  // `inputs` in the order of graph.inputs; returns tensors in the order of graph.outputs.
  // Input dtypes and shapes are checked against the graph's declared ones.
  std::vector<Tensor> run(llvm::ArrayRef<Tensor> inputs) const;

private:
  const Graph &graph_;
  Observer observer_;
};

} // namespace edgesplit
