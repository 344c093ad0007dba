#include "execute/Run.h"

#include "execute/HostBuild.h"
#include "execute/Qemu.h"
#include "execute/QemuFleet.h"
#include "codegen/CEmitter.h"
#include "codegen/FleetEmitter.h"
#include "report/ReportFile.h"
#include "interp/Batching.h"
#include "support/Error.h"
#include "support/Npy.h"
#include "support/OutputFolder.h"
#include "support/Shell.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <optional>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace edgesplit {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;


Shape shapeOf(const Json &json) {
  const auto dims = json.get<std::vector<int64_t>>();
  return Shape(dims.begin(), dims.end());
}

// Builds the device folder and its driver with the host C compiler ($CC, else cc), once per set
// of flags and driver: OUTDIR/.build/<device>[-sanitize]/run.
fs::path buildHostProgram(const fs::path &compiled, const std::string &device, bool sanitize,
                          size_t bufferFloats) {
  const fs::path sources = compiled / device;
  const fs::path build = compiled / ".build" / (device + (sanitize ? "-sanitize" : ""));
  fs::create_directories(build);
  const fs::path driver = build / "driver.c", binary = build / "run";
  std::string command = hostCompiler(sanitize);
  command += " -I" + shellQuote(sources.string()) + " -I" + shellQuote((sources / "runtime/include").string());
  for (const std::string &file : cSourcesIn(sources)) command += " " + shellQuote(file);
  command += " " + shellQuote(driver.string()) + " -o " + shellQuote(binary.string()) + " -lm";
  command = fmt::format(": driver buffer {} && ", bufferFloats) + command; // the driver's only variable part

  std::ofstream(driver, std::ios::binary) << emitRunDriver(device, bufferFloats);
  buildOnce(command, binary, sources);
  return binary;
}

llvm::StringMap<Tensor> readInputArrays(const RunOptions &options) {
  llvm::StringMap<Tensor> arrays;
  for (const auto &[name, file] : options.inputs) {
    if (arrays.count(name))
      failUsage("--input gives '{}' twice; give each input once (several samples go in one [N, "
                "...] array)",
                name);
    arrays[name] = readNpy(file);
  }
  return arrays;
}

// Output shape of `samples` stacked samples under the batch rule.
Shape batchedShape(Shape shape, bool batched, size_t samples) {
  if (!batched) return shape;
  if (!shape.empty() && shape[0] == 1) shape[0] = static_cast<int64_t>(samples);
  else shape.insert(shape.begin(), static_cast<int64_t>(samples));
  return shape;
}

// The outputs a generated program wrote (one binary file each), gathered for DIR/<name>.npy and
// run.json's "outputs".
class OutputFiles {
public:
  OutputFiles(const fs::path &compiled, DType type, bool int8, bool batched, size_t samples)
      : compiled_(compiled), type_(type), int8_(int8), batched_(batched), samples_(samples) {}

  void add(const Json &port, const fs::path &written) {
    const std::string name = port["name"];
    Tensor tensor(type_, batchedShape(shapeOf(port["shape"]), batched_, samples_));
    const std::string bytes = readText(written);
    if (bytes.size() != tensor.byteSize())
      fail("{}: the generated program wrote {} bytes for '{}', expected {}; compile the folder "
           "again with this edgesplit",
           compiled_.string(), bytes.size(), name, tensor.byteSize());
    std::memcpy(tensor.rawData(), bytes.data(), bytes.size());
    // An ArgMax index, which the program holds exactly as a float (or as an int8 code that
    // dequantises to it), is written as the model's int64 unless --raw asks for the codes.
    if (type_ == DType::Float32 && port.value("index", false)) tensor = tensor.castTo(DType::Int64);
    const std::string file = sanitizeFileName(name) + ".npy";
    if (!fileNames_.insert(file).second)
      fail("two outputs map to the file name '{}'; rename one of them", file);
    Json entry;
    entry["name"] = name;
    entry["file"] = file;
    entry["dtype"] = dtypeName(tensor.dtype());
    entry["shape"] = tensor.shape();
    if (int8_) {
      entry["scale"] = port["scale"];
      entry["zero_point"] = port["zero_point"];
    }
    entries_.push_back(std::move(entry));
    results_.emplace_back(file, std::move(tensor));
  }

