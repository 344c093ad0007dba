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
#include "partition/GatherInPlace.h"
#include "partition/Partition.h"
#include "partition/Subgraph.h"
#include "report/MemoryPicture.h"
#include "report/PartitionPicture.h"
#include "report/Report.h"
#include "support/Error.h"
#include "target/CostFeatures.h"

#include "es_wire.h"

#include <fmt/ranges.h>
#include <llvm/ADT/DenseSet.h>
#include <llvm/ADT/StringMap.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

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
  RelaySpec relay; // what it forwards for others (routed fleets)
};

// One tensor a device sends per inference: a transfer, its tensor id and the frames it takes.
struct Send {
  const Transfer *transfer = nullptr;
  uint8_t tensor = 0;
  int64_t bytes = 0, firstFrame = 0, fragments = 0, fragmentBytes = 0;
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
    std::map<std::string, std::string> movedPins; // activation -> producer
    Topology pinned = pinsAfterFusion(movedPins);
    fused_ = fuseActivations(graph_);
    // An int8 activation whose parameters differ from its producer's stays: so does its pin.
    for (const auto &node : graph_.nodes())
      if (auto moved = movedPins.find(node->name); moved != movedPins.end())
        pinned.pins[node->name] = topology_.pins.at(node->name);
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
      Program &program =
          lowered
              .emplace(isa, lowerGraph(graph_, precision_, isa, request_.rounding, order, fused_))
              .first->second;
      if (request_.zeroShares) setInputZeroShares(program, *request_.zeroShares);
      llvm::StringMap<int64_t> &scratch = scratchByIsa[isa];
      for (const auto &[node, bytes] : program.scratchBytesByNode())
        scratch[node->outputs[0]->name] = bytes;
    }
    const Program &whole = lowered.begin()->second;

    PartitionRequest partitionRequest;
    partitionRequest.graph = &graph_;
    partitionRequest.topology = &pinned;
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
    routed_ = !isStar();
    if (routed_) checkRunnable();
    planSends();

    for (size_t d = 0; d < topology_.devices.size(); ++d) {
      if (topology_.devices[d].aggregator) continue;
      if (!routed_) buildSensor(d);
      else if (hasPart(d)) buildRouted(d);
    }
    buildAggregator(means);
    if (routed_) estimatePipeline();

    writeDirectoryAtomically(request_.outputDir, [&](const fs::path &dir) { write(dir); });
    if (dotOnly_)
      fmt::print(stderr, "edgesplit: note: {}\n", missingDotNote(request_.outputDir));
  }

