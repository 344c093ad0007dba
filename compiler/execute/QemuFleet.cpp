#include "execute/QemuFleet.h"

#include "execute/HostBuild.h"
#include "support/Error.h"

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <thread>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace edgesplit {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

// A device silent for this long is taken for hung: generated code never waits on anything but
// the UART, and the slowest inference under QEMU takes seconds.
constexpr int kSilenceLimitMs = 300'000;

// Per link: what the hub counted (the host simulators' counters of the same names).
struct LinkCounters {
  uint64_t sent = 0, bytes = 0, dropped = 0, corrupted = 0, replayed = 0, replaysAccepted = 0,
           rejected = 0, lost = 0, beacons = 0, beaconBytes = 0, beaconsReplayed = 0,
           beaconReplaysRefused = 0;
};

bool isBeacon(const std::vector<uint8_t> &frame) {
  return frame.size() > 1 && (frame[1] & 0x04u); // ES_WIRE_FLAG_BEACON
}

// The replay columns of a link's statistics line, as the host simulators print them.
std::string replayStats(const LinkCounters &c) {
  return fmt::format(" replayed {} replayed_accepted {} beacons_replayed {} beacon_replays_refused {}",
                     c.replayed, c.replaysAccepted, c.beaconsReplayed, c.beaconReplaysRefused);
}

// The host simulators' fault injector and attacker (FleetEmitter's kSimulatorFaults): the same
// generator (splitmix64) drawn from in the same order per frame, so a seed injects the same
// faults into the same frames and replays the same recorded frames on boards as on the host.
class FaultInjector {
public:
  struct Captured {
    std::vector<uint8_t> bytes; // empty: nothing recorded in this slot
    uint8_t link = 0;
    int to = -1; // a routed beacon: the device it was delivered to
  };

  FaultInjector(const FleetFaults &faults) : state_(faults.seed), faults_(faults) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  const FleetFaults &faults() const { return faults_; }

  // The recorded frame an attacker re-sends before the next frame goes on air, or none.
  const Captured *pickReplay() {
    if (faults_.replayRate <= 0 || capturedCount_ == 0 || uniform() >= faults_.replayRate)
      return nullptr;
    return &captured_[next() % std::min<uint64_t>(capturedCount_, kCaptured)];
  }
  void capture(uint8_t link, const uint8_t *frame, size_t length, int to = -1) {
    Captured &record = captured_[capturedCount_++ % kCaptured];
    if (faults_.replayRate > 0 && length <= kCapturedBytes) {
      record.bytes.assign(frame, frame + length);
      record.link = link;
      record.to = to;
    }
  }
  // Drops the frame (false) or delivers it, maybe with one byte flipped, counted on `counter`.
  bool survives(LinkCounters &counter, uint8_t *frame, size_t length) {
    if (uniform() < faults_.dropRate) {
      ++counter.dropped;
      return false;
    }
    if (uniform() < faults_.corruptRate) {
      const size_t at = next() % length;
      frame[at] ^= static_cast<uint8_t>(1u + next() % 255u);
      ++counter.corrupted;
    }
    return true;
  }

private:
  static constexpr size_t kCaptured = 64, kCapturedBytes = 1024;
  uint64_t state_;
  FleetFaults faults_;
  std::vector<Captured> captured_ = std::vector<Captured>(kCaptured);
  uint64_t capturedCount_ = 0;
};

struct Instance {
  std::string name;
  Target target;
  fs::path io, socket, elf;
  int listening = -1, connection = -1;
  pid_t pid = -1;
  // The driver's arguments for a boot (0 first) starting at a sample.
  std::function<std::vector<std::string>(size_t boot, long first)> arguments;
  std::vector<fs::path> counts; // the instruction-count plugin's file of each boot so far
};

// Owns the QEMU processes, sockets and socket folder: whatever happens, nothing outlives the run.
class Fleet {
public:
  ~Fleet() {
    for (Instance &instance : instances) {
      if (instance.pid > 0) {
        ::kill(instance.pid, SIGKILL);
        ::waitpid(instance.pid, nullptr, 0);
      }
      if (instance.connection >= 0) ::close(instance.connection);
      if (instance.listening >= 0) ::close(instance.listening);
    }
    if (!socketDir.empty()) fs::remove_all(socketDir);
  }

  std::vector<Instance> instances; // sensors in order, then the aggregator
  fs::path socketDir;
};

// The fleet's link count, which the hub numbers in 7 bits (the top bit marks a replay).
size_t fleetLinkCount(const fs::path &compiled, const Json &report) {
  const size_t links = report["fleet"]["link_count"].get<size_t>();
  if (links >= 0x80) fail("the QEMU fleet hub supports up to 127 links; {} has {}", compiled.string(), links);
  return links;
}

// Makes the fleet's socket folder; returns the instruction-count plugin its boards run with.
fs::path openFleet(Fleet &fleet, const fs::path &compiled) {
  char socketTemplate[] = "/tmp/edgesplit-uart-XXXXXX"; // unix socket paths must stay short
  if (!::mkdtemp(socketTemplate))
    fail("cannot create a folder for the UART sockets in /tmp; check that /tmp is writable");
  fleet.socketDir = socketTemplate;
  return buildInstructionPlugin(compiled);
}

void listenOn(Instance &instance) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = instance.socket.string();
  if (path.size() >= sizeof address.sun_path) fail("internal error: socket path {} too long", path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  instance.listening = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (instance.listening < 0 ||
      ::bind(instance.listening, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 ||
      ::listen(instance.listening, 1) != 0)
    fail("cannot create the UART socket {}: {}", path, std::strerror(errno));
}

void launch(Instance &instance, const std::string &qemu) {
  const std::string command =
      "cd '" + instance.io.string() + "' && exec " + qemu + " > qemu.log 2>&1";
  instance.pid = ::fork();
  if (instance.pid < 0)
    fail("cannot start QEMU for device '{}'; check the QEMU install (tools/setup.sh)",
         instance.name);
  if (instance.pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char *>(nullptr));
    ::_exit(127);
  }
}

// Waits for `fd` to become readable; fails naming the device when it stays silent.
void awaitReadable(const Instance &instance, int fd) {
  pollfd entry{fd, POLLIN, 0};
  const int ready = ::poll(&entry, 1, kSilenceLimitMs);
  if (ready == 0)
    fail("device '{}' on {} sent nothing for {} s; see {}", instance.name,
         instance.target.qemu->machine, kSilenceLimitMs / 1000,
         (instance.io / "qemu.log").string());
  if (ready < 0) fail("waiting for device '{}': {}", instance.name, std::strerror(errno));
}

void accept(Instance &instance) {
  awaitReadable(instance, instance.listening);
  instance.connection = ::accept4(instance.listening, nullptr, nullptr, SOCK_CLOEXEC);
  if (instance.connection < 0)
    fail("device '{}' did not connect its UART: {}", instance.name, qemuLog(instance.io));
}

void readExactly(const Instance &instance, uint8_t *bytes, size_t length, long sample) {
  while (length > 0) {
    awaitReadable(instance, instance.connection);
    const ssize_t got = ::read(instance.connection, bytes, length);
    if (got <= 0)
      fail("device '{}' on {} stopped before the end of sample {}: {}", instance.name,
           instance.target.qemu->machine, sample, qemuLog(instance.io));
    bytes += got;
    length -= static_cast<size_t>(got);
  }
}

void writeAll(const Instance &instance, const uint8_t *bytes, size_t length) {
  while (length > 0) {
    const ssize_t put = ::send(instance.connection, bytes, length, MSG_NOSIGNAL);
    if (put <= 0)
      fail("device '{}' on {} stopped receiving: {}", instance.name,
           instance.target.qemu->machine, qemuLog(instance.io));
    bytes += put;
    length -= static_cast<size_t>(put);
  }
}

// Waits for a device's QEMU to exit; its status must be 0.
void awaitExit(Instance &instance) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kSilenceLimitMs);
  int status = 0;
  while (::waitpid(instance.pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline)
      fail("device '{}' on {} did not finish; see {}", instance.name,
           instance.target.qemu->machine, (instance.io / "qemu.log").string());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  instance.pid = -1;
  checkBoardExit(instance.target, instance.name, status, instance.io);
}