  const Json &entries() const { return entries_; }
  void write(const fs::path &dir) const {
    for (const auto &[file, tensor] : results_) writeNpy(dir / file, tensor);
  }

private:
  fs::path compiled_;
  DType type_;
  bool int8_, batched_;
  size_t samples_;
  std::set<std::string> fileNames_;
  Json entries_ = Json::array();
  std::vector<std::pair<std::string, Tensor>> results_;
};

// Runs one QEMU instance in `io` (semihosting paths are relative to it), its messages in
// io/qemu.log; a non-zero exit status is the program's failure or (128 + n) a fault.
void runOnBoard(const Target &target, const std::string &device, const std::string &qemu,
                const fs::path &io) {
  const std::string command = "cd " + shellQuote(io.string()) + " && " + qemu + " > qemu.log 2>&1";
  checkBoardExit(target, device, std::system(command.c_str()), io);
}

Json measurementJson(const std::string &device, const BoardMeasurement &measured) {
  Json entry;
  entry["name"] = device;
  entry["target"] = measured.target;
  entry["board"] = measured.board;
  entry["instructions_per_inference"] = measured.instructionsPerInference;
  if (measured.ioInstructionsPerSample)
    entry["io_instructions_per_sample"] = *measured.ioInstructionsPerSample;
  if (measured.stackPeakBytes) entry["stack_peak_bytes"] = *measured.stackPeakBytes;
  if (!measured.layerInstructions.empty()) entry["layer_instructions"] = measured.layerInstructions;
  return entry;
}

// The single-device driver marks each sample six times: before quantising the inputs, before
// painting the stack, before the inference, after it, after recording the stack's depth, and
// after dequantising the outputs; the painting and recording are counted in neither figure.
// With --per-layer the model marks the end of each of its `layers` layers but the last, whose
// end is the inference's.
BoardMeasurement measureInstructions(const Target &target, const fs::path &counts, size_t samples,
                                     const std::string &device, size_t layers) {
  // With per-layer markers, one more between each two of the `layers` layers.
  const size_t between = layers ? layers - 1 : 0;
  const size_t marksPerSample = 6 + between;
  const std::vector<uint64_t> marks = readMarkerCounts(counts);
  if (marks.size() != marksPerSample * samples)
    fail("device '{}': the instruction-count plugin recorded {} markers for {} samples, "
         "expected {}; see {}",
         device, marks.size(), samples, marksPerSample * samples, counts.string());
  std::vector<uint64_t> io;
  for (size_t s = 0; s < samples; ++s) {
    const uint64_t *m = &marks[marksPerSample * s];
    io.push_back((m[1] - m[0]) + (m[marksPerSample - 1] - m[marksPerSample - 2]));
  }
  BoardMeasurement measured{target.name, target.qemu->machine,
                            median(markerWindows(marks, marksPerSample, 2, 3 + between)),
                            median(io), samples, /*stackPeakBytes=*/std::nullopt,
                            /*layerInstructions=*/{}};
  for (size_t layer = 0; layer < layers; ++layer)
    measured.layerInstructions.push_back(
        median(markerWindows(marks, marksPerSample, 2 + layer, 3 + layer)));
  return measured;
}

// The deepest stack of an inference the board's painting saw (io/stack.txt), or nullopt when
// the board wrote none.
std::optional<uint64_t> readStackPeak(const fs::path &io) {
  std::ifstream file(io / "stack.txt");
  uint64_t bytes = 0;
  if (file >> bytes) return bytes;
  return std::nullopt;
}

// Adds each measured device's figures to report.json ("measured", beside the estimates), so
// `edgesplit report` and `diff` show them. The file is replaced atomically.
void recordMeasurements(const fs::path &reportPath, Json report,
                        const std::map<std::string, BoardMeasurement> &measurements) {
  for (Json &device : report["devices"]) {
    auto it = measurements.find(device["name"].get<std::string>());
    if (it == measurements.end()) continue;
    device.erase("measured");
    Json measured;
    measured["board"] = it->second.board;
    measured["instructions_per_inference"] = it->second.instructionsPerInference;
    measured["samples"] = it->second.samples;
    if (it->second.stackPeakBytes) measured["stack_peak_bytes"] = *it->second.stackPeakBytes;
    device["measured"] = std::move(measured);
  }
  const fs::path temporary = reportPath.string() + ".tmp";
  std::ofstream(temporary, std::ios::binary) << report.dump(2) << "\n";
  fs::rename(temporary, reportPath);
}

