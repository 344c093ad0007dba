#include "fleet/FleetCompiler.h"

#include "support/OutputFolder.h"
#include "codegen/CEmitter.h"
#include "codegen/DeviceCompiler.h"
#include "codegen/Executor.h"
#include "codegen/FleetEmitter.h"
#include "fleet/ChannelSlicing.h"
#include "fleet/SpatialTiling.h"
#include "interp/Interpreter.h"
#include "ir/Verifier.h"
#include "partition/Partition.h"
#include "partition/Subgraph.h"
#include "report/MemoryPicture.h"
#include "report/PartitionPicture.h"
#include "report/Report.h"
#include "support/Error.h"

#include "es_wire.h"

#include <llvm/ADT/DenseSet.h>
#include <llvm/ADT/StringMap.h>

#include <cmath>
#include <map>

namespace edgesplit {
namespace {

namespace fs = std::filesystem;

double rounded(double value) { return std::round(value * 1000.0) / 1000.0; }

// Per-element means of every float value over the calibration samples, by value name.
llvm::StringMap<std::vector<double>> calibrationMeans(const Graph &graph,
                                                     const std::vector<std::vector<Tensor>> &samples) {
  llvm::StringMap<std::vector<double>> sums;
  Interpreter interpreter(graph);
  interpreter.setObserver([&](const Value &value, const Tensor &tensor) {
    if (tensor.dtype() != DType::Float32) return;
    const std::vector<double> values = tensor.toDoubleVector();
    std::vector<double> &sum = sums[value.name];
    if (sum.empty()) sum.assign(values.size(), 0.0);
    for (size_t i = 0; i < values.size() && i < sum.size(); ++i) sum[i] += values[i];
  });
  for (const auto &sample : samples) interpreter.run(sample);
  for (auto &entry : sums)
    for (double &value : entry.second) value /= static_cast<double>(samples.size());
  return sums;
}

// A tensor's mean as the program stores it: int8 with the value's parameters, or float.
std::vector<uint8_t> storedMean(const Value &value, const std::vector<double> &mean,
                                Precision precision) {
  std::vector<uint8_t> bytes;
  if (precision == Precision::Int8) {
    const float scale = value.quant->scales[0];
    const int32_t zeroPoint = value.quant->zeroPoints.empty() ? 0 : value.quant->zeroPoints[0];
    for (double m : mean)
      bytes.push_back(static_cast<uint8_t>(
          quantizeInputValue(static_cast<float>(m), scale, zeroPoint)));
  } else {
    for (double m : mean) {
      const float f = static_cast<float>(m);
      const auto *raw = reinterpret_cast<const uint8_t *>(&f);
      bytes.insert(bytes.end(), raw, raw + sizeof f);
    }
  }
  return bytes;
}

struct DeviceBuild {
  size_t device = 0; // topology index
  Subgraph subgraph;
  CompiledDevice compiled;
  SourceFiles files;
  std::vector<std::string> entryPoints; // API functions the flash measurement keeps
  std::vector<std::string> hooks;       // functions the application supplies
  int64_t staticBytes = 0;              // frame and reassembly buffers outside the arena
  GroupMask groups = 0;
};

class FleetCompiler {
public:
  explicit FleetCompiler(const FleetCompileRequest &request)
      : request_(request), graph_(*request.graph), topology_(*request.topology),
        precision_(request.precision), auth_(topology_.keyed) {}

