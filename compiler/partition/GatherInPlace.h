// Gathering in place (docs/partition.md): a worker that receives every part of a Concat
// reassembles each part's frames straight into its place in the Concat's output, so the Concat
// moves no data and the parts take no arena bytes of their own. That is exact wherever each part
// is one contiguous range of the output; the placement's RAM estimate and the fleet compiler
// both ask this one function.
#pragma once

#include "ir/Graph.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace edgesplit {

// The byte offset of each input of `node` in its output (`elementBytes` per element), when
// `node` is a Concat whose every input is one contiguous range of the output (every dimension
// before the axis is 1: channel slices of a batch of one, not bands of rows of several
// channels) and no input is a constant or read twice by it; std::nullopt otherwise.
std::optional<std::vector<int64_t>> concatPartOffsets(const Node &node, int64_t elementBytes);

} // namespace edgesplit
