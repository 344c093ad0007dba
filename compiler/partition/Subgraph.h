// A device's share of a partitioned model as a graph of its own: the chosen nodes, cloned with
// their values (shapes, constants and int8 parameters kept), whose inputs are the tensors the
// device receives or reads from its sensors and whose outputs are the tensors it sends or the
// heads it computes. Fused activations carry over, so each device lowers exactly the kernels the
// whole model would have run for those nodes.
#pragma once

#include "codegen/FuseActivations.h"
#include "ir/Graph.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/DenseMap.h>

#include <memory>

namespace edgesplit {

struct Subgraph {
  std::unique_ptr<Graph> graph;
  llvm::DenseMap<const Node *, ActivationClamp> fused; // keyed by the subgraph's nodes
};

// `nodes` in the source's execution order; `inputs` must be every non-constant value the nodes
// read that none of them produces; each output names a value that is an input or produced by
// one of the nodes.
Subgraph extractSubgraph(const Graph &source, llvm::ArrayRef<const Node *> nodes,
                         llvm::ArrayRef<const Value *> inputs,
                         llvm::ArrayRef<GraphOutput> outputs,
                         const llvm::DenseMap<const Node *, ActivationClamp> &fused);

} // namespace edgesplit