  void run() {
    // Layers no device holds whole become channel slices before anything is costed (and before
    // the impute means, which a slice's output may need).
    // Inverted-residual chains whose channel slices would gather a tensor no device holds are cut
    // into bands of rows first (docs/partition.md, "Spatial tiles").
    const TilePlan tiles = tileOversizedChains(graph_, topology_, precision_);
    const ChannelSlicePlan slices = sliceOversizedLayers(graph_, topology_, precision_);
    llvm::StringMap<std::vector<double>> means;
    if (topology_.fallback == FallbackMode::Impute) {
      if (!request_.calibrationSamples)
        fail("{}: /fallback is \"impute\", which replaces a missing group's features by their "
             "calibration mean: pass --calibration CALIB.npz",
             topology_.source);
      means = calibrationMeans(graph_, *request_.calibrationSamples);
    }
    fused_ = fuseActivations(graph_);
    verifyGraph(graph_);
    std::vector<const Node *> order;
    for (const auto &node : graph_.nodes()) order.push_back(node.get());
    // The whole graph lowered once per instruction set among the devices: the partitioner reads
    // each node's MACs and kernel class (the same in every lowering) and the scratch its kernels
    // need on each device (which differs).
    std::map<KernelIsa, Program> lowered;
    std::map<KernelIsa, llvm::StringMap<int64_t>> scratchByIsa;
    for (const TopologyDevice &device : topology_.devices) {
      const KernelIsa isa = kernelIsaOf(device.target.features);
      if (lowered.count(isa)) continue;
      const Program &program =
          lowered.emplace(isa, lowerGraph(graph_, precision_, isa, order, fused_)).first->second;
      llvm::StringMap<int64_t> &scratch = scratchByIsa[isa];
      for (const auto &[node, bytes] : program.scratchBytesByNode())
        scratch[node->outputs[0]->name] = bytes;
    }
    const Program &whole = lowered.begin()->second;

    PartitionRequest partitionRequest;
    partitionRequest.graph = &graph_;
    partitionRequest.topology = &topology_;
    partitionRequest.precision = precision_;
    partitionRequest.fused = &fused_;
    partitionRequest.wholeProgram = &whole;
    partitionRequest.separate = slices.separate;
    llvm::append_range(partitionRequest.separate, tiles.separate);
    // Subgraph nodes are clones: their first output's name identifies them.
    partitionRequest.scratchBytes = [&](const Node &node, size_t device) {
      return scratchByIsa.at(kernelIsaOf(topology_.devices[device].target.features))
          .lookup(node.outputs[0]->name);
    };
    partition_ = partitionFleet(partitionRequest);

    for (size_t d = 0; d < topology_.devices.size(); ++d)
      if (!topology_.devices[d].aggregator) buildSensor(d);
    buildAggregator(means);

    writeDirectoryAtomically(request_.outputDir, [&](const fs::path &dir) { write(dir); });
    if (dotOnly_)
      fmt::print(stderr, "edgesplit: note: {}\n", missingDotNote(request_.outputDir));
  }

private:
  size_t aggregatorIndex() const {
    for (size_t d = 0; d < topology_.devices.size(); ++d)
      if (topology_.devices[d].aggregator) return d;
    fail("internal error: no aggregator");
  }

  std::vector<const Node *> nodesOn(size_t device) const {
    std::vector<const Node *> nodes;
    for (const Node *node : partition_.liveNodes)
      if (partition_.deviceOf[nodeIndex(node)] == device) nodes.push_back(node);
    return nodes;
  }
  size_t nodeIndex(const Node *node) const {
    const auto &nodes = graph_.nodes();
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].get() == node) return i;
    fail("internal error: node not in graph");
  }

  std::vector<const Value *> modelInputsOf(GroupMask groups) const {
    std::vector<const Value *> inputs;
    for (const Value *input : graph_.inputs)
      if (partition_.tags.values.lookup(input) & groups) inputs.push_back(input);
    return inputs;
  }

  GroupMask groupsOf(size_t device) const {
    GroupMask mask = 0;
    for (const std::string &group : topology_.devices[device].sensors)
      for (size_t g = 0; g < topology_.groups.size(); ++g)
        if (topology_.groups[g].name == group) mask |= GroupMask(1) << g;
    return mask;
  }

  EmitOptions emitOptions(size_t device) const {
    EmitOptions options;
    options.device = topology_.devices[device].name;
    options.target = topology_.devices[device].target.name;
    options.version = EDGESPLIT_VERSION;
    options.extraRuntimeFunctions = fleetRuntimeFunctions();
    return options;
  }

  WireIdentity identity(size_t device) const {
    WireIdentity id;
    id.device = topology_.devices[device].name;
    id.deviceId = static_cast<uint8_t>(device);
    id.fingerprint = request_.fingerprint;
    return id;
  }

  // The protection of the link from `from` to `to` and, when the keys are embedded, its key,
  // derived from the master key and the two device ids: only the devices at its ends get it.
  LinkSecurity linkSecurity(size_t from, size_t to, size_t peer) const {
    const TopologyLink *link = topology_.link(topology_.devices[from].name, topology_.devices[to].name);
    LinkSecurity security;
    security.link = static_cast<uint8_t>(link - topology_.links.data());
    security.peer = topology_.devices[peer].name;
    if (!auth_) return security;
    security.mode = link->encrypt ? LinkMode::Aead : LinkMode::Auth;
    if (request_.masterKey && !request_.keyHook)
      security.key = deriveLinkKey(*request_.masterKey, static_cast<uint8_t>(from),
                                   static_cast<uint8_t>(to));
    return security;
  }

