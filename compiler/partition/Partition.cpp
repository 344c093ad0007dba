#include "partition/Partition.h"

#include "memory/MemoryPlan.h"
#include "partition/GatherInPlace.h"
#include "partition/PlacementSearch.h"
#include "partition/Subgraph.h"
#include "target/Target.h"
#include "support/Error.h"

#include "es_wire.h"

#include <fmt/ranges.h>
#include <llvm/ADT/DenseSet.h>
#include <llvm/ADT/STLExtras.h>

#include <algorithm>
#include <cmath>

namespace edgesplit {
namespace {

// The framing code, the generated step function and the runtime's common helpers: a flat
// allowance next to the weights while costing cuts; the final figure is measured.
constexpr int64_t kCodeAllowanceBytes = 8 * 1024;
// Branches with more legal cuts than this are costed on execution-order prefixes only.
constexpr size_t kMaxEnumeratedCuts = 4096;
// A sender numbers the frames of a round in 16 bits (docs/wire.md).
constexpr int64_t kMaxFragments = ES_WIRE_MAX_FRAME + 1;

// Bytes a frame adds to its payload, as the runtime's wire format defines them: header and
// fingerprint + CRC-32 on an unkeyed link, header and tag on a keyed one (either mode).
int64_t overheadBytes(bool auth) {
  return auth ? ES_WIRE_OVERHEAD_BYTES(ES_WIRE_AEAD) : ES_WIRE_OVERHEAD_BYTES(ES_WIRE_PLAIN);
}

int popCount(GroupMask mask) { return __builtin_popcount(mask); }

int64_t valueBytes(const Value &value, Precision precision) {
  return value.shape ? numElements(*value.shape) * elementBytes(precision) : 0;
}

// Flash bytes of a node's weights as the kernels store them.
int64_t weightBytes(const Node &node, Precision precision) {
  int64_t bytes = 0;
  for (const Value *input : node.inputs) {
    if (!input || !input->isConstant() || !input->shape) continue;
    int64_t element = 4;
    if (precision == Precision::Int8 && input->quant)
      element = input->quant->storage == DType::Int32 ? 4 : 1;
    bytes += numElements(*input->shape) * element;
  }
  return bytes;
}

// A JSON object key as a JSON pointer token (RFC 6901: '~' and '/' escaped).
std::string jsonPointerStep(const std::string &key) {
  std::string token;
  for (char c : key) token += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return token;
}

class Partitioner {
public:
  explicit Partitioner(const PartitionRequest &request)
      : graph_(*request.graph), topology_(*request.topology), precision_(request.precision),
        fused_(*request.fused), scratchBytes_(request.scratchBytes), separate_(request.separate),
        auth_(topology_.keyed) {
    for (const KernelCall &call : request.wholeProgram->calls) callsOf_[call.node].push_back(&call);
    for (size_t i = 0; i < graph_.nodes().size(); ++i) nodeIndex_[graph_.nodes()[i].get()] = i;
    for (size_t d = 0; d < topology_.devices.size(); ++d)
      if (topology_.devices[d].aggregator) aggregator_ = d;
  }

  FleetPartition run() {
    FleetPartition result;
    result.tags = tagSensorGroups(graph_, topology_);
    tags_ = &result.tags;
    result.heads = resolveHeads();
    markLive(result);
    result.deviceOf.assign(graph_.nodes().size(), aggregator_);
    PlacementProblem problem = placementProblem(result);
    const PlacementCostModel model(problem);
    if (isStar()) {
      cutBranches(result);
      summarize(result, "sensor-group cut", model.evaluate(deviceOfUnits(result)),
                model.lowerBound({}, model.evaluate({})), 0);
    } else {
      const PlacementResult placed = solvePlacement(model);
      if (!placed.found)
        fail("{}: {}", graph_.sourcePath, explainNothingFits(model, placed));
      for (size_t u = 0; u < result.liveNodes.size(); ++u)
        result.deviceOf[nodeIndex_.lookup(result.liveNodes[u])] = placed.deviceOf[u];
      summarize(result, placed.method, placed.cost, placed.lowerBound, placed.evaluations);
    }
    return result;
  }

private:
  // Today's fleets: every device but the aggregator owns sensors and has a link straight to it,
  // and nothing is pinned or kept apart. Their branches keep the per-branch cut rule (each
  // branch's own latency, energy and bytes), which the whole-fleet objective could trade off
  // differently; the placement of existing fleets stays as it was (docs/partition.md).
  bool isStar() const {
    if (!topology_.pins.empty() || !separate_.empty()) return false;
    const std::string &aggregator = topology_.devices[aggregator_].name;
    for (const TopologyDevice &device : topology_.devices)
      if (!device.aggregator && (device.worker || !topology_.link(device.name, aggregator)))
        return false;
    return true;
  }

