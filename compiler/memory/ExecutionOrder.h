// Choosing the execution order of a branching graph so that its peak of live arena bytes (the
// lower bound of the arena) is as small as possible.
#pragma once

#include "memory/Liveness.h"

#include <vector>

namespace edgesplit {

struct OrderSearchOptions {
  // The exact search memoises one entry per set of executed nodes it reaches; beyond this many it
  // gives up (after about 0.3 s) and the heuristic decides. Chains with short side branches stay
  // far below it (MobileNetV2: 106 states; a QDQ keyword spotter whose 40 weight Dequantize nodes
  // can run at any time: 25k); many wide parallel branches exceed it.
  size_t exactSearchStateLimit = 200'000;
  // Sets kept per depth by the beam search that decides beyond that limit; narrowed for large
  // graphs, as its cost grows with width * nodes^2.
  size_t beamWidth = 256;
};

struct ExecutionOrder {
  std::vector<const Node *> nodes;
  int64_t peakBytes = 0;      // peakBytes() of `nodes`
  bool provenMinimal = false; // the exact search finished: no order has a lower peak
};

// Always a valid topological order of every node, and never a higher peak than the graph's own
// order. Deterministic: ties go to the order closest to the graph's own.
//
// Exact search: a memoised search over the sets of executed nodes (each reached set has one best
// completion whatever order reached it), pruning any step that alone reaches the best peak found.
// Heuristic, when the exact search exceeds its limit: a beam search over the same sets, keeping
// at each depth those with the lowest (peak so far, bytes still alive). Ranking by the bytes still
// alive finishes a branch, whose end frees its memory, before starting another. On random
// 8-19-node networks at width 256 it matched the exact optimum every time (200 of 200).
ExecutionOrder chooseExecutionOrder(const Graph &graph, const ValueBytesFn &valueBytes,
                                    const ScratchBytesFn &scratchBytes,
                                    const OrderSearchOptions &options = {});

} // namespace edgesplit
