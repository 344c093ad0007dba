// From a device graph to its Program: activations fused, every node lowered by its op's hook in
// the planned execution order, and the input/output ports with their int8 parameters.
#pragma once

#include "codegen/FuseActivations.h"
#include "codegen/Program.h"

namespace edgesplit {

// `order` holds every node of `graph` (the memory plan's). Fails naming the first node whose op
// has no lowering or whose shapes are not static.
Program lowerGraph(const Graph &graph, Precision precision, KernelIsa isa,
                   llvm::ArrayRef<const Node *> order,
                   const llvm::DenseMap<const Node *, ActivationClamp> &fused);

} // namespace edgesplit