std::vector<std::string> groupNames(const Json &groups, uint64_t mask) {
  std::vector<std::string> names;
  for (size_t g = 0; g < groups.size(); ++g)
    if (mask & (uint64_t(1) << g)) names.push_back(groups[g]);
  return names;
}

// Links every device's folder and the simulator into one host program: each device's own
// sources are compiled on their own (as on its MCU); the runtime files they share are compiled
// once.
fs::path buildFleetSimulator(const fs::path &compiled, const std::vector<FleetSimDevice> &sensors,
                             const FleetSimDevice &aggregator, const std::string &simulator,
                             bool sanitize) {
  const fs::path build = compiled / ".build" / (sanitize ? "fleet-sanitize" : "fleet");
  fs::create_directories(build);
  std::string command = "set -e; cd " + shellQuote(build.string());
  const std::string cc = hostCompiler(sanitize);
  std::vector<std::string> objects;
  std::map<std::string, std::string> runtimeSources; // file name -> contents seen first
  std::vector<const FleetSimDevice *> devices;
  for (const FleetSimDevice &sensor : sensors) devices.push_back(&sensor);
  devices.push_back(&aggregator);
  for (const FleetSimDevice *device : devices) {
    const fs::path folder = fs::absolute(compiled / device->name);
    const std::string includes = " -I" + shellQuote(folder.string()) + " -I" +
                                 shellQuote((folder / "runtime/include").string());
    for (const std::string &source : cSourcesIn(folder)) {
      const fs::path path(source);
      const bool runtime = path.parent_path().filename() == "src";
      std::string object = (runtime ? "runtime_" : device->name + "_") + path.stem().string() + ".o";
      if (runtime) {
        const std::string text = readText(path);
        auto [seen, inserted] = runtimeSources.emplace(path.filename().string(), text);
        if (!inserted) {
          if (seen->second != text)
            fail("{}: its runtime file {} differs from another device's; recompile the fleet "
                 "with one edgesplit",
                 folder.string(), path.filename().string());
          continue;
        }
      }
      command += " && " + cc + includes + " -c " + shellQuote(source) + " -o " + object;
      objects.push_back(object);
    }
  }
  const fs::path driver = build / "sim.c", binary = build / "sim";
  std::ofstream(driver, std::ios::binary) << simulator;
  const fs::path anyRuntime = fs::absolute(compiled / aggregator.name / "runtime/include");
  command += " && " + cc + " -I" + shellQuote(fs::absolute(compiled).string()) + " -I" +
             shellQuote(anyRuntime.string()) + " -c sim.c -o sim.o && " + cc + " sim.o";
  for (const std::string &object : objects) command += " " + object;
  command += " -o sim -lm";
  buildOnce("sh -c " + shellQuote(command), binary, compiled);
  return binary;
}