  void cutBranches(FleetPartition &result) {
    for (size_t g = 0; g < topology_.groups.size(); ++g) {
      const TopologyDevice *owner = topology_.owner(topology_.groups[g].name);
      const size_t device = static_cast<size_t>(owner - topology_.devices.data());
      if (device == aggregator_) continue;
      BranchPlan branch = planBranch(g, device);
      for (const Node *node : branch.options[branch.chosen].sensorNodes)
        result.deviceOf[nodeIndex_.lookup(node)] = device;
      result.branches.push_back(std::move(branch));
    }
  }

  std::vector<size_t> deviceOfUnits(const FleetPartition &result) const {
    std::vector<size_t> devices;
    for (const Node *node : result.liveNodes)
      devices.push_back(result.deviceOf[nodeIndex_.lookup(node)]);
    return devices;
  }

  static void summarize(FleetPartition &result, const std::string &method,
                        const PlacementCost &cost, double lowerBound, size_t evaluations) {
    PlacementSummary &summary = result.placement;
    summary.method = method;
    summary.cost = cost.cost;
    summary.lowerBound = lowerBound;
    summary.latencyMs = cost.latencyMs;
    summary.energyUj = cost.energyUj;
    summary.airBytes = cost.airBytes;
    summary.evaluations = evaluations;
    summary.devices = cost.devices;
    result.gatheredInPlace.clear();
    for (size_t u = 0; u < cost.gathersInPlace.size(); ++u)
      if (cost.gathersInPlace[u]) result.gatheredInPlace.push_back(result.liveNodes[u]);
  }

