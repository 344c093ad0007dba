// Static arena planning without a graph: buffers with byte sizes and lifetimes (in execution
// steps) get offsets in one arena so that no two buffers alive at the same step overlap.
#pragma once

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/SmallVector.h>

#include <cstdint>
#include <optional>
#include <string>

namespace edgesplit {

struct Buffer {
  std::string name; // for error messages
  int64_t bytes = 0;
  int firstStep = 0;
  int lastStep = 0; // inclusive
  // Occupies exactly the bytes of buffer `*aliasOf` (a view, or an op writing in place): it takes
  // that buffer's offset and extends its lifetime. Chains of aliases are allowed.
  std::optional<size_t> aliasOf;
  int64_t alignment = 1; // the offset is a multiple of it
};

struct OffsetPlan {
  llvm::SmallVector<int64_t, 0> offsets; // one per buffer, aliases equal to their target's
  int64_t arenaBytes = 0;
};

// Greedy first: each buffer, in one of four orders (by size, size x lifetime, lifetime, first
// step), goes at the lowest aligned offset, or into the tightest gap, clear of the buffers placed
// so far that it is alive with; the best of the eight plans is kept. If it is above
// lowerBoundBytes, a branch-and-bound search (see OffsetPlanner.cpp) tries smaller arenas, from
// the lower bound up, within a fixed work budget. Deterministic: the same buffers always give
// the same plan, ties going to the lower index. Throws Error on malformed buffers (negative size,
// lastStep < firstStep, alignment < 1, alias out of range or cyclic).
OffsetPlan planOffsets(llvm::ArrayRef<Buffer> buffers);

// The largest total size of the buffers alive at one step, an alias and its target counting once.
// No arena can be smaller.
int64_t lowerBoundBytes(llvm::ArrayRef<Buffer> buffers);

} // namespace edgesplit
