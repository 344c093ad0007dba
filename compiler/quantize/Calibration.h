// Calibration: the float reference runs over a data set and every tensor's value range is
// recorded, by min/max or by percentiles (robust to rare outliers).
#pragma once

#include "ir/Graph.h"

#include <llvm/ADT/DenseMap.h>

#include <functional>
#include <vector>

namespace edgesplit {

struct ValueRange {
  double lo = 0.0;
  double hi = 0.0;
};

struct ObserverOptions {
  enum class Kind { MinMax, Percentile } kind = Kind::MinMax;
  // For Percentile: the range is [P(100 - percentile), P(percentile)] of all observed values.
  double percentile = 99.99;
};

// Runs `samples` (each: one tensor per graph input, in graph.inputs order) through the reference
// interpreter and returns the range of every non-constant float value. `progress(done, total)`
// is called after each sample (the CLI draws a progress bar with it).
llvm::DenseMap<const Value *, ValueRange>
calibrate(const Graph &graph, const std::vector<std::vector<Tensor>> &samples,
          const ObserverOptions &options,
          const std::function<void(size_t, size_t)> &progress = {});

} // namespace edgesplit