  // The live nodes as placement units (execution order), the tensors they read and the heads'
  // values, each node's compute time, scratch and weights on every device, the topology's pins
  // and the separations asked for.
  PlacementProblem placementProblem(const FleetPartition &result) const {
    PlacementProblem problem;
    problem.topology = &topology_;
    problem.codeAllowanceBytes = kCodeAllowanceBytes;
    const size_t devices = topology_.devices.size();
    llvm::DenseMap<const Node *, size_t> unitOf;
    for (size_t u = 0; u < result.liveNodes.size(); ++u) unitOf[result.liveNodes[u]] = u;
    llvm::DenseMap<const Value *, size_t> tensorOf;
    auto tensor = [&](const Value *value) {
      auto [entry, added] = tensorOf.try_emplace(value, problem.tensors.size());
      if (!added) return entry->second;
      PlacementTensor placed;
      placed.name = value->name;
      placed.bytes = valueBytes(*value, precision_);
      if (value->producer)
        placed.producer = unitOf.lookup(value->producer);
      else
        placed.source = producerDevice(graph_, topology_, result.tags, result.deviceOf, *value);
      problem.tensors.push_back(std::move(placed));
      return entry->second;
    };
    for (const Node *node : result.liveNodes) {
      PlacementUnit unit;
      unit.name = node->name;
      for (const Value *input : node->inputs)
        if (input && !input->isConstant()) {
          const size_t t = tensor(input);
          if (!llvm::is_contained(unit.inputs, t)) {
            unit.inputs.push_back(t);
            problem.tensors[t].readers.push_back(problem.units.size());
          }
        }
      for (const Value *output : node->outputs)
        if (output) unit.outputs.push_back(tensor(output));
      for (size_t d = 0; d < devices; ++d) {
        unit.ms.push_back(milliseconds(cycles(node, d), d));
        unit.scratchBytes.push_back(scratchBytes_ ? scratchBytes_(*node, d) : 0);
      }
      unit.weightBytes = weightBytes(*node, precision_);
      unit.gathers = concatPartOffsets(*node, elementBytes(precision_)).has_value();
      problem.units.push_back(std::move(unit));
    }
    for (const HeadPlan &head : result.heads) problem.tensors[tensor(head.value)].head = true;
    for (const auto &pin : topology_.pins) {
      const std::string &name = pin.first;
      const size_t device = pin.second;
      const auto node = llvm::find_if(graph_.nodes(), [&](const auto &n) { return n->name == name; });
      if (node == graph_.nodes().end()) {
        std::vector<std::string> some;
        for (const auto &other : graph_.nodes())
          if (!other->name.empty() && some.size() < 5) some.push_back(other->name);
        fail("{}: /placement/{}: the model {} has no node '{}' to place (a Relu or Clip fused "
             "into the layer before it goes with that layer); name one of its nodes ({}{}; "
             "`edgesplit inspect` lists them)",
             topology_.source, jsonPointerStep(name), graph_.sourcePath, name,
             fmt::join(some, ", "), graph_.nodes().size() > some.size() ? ", ..." : "");
      }
      for (const Value *output : (*node)->outputs)
        if (output && headValues_.count(output) && !topology_.devices[device].aggregator)
          fail("{}: /placement/{}: '{}' computes the head '{}', and heads run on the aggregator "
               "'{}'; pin it there or remove the pin",
               topology_.source, jsonPointerStep(name), name, output->name,
               topology_.devices[aggregator_].name);
      if (!unitOf.count(node->get())) continue; // no head needs it
      std::vector<bool> &allowed = problem.units[unitOf.lookup(node->get())].allowed;
      allowed.assign(devices, false);
      allowed[device] = true;
    }
    for (const std::vector<const Node *> &group : separate_) {
      std::vector<size_t> units;
      for (const Node *node : group)
        if (unitOf.count(node)) units.push_back(unitOf.lookup(node));
      if (units.size() > 1) problem.separate.push_back(std::move(units));
    }
    return problem;
  }

  std::vector<HeadPlan> resolveHeads() const {
    std::vector<HeadPlan> heads;
    auto add = [&](const std::string &name, int64_t priority) {
      for (const GraphOutput &output : graph_.outputs)
        if (output.name == name) {
          const GroupMask groups = tags_->values.lookup(output.value);
          if (groups == 0)
            fail("{}: head '{}' depends on no sensor group (a constant output); remove it from "
                 "/heads",
                 topology_.source, name);
          heads.push_back({name, output.value, groups, priority});
          return;
        }
      fail("{}: /heads: '{}' is not an output of {}; fix the name or remove the head",
           topology_.source, name, graph_.sourcePath);
    };
    if (topology_.heads) {
      for (const TopologyHead &head : *topology_.heads) add(head.output, head.priority);
    } else {
      for (const GraphOutput &output : graph_.outputs) add(output.name, 0);
    }
    if (heads.size() > 32)
      fail("{}: /heads: {} heads, but the aggregator supports at most 32; list fewer heads",
           topology_.source, heads.size());
    // Most groups first, then priority, then model output order (docs/partition.md); /heads may
    // list the heads in any order, so the last tie is broken by the output's index, not by
    // where the head was added.
    auto outputIndex = [&](const HeadPlan &head) {
      return std::find_if(graph_.outputs.begin(), graph_.outputs.end(),
                          [&](const GraphOutput &output) { return output.name == head.output; }) -
             graph_.outputs.begin();
    };
    std::sort(heads.begin(), heads.end(), [&](const HeadPlan &a, const HeadPlan &b) {
      if (popCount(a.groups) != popCount(b.groups)) return popCount(a.groups) > popCount(b.groups);
      if (a.priority != b.priority) return a.priority > b.priority;
      return outputIndex(a) < outputIndex(b);
    });
    return heads;
  }