  // The functions the application supplies to a device with these links.
  std::vector<std::string> keyHooks(const std::vector<LinkSecurity> &links, bool sends) const {
    std::vector<std::string> hooks;
    const bool keyed = auth_ && !links.empty();
    if (keyed && request_.keyHook) hooks.push_back("load_key");
    if (keyed && sends) hooks.push_back("next_epoch");
    return hooks;
  }

  static const char *modeName(LinkMode mode) {
    return mode == LinkMode::Aead ? "aead" : mode == LinkMode::Auth ? "auth" : "plain";
  }

  void buildSensor(size_t device) {
    DeviceBuild build;
    build.device = device;
    build.groups = groupsOf(device);
    llvm::SmallVector<GraphOutput, 4> outputs;
    for (const BranchPlan &branch : partition_.branches)
      if (branch.device == device)
        for (const Value *value : branch.options[branch.chosen].sent)
          outputs.push_back({value->name, const_cast<Value *>(value)});
    build.subgraph = extractSubgraph(graph_, nodesOn(device), modelInputsOf(build.groups), outputs,
                                     fused_);
    try {
      build.compiled = compileFusedDevice(*build.subgraph.graph, precision_,
                                          kernelIsaOf(topology_.devices[device].target.features),
                                          build.subgraph.fused);
    } catch (const Error &error) {
      fail("{}: device '{}': {}", request_.modelPath, topology_.devices[device].name, error.what());
    }
    const TopologyLink *link =
        topology_.link(topology_.devices[device].name, topology_.devices[aggregatorIndex()].name);
    SensorFleetSpec spec;
    spec.identity = identity(device);
    spec.toAggregator = linkSecurity(device, aggregatorIndex(), aggregatorIndex());
    spec.aggregatorId = static_cast<uint8_t>(aggregatorIndex());
    spec.mtu = link->mtu;
    EmitOptions options = emitOptions(device);
    options.extraFiles = emitSensorFleet(spec, build.compiled.program);
    build.files = emitDevice(build.compiled.program, build.compiled.plan, options);
    build.entryPoints = {"fleet_init", "on_beacon", "step", "step_raw"};
    build.hooks = {"send"};
    for (const std::string &hook : keyHooks({spec.toAggregator}, true)) build.hooks.push_back(hook);
    build.staticBytes = link->mtu;
    sensors_.push_back(std::move(build));
  }