void runFleet(const RunOptions &options, const Json &report) {
  const fs::path compiled = options.compiled;
  const Json &fleet = report["fleet"];
  const std::string aggregatorName = fleet["aggregator"];
  std::vector<FleetSimDevice> sensors;
  FleetSimDevice aggregator;
  // The model inputs, in the order the simulator reads them: sensors', then the aggregator's.
  Graph ports;
  ports.sourcePath = (compiled / "report.json").string();
  std::vector<std::string> deviceNames;
  bool int8 = true;
  for (const Json &device : report["devices"]) {
    deviceNames.push_back(device["name"]);
    int8 = device["precision"] == "int8";
  }
  auto addPorts = [&](const Json &device) {
    std::vector<size_t> elements;
    for (const Json &name : device["sensor_inputs"])
      for (const Json &input : device["inputs"])
        if (input["name"] == name) {
          Value *value = ports.createValue(name, DType::Float32);
          value->shape = shapeOf(input["shape"]);
          ports.inputs.push_back(value);
          elements.push_back(static_cast<size_t>(numElements(*value->shape)));
        }
    return elements;
  };
  if (fleet.value("key_provisioning", "") == "hook")
    failUsage("{}: compiled with --key-provisioning hook: its keys are in the devices' storage, not "
              "in the folder, so it cannot be simulated; compile with --key-provisioning embed to "
              "run it",
              compiled.string());
  auto linkOf = [&](const std::string &sensor) {
    for (const Json &link : report["links"])
      if (link["from"] == sensor) return link["link_id"].get<int>();
    return -1;
  };
  // A routed fleet: every device but the aggregator in `sensors` (workers too), in report order.
  const bool routed = fleet.value("routed", false);
  for (const Json &device : report["devices"])
    if (device["role"] == "sensor" || (routed && device["role"] == "worker"))
      sensors.push_back({device["name"], linkOf(device["name"]), addPorts(device), device["role"],
                         device["role"] == "worker" && !device["inputs"].empty()});
  for (const Json &device : report["devices"])
    if (device["name"] == aggregatorName)
      aggregator = {aggregatorName, -1, addPorts(device), "aggregator", false};

  // Per sensor, the first sample it no longer sends (-1: never).
  std::vector<long> failFrom(sensors.size(), -1);
  for (const std::string &spec : options.failed) {
    const size_t at = spec.find('@');
    const std::string name = spec.substr(0, at);
    long from = 0;
    if (at != std::string::npos) {
      const std::string sample = spec.substr(at + 1);
      char *end = nullptr;
      from = std::strtol(sample.c_str(), &end, 10);
      if (sample.empty() || *end || from < 0)
        failUsage("--fail {}: expected DEVICE or DEVICE@SAMPLE with SAMPLE a sample index >= 0",
                  spec);
    }
    if (name == aggregatorName)
      failUsage("--fail {}: the aggregator runs the heads; fail sensor devices{} only", name,
                routed ? ", workers or relays" : "");
    auto it = std::find_if(sensors.begin(), sensors.end(),
                           [&](const FleetSimDevice &d) { return d.name == name; });
    if (it == sensors.end())
      failUsage("--fail {}: no such device in {} (devices: {})", name, compiled.string(),
                fmt::join(deviceNames, ", "));
    failFrom[it - sensors.begin()] = from;
  }
  // Per device, sensors then the aggregator: the sample before which it restarts (-1: never).
  std::vector<long> rebootAt(sensors.size() + 1, -1);
  for (const std::string &spec : options.reboots) {
    const size_t at = spec.find('@');
    const std::string name = spec.substr(0, at);
    const std::string sample = at == std::string::npos ? "" : spec.substr(at + 1);
    char *end = nullptr;
    const long from = std::strtol(sample.c_str(), &end, 10);
    if (sample.empty() || *end || from < 0)
      failUsage("--reboot {}: expected DEVICE@SAMPLE with SAMPLE a sample index >= 0", spec);
    auto it = std::find_if(sensors.begin(), sensors.end(),
                           [&](const FleetSimDevice &d) { return d.name == name; });
    if (it == sensors.end() && name != aggregatorName)
      failUsage("--reboot {}: no such device in {} (devices: {})", name, compiled.string(),
                fmt::join(deviceNames, ", "));
    rebootAt[it == sensors.end() ? sensors.size() : size_t(it - sensors.begin())] = from;
  }

  const llvm::StringMap<Tensor> arrays = readInputArrays(options);
  const std::vector<std::vector<Tensor>> samples = splitSamples(ports, arrays);
  const bool batched = llvm::any_of(ports.inputs, [&](const Value *input) {
    return llvm::ArrayRef<int64_t>(*input->shape) != arrays.lookup(input->name).shape();
  });

  const Json &heads = report["heads"];
  const size_t links = fleet["link_count"].get<size_t>();
  fs::path io;
  std::string statsText;
  std::map<std::string, BoardMeasurement> measured;
  if (options.qemu) {
    const FleetFaults faults{options.raw, options.seed, options.dropRate, options.corruptRate,
                             options.replayRate};
    const FleetOnBoards run =
        runFleetOnBoards(compiled, report, sensors, aggregator, failFrom, rebootAt, samples, faults);
    io = run.io;
    statsText = run.stats;
    measured = run.measured;
  } else {
    std::string simulator;
    if (routed) {
      // The routed simulator knows the devices in report order, the aggregator among them.
      std::vector<FleetSimDevice> devices;
      std::vector<long> fails, reboots;
      size_t aggregatorAt = 0, next = 0;
      for (const Json &device : report["devices"]) {
        if (device["name"] == aggregatorName) {
          aggregatorAt = devices.size();
          devices.push_back(aggregator);
          fails.push_back(-1);
          reboots.push_back(rebootAt.back());
        } else {
          devices.push_back(sensors[next]);
          fails.push_back(failFrom[next]);
          reboots.push_back(rebootAt[next++]);
        }
      }
      std::vector<std::pair<int, int>> linkEnds(links, {-1, -1});
      auto indexOf = [&](const std::string &name) {
        for (size_t d = 0; d < devices.size(); ++d)
          if (devices[d].name == name) return static_cast<int>(d);
        return -1;
      };
      for (const Json &link : report["links"])
        linkEnds[link["link_id"].get<size_t>()] = {indexOf(link["from"]), indexOf(link["to"])};
      simulator = emitRoutedFleetSimulator(devices, aggregatorAt, linkEnds);
      failFrom = fails;
      rebootAt = reboots;
    } else {
      simulator = emitFleetSimulator(sensors, aggregator, links);
    }
    const fs::path binary =
        buildFleetSimulator(compiled, sensors, aggregator, simulator, options.sanitize);
    io = binary.parent_path() / "io";
    writeSampleFiles(io, samples, 0, ports.inputs.size());
    const fs::path statsPath = io / "stats.txt";
    std::string command = fmt::format("{} {} {} {} {} {} {} {}", shellQuote(binary.string()),
                                      options.raw ? "raw" : "float", samples.size(), options.seed,
                                      options.dropRate, options.corruptRate,
                                      fmt::join(failFrom, ","), shellQuote(statsPath.string()));
    for (size_t i = 0; i < ports.inputs.size(); ++i)
      command += " " + shellQuote((io / fmt::format("input{}.bin", i)).string());
    for (size_t h = 0; h < heads.size(); ++h)
      command += " " + shellQuote((io / fmt::format("head{}.bin", h)).string());
    command += fmt::format(" {} {}", options.replayRate, fmt::join(rebootAt, ","));
    if (std::system(command.c_str()) != 0)
      fail("{}: the fleet simulator failed on these inputs; run it with --sanitize to find where",
           compiled.string());
    statsText = readText(statsPath);
  }

  // Head outputs: shapes from the aggregator's ports (outputs in head order).
  const Json *aggregatorJson = nullptr;
  for (const Json &device : report["devices"])
    if (device["name"] == aggregatorName) aggregatorJson = &device;
  const DType outputType = options.raw && int8 ? DType::Int8 : DType::Float32;
  Json runJson;
  runJson["schema"] = "edgesplit-run/1";
  runJson["compiled"] = compiled.filename().string();
  runJson["mode"] = options.qemu ? "qemu-fleet" : "host-fleet";
  runJson["samples"] = samples.size();
  runJson["raw"] = options.raw;
  runJson["seed"] = options.seed;
  runJson["drop_rate"] = options.dropRate;
  runJson["corrupt_rate"] = options.corruptRate;
  runJson["failed"] = options.failed;
  if (!options.reboots.empty()) runJson["reboots"] = options.reboots;
  if (options.replayRate > 0) runJson["replay_rate"] = options.replayRate;
  OutputFiles outputs(compiled, outputType, int8, batched, samples.size());
  for (size_t h = 0; h < heads.size(); ++h)
    outputs.add((*aggregatorJson)["outputs"][h], io / fmt::format("head{}.bin", h));
  runJson["outputs"] = outputs.entries();

  // The statistics the simulator printed (see emitFleetSimulator).
  std::istringstream stats(statsText);
  Json perSample = Json::array(), linkStats = Json::array(), headsRun = Json::object();
  for (const Json &head : heads) headsRun[head["output"].get<std::string>()] = 0;
  headsRun["none"] = 0;
  const Json &groups = fleet["sensor_groups"];
  for (std::string line; std::getline(stats, line);) {
    std::istringstream words(line);
    std::string kind;
    words >> kind;
    if (kind == "sample") {
      long index = 0;
      int head = -1;
      uint64_t arrived = 0, imputed = 0;
      std::string key;
      words >> index >> key >> head >> key >> arrived >> key >> imputed;
      Json sample;
      sample["index"] = index;
      const std::string headName = head >= 0 ? heads[head]["output"].get<std::string>() : "";
      sample["head"] = head >= 0 ? Json(headName) : Json(nullptr);
      sample["arrived_groups"] = groupNames(groups, arrived);
      sample["imputed_groups"] = groupNames(groups, imputed);
      headsRun[head >= 0 ? headName : "none"] = headsRun[head >= 0 ? headName : "none"].get<int64_t>() + 1;
      perSample.push_back(std::move(sample));
    } else if (kind == "link") {
      int64_t id = 0;
      Json link;
      std::string key;
      words >> id;
      for (const Json &reported : report["links"])
        if (reported["link_id"] == id) {
          link["from"] = reported["from"];
          link["to"] = reported["to"];
        }
      if (!link.contains("from")) continue; // a link no tensor crosses
      for (int64_t value; words >> key >> value;)
        link[key == "sent"           ? "frames_sent"
             : key == "bytes"        ? "bytes_sent"
             : key == "beacons"      ? "beacons_sent"
             : key == "beacon_bytes" ? "beacon_bytes_sent"
             : key == "beacons_replayed" || key == "beacon_replays_refused" ? key
                                     : "frames_" + key] = value;
      link["bytes_per_inference"] = samples.empty() ? 0.0 : link["bytes_sent"].get<double>() / static_cast<double>(samples.size());
      linkStats.push_back(std::move(link));
    } else if (kind == "receiver") {
      Json counters;
      std::string key;
      for (int64_t value; words >> key >> value;) counters[key] = value;
      runJson["receiver"] = std::move(counters);
    }
  }
  runJson["heads_run"] = std::move(headsRun);
  runJson["links"] = std::move(linkStats);
  runJson["per_sample"] = std::move(perSample);
  if (!measured.empty()) {
    Json devices = Json::array();
    for (const Json &device : report["devices"])
      if (auto it = measured.find(device["name"].get<std::string>()); it != measured.end())
        devices.push_back(measurementJson(it->first, it->second));
    runJson["devices"] = std::move(devices);
    recordMeasurements(compiled / "report.json", report, measured);
  }
  writeDirectoryAtomically(options.outputDir, [&](const fs::path &dir) {
    outputs.write(dir);
    std::ofstream(dir / "run.json", std::ios::binary) << runJson.dump(2) << "\n";
  });
}

} // namespace

