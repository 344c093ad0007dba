// The pipeline-stage strategy (docs/partition.md, "Placement"): the units, in execution order,
// cut into consecutive stages along a path of devices from a sensor device to the aggregator,
// each stage on the next device of the path (a device may take none and only relay). For each
// path a dynamic programme over (unit, stage) keeps, per stage, the best placement of the units
// so far under the shared cost model (fitting first, then least overflowing, then lowest bound);
// the best full placement over all paths is the seed the local moves then improve.
#pragma once

#include "partition/PlacementCost.h"

#include <vector>

namespace edgesplit {

// The simple paths of devices (topology indices) from every device whose sensors give a model
// input of the problem to the aggregator, fewest hops first, at most `limit` of them.
std::vector<std::vector<size_t>> stagePaths(const PlacementCostModel &model, size_t limit);

// The best placement in stages along one of stagePaths(model, limit) (empty when pins leave no
// path possible); adds the placements it evaluated to `evaluations`.
std::vector<size_t> placeInStages(const PlacementCostModel &model, size_t &evaluations,
                                  size_t limit = 32);

} // namespace edgesplit
