// topology-init writes a starting topology for a model; topology-check reads one (and checks it
// against a model) without compiling, for editors' save hooks and CI.
#include "cli/Commands.h"
#include "cli/Common.h"
#include "partition/Topology.h"
#include "target/Target.h"
#include "support/Error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

namespace edgesplit::cli {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// A sensor group or device name from a model input's: characters outside [A-Za-z0-9_-] become
// '_', and a name already taken gets a numeric suffix.
std::string uniqueName(const std::string &wanted, std::set<std::string> &taken) {
  std::string name = wanted.empty() ? "input" : wanted;
  for (char &c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  std::string candidate = name;
  for (int suffix = 2; taken.count(candidate); ++suffix) candidate = fmt::format("{}_{}", name, suffix);
  taken.insert(candidate);
  return candidate;
}

Json deviceJson(const std::string &name, const std::string &targetName,
                const std::vector<std::string> &sensors, bool aggregator) {
  const Target target = loadTarget(targetName);
  Json device;
  device["name"] = name;
  device["target"] = targetName;
  // 64, not 64.0, for a whole number of MHz.
  if (target.clockMhz == std::floor(target.clockMhz))
    device["clock_mhz"] = static_cast<int64_t>(target.clockMhz);
  else
    device["clock_mhz"] = target.clockMhz;
  device["ram_kib"] = target.ramKib;
  device["flash_kib"] = target.flashKib;
  if (!sensors.empty()) device["sensors"] = sensors;
  if (aggregator) device["role"] = "aggregator";
  return device;
}

// One line per JSON value, with a space after ':' and ','.
std::string compact(const Json &value) {
  std::string text;
  if (value.is_object()) {
    for (const auto &[key, member] : value.items())
      text += (text.empty() ? "" : ", ") + Json(key).dump() + ": " + compact(member);
    return "{" + text + "}";
  }
  if (value.is_array()) {
    for (const Json &element : value) text += (text.empty() ? "" : ", ") + compact(element);
    return "[" + text + "]";
  }
  return value.dump();
}

// The layout of docs/topology.md: a top-level key a line, an array of objects an element a line.
std::string layout(const Json &topology) {
  std::string text = "{\n";
  size_t index = 0;
  for (const auto &[key, value] : topology.items()) {
    text += "  " + Json(key).dump() + ": ";
    if (value.is_array() && !value.empty() && value.front().is_object()) {
      text += "[\n";
      for (size_t i = 0; i < value.size(); ++i)
        text += "    " + compact(value[i]) + (i + 1 < value.size() ? ",\n" : "\n");
      text += "  ]";
    } else {
      text += compact(value);
    }
    text += ++index < topology.size() ? ",\n" : "\n";
  }
  return text + "}\n";
}

// The schema an editor should validate the file with: the installed copy beside the
// executable (<prefix>/bin/edgesplit -> <prefix>/share/doc/edgesplit/), else the source tree's.
std::string defaultSchemaUri() {
  std::error_code error;
  const fs::path executable = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    const fs::path installed =
        executable.parent_path().parent_path() / "share/doc/edgesplit/topology.schema.json";
    if (fs::exists(installed)) return "file://" + installed.lexically_normal().string();
  }
  return "file://" EDGESPLIT_SOURCE_DIR "/docs/topology.schema.json";
}

struct InitOptions {
  std::string model;
  std::string output;
  int devices = -1; // sensor devices; -1: one per model input
  std::string sensorTarget = "cortex-m4";
  std::string aggregatorTarget = "cortex-m7";
  std::string schemaUri;
  std::vector<std::string> inputShapes;
};

void runTopologyInit(const InitOptions &options) {
  auto graph = loadModel(options.model, importOptionsFrom(options.inputShapes));
  const size_t groupCount = graph->inputs.size();
  const size_t sensorDevices = options.devices < 0 ? groupCount : size_t(options.devices);
  if (sensorDevices > groupCount)
    failUsage("--devices {}: the model has {} input(s), so at most {} sensor devices (one per "
              "sensor group); 0 puts every group on the aggregator",
              options.devices, groupCount, groupCount);

  std::set<std::string> groupNames;
  std::vector<std::string> groups;
  Json sensorGroups = Json::object();
  for (const Value *input : graph->inputs) {
    groups.push_back(uniqueName(input->name, groupNames));
    sensorGroups[groups.back()] = Json::array({input->name});
  }

  // Groups go to the sensor devices in model input order, in contiguous runs as even as
  // possible; a device holding one group is named after it.
  std::set<std::string> deviceNames;
  Json devices = Json::array();
  size_t next = 0;
  for (size_t d = 0; d < sensorDevices; ++d) {
    const size_t count = groupCount / sensorDevices + (d < groupCount % sensorDevices ? 1 : 0);
    std::vector<std::string> owned(groups.begin() + next, groups.begin() + next + count);
    next += count;
    const std::string name =
        uniqueName(owned.size() == 1 ? owned[0] : fmt::format("sensors{}", d), deviceNames);
    devices.push_back(deviceJson(name, options.sensorTarget, owned, false));
  }
  const std::vector<std::string> aggregatorGroups(groups.begin() + next, groups.end());
  const std::string hub = uniqueName("hub", deviceNames);
  devices.push_back(deviceJson(hub, options.aggregatorTarget, aggregatorGroups, true));

  // A BLE 5 link at 1 Mbit/s: 7.5 ms connection interval, 244-byte data length extension
  // frames, about 80 nJ per byte for a low-power radio.
  Json links = Json::array();
  for (size_t d = 0; d + 1 < devices.size(); ++d)
    links.push_back({{"from", devices[d]["name"]}, {"to", hub}, {"kbps", 1000}, {"latency_ms", 7.5},
                     {"mtu", 244}, {"nj_per_byte", 80}});
  Json heads = Json::array();
  for (const GraphOutput &output : graph->outputs)
    heads.push_back({{"output", output.name}, {"priority", 0}});

  Json topology;
  topology["$schema"] = options.schemaUri.empty() ? defaultSchemaUri() : options.schemaUri;
  topology["schema"] = "edgesplit-topology/1";
  topology["devices"] = devices;
  topology["sensor_groups"] = sensorGroups;
  topology["links"] = links;
  topology["heads"] = heads;
  topology["fallback"] = "heads";
  topology["objective"] = {{"latency", 1}, {"energy", 1}, {"bytes", 0}};
  const std::string text = layout(topology);
  // What is written must read back: the same checks as a compile, the model's included.
  const Topology parsed = parseTopology(text, options.output);
  std::vector<std::string> inputs, outputs;
  for (const Value *input : graph->inputs) inputs.push_back(input->name);
  for (const GraphOutput &output : graph->outputs) outputs.push_back(output.name);
  checkTopologyAgainstModel(parsed, inputs, outputs);
  writeFileAtomically(options.output, text);
}

struct CheckOptions {
  std::string topology;
  std::string model;
  std::vector<std::string> inputShapes;
};

void runTopologyCheck(const CheckOptions &options) {
  const Topology topology = loadTopology(options.topology);
  if (!options.model.empty()) {
    auto graph = loadModel(options.model, importOptionsFrom(options.inputShapes));
    std::vector<std::string> inputs, outputs;
    for (const Value *input : graph->inputs) inputs.push_back(input->name);
    for (const GraphOutput &output : graph->outputs) outputs.push_back(output.name);
    checkTopologyAgainstModel(topology, inputs, outputs);
  }
  fmt::print("{}: ok ({} devices, {} sensor groups, {} links{})\n", options.topology,
             topology.devices.size(), topology.groups.size(), topology.links.size(),
             options.model.empty() ? "" : ", matches " + options.model);
}

} // namespace

