#include "partition/PlacementCost.h"

#include "es_wire.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>

namespace edgesplit {
namespace {

// A sender numbers the frames of a tensor in 16 bits (docs/wire.md).
constexpr int64_t kMaxFragments = ES_WIRE_MAX_FRAME + 1;

} // namespace

int64_t reassemblyBytes(int64_t bytes, int64_t fragments, bool worker) {
  const int64_t bitmap = (fragments + 7) / 8;
  return ES_WIRE_ROUNDS_IN_FLIGHT * (worker ? bitmap : bytes + bitmap);
}

DeviceLoad sketchedStageLoad(const Topology &topology, const StageSketch &stage, size_t device,
                             StageInputs inputs) {
  if (stage.steps.empty()) return {};
  const size_t devices = topology.devices.size(), aggregator = topology.aggregatorIndex();
  // Received: from the device whose link into `device` has the smallest mtu (the most frames).
  size_t source = device;
  if (inputs == StageInputs::Received) {
    const TopologyLink *narrowest = nullptr;
    for (const TopologyLink &link : topology.links)
      if (link.to == topology.devices[device].name && (!narrowest || link.mtu < narrowest->mtu))
        narrowest = &link;
    if (narrowest) source = topology.deviceIndex(narrowest->from);
  }
  PlacementProblem problem;
  problem.topology = &topology;
  auto unit = [&](const std::string &name, const std::vector<size_t> &reads) {
    PlacementUnit placed;
    placed.name = name;
    placed.inputs = reads;
    placed.ms.assign(devices, 0.0);
    placed.scratchBytes.assign(devices, 0);
    for (size_t t : reads) problem.tensors[t].readers.push_back(problem.units.size());
    problem.units.push_back(std::move(placed));
  };
  for (size_t i = 0; i < stage.inputBytes.size(); ++i) {
    PlacementTensor input;
    input.name = fmt::format("input{}", i);
    input.bytes = stage.inputBytes[i];
    input.source = source;
    problem.tensors.push_back(std::move(input));
  }
  for (size_t s = 0; s < stage.steps.size(); ++s) {
    PlacementTensor output;
    output.name = fmt::format("step{}", s);
    output.bytes = stage.steps[s].outputBytes;
    output.producer = problem.units.size();
    problem.tensors.push_back(std::move(output));
    unit(fmt::format("step{}", s), stage.steps[s].reads);
    problem.units.back().outputs = {problem.tensors.size() - 1};
  }
  std::vector<size_t> deviceOf(problem.units.size(), device);
  if (device == aggregator) {
    problem.tensors.back().head = true; // kept to the end
  } else {
    // A reader on the aggregator: the output is sent on (and the inputs, when they are).
    std::vector<size_t> sent{problem.tensors.size() - 1};
    if (inputs == StageInputs::OwnSentOn)
      for (size_t i = 0; i < stage.inputBytes.size(); ++i) sent.push_back(i);
    unit("elsewhere", sent);
    deviceOf.push_back(aggregator);
  }
  return PlacementCostModel(problem).evaluate(deviceOf).devices[device];
}

PlacementCostModel::PlacementCostModel(const PlacementProblem &problem) : problem_(problem) {
  const size_t units = problem.units.size(), devices = deviceCount();
  const Topology &topology = *problem.topology;
  std::vector<double> leastMs(units, 0.0), leastUj(units, 0.0);
  for (size_t u = 0; u < units; ++u) {
    double ms = std::numeric_limits<double>::infinity(), uj = ms;
    for (size_t d = 0; d < devices; ++d) {
      if (!allowed(u, d) || !fitsAlone(u, d)) continue;
      ms = std::min(ms, problem.units[u].ms[d]);
      uj = std::min(uj, problem.units[u].ms[d] * topology.devices[d].target.activeMw);
    }
    leastMs[u] = std::isinf(ms) ? 0.0 : ms;
    leastUj[u] = std::isinf(uj) ? 0.0 : uj;
  }
  tailMs_.assign(units, 0.0);
  for (size_t u = units; u-- > 0;) {
    double after = 0;
    for (size_t t : problem.units[u].outputs)
      for (size_t reader : problem.tensors[t].readers) after = std::max(after, tailMs_[reader]);
    tailMs_[u] = leastMs[u] + after;
  }
  suffixEnergyUj_.assign(units + 1, 0.0);
  for (size_t u = units; u-- > 0;) suffixEnergyUj_[u] = suffixEnergyUj_[u + 1] + leastUj[u];
}

bool PlacementCostModel::allowed(size_t unit, size_t device) const {
  const std::vector<bool> &allowed = problem_.units[unit].allowed;
  return allowed.empty() || allowed[device];
}

int64_t PlacementCostModel::aloneActivationBytes(size_t unit, size_t device) const {
  const PlacementUnit &placed = problem_.units[unit];
  int64_t bytes = placed.scratchBytes[device];
  for (size_t t : placed.inputs) bytes += problem_.tensors[t].bytes;
  for (size_t t : placed.outputs) bytes += problem_.tensors[t].bytes;
  return bytes;
}

bool PlacementCostModel::fitsAlone(size_t unit, size_t device) const {
  const Target &target = problem_.topology->devices[device].target;
  return aloneActivationBytes(unit, device) + target.stackBytes <= target.ramKib * 1024 &&
         problem_.units[unit].weightBytes + problem_.codeAllowanceBytes <=
             target.flashKib * 1024;
}

const Route &PlacementCostModel::route(int64_t bytes, size_t from, size_t to) const {
  auto key = std::make_tuple(bytes, from, to);
  auto found = routes_.find(key);
  if (found == routes_.end())
    found = routes_.emplace(key, cheapestRoute(*problem_.topology, from, to, bytes)).first;
  return found->second;
}

namespace {

// Whether the directed graph of (sender, reader) device pairs has a cycle.
bool hasCycle(const std::set<std::pair<size_t, size_t>> &flows, size_t devices) {
  std::vector<int> state(devices, 0); // 0: unseen, 1: on the path, 2: done
  std::function<bool(size_t)> visit = [&](size_t device) {
    state[device] = 1;
    for (auto it = flows.lower_bound({device, 0}); it != flows.end() && it->first == device; ++it)
      if (state[it->second] == 1 || (state[it->second] == 0 && visit(it->second))) return true;
    state[device] = 2;
    return false;
  };
  for (size_t d = 0; d < devices; ++d)
    if (state[d] == 0 && visit(d)) return true;
  return false;
}

} // namespace

PlacementCost PlacementCostModel::evaluate(llvm::ArrayRef<size_t> deviceOf, bool explain) const {
  const Topology &topology = *problem_.topology;
  const size_t placed = deviceOf.size(), devices = deviceCount();
  const size_t aggregator = topology.aggregatorIndex();
  PlacementCost cost;
  cost.devices.assign(devices, {});
  cost.finishMs.assign(placed, 0.0);
  auto broken = [&](const std::string &why) {
    ++cost.violations;
    if (explain && cost.limit.empty()) cost.limit = why;
  };
  auto deviceOfTensor = [&](const PlacementTensor &tensor) -> std::optional<size_t> {
    if (!tensor.producer) return tensor.source;
    if (*tensor.producer < placed) return deviceOf[*tensor.producer];
    return std::nullopt;
  };
  auto readyMs = [&](const PlacementTensor &tensor) {
    return tensor.producer ? cost.finishMs[*tensor.producer] : 0.0;
  };

  // Each unit's position among its device's units: its step there.
  std::vector<size_t> step(placed), steps(devices, 0);
  for (size_t u = 0; u < placed; ++u) {
    step[u] = steps[deviceOf[u]]++;
    ++cost.devices[deviceOf[u]].units;
    if (!allowed(u, deviceOf[u]))
      broken(fmt::format("'{}' is pinned elsewhere", problem_.units[u].name));
  }

  // Transfers, by (tensor, reading device); the routes they take, by their links; which devices
  // send to which.
  std::set<std::pair<size_t, size_t>> flows;
  // Transfers, by (tensor, reading device); the routes they take, by their links.
  std::map<std::pair<size_t, size_t>, const Route *> transfers;
  std::set<std::vector<size_t>> routesUsed;
  auto transfer = [&](size_t t, size_t from, size_t to) -> const Route & {
    auto [entry, added] = transfers.emplace(std::make_pair(t, to), nullptr);
    if (!added) return *entry->second;
    const PlacementTensor &tensor = problem_.tensors[t];
    const Route &path = route(tensor.bytes, from, to);
    entry->second = &path;
    if (path.links.empty()) {
      broken(fmt::format("no path of links carries '{}' from '{}' to '{}'", tensor.name,
                         topology.devices[from].name, topology.devices[to].name));
      return path;
    }
    // What the generated fleet code runs (docs/partition.md, "Generated code"): a sensor device
    // only sends, the aggregator only receives, and tensors flow one way between devices.
    const TopologyDevice &sender = topology.devices[from], &reader = topology.devices[to];
    if (!reader.aggregator && !reader.worker)
      broken(fmt::format("sensor device '{}' would receive '{}'", reader.name, tensor.name));
    if (sender.aggregator)
      broken(fmt::format("the aggregator '{}' would send '{}'", sender.name, tensor.name));
    flows.insert({from, to});
    if (!tensor.producer && topology.forbidRaw)
      broken(fmt::format("raw sensor data '{}' would leave '{}' (/privacy/raw: \"forbid\")",
                         tensor.name, topology.devices[from].name));
    if (path.frames > kMaxFragments)
      broken(fmt::format("'{}' ({} bytes) needs more than {} frames on a {}-byte MTU", tensor.name,
                         tensor.bytes, kMaxFragments, path.mtu));
    cost.energyUj += path.energyUj;
    cost.airBytes += path.airBytesPerHop * static_cast<int64_t>(path.hops());
    cost.devices[to].receiveBytes += reassemblyBytes(tensor.bytes, path.frames, reader.worker);
    if (routesUsed.insert(path.links).second) {
      cost.devices[from].frameBufferBytes += path.mtu;
      for (size_t relay : path.relays(topology)) cost.devices[relay].frameBufferBytes += path.mtu;
    }
    return path;
  };

  // Each device runs its units in execution order, each once its inputs are there.
  std::vector<double> freeMs(devices, 0.0);
  for (size_t u = 0; u < placed; ++u) {
    const PlacementUnit &unit = problem_.units[u];
    const size_t device = deviceOf[u];
    double start = freeMs[device];
    for (size_t t : unit.inputs) {
      const PlacementTensor &tensor = problem_.tensors[t];
      const size_t from = *deviceOfTensor(tensor);
      double arrival = readyMs(tensor);
      if (from != device) arrival += transfer(t, from, device).ms;
      start = std::max(start, arrival);
    }
    cost.finishMs[u] = freeMs[device] = start + unit.ms[device];
    cost.latencyMs = std::max(cost.latencyMs, cost.finishMs[u]);
    cost.energyUj += unit.ms[device] * topology.devices[device].target.activeMw; // mW ms = uJ
    cost.devices[device].flashBytes += unit.weightBytes;
  }
  for (size_t t = 0; t < problem_.tensors.size(); ++t) {
    const PlacementTensor &tensor = problem_.tensors[t];
    const std::optional<size_t> from = deviceOfTensor(tensor);
    if (!tensor.head || !from) continue;
    if (*from != aggregator)
      broken(fmt::format("head '{}' would be computed on '{}'; heads run on the aggregator",
                         tensor.name, topology.devices[*from].name));
    cost.latencyMs = std::max(cost.latencyMs, readyMs(tensor));
  }
  if (hasCycle(flows, devices)) broken("tensors would flow both ways between devices (a cycle)");

  // Gathers in place (docs/partition.md, "Gathering in place"): a Concat on a worker that
  // receives every part, reads each there only through it and keeps its output. The parts' frames
  // land in the output, which the worker holds from its first step; the parts take no bytes. The
  // one place this is decided: the fleet compiler builds what the cost records.
  std::vector<bool> &inPlace = cost.gathersInPlace;
  inPlace.assign(placed, false);
  std::set<std::pair<size_t, size_t>> partsInPlace; // (tensor, device)
  for (size_t u = 0; u < placed; ++u) {
    const PlacementUnit &unit = problem_.units[u];
    const size_t device = deviceOf[u];
    if (!unit.gathers || !topology.devices[device].worker) continue;
    bool fits = true;
    for (size_t t : unit.inputs) {
      const std::optional<size_t> from = deviceOfTensor(problem_.tensors[t]);
      fits = fits && from && *from != device;
      for (size_t reader : problem_.tensors[t].readers)
        fits = fits && (reader == u || reader >= placed || deviceOf[reader] != device);
    }
    for (size_t t : unit.outputs) {
      fits = fits && !problem_.tensors[t].head;
      for (size_t reader : problem_.tensors[t].readers)
        fits = fits && (reader >= placed || deviceOf[reader] == device);
    }
    if (!fits) continue;
    inPlace[u] = true;
    for (size_t t : unit.inputs) partsInPlace.insert({t, device});
  }

  // Activations: on each device, the tensors live at each of its steps. A tensor lives on the
  // device computing it (or whose sensors give it) from then until its last reader there, or to
  // the device's last step when it is sent on or is a head on the aggregator; a received tensor
  // from its first reader to its last.
  std::vector<std::vector<int64_t>> delta(devices);
  for (size_t d = 0; d < devices; ++d) delta[d].assign(std::max<size_t>(steps[d], 1) + 1, 0);
  auto live = [&](size_t device, size_t first, size_t last, int64_t bytes) {
    delta[device][first] += bytes;
    delta[device][last + 1] -= bytes;
  };
  for (size_t t = 0; t < problem_.tensors.size(); ++t) {
    const PlacementTensor &tensor = problem_.tensors[t];
    const std::optional<size_t> home = deviceOfTensor(tensor);
    if (!home) continue;
    std::optional<size_t> first = tensor.producer ? std::optional<size_t>(step[*tensor.producer])
                                                  : std::nullopt;
    std::optional<size_t> last = first;
    std::map<size_t, std::pair<size_t, size_t>> elsewhere; // device -> first, last reader step
    for (size_t reader : tensor.readers) {
      if (reader >= placed) continue;
      const size_t device = deviceOf[reader];
      if (device == *home) {
        if (!first) first = step[reader];
        last = std::max(last.value_or(0), step[reader]);
        continue;
      }
      auto [entry, added] = elsewhere.emplace(device, std::make_pair(step[reader], step[reader]));
      if (!added) entry->second.second = step[reader];
    }
    const bool sent = !elsewhere.empty() || (tensor.head && *home != aggregator);
    if (sent || (tensor.head && *home == aggregator)) {
      if (!first) first = 0;
      last = std::max<size_t>(steps[*home], 1) - 1;
    }
    if (tensor.producer && *tensor.producer < placed && inPlace[*tensor.producer]) first = 0;
    if (first && last) live(*home, *first, std::max(*first, *last), tensor.bytes);
    // A worker reassembles what it receives in its arena, before its first step.
    for (const auto &[device, span] : elsewhere)
      if (!partsInPlace.count({t, device}))
        live(device, topology.devices[device].worker ? 0 : span.first, span.second, tensor.bytes);
  }
  for (size_t d = 0; d < devices; ++d) {
    int64_t bytes = 0, peak = 0;
    for (size_t s = 0; s + 1 < delta[d].size(); ++s) {
      bytes += delta[d][s];
      peak = std::max(peak, bytes);
    }
    cost.devices[d].activationBytes = peak;
  }
  // Scratch is needed only during its unit's step.
  {
    std::vector<std::vector<int64_t>> at(devices);
    for (size_t d = 0; d < devices; ++d) {
      at[d].assign(delta[d].size(), 0);
      int64_t bytes = 0;
      for (size_t s = 0; s + 1 < delta[d].size(); ++s) at[d][s] = bytes += delta[d][s];
    }
    for (size_t u = 0; u < placed; ++u) {
      const size_t d = deviceOf[u];
      cost.devices[d].activationBytes =
          std::max(cost.devices[d].activationBytes,
                   at[d][step[u]] + problem_.units[u].scratchBytes[d]);
    }
  }

  for (size_t d = 0; d < devices; ++d) {
    DeviceLoad &load = cost.devices[d];
    const Target &target = topology.devices[d].target;
    load.ramBytes =
        load.activationBytes + load.receiveBytes + load.frameBufferBytes + target.stackBytes;
    load.flashBytes += problem_.codeAllowanceBytes;
    const int64_t ram = target.ramKib * 1024, flash = target.flashKib * 1024;
    cost.excessBytes += std::max<int64_t>(0, load.ramBytes - ram) +
                        std::max<int64_t>(0, load.flashBytes - flash);
    if (explain && cost.limit.empty() && load.ramBytes > ram)
      cost.limit = fmt::format("'{}' needs {} bytes of RAM (activations {} + receive buffers {} "
                               "+ frame buffers {} + stack {}), has {}",
                               topology.devices[d].name, load.ramBytes, load.activationBytes,
                               load.receiveBytes, load.frameBufferBytes, target.stackBytes, ram);
    if (explain && cost.limit.empty() && load.flashBytes > flash)
      cost.limit = fmt::format("'{}' needs about {} bytes of flash (weights {} + code), has {}",
                               topology.devices[d].name, load.flashBytes,
                               load.flashBytes - problem_.codeAllowanceBytes, flash);
  }
  for (const std::vector<size_t> &group : problem_.separate)
    for (size_t i = 0; i < group.size(); ++i)
      for (size_t j = i + 1; j < group.size(); ++j)
        if (group[i] < placed && group[j] < placed && deviceOf[group[i]] == deviceOf[group[j]])
          broken(fmt::format("'{}' and '{}' must run on different devices",
                             problem_.units[group[i]].name, problem_.units[group[j]].name));

  cost.fits = cost.excessBytes == 0 && cost.violations == 0;
  const Objective &objective = topology.objective;
  cost.cost = objective.latency * cost.latencyMs + objective.energy * cost.energyUj +
              objective.bytes * static_cast<double>(cost.airBytes);
  return cost;
}

double PlacementCostModel::lowerBound(llvm::ArrayRef<size_t> deviceOf,
                                      const PlacementCost &prefix) const {
  const size_t placed = deviceOf.size();
  // A unit not placed yet starts no earlier than its placed producers finish and then needs at
  // least its tail of compute.
  double latency = prefix.latencyMs;
  for (size_t u = placed; u < problem_.units.size(); ++u) {
    double start = 0;
    for (size_t t : problem_.units[u].inputs) {
      const PlacementTensor &tensor = problem_.tensors[t];
      if (tensor.producer && *tensor.producer < placed)
        start = std::max(start, prefix.finishMs[*tensor.producer]);
    }
    latency = std::max(latency, start + tailMs_[u]);
  }
  const Objective &objective = problem_.topology->objective;
  return prefix.cost + objective.latency * (latency - prefix.latencyMs) +
         objective.energy * suffixEnergyUj_[placed];
}

} // namespace edgesplit