  void markLive(FleetPartition &result) {
    llvm::SmallVector<const Value *, 16> pending;
    for (const HeadPlan &head : result.heads) pending.push_back(head.value);
    while (!pending.empty()) {
      const Value *value = pending.pop_back_val();
      const Node *producer = value->producer;
      if (!producer || !live_.insert(producer).second) continue;
      for (const Value *input : producer->inputs)
        if (input && !input->isConstant()) pending.push_back(input);
    }
    for (const auto &node : graph_.nodes())
      if (live_.count(node.get())) result.liveNodes.push_back(node.get());
    for (const HeadPlan &head : result.heads) headValues_.insert(head.value);
  }

  double cycles(const Node *node, size_t device) const {
    double total = 0;
    auto calls = callsOf_.find(node);
    if (calls == callsOf_.end()) return 0;
    for (const KernelCall *call : calls->second)
      total += estimateCycles(topology_.devices[device].target, precision_, *call);
    return total;
  }
  double milliseconds(double cycles, size_t device) const {
    return cycles / (topology_.devices[device].target.clockMhz * 1000.0);
  }
  double microjoules(double ms, size_t device) const {
    return topology_.devices[device].target.activeMw * ms; // mW * ms = uJ
  }

  // Every set of branch nodes closed under predecessors in the branch (a legal sensor side),
  // or the execution-order prefixes when there are too many.
  std::vector<std::vector<const Node *>> legalCuts(const std::vector<const Node *> &branch,
                                                   bool &exhaustive) const {
    llvm::DenseMap<const Node *, size_t> position;
    for (size_t i = 0; i < branch.size(); ++i) position[branch[i]] = i;
    std::vector<llvm::SmallVector<size_t, 2>> predecessors(branch.size());
    for (size_t i = 0; i < branch.size(); ++i)
      for (const Value *input : branch[i]->inputs)
        if (input && input->producer && position.count(input->producer))
          predecessors[i].push_back(position.lookup(input->producer));

    std::vector<std::vector<const Node *>> cuts;
    std::vector<bool> chosen(branch.size(), false);
    exhaustive = true;
    std::function<void(size_t)> visit = [&](size_t i) {
      if (!exhaustive) return;
      if (i == branch.size()) {
        if (cuts.size() >= kMaxEnumeratedCuts) {
          exhaustive = false;
          return;
        }
        std::vector<const Node *> cut;
        for (size_t k = 0; k < branch.size(); ++k)
          if (chosen[k]) cut.push_back(branch[k]);
        cuts.push_back(std::move(cut));
        return;
      }
      visit(i + 1); // node i stays on the aggregator
      if (llvm::all_of(predecessors[i], [&](size_t p) { return chosen[p]; })) {
        chosen[i] = true;
        visit(i + 1);
        chosen[i] = false;
      }
    };
    visit(0);
    if (!exhaustive) {
      cuts.clear();
      for (size_t length = 0; length <= branch.size(); ++length)
        cuts.emplace_back(branch.begin(), branch.begin() + static_cast<std::ptrdiff_t>(length));
    }
    // The raw-data option first, then by how much runs on the sensor.
    std::stable_sort(cuts.begin(), cuts.end(),
                     [](const auto &a, const auto &b) { return a.size() < b.size(); });
    return cuts;
  }