// Starts the device's next boot at sample `first`; its earlier boots are its epoch store.
void boot(Instance &instance, long first, const fs::path &plugin) {
  const size_t boots = instance.counts.size();
  const fs::path counts =
      instance.io / (boots == 0 ? std::string("counts.txt") : fmt::format("counts.boot{}.txt", boots));
  instance.counts.push_back(counts);
  launch(instance, qemuCommand(instance.target, instance.elf, instance.arguments(boots, first),
                               plugin, counts, instance.socket));
}

// `edgesplit run --reboot`: the hub stops the device where it waits for its next sample (so its
// files are complete) and starts it afresh from that sample, with nothing kept in RAM.
void reboot(Instance &instance, long sample, const fs::path &plugin) {
  const uint8_t stop[3] = {0, 0, kBoardStopLink};
  writeAll(instance, stop, sizeof stop);
  awaitExit(instance);
  ::close(instance.connection);
  instance.connection = -1;
  boot(instance, sample, plugin);
  accept(instance);
}

const Json &deviceJson(const Json &report, const std::string &name) {
  for (const Json &device : report["devices"])
    if (device["name"] == name) return device;
  fail("internal error: device '{}' missing from the report", name);
}

// The driver's arguments of a boot starting at sample `first`, given the device's input files.
using BootArguments =
    std::function<std::vector<std::string>(size_t boot, long first, const std::vector<std::string> &inputs)>;

