// Strategies that place every unit of a PlacementProblem on a device, all judged by the one
// PlacementCostModel (docs/partition.md, "Placement"):
// - exact: branch-and-bound over the units in execution order, each unit's domain the devices
//   it may run on, cut off where the cost model's lower bound reaches the best placement found;
// - greedy + local moves: each unit on the device that keeps the prefix cheapest (fitting
//   first), then single-unit moves while one lowers (overflow, cost);
// - pipeline stages + local moves (PlacementStages.h).
// solvePlacement runs the heuristics, then the exact search from the better one's result within
// a budget of evaluated partial placements: the method is "exact" when the search finished,
// else the better heuristic's name ("greedy+local" or "stages+local").
#pragma once

#include "partition/PlacementCost.h"

#include <string>
#include <vector>

namespace edgesplit {

struct PlacementResult {
  bool found = false;          // a fitting placement
  std::vector<size_t> deviceOf; // by unit (when not found: the least overflowing one seen)
  PlacementCost cost;
  std::string method;          // "exact", or the heuristic's name
  double lowerBound = 0;       // no fitting placement costs less
  size_t evaluations = 0;      // partial placements evaluated
};

// Partial placements the exact search may evaluate before it stops (the size at which it is
// guaranteed to finish: devices^(units+1) / (devices-1) at most this).
constexpr size_t kExactPlacementBudget = 100000;

// The cheapest fitting placement, searching exhaustively (pruned by lower bounds) until
// `budget` partial placements are spent; `incumbent` (optional, fitting) seeds the bound.
PlacementResult placeExactly(const PlacementCostModel &model, size_t budget,
                             const PlacementResult *incumbent = nullptr);

// Greedy in execution order, then single-unit moves until none helps.
PlacementResult placeGreedily(const PlacementCostModel &model);
// The better of placeGreedily and the pipeline stages improved by the same moves.
PlacementResult placeHeuristically(const PlacementCostModel &model);

// The heuristic's placement improved by the exact search within kExactPlacementBudget.
PlacementResult solvePlacement(const PlacementCostModel &model,
                               size_t budget = kExactPlacementBudget);

// Why nothing fits, as one line without the file: a unit that alone fits no device it may run
// on (its weights and activations beside the largest device's limits), or else the limit the
// least overflowing placement found breaks.
std::string explainNothingFits(const PlacementCostModel &model, const PlacementResult &best);

} // namespace edgesplit