  BranchPlan planBranch(size_t group, size_t device) {
    const SensorGroup &sensorGroup = topology_.groups[group];
    const GroupMask bit = GroupMask(1) << group;
    BranchPlan plan;
    plan.group = group;
    plan.device = device;
    const TopologyDevice &sensor = topology_.devices[device];
    std::vector<const Value *> groupInputs;
    for (const Value *input : graph_.inputs)
      if (llvm::is_contained(sensorGroup.inputs, input->name)) groupInputs.push_back(input);
    const TopologyLink link = pathToAggregator(device, groupInputs, plan.link);

    std::vector<const Node *> branch;
    for (const auto &node : graph_.nodes()) {
      if (!live_.count(node.get()) || tags_->nodes.lookup(node.get()) != bit) continue;
      // Heads run on the aggregator, which reports and selects them.
      if (llvm::any_of(node->outputs, [&](const Value *out) {
            return out && (headValues_.count(out) || graph_.isGraphOutput(out));
          }))
        continue;
      branch.push_back(node.get());
    }
    for (auto &cut : legalCuts(branch, plan.exhaustive))
      plan.options.push_back(evaluate(cut, branch, groupInputs, device, link));
    markPareto(plan.options);

    std::optional<size_t> best, bestCooked;
    for (size_t i = 0; i < plan.options.size(); ++i) {
      const CutOption &option = plan.options[i];
      if (!option.fits) continue;
      if (!best || option.cost < plan.options[*best].cost) best = i;
      if (!sendsRaw(option) && (!bestCooked || option.cost < plan.options[*bestCooked].cost))
        bestCooked = i;
    }
    if (!best) {
      const CutOption &raw = plan.options.front();
      fail("{}: sensor device '{}' (/devices/{}) cannot run any part of group '{}', not even "
           "sending its raw data: {}; raise its ram_kib/flash_kib or lower costs.stack_bytes",
           topology_.source, sensor.name, device, sensorGroup.name, raw.limit);
    }
    if (topology_.forbidRaw) {
      if (!bestCooked) {
        const CutOption *smallest = nullptr; // the cheapest cut that sends no raw data
        for (const CutOption &option : plan.options)
          if (!sendsRaw(option) && (!smallest || option.sensorRamBytes < smallest->sensorRamBytes))
            smallest = &option;
        fail("{}: /privacy/raw: \"forbid\", but sensor device '{}' (/devices/{}) can only send "
             "group '{}' raw{}; raise its ram_kib/flash_kib, lower costs.stack_bytes, or allow "
             "raw data",
             topology_.source, sensor.name, device, sensorGroup.name,
             smallest ? " (the smallest other cut " + smallest->limit + ")" : "");
      }
      best = bestCooked;
    }
    plan.chosen = *best;
    return plan;
  }

  // The direct link from the sensor device to the aggregator, or, when there is none, the
  // cheapest route for its raw data seen as one link: the route's mtu, its slowest hop, every
  // hop's latency and radio energy.
  TopologyLink pathToAggregator(size_t device, const std::vector<const Value *> &groupInputs,
                                size_t &firstLink) const {
    const TopologyDevice &sensor = topology_.devices[device];
    if (const TopologyLink *direct =
            topology_.link(sensor.name, topology_.devices[aggregator_].name)) {
      firstLink = static_cast<size_t>(direct - topology_.links.data());
      return *direct;
    }
    int64_t raw = 0;
    for (const Value *input : groupInputs) raw += valueBytes(*input, precision_);
    const Route route = cheapestRoute(topology_, device, aggregator_, raw);
    TopologyLink path = topology_.links[route.links.front()];
    path.to = topology_.devices[aggregator_].name;
    path.mtu = route.mtu;
    path.latencyMs = path.njPerByte = 0;
    for (size_t l : route.links) {
      const TopologyLink &hop = topology_.links[l];
      path.kbps = std::min(path.kbps, hop.kbps);
      path.latencyMs += hop.latencyMs;
      path.njPerByte += hop.njPerByte;
    }
    firstLink = route.links.front();
    return path;
  }

