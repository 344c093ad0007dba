#include "cli/Commands.h"
#include "cli/Common.h"
#include "codegen/CEmitter.h"
#include "interp/Batching.h"
#include "support/Error.h"
#include "support/Npy.h"
#include "support/Shell.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace edgesplit::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct Options {
  std::string compiled;
  std::vector<std::string> inputs;
  std::string outputDir;
  std::string device;
  bool raw = false;
  bool sanitize = false;
};

std::string readText(const fs::path &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail("{}: cannot read", path.string());
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

Shape shapeOf(const Json &json) {
  const auto dims = json.get<std::vector<int64_t>>();
  return Shape(dims.begin(), dims.end());
}

// Builds the device folder and the host driver with the host C compiler ($CC, else cc), once per
// set of flags: OUTDIR/.build/<device>[-sanitize]/run.
fs::path buildHostProgram(const fs::path &compiled, const std::string &device, bool sanitize) {
  const fs::path sources = compiled / device;
  const fs::path build = compiled / ".build" / (device + (sanitize ? "-sanitize" : ""));
  fs::create_directories(build);
  const fs::path driver = build / "driver.c", binary = build / "run";
  const char *cc = std::getenv("CC");
  std::string command = fmt::format("{} -std=c99 -O2 -Wall -Wextra -Werror -pedantic",
                                    cc && *cc ? cc : "cc");
  if (sanitize)
    command += " -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer";
  command += " -I" + shellQuote(sources.string()) + " -I" + shellQuote((sources / "runtime/include").string());
  for (const std::string &file : cSourcesIn(sources)) command += " " + shellQuote(file);
  command += " " + shellQuote(driver.string()) + " -o " + shellQuote(binary.string()) + " -lm";

  const fs::path stamp = build / "command.txt";
  if (fs::exists(binary) && fs::exists(stamp) && readText(stamp) == command) return binary;
  std::ofstream(driver, std::ios::binary) << emitHostDriver(device);
  const fs::path log = build / "build.log";
  if (std::system((command + " > " + shellQuote(log.string()) + " 2>&1").c_str()) != 0)
    fail("{}: the generated C does not build with the host compiler (see {}): {}",
         sources.string(), log.string(), readText(log).substr(0, 400));
  std::ofstream(stamp, std::ios::binary) << command;
  return binary;
}

void runCompiled(const Options &options) {
  const fs::path compiled = options.compiled;
  const fs::path reportPath = compiled / "report.json";
  if (!fs::exists(reportPath))
    fail("{}: not a compiled folder (no report.json); create it with `edgesplit compile`",
         compiled.string());
  Json report;
  try {
    report = Json::parse(readText(reportPath));
  } catch (const Json::exception &error) {
    fail("{}: invalid report: {}", reportPath.string(), error.what());
  }
  if (report.value("schema", "") != "edgesplit-report/1")
    fail("{}: /schema is not edgesplit-report/1; recompile with this edgesplit",
         reportPath.string());
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
  llvm::StringMap<Tensor> arrays;
  for (const std::string &spec : options.inputs) {
    auto [name, file] = splitAssignment(spec, "--input");
    if (arrays.count(name)) failUsage("--input gives '{}' twice", name);
    arrays[name] = readNpy(file);
  }
  const std::vector<std::vector<Tensor>> samples = splitSamples(ports, arrays);
  const bool batched = llvm::any_of(ports.inputs, [&](const Value *input) {
    return llvm::ArrayRef<int64_t>(*input->shape) != arrays[input->name].shape();
  });

  const fs::path binary = buildHostProgram(compiled, deviceName, options.sanitize);
  const fs::path io = binary.parent_path() / "io";
  fs::remove_all(io);
  fs::create_directories(io);
  std::string command = shellQuote(binary.string()) + (options.raw ? " raw " : " float ") +
                        std::to_string(samples.size());
  for (size_t i = 0; i < ports.inputs.size(); ++i) {
    const fs::path file = io / fmt::format("input{}.bin", i);
    std::ofstream stream(file, std::ios::binary);
    for (const std::vector<Tensor> &sample : samples)
      stream.write(reinterpret_cast<const char *>(sample[i].rawData()),
                   static_cast<std::streamsize>(sample[i].byteSize()));
    command += " " + shellQuote(file.string());
  }
  const Json &outputs = (*device)["outputs"];
  for (size_t i = 0; i < outputs.size(); ++i)
    command += " " + shellQuote((io / fmt::format("output{}.bin", i)).string());
  if (std::system(command.c_str()) != 0)
    fail("{}: the generated program failed on these inputs", compiled.string());

  const DType outputType = options.raw && int8 ? DType::Int8 : DType::Float32;
  std::set<std::string> fileNames;
  Json runJson;
  runJson["schema"] = "edgesplit-run/1";
  runJson["compiled"] = compiled.filename().string();
  runJson["device"] = deviceName;
  runJson["mode"] = "host";
  runJson["samples"] = samples.size();
  runJson["raw"] = options.raw;
  runJson["outputs"] = Json::array();
  std::vector<std::pair<std::string, Tensor>> results;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const std::string name = outputs[i]["name"];
    Shape shape = shapeOf(outputs[i]["shape"]);
    if (batched) {
      if (!shape.empty() && shape[0] == 1) shape[0] = static_cast<int64_t>(samples.size());
      else shape.insert(shape.begin(), static_cast<int64_t>(samples.size()));
    }
    Tensor tensor(outputType, shape);
    const std::string bytes = readText(io / fmt::format("output{}.bin", i));
    if (bytes.size() != tensor.byteSize())
      fail("{}: the generated program wrote {} bytes for '{}', expected {}", compiled.string(),
           bytes.size(), name, tensor.byteSize());
    std::memcpy(tensor.rawData(), bytes.data(), bytes.size());
    const std::string file = sanitizeFileName(name) + ".npy";
    if (!fileNames.insert(file).second)
      fail("two outputs map to the file name '{}'; rename one of them", file);
    Json entry;
    entry["name"] = name;
    entry["file"] = file;
    entry["dtype"] = dtypeName(outputType);
    entry["shape"] = shape;
    if (int8) {
      entry["scale"] = outputs[i]["scale"];
      entry["zero_point"] = outputs[i]["zero_point"];
    }
    runJson["outputs"].push_back(std::move(entry));
    results.emplace_back(file, std::move(tensor));
  }
  writeDirectoryAtomically(options.outputDir, [&](const fs::path &dir) {
    for (const auto &[file, tensor] : results) writeNpy(dir / file, tensor);
    std::ofstream(dir / "run.json", std::ios::binary) << runJson.dump(2) << "\n";
  });
}

} // namespace

void registerRun(CLI::App &app) {
  auto options = std::make_shared<Options>();
  CLI::App *command =
      app.add_subcommand("run", "Build a compiled folder for the host and run it on .npy inputs");
  command->add_option("compiled", options->compiled, "Folder written by `edgesplit compile`")
      ->required();
  command->add_option("--input", options->inputs, "NAME=FILE.npy for each model input")
      ->required();
  command->add_option("-o,--output", options->outputDir, "Folder for <output>.npy and run.json")
      ->required();
  command->add_option("--device", options->device, "Device to run (default: the first)");
  command->add_flag("--raw", options->raw, "Write int8 outputs as stored, not dequantised");
  command->add_flag("--sanitize", options->sanitize,
                    "Build with AddressSanitizer and UndefinedBehaviorSanitizer");
  command->callback([options] { runCompiled(*options); });
}

} // namespace edgesplit::cli