  void buildAggregator(const llvm::StringMap<std::vector<double>> &means) {
    const size_t device = aggregatorIndex();
    DeviceBuild build;
    build.device = device;
    build.groups = groupsOf(device);
    // Received tensors: by sensor device, then in the order each sends them.
    struct Received {
      const Value *value;
      size_t source;
      uint8_t tensor;
      size_t link;
    };
    std::vector<Received> received;
    for (const DeviceBuild &sensor : sensors_) {
      const Graph &sent = *sensor.subgraph.graph;
      for (size_t t = 0; t < sent.outputs.size(); ++t) {
        const Value *value = graph_.findValue(sent.outputs[t].value->name);
        const TopologyLink *link = topology_.link(topology_.devices[sensor.device].name,
                                                  topology_.devices[device].name);
        received.push_back({value, sensor.device, static_cast<uint8_t>(t),
                            static_cast<size_t>(link - topology_.links.data())});
      }
    }
    std::vector<const Value *> inputs;
    for (const Received &tensor : received) inputs.push_back(tensor.value);
    for (const Value *own : modelInputsOf(build.groups)) inputs.push_back(own);
    llvm::SmallVector<GraphOutput, 8> outputs;
    for (const HeadPlan &head : partition_.heads)
      outputs.push_back({head.output, const_cast<Value *>(head.value)});
    build.subgraph = extractSubgraph(graph_, nodesOn(device), inputs, outputs, fused_);
    try {
      build.compiled = compileFusedDevice(*build.subgraph.graph, precision_,
                                          kernelIsaOf(topology_.devices[device].target.features),
                                          build.subgraph.fused);
    } catch (const Error &error) {
      fail("{}: device '{}': {}", request_.modelPath, topology_.devices[device].name, error.what());
    }

    AggregatorFleetSpec spec;
    spec.identity = identity(device);
    std::vector<LinkSecurity> securities;
    for (const DeviceBuild &sensor : sensors_) {
      const TopologyLink *link =
          topology_.link(topology_.devices[sensor.device].name, topology_.devices[device].name);
      spec.links.push_back({static_cast<uint8_t>(sensor.device),
                            linkSecurity(sensor.device, device, sensor.device), link->duplex});
      securities.push_back(spec.links.back().security);
    }
    for (const SensorGroup &group : topology_.groups) spec.groups.push_back(group.name);
    spec.ownGroups = build.groups;
    spec.impute = topology_.fallback == FallbackMode::Impute;
    spec.roundTimeoutMs = topology_.roundTimeoutMs;
    std::map<size_t, int64_t> framesSoFar; // per sensor: frames of a round before this tensor
    for (size_t i = 0; i < received.size(); ++i) {
      const Received &tensor = received[i];
      const TopologyLink &link = topology_.links[tensor.link];
      ReceivedTensor entry;
      entry.name = tensor.value->name;
      entry.programInput = i;
      entry.sourceDevice = topology_.devices[tensor.source].name;
      entry.source = static_cast<uint8_t>(tensor.source);
      entry.tensor = tensor.tensor;
      entry.bytes = numElements(*tensor.value->shape) * elementBytes(precision_);
      entry.fragmentBytes = wireFragmentBytes(link.mtu, auth_);
      entry.fragments = wireFrames(entry.bytes, link.mtu, auth_);
      entry.firstFrame = framesSoFar[tensor.source];
      framesSoFar[tensor.source] += entry.fragments;
      if (framesSoFar[tensor.source] > ES_WIRE_MAX_FRAME + 1)
        fail("{}: '{}' sends {} frames per inference; a round holds at most {} (raise the link's "
             "mtu)",
             request_.modelPath, entry.sourceDevice, framesSoFar[tensor.source],
             ES_WIRE_MAX_FRAME + 1);
      entry.group = static_cast<size_t>(__builtin_ctz(partition_.tags.values.lookup(tensor.value)));
      if (spec.impute) {
        auto mean = means.find(tensor.value->name);
        if (mean == means.end())
          fail("internal error: no calibration mean of '{}'", tensor.value->name);
        entry.mean = storedMean(*tensor.value, mean->second, precision_);
      }
      build.staticBytes += ES_WIRE_ROUNDS_IN_FLIGHT * (entry.bytes + (entry.fragments + 7) / 8);
      spec.received.push_back(std::move(entry));
    }
    for (size_t h = 0; h < partition_.heads.size(); ++h)
      spec.heads.push_back({partition_.heads[h].output, h, partition_.heads[h].groups});

    EmitOptions options = emitOptions(device);
    options.callMasks = headCallMasks(build);
    options.extraFiles = emitAggregatorFleet(spec);
    build.files = emitDevice(build.compiled.program, build.compiled.plan, options);
    build.entryPoints = {"fleet_init", "begin_round", "on_frame", "predict", "head_output_f32",
                         "head_output", "wire_counters", "arrived_groups"};
    build.hooks = keyHooks(securities, false);
    build.hooks.push_back("send");
    build.hooks.push_back("next_epoch");
    build.hooks.push_back("now_ms");
    aggregator_ = std::move(build);
  }

  // Bit h of call k's mask: head h needs the node of call k.
  std::vector<uint32_t> headCallMasks(const DeviceBuild &build) {
    const Graph &graph = *build.subgraph.graph;
    llvm::DenseMap<const Node *, uint32_t> masks;
    for (size_t h = 0; h < graph.outputs.size(); ++h) {
      llvm::SmallVector<const Value *, 16> pending{graph.outputs[h].value};
      llvm::DenseSet<const Node *> seen;
      while (!pending.empty()) {
        const Value *value = pending.pop_back_val();
        if (!value->producer || !seen.insert(value->producer).second) continue;
        masks[value->producer] |= 1u << h;
        for (const Value *input : value->producer->inputs)
          if (input) pending.push_back(input);
      }
    }
    std::vector<uint32_t> result;
    for (const KernelCall &call : build.compiled.program.calls)
      result.push_back(masks.lookup(call.node));
    headMasks_ = result;
    return result;
  }

