#include "partition/PlacementSearch.h"

#include "partition/PlacementStages.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <tuple>

namespace edgesplit {
namespace {

// Fitting first, then less overflow, then cheaper.
std::tuple<size_t, int64_t, double> rank(const PlacementCost &cost, double bound) {
  return {cost.violations, cost.excessBytes, bound};
}

class BranchAndBound {
public:
  BranchAndBound(const PlacementCostModel &model, size_t budget, const PlacementResult *incumbent)
      : model_(model), budget_(budget) {
    if (incumbent && incumbent->found) {
      best_ = incumbent->deviceOf;
      bestCost_ = incumbent->cost.cost;
      found_ = true;
    }
  }

  PlacementResult run() {
    const PlacementCost root = model_.evaluate({});
    ++evaluations_;
    if (root.fits) visit(root, model_.lowerBound({}, root));
    PlacementResult result;
    result.found = found_;
    result.evaluations = evaluations_;
    result.method = exhausted_ ? "branch-and-bound within its budget" : "exact";
    if (found_) {
      result.deviceOf = best_;
      result.cost = model_.evaluate(best_);
    }
    result.lowerBound = exhausted_ ? std::min(unresolved_, bestCost_) : bestCost_;
    return result;
  }

private:
  struct Child {
    double bound;
    size_t device;
    PlacementCost cost;
  };

  void visit(const PlacementCost &cost, double bound) {
    const size_t units = model_.problem().units.size();
    if (prefix_.size() == units) {
      if (cost.fits && cost.cost < bestCost_) {
        best_ = prefix_;
        bestCost_ = cost.cost;
        found_ = true;
      }
      return;
    }
    const size_t unit = prefix_.size();
    std::vector<Child> children;
    for (size_t d = 0; d < model_.deviceCount(); ++d) {
      if (!model_.allowed(unit, d) || !model_.fitsAlone(unit, d)) continue;
      if (evaluations_ >= budget_) {
        stop(bound);
        return;
      }
      prefix_.push_back(d);
      PlacementCost child = model_.evaluate(prefix_);
      ++evaluations_;
      if (child.fits) {
        const double childBound = model_.lowerBound(prefix_, child);
        if (childBound < bestCost_) children.push_back({childBound, d, std::move(child)});
      }
      prefix_.pop_back();
    }
    std::stable_sort(children.begin(), children.end(),
                     [](const Child &a, const Child &b) { return a.bound < b.bound; });
    for (const Child &child : children) {
      if (child.bound >= bestCost_) continue; // a cheaper placement was found meanwhile
      if (exhausted_) {
        unresolved_ = std::min(unresolved_, child.bound);
        continue;
      }
      prefix_.push_back(child.device);
      visit(child.cost, child.bound);
      prefix_.pop_back();
    }
  }

  void stop(double bound) {
    exhausted_ = true;
    unresolved_ = std::min(unresolved_, bound);
  }

