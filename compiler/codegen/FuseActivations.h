// A Relu or Clip right after a node that can clamp its own output (OpDef::fusesActivation)
// disappears into that node: the producer writes the activation's output, clamped. Annotation
// uses the same predicate to give the producer's output the activation's int8 parameters, so the
// fused int8 clamp is exactly Quantize(producer) followed by the activation.
#pragma once

#include "codegen/LowerContext.h"
#include "ir/Graph.h"

#include <llvm/ADT/DenseMap.h>

#include <optional>

namespace edgesplit {

// Bounds of a Relu, or of a Clip whose bounds are constant (attributes before opset 11).
std::optional<ActivationClamp> activationClampOf(const Node &node);

// The activation node that would fuse into `producer`, or nullptr: `producer` fuses, its only
// output has exactly one user, that user is a Relu/Clip with constant bounds, and the output is
// not a graph output.
const Node *fusableActivation(const Graph &graph, const Node &producer);

// Removes every fusable activation, rewiring its producer to write the activation's output.
// Returns the clamp each producer now applies. For int8 graphs an activation fuses only when the
// producer's output and the activation's output carry the same parameters.
llvm::DenseMap<const Node *, ActivationClamp> fuseActivations(Graph &graph);

} // namespace edgesplit
