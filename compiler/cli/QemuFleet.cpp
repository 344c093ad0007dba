#include "cli/QemuFleet.h"

#include "cli/HostBuild.h"
#include "support/Error.h"

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace edgesplit::cli {

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
  uint64_t sent = 0, bytes = 0, dropped = 0, corrupted = 0;
};

struct Instance {
  std::string name;
  Target target;
  fs::path io, socket;
  int listening = -1, connection = -1;
  pid_t pid = -1;
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

void listenOn(Instance &instance) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = instance.socket.string();
  if (path.size() >= sizeof address.sun_path) fail("internal: socket path {} too long", path);
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
  if (instance.pid < 0) fail("cannot start QEMU for device '{}'", instance.name);
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

const Json &deviceJson(const Json &report, const std::string &name) {
  for (const Json &device : report["devices"])
    if (device["name"] == name) return device;
  fail("internal: device '{}' missing from the report", name);
}

} // namespace

FleetOnBoards runFleetOnBoards(const fs::path &compiled, const Json &report,
                               const std::vector<FleetSimDevice> &sensors,
                               const FleetSimDevice &aggregator, const std::vector<long> &failFrom,
                               const std::vector<std::vector<Tensor>> &samples,
                               const FleetFaults &faults) {
  const size_t links = report["fleet"]["link_count"].get<size_t>();
  const Json &heads = report["heads"];
  Fleet fleet;
  char socketTemplate[] = "/tmp/edgesplit-uart-XXXXXX"; // unix socket paths must stay short
  if (!::mkdtemp(socketTemplate)) fail("cannot create a folder for the UART sockets in /tmp");
  fleet.socketDir = socketTemplate;
  const fs::path plugin = buildInstructionPlugin(compiled);

  // Build every device and write its inputs; then start them all.
  size_t port = 0;
  std::vector<const FleetSimDevice *> devices;
  for (const FleetSimDevice &sensor : sensors) devices.push_back(&sensor);
  devices.push_back(&aggregator);
  std::vector<std::string> commands;
  for (const FleetSimDevice *device : devices) {
    const bool isAggregator = device == &aggregator;
    const Json &json = deviceJson(report, device->name);
    Instance instance;
    instance.name = device->name;
    instance.target = boardTarget(json["target"], device->name);
    const std::string driver = isAggregator
                                   ? emitBoardAggregatorDriver(aggregator, links, largestPort(json))
                                   : emitBoardSensorDriver(*device);
    const fs::path elf =
        buildBoardProgram(compiled, device->name, instance.target, {{"driver.c", driver}}, true);
    instance.io = elf.parent_path() / "io";
    writeSampleFiles(instance.io, samples, port, device->inputElements.size());
    std::vector<std::string> args;
    if (isAggregator)
      args = {"aggregator", faults.raw ? "raw" : "float", std::to_string(samples.size()),
              "stats.txt"};
    else
      args = {"sensor", std::to_string(samples.size())};
    for (size_t i = 0; i < device->inputElements.size(); ++i, ++port)
      args.push_back(fmt::format("input{}.bin", i));
    if (isAggregator)
      for (size_t h = 0; h < heads.size(); ++h) args.push_back(fmt::format("head{}.bin", h));
    instance.socket = fleet.socketDir / fmt::format("uart{}", fleet.instances.size());
    commands.push_back(qemuCommand(instance.target, elf, args, plugin,
                                   instance.io / "counts.txt", instance.socket));
    fleet.instances.push_back(std::move(instance));
  }
  for (size_t d = 0; d < fleet.instances.size(); ++d) {
    listenOn(fleet.instances[d]);
    launch(fleet.instances[d], commands[d]);
  }
  for (Instance &instance : fleet.instances) accept(instance);

  // The hub: per sample, each live sensor's frames in device order through the fault injector
  // to the aggregator, then the sample's end.
  Instance &hub = fleet.instances.back();
  FaultInjector injector(faults);
  std::vector<LinkCounters> counters(links + 1);
  std::vector<uint8_t> payload(65536);
  for (long s = 0; s < static_cast<long>(samples.size()); ++s) {
    for (size_t d = 0; d < sensors.size(); ++d) {
      Instance &sensor = fleet.instances[d];
      if (failFrom[d] >= 0 && s >= failFrom[d]) {
        if (sensor.pid > 0) { // killed mid-run, whatever it had queued is lost with it
          ::kill(sensor.pid, SIGKILL);
          ::waitpid(sensor.pid, nullptr, 0);
          sensor.pid = -1;
        }
        continue;
      }
      for (;;) {
        uint8_t header[3];
        readExactly(sensor, header, sizeof header, s);
        const size_t length = header[0] | size_t(header[1]) << 8;
        if (length == 0) break;
        readExactly(sensor, payload.data(), length, s);
        LinkCounters &link = counters[std::min<size_t>(header[2], links)];
        ++link.sent;
        link.bytes += length;
        if (injector.uniform() < faults.dropRate) {
          ++link.dropped;
          continue;
        }
        if (injector.uniform() < faults.corruptRate) {
          const size_t at = injector.next() % length;
          payload[at] ^= static_cast<uint8_t>(1u + injector.next() % 255u);
          ++link.corrupted;
        }
        writeAll(hub, header, sizeof header);
        writeAll(hub, payload.data(), length);
      }
    }
    const uint8_t end[3] = {0, 0, 0};
    writeAll(hub, end, sizeof end);
  }
  for (Instance &instance : fleet.instances)
    if (instance.pid > 0) awaitExit(instance);

  // Statistics as the host simulator prints them: the aggregator's lines, with each link's
  // line completed by the hub's counts.
  FleetOnBoards result;
  result.io = hub.io;
  std::istringstream lines(readText(hub.io / "stats.txt"));
  for (std::string line; std::getline(lines, line);) {
    size_t link = 0;
    unsigned long rejected = 0;
    if (std::sscanf(line.c_str(), "link %zu rejected %lu", &link, &rejected) == 2 && link < links) {
      const LinkCounters &c = counters[link];
      line = fmt::format("link {} sent {} bytes {} dropped {} corrupted {} rejected {}", link,
                         c.sent, c.bytes, c.dropped, c.corrupted, rejected);
    }
    result.stats += line + "\n";
  }
  for (size_t d = 0; d < fleet.instances.size(); ++d) {
    const Instance &instance = fleet.instances[d];
    const fs::path counts = instance.io / "counts.txt";
    // A sensor killed at its first sample may be gone before its plugin opened the file.
    const bool killed = d < sensors.size() && failFrom[d] >= 0 &&
                        failFrom[d] < static_cast<long>(samples.size());
    if (killed && !fs::exists(counts)) continue;
    const std::vector<uint64_t> steps = markerWindows(readMarkerCounts(counts), 2, 0, 1);
    if (steps.empty()) continue; // failed before its first sample
    result.measured[instance.name] = {instance.target.name, instance.target.qemu->machine,
                                      median(steps), std::nullopt, steps.size()};
  }
  return result;
}

} // namespace edgesplit::cli