// Builds `device`'s board program with `driver`, writes its inputs (ports [port, port + its
// input count) of every sample; `port` moves past them) and adds its instance to the fleet.
void addInstance(Fleet &fleet, const fs::path &compiled, const Json &report,
                 const FleetSimDevice &device, const std::string &driver,
                 const std::vector<std::vector<Tensor>> &samples, size_t &port,
                 const BootArguments &arguments) {
  Instance instance;
  instance.name = device.name;
  instance.target = boardTarget(deviceJson(report, device.name)["target"], device.name);
  instance.elf =
      buildBoardProgram(compiled, device.name, instance.target, {{"driver.c", driver}}, true);
  instance.io = instance.elf.parent_path() / "io";
  writeSampleFiles(instance.io, samples, port, device.inputElements.size());
  std::vector<std::string> inputs;
  for (size_t i = 0; i < device.inputElements.size(); ++i, ++port)
    inputs.push_back(fmt::format("input{}.bin", i));
  instance.arguments = [arguments, inputs](size_t boot, long first) {
    return arguments(boot, first, inputs);
  };
  instance.socket = fleet.socketDir / fmt::format("uart{}", fleet.instances.size());
  fleet.instances.push_back(std::move(instance));
}

// The aggregator's arguments: its mode, the boot, per-boot statistics and head files.
// `count`: the sample count (the star driver's argument).
BootArguments aggregatorArguments(bool raw, const std::optional<std::string> &count,
                                  size_t headCount) {
  return [=](size_t boot, long first, const std::vector<std::string> &inputs) {
    std::vector<std::string> args = {"aggregator", raw ? "raw" : "float"};
    if (count) args.push_back(*count);
    args.insert(args.end(), {std::to_string(first), std::to_string(boot),
                             fmt::format("stats.boot{}.txt", boot)});
    args.insert(args.end(), inputs.begin(), inputs.end());
    for (size_t h = 0; h < headCount; ++h) args.push_back(fmt::format("head{}.boot{}.bin", h, boot));
    return args;
  };
}

// Boots every instance at sample 0 and waits for all of them to connect their UART.
void startFleet(Fleet &fleet, const fs::path &plugin) {
  for (Instance &instance : fleet.instances) {
    listenOn(instance);
    boot(instance, 0, plugin);
  }
  for (Instance &instance : fleet.instances) accept(instance);
}

// `--fail`: killed mid-run; whatever it had queued is lost with it.
void killInstance(Instance &instance) {
  if (instance.pid <= 0) return;
  ::kill(instance.pid, SIGKILL);
  ::waitpid(instance.pid, nullptr, 0);
  instance.pid = -1;
}