  ReportJson reportDevice(const fs::path &dir, const DeviceBuild &build) const {
    const TopologyDevice &device = topology_.devices[build.device];
    DeviceReportInput input;
    input.device = device.name;
    input.target = &device.target;
    input.program = &build.compiled.program;
    input.plan = &build.compiled.plan;
    input.staticBytes = build.staticBytes;
    input.flash = measureFlash(dir / device.name, device.target, device.name, precision_,
                               build.entryPoints, build.hooks);
    ReportJson json = deviceReport(input);
    json["role"] = device.aggregator ? "aggregator" : "sensor";
    ReportJson groups = ReportJson::array();
    for (size_t g = 0; g < topology_.groups.size(); ++g)
      if (build.groups & (GroupMask(1) << g)) groups.push_back(topology_.groups[g].name);
    json["sensor_groups"] = std::move(groups);
    ReportJson sensorInputs = ReportJson::array();
    for (const Value *input : modelInputsOf(build.groups)) sensorInputs.push_back(input->name);
    json["sensor_inputs"] = std::move(sensorInputs);
    return json;
  }

  ReportJson branchesJson() const {
    ReportJson branches = ReportJson::array();
    for (const BranchPlan &branch : partition_.branches) {
      ReportJson entry;
      entry["group"] = topology_.groups[branch.group].name;
      entry["device"] = topology_.devices[branch.device].name;
      entry["exhaustive"] = branch.exhaustive;
      entry["options_considered"] = branch.options.size();
      ReportJson options = ReportJson::array();
      // All options of small branches; else raw, chosen and the Pareto front.
      const bool all = branch.options.size() <= 16;
      for (size_t i = 0; i < branch.options.size(); ++i) {
        const CutOption &option = branch.options[i];
        if (!all && i != 0 && i != branch.chosen && !option.pareto) continue;
        ReportJson o;
        o["index"] = i;
        o["chosen"] = i == branch.chosen;
        o["raw"] = i == 0;
        o["pareto"] = option.pareto;
        o["fits"] = option.fits;
        if (!option.fits) o["limit"] = option.limit;
        ReportJson nodes = ReportJson::array(), sent = ReportJson::array();
        for (const Node *node : option.sensorNodes) nodes.push_back(node->name);
        for (const Value *value : option.sent) sent.push_back(value->name);
        o["sensor_nodes"] = std::move(nodes);
        o["sends"] = std::move(sent);
        o["payload_bytes"] = option.payloadBytes;
        o["bytes_on_air"] = option.airBytes;
        o["frames"] = option.frames;
        o["sensor_macs"] = option.sensorMacs;
        o["sensor_ram_bytes"] = option.sensorRamBytes;
        o["sensor_flash_estimate_bytes"] = option.sensorFlashEstimate;
        o["est_sensor_ms"] = rounded(option.sensorMs);
        o["est_link_ms"] = rounded(option.linkMs);
        o["est_aggregator_ms"] = rounded(option.aggregatorMs);
        o["est_latency_ms"] = rounded(option.latencyMs);
        o["est_energy_uj"] = rounded(option.energyUj);
        o["cost"] = rounded(option.cost);
        options.push_back(std::move(o));
      }
      entry["options"] = std::move(options);
      branches.push_back(std::move(entry));
    }
    return branches;
  }

  ReportJson linksJson() const {
    ReportJson links = ReportJson::array();
    const std::string aggregator = topology_.devices[aggregatorIndex()].name;
    for (const DeviceBuild &sensor : sensors_) {
      const std::string from = topology_.devices[sensor.device].name;
      const TopologyLink &link = *topology_.link(from, aggregator);
      ReportJson entry, tensors = ReportJson::array();
      int64_t payload = 0, air = 0, frames = 0;
      bool raw = false;
      for (const ProgramPort &port : sensor.compiled.program.outputs) {
        const int64_t bytes = numElements(port.shape) * elementBytes(precision_);
        ReportJson tensor;
        tensor["name"] = port.name;
        tensor["bytes"] = bytes;
        tensor["frames"] = wireFrames(bytes, link.mtu, auth_);
        raw |= llvm::any_of(graph_.inputs, [&](const Value *input) { return input->name == port.name; });
        tensors.push_back(std::move(tensor));
        payload += bytes;
        air += wireAirBytes(bytes, link.mtu, auth_);
        frames += wireFrames(bytes, link.mtu, auth_);
      }
      entry["from"] = from;
      entry["to"] = aggregator;
      entry["link_id"] = static_cast<int64_t>(&link - topology_.links.data());
      entry["mtu"] = link.mtu;
      entry["protection"] = modeName(linkSecurity(sensor.device, aggregatorIndex(), 0).mode);
      entry["raw"] = raw;
      entry["tensors"] = std::move(tensors);
      entry["payload_bytes_per_inference"] = payload;
      entry["bytes_per_inference"] = air;
      entry["frames_per_inference"] = frames;
      const double ms = static_cast<double>(air) * 8.0 / link.kbps + link.latencyMs;
      entry["est_transfer_ms"] = rounded(ms);
      entry["est_energy_uj"] = rounded(static_cast<double>(air) * link.njPerByte / 1000.0);
      links.push_back(std::move(entry));
    }
    return links;
  }