  CutOption evaluate(const std::vector<const Node *> &cut, const std::vector<const Node *> &branch,
                     const std::vector<const Value *> &groupInputs, size_t device,
                     const TopologyLink &link) {
    CutOption option;
    option.sensorNodes.assign(cut.begin(), cut.end());
    llvm::DenseSet<const Node *> onSensor(cut.begin(), cut.end());
    auto consumedElsewhere = [&](const Value *value) {
      for (const Node *user : graph_.users(value))
        if (live_.count(user) && !onSensor.count(user)) return true;
      return false;
    };
    for (const Value *input : groupInputs)
      if (consumedElsewhere(input)) option.sent.push_back(input);
    for (const Node *node : cut)
      for (const Value *output : node->outputs)
        if (output && consumedElsewhere(output)) option.sent.push_back(output);

    double sensorCycles = 0, aggregatorCycles = 0;
    int64_t weights = 0;
    for (const Node *node : branch) {
      if (onSensor.count(node)) {
        sensorCycles += cycles(node, device);
        weights += weightBytes(*node, precision_);
        for (const auto *call : callsOf_.lookup(node)) option.sensorMacs += call->macs;
      } else {
        aggregatorCycles += cycles(node, aggregator_);
      }
    }
    for (const Value *value : option.sent) {
      const int64_t bytes = valueBytes(*value, precision_);
      if (wireFrames(bytes, link.mtu, auth_) > kMaxFragments) {
        option.fits = false;
        option.limit = fmt::format("'{}' ({} bytes) needs more than {} frames on a {}-byte MTU",
                                   value->name, bytes, kMaxFragments, link.mtu);
      }
      option.payloadBytes += bytes;
      option.frames += wireFrames(bytes, link.mtu, auth_);
      option.airBytes += wireAirBytes(bytes, link.mtu, auth_);
    }
    option.sensorMs = milliseconds(sensorCycles, device);
    option.aggregatorMs = milliseconds(aggregatorCycles, aggregator_);
    option.linkMs = option.sent.empty() ? 0.0
                                        : static_cast<double>(option.airBytes) * 8.0 / link.kbps +
                                              link.latencyMs;
    option.latencyMs = option.sensorMs + option.linkMs + option.aggregatorMs;
    option.energyUj = microjoules(option.sensorMs, device) +
                      static_cast<double>(option.airBytes) * link.njPerByte / 1000.0 +
                      microjoules(option.aggregatorMs, aggregator_);
    const Objective &objective = topology_.objective;
    option.cost = objective.latency * option.latencyMs + objective.energy * option.energyUj +
                  objective.bytes * static_cast<double>(option.airBytes);

    // The sensor's own arena for this cut, planned as its device program will be.
    llvm::SmallVector<GraphOutput, 2> outputs;
    for (const Value *value : option.sent) outputs.push_back({value->name, const_cast<Value *>(value)});
    Subgraph sensorGraph = extractSubgraph(graph_, cut, groupInputs, outputs, fused_);
    MemoryPlanOptions planOptions;
    planOptions.valueBytes = bytesPerElement(elementBytes(precision_));
    if (scratchBytes_)
      planOptions.scratchBytes = [this, device](const Node &node) {
        return scratchBytes_(node, device);
      };
    const int64_t arena = planMemory(*sensorGraph.graph, planOptions).arenaBytes;
    const Target &target = topology_.devices[device].target;
    option.sensorRamBytes = arena + target.stackBytes + link.mtu;
    option.sensorFlashEstimate = weights + kCodeAllowanceBytes;
    const int64_t ramLimit = target.ramKib * 1024, flashLimit = target.flashKib * 1024;
    if (option.fits && option.sensorRamBytes > ramLimit) {
      option.fits = false;
      option.limit = fmt::format("needs {} bytes of RAM (arena {} + stack {} + frame buffer {}), "
                                 "has {}",
                                 option.sensorRamBytes, arena, target.stackBytes, link.mtu,
                                 ramLimit);
    } else if (option.fits && option.sensorFlashEstimate > flashLimit) {
      option.fits = false;
      option.limit = fmt::format("needs about {} bytes of flash (weights {} + code), has {}",
                                 option.sensorFlashEstimate, weights, flashLimit);
    }
    return option;
  }

  // Whether the option sends one of the model's inputs (raw sensor data) over the link.
  bool sendsRaw(const CutOption &option) const {
    return llvm::any_of(option.sent,
                        [&](const Value *value) { return llvm::is_contained(graph_.inputs, value); });
  }

  static void markPareto(std::vector<CutOption> &options) {
    for (CutOption &option : options) {
      if (!option.fits) continue;
      option.pareto = llvm::none_of(options, [&](const CutOption &other) {
        if (!other.fits || &other == &option) return false;
        const bool noWorse = other.latencyMs <= option.latencyMs &&
                             other.energyUj <= option.energyUj &&
                             other.airBytes <= option.airBytes;
        const bool better = other.latencyMs < option.latencyMs ||
                            other.energyUj < option.energyUj || other.airBytes < option.airBytes;
        return noWorse && better;
      });
    }
  }