// The aggregator's statistics of every boot in the host simulator's format: its sample lines in
// order and its receiver counters summed over its boots (kept across restarts on the host); a
// line `take` returns true for is left out. Each head's rows of every boot go to head<h>.bin.
// Returns the receiver line.
std::string gatherAggregatorBoots(const Instance &hub, size_t headCount, std::string &stats,
                                  const std::function<bool(const std::string &)> &take) {
  std::vector<std::pair<std::string, uint64_t>> receiver;
  for (size_t b = 0; b < hub.counts.size(); ++b) {
    std::istringstream lines(readText(hub.io / fmt::format("stats.boot{}.txt", b)));
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("receiver ", 0) == 0) {
        std::istringstream words(line.substr(9));
        std::string key;
        uint64_t value = 0;
        for (size_t k = 0; words >> key >> value; ++k) {
          if (k == receiver.size()) receiver.emplace_back(key, 0);
          receiver[k].second += value;
        }
      } else if (!take(line)) {
        stats += line + "\n";
      }
    }
  }
  for (size_t h = 0; h < headCount; ++h) {
    std::string rows;
    for (size_t b = 0; b < hub.counts.size(); ++b)
      rows += readText(hub.io / fmt::format("head{}.boot{}.bin", h, b));
    std::ofstream(hub.io / fmt::format("head{}.bin", h), std::ios::binary) << rows;
  }
  if (receiver.empty()) return "";
  std::string line = "receiver";
  for (const auto &[key, value] : receiver) line += fmt::format(" {} {}", key, value);
  return line + "\n";
}

// The device's instructions between its two markers of each window over all its boots (a device
// killed at once may have left no counts file); with `keep`, only the windows it marks true.
// Adds the median to `measured` when any window is left.
void measureBoots(const Instance &instance, bool killed, const std::vector<bool> *keep,
                  std::map<std::string, BoardMeasurement> &measured) {
  std::vector<uint64_t> windows;
  for (const fs::path &counts : instance.counts) {
    if (killed && !fs::exists(counts)) continue;
    const std::vector<uint64_t> boot = markerWindows(readMarkerCounts(counts), 2, 0, 1);
    windows.insert(windows.end(), boot.begin(), boot.end());
  }
  if (keep) {
    std::vector<uint64_t> kept;
    for (size_t w = 0; w < windows.size() && w < keep->size(); ++w)
      if ((*keep)[w]) kept.push_back(windows[w]);
    windows = std::move(kept);
  }
  if (windows.empty()) return; // failed before its first sample, or never ran
  BoardMeasurement &measurement = measured[instance.name];
  measurement.target = instance.target.name;
  measurement.board = instance.target.qemu->machine;
  measurement.instructionsPerInference = median(windows);
  measurement.samples = windows.size();
}

// One run of a compiled fleet on boards: what both hubs (the star fleet's and the routed
// fleet's) start from, and the QEMU instances, owned until the run ends.
class BoardRun {
public:
  BoardRun(const fs::path &compiled, const Json &report, const std::vector<FleetSimDevice> &sensors,
           const FleetSimDevice &aggregator, const std::vector<long> &failFrom,
           const std::vector<long> &rebootAt, const std::vector<std::vector<Tensor>> &samples,
           const FleetFaults &faults)
      : compiled(compiled), report(report), sensors(sensors), aggregator(aggregator),
        failFrom(failFrom), rebootAt(rebootAt), samples(samples), faults(faults),
        links(fleetLinkCount(compiled, report)), headCount(report["heads"].size()),
        sampleCount(static_cast<long>(samples.size())), plugin(openFleet(fleet, compiled)) {}

  FleetOnBoards star();
  FleetOnBoards routed();

private:
  const fs::path &compiled;
  const Json &report;
  const std::vector<FleetSimDevice> &sensors;
  const FleetSimDevice &aggregator;
  const std::vector<long> &failFrom, &rebootAt;
  const std::vector<std::vector<Tensor>> &samples;
  const FleetFaults &faults;
  const size_t links, headCount;
  const long sampleCount;
  Fleet fleet; // before `plugin`, which openFleet() makes in the fleet's folder
  const fs::path plugin;
};

