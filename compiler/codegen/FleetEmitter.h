// The fleet side of a device's generated folder (fleet.h, fleet.c): a sensor device's step
// function that runs its share of the model and sends its tensors as framed messages
// (docs/wire.md), and the aggregator's frame intake, arrival bookkeeping and head selection. Also
// the host program `edgesplit run` links every device's folder into to simulate the fleet.
#pragma once

#include "codegen/CEmitter.h"
#include "codegen/Program.h"

#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace edgesplit {

struct WireIdentity {
  std::string device;
  uint8_t deviceId = 0;     // index in the topology's devices
  uint32_t fingerprint = 0; // of the compiled fleet
};

// How one link protects its frames (docs/security.md).
enum class LinkMode { Plain, Auth, Aead };

struct LinkSecurity {
  uint8_t link = 0; // index in the topology's links
  std::string peer; // the device at the other end
  LinkMode mode = LinkMode::Plain;
  // Keyed links: the link's key written into fleet.c (provisioning "embed"), or none: the device
  // loads it at init through <device>_load_key() (provisioning "hook").
  std::optional<std::array<uint8_t, 32>> key;
  // Routed fleets: the (producer, reader) device ids the key belongs to, end to end; a hooked
  // key is loaded by this pair rather than by link.
  std::optional<std::pair<uint8_t, uint8_t>> pair;
};

struct SensorFleetSpec {
  WireIdentity identity;
  LinkSecurity toAggregator; // peer: the aggregator
  uint8_t aggregatorId = 0;
  int64_t mtu = 0;
};

// One sensor's link as the aggregator checks it (peer: the sensor).
struct ReceivedLink {
  uint8_t source = 0; // device id of the sensor
  LinkSecurity security;
  bool duplex = true; // the aggregator sends the sensor its beacons over it
};

struct ReceivedTensor {
  std::string name;
  size_t programInput = 0;
  // Where in that input its bytes land: a part a worker gathers in place into a Concat's output
  // (docs/partition.md, "Gathering in place") is that output at the part's offset.
  int64_t offset = 0;
  std::string sourceDevice;
  uint8_t source = 0;
  uint8_t tensor = 0;
  int64_t firstFrame = 0; // the sender's frame number of fragment 0 in a round
  int64_t bytes = 0;
  int64_t fragmentBytes = 0;
  int64_t fragments = 0;
  uint32_t groups = 0;        // the sensor groups its value depends on
  std::vector<uint8_t> mean; // impute mode: the calibration mean, as the program stores it
};

struct AggregatorHead {
  std::string output;
  size_t programOutput = 0;
  uint32_t groups = 0;
};

// What a device forwards for others (docs/wire.md "Routes"): data frames by (source, tensor),
// the aggregator's addressed beacons by destination, through one buffer of `bufferBytes`.
struct RelayFrameHop {
  uint8_t source = 0, tensor = 0, link = 0;
};
struct RelayBeaconHop {
  uint8_t destination = 0, link = 0;
  bool lastHop = false;
};
struct RelaySpec {
  std::vector<RelayFrameHop> frames;
  std::vector<RelayBeaconHop> beacons;
  int64_t bufferBytes = 0;
  bool empty() const { return frames.empty() && beacons.empty(); }
};

// A beacon of a routed fleet: to `destination` over its route's first link (`security.link`),
// under the key of the (destination, aggregator) pair.
struct RoutedBeacon {
  uint8_t destination = 0;
  bool lastHop = true; // the first link reaches the destination
  LinkSecurity security;
};

struct AggregatorFleetSpec {
  WireIdentity identity;
  std::vector<std::string> groups; // bit g of a mask: groups[g]
  uint32_t ownGroups = 0;          // read by the aggregator itself: always present
  std::vector<ReceivedLink> links; // one per sending device
  std::vector<ReceivedTensor> received;
  std::vector<AggregatorHead> heads; // in order of preference
  bool impute = false;
  int64_t roundTimeoutMs = 1000;
  // A routed fleet (workers, relays or multi-hop routes): heads run when the received tensors
  // they need (headSlots[h], indices into `received`) are complete; beacons follow their routes.
  bool routed = false;
  std::vector<std::vector<size_t>> headSlots;
  std::vector<RoutedBeacon> beacons;
  RelaySpec relay;
};

// One tensor a device of a routed fleet sends: tensor id `tensor` of the device, its program
// output, to `security.peer` over `security.link` (the route's first hop), cut to `mtu`.
struct SentTensor {
  std::string name;
  uint8_t tensor = 0;
  size_t programOutput = 0;
  LinkSecurity security;
  int64_t mtu = 0;
};

// A sensor or worker device of a routed fleet: what it sends, what its stage receives (a worker)
// and what it relays (a device that only relays has an empty program).
struct RoutedDeviceSpec {
  WireIdentity identity;
  bool sensor = false; // has inputs and <dev>_step; otherwise a worker with <dev>_poll
  uint8_t aggregatorId = 0;
  std::optional<LinkSecurity> beacons; // how its beacons are checked; none: no route brings them
  std::vector<SentTensor> sent;
  std::vector<ReceivedLink> sources; // the devices whose tensors its stage reads
  std::vector<ReceivedTensor> received;
  RelaySpec relay;
};

