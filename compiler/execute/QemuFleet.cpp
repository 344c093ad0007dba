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

// The host simulator's generator (splitmix64) and its use per frame, so a seed injects the same
// faults into the same frames on boards as on the host.
class FaultInjector {
public:
  FaultInjector(const FleetFaults &faults) : state_(faults.seed), faults_(faults) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  const FleetFaults &faults() const { return faults_; }

private:
  uint64_t state_;
  FleetFaults faults_;
};

struct LinkCounters {
  uint64_t sent = 0, bytes = 0, dropped = 0, corrupted = 0, replayed = 0;
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

} // namespace

FleetOnBoards runFleetOnBoards(const fs::path &compiled, const Json &report,
                               const std::vector<FleetSimDevice> &sensors,
                               const FleetSimDevice &aggregator, const std::vector<long> &failFrom,
                               const std::vector<long> &rebootAt,
                               const std::vector<std::vector<Tensor>> &samples,
                               const FleetFaults &faults) {
  const size_t links = fleetLinkCount(compiled, report);
  const Json &heads = report["heads"];
  const long sampleCount = static_cast<long>(samples.size());
  Fleet fleet;
  const fs::path plugin = openFleet(fleet, compiled);

  // Build every device and write its inputs; then start them all.
  size_t port = 0;
  std::vector<const FleetSimDevice *> devices;
  for (const FleetSimDevice &sensor : sensors) devices.push_back(&sensor);
  devices.push_back(&aggregator);
  for (const FleetSimDevice *device : devices) {
    const bool isAggregator = device == &aggregator;
    const Json &json = deviceJson(report, device->name);
    Instance instance;
    instance.name = device->name;
    instance.target = boardTarget(json["target"], device->name);
    const std::string driver = isAggregator
                                   ? emitBoardAggregatorDriver(aggregator, links, largestPort(json))
                                   : emitBoardSensorDriver(*device);
    instance.elf =
        buildBoardProgram(compiled, device->name, instance.target, {{"driver.c", driver}}, true);
    instance.io = instance.elf.parent_path() / "io";
    writeSampleFiles(instance.io, samples, port, device->inputElements.size());
    std::vector<std::string> inputs;
    for (size_t i = 0; i < device->inputElements.size(); ++i, ++port)
      inputs.push_back(fmt::format("input{}.bin", i));
    const std::string count = std::to_string(samples.size());
    if (isAggregator)
      instance.arguments = [inputs, count, raw = faults.raw,
                            headCount = heads.size()](size_t boot, long first) {
        std::vector<std::string> args = {"aggregator", raw ? "raw" : "float", count,
                                         std::to_string(first), std::to_string(boot),
                                         fmt::format("stats.boot{}.txt", boot)};
        args.insert(args.end(), inputs.begin(), inputs.end());
        for (size_t h = 0; h < headCount; ++h) args.push_back(fmt::format("head{}.boot{}.bin", h, boot));
        return args;
      };
    else
      instance.arguments = [inputs, count](size_t boot, long first) {
        std::vector<std::string> args = {"sensor", count, std::to_string(first), std::to_string(boot)};
        args.insert(args.end(), inputs.begin(), inputs.end());
        return args;
      };
    instance.socket = fleet.socketDir / fmt::format("uart{}", fleet.instances.size());
    fleet.instances.push_back(std::move(instance));
  }
  for (Instance &instance : fleet.instances) {
    listenOn(instance);
    boot(instance, 0, plugin);
  }
  for (Instance &instance : fleet.instances) accept(instance);

  // The hub, per sample: restarts, the aggregator's round (its beacons to their sensors, the
  // round to every sensor), each live sensor's frames in device order through the fault injector
  // (and an attacker's replays of recorded frames) to the aggregator, then the sample's end; the
  // random stream is drawn from as the host simulator draws from it.
  Instance &hub = fleet.instances.back();
  FaultInjector injector(faults);
  std::vector<LinkCounters> counters(links + 1);
  std::vector<uint8_t> payload(65536);
  constexpr size_t kCaptured = 64, kCapturedBytes = 1024;
  struct Captured {
    std::vector<uint8_t> bytes;
    uint8_t link = 0;
  };
  std::vector<Captured> captured(kCaptured);
  uint64_t capturedCount = 0;
  auto relay = [&](uint8_t link, const uint8_t *frame, size_t length) {
    const uint8_t header[3] = {static_cast<uint8_t>(length & 0xFF), static_cast<uint8_t>(length >> 8), link};
    writeAll(hub, header, sizeof header);
    writeAll(hub, frame, length);
  };
  auto transmit = [&](uint8_t link, size_t length) {
    if (faults.replayRate > 0 && capturedCount > 0 && injector.uniform() < faults.replayRate) {
      const Captured &replay = captured[injector.next() % std::min<uint64_t>(capturedCount, kCaptured)];
      ++counters[replay.link].replayed;
      if (!replay.bytes.empty()) relay(replay.link | 0x80, replay.bytes.data(), replay.bytes.size());
    }
    Captured &record = captured[capturedCount++ % kCaptured];
    if (faults.replayRate > 0 && length <= kCapturedBytes) {
      record.bytes.assign(payload.begin(), payload.begin() + static_cast<long>(length));
      record.link = link;
    }
    LinkCounters &counter = counters[link];
    ++counter.sent;
    counter.bytes += length;
    if (injector.uniform() < faults.dropRate) {
      ++counter.dropped;
      return;
    }
    if (injector.uniform() < faults.corruptRate) {
      const size_t at = injector.next() % length;
      payload[at] ^= static_cast<uint8_t>(1u + injector.next() % 255u);
      ++counter.corrupted;
    }
    relay(link, payload.data(), length);
  };
  for (long s = 0; s < sampleCount; ++s) {
    for (size_t d = 0; d < sensors.size(); ++d) {
      Instance &sensor = fleet.instances[d];
      if (failFrom[d] >= 0 && s >= failFrom[d] && sensor.pid > 0) {
        // killed mid-run, whatever it had queued is lost with it
        ::kill(sensor.pid, SIGKILL);
        ::waitpid(sensor.pid, nullptr, 0);
        sensor.pid = -1;
      }
    }
    for (size_t d = 0; d < fleet.instances.size(); ++d)
      if (rebootAt[d] == s && fleet.instances[d].pid > 0) reboot(fleet.instances[d], s, plugin);

    const uint8_t start[3] = {0, 0, 0};
    writeAll(hub, start, sizeof start);
    for (;;) {
      uint8_t header[3];
      readExactly(hub, header, sizeof header, s);
      const size_t length = header[0] | size_t(header[1]) << 8;
      readExactly(hub, payload.data(), length, s);
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
    const uint8_t end[3] = {0, 0, 0};
    writeAll(hub, end, sizeof end);
  }
  for (Instance &instance : fleet.instances)
    if (instance.pid > 0) awaitExit(instance);

  // Statistics as the host simulator prints them: the aggregator's sample lines of every boot;
  // each link's line from the hub's counts and the aggregator's, summed over its boots, as are
  // the receiver's counters (kept across restarts on the host).
  FleetOnBoards result;
  result.io = hub.io;
  std::vector<uint64_t> rejected(links, 0), replaysAccepted(links, 0);
  std::vector<std::pair<std::string, uint64_t>> receiver;
  for (size_t b = 0; b < hub.counts.size(); ++b) {
    std::istringstream lines(readText(hub.io / fmt::format("stats.boot{}.txt", b)));
    for (std::string line; std::getline(lines, line);) {
      size_t link = 0;
      unsigned long linkRejected = 0, linkReplays = 0;
      if (std::sscanf(line.c_str(), "link %zu rejected %lu replayed_accepted %lu", &link,
                      &linkRejected, &linkReplays) == 3) {
        if (link < links) {
          rejected[link] += linkRejected;
          replaysAccepted[link] += linkReplays;
        }
      } else if (line.rfind("receiver ", 0) == 0) {
        std::istringstream words(line.substr(9));
        std::string key;
        uint64_t value = 0;
        for (size_t k = 0; words >> key >> value; ++k) {
          if (k == receiver.size()) receiver.emplace_back(key, 0);
          receiver[k].second += value;
        }
      } else {
        result.stats += line + "\n";
      }
    }
  }
  for (size_t link = 0; link < links; ++link) {
    const LinkCounters &c = counters[link];
    result.stats += fmt::format("link {} sent {} bytes {} dropped {} corrupted {} rejected {}", link,
                                c.sent, c.bytes, c.dropped, c.corrupted, rejected[link]);
    if (faults.replayRate > 0)
      result.stats += fmt::format(" replayed {} replayed_accepted {}", c.replayed, replaysAccepted[link]);
    result.stats += "\n";
  }
  if (!receiver.empty()) {
    result.stats += "receiver";
    for (const auto &[key, value] : receiver) result.stats += fmt::format(" {} {}", key, value);
    result.stats += "\n";
  }
  // Each head's rows: those of every boot, in order.
  for (size_t h = 0; h < heads.size(); ++h) {
    std::string rows;
    for (size_t b = 0; b < hub.counts.size(); ++b)
      rows += readText(hub.io / fmt::format("head{}.boot{}.bin", h, b));
    std::ofstream(hub.io / fmt::format("head{}.bin", h), std::ios::binary) << rows;
  }
  for (size_t d = 0; d < fleet.instances.size(); ++d) {
    const Instance &instance = fleet.instances[d];
    // A sensor killed at its first sample may be gone before its plugin opened the file.
    const bool killed = d < sensors.size() && failFrom[d] >= 0 && failFrom[d] < sampleCount;
    std::vector<uint64_t> steps;
    for (const fs::path &counts : instance.counts) {
      if (killed && !fs::exists(counts)) continue;
      const std::vector<uint64_t> boot = markerWindows(readMarkerCounts(counts), 2, 0, 1);
      steps.insert(steps.end(), boot.begin(), boot.end());
    }
    if (steps.empty()) continue; // failed before its first sample
    result.measured[instance.name] = {instance.target.name, instance.target.qemu->machine,
                                      median(steps), std::nullopt, steps.size()};
  }
  return result;
}

FleetOnBoards runRoutedFleetOnBoards(const fs::path &compiled, const Json &report,
                                     const std::vector<FleetSimDevice> &sensors,
                                     const FleetSimDevice &aggregator,
                                     const std::vector<long> &failFrom,
                                     const std::vector<std::vector<Tensor>> &samples,
                                     const FleetFaults &faults) {
  const size_t links = fleetLinkCount(compiled, report);
  const size_t headCount = report["heads"].size();
  const long sampleCount = static_cast<long>(samples.size());
  Fleet fleet;
  const fs::path plugin = openFleet(fleet, compiled);

  size_t port = 0;
  std::vector<const FleetSimDevice *> devices;
  for (const FleetSimDevice &sensor : sensors) devices.push_back(&sensor);
  devices.push_back(&aggregator);
  for (const FleetSimDevice *device : devices) {
    const Json &json = deviceJson(report, device->name);
    Instance instance;
    instance.name = device->name;
    instance.target = boardTarget(json["target"], device->name);
    instance.elf = buildBoardProgram(compiled, device->name, instance.target,
                                     {{"driver.c", emitRoutedBoardDriver(*device, links, largestPort(json))}},
                                     true);
    instance.io = instance.elf.parent_path() / "io";
    writeSampleFiles(instance.io, samples, port, device->inputElements.size());
    std::vector<std::string> args = {device->role}; // the program's name
    if (device == &aggregator) args.insert(args.end(), {faults.raw ? "raw" : "float", "stats.txt"});
    for (size_t i = 0; i < device->inputElements.size(); ++i, ++port)
      args.push_back(fmt::format("input{}.bin", i));
    if (device == &aggregator)
      for (size_t h = 0; h < headCount; ++h) args.push_back(fmt::format("head{}.bin", h));
    instance.arguments = [args](size_t, long) { return args; };
    instance.socket = fleet.socketDir / fmt::format("uart{}", fleet.instances.size());
    fleet.instances.push_back(std::move(instance));
  }
  for (Instance &instance : fleet.instances) {
    listenOn(instance);
    boot(instance, 0, plugin);
  }
  for (Instance &instance : fleet.instances) accept(instance);

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
  // the device at the other end, whose own sends travel on before the next frame.
  FaultInjector injector(faults);
  struct RoutedCounters {
    uint64_t sent = 0, bytes = 0, dropped = 0, corrupted = 0, rejected = 0, lost = 0, beacons = 0,
             beaconBytes = 0;
  };
  std::vector<RoutedCounters> counters(links + 1);
  std::function<void(int, Sent &)> transmit = [&](int from, Sent &frame) {
    const size_t link = std::min<size_t>(frame.link, links);
    const size_t length = frame.bytes.size();
    const bool beacon = length > 1 && (frame.bytes[1] & 0x04u); // ES_WIRE_FLAG_BEACON
    RoutedCounters &counter = counters[link];
    const int to = linkEnds[link].first == from ? linkEnds[link].second : linkEnds[link].first;
    if (beacon) {
      ++counter.beacons;
      counter.beaconBytes += length;
    } else {
      ++counter.sent;
      counter.bytes += length;
      if (injector.uniform() < faults.dropRate) {
        ++counter.dropped;
        return;
      }
      if (injector.uniform() < faults.corruptRate) {
        const size_t at = injector.next() % length;
        frame.bytes[at] ^= static_cast<uint8_t>(1u + injector.next() % 255u);
        ++counter.corrupted;
      }
    }
    if (link == links || failed(to)) {
      if (!beacon) ++counter.lost;
      return;
    }
    std::vector<Sent> onward;
    if (!command(static_cast<size_t>(to), static_cast<uint8_t>(link), frame.bytes.data(), length, onward) &&
        !beacon)
      ++counter.rejected;
    for (Sent &next : onward) transmit(to, next);
  };

  for (; sample < sampleCount; ++sample) {
    for (size_t d = 0; d < sensors.size(); ++d) {
      Instance &device = fleet.instances[d];
      if (failed(static_cast<int>(d)) && device.pid > 0) {
        ::kill(device.pid, SIGKILL); // killed mid-run, whatever it had queued is lost with it
        ::waitpid(device.pid, nullptr, 0);
        device.pid = -1;
      }
    }
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
        if (command(d, kBoardPollLink, nullptr, 0, frames)) progress = true;
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

  // Statistics in the host simulator's format: the aggregator's sample lines, each link's line
  // from the hub's counts, the aggregator's receiver line.
  FleetOnBoards result;
  result.io = hub.io;
  std::string receiver;
  std::istringstream lines(readText(hub.io / "stats.txt"));
  for (std::string line; std::getline(lines, line);)
    (line.rfind("receiver ", 0) == 0 ? receiver : result.stats) += line + "\n";
  for (size_t link = 0; link < links; ++link) {
    const RoutedCounters &c = counters[link];
    result.stats += fmt::format("link {} sent {} bytes {} dropped {} corrupted {} rejected {} lost {} "
                                "beacons {} beacon_bytes {}\n",
                                link, c.sent, c.bytes, c.dropped, c.corrupted, c.rejected, c.lost,
                                c.beacons, c.beaconBytes);
  }
  result.stats += receiver;
  // Sensors' steps and the aggregator's predictions are counted; a worker's polls are not marked.
  for (size_t d = 0; d < fleet.instances.size(); ++d) {
    const Instance &instance = fleet.instances[d];
    if (d < sensors.size() && sensors[d].role != "sensor") continue;
    const bool killed = d < sensors.size() && failFrom[d] >= 0 && failFrom[d] < sampleCount;
    if (killed && !fs::exists(instance.counts.front())) continue;
    const std::vector<uint64_t> steps = markerWindows(readMarkerCounts(instance.counts.front()), 2, 0, 1);
    if (steps.empty()) continue;
    result.measured[instance.name] = {instance.target.name, instance.target.qemu->machine,
                                      median(steps), std::nullopt, steps.size()};
  }
  return result;
}

} // namespace edgesplit