  const PlacementCostModel &model_;
  size_t budget_;
  std::vector<size_t> prefix_, best_;
  double bestCost_ = std::numeric_limits<double>::infinity();
  double unresolved_ = std::numeric_limits<double>::infinity(); // bounds of unexplored subtrees
  bool found_ = false, exhausted_ = false;
  size_t evaluations_ = 0;
};

} // namespace

PlacementResult placeExactly(const PlacementCostModel &model, size_t budget,
                             const PlacementResult *incumbent) {
  return BranchAndBound(model, budget, incumbent).run();
}

namespace {

// Each unit in execution order on the device that keeps the prefix best ranked.
std::vector<size_t> placeEachGreedily(const PlacementCostModel &model, size_t &evaluations) {
  std::vector<size_t> deviceOf;
  for (size_t u = 0; u < model.problem().units.size(); ++u) {
    std::optional<std::tuple<size_t, int64_t, double>> best;
    size_t bestDevice = 0;
    deviceOf.push_back(0);
    for (size_t d = 0; d < model.deviceCount(); ++d) {
      if (!model.allowed(u, d)) continue;
      deviceOf.back() = d;
      const PlacementCost cost = model.evaluate(deviceOf);
      ++evaluations;
      const auto key = rank(cost, model.lowerBound(deviceOf, cost));
      if (!best || key < *best) {
        best = key;
        bestDevice = d;
      }
    }
    deviceOf.back() = bestDevice;
  }
  return deviceOf;
}

// Single-unit moves from `deviceOf`, first improvement, until a sweep changes nothing.
PlacementResult moveLocally(const PlacementCostModel &model, std::vector<size_t> deviceOf,
                            const std::string &method, size_t evaluations) {
  PlacementResult result;
  result.method = method;
  result.deviceOf = std::move(deviceOf);
  result.evaluations = evaluations;
  PlacementCost current = model.evaluate(result.deviceOf);
  for (bool moved = true; moved;) {
    moved = false;
    for (size_t u = 0; u < result.deviceOf.size(); ++u)
      for (size_t d = 0; d < model.deviceCount(); ++d) {
        if (d == result.deviceOf[u] || !model.allowed(u, d)) continue;
        const size_t was = result.deviceOf[u];
        result.deviceOf[u] = d;
        PlacementCost cost = model.evaluate(result.deviceOf);
        ++result.evaluations;
        if (rank(cost, cost.cost) < rank(current, current.cost)) {
          current = std::move(cost);
          moved = true;
        } else {
          result.deviceOf[u] = was;
        }
      }
  }
  result.cost = std::move(current);
  result.found = result.cost.fits;
  result.lowerBound = model.lowerBound({}, model.evaluate({}));
  return result;
}

} // namespace

PlacementResult placeGreedily(const PlacementCostModel &model) {
  size_t evaluations = 0;
  std::vector<size_t> deviceOf = placeEachGreedily(model, evaluations);
  return moveLocally(model, std::move(deviceOf), "greedy+local", evaluations);
}

PlacementResult placeHeuristically(const PlacementCostModel &model) {
  PlacementResult best = placeGreedily(model);
  size_t evaluations = best.evaluations;
  std::vector<size_t> staged = placeInStages(model, evaluations);
  if (!staged.empty() || model.problem().units.empty()) {
    PlacementResult stages = moveLocally(model, std::move(staged), "stages+local", evaluations);
    if (rank(stages.cost, stages.cost.cost) < rank(best.cost, best.cost.cost)) {
      best = std::move(stages);
    } else {
      best.evaluations = stages.evaluations;
    }
  }
  return best;
}

PlacementResult solvePlacement(const PlacementCostModel &model, size_t budget) {
  PlacementResult heuristic = placeHeuristically(model);
  PlacementResult exact = placeExactly(model, budget, &heuristic);
  exact.evaluations += heuristic.evaluations;
  if (!exact.found) {
    // Nothing fits: the heuristic's least overflowing placement says why.
    heuristic.lowerBound = std::max(heuristic.lowerBound, exact.lowerBound);
    heuristic.evaluations = exact.evaluations;
    return heuristic;
  }
  if (exact.method == "exact") return exact;
  // The search ran out of budget: its best (the heuristic's or better) under the heuristic's
  // name, with the better of the two lower bounds.
  exact.method = heuristic.method;
  exact.lowerBound = std::max(exact.lowerBound, heuristic.lowerBound);
  return exact;
}

std::string explainNothingFits(const PlacementCostModel &model, const PlacementResult &best) {
  const PlacementProblem &problem = model.problem();
  const Topology &topology = *problem.topology;
  for (size_t u = 0; u < problem.units.size(); ++u) {
    std::optional<size_t> largest;
    int64_t activations = std::numeric_limits<int64_t>::max();
    bool fitsSomewhere = false;
    for (size_t d = 0; d < model.deviceCount(); ++d) {
      if (!model.allowed(u, d)) continue;
      const Target &target = topology.devices[d].target;
      activations = std::min(activations, model.aloneActivationBytes(u, d));
      fitsSomewhere = fitsSomewhere || model.fitsAlone(u, d);
      if (!largest || std::make_pair(target.ramKib, target.flashKib) >
                          std::make_pair(topology.devices[*largest].target.ramKib,
                                         topology.devices[*largest].target.flashKib))
        largest = d;
    }
    if (fitsSomewhere || !largest) continue;
    const Target &target = topology.devices[*largest].target;
    return fmt::format("layer '{}' fits on no device: it needs {} bytes of weights and {} bytes "
                       "of activations (inputs, outputs, scratch); the largest device '{}' has "
                       "{} bytes of RAM (stack {} of them) and {} bytes of flash (code about {}); "
                       "give it more RAM or flash, or split the layer's output channels over "
                       "several devices",
                       problem.units[u].name, problem.units[u].weightBytes, activations,
                       topology.devices[*largest].name, target.ramKib * 1024, target.stackBytes,
                       target.flashKib * 1024, problem.codeAllowanceBytes);
  }
  const PlacementCost explained = model.evaluate(best.deviceOf, true);
  const bool pinned = llvm::any_of(problem.units, [](const PlacementUnit &unit) {
    return !unit.allowed.empty();
  });
  if (pinned)
    return fmt::format("no placement of the model's {} nodes on the {} devices fits (the least "
                       "overflowing found: {}); change or remove the pins of /placement, or add "
                       "workers, RAM or flash, or links between the devices",
                       problem.units.size(), model.deviceCount(), explained.limit);
  return fmt::format("no placement of the model's {} nodes on the {} devices fits (the least "
                     "overflowing found: {}); add workers, RAM or flash, or links between the "
                     "devices",
                     problem.units.size(), model.deviceCount(), explained.limit);
}

} // namespace edgesplit