void registerTopologyInit(CLI::App &app) {
  auto options = std::make_shared<InitOptions>();
  CLI::App *command = app.add_subcommand(
      "topology-init",
      "Write a starting topology for a model: one sensor group per model input, one device per "
      "group (or --devices N) and an aggregator, default links; edit it, then compile with it");
  command->add_option("model", options->model, "ONNX model file")->required();
  command
      ->add_option("--devices", options->devices,
                   "Number of sensor devices the groups are spread over (default: one per "
                   "model input; 0: every group on the aggregator)")
      ->check(CLI::Range(0, std::numeric_limits<int>::max()));
  command->add_option("--sensor-target", options->sensorTarget,
                      "Target of the sensor devices (a built-in target or a target .json)")
      ->capture_default_str();
  command->add_option("--aggregator-target", options->aggregatorTarget,
                      "Target of the aggregator")
      ->capture_default_str();
  command->add_option("--schema-uri", options->schemaUri,
                      "Value of \"$schema\" (default: the installed docs/topology.schema.json)");
  addInputShapeOption(*command, options->inputShapes);
  addMaxTensorBytesOption(*command);
  addOutputFileOption(*command, options->output, "The topology file to write");
  command->callback([options] { runTopologyInit(*options); });
}

void registerTopologyCheck(CLI::App &app) {
  auto options = std::make_shared<CheckOptions>();
  CLI::App *command = app.add_subcommand(
      "topology-check",
      "Check a topology file as a compile would (and against a model with --model), without "
      "compiling");
  command->add_option("topology", options->topology, "topology .json file")->required();
  command->add_option("--model", options->model, "ONNX model the topology is for");
  addInputShapeOption(*command, options->inputShapes);
  addMaxTensorBytesOption(*command);
  command->callback([options] { runTopologyCheck(*options); });
}

} // namespace edgesplit::cli