void runCompiled(const RunOptions &options) {
  const fs::path compiled = options.compiled;
  const fs::path reportPath = compiled / "report.json";
  if (!fs::exists(reportPath))
    fail("{}: not a compiled folder (no report.json); create it with `edgesplit compile`",
         compiled.string());
  const Json report = loadReport(reportPath).json;
  const bool fleet = report.contains("fleet") && options.device.empty();
  const bool faults = !options.failed.empty() || options.dropRate > 0 || options.corruptRate > 0 ||
                      !options.reboots.empty() || options.replayRate > 0;
  if (faults && !fleet)
    failUsage("--fail, --reboot, --drop-rate, --corrupt-rate and --replay need a fleet (compiled "
              "with --topology) run as a whole (no --device)");
  if (options.perLayer && report.contains("fleet"))
    failUsage("--per-layer measures single-device compiles only; compile the model without "
              "--topology to measure its layers");
  if (fleet) return runFleet(options, report);
  const Json *device = nullptr;
  std::vector<std::string> names;
  for (const Json &candidate : report["devices"]) {
    names.push_back(candidate["name"]);
    if (options.device.empty() ? device == nullptr : candidate["name"] == options.device)
      device = &candidate;
  }
  if (!device)
    failUsage("--device '{}' is not in {} (devices: {})", options.device, compiled.string(),
              fmt::join(names, ", "));
  const std::string deviceName = (*device)["name"];
  const bool int8 = (*device)["precision"] == "int8";

  // The device's ports as a graph, so the batch rule and its checks are the reference's.
  Graph ports;
  ports.sourcePath = reportPath.string();
  for (const Json &input : (*device)["inputs"]) {
    Value *value = ports.createValue(input["name"], DType::Float32);
    value->shape = shapeOf(input["shape"]);
    ports.inputs.push_back(value);
  }
  const llvm::StringMap<Tensor> arrays = readInputArrays(options);
  const std::vector<std::vector<Tensor>> samples = splitSamples(ports, arrays);
  const bool batched = llvm::any_of(ports.inputs, [&](const Value *input) {
    return llvm::ArrayRef<int64_t>(*input->shape) != arrays.lookup(input->name).shape();
  });

  const Json &outputs = (*device)["outputs"];
  const std::string driver = emitRunDriver(deviceName, largestPort(*device));
  std::optional<BoardMeasurement> measured;
  fs::path io;
  if (options.qemu) {
    const Target target = boardTarget((*device)["target"], deviceName);
    const fs::path elf = buildBoardProgram(compiled, deviceName, target, {{"driver.c", driver}},
                                           false, options.perLayer);
    io = elf.parent_path() / "io";
    writeSampleFiles(io, samples, 0, ports.inputs.size());
    std::vector<std::string> args = {"run", options.raw ? "raw" : "float", std::to_string(samples.size())};
    for (size_t i = 0; i < ports.inputs.size(); ++i) args.push_back(fmt::format("input{}.bin", i));
    for (size_t i = 0; i < outputs.size(); ++i) args.push_back(fmt::format("output{}.bin", i));
    const fs::path plugin = buildInstructionPlugin(compiled);
    fs::remove(io / "stack.txt");
    runOnBoard(target, deviceName, qemuCommand(target, elf, args, plugin, io / "counts.txt"), io);
    measured = measureInstructions(target, io / "counts.txt", samples.size(), deviceName,
                                   options.perLayer ? (*device)["layers"].size() : 0);
    measured->stackPeakBytes = readStackPeak(io);
  } else {
    const fs::path binary = buildHostProgram(compiled, deviceName, options.sanitize, largestPort(*device));
    io = binary.parent_path() / "io";
    writeSampleFiles(io, samples, 0, ports.inputs.size());
    std::string command = shellQuote(binary.string()) + (options.raw ? " raw " : " float ") +
                          std::to_string(samples.size());
    for (size_t i = 0; i < ports.inputs.size(); ++i)
      command += " " + shellQuote((io / fmt::format("input{}.bin", i)).string());
    for (size_t i = 0; i < outputs.size(); ++i)
      command += " " + shellQuote((io / fmt::format("output{}.bin", i)).string());
    if (std::system(command.c_str()) != 0)
      fail("{}: the generated program failed on these inputs; run it with --sanitize to find where",
           compiled.string());
  }

  const DType outputType = options.raw && int8 ? DType::Int8 : DType::Float32;
  OutputFiles files(compiled, outputType, int8, batched, samples.size());
  for (size_t i = 0; i < outputs.size(); ++i)
    files.add(outputs[i], io / fmt::format("output{}.bin", i));
  Json runJson;
  runJson["schema"] = "edgesplit-run/1";
  runJson["compiled"] = compiled.filename().string();
  runJson["device"] = deviceName;
  runJson["mode"] = options.qemu ? "qemu" : "host";
  runJson["samples"] = samples.size();
  runJson["raw"] = options.raw;
  runJson["outputs"] = files.entries();
  if (measured) {
    runJson["devices"] = Json::array({measurementJson(deviceName, *measured)});
    recordMeasurements(reportPath, report, {{deviceName, *measured}});
  }
  writeDirectoryAtomically(options.outputDir, [&](const fs::path &dir) {
    files.write(dir);
    std::ofstream(dir / "run.json", std::ios::binary) << runJson.dump(2) << "\n";
  });
}

} // namespace edgesplit
