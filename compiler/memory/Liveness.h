// From a graph and an execution order to the arena buffers the offset planner places: one per
// non-constant value (constants live in flash) and one per node that needs scratch memory.
#pragma once

#include "ir/Graph.h"
#include "memory/OffsetPlanner.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/DenseMap.h>

#include <cstdint>
#include <functional>

namespace edgesplit {

// Bytes a value takes in the arena (the quantised compile stores 1 byte per element, the float
// one 4).
using ValueBytesFn = std::function<int64_t(const Value &)>;
// Bytes of working memory a node needs during its own step only; 0 for none.
using ScratchBytesFn = std::function<int64_t(const Node &)>;

// `elementBytes` per element of the value's static shape; throws Error for a value without one.
ValueBytesFn bytesPerElement(int64_t elementBytes);

struct Liveness {
  // Step i executes order[i]. Graph inputs live from step 0 (the caller fills them before the
  // first node runs) to their last use; graph outputs until the last step; other values from
  // their producer's step to their last use (at least that step: an unused output is still
  // written). Values sharing bytes by kSharingRules alias the buffer they share.
  llvm::SmallVector<Buffer, 0> buffers;
  llvm::DenseMap<const Value *, size_t> bufferOfValue; // every non-constant value
  llvm::DenseMap<const Node *, size_t> scratchOfNode;  // nodes whose scratch size is above 0
};

// `order` must hold every node of `graph` once, producers before users (throws Error otherwise).
// An empty `scratchBytes` means no node needs scratch. Every buffer gets `alignment`.
Liveness computeLiveness(const Graph &graph, llvm::ArrayRef<const Node *> order,
                         const ValueBytesFn &valueBytes, const ScratchBytesFn &scratchBytes,
                         int64_t alignment = 1);

// lowerBoundBytes of the order's buffers: the least arena that order can run in.
int64_t peakBytes(const Graph &graph, llvm::ArrayRef<const Node *> order,
                  const ValueBytesFn &valueBytes, const ScratchBytesFn &scratchBytes);

} // namespace edgesplit