  ReportJson headsJson() const {
    ReportJson heads = ReportJson::array();
    for (size_t h = 0; h < partition_.heads.size(); ++h) {
      const HeadPlan &head = partition_.heads[h];
      ReportJson entry, groups = ReportJson::array();
      entry["index"] = h;
      entry["output"] = head.output;
      for (size_t g = 0; g < topology_.groups.size(); ++g)
        if (head.groups & (GroupMask(1) << g)) groups.push_back(topology_.groups[g].name);
      entry["groups"] = std::move(groups);
      entry["priority"] = head.priority;
      int64_t macs = 0;
      const auto &calls = aggregator_.compiled.program.calls;
      for (size_t k = 0; k < calls.size(); ++k)
        if (headMasks_[k] & (1u << h)) macs += calls[k].macs;
      entry["aggregator_macs"] = macs;
      heads.push_back(std::move(entry));
    }
    return heads;
  }

  // Whole-fleet estimates of the chosen cuts beside shipping every sensor's raw data.
  ReportJson fleetJson() const {
    auto totals = [&](bool raw) {
      double slowest = 0, energy = 0;
      int64_t bytes = 0;
      for (const BranchPlan &branch : partition_.branches) {
        const CutOption &option = branch.options[raw ? 0 : branch.chosen];
        slowest = std::max(slowest, option.sensorMs + option.linkMs);
        energy += option.energyUj;
        bytes += option.airBytes;
      }
      ReportJson json;
      json["bytes_per_inference"] = bytes;
      json["est_slowest_branch_ms"] = rounded(slowest);
      json["est_energy_uj"] = rounded(energy);
      return json;
    };
    ReportJson fleet;
    fleet["fingerprint"] = fmt::format("0x{:08x}", request_.fingerprint);
    fleet["fallback"] = topology_.fallback == FallbackMode::Impute ? "impute" : "heads";
    fleet["authenticated"] = auth_;
    fleet["key_provisioning"] = !auth_ ? "none" : request_.keyHook ? "hook" : "embed";
    fleet["aggregator"] = topology_.devices[aggregatorIndex()].name;
    ReportJson groups = ReportJson::array();
    for (const SensorGroup &group : topology_.groups) groups.push_back(group.name);
    fleet["sensor_groups"] = std::move(groups);
    fleet["link_count"] = topology_.links.size();
    fleet["chosen"] = totals(false);
    fleet["raw"] = totals(true);
    fleet["placement"] = placementJson();
    return fleet;
  }

  // How the placement was found, its whole-fleet estimates and each device's share of them.
  ReportJson placementJson() const {
    const PlacementSummary &summary = partition_.placement;
    ReportJson json;
    json["method"] = summary.method;
    json["cost"] = rounded(summary.cost);
    json["lower_bound"] = rounded(summary.lowerBound);
    json["est_latency_ms"] = rounded(summary.latencyMs);
    json["est_energy_uj"] = rounded(summary.energyUj);
    json["bytes_on_air"] = summary.airBytes;
    json["evaluations"] = summary.evaluations;
    ReportJson devices = ReportJson::array();
    for (size_t d = 0; d < summary.devices.size(); ++d) {
      const DeviceLoad &load = summary.devices[d];
      ReportJson entry;
      entry["device"] = topology_.devices[d].name;
      entry["nodes"] = load.units;
      entry["est_ram_bytes"] = load.ramBytes;
      entry["est_activation_bytes"] = load.activationBytes;
      entry["receive_buffer_bytes"] = load.receiveBytes;
      entry["frame_buffer_bytes"] = load.frameBufferBytes;
      entry["est_flash_bytes"] = load.flashBytes;
      devices.push_back(std::move(entry));
    }
    json["devices"] = std::move(devices);
    return json;
  }

