// Structural and type checks of a Graph. Every pass's output goes through it, so a broken
// invariant is caught at the pass that broke it.
#pragma once

#include "ir/Graph.h"

namespace edgesplit {

struct VerifyOptions {
  // Off for `inspect`, which describes models even when some ops are unsupported.
  bool requireSupportedOps = true;
};

// Throws Error naming the offending node/value and, when given, the pass that produced the graph.
void verifyGraph(const Graph &graph, const VerifyOptions &options = {},
                 std::string_view afterPass = {});

} // namespace edgesplit
