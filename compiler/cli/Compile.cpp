#include "cli/Commands.h"
#include "cli/Common.h"
#include "codegen/CEmitter.h"
#include "codegen/DeviceCompiler.h"
#include "frontend/OnnxExporter.h"
#include "interp/Batching.h"
#include "quantize/AbsorbQdq.h"
#include "quantize/EmitQdq.h"
#include "report/Report.h"
#include "support/Error.h"
#include "support/Npy.h"

#include <fmt/format.h>

#include <fstream>
#include <unistd.h>

namespace edgesplit::cli {
namespace {

struct Options {
  std::string model;
  std::string target = "cortex-m4";
  std::string precision = "int8";
  std::string calibration;
  std::string observer = "minmax";
  double percentile = 99.99;
  std::string emitQdq;
  std::string outputDir;
  std::vector<std::string> inputShapes;
};

bool hasQdqNodes(const Graph &graph) {
  for (const auto &node : graph.nodes())
    if (node->domain.empty() &&
        (node->opType == "QuantizeLinear" || node->opType == "DequantizeLinear"))
      return true;
  return false;
}

// Calibration ranges of `graph` over CALIB.npz, with a progress bar on stderr for large sets.
ValueRanges calibrateFromFile(const Graph &graph, const Options &options) {
  llvm::StringMap<Tensor> arrays;
  for (auto &[name, tensor] : readNpz(options.calibration)) arrays[name] = std::move(tensor);
  std::vector<std::vector<Tensor>> samples;
  try {
    samples = splitSamples(graph, arrays);
  } catch (const Error &error) {
    fail("{}: {}", options.calibration, error.what());
  }
  ObserverOptions observer;
  observer.kind = options.observer == "percentile" ? ObserverOptions::Kind::Percentile
                                                   : ObserverOptions::Kind::MinMax;
  observer.percentile = options.percentile;
  const bool showProgress = samples.size() >= 32 && isatty(STDERR_FILENO);
  auto progress = [&](size_t done, size_t total) {
    if (!showProgress) return;
    const size_t width = 40, filled = done * width / total;
    fmt::print(stderr, "\rcalibrating [{}{}] {}/{}", std::string(filled, '#'),
               std::string(width - filled, '.'), done, total);
    if (done == total) fmt::print(stderr, "\n");
  };
  return calibrate(graph, samples, observer, progress);
}

void writeText(const std::filesystem::path &path, const std::string &text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream file(path, std::ios::binary);
  file << text;
  if (!file) fail("{}: cannot write", path.string());
}

void runCompile(const Options &options) {
  const Precision precision =
      options.precision == "float32" ? Precision::Float32 : Precision::Int8;
  const Target target = loadTarget(options.target);
  const ImportOptions importOptions = importOptionsFrom(options.inputShapes);
  std::unique_ptr<Graph> graph = loadModel(options.model, importOptions);
  const std::string source = graph->sourcePath;

  if (precision == Precision::Int8) {
    ValueRanges ranges;
    if (!options.calibration.empty()) ranges = calibrateFromFile(*graph, options);
    else if (!hasQdqNodes(*graph))
      fail("{}: is a float model; int8 needs calibration data: pass --calibration CALIB.npz "
           "(one array per model input, keyed by input name), or use --precision float32",
           source);
    try {
      prepareInt8(*graph, ranges);
    } catch (const Error &error) {
      fail("{}: {}", source, error.what());
    }
    if (!options.emitQdq.empty()) {
      // insertQdq rewrites the graph, so the export works on a second copy that takes this
      // graph's parameters by value name.
      std::unique_ptr<Graph> exported = loadModel(options.model, importOptions);
      absorbQdq(*exported);
      for (const auto &value : exported->values())
        if (const Value *annotated = graph->findValue(value->name))
          if (annotated->quant) value->quant = annotated->quant;
      insertQdq(*exported);
      saveOnnxModel(*exported, options.emitQdq);
    }
  } else {
    if (!options.emitQdq.empty()) failUsage("--emit-qdq needs --precision int8");
    // The quantisation of a QDQ model stays part of its float semantics (fake quantisation).
    absorbQdq(*graph);
  }

  CompiledDevice device;
  try {
    device = compileDevice(*graph, precision);
  } catch (const Error &error) {
    fail("{}: {}", source, error.what());
  }
  const std::string deviceName = "main";
  EmitOptions emit;
  emit.device = deviceName;
  emit.target = target.name;
  emit.version = EDGESPLIT_VERSION;
  const SourceFiles files = emitDevice(device.program, device.plan, emit);

  writeDirectoryAtomically(options.outputDir, [&](const std::filesystem::path &dir) {
    for (const auto &[path, text] : files) writeText(dir / deviceName / path, text);
    DeviceReportInput input;
    input.device = deviceName;
    input.target = &target;
    input.program = &device.program;
    input.plan = &device.plan;
    input.flash = measureFlash(dir / deviceName, target, deviceName, precision);
    ReportJson deviceJson = deviceReport(input);
    checkDeviceFits(deviceJson, source);
    const ReportJson report = compileReport(std::filesystem::path(options.model).filename(),
                                            precision, {std::move(deviceJson)});
    writeText(dir / "report.json", report.dump(2) + "\n");
    writeText(dir / "report.md", reportMarkdown(report));
  });
}

} // namespace

void registerCompile(CLI::App &app) {
  auto options = std::make_shared<Options>();
  CLI::App *command = app.add_subcommand(
      "compile", "Compile a model into C99 for a device: one folder per device plus a report");
  command->add_option("model", options->model, "ONNX model file")->required();
  command->add_option("--target", options->target,
                      "Target name (targets/*.json built in) or path to a target .json")
      ->capture_default_str();
  command->add_option("--precision", options->precision, "int8 or float32")
      ->check(CLI::IsMember({"int8", "float32"}))
      ->capture_default_str();
  command->add_option("--calibration", options->calibration,
                      "CALIB.npz: one array per model input (int8 of a float model)");
  command->add_option("--observer", options->observer, "Calibration range: minmax or percentile")
      ->check(CLI::IsMember({"minmax", "percentile"}))
      ->capture_default_str();
  command->add_option("--percentile", options->percentile,
                      "Percentile of the percentile observer")
      ->check(CLI::Range(50.0, 100.0))
      ->capture_default_str();
  command->add_option("--emit-qdq", options->emitQdq,
                      "Also write the model as quantised, as a QDQ ONNX file");
  command->add_option("-o,--output", options->outputDir, "Output folder")->required();
  addInputShapeOption(*command, options->inputShapes);
  command->callback([options] { runCompile(*options); });
}

} // namespace edgesplit::cli