  const Graph &graph_;
  const Topology &topology_;
  Precision precision_;
  const llvm::DenseMap<const Node *, ActivationClamp> &fused_;
  std::function<int64_t(const Node &, size_t)> scratchBytes_;
  std::vector<std::vector<const Node *>> separate_;
  bool auth_;
  size_t aggregator_ = 0;
  const GroupTags *tags_ = nullptr;
  llvm::DenseMap<const Node *, std::vector<const KernelCall *>> callsOf_;
  llvm::DenseMap<const Node *, size_t> nodeIndex_;
  llvm::DenseSet<const Node *> live_;
  llvm::DenseSet<const Value *> headValues_;
};

} // namespace

GroupTags tagSensorGroups(const Graph &graph, const Topology &topology) {
  if (topology.groups.size() > 32)
    fail("{}: /sensor_groups: {} sensor groups, but at most 32 are supported; merge some groups",
         topology.source, topology.groups.size());
  GroupTags tags;
  for (const Value *input : graph.inputs)
    for (size_t g = 0; g < topology.groups.size(); ++g)
      if (llvm::is_contained(topology.groups[g].inputs, input->name))
        tags.values[input] = GroupMask(1) << g;
  for (const auto &node : graph.nodes()) {
    GroupMask mask = 0;
    for (const Value *input : node->inputs)
      if (input && !input->isConstant()) mask |= tags.values.lookup(input);
    tags.nodes[node.get()] = mask;
    for (const Value *output : node->outputs)
      if (output) tags.values[output] = mask;
  }
  return tags;
}

int64_t wireFragmentBytes(int64_t mtu, bool auth) { return mtu - overheadBytes(auth); }

int64_t wireFrames(int64_t payloadBytes, int64_t mtu, bool auth) {
  const int64_t fragment = wireFragmentBytes(mtu, auth);
  return std::max<int64_t>(1, (payloadBytes + fragment - 1) / fragment);
}

int64_t wireAirBytes(int64_t payloadBytes, int64_t mtu, bool auth) {
  return payloadBytes + wireFrames(payloadBytes, mtu, auth) * overheadBytes(auth);
}

size_t producerDevice(const Graph &graph, const Topology &topology, const GroupTags &tags,
                      const std::vector<size_t> &deviceOf, const Value &value) {
  if (value.producer) {
    const auto &nodes = graph.nodes();
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].get() == value.producer) return deviceOf[i];
    fail("internal error: '{}' has a producer outside the graph", value.name);
  }
  const GroupMask groups = tags.values.lookup(&value);
  if (groups == 0) fail("internal error: model input '{}' is in no sensor group", value.name);
  const TopologyDevice *owner =
      topology.owner(topology.groups[static_cast<size_t>(__builtin_ctz(groups))].name);
  return static_cast<size_t>(owner - topology.devices.data());
}

std::vector<Transfer> planTransfers(const Graph &graph, const Topology &topology,
                                    const FleetPartition &partition, Precision precision) {
  llvm::DenseMap<const Node *, size_t> index;
  for (size_t i = 0; i < graph.nodes().size(); ++i) index[graph.nodes()[i].get()] = i;
  // (reader, value) pairs in the reader's order of first use; the heads last, on the aggregator.
  std::vector<std::vector<const Value *>> read(topology.devices.size());
  auto need = [&](size_t reader, const Value *value) {
    if (!llvm::is_contained(read[reader], value)) read[reader].push_back(value);
  };
  for (const Node *node : partition.liveNodes)
    for (const Value *input : node->inputs)
      if (input && !input->isConstant()) need(partition.deviceOf[index.lookup(node)], input);
  for (const HeadPlan &head : partition.heads) need(topology.aggregatorIndex(), head.value);
  std::vector<Transfer> transfers;
  for (size_t reader = 0; reader < read.size(); ++reader)
    for (const Value *value : read[reader]) {
      const size_t producer =
          producerDevice(graph, topology, partition.tags, partition.deviceOf, *value);
      if (producer == reader) continue;
      transfers.push_back(
          {value, cheapestRoute(topology, producer, reader, valueBytes(*value, precision))});
    }
  return transfers;
}

FleetPartition partitionFleet(const PartitionRequest &request) {
  FleetPartition partition = Partitioner(request).run();
  partition.transfers =
      planTransfers(*request.graph, *request.topology, partition, request.precision);
  return partition;
}

} // namespace edgesplit
