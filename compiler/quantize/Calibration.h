// Calibration: the float reference runs over a data set and every tensor's value range is
// recorded, by min/max or by percentiles (robust to rare outliers).
#pragma once

#include "ir/Graph.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/StringMap.h>

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

// The share of exact zeros (+0 or -0) among every float activation's values over `samples`
// (as for calibrate), keyed by value name so that it outlives the passes that rewrite the graph:
// a core without an FPU multiplies and adds in library routines that take a short path for a
// zero operand, so the estimate of a float layer there follows these shares (CostFeatures.cpp).
// The input of a QuantizeLinear -> DequantizeLinear pair takes the share of the pair's output, the
// values its in-place fake quantisation holds once absorbQdq has removed the pair.
llvm::StringMap<double> zeroShares(const Graph &graph,
                                   const std::vector<std::vector<Tensor>> &samples);

} // namespace edgesplit