SourceFiles emitSensorFleet(const SensorFleetSpec &spec, const Program &program);
SourceFiles emitAggregatorFleet(const AggregatorFleetSpec &spec);
SourceFiles emitRoutedDeviceFleet(const RoutedDeviceSpec &spec, const Program &program);

// The runtime-c functions fleet.c calls (so the emitter bundles their sources).
std::vector<std::string> fleetRuntimeFunctions();

struct FleetSimDevice {
  std::string name;
  int link = -1; // a sensor's link to the aggregator (topology index), where its beacons go
  // Element count of each model input it reads (the aggregator's: its last program inputs).
  std::vector<size_t> inputElements;
  std::string role; // "sensor", "worker" or "aggregator" (routed fleets)
  bool stage = false; // a worker that runs nodes (<dev>_poll)
};

// The host simulator of a routed fleet: every frame travels hop by hop, each hop through the
// fault injector (data frames; beacons are not faulted), to the device at the link's other end,
// whose <dev>_on_frame relays or takes it; a failed device takes nothing. Per sample the
// aggregator opens a round, the sensors step, the workers poll until none runs, the aggregator
// predicts. Usage as emitFleetSimulator's, with FAIL_FROM and REBOOT_AT per device of `devices`
// (the aggregator's FAIL_FROM entry is ignored). `linkEnds[l]`: indices in `devices` of link l's
// from and to (-1: a device without a folder).
std::string emitRoutedFleetSimulator(const std::vector<FleetSimDevice> &devices,
                                     size_t aggregator,
                                     const std::vector<std::pair<int, int>> &linkEnds);

// The host simulator: per sample the aggregator opens a round (its beacons reach the sensors),
// every sensor device steps, its frames pass through a fault injector (seeded drop / corrupt /
// replay of recorded frames) to the aggregator, which predicts. Usage:
//   sim raw|float SAMPLES SEED DROP_RATE CORRUPT_RATE FAIL_FROM STATS IN... OUT... REPLAY REBOOT_AT
// FAIL_FROM: per sensor, comma-separated, the first sample it no longer sends (-1: never).
// REBOOT_AT: per sensor and then the aggregator, the sample before which it restarts (-1: never).
// IN: float32 samples per device input, sensors in order then the aggregator's own; OUT: one
// file per head, rows of heads that did not run hold NaN (zeros when raw); STATS: a line per
// sample and per link (see Run.cpp).
std::string emitFleetSimulator(const std::vector<FleetSimDevice> &sensors,
                               const FleetSimDevice &aggregator, size_t linkCount);

// The same fleet as one program per device on QEMU boards, joined through their UARTs by the
// hub of `edgesplit run --qemu`. Each message on a UART is a 3-byte header (payload length,
// little-endian 16 bits; link id) and the payload. Per sample the hub starts the aggregator
// (length 0), which opens a round: its beacons (to a link's sensor), then the round number
// (link kBoardRoundLink, 4 bytes little-endian); the hub relays both to the sensors, relays
// their frames to the aggregator (replayed ones with link | 0x80) and ends the sample
// (length 0). kBoardStopLink, in place of a sample's start, stops a device for a restart.
constexpr unsigned kBoardRoundLink = 0xFF, kBoardStopLink = 0xFE;
// A sensor: `sensor SAMPLES FIRST BOOTS IN...` reads every sample and, from sample FIRST on,
// steps on the round it is sent and sends its frames and an end. BOOTS: its earlier boots (the
// epoch store its flash would keep).
std::string emitBoardSensorDriver(const FleetSimDevice &sensor);
// The aggregator: `aggregator raw|float SAMPLES FIRST BOOTS STATS IN... OUT...` from sample
// FIRST on feeds the frames it receives to <agg>_on_frame until a sample's end, predicts, and
// writes outputs and statistics as the host simulator does (its link lines: rejected and
// replayed_accepted counts only, the hub completes them). `bufferFloats`: the largest port's
// element count.
std::string emitBoardAggregatorDriver(const FleetSimDevice &aggregator, size_t linkCount,
                                      size_t bufferFloats);

// A device of a routed fleet on a board. The hub sends it commands (the same 3-byte headers):
// a frame on link L (L < 0x80) for <dev>_on_frame; kBoardRoundLink: a sensor steps on the round
// (4 bytes), the aggregator opens one (length 0: its beacons, then the round on
// kBoardRoundLink); kBoardPollLink: a worker runs <dev>_poll(); kBoardEndLink: the aggregator
// predicts and records the sample; kBoardStopLink: the run is over. The board answers every
// command but the last two with what it sent meanwhile (its frames, each on its link) and an end
// (length 0) whose link byte is 1 when the frame was accepted or the poll ran its stage.
// A worker marks each poll (two markers). Usage: `aggregator raw|float FIRST BOOTS STATS IN...
// OUT...`, `sensor FIRST BOOTS IN...`, `worker FIRST BOOTS`: the run starts at sample FIRST (the
// inputs before it are skipped), BOOTS counts the device's earlier boots (its epoch store).
constexpr unsigned kBoardPollLink = 0xFD, kBoardEndLink = 0xFC;
std::string emitRoutedBoardDriver(const FleetSimDevice &device, size_t linkCount,
                                  size_t bufferFloats);

} // namespace edgesplit