  // The whole graph coloured by device, with what each sensor sends over its link.
  PartitionPictureInput partitionPicture() const {
    PartitionPictureInput picture;
    picture.title = fmt::format("{} ({}) on a fleet of {} devices",
                                fs::path(request_.modelPath).filename().string(),
                                precisionName(precision_), topology_.devices.size());
    picture.graph = &graph_;
    picture.nodes = partition_.liveNodes;
    for (size_t i = 0; i < graph_.nodes().size(); ++i)
      picture.deviceOf[graph_.nodes()[i].get()] = partition_.deviceOf[i];
    for (size_t d = 0; d < topology_.devices.size(); ++d) {
      const TopologyDevice &device = topology_.devices[d];
      picture.devices.push_back({device.name, device.target.name,
                                 device.aggregator ? "aggregator" : "sensor", device.sensors});
      for (const Value *input : modelInputsOf(groupsOf(d))) picture.inputDevice[input] = d;
    }
    for (const HeadPlan &head : partition_.heads) {
      std::vector<std::string> groups;
      for (size_t g = 0; g < topology_.groups.size(); ++g)
        if (head.groups & (GroupMask(1) << g)) groups.push_back(topology_.groups[g].name);
      picture.heads.push_back({head.output, head.value, std::move(groups)});
    }
    const std::string aggregator = topology_.devices[aggregatorIndex()].name;
    for (const DeviceBuild &sensor : sensors_) {
      const TopologyLink &link = *topology_.link(topology_.devices[sensor.device].name, aggregator);
      for (const ProgramPort &port : sensor.compiled.program.outputs) {
        const int64_t bytes = numElements(port.shape) * elementBytes(precision_);
        picture.sent[port.name] = {bytes, wireAirBytes(bytes, link.mtu, auth_)};
      }
    }
    picture.fused = &fused_;
    return picture;
  }

  void write(const fs::path &dir) {
    std::vector<ReportJson> devices(topology_.devices.size());
    auto emit = [&](const DeviceBuild &build) {
      const std::string &name = topology_.devices[build.device].name;
      for (const auto &[path, text] : build.files) writeTextFile(dir / name / path, text);
      devices[build.device] = reportDevice(dir, build);
      checkDeviceFits(devices[build.device], request_.modelPath);
      writeTextFile(dir / name / "memory.svg",
                    memorySvg(*build.subgraph.graph, build.compiled.plan, precision_, name));
    };
    for (const DeviceBuild &sensor : sensors_) emit(sensor);
    emit(aggregator_);
    ReportJson report = compileReport(fs::path(request_.modelPath).filename(), precision_,
                                      std::move(devices));
    report["links"] = linksJson();
    report["topology"] = fs::path(topology_.source).filename().string();
    report["fleet"] = fleetJson();
    report["heads"] = headsJson();
    report["branches"] = branchesJson();
    writeTextFile(dir / "report.json", report.dump(2) + "\n");
    writeTextFile(dir / "report.md", renderReport(report, TextFormat::Markdown));
    dotOnly_ = writePartitionPicture(dir, partitionDot(partitionPicture())) == PictureFile::DotOnly;
  }

  const FleetCompileRequest &request_;
  Graph &graph_;
  const Topology &topology_;
  Precision precision_;
  bool auth_;
  llvm::DenseMap<const Node *, ActivationClamp> fused_;
  FleetPartition partition_;
  std::vector<DeviceBuild> sensors_;
  DeviceBuild aggregator_;
  std::vector<uint32_t> headMasks_;
  bool dotOnly_ = false; // partition.dot written for want of Graphviz
};

} // namespace

uint32_t fleetFingerprint(const std::vector<std::string> &parts) {
  uint32_t hash = 2166136261u;
  for (const std::string &part : parts) {
    for (unsigned char c : part) hash = (hash ^ c) * 16777619u;
    hash = (hash ^ 0xffu) * 16777619u; // separator: "ab"+"c" differs from "a"+"bc"
  }
  return hash;
}

void compileFleet(const FleetCompileRequest &request) { FleetCompiler(request).run(); }

} // namespace edgesplit