// The star fleet's hub: every sensor's frames to the aggregator, its beacons back.
FleetOnBoards BoardRun::star() {
  // Build every device and write its inputs; then start them all.
  size_t port = 0;
  const std::string count = std::to_string(samples.size());
  for (const FleetSimDevice &sensor : sensors)
    addInstance(fleet, compiled, report, sensor, emitBoardSensorDriver(sensor), samples, port,
                [count](size_t boot, long first, const std::vector<std::string> &inputs) {
                  std::vector<std::string> args = {"sensor", count, std::to_string(first),
                                                   std::to_string(boot)};
                  args.insert(args.end(), inputs.begin(), inputs.end());
                  return args;
                });
  addInstance(fleet, compiled, report, aggregator,
              emitBoardAggregatorDriver(aggregator, links,
                                        largestPort(deviceJson(report, aggregator.name))),
              samples, port,
              aggregatorArguments(faults.raw, count, headCount));
  startFleet(fleet, plugin);

  // The hub, per sample: restarts, the aggregator's round (its beacons to their sensors, the
  // round to every sensor), each live sensor's frames in device order through the fault injector
  // (and an attacker's replays of recorded frames) to the aggregator, then the sample's end; the
  // random stream is drawn from as the host simulator draws from it.
  Instance &hub = fleet.instances.back();
  FaultInjector injector(faults);
  std::vector<LinkCounters> counters(links + 1);
  std::vector<uint8_t> payload(65536);
  auto relay = [&](uint8_t link, const uint8_t *frame, size_t length) {
    const uint8_t header[3] = {static_cast<uint8_t>(length & 0xFF), static_cast<uint8_t>(length >> 8), link};
    writeAll(hub, header, sizeof header);
    writeAll(hub, frame, length);
  };
  // Replayed beacons wait for the sample's end, when every sensor waits for its next beacon (the
  // host simulator's sensor takes it at once: an old round either way, refused).
  std::vector<FaultInjector::Captured> beaconReplays; // copies: the record may be overwritten
  // A frame a sensor sent on `link` (its bytes in `payload`), as the host simulator's transmit().
  auto transmit = [&](uint8_t link, size_t length) {
    if (const FaultInjector::Captured *replay = injector.pickReplay()) {
      ++counters[replay->link].replayed;
      if (isBeacon(replay->bytes)) {
        ++counters[replay->link].beaconsReplayed;
        beaconReplays.push_back(*replay);
      } else if (!replay->bytes.empty()) {
        relay(replay->link | 0x80, replay->bytes.data(), replay->bytes.size());
      }
    }
    injector.capture(link, payload.data(), length);
    LinkCounters &counter = counters[link];
    ++counter.sent;
    counter.bytes += length;
    if (injector.survives(counter, payload.data(), length)) relay(link, payload.data(), length);
  };
  for (long s = 0; s < sampleCount; ++s) {
    for (size_t d = 0; d < sensors.size(); ++d)
      if (failFrom[d] >= 0 && s >= failFrom[d]) killInstance(fleet.instances[d]);
    for (size_t d = 0; d < fleet.instances.size(); ++d)
      if (rebootAt[d] == s && fleet.instances[d].pid > 0) reboot(fleet.instances[d], s, plugin);

    const uint8_t start[3] = {0, 0, 0};
    writeAll(hub, start, sizeof start);
    for (;;) {
      uint8_t header[3];
      readExactly(hub, header, sizeof header, s);
      const size_t length = header[0] | size_t(header[1]) << 8;
      readExactly(hub, payload.data(), length, s);
      if (header[2] != kBoardRoundLink) injector.capture(header[2], payload.data(), length);
      for (size_t d = 0; d < sensors.size(); ++d) {
        Instance &sensor = fleet.instances[d];
        if (sensor.pid <= 0 ||
            (header[2] != kBoardRoundLink && sensors[d].link != static_cast<int>(header[2])))
          continue;
        writeAll(sensor, header, sizeof header);
        writeAll(sensor, payload.data(), length);
      }
      if (header[2] == kBoardRoundLink) break;
    }
    for (size_t d = 0; d < sensors.size(); ++d) {
      Instance &sensor = fleet.instances[d];
      if (sensor.pid <= 0) continue;
      for (;;) {
        uint8_t header[3];
        readExactly(sensor, header, sizeof header, s);
        const size_t length = header[0] | size_t(header[1]) << 8;
        if (length == 0) break;
        readExactly(sensor, payload.data(), length, s);
        transmit(static_cast<uint8_t>(std::min<size_t>(header[2], links)), length);
      }
    }
    // Each replayed beacon to the live sensor on its link, marked as a replay: it answers
    // whether it took the round.
    for (const FaultInjector::Captured &replay : beaconReplays)
      for (size_t d = 0; d < sensors.size(); ++d) {
        Instance &sensor = fleet.instances[d];
        if (sensor.pid <= 0 || sensors[d].link != static_cast<int>(replay.link)) continue;
        const size_t length = replay.bytes.size();
        const uint8_t header[3] = {static_cast<uint8_t>(length & 0xFF),
                                   static_cast<uint8_t>(length >> 8),
                                   static_cast<uint8_t>(replay.link | 0x80)};
        writeAll(sensor, header, sizeof header);
        writeAll(sensor, replay.bytes.data(), length);
        uint8_t answer[3];
        readExactly(sensor, answer, sizeof answer, s);
        ++(answer[2] ? counters[replay.link].replaysAccepted
                     : counters[replay.link].beaconReplaysRefused);
      }
    beaconReplays.clear();
    const uint8_t end[3] = {0, 0, 0};
    writeAll(hub, end, sizeof end);
  }
  for (Instance &instance : fleet.instances)
    if (instance.pid > 0) awaitExit(instance);

  // Statistics as the host simulator prints them: the aggregator's sample lines of every boot;
  // each link's line from the hub's counts and the aggregator's, summed over its boots.
  FleetOnBoards result;
  result.io = hub.io;
  const std::string receiver =
      gatherAggregatorBoots(hub, headCount, result.stats, [&](const std::string &line) {
        size_t link = 0;
        unsigned long linkRejected = 0, linkReplays = 0;
        if (std::sscanf(line.c_str(), "link %zu rejected %lu replayed_accepted %lu", &link,
                        &linkRejected, &linkReplays) != 3)
          return false;
        if (link < links) {
          counters[link].rejected += linkRejected;
          counters[link].replaysAccepted += linkReplays;
        }
        return true;
      });
  for (size_t link = 0; link < links; ++link) {
    const LinkCounters &c = counters[link];
    result.stats += fmt::format("link {} sent {} bytes {} dropped {} corrupted {} rejected {}", link,
                                c.sent, c.bytes, c.dropped, c.corrupted, c.rejected);
    if (faults.replayRate > 0) result.stats += replayStats(c);
    result.stats += "\n";
  }
  result.stats += receiver;
  for (size_t d = 0; d < fleet.instances.size(); ++d) {
    // A sensor killed at its first sample may be gone before its plugin opened the file.
    const bool killed = d < sensors.size() && failFrom[d] >= 0 && failFrom[d] < sampleCount;
    measureBoots(fleet.instances[d], killed, nullptr, result.measured);
  }
  return result;
}

