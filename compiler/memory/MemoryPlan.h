// The static memory plan of one device: the execution order and where every activation and
// scratch area lives in the single arena.
#pragma once

#include "memory/ExecutionOrder.h"
#include "memory/Liveness.h"

#include <llvm/ADT/DenseMap.h>

#include <vector>

namespace edgesplit {

struct MemoryPlanOptions {
  ValueBytesFn valueBytes;     // required
  ScratchBytesFn scratchBytes; // empty: no node needs scratch
  int64_t alignment = 8;       // of every offset; 8 suits every element type
  OrderSearchOptions orderSearch;
};

struct ArenaSlot {
  int64_t offset = 0;
  int64_t bytes = 0;
};

struct MemoryPlan {
  std::vector<const Node *> order;
  bool orderProvenMinimal = false; // no order has a lower peak (see chooseExecutionOrder)
  llvm::DenseMap<const Value *, ArenaSlot> values; // every non-constant value
  llvm::DenseMap<const Node *, ArenaSlot> scratch; // nodes with scratch only
  int64_t arenaBytes = 0;
  int64_t lowerBoundBytes = 0; // peak live bytes of `order`; arenaBytes >= it
};

// chooseExecutionOrder, then computeLiveness, planOffsets and lowerBoundBytes on that order.
MemoryPlan planMemory(const Graph &graph, const MemoryPlanOptions &options);

} // namespace edgesplit
