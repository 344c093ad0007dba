// The cost model every placement strategy shares (docs/partition.md, "Placement"): a placement
// problem reduced to what placing needs (units to place in execution order, the tensors between
// them, each unit's compute time, scratch and weights on each device), and the figures of a
// placement of its first units: critical-path latency, energy, bytes on air, each device's RAM
// and flash, and whether it fits. Every figure only grows as more units are placed, so the
// figures of a prefix bound those of every placement that extends it (what the exact search
// prunes with).
#pragma once

#include "partition/Routes.h"
#include "partition/Topology.h"

#include <llvm/ADT/ArrayRef.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace edgesplit {

struct PlacementTensor {
  std::string name;
  int64_t bytes = 0;
  std::optional<size_t> producer; // unit index; none: a model input, read on device `source`
  size_t source = 0;
  std::vector<size_t> readers; // unit indices, ascending
  bool head = false;           // a head's value: the aggregator reads it
};

// A node to place: an ONNX node with its fused activation (they never part).
struct PlacementUnit {
  std::string name;
  std::vector<size_t> inputs, outputs; // tensor indices
  std::vector<double> ms;              // compute time on each device
  std::vector<int64_t> scratchBytes;   // kernel scratch on each device
  int64_t weightBytes = 0;             // as the kernels store them
  std::vector<bool> allowed;           // by device (pins); empty: any device
  // A Concat whose parts are contiguous ranges of its output (concatPartOffsets): on a worker
  // that receives them all, they land in place in its output (docs/partition.md).
  bool gathers = false;
};

struct PlacementProblem {
  const Topology *topology = nullptr;
  std::vector<PlacementUnit> units; // execution order: a tensor's producer before its readers
  std::vector<PlacementTensor> tensors;
  // Groups of units that must run on pairwise different devices (channel slices).
  std::vector<std::vector<size_t>> separate;
  int64_t codeAllowanceBytes = 8 * 1024; // flash next to the weights on every device
};

struct DeviceLoad {
  int64_t activationBytes = 0; // the tensors it holds at its peak, plus that step's scratch
  int64_t receiveBytes = 0;    // reassembly buffers of what it receives
  int64_t frameBufferBytes = 0; // one mtu buffer per route it sends on or relays
  int64_t ramBytes = 0;        // the above plus the stack
  int64_t flashBytes = 0;      // weights plus the code allowance
  size_t units = 0;
};

struct PlacementCost {
  bool fits = true;
  std::string limit;        // why it does not fit (when asked for)
  int64_t excessBytes = 0;  // RAM and flash beyond the devices' limits, summed
  size_t violations = 0;    // other broken constraints: no path, raw data, pins, separation
  double latencyMs = 0, energyUj = 0, cost = 0;
  int64_t airBytes = 0; // over all hops
  std::vector<DeviceLoad> devices;
  std::vector<double> finishMs; // by placed unit
  // By placed unit: a Concat (PlacementUnit::gathers) that its worker gathers in place, as the
  // figures count it; the fleet compiler builds the placement's Concats as decided here.
  std::vector<bool> gathersInPlace;
};

// The static bytes a device keeps to reassemble a received tensor of `bytes` in `fragments`
// (docs/wire.md): the aggregator reassembles ES_WIRE_ROUNDS_IN_FLIGHT rounds at once, each in
// its own buffer with its fragment bitmap; a worker one round, whose frames land in its arena
// (counted with its activations), so only the bitmaps.
int64_t reassemblyBytes(int64_t bytes, int64_t fragments, bool worker);

// A stage sketched before its nodes exist: a channel slice or a band of rows that a rule sizes
// (compiler/fleet). It reads `inputBytes` from outside, then runs `steps` in execution order
// (a node with its fused activation is one step); a step reads stage inputs (indices below
// inputBytes.size()) and earlier steps' outputs (inputBytes.size() + step). The last step's
// output is sent on.
struct StageSketch {
  struct Step {
    int64_t outputBytes = 0;
    std::vector<size_t> reads;
  };
  std::vector<int64_t> inputBytes;
  std::vector<Step> steps;
};

// Where a sketched stage's inputs are when the device runs it.
enum class StageInputs {
  Received,  // sent by another device (over its smallest-mtu incoming link): a worker's piece
  OwnSentOn, // made on the device and sent on too: a sensor device's piece of several that
             // read one input (the sketch sends it to the aggregator)
  Own,       // made on the device and read there only: a layer where its input is made
};

// The device's load, by the placement's own estimate (PlacementCostModel::evaluate of a problem
// holding just the stage, on `device`), when it runs `stage` alone: what the channel-slice and
// band rules size their pieces with, so that a piece they count a device able to take is one the
// placement also lets it hold. Kernel scratch is not known before lowering and counts 0.
DeviceLoad sketchedStageLoad(const Topology &topology, const StageSketch &stage, size_t device,
                             StageInputs inputs);

class PlacementCostModel {
public:
  explicit PlacementCostModel(const PlacementProblem &problem);

  const PlacementProblem &problem() const { return problem_; }
  size_t deviceCount() const { return problem_.topology->devices.size(); }
  bool allowed(size_t unit, size_t device) const;
  // The bytes a unit needs alone on `device`: its input, output and scratch tensors.
  int64_t aloneActivationBytes(size_t unit, size_t device) const;
  // Whether the unit alone fits `device`: those tensors beside the stack, its weights beside the
  // code allowance. A device it does not fit alone holds it in no fitting placement.
  bool fitsAlone(size_t unit, size_t device) const;

  // The figures of placing unit i on deviceOf[i] for the first deviceOf.size() units. With
  // `explain`, `limit` names the first limit broken.
  PlacementCost evaluate(llvm::ArrayRef<size_t> deviceOf, bool explain = false) const;
  // A lower bound of the cost of every full placement extending `deviceOf` (whose figures are
  // `prefix`): its cost plus the least energy and critical-path time the other units add.
  double lowerBound(llvm::ArrayRef<size_t> deviceOf, const PlacementCost &prefix) const;

  // The cheapest route (cached) for `bytes` from device `from` to device `to`.
  const Route &route(int64_t bytes, size_t from, size_t to) const;

private:
  const PlacementProblem &problem_;
  std::vector<double> tailMs_;         // by unit: least compute from its start to the end
  std::vector<double> suffixEnergyUj_; // by unit k: least energy of units k.. (size units + 1)
  mutable std::map<std::tuple<int64_t, size_t, size_t>, Route> routes_;
};

} // namespace edgesplit