// The routed fleet's hub: each frame hop by hop to the board at the link's other end.
FleetOnBoards BoardRun::routed() {
  size_t port = 0;
  std::vector<const FleetSimDevice *> devices;
  for (const FleetSimDevice &sensor : sensors) devices.push_back(&sensor);
  devices.push_back(&aggregator);
  for (const FleetSimDevice *device : devices) {
    const std::string driver =
        emitRoutedBoardDriver(*device, links, largestPort(deviceJson(report, device->name)));
    const BootArguments arguments =
        device == &aggregator
            ? aggregatorArguments(faults.raw, std::nullopt, headCount)
            : BootArguments([role = device->role](size_t boot, long first,
                                                  const std::vector<std::string> &inputs) {
                std::vector<std::string> args = {role, std::to_string(first), std::to_string(boot)};
                args.insert(args.end(), inputs.begin(), inputs.end());
                return args;
              });
    addInstance(fleet, compiled, report, *device, driver, samples, port, arguments);
  }
  startFleet(fleet, plugin);

  auto indexOf = [&](const Json &name) {
    for (size_t d = 0; d < devices.size(); ++d)
      if (devices[d]->name == name) return static_cast<int>(d);
    return -1;
  };
  std::vector<std::pair<int, int>> linkEnds(links + 1, {-1, -1});
  for (const Json &link : report["links"])
    linkEnds[link["link_id"].get<size_t>()] = {indexOf(link["from"]), indexOf(link["to"])};
  const size_t hubIndex = sensors.size();
  Instance &hub = fleet.instances[hubIndex];
  long sample = 0;
  auto failed = [&](int d) {
    return d < 0 || (static_cast<size_t>(d) < sensors.size() && failFrom[d] >= 0 && sample >= failFrom[d]);
  };

  struct Sent {
    uint8_t link;
    std::vector<uint8_t> bytes;
  };
  // Per worker, whether each of its polls ran its stage (the marked windows that count).
  std::vector<std::vector<bool>> ran(devices.size());
  // Sends one command to device d and returns what it sent meanwhile and its answer's flag.
  auto command = [&](size_t d, uint8_t code, const uint8_t *payload, size_t length,
                     std::vector<Sent> &sent) {
    Instance &instance = fleet.instances[d];
    const uint8_t header[3] = {static_cast<uint8_t>(length & 0xFF), static_cast<uint8_t>(length >> 8), code};
    writeAll(instance, header, sizeof header);
    if (length) writeAll(instance, payload, length);
    for (;;) {
      uint8_t answer[3];
      readExactly(instance, answer, sizeof answer, sample);
      const size_t got = answer[0] | size_t(answer[1]) << 8;
      if (got == 0) return answer[2] != 0;
      Sent frame{answer[2], std::vector<uint8_t>(got)};
      readExactly(instance, frame.bytes.data(), got, sample);
      sent.push_back(std::move(frame));
    }
  };

  // One hop, as the host simulator's transmit(): counted, faulted (data frames), delivered to
  // the device at the other end, whose own sends travel on before the next frame; an attacker's
  // replays as the host simulator's replay() (between deliveries, counted on their link only).
  FaultInjector injector(faults);
  std::vector<LinkCounters> counters(links + 1);
  int delivering = 0;
  bool replaying = false, replayTaken = false, replayRefused = false;
  uint64_t hops = 0;
  std::function<void(int, Sent &)> transmit;
  auto arrive = [&](int to, uint8_t link, const std::vector<uint8_t> &bytes) {
    const uint64_t before = hops;
    std::vector<Sent> onward;
    ++delivering;
    const bool accepted = command(static_cast<size_t>(to), link, bytes.data(), bytes.size(), onward);
    for (Sent &next : onward) transmit(to, next);
    --delivering;
    if (replaying && hops == before) (accepted ? replayTaken : replayRefused) = true;
    return accepted;
  };
  auto replay = [&] {
    const FaultInjector::Captured *replayed = injector.pickReplay();
    if (!replayed) return;
    LinkCounters &counter = counters[replayed->link];
    ++counter.replayed;
    const bool beacon = isBeacon(replayed->bytes);
    if (beacon) ++counter.beaconsReplayed;
    if (replayed->bytes.empty() || replayed->link == links) return;
    const int to = beacon ? replayed->to : linkEnds[replayed->link].second;
    if (failed(to)) return;
    replaying = true;
    replayTaken = replayRefused = false;
    arrive(to, replayed->link, replayed->bytes);
    replaying = false;
    if (replayTaken) ++counter.replaysAccepted;
    else if (replayRefused && beacon) ++counter.beaconReplaysRefused;
  };
  transmit = [&](int from, Sent &frame) {
    const size_t link = std::min<size_t>(frame.link, links);
    const size_t length = frame.bytes.size();
    const bool beacon = length > 1 && (frame.bytes[1] & 0x04u); // ES_WIRE_FLAG_BEACON
    LinkCounters &counter = counters[link];
    const int to = linkEnds[link].first == from ? linkEnds[link].second : linkEnds[link].first;
    ++hops;
    if (replaying) {
      if (link != links && !failed(to)) arrive(to, static_cast<uint8_t>(link), frame.bytes);
      return;
    }
    if (beacon) {
      injector.capture(static_cast<uint8_t>(link), frame.bytes.data(), length, to);
      ++counter.beacons;
      counter.beaconBytes += length;
    } else {
      if (!delivering) replay();
      injector.capture(static_cast<uint8_t>(link), frame.bytes.data(), length);
      ++counter.sent;
      counter.bytes += length;
      if (!injector.survives(counter, frame.bytes.data(), length)) return;
    }
    if (link == links || failed(to)) {
      if (!beacon) ++counter.lost;
      return;
    }
    if (!arrive(to, static_cast<uint8_t>(link), frame.bytes) && !beacon) ++counter.rejected;
  };

  for (; sample < sampleCount; ++sample) {
    for (size_t d = 0; d < sensors.size(); ++d)
      if (failed(static_cast<int>(d))) killInstance(fleet.instances[d]);
    for (size_t d = 0; d < fleet.instances.size(); ++d)
      if (rebootAt[d] == sample && fleet.instances[d].pid > 0)
        reboot(fleet.instances[d], sample, plugin);
    std::vector<Sent> opened;
    command(hubIndex, kBoardRoundLink, nullptr, 0, opened);
    if (opened.empty() || opened.back().link != kBoardRoundLink || opened.back().bytes.size() != 4)
      fail("internal error: aggregator '{}' opened no round at sample {}", hub.name, sample);
    const Sent round = opened.back();
    opened.pop_back();
    for (Sent &beacon : opened) transmit(static_cast<int>(hubIndex), beacon);
    for (size_t d = 0; d < sensors.size(); ++d) {
      if (sensors[d].role != "sensor" || failed(static_cast<int>(d))) continue;
      std::vector<Sent> frames;
      command(d, kBoardRoundLink, round.bytes.data(), round.bytes.size(), frames);
      for (Sent &frame : frames) transmit(static_cast<int>(d), frame);
    }
    // Workers run their stages as their inputs complete, in whatever order that takes.
    for (bool progress = true; progress;) {
      progress = false;
      for (size_t d = 0; d < sensors.size(); ++d) {
        if (!sensors[d].stage || failed(static_cast<int>(d))) continue;
        std::vector<Sent> frames;
        const bool stage = command(d, kBoardPollLink, nullptr, 0, frames);
        ran[d].push_back(stage);
        progress |= stage;
        for (Sent &frame : frames) transmit(static_cast<int>(d), frame);
      }
    }
    const uint8_t end[3] = {0, 0, kBoardEndLink};
    writeAll(hub, end, sizeof end);
  }
  const uint8_t stop[3] = {0, 0, kBoardStopLink};
  for (Instance &instance : fleet.instances)
    if (instance.pid > 0) {
      writeAll(instance, stop, sizeof stop);
      awaitExit(instance);
    }

  // Statistics in the host simulator's format: the aggregator's sample lines (of every boot),
  // each link's line from the hub's counts, the aggregator's receiver line.
  FleetOnBoards result;
  result.io = hub.io;
  const std::string receiver =
      gatherAggregatorBoots(hub, headCount, result.stats, [](const std::string &) { return false; });
  for (size_t link = 0; link < links; ++link) {
    const LinkCounters &c = counters[link];
    result.stats += fmt::format("link {} sent {} bytes {} dropped {} corrupted {} rejected {} lost {} "
                                "beacons {} beacon_bytes {}",
                                link, c.sent, c.bytes, c.dropped, c.corrupted, c.rejected, c.lost,
                                c.beacons, c.beaconBytes);
    if (faults.replayRate > 0) result.stats += replayStats(c);
    result.stats += "\n";
  }
  result.stats += receiver;
  // Sensors' steps, workers' stages (the polls that ran one) and the aggregator's predictions; a
  // device that only relays computes nothing.
  for (size_t d = 0; d < fleet.instances.size(); ++d) {
    if (d < sensors.size() && sensors[d].role != "sensor" && !sensors[d].stage) continue;
    const bool killed = d < sensors.size() && failFrom[d] >= 0 && failFrom[d] < sampleCount;
    measureBoots(fleet.instances[d], killed, sensors.size() > d && sensors[d].stage ? &ran[d] : nullptr,
                 result.measured);
  }
  return result;
}

} // namespace

FleetOnBoards runFleetOnBoards(const fs::path &compiled, const Json &report,
                               const std::vector<FleetSimDevice> &sensors,
                               const FleetSimDevice &aggregator, const std::vector<long> &failFrom,
                               const std::vector<long> &rebootAt,
                               const std::vector<std::vector<Tensor>> &samples,
                               const FleetFaults &faults) {
  BoardRun run(compiled, report, sensors, aggregator, failFrom, rebootAt, samples, faults);
  return report["fleet"].value("routed", false) ? run.routed() : run.star();
}

} // namespace edgesplit
