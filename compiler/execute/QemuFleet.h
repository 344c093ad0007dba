// A compiled fleet on emulated boards: one QEMU instance per device, their UARTs joined by a hub
// in this process that relays the generated frames through the same seeded fault injector as
// the host simulator (drops, corruption, replays of recorded frames), relays the aggregator's
// beacons to the sensors, kills a device at the sample `--fail DEVICE@SAMPLE` names and
// restarts one at the sample `--reboot DEVICE@SAMPLE` names.
#pragma once

#include "execute/Qemu.h"
#include "codegen/FleetEmitter.h"
#include "ir/Tensor.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace edgesplit {

struct FleetFaults {
  bool raw = false;
  uint64_t seed = 1;
  double dropRate = 0, corruptRate = 0, replayRate = 0;
};

struct FleetOnBoards {
  std::filesystem::path io;                       // holds head<h>.bin, as the host simulator's
  std::string stats;                              // in the host simulator's format
  std::map<std::string, BoardMeasurement> measured; // by device name
};

// `samples[s]` holds the sensors' inputs in order, then the aggregator's own; `failFrom` per
// sensor the first sample it no longer sends (-1: never); `rebootAt` per device, sensors then
// the aggregator, the sample before which its QEMU instance restarts (-1: never).
//
// A routed fleet (report.json's fleet.routed: workers, relays, multi-hop routes): `sensors` holds
// every device but the aggregator in report order (workers too), `failFrom` per such device,
// `rebootAt` per such device and then the aggregator. Every frame a board sends on a link goes,
// through the fault injector, to the board at the link's other end, whose answer (what it relays
// or sends on) travels on at once, as on the host simulator; per sample the restarts happen, the
// aggregator opens a round, the sensors step, the workers poll until none runs, and the
// aggregator predicts. An attacker's replays are delivered as the host simulator's.
FleetOnBoards runFleetOnBoards(const std::filesystem::path &compiled,
                               const nlohmann::ordered_json &report,
                               const std::vector<FleetSimDevice> &sensors,
                               const FleetSimDevice &aggregator, const std::vector<long> &failFrom,
                               const std::vector<long> &rebootAt,
                               const std::vector<std::vector<Tensor>> &samples,
                               const FleetFaults &faults);

} // namespace edgesplit
