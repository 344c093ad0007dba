// Partitioning a model over a fleet (docs/partition.md). Every node is tagged with the sensor
// groups it depends on. On a star (sensor devices linked straight to the aggregator, no workers,
// pins or separations) nodes of one group may run on the device owning that group, everything
// else (merges and heads) runs on the aggregator, and for each group's branch the cut — which of
// its nodes run on the sensor device, the rest on the aggregator — is chosen by a cost model
// (compute on each side, bytes on air, link latency and energy) under the sensor device's RAM
// and flash limits. On any other topology every live node is placed on any device by the
// whole-fleet cost model and search of PlacementCost.h / PlacementSearch.h.
#pragma once

#include "codegen/FuseActivations.h"
#include "codegen/Program.h"
#include "partition/PlacementCost.h"
#include "partition/Routes.h"
#include "partition/Topology.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/SmallVector.h>

#include <functional>
#include <string>
#include <vector>

namespace edgesplit {

// Bit g: the topology's sensor group g (Topology::groups order). At most 32 groups.
using GroupMask = uint32_t;

struct GroupTags {
  llvm::DenseMap<const Value *, GroupMask> values; // non-constant values
  llvm::DenseMap<const Node *, GroupMask> nodes;
};
GroupTags tagSensorGroups(const Graph &graph, const Topology &topology);

struct HeadPlan {
  std::string output;        // model output name
  const Value *value = nullptr;
  GroupMask groups = 0;      // the sensor groups the output depends on
  int64_t priority = 0;
};

// Figures of one cut of one branch: what the sensor device runs and sends.
struct CutOption {
  llvm::SmallVector<const Node *, 8> sensorNodes; // execution order
  llvm::SmallVector<const Value *, 2> sent;       // tensors crossing the link, in send order
  int64_t sensorMacs = 0;
  int64_t payloadBytes = 0; // tensor bytes
  int64_t airBytes = 0;     // with every frame's header, tag and CRC
  int64_t frames = 0;
  double sensorMs = 0, linkMs = 0, aggregatorMs = 0; // compute, transfer, the branch's rest
  double latencyMs = 0, energyUj = 0, cost = 0;
  int64_t sensorRamBytes = 0;        // arena + stack + frame buffer
  int64_t sensorFlashEstimate = 0;   // weights + code allowance
  bool fits = true;
  std::string limit; // why it does not fit
  bool pareto = false;
};

struct BranchPlan {
  size_t group = 0;  // Topology::groups index
  size_t device = 0; // Topology::devices index of the owner
  size_t link = 0;   // Topology::links index towards the aggregator (the route's first hop)
  std::vector<CutOption> options; // options[0] sends the raw sensor data
  size_t chosen = 0;
  bool exhaustive = true; // false: the branch was too wide; only order prefixes were costed
};

// A tensor that one device computes (or, for a model input, reads from its sensors) and another
// reads: it travels once per inference along `route` (route.from: the producer's device,
// route.to: the reader's).
struct Transfer {
  const Value *value = nullptr;
  Route route;
};

// How the placement was found and what it costs under the shared cost model (PlacementCost.h).
struct PlacementSummary {
  // "sensor-group cut" (a star: today's per-branch rule), "exact" (branch-and-bound finished)
  // or "greedy+local" (the heuristic, improved by the search within its budget).
  std::string method;
  double cost = 0, lowerBound = 0; // no fitting placement costs less than lowerBound
  double latencyMs = 0, energyUj = 0;
  int64_t airBytes = 0;
  size_t evaluations = 0;          // partial placements the strategies evaluated
  std::vector<DeviceLoad> devices; // by topology device: the estimates the placement fits in
};

struct FleetPartition {
  GroupTags tags;
  std::vector<HeadPlan> heads;        // in the aggregator's order of preference
  std::vector<BranchPlan> branches;   // groups owned by sensor devices, topology order
  std::vector<size_t> deviceOf;       // by the graph's node index: Topology::devices index
  std::vector<const Node *> liveNodes; // nodes some head needs, execution order
  // Every (value, reading device) pair whose producer runs elsewhere, by reading device (topology
  // order), then in the order the reader first needs them (planTransfers).
  std::vector<Transfer> transfers;
  PlacementSummary placement;
  // The Concats a worker gathers in place (docs/partition.md, "Gathering in place"), execution
  // order: decided by the placement's cost model (PlacementCost::gathersInPlace), built so by the
  // fleet compiler.
  std::vector<const Node *> gatheredInPlace;
};

// The device that produces `value` under `deviceOf` (by node index): its producer's device, or,
// for a model input, the device owning its sensor group.
size_t producerDevice(const Graph &graph, const Topology &topology, const GroupTags &tags,
                      const std::vector<size_t> &deviceOf, const Value &value);

// The transfers that `deviceOf` implies for `liveNodes` and the heads (whose values the aggregator
// reads), each over the cheapest route for its bytes.
std::vector<Transfer> planTransfers(const Graph &graph, const Topology &topology,
                                    const FleetPartition &partition, Precision precision);

struct PartitionRequest {
  const Graph *graph = nullptr; // annotated (int8) and with activations fused
  const Topology *topology = nullptr;
  Precision precision = Precision::Int8;
  const llvm::DenseMap<const Node *, ActivationClamp> *fused = nullptr;
  // The whole graph lowered once: each call's kernel class and MACs give per-device costs.
  const Program *wholeProgram = nullptr;
  // The scratch a node of `device` needs (its kernels depend on the device's instruction set);
  // the node may be a clone in a device's subgraph. Empty: none.
  std::function<int64_t(const Node &node, size_t device)> scratchBytes;
  // Groups of nodes that must run on pairwise different devices: the slices of one layer split by
  // output channels (fleet/ChannelSlicing.h), which exist because no one device holds two.
  std::vector<std::vector<const Node *>> separate;
};

FleetPartition partitionFleet(const PartitionRequest &request);

// Payload bytes per frame, frames and bytes on air of one tensor on a link (docs/wire.md; the
// same formulas as es_wire_fragment_count / es_wire_frame_bytes in runtime-c).
int64_t wireFragmentBytes(int64_t mtu, bool auth);
int64_t wireFrames(int64_t payloadBytes, int64_t mtu, bool auth);
int64_t wireAirBytes(int64_t payloadBytes, int64_t mtu, bool auth);

} // namespace edgesplit
