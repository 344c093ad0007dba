// Whether, and why not, code generation handles a graph, found by the compile's own steps rather
// than by a list of ops: absorption of a pre-quantised model's parameters, int8 annotation,
// activation fusion and the lowering of every port and node, each node's failure recorded instead
// of thrown. `compile` runs it before calibration (a model that cannot be generated is refused at
// once) and `inspect` reports it per node, so both follow every op's hooks as they are.
#pragma once

#include "codegen/Program.h"
#include "ir/Graph.h"

#include <llvm/ADT/StringMap.h>

#include <string>
#include <vector>

namespace edgesplit {

struct CodegenCheck {
  // Every failure, in the order the compile meets them: it reports the first.
  std::vector<std::string> errors;
  // The first failure of each node, by node name (nodes that fail nothing are absent).
  llvm::StringMap<std::string> nodeErrors;
  // Nodes of `graph` that the compile removes before lowering: Q/DQ pairs absorbed into
  // parameters, activations fused into their producer (supported, as part of another node).
  llvm::StringMap<std::string> absorbedNodes;

  // False when a failure of the whole graph (absorbing its Q/DQ nodes, fusing) stopped the check
  // before the nodes: those without an error of their own were not checked.
  bool reachedNodes = true;

  bool ok() const { return errors.empty(); }
};

// Checks `graph`, which it rewrites as a compile would (pass a copy: a model loaded for the check
// alone). For int8 with `calibrated`, every float value gets a stand-in range in place of
// calibration's: which ranges they are does not decide whether a node lowers.
CodegenCheck checkCodegen(Graph &graph, Precision precision, KernelIsa isa, bool calibrated);

} // namespace edgesplit
