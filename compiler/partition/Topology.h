// The fleet description (topology JSON, schema edgesplit-topology/1, docs/topology.md): devices
// with their targets, which device owns which sensor group, the links between devices, the heads
// and how to fall back when a group is missing, and what the partitioner minimises.
#pragma once

#include "target/Target.h"

#include <llvm/ADT/ArrayRef.h>

#include <array>
#include <map>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgesplit {

struct TopologyDevice {
  std::string name;
  Target target; // loaded, with the device's clock/ram/flash and cost overrides applied
  std::vector<std::string> sensors; // names of the sensor groups it owns, file order
  bool aggregator = false;
  bool worker = false; // "role": "worker": owns no sensors, runs what the partitioner places on it
};

struct TopologyLink {
  std::string from, to;
  double kbps = 0, latencyMs = 0;
  int64_t mtu = 0;
  double njPerByte = 0;
  bool encrypt = true; // on a keyed fleet: AEAD; false: tag only, payload in clear
  bool duplex = true;  // the aggregator sends its beacons back over it
};

struct TopologyHead {
  std::string output;
  int64_t priority = 0; // breaks ties between heads needing the same number of groups
};

struct SensorGroup {
  std::string name;
  std::vector<std::string> inputs; // model input names, file order
};

enum class FallbackMode { Heads, Impute };

// Weights of the partitioner's cost: latency in ms, energy in microjoules, bytes on the links.
struct Objective {
  double latency = 1.0, energy = 1.0, bytes = 0.0;
};

struct Topology {
  std::string source;                  // file path, for messages
  std::vector<TopologyDevice> devices; // file order
  std::vector<SensorGroup> groups;     // file order of the sensor_groups keys
  std::vector<TopologyLink> links;
  std::optional<std::vector<TopologyHead>> heads;
  FallbackMode fallback = FallbackMode::Heads;
  Objective objective;
  // "placement": node name -> device index: nodes the partitioner must place on that device.
  std::map<std::string, size_t> pins;
  bool forbidRaw = false; // "privacy": {"raw": "forbid"}: no link carries a model input
  int64_t roundTimeoutMs = 1000; // the aggregator abandons a round this long after opening it
  // Whether the links carry tags: not part of the file (keys never are, docs/security.md) but set
  // by the compile from --keys or --key-provisioning hook, as the partitioner counts tag bytes.
  bool keyed = false;
  // The parsed document re-serialised (keys in file order), for the model fingerprint.
  std::string canonical;

  const TopologyDevice &aggregator() const;
  size_t aggregatorIndex() const;
  size_t deviceIndex(const std::string &name) const; // of a device the topology has
  // Whether a directed path of links leads from device `from` to device `to` (indices).
  bool reaches(size_t from, size_t to) const;
  const TopologyDevice *owner(const std::string &group) const;
  const TopologyLink *link(const std::string &from, const std::string &to) const;
  const SensorGroup *groupOfInput(const std::string &input) const;
};

// One step of an RFC 6901 JSON pointer, "/" and the key with '~' and '/' escaped ("~0", "~1"),
// so that a key holding '/' does not read as several steps.
std::string jsonPointerStep(std::string_view key);

// Parses and validates a topology; every error is one line naming `source` and the JSON pointer.
// Relative target paths are resolved against the folder of `source`.
Topology parseTopology(std::string_view text, const std::string &source);
Topology loadTopology(const std::string &path);

// Every model input belongs to exactly one group, every group input is a model input and every
// head names a model output.
void checkTopologyAgainstModel(const Topology &topology, llvm::ArrayRef<std::string> modelInputs,
                               llvm::ArrayRef<std::string> modelOutputs);

} // namespace edgesplit
