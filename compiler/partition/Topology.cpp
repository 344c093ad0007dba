#include "partition/Topology.h"

#include "support/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace edgesplit {

std::string jsonPointerStep(std::string_view key) {
  std::string escaped;
  for (char c : key) {
    if (c == '~')
      escaped += "~0";
    else if (c == '/')
      escaped += "~1";
    else
      escaped += c;
  }
  return "/" + escaped;
}

namespace {

// ordered_json keeps the file's key order: sensor groups are listed in it and the canonical
// text (part of the model fingerprint) must not depend on how the keys sort.
using Json = nlohmann::ordered_json;

constexpr std::string_view kSchema = "edgesplit-topology/1";
// Integers above this are not exact in the double that nlohmann hands back.
constexpr double kMaxInteger = 9007199254740992.0;


std::string join(llvm::ArrayRef<std::string> names) {
  std::string joined;
  for (const std::string &name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

std::string describe(const Json &value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  std::string text = value.dump();
  return text.size() > 40 ? text.substr(0, 37) + "..." : text;
}

// Device and group names become C identifiers, folder names and frame fields.
bool isName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

enum class Kind { Object, Array, String, Number };

bool hasKind(const Json &value, Kind kind) {
  switch (kind) {
  case Kind::Object:
    return value.is_object();
  case Kind::Array:
    return value.is_array();
  case Kind::String:
    return value.is_string();
  case Kind::Number:
    return value.is_number();
  }
  return false;
}

std::string_view kindName(Kind kind) {
  switch (kind) {
  case Kind::Object:
    return "an object";
  case Kind::Array:
    return "an array";
  case Kind::String:
    return "a string";
  case Kind::Number:
    return "a number";
  }
  return "";
}

const Json *find(const Json &object, const std::string &key) {
  auto entry = object.find(key);
  return entry == object.end() ? nullptr : &*entry;
}

class TopologyReader {
public:
  explicit TopologyReader(const std::string &source)
      : source_(source), folder_(std::filesystem::path(source).parent_path()) {}

  Topology read(std::string_view text) {
    Json root;
    try {
      root = Json::parse(text);
    } catch (const Json::exception &error) {
      // what() is "[json.exception.parse_error.N] parse error at line L, column C: ...", or
      // out_of_range.406 for a number beyond a double ("number overflow parsing '1e999'").
      std::string_view detail = error.what();
      if (size_t end = detail.find("] "); end != std::string_view::npos)
        detail.remove_prefix(end + 2);
      fail("{}: invalid JSON: {}", source_, detail);
    }
    if (!root.is_object())
      fail("{}: expected a JSON object at the top level, got {}; see docs/topology.md", source_,
           describe(root));
    const Json *schema = find(root, "schema");
    if (!schema) error("/schema", "missing; add \"schema\": \"{}\"", kSchema);
    if (!schema->is_string() || schema->get<std::string>() != kSchema)
      error("/schema", "expected \"{}\", got {}; this reader only understands that schema", kSchema,
            describe(*schema));
    checkKeys(root, "",
              {"schema", "devices", "sensor_groups", "links", "heads", "fallback", "objective",
               "privacy", "round_timeout_ms", "auth", "placement", "$schema"});
    // "$schema" names the JSON Schema an editor validates the file with
    // (docs/topology.schema.json); it says nothing about the fleet, so the canonical text (and
    // the fingerprint) leaves it out.
    if (const Json *editorSchema = find(root, "$schema")) {
      expect(*editorSchema, "/$schema", Kind::String);
      root.erase("$schema");
    }

    Topology topology;
    topology.source = source_;
    readGroups(require(root, "", "sensor_groups", Kind::Object,
                       "add an object mapping each sensor group to its model inputs"),
               topology);
    readDevices(require(root, "", "devices", Kind::Array, "add the array of devices"), topology);
    readLinks(require(root, "", "links", Kind::Array,
                      "add the array of links (each device sends to the aggregator over one)"),
              topology);
    if (const Json *heads = find(root, "heads")) topology.heads = readHeads(*heads);
    if (const Json *fallback = find(root, "fallback")) topology.fallback = readFallback(*fallback);
    if (const Json *privacy = find(root, "privacy")) topology.forbidRaw = readPrivacy(*privacy);
    if (const Json *timeout = find(root, "round_timeout_ms")) {
      topology.roundTimeoutMs = integer(*timeout, "/round_timeout_ms");
      if (topology.roundTimeoutMs < 1 || topology.roundTimeoutMs > 3600000)
        error("/round_timeout_ms", "{} is out of range; expected an integer in [1, 3600000] (ms)",
              topology.roundTimeoutMs);
    }
    if (const Json *objective = find(root, "objective"))
      topology.objective = readObjective(*objective);
    if (const Json *placement = find(root, "placement"))
      topology.pins = readPlacement(*placement, topology);
    if (find(root, "auth"))
      error("/auth", "keys are not part of the topology (it is shared, committed and hashed into "
                     "the public fingerprint); remove /auth and pass the master key in a keys file "
                     "with --keys KEYS.json (docs/security.md)");
    topology.canonical = root.dump();
    return topology;
  }

private:
  template <typename... Args>
  [[noreturn]] void error(const std::string &pointer, fmt::format_string<Args...> format,
                          Args &&...args) const {
    fail("{}: {}: {}", source_, pointer, fmt::format(format, std::forward<Args>(args)...));
  }

  void checkKeys(const Json &object, const std::string &pointer,
                 std::initializer_list<std::string> allowed) const {
    for (const auto &[key, value] : object.items())
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        error(pointer + jsonPointerStep(key), "unknown key; expected one of {}",
              join(std::vector<std::string>(allowed)));
  }

  const Json &expect(const Json &value, const std::string &pointer, Kind kind) const {
    if (!hasKind(value, kind))
      error(pointer, "expected {}, got {}", kindName(kind), describe(value));
    return value;
  }

  const Json &require(const Json &object, const std::string &pointer, const std::string &key,
                      Kind kind, std::string_view hint) const {
    const Json *value = find(object, key);
    if (!value) error(pointer + jsonPointerStep(key), "missing; {}", hint);
    return expect(*value, pointer + jsonPointerStep(key), kind);
  }

  double number(const Json &value, const std::string &pointer) const {
    return expect(value, pointer, Kind::Number).get<double>();
  }
  double positive(const Json &value, const std::string &pointer) const {
    const double result = number(value, pointer);
    if (!(result > 0)) error(pointer, "must be > 0, got {}", describe(value));
    return result;
  }
  double nonNegative(const Json &value, const std::string &pointer) const {
    const double result = number(value, pointer);
    if (result < 0) error(pointer, "must be >= 0, got {}", describe(value));
    return result;
  }
  int64_t integer(const Json &value, const std::string &pointer) const {
    const double result = number(value, pointer);
    if (std::floor(result) != result || std::fabs(result) > kMaxInteger)
      error(pointer, "expected an integer, got {}", describe(value));
    return static_cast<int64_t>(result);
  }
  int64_t positiveInteger(const Json &value, const std::string &pointer) const {
    const int64_t result = integer(value, pointer);
    if (result <= 0) error(pointer, "must be > 0, got {}", describe(value));
    return result;
  }

  std::string deviceName(const Json &value, const std::string &pointer) const {
    const std::string result = expect(value, pointer, Kind::String).get<std::string>();
    if (!isName(result))
      error(pointer, "bad device name {}; use a non-empty name of A-Z a-z 0-9 _ -",
            describe(value));
    return result;
  }

  std::vector<std::string> groupNames(const Topology &topology) const {
    std::vector<std::string> names;
    for (const SensorGroup &group : topology.groups) names.push_back(group.name);
    return names;
  }
  std::vector<std::string> deviceNames(const Topology &topology) const {
    std::vector<std::string> names;
    for (const TopologyDevice &device : topology.devices) names.push_back(device.name);
    return names;
  }

  void readGroups(const Json &groups, Topology &topology) const {
    if (groups.empty()) error("/sensor_groups", "empty; define at least one group of model inputs");
    std::map<std::string, std::string> inputPointers; // input name -> where it was first listed
    for (const auto &[groupName, inputs] : groups.items()) {
      const std::string pointer = "/sensor_groups" + jsonPointerStep(groupName);
      if (!isName(groupName))
        error(pointer, "bad group name '{}'; use a non-empty name of A-Z a-z 0-9 _ -", groupName);
      expect(inputs, pointer, Kind::Array);
      if (inputs.empty())
        error(pointer, "empty; list the model inputs this group's sensors produce");
      SensorGroup group{groupName, {}};
      for (size_t i = 0; i < inputs.size(); ++i) {
        const std::string inputPointer = fmt::format("{}/{}", pointer, i);
        const std::string input = expect(inputs[i], inputPointer, Kind::String).get<std::string>();
        if (input.empty()) error(inputPointer, "empty input name; give a model input's name");
        if (std::find(group.inputs.begin(), group.inputs.end(), input) != group.inputs.end())
          error(inputPointer, "input '{}' is listed twice (also {}); remove one", input,
                inputPointers.at(input));
        if (auto first = inputPointers.find(input); first != inputPointers.end())
          error(inputPointer, "input '{}' is already listed at {}; an input belongs to one group",
                input, first->second);
        inputPointers.emplace(input, inputPointer);
        group.inputs.push_back(input);
      }
      topology.groups.push_back(std::move(group));
    }
  }

  void readDevices(const Json &devices, Topology &topology) const {
    if (devices.empty()) error("/devices", "empty; list at least one device");
    // group name -> the owning device and the sensors entry that claimed it
    std::map<std::string, std::pair<std::string, std::string>> owners;
    for (size_t i = 0; i < devices.size(); ++i) {
      const std::string pointer = fmt::format("/devices/{}", i);
      TopologyDevice device = readDevice(devices[i], pointer, topology);
      for (size_t j = 0; j < topology.devices.size(); ++j)
        if (topology.devices[j].name == device.name)
          error(pointer + "/name", "duplicate device name '{}' (also /devices/{}/name); rename one",
                device.name, j);
      for (size_t s = 0; s < device.sensors.size(); ++s) {
        const std::string sensorPointer = fmt::format("{}/sensors/{}", pointer, s);
        auto [owner, inserted] =
            owners.emplace(device.sensors[s], std::pair(device.name, sensorPointer));
        if (!inserted)
          error(sensorPointer,
                "group '{}' is owned by both '{}' ({}) and '{}'; each sensor group belongs to one "
                "device",
                device.sensors[s], owner->second.first, owner->second.second, device.name);
      }
      topology.devices.push_back(std::move(device));
    }

    std::vector<size_t> aggregators;
    for (size_t i = 0; i < topology.devices.size(); ++i)
      if (topology.devices[i].aggregator) aggregators.push_back(i);
    if (aggregators.empty())
      error("/devices", "no device has \"role\": \"aggregator\"; mark the one device that runs "
                        "the merges and heads");
    if (aggregators.size() > 1) {
      std::vector<std::string> named;
      for (size_t i : aggregators)
        named.push_back(fmt::format("'{}' (/devices/{})", topology.devices[i].name, i));
      error(fmt::format("/devices/{}/role", aggregators[1]),
            "more than one aggregator: {}; exactly one device may have \"role\": \"aggregator\"",
            join(named));
    }

    for (const SensorGroup &group : topology.groups)
      if (!owners.count(group.name))
        error("/sensor_groups" + jsonPointerStep(group.name),
              "no device owns group '{}'; add it to the sensors of the device that reads it",
              group.name);
    for (size_t i = 0; i < topology.devices.size(); ++i) {
      const TopologyDevice &device = topology.devices[i];
      if (!device.aggregator && !device.worker && device.sensors.empty())
        error(fmt::format("/devices/{}", i),
              "'{}' owns no sensor group and is not the aggregator; give it sensors, make it "
              "\"role\": \"worker\" (it then runs what the partitioner places on it) or remove it",
              device.name);
    }
  }

  TopologyDevice readDevice(const Json &value, const std::string &pointer,
                            const Topology &topology) const {
    expect(value, pointer, Kind::Object);
    checkKeys(value, pointer,
              {"name", "target", "clock_mhz", "ram_kib", "flash_kib", "sensors", "role", "costs"});
    TopologyDevice device;
    device.name = deviceName(
        require(value, pointer, "name", Kind::String, "give the device a name"), pointer + "/name");
    device.target = loadDeviceTarget(
        require(value, pointer, "target", Kind::String,
                "name a built-in target (cortex-m4, cortex-m7, ...) or a target .json")
            .get<std::string>(),
        pointer + "/target");
    device.target.clockMhz = positive(
        require(value, pointer, "clock_mhz", Kind::Number, "give the device's clock in MHz"),
        pointer + "/clock_mhz");
    device.target.ramKib = positiveInteger(
        require(value, pointer, "ram_kib", Kind::Number, "give the device's RAM in KiB"),
        pointer + "/ram_kib");
    device.target.flashKib = positiveInteger(
        require(value, pointer, "flash_kib", Kind::Number, "give the device's flash in KiB"),
        pointer + "/flash_kib");
    if (const Json *sensors = find(value, "sensors"))
      device.sensors = readSensors(*sensors, pointer + "/sensors", topology);
    if (const Json *role = find(value, "role")) {
      const std::string name = role->is_string() ? role->get<std::string>() : "";
      if (name != "aggregator" && name != "worker" && name != "sensor")
        error(pointer + "/role",
              "unknown role {}; expected \"aggregator\", \"worker\" or \"sensor\" (the "
              "default)",
              describe(*role));
      device.aggregator = name == "aggregator";
      device.worker = name == "worker";
      if (device.worker && !device.sensors.empty())
        error(pointer + "/sensors",
              "'{}' is a worker, which owns no sensors; remove its sensors or its \"role\"",
              device.name);
    }
    if (const Json *costs = find(value, "costs"))
      applyCosts(*costs, pointer + "/costs", device.target);
    return device;
  }

  Target loadDeviceTarget(const std::string &nameOrPath, const std::string &pointer) const {
    // Same test as loadTarget: anything path-like is a file, resolved beside the topology so
    // the fleet description works from any current directory.
    const bool isPath =
        nameOrPath.find('/') != std::string::npos ||
        (nameOrPath.size() > 5 && nameOrPath.substr(nameOrPath.size() - 5) == ".json");
    std::filesystem::path path(nameOrPath);
    if (isPath && path.is_relative()) path = folder_ / path;
    try {
      return loadTarget(isPath ? path.string() : nameOrPath);
    } catch (const Error &failure) {
      error(pointer, "{}", failure.what());
    }
  }

  std::vector<std::string> readSensors(const Json &sensors, const std::string &pointer,
                                       const Topology &topology) const {
    expect(sensors, pointer, Kind::Array);
    std::vector<std::string> result;
    for (size_t i = 0; i < sensors.size(); ++i) {
      const std::string entryPointer = fmt::format("{}/{}", pointer, i);
      const std::string group = expect(sensors[i], entryPointer, Kind::String).get<std::string>();
      if (std::none_of(topology.groups.begin(), topology.groups.end(),
                       [&](const SensorGroup &known) { return known.name == group; }))
        error(entryPointer,
              "unknown sensor group '{}' (groups: {}); fix the name or add it to "
              "/sensor_groups",
              group, join(groupNames(topology)));
      if (auto first = std::find(result.begin(), result.end(), group); first != result.end())
        error(entryPointer, "group '{}' is listed twice (also {}/{}); remove one", group, pointer,
              first - result.begin());
      result.push_back(group);
    }
    return result;
  }

  void applyCosts(const Json &costs, const std::string &pointer, Target &target) const {
    expect(costs, pointer, Kind::Object);
    checkKeys(costs, pointer,
              {"active_mw", "call_overhead_cycles", "stack_bytes", "cycles_per_mac",
               "cycles_per_element"});
    if (const Json *value = find(costs, "active_mw"))
      target.activeMw = positive(*value, pointer + "/active_mw");
    if (const Json *value = find(costs, "call_overhead_cycles"))
      target.callOverheadCycles = positive(*value, pointer + "/call_overhead_cycles");
    if (const Json *value = find(costs, "stack_bytes")) {
      target.stackBytes = positiveInteger(*value, pointer + "/stack_bytes");
      target.stackBytesGiven = true;
    }
    if (const Json *value = find(costs, "cycles_per_mac"))
      mergeTable(*value, pointer + "/cycles_per_mac", target.cyclesPerMac, target.name);
    if (const Json *value = find(costs, "cycles_per_element"))
      mergeTable(*value, pointer + "/cycles_per_element", target.cyclesPerElement, target.name);
    // Figures the user measured on the device replace the target's QEMU calibration.
    if (find(costs, "cycles_per_mac") || find(costs, "cycles_per_element"))
      target.kernelCosts.clear();
  }

  // Only kernel classes the target already prices: a misspelt class would otherwise be
  // accepted and silently never used.
  void mergeTable(const Json &table, const std::string &pointer,
                  std::map<std::string, std::map<std::string, double>> &into,
                  const std::string &targetName) const {
    expect(table, pointer, Kind::Object);
    for (const auto &[precision, kernels] : table.items()) {
      const std::string precisionPointer = pointer + jsonPointerStep(precision);
      if (precision != "int8" && precision != "float32")
        error(precisionPointer, "unknown precision; expected int8 or float32");
      expect(kernels, precisionPointer, Kind::Object);
      std::map<std::string, double> &known = into[precision];
      for (const auto &[kernel, value] : kernels.items()) {
        const std::string kernelPointer = precisionPointer + jsonPointerStep(kernel);
        auto entry = known.find(kernel);
        if (entry == known.end()) {
          std::vector<std::string> classes;
          for (const auto &[kernelClass, figure] : known) classes.push_back(kernelClass);
          error(kernelPointer, "unknown kernel class; expected one of {} (those of target '{}')",
                join(classes), targetName);
        }
        entry->second = positive(value, kernelPointer);
      }
    }
  }

  void readLinks(const Json &links, Topology &topology) const {
    const std::vector<std::string> devices = deviceNames(topology);
    auto device = [&](const Json &object, const std::string &pointer, const std::string &key) {
      const std::string named =
          require(object, pointer, key, Kind::String, "name one of the devices").get<std::string>();
      if (std::find(devices.begin(), devices.end(), named) == devices.end())
        error(pointer + jsonPointerStep(key), "unknown device '{}' (devices: {})", named,
              join(devices));
      return named;
    };
    for (size_t i = 0; i < links.size(); ++i) {
      const std::string pointer = fmt::format("/links/{}", i);
      const Json &value = expect(links[i], pointer, Kind::Object);
      checkKeys(value, pointer,
                {"from", "to", "kbps", "latency_ms", "mtu", "nj_per_byte", "encrypt", "duplex"});
      TopologyLink link;
      link.from = device(value, pointer, "from");
      link.to = device(value, pointer, "to");
      if (link.from == link.to)
        error(pointer + "/to", "'{}' links to itself; a link joins two different devices", link.to);
      link.kbps = positive(
          require(value, pointer, "kbps", Kind::Number, "give the link's throughput in kbit/s"),
          pointer + "/kbps");
      link.latencyMs = nonNegative(require(value, pointer, "latency_ms", Kind::Number,
                                           "give the link's latency per frame in ms"),
                                   pointer + "/latency_ms");
      const std::string mtuPointer = pointer + "/mtu";
      link.mtu = integer(require(value, pointer, "mtu", Kind::Number,
                                 "give the largest frame the link carries, in bytes"),
                         mtuPointer);
      if (link.mtu < 64 || link.mtu > 65535)
        error(mtuPointer,
              "{} is out of range; expected an integer in [64, 65535] (a frame needs at least 32 "
              "bytes of overhead)",
              link.mtu);
      link.njPerByte = nonNegative(require(value, pointer, "nj_per_byte", Kind::Number,
                                           "give the radio energy per byte in nJ"),
                                   pointer + "/nj_per_byte");
      if (const Json *encrypt = find(value, "encrypt")) {
        if (!encrypt->is_boolean())
          error(pointer + "/encrypt", "expected true or false, got {}", describe(*encrypt));
        link.encrypt = encrypt->get<bool>();
      }
      if (const Json *duplex = find(value, "duplex")) {
        if (!duplex->is_boolean())
          error(pointer + "/duplex", "expected true or false, got {}", describe(*duplex));
        link.duplex = duplex->get<bool>();
      }
      for (size_t j = 0; j < topology.links.size(); ++j)
        if (topology.links[j].from == link.from && topology.links[j].to == link.to)
          error(pointer, "a second link from '{}' to '{}' (also /links/{}); keep one", link.from,
                link.to, j);
      topology.links.push_back(std::move(link));
    }

    // Links are directed and may join any two devices; what a fleet needs is paths: every device
    // reaches the aggregator, and every worker is reached by a device that has data to give it.
    const size_t aggregator = topology.aggregatorIndex();
    for (size_t i = 0; i < topology.devices.size(); ++i) {
      const TopologyDevice &member = topology.devices[i];
      if (i != aggregator && !topology.reaches(i, aggregator))
        error(fmt::format("/devices/{}", i),
              "no path of /links from '{}' to the aggregator '{}'; add a link from '{}' to the "
              "aggregator or to a device that reaches it",
              member.name, topology.devices[aggregator].name, member.name);
      if (member.worker) {
        bool fed = false;
        for (size_t j = 0; j < topology.devices.size(); ++j)
          fed |= !topology.devices[j].worker && topology.reaches(j, i);
        if (!fed)
          error(fmt::format("/devices/{}", i),
                "worker '{}' is reached by no path of /links from a sensor device or the "
                "aggregator, so nothing can be placed on it; add a link to it or remove it",
                member.name);
      }
    }
  }

  std::vector<TopologyHead> readHeads(const Json &heads) const {
    expect(heads, "/heads", Kind::Array);
    if (heads.empty())
      error("/heads", "empty; list at least one head, or omit heads to make every model output "
                      "a head");
    std::vector<TopologyHead> result;
    for (size_t i = 0; i < heads.size(); ++i) {
      const std::string pointer = fmt::format("/heads/{}", i);
      const Json &value = expect(heads[i], pointer, Kind::Object);
      checkKeys(value, pointer, {"output", "priority"});
      TopologyHead head;
      head.output =
          require(value, pointer, "output", Kind::String, "name the model output of this head")
              .get<std::string>();
      if (head.output.empty()) error(pointer + "/output", "empty; name a model output");
      for (size_t j = 0; j < result.size(); ++j)
        if (result[j].output == head.output)
          error(pointer + "/output",
                "head '{}' is listed twice (also /heads/{}/output); list each "
                "output once",
                head.output, j);
      if (const Json *priority = find(value, "priority"))
        head.priority = integer(*priority, pointer + "/priority");
      result.push_back(std::move(head));
    }
    return result;
  }

  // true when raw sensor data may not cross a link.
  // "placement": {"<node name>": "<device name>"}: nodes the user pins to a device.
  std::map<std::string, size_t> readPlacement(const Json &value, const Topology &topology) const {
    expect(value, "/placement", Kind::Object);
    std::map<std::string, size_t> pins;
    const std::vector<std::string> devices = deviceNames(topology);
    for (const auto &[node, device] : value.items()) {
      const std::string pointer = "/placement" + jsonPointerStep(node);
      expect(device, pointer, Kind::String);
      const auto named = std::find(devices.begin(), devices.end(), device.get<std::string>());
      if (named == devices.end())
        error(pointer, "unknown device '{}' (devices: {})", device.get<std::string>(),
              join(devices));
      pins[node] = static_cast<size_t>(named - devices.begin());
    }
    return pins;
  }

  bool readPrivacy(const Json &value) const {
    expect(value, "/privacy", Kind::Object);
    checkKeys(value, "/privacy", {"raw"});
    const std::string raw = require(value, "/privacy", "raw", Kind::String,
                                    "give \"allow\" or \"forbid\"")
                                .get<std::string>();
    if (raw != "allow" && raw != "forbid")
      error("/privacy/raw", "expected \"allow\" or \"forbid\", got \"{}\"", raw);
    return raw == "forbid";
  }

  FallbackMode readFallback(const Json &value) const {
    if (value == "heads") return FallbackMode::Heads;
    if (value == "impute") return FallbackMode::Impute;
    error("/fallback", "unknown mode {}; expected \"heads\" or \"impute\"", describe(value));
  }

  Objective readObjective(const Json &value) const {
    expect(value, "/objective", Kind::Object);
    checkKeys(value, "/objective", {"latency", "energy", "bytes"});
    Objective objective;
    if (const Json *weight = find(value, "latency"))
      objective.latency = nonNegative(*weight, "/objective/latency");
    if (const Json *weight = find(value, "energy"))
      objective.energy = nonNegative(*weight, "/objective/energy");
    if (const Json *weight = find(value, "bytes"))
      objective.bytes = nonNegative(*weight, "/objective/bytes");
    if (objective.latency == 0 && objective.energy == 0 && objective.bytes == 0)
      error("/objective", "all weights are 0 (latency and energy default to 1); give latency, "
                          "energy or bytes a positive weight");
    return objective;
  }

  std::string source_;
  std::filesystem::path folder_;
};

} // namespace

const TopologyDevice &Topology::aggregator() const {
  for (const TopologyDevice &device : devices)
    if (device.aggregator) return device;
  fail("internal error: {}: no device has \"role\": \"aggregator\"", source);
}

size_t Topology::aggregatorIndex() const {
  return static_cast<size_t>(&aggregator() - devices.data());
}

size_t Topology::deviceIndex(const std::string &name) const {
  for (size_t d = 0; d < devices.size(); ++d)
    if (devices[d].name == name) return d;
  fail("{}: internal error: no device '{}'", source, name);
}

bool Topology::reaches(size_t from, size_t to) const {
  std::vector<bool> seen(devices.size(), false);
  std::vector<size_t> pending{from};
  seen[from] = true;
  while (!pending.empty()) {
    const size_t device = pending.back();
    pending.pop_back();
    if (device == to) return true;
    for (const TopologyLink &link : links)
      if (link.from == devices[device].name) {
        const size_t next = deviceIndex(link.to);
        if (!seen[next]) {
          seen[next] = true;
          pending.push_back(next);
        }
      }
  }
  return false;
}

const TopologyDevice *Topology::owner(const std::string &group) const {
  for (const TopologyDevice &device : devices)
    if (std::find(device.sensors.begin(), device.sensors.end(), group) != device.sensors.end())
      return &device;
  return nullptr;
}

const TopologyLink *Topology::link(const std::string &from, const std::string &to) const {
  for (const TopologyLink &candidate : links)
    if (candidate.from == from && candidate.to == to) return &candidate;
  return nullptr;
}

const SensorGroup *Topology::groupOfInput(const std::string &input) const {
  for (const SensorGroup &group : groups)
    if (std::find(group.inputs.begin(), group.inputs.end(), input) != group.inputs.end())
      return &group;
  return nullptr;
}

Topology parseTopology(std::string_view text, const std::string &source) {
  return TopologyReader(source).read(text);
}

Topology loadTopology(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail("{}: cannot read the topology file; check the path", path);
  std::stringstream text;
  text << file.rdbuf();
  return parseTopology(text.str(), path);
}

void checkTopologyAgainstModel(const Topology &topology, llvm::ArrayRef<std::string> modelInputs,
                               llvm::ArrayRef<std::string> modelOutputs) {
  auto contains = [](llvm::ArrayRef<std::string> names, const std::string &name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  for (const SensorGroup &group : topology.groups)
    for (size_t i = 0; i < group.inputs.size(); ++i)
      if (!contains(modelInputs, group.inputs[i]))
        fail("{}: /sensor_groups{}/{}: '{}' is not an input of the model (model inputs: {}); fix "
             "the name or remove it",
             topology.source, jsonPointerStep(group.name), i, group.inputs[i], join(modelInputs));
  for (const std::string &input : modelInputs)
    if (!topology.groupOfInput(input))
      fail("{}: /sensor_groups: model input '{}' is in no sensor group (model inputs: {}); add it "
           "to the group of the device whose sensors produce it",
           topology.source, input, join(modelInputs));
  if (topology.heads)
    for (size_t i = 0; i < topology.heads->size(); ++i)
      if (const std::string &output = (*topology.heads)[i].output; !contains(modelOutputs, output))
        fail("{}: /heads/{}/output: '{}' is not an output of the model (model outputs: {}); fix "
             "the name or remove the head",
             topology.source, i, output, join(modelOutputs));
}

} // namespace edgesplit
