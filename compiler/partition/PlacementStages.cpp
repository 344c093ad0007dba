#include "partition/PlacementStages.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <tuple>

namespace edgesplit {
namespace {

using Rank = std::tuple<size_t, int64_t, double>; // violations, overflow, bound or cost

struct Stage {
  std::vector<size_t> deviceOf;
  Rank rank;
};

} // namespace

std::vector<std::vector<size_t>> stagePaths(const PlacementCostModel &model, size_t limit) {
  const Topology &topology = *model.problem().topology;
  const size_t aggregator = topology.aggregatorIndex();
  std::set<size_t> sources;
  for (const PlacementTensor &tensor : model.problem().tensors)
    if (!tensor.producer) sources.insert(tensor.source);
  if (sources.empty()) sources.insert(aggregator);
  std::vector<std::vector<size_t>> paths;
  std::vector<size_t> path;
  std::vector<bool> visited(topology.devices.size(), false);
  std::function<void(size_t)> walk = [&](size_t device) {
    path.push_back(device);
    visited[device] = true;
    if (device == aggregator) {
      paths.push_back(path);
    } else {
      for (const TopologyLink &link : topology.links) {
        if (link.from != topology.devices[device].name) continue;
        const size_t next = topology.deviceIndex(link.to);
        if (!visited[next]) walk(next);
      }
    }
    visited[device] = false;
    path.pop_back();
  };
  for (size_t source : sources) walk(source);
  std::stable_sort(paths.begin(), paths.end(),
                   [](const auto &a, const auto &b) { return a.size() < b.size(); });
  if (paths.size() > limit) paths.resize(limit);
  return paths;
}

std::vector<size_t> placeInStages(const PlacementCostModel &model, size_t &evaluations,
                                  size_t limit) {
  const size_t units = model.problem().units.size();
  std::optional<Stage> best;
  for (const std::vector<size_t> &path : stagePaths(model, limit)) {
    // stages[s]: the best placement of the units so far whose last unit is on path[s].
    std::vector<std::optional<Stage>> stages(path.size());
    stages[0] = Stage{{}, {0, 0, 0.0}};
    for (size_t u = 0; u < units; ++u) {
      std::vector<std::optional<Stage>> next(path.size());
      for (size_t to = 0; to < path.size(); ++to) {
        if (!model.allowed(u, path[to])) continue;
        for (size_t from = 0; from <= to; ++from) {
          if (!stages[from]) continue;
          std::vector<size_t> deviceOf = stages[from]->deviceOf;
          deviceOf.push_back(path[to]);
          const PlacementCost cost = model.evaluate(deviceOf);
          ++evaluations;
          const Rank rank{cost.violations, cost.excessBytes, model.lowerBound(deviceOf, cost)};
          if (!next[to] || rank < next[to]->rank) next[to] = Stage{std::move(deviceOf), rank};
        }
      }
      stages = std::move(next);
    }
    for (std::optional<Stage> &stage : stages) {
      if (!stage) continue;
      const PlacementCost cost = model.evaluate(stage->deviceOf);
      stage->rank = {cost.violations, cost.excessBytes, cost.cost};
      if (!best || stage->rank < best->rank) best = std::move(stage);
    }
  }
  if (!best || best->deviceOf.size() != units) return {};
  return best->deviceOf;
}

} // namespace edgesplit