private:
  // The topology the partitioner reads: a pin naming a Relu or Clip that fuses into its producer
  // (and so leaves the graph) pins the producer, with which it runs.
  Topology pinsAfterFusion(std::map<std::string, std::string> &moved) const {
    Topology result = topology_;
    for (const auto &node : graph_.nodes()) {
      const Node *activation = fusableActivation(graph_, *node);
      if (!activation) continue;
      auto pin = result.pins.find(activation->name);
      if (pin == result.pins.end()) continue;
      const size_t device = pin->second;
      result.pins.erase(pin);
      moved[activation->name] = node->name;
      auto [producer, inserted] = result.pins.emplace(node->name, device);
      if (!inserted && producer->second != device)
        fail("{}: /placement{}: '{}' is fused into '{}' (pinned to '{}') and runs where it runs; "
             "pin both to one device",
             topology_.source, jsonPointerStep(activation->name), activation->name, node->name,
             topology_.devices[producer->second].name);
    }
    return result;
  }

  size_t aggregatorIndex() const {
    for (size_t d = 0; d < topology_.devices.size(); ++d)
      if (topology_.devices[d].aggregator) return d;
    fail("internal error: no aggregator");
  }

  // A star: no workers, and every tensor crosses one link from a sensor device straight to the
  // aggregator. Star fleets keep the code (and folders) they always had; any other is routed.
  bool isStar() const {
    for (const TopologyDevice &device : topology_.devices)
      if (device.worker) return false;
    const size_t aggregator = aggregatorIndex();
    for (const Transfer &transfer : partition_.transfers)
      if (transfer.route.hops() != 1 || transfer.route.to != aggregator) return false;
    for (size_t d = 0; d < topology_.devices.size(); ++d)
      if (d != aggregator && !topology_.link(topology_.devices[d].name, topology_.devices[aggregator].name))
        return false;
    return true;
  }

  // What the generated code of a routed fleet can run: sensors only send, the aggregator only
  // receives, and the devices' stages form no cycle (each runs once per round).
  void checkRunnable() const {
    const size_t aggregator = aggregatorIndex();
    const size_t n = topology_.devices.size();
    std::vector<std::set<size_t>> feeds(n);
    for (const Transfer &transfer : partition_.transfers) {
      const TopologyDevice &reader = topology_.devices[transfer.route.to];
      const TopologyDevice &producer = topology_.devices[transfer.route.from];
      if (!reader.aggregator && !reader.worker)
        fail("{}: /placement: sensor device '{}' would read '{}' from '{}', but a sensor device "
             "only sends; pin the nodes that read it to a worker or the aggregator",
             topology_.source, reader.name, transfer.value->name, producer.name);
      if (transfer.route.from == aggregator)
        fail("{}: /placement: the aggregator '{}' would send '{}' to '{}', but it only receives "
             "and runs the heads; pin the nodes that compute '{}' to a sensor device or a worker",
             topology_.source, producer.name, transfer.value->name, reader.name,
             transfer.value->name);
      feeds[transfer.route.from].insert(transfer.route.to);
      // A worker's receiver takes the rounds its beacons open: it needs them to run at all.
      if (reader.worker && beaconRoute(transfer.route.to).empty())
        fail("{}: /devices/{}: worker '{}' runs a stage, but no path of duplex links leads from it "
             "to the aggregator, whose beacons open its rounds; make the links on its way to the "
             "aggregator duplex",
             topology_.source, transfer.route.to, reader.name);
    }
    // Kahn's algorithm: a device left over is on a cycle.
    std::vector<size_t> pending(n, 0);
    for (size_t d = 0; d < n; ++d)
      for (size_t next : feeds[d]) ++pending[next];
    std::vector<size_t> ready;
    for (size_t d = 0; d < n; ++d)
      if (pending[d] == 0) ready.push_back(d);
    size_t done = 0;
    while (!ready.empty()) {
      const size_t d = ready.back();
      ready.pop_back();
      ++done;
      for (size_t next : feeds[d])
        if (--pending[next] == 0) ready.push_back(next);
    }
    if (done != n) {
      std::vector<std::string> cycle;
      for (size_t d = 0; d < n; ++d)
        if (pending[d]) cycle.push_back(topology_.devices[d].name);
      fail("{}: /placement: the devices {} would each wait for the others' tensors (a cycle); "
           "pin the nodes so that tensors flow one way between them",
           topology_.source, fmt::join(cycle, ", "));
    }
  }

  // Position of a value in a producer's send order: model inputs first, then by producing node.
  size_t sendOrder(const Value *value) const {
    for (size_t i = 0; i < graph_.inputs.size(); ++i)
      if (graph_.inputs[i] == value) return i;
    const Node *producer = value->producer;
    size_t position = 0;
    while (position < producer->outputs.size() && producer->outputs[position] != value) ++position;
    return graph_.inputs.size() + nodeIndex(producer) * 256 + position;
  }

  // Every producer's transfers in send order (then by reader), numbered: tensor ids and the
  // frame numbers each takes in a round, cut to its route's mtu.
  void planSends() {
    sends_.assign(topology_.devices.size(), {});
    for (const Transfer &transfer : partition_.transfers)
      sends_[transfer.route.from].push_back({&transfer});
    for (size_t d = 0; d < sends_.size(); ++d) {
      auto &sends = sends_[d];
      std::stable_sort(sends.begin(), sends.end(), [&](const Send &a, const Send &b) {
        const size_t x = sendOrder(a.transfer->value), y = sendOrder(b.transfer->value);
        return x != y ? x < y : a.transfer->route.to < b.transfer->route.to;
      });
      int64_t frames = 0;
      for (size_t t = 0; t < sends.size(); ++t) {
        Send &send = sends[t];
        const Route &route = send.transfer->route;
        send.tensor = static_cast<uint8_t>(t);
        send.bytes = numElements(*send.transfer->value->shape) * elementBytes(precision_);
        send.fragmentBytes = wireFragmentBytes(route.mtu, auth_);
        send.fragments = wireFrames(send.bytes, route.mtu, auth_);
        send.firstFrame = frames;
        frames += send.fragments;
      }
      if (sends.size() > 255)
        fail("{}: '{}' sends {} tensors per inference; a device sends at most 255",
             request_.modelPath, topology_.devices[d].name, sends.size());
      if (frames > ES_WIRE_MAX_FRAME + 1)
        fail("{}: '{}' sends {} frames per inference; a round holds at most {} (raise the link's "
             "mtu)",
             request_.modelPath, topology_.devices[d].name, frames, ES_WIRE_MAX_FRAME + 1);
    }
  }

  // The values a device sends, each once, in send order.
  std::vector<const Value *> sentValues(size_t device) const {
    std::vector<const Value *> values;
    for (const Send &send : sends_[device])
      if (!llvm::is_contained(values, send.transfer->value)) values.push_back(send.transfer->value);
    return values;
  }

  // The sends that end at `device`: by producer, then in its send order.
  std::vector<const Send *> receivedBy(size_t device) const {
    std::vector<const Send *> received;
    for (const auto &sends : sends_)
      for (const Send &send : sends)
        if (send.transfer->route.to == device) received.push_back(&send);
    return received;
  }

  // The protection of the tensors from `producer` to `reader` (end to end: relays hold no key):
  // AEAD when every link of their routes encrypts, else tag only; the pair's key.
  LinkSecurity pairSecurity(size_t producer, size_t reader, size_t firstLink) const {
    LinkSecurity security;
    security.link = static_cast<uint8_t>(firstLink);
    security.peer = topology_.devices[reader].name;
    if (!auth_) return security;
    bool encrypt = true;
    for (const Transfer &transfer : partition_.transfers)
      if (transfer.route.from == producer && transfer.route.to == reader)
        for (size_t l : transfer.route.links) encrypt &= topology_.links[l].encrypt;
    security.mode = encrypt ? LinkMode::Aead : LinkMode::Auth;
    security.pair = {static_cast<uint8_t>(producer), static_cast<uint8_t>(reader)};
    if (request_.masterKey && !request_.keyHook)
      security.key = deriveLinkKey(*request_.masterKey, static_cast<uint8_t>(producer),
                                   static_cast<uint8_t>(reader));
    return security;
  }

  // The links a beacon takes from the aggregator to `device`: back along the fewest duplex links
  // that lead from the device to the aggregator (lowest link indices first), or none.
  std::vector<size_t> beaconRoute(size_t device) const {
    const size_t aggregator = aggregatorIndex();
    std::vector<std::optional<size_t>> via(topology_.devices.size()); // link towards the device
    std::vector<size_t> frontier{aggregator};
    std::vector<bool> seen(topology_.devices.size(), false);
    seen[aggregator] = true;
    while (!frontier.empty() && !seen[device]) {
      std::vector<size_t> next;
      for (size_t at : frontier)
        for (size_t l = 0; l < topology_.links.size(); ++l) {
          const TopologyLink &link = topology_.links[l];
          if (!link.duplex || link.to != topology_.devices[at].name) continue;
          const size_t from = topology_.deviceIndex(link.from);
          if (seen[from]) continue;
          seen[from] = true;
          via[from] = l;
          next.push_back(from);
        }
      frontier = std::move(next);
    }
    std::vector<size_t> links;
    if (!seen[device] || device == aggregator) return links;
    for (size_t at = device; at != aggregator; at = topology_.deviceIndex(topology_.links[*via[at]].to))
      links.push_back(*via[at]);
    std::reverse(links.begin(), links.end());
    return links;
  }

  // The devices that send: every one of them needs the aggregator's beacons.
  std::vector<size_t> beaconDestinations() const {
    std::vector<size_t> destinations;
    for (size_t d = 0; d < sends_.size(); ++d)
      if (!sends_[d].empty()) destinations.push_back(d);
    return destinations;
  }

  // What `device` relays: the frames of routes passing through it and the beacons on their way.
  RelaySpec relayOf(size_t device) const {
    RelaySpec relay;
    for (const auto &sends : sends_)
      for (const Send &send : sends) {
        const Route &route = send.transfer->route;
        for (size_t h = 1; h < route.links.size(); ++h)
          if (topology_.deviceIndex(topology_.links[route.links[h]].from) == device) {
            relay.frames.push_back({static_cast<uint8_t>(route.from), send.tensor,
                                    static_cast<uint8_t>(route.links[h])});
            relay.bufferBytes = std::max(relay.bufferBytes, route.mtu);
          }
      }
    const int64_t beaconBytes =
        (auth_ ? ES_WIRE_BEACON_BYTES(ES_WIRE_AUTH) : ES_WIRE_BEACON_BYTES(ES_WIRE_PLAIN)) + 1;
    for (size_t destination : beaconDestinations()) {
      const std::vector<size_t> links = beaconRoute(destination);
      // Hop h leaves the device at the aggregator's end of links[h] towards its other end.
      for (size_t h = 1; h < links.size(); ++h)
        if (topology_.deviceIndex(topology_.links[links[h]].to) == device) {
          relay.beacons.push_back({static_cast<uint8_t>(destination),
                                   static_cast<uint8_t>(links[h]), h + 1 == links.size()});
          relay.bufferBytes = std::max(relay.bufferBytes, beaconBytes);
        }
    }
    return relay;
  }

  bool hasPart(size_t device) const {
    return !nodesOn(device).empty() || !sends_[device].empty() ||
           !receivedBy(device).empty() || !relayOf(device).empty();
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
    for (const Value *value : sentValues(device))
      outputs.push_back({value->name, const_cast<Value *>(value)});
    build.subgraph = extractSubgraph(graph_, nodesOn(device), modelInputsOf(build.groups), outputs,
                                     fused_);
    try {
      build.compiled = compileFusedDevice(*build.subgraph.graph, precision_,
                                          kernelIsaOf(topology_.devices[device].target.features),
                                          request_.rounding, build.subgraph.fused);
    } catch (const Error &error) {
      fail("{}: device '{}': {}", request_.modelPath, topology_.devices[device].name, error.what());
    }
    if (request_.zeroShares) setInputZeroShares(build.compiled.program, *request_.zeroShares);
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

  // The beacon security of `device`: the key of the (device, aggregator) pair, tag only; the
  // link is the first hop of the beacon's route from the aggregator.
  LinkSecurity beaconSecurity(size_t device, size_t firstLink, const std::string &peer) const {
    LinkSecurity security;
    security.link = static_cast<uint8_t>(firstLink);
    security.peer = peer;
    if (!auth_) return security;
    security.mode = LinkMode::Auth;
    security.pair = {static_cast<uint8_t>(device), static_cast<uint8_t>(aggregatorIndex())};
    if (request_.masterKey && !request_.keyHook)
      security.key = deriveLinkKey(*request_.masterKey, static_cast<uint8_t>(device),
                                   static_cast<uint8_t>(aggregatorIndex()));
    return security;
  }

  void compileBuild(DeviceBuild &build, const std::vector<const Value *> &inputs,
                    llvm::ArrayRef<GraphOutput> outputs,
                    llvm::ArrayRef<const Node *> gatheredInPlace = {}) {
    const size_t device = build.device;
    std::vector<const Node *> nodes = nodesOn(device);
    llvm::erase_if(nodes, [&](const Node *node) { return llvm::is_contained(gatheredInPlace, node); });
    build.subgraph = extractSubgraph(graph_, nodes, inputs, outputs, fused_);
    try {
      build.compiled = compileFusedDevice(*build.subgraph.graph, precision_,
                                          kernelIsaOf(topology_.devices[device].target.features),
                                          request_.rounding, build.subgraph.fused);
    } catch (const Error &error) {
      fail("{}: device '{}': {}", request_.modelPath, topology_.devices[device].name, error.what());
    }
    if (request_.zeroShares) setInputZeroShares(build.compiled.program, *request_.zeroShares);
  }

  ReceivedTensor receivedTensor(const Send &send, size_t programInput) const {
    const Value *value = send.transfer->value;
    ReceivedTensor entry;
    entry.name = value->name;
    entry.programInput = programInput;
    entry.sourceDevice = topology_.devices[send.transfer->route.from].name;
    entry.source = static_cast<uint8_t>(send.transfer->route.from);
    entry.tensor = send.tensor;
    entry.bytes = send.bytes;
    entry.fragmentBytes = send.fragmentBytes;
    entry.fragments = send.fragments;
    entry.firstFrame = send.firstFrame;
    entry.groups = partition_.tags.values.lookup(value);
    return entry;
  }

  // The devices whose tensors `received` come from, each once, with the pair's protection.
  std::vector<ReceivedLink> sourcesOf(const std::vector<const Send *> &received, size_t reader) const {
    std::vector<ReceivedLink> sources;
    for (const Send *send : received) {
      const size_t producer = send->transfer->route.from;
      if (llvm::any_of(sources, [&](const ReceivedLink &s) { return s.source == producer; })) continue;
      sources.push_back({static_cast<uint8_t>(producer),
                         pairSecurity(producer, reader, send->transfer->route.links.front()), false});
    }
    return sources;
  }

  // A device subgraph's inputs: what it receives (in receiving order), then its own sensors'.
  std::vector<const Value *> subgraphInputs(const std::vector<const Send *> &received,
                                            GroupMask groups) const {
    std::vector<const Value *> inputs;
    for (const Send *send : received) inputs.push_back(send->transfer->value);
    for (const Value *own : modelInputsOf(groups)) inputs.push_back(own);
    return inputs;
  }

  // Where a received part lands when its Concat gathers in place: the Concat's output and the
  // part's byte offset in it.
  struct PartInPlace {
    const Value *gathered = nullptr;
    int64_t offset = 0;
  };

  // The Concats `device` gathers in place, as the placement decided
  // (FleetPartition::gatheredInPlace); where each of their parts lands, by value, goes to `parts`.
  std::vector<const Node *> gathersInPlace(size_t device,
                                           llvm::DenseMap<const Value *, PartInPlace> &parts) const {
    std::vector<const Node *> concats;
    for (const Node *node : partition_.gatheredInPlace) {
      if (partition_.deviceOf[nodeIndex(node)] != device) continue;
      // Its parts are contiguous ranges of its output: why the placement could gather it.
      const std::vector<int64_t> offsets =
          concatPartOffsets(*node, elementBytes(precision_)).value();
      concats.push_back(node);
      for (size_t i = 0; i < node->inputs.size(); ++i)
        parts[node->inputs[i]] = {node->outputs[0], offsets[i]};
    }
    return concats;
  }

  // A sensor or worker of a routed fleet (a device that only relays has an empty model).
  void buildRouted(size_t device) {
    const TopologyDevice &topologyDevice = topology_.devices[device];
    DeviceBuild build;
    build.device = device;
    build.groups = groupsOf(device);
    const std::vector<const Send *> received = receivedBy(device);
    const std::vector<const Value *> sent = sentValues(device);
    llvm::DenseMap<const Value *, PartInPlace> partsInPlace;
    const std::vector<const Node *> gathered = gathersInPlace(device, partsInPlace);
    // A part gathered in place is no input of its own: its frames land in the Concat's output,
    // which is the input in its stead (once, where its first part was).
    std::vector<const Value *> inputs;
    std::vector<size_t> programInputOf;
    std::vector<int64_t> offsetOf;
    for (const Send *send : received) {
      const Value *value = send->transfer->value;
      int64_t offset = 0;
      if (auto part = partsInPlace.find(value); part != partsInPlace.end()) {
        value = part->second.gathered;
        offset = part->second.offset;
      }
      auto at = llvm::find(inputs, value);
      programInputOf.push_back(static_cast<size_t>(at - inputs.begin()));
      offsetOf.push_back(offset);
      if (at == inputs.end()) inputs.push_back(value);
    }
    for (const Value *own : modelInputsOf(build.groups)) inputs.push_back(own);
    llvm::SmallVector<GraphOutput, 4> outputs;
    for (const Value *value : sent) outputs.push_back({value->name, const_cast<Value *>(value)});
    compileBuild(build, inputs, outputs, gathered);

    RoutedDeviceSpec spec;
    spec.identity = identity(device);
    spec.sensor = !topologyDevice.sensors.empty();
    spec.aggregatorId = static_cast<uint8_t>(aggregatorIndex());
    const std::vector<size_t> beaconLinks = beaconRoute(device);
    if (!sends_[device].empty() && !beaconLinks.empty())
      spec.beacons = beaconSecurity(device, beaconLinks.back(), topology_.aggregator().name);
    int64_t mtu = 0;
    for (const Send &send : sends_[device]) {
      SentTensor tensor;
      tensor.name = send.transfer->value->name;
      tensor.tensor = send.tensor;
      tensor.programOutput = static_cast<size_t>(llvm::find(sent, send.transfer->value) - sent.begin());
      tensor.security = pairSecurity(device, send.transfer->route.to, send.transfer->route.links.front());
      tensor.mtu = send.transfer->route.mtu;
      mtu = std::max(mtu, tensor.mtu);
      spec.sent.push_back(std::move(tensor));
    }
    spec.sources = sourcesOf(received, device);
    for (size_t i = 0; i < received.size(); ++i) {
      spec.received.push_back(receivedTensor(*received[i], programInputOf[i]));
      spec.received.back().offset = offsetOf[i];
      build.staticBytes += reassemblyBytes(spec.received.back().bytes,
                                           spec.received.back().fragments, true);
    }
    spec.relay = relayOf(device);
    build.staticBytes += mtu + spec.relay.bufferBytes;
    build.relay = spec.relay;

    EmitOptions options = emitOptions(device);
    options.extraRuntimeFunctions.push_back("es_route_forward");
    options.extraFiles = emitRoutedDeviceFleet(spec, build.compiled.program);
    build.files = emitDevice(build.compiled.program, build.compiled.plan, options);
    build.entryPoints = {"fleet_init", "on_frame", "round"};
    if (spec.sensor) build.entryPoints.insert(build.entryPoints.end(), {"step", "step_raw"});
    else if (!received.empty()) build.entryPoints.push_back("poll");
    std::vector<LinkSecurity> securities;
    for (const SentTensor &tensor : spec.sent) securities.push_back(tensor.security);
    for (const ReceivedLink &source : spec.sources) securities.push_back(source.security);
    build.hooks = {"send"};
    for (const std::string &hook : keyHooks(securities, !spec.sent.empty())) build.hooks.push_back(hook);
    sensors_.push_back(std::move(build));
  }

  void buildAggregator(const llvm::StringMap<std::vector<double>> &means) {
    const size_t device = aggregatorIndex();
    DeviceBuild build;
    build.device = device;
    build.groups = groupsOf(device);
    // Received tensors: by sending device, then in the order each sends them.
    const std::vector<const Send *> received = receivedBy(device);
    const std::vector<const Value *> inputs = subgraphInputs(received, build.groups);
    llvm::SmallVector<GraphOutput, 8> outputs;
    for (const HeadPlan &head : partition_.heads)
      outputs.push_back({head.output, const_cast<Value *>(head.value)});
    compileBuild(build, inputs, outputs);

    AggregatorFleetSpec spec;
    spec.identity = identity(device);
    std::vector<LinkSecurity> securities;
    if (!routed_) {
      for (const DeviceBuild &sensor : sensors_) {
        const TopologyLink *link =
            topology_.link(topology_.devices[sensor.device].name, topology_.devices[device].name);
        spec.links.push_back({static_cast<uint8_t>(sensor.device),
                              linkSecurity(sensor.device, device, sensor.device), link->duplex});
        securities.push_back(spec.links.back().security);
      }
    } else {
      spec.routed = true;
      spec.links = sourcesOf(received, device);
      for (const ReceivedLink &link : spec.links) securities.push_back(link.security);
      for (size_t destination : beaconDestinations()) {
        const std::vector<size_t> links = beaconRoute(destination);
        if (links.empty()) continue; // no duplex path: the application tells it its rounds
        RoutedBeacon beacon;
        beacon.destination = static_cast<uint8_t>(destination);
        beacon.lastHop = links.size() == 1;
        beacon.security =
            beaconSecurity(destination, links.front(), topology_.devices[destination].name);
        securities.push_back(beacon.security);
        spec.beacons.push_back(std::move(beacon));
      }
      spec.relay = relayOf(device);
      build.staticBytes += spec.relay.bufferBytes;
      build.relay = spec.relay;
    }
    for (const SensorGroup &group : topology_.groups) spec.groups.push_back(group.name);
    spec.ownGroups = build.groups;
    spec.impute = topology_.fallback == FallbackMode::Impute;
    spec.roundTimeoutMs = topology_.roundTimeoutMs;
    for (size_t i = 0; i < received.size(); ++i) {
      ReceivedTensor entry = receivedTensor(*received[i], i);
      if (spec.impute) {
        auto mean = means.find(entry.name);
        if (mean == means.end()) fail("internal error: no calibration mean of '{}'", entry.name);
        entry.mean = storedMean(*received[i]->transfer->value, mean->second, precision_);
      }
      build.staticBytes += reassemblyBytes(entry.bytes, entry.fragments, false);
      spec.received.push_back(std::move(entry));
    }
    if (routed_) spec.headSlots = headSlots(build, received.size());
    for (size_t h = 0; h < partition_.heads.size(); ++h)
      spec.heads.push_back({partition_.heads[h].output, h, partition_.heads[h].groups});

    EmitOptions options = emitOptions(device);
    if (routed_) options.extraRuntimeFunctions.push_back("es_route_forward");
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

  // Per head, the received tensors (the first `receivedCount` inputs of the aggregator's graph)
  // its computation reads.
  static std::vector<std::vector<size_t>> headSlots(const DeviceBuild &build, size_t receivedCount) {
    const Graph &graph = *build.subgraph.graph;
    std::vector<std::vector<size_t>> result;
    for (const GraphOutput &output : graph.outputs) {
      llvm::SmallVector<const Value *, 16> pending{output.value};
      llvm::DenseSet<const Value *> seen;
      std::vector<size_t> slots;
      while (!pending.empty()) {
        const Value *value = pending.pop_back_val();
        if (!seen.insert(value).second) continue;
        for (size_t i = 0; i < receivedCount; ++i)
          if (graph.inputs[i] == value) slots.push_back(i);
        if (value->producer)
          for (const Value *input : value->producer->inputs)
            if (input) pending.push_back(input);
      }
      std::sort(slots.begin(), slots.end());
      result.push_back(std::move(slots));
    }
    return result;
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
    json["role"] = roleOf(build.device);
    if (routed_) {
      ReportJson nodes = ReportJson::array();
      for (const Node *node : nodesOn(build.device)) nodes.push_back(node->name);
      json["nodes"] = std::move(nodes);
      ReportJson relay;
      relay["frames_per_inference"] = relayedFrames(build.device);
      relay["beacon_destinations"] = build.relay.beacons.size();
      relay["buffer_bytes"] = build.relay.bufferBytes;
      json["relay"] = std::move(relay);
    }
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

  const char *roleOf(size_t device) const {
    const TopologyDevice &topologyDevice = topology_.devices[device];
    if (topologyDevice.aggregator) return "aggregator";
    return topologyDevice.sensors.empty() ? "worker" : "sensor";
  }

  // Frames per inference the device forwards for others.
  int64_t relayedFrames(size_t device) const {
    int64_t frames = 0;
    for (const auto &sends : sends_)
      for (const Send &send : sends)
        for (size_t h = 1; h < send.transfer->route.links.size(); ++h)
          if (topology_.deviceIndex(topology_.links[send.transfer->route.links[h]].from) == device)
            frames += send.fragments;
    return frames;
  }

  const char *linkProtection(const TopologyLink &link) const {
    return !auth_ ? "plain" : link.encrypt ? "aead" : "auth";
  }

  // Routed fleets: every link some tensor or beacon crosses, with each tensor counted on every
  // link of its route (bytes per hop).
  ReportJson routedLinksJson() const {
    ReportJson links = ReportJson::array();
    const int64_t beaconBytes =
        auth_ ? ES_WIRE_BEACON_BYTES(ES_WIRE_AUTH) : ES_WIRE_BEACON_BYTES(ES_WIRE_PLAIN);
    for (size_t l = 0; l < topology_.links.size(); ++l) {
      const TopologyLink &link = topology_.links[l];
      ReportJson tensors = ReportJson::array();
      int64_t payload = 0, air = 0, frames = 0, beacons = 0;
      bool raw = false;
      for (const auto &sends : sends_)
        for (const Send &send : sends) {
          const Route &route = send.transfer->route;
          if (!llvm::is_contained(route.links, l)) continue;
          ReportJson tensor;
          tensor["name"] = send.transfer->value->name;
          tensor["from"] = topology_.devices[route.from].name;
          tensor["to"] = topology_.devices[route.to].name;
          tensor["bytes"] = send.bytes;
          tensor["frames"] = send.fragments;
          tensor["hop"] = static_cast<int64_t>(llvm::find(route.links, l) - route.links.begin()) + 1;
          tensor["hops"] = route.hops();
          tensors.push_back(std::move(tensor));
          raw |= llvm::is_contained(graph_.inputs, send.transfer->value);
          payload += send.bytes;
          air += route.airBytesPerHop;
          frames += send.fragments;
        }
      for (size_t destination : beaconDestinations()) {
        const std::vector<size_t> route = beaconRoute(destination);
        for (size_t h = 0; h < route.size(); ++h)
          if (route[h] == l) beacons += beaconBytes + (h + 1 == route.size() ? 0 : 1);
      }
      if (tensors.empty() && beacons == 0) continue;
      ReportJson entry;
      entry["from"] = link.from;
      entry["to"] = link.to;
      entry["link_id"] = l;
      entry["mtu"] = link.mtu;
      entry["protection"] = linkProtection(link);
      entry["raw"] = raw;
      entry["tensors"] = std::move(tensors);
      entry["payload_bytes_per_inference"] = payload;
      entry["bytes_per_inference"] = air;
      entry["frames_per_inference"] = frames;
      entry["beacon_bytes_per_inference"] = beacons;
      const double ms = air == 0 ? 0.0 : static_cast<double>(air) * 8.0 / link.kbps + link.latencyMs;
      entry["est_transfer_ms"] = rounded(ms);
      entry["est_energy_uj"] = rounded(static_cast<double>(air) * link.njPerByte / 1000.0);
      links.push_back(std::move(entry));
    }
    return links;
  }

  const DeviceBuild *buildOf(size_t device) const {
    if (aggregator_.device == device && topology_.devices[device].aggregator) return &aggregator_;
    for (const DeviceBuild &build : sensors_)
      if (build.device == device) return &build;
    return nullptr;
  }

  // One inference's critical path over devices and routes (each device computes once all its
  // inputs arrived; a route delivers its tensor route.ms after its producer finished), and the
  // pipeline's rate when successive inferences overlap: one per the busiest device's compute or
  // the busiest link's airtime.
  void estimatePipeline() {
    const size_t n = topology_.devices.size();
    std::vector<double> compute(n, 0.0), finish(n, 0.0);
    for (size_t d = 0; d < n; ++d)
      if (const DeviceBuild *build = buildOf(d)) {
        double cycles = 0;
        for (const KernelCall &call : build->compiled.program.calls)
          cycles += estimateCycles(topology_.devices[d].target, precision_, call);
        compute[d] = cycles / (topology_.devices[d].target.clockMhz * 1000.0);
      }
    finish = compute;
    // The device graph is acyclic (checkRunnable): n relaxations settle it.
    for (size_t pass = 0; pass < n; ++pass)
      for (const Transfer &transfer : partition_.transfers)
        finish[transfer.route.to] = std::max(finish[transfer.route.to],
                                             finish[transfer.route.from] + transfer.route.ms +
                                                 compute[transfer.route.to]);
    std::vector<double> airtime(topology_.links.size(), 0.0);
    for (const Transfer &transfer : partition_.transfers)
      for (size_t l : transfer.route.links)
        airtime[l] += static_cast<double>(transfer.route.airBytesPerHop) * 8.0 / topology_.links[l].kbps;
    double busiest = 0;
    for (double ms : compute) busiest = std::max(busiest, ms);
    for (double ms : airtime) busiest = std::max(busiest, ms);
    latencyMs_ = finish[aggregatorIndex()];
    throughput_ = busiest > 0 ? 1000.0 / busiest : 0.0;
    computeMs_ = compute;
  }

  ReportJson linksJson() const {
    if (routed_) return routedLinksJson();
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
    if (routed_) {
      fleet["routed"] = true;
      fleet["est_latency_ms"] = rounded(latencyMs_);
      fleet["est_throughput_per_s"] = rounded(throughput_);
      ReportJson stages = ReportJson::array();
      for (size_t d = 0; d < computeMs_.size(); ++d)
        if (buildOf(d)) {
          ReportJson stage;
          stage["device"] = topology_.devices[d].name;
          stage["est_compute_ms"] = rounded(computeMs_[d]);
          stages.push_back(std::move(stage));
        }
      fleet["stages"] = std::move(stages);
      ReportJson transfers = ReportJson::array();
      for (const Transfer &transfer : partition_.transfers) {
        ReportJson entry, route = ReportJson::array();
        entry["tensor"] = transfer.value->name;
        entry["from"] = topology_.devices[transfer.route.from].name;
        entry["to"] = topology_.devices[transfer.route.to].name;
        for (size_t l : transfer.route.links) route.push_back(l);
        entry["links"] = std::move(route);
        entry["mtu"] = transfer.route.mtu;
        entry["bytes_per_hop"] = transfer.route.airBytesPerHop;
        entry["est_ms"] = rounded(transfer.route.ms);
        transfers.push_back(std::move(entry));
      }
      fleet["transfers"] = std::move(transfers);
    }
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
      picture.devices.push_back({device.name, device.target.name, roleOf(d), device.sensors});
      for (const Value *input : modelInputsOf(groupsOf(d))) picture.inputDevice[input] = d;
    }
    for (const HeadPlan &head : partition_.heads) {
      std::vector<std::string> groups;
      for (size_t g = 0; g < topology_.groups.size(); ++g)
        if (head.groups & (GroupMask(1) << g)) groups.push_back(topology_.groups[g].name);
      picture.heads.push_back({head.output, head.value, std::move(groups)});
    }
    for (const auto &sends : sends_)
      for (const Send &send : sends) {
        std::vector<std::string> relays;
        for (size_t relay : send.transfer->route.relays(topology_))
          relays.push_back(topology_.devices[relay].name);
        picture.sent.try_emplace(send.transfer->value->name,
                                 PictureSentTensor{send.bytes, send.transfer->route.airBytesPerHop,
                                                   fmt::format("{}", fmt::join(relays, ", "))});
        if (relays.empty()) continue;
        std::vector<size_t> &path =
            picture.routes[{send.transfer->value->name, send.transfer->route.to}];
        path.push_back(send.transfer->route.from);
        for (size_t relay : send.transfer->route.relays(topology_)) path.push_back(relay);
        path.push_back(send.transfer->route.to);
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
    // A worker that runs, sends, receives and relays nothing has no folder and no entry.
    devices.erase(std::remove_if(devices.begin(), devices.end(),
                                 [](const ReportJson &device) { return device.is_null(); }),
                  devices.end());
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
  bool routed_ = false;
  std::vector<std::vector<Send>> sends_; // by producing device, in send order
  std::vector<DeviceBuild> sensors_;     // every device but the aggregator that has a folder
  DeviceBuild aggregator_;
  std::vector<uint32_t> headMasks_;
  double latencyMs_ = 0, throughput_ = 0; // routed fleets: estimatePipeline
  std::vector<double> computeMs_;
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
