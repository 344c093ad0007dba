#include "cli/Commands.h"
#include "cli/Common.h"
#include "fleet/ChannelSlicing.h"
#include "fleet/SpatialTiling.h"
#include "fleet/FleetCompiler.h"
#include "codegen/CEmitter.h"
#include "codegen/CodegenCheck.h"
#include "codegen/DeviceCompiler.h"
#include "frontend/OnnxExporter.h"
#include "interp/Batching.h"
#include "quantize/AbsorbQdq.h"
#include "quantize/Calibration.h"
#include "quantize/EmitQdq.h"
#include "report/MemoryPicture.h"
#include "report/PartitionPicture.h"
#include "report/Report.h"
#include "support/Error.h"
#include "support/Npy.h"
#include "target/CostFeatures.h"

#include <fmt/format.h>

#include <fstream>
#include <unistd.h>

#include <algorithm>
#include <cctype>

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
  std::string rounding = "auto";
  std::string outputDir;
  std::string topology;
  std::string name = "main";
  std::string keys;
  std::string keyProvisioning = "embed";
  bool targetGiven = false;
  bool nameGiven = false;
  std::vector<std::string> inputShapes;
  std::vector<std::string> sliceChannels; // LAYER=K
  std::vector<std::string> tileRows;      // FIRST..LAST=K
};

std::vector<std::vector<Tensor>> readCalibrationSamples(const Graph &graph,
                                                        const std::string &path) {
  llvm::StringMap<Tensor> arrays;
  for (auto &[name, tensor] : readNpz(path)) arrays[name] = std::move(tensor);
  try {
    return splitSamples(graph, arrays, SampleSource::CalibrationArchive);
  } catch (const Error &error) {
    fail("{}: {}", path, error.what());
  }
}

std::string readBytes(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail("{}: cannot read; check the path and its permissions", path);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

// Calibration ranges of `graph` over the samples, with a progress bar on stderr for large sets.
ValueRanges calibrateFromSamples(const Graph &graph,
                                 const std::vector<std::vector<Tensor>> &samples,
                                 const Options &options) {
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

// --slice-channels LAYER=K: the layer becomes K channel slices on this one device (with its
// channel-local followers), as a fleet compile splits a layer no device holds: the same program
// in pieces, for checking that the split is exact and what each piece needs.
void sliceOnRequest(Graph &graph, const std::string &request) {
  const size_t equals = request.rfind('=');
  int64_t slices = 0;
  const std::string layerName = request.substr(0, equals == std::string::npos ? 0 : equals);
  const std::string count = equals == std::string::npos ? "" : request.substr(equals + 1);
  if (layerName.empty() || count.empty() ||
      !std::all_of(count.begin(), count.end(), [](char c) { return std::isdigit(c); }) ||
      count.size() > 9)
    failUsage("--slice-channels '{}': expected LAYER=K, a node name (edgesplit inspect lists "
              "them) and a number of slices",
              request);
  slices = std::stoll(count);
  Node *layer = nullptr;
  for (const auto &node : graph.nodes())
    if (node->name == layerName) layer = node.get();
  if (!layer)
    fail("{}: --slice-channels: no node '{}' (edgesplit inspect lists the nodes; a layer sliced "
         "by an earlier --slice-channels is gone)",
         graph.sourcePath, layerName);
  const std::optional<int64_t> axis = sliceableChannelAxis(*layer);
  if (!axis)
    fail("{}: --slice-channels: {} cannot be sliced by output channels (only a Conv with group "
         "1, a Gemm with transA 0 or a MatMul with constant 2-D weights can)",
         graph.sourcePath, layer->describe());
  const int64_t channels = (*layer->outputs[0]->shape)[static_cast<size_t>(*axis)];
  if (slices < 2 || slices > channels)
    fail("{}: --slice-channels: {} has {} output channels: K must be in [2, {}]", graph.sourcePath,
         layer->describe(), channels, channels);
  SlicedLayer sliced = sliceByOutputChannels(graph, *layer, slices);
  while (sinkChannelFollower(graph, sliced)) {
  }
}

// --tile-rows FIRST..LAST=K: the chain of layers from FIRST to LAST becomes K bands of its
// output rows joined by a Concat on the row axis, as a fleet cuts a chain whose activations no
// device holds: the same program in pieces, for checking that the bands are exact.
void tileOnRequest(Graph &graph, const std::string &request) {
  const size_t equals = request.rfind('=');
  const std::string names = request.substr(0, equals == std::string::npos ? 0 : equals);
  const std::string count = equals == std::string::npos ? "" : request.substr(equals + 1);
  const size_t dots = names.find("..");
  if (dots == std::string::npos || dots == 0 || dots + 2 == names.size() || count.empty() ||
      !std::all_of(count.begin(), count.end(), [](char c) { return std::isdigit(c); }) ||
      count.size() > 9)
    failUsage("--tile-rows '{}': expected FIRST..LAST=K, the chain's first and last node names "
              "(edgesplit inspect lists them) and a number of bands",
              request);
  const int64_t bands = std::stoll(count);
  auto find = [&](const std::string &name) {
    for (const auto &node : graph.nodes())
      if (node->name == name) return node.get();
    fail("{}: --tile-rows: no node '{}' (edgesplit inspect lists the nodes; a chain tiled by an "
         "earlier --tile-rows is gone)",
         graph.sourcePath, name);
  };
  Node *first = find(names.substr(0, dots));
  Node *last = find(names.substr(dots + 2));
  std::string whyNot;
  const TileChain chain = findTileChain(graph, *first, *last, whyNot);
  if (chain.nodes.empty())
    fail("{}: --tile-rows: the chain {}..{} cannot be cut into bands of rows: {}",
         graph.sourcePath, first->name, last->name, whyNot);
  const int64_t rows = (*chain.output->shape)[2];
  if (bands < 2 || bands > rows)
    fail("{}: --tile-rows: the chain {}..{} has {} output rows: K must be in [2, {}]",
         graph.sourcePath, first->name, last->name, rows, rows);
  tileChain(graph, chain, bands);
}

// The opset the --emit-qdq file is written at: 13, the first with per-axis QDQ parameters, or
// newer where the graph holds an op that passes folded primitives into (LayerNormalization, from
// opset 17) and that must be valid at the file's opset.
int qdqExportOpset(const Graph &graph) {
  const bool hasLayerNorm = llvm::any_of(graph.nodes(), [](const auto &node) {
    return node->opType == "LayerNormalization" && node->domain.empty();
  });
  return hasLayerNorm ? 17 : 13;
}

void runCompile(const Options &options) {
  const Precision precision =
      options.precision == "float32" ? Precision::Float32 : Precision::Int8;
  if (!options.topology.empty() && !options.tileRows.empty())
    failUsage("--tile-rows and --topology exclude each other: a fleet compile cuts the chains no "
              "device holds into bands by itself (docs/partition.md, \"Spatial tiles\")");
  if (!options.topology.empty() && !options.sliceChannels.empty())
    failUsage("--slice-channels and --topology exclude each other: a fleet compile slices the "
              "layers no device holds whole by itself (docs/partition.md, \"Channel slices\")");
  std::optional<Topology> topology;
  if (!options.topology.empty()) {
    if (options.targetGiven)
      failUsage("--target and --topology exclude each other: a topology names each device's "
                "target");
    if (options.nameGiven)
      failUsage("--name and --topology exclude each other: a topology names each device");
    topology = loadTopology(options.topology);
  } else if (!options.keys.empty()) {
    failUsage("--keys needs --topology: keys protect the links of a fleet");
  }

  // The master key is read (and a weak one refused) before anything is written.
  std::optional<MasterKey> masterKey;
  if (!options.keys.empty()) masterKey = loadKeysFile(options.keys);
  const bool hookKeys = options.keyProvisioning == "hook";
  if (topology) {
    topology->keyed = masterKey.has_value() || hookKeys;
  }
  if (!options.emitQdq.empty()) refuseToReplaceFile(options.emitQdq);
  const Target target = topology ? Target{} : loadTarget(options.target);
  const ImportOptions importOptions = importOptionsFrom(options.inputShapes);
  std::unique_ptr<Graph> graph = loadModel(options.model, importOptions);
  const std::string source = graph->sourcePath;
  if (topology) {
    std::vector<std::string> inputs, outputs;
    for (const Value *input : graph->inputs) inputs.push_back(input->name);
    for (const GraphOutput &output : graph->outputs) outputs.push_back(output.name);
    checkTopologyAgainstModel(*topology, inputs, outputs);
  }
  const bool preQuantized = isPreQuantized(*graph);
  if (options.rounding != "auto" && precision != Precision::Int8)
    failUsage("--rounding needs --precision int8: it chooses how the int8 kernels rescale");
  // The compiler's own parameters get onnxruntime's single rounding, which the --emit-qdq file
  // then reproduces; a model that carries its own parameters gets the rule of the kernels it was
  // quantised for: onnxruntime's and PyTorch's round once, TFLite's twice, so that it computes
  // what TFLite Micro and CMSIS-NN compute (docs/int8.md).
  const bool roundsTwice = preQuantized && !quantizedForSingleRounding(*graph);
  const S8Rounding rounding = options.rounding == "single"   ? S8Rounding::Single
                              : options.rounding == "double" ? S8Rounding::Double
                              : roundsTwice                  ? S8Rounding::Double
                                                             : S8Rounding::Single;
  if (precision == Precision::Int8 && options.calibration.empty() && !preQuantized)
    fail("{}: is a float model; int8 needs calibration data: pass --calibration CALIB.npz "
         "(one array per model input, keyed by input name), or use --precision float32",
         source);
  // Whether the model can be generated at all, before minutes of calibration, in the words the
  // lowering would use.
  const KernelIsa isa = topology ? KernelIsa::Plain : kernelIsaOf(target.features);
  const CodegenCheck check =
      checkModelCodegen(options.model, importOptions, precision, isa,
                        /*calibrated=*/!options.calibration.empty());
  if (!check.ok()) fail("{}", inModel(source, check.errors.front()));
  // The --emit-qdq copy is loaded (and converted to the opset its ops need) before calibration
  // too, so that a conversion that fails does so at once.
  std::unique_ptr<Graph> exported;
  if (!options.emitQdq.empty() && precision == Precision::Int8) {
    ImportOptions exportOptions = importOptions;
    exportOptions.upgradeToOpset = qdqExportOpset(*graph);
    exported = loadModel(options.model, exportOptions);
  }

  std::vector<std::vector<Tensor>> samples;
  if (!options.calibration.empty()) samples = readCalibrationSamples(*graph, options.calibration);

  llvm::StringMap<double> zeros; // float32 builds with samples: zeroShares
  std::string qdqModel;
  auto writeQdqModel = [&] {
    if (!options.emitQdq.empty()) writeFileAtomically(options.emitQdq, qdqModel);
  };
  if (precision == Precision::Int8) {
    ValueRanges ranges;
    if (!options.calibration.empty()) ranges = calibrateFromSamples(*graph, samples, options);
    try {
      prepareInt8(*graph, ranges);
    } catch (const Error &error) {
      fail("{}", inModel(source, error.what()));
    }
    if (!options.emitQdq.empty()) {
      // insertQdq rewrites the graph, so the export works on a second copy that takes this
      // graph's parameters by value name. Written once the output folder is, so that a failed
      // compile leaves neither.
      absorbQdqForInt8(*exported);
      for (const auto &value : exported->values())
        if (const Value *annotated = graph->findValue(value->name))
          if (annotated->quant) value->quant = annotated->quant;
      insertQdq(*exported, rounding);
      qdqModel = onnxModelBytes(*exported);
    }
  } else {
    if (!options.emitQdq.empty()) failUsage("--emit-qdq needs --precision int8");
    // A float build on a core without an FPU computes in library routines that take a short
    // path for a zero operand: its estimates follow the zeros the samples give (docs/report.md),
    // counted on the model as written (a QDQ model's quantisation included).
    if (!samples.empty()) zeros = zeroShares(*graph, samples);
    // The quantisation of a QDQ model stays part of its float semantics (fake quantisation).
    absorbQdq(*graph);
  }

  if (topology) {
    FleetCompileRequest request;
    request.graph = graph.get();
    request.topology = &*topology;
    request.masterKey = masterKey;
    request.keyHook = hookKeys;
    request.precision = precision;
    request.rounding = rounding;
    request.modelPath = source;
    std::vector<std::string> fingerprinted = {
        readBytes(options.model), topology->canonical, options.precision,
        options.calibration.empty() ? "" : readBytes(options.calibration), options.observer,
        fmt::format("{}", options.percentile), EDGESPLIT_VERSION,
        // How the links are keyed, never the key: the fingerprint is public.
        topology->keyed ? "keyed:" + options.keyProvisioning : "unkeyed"};
    // The automatic rule follows from the model; an explicit one changes the fleet's numbers.
    if (options.rounding != "auto") fingerprinted.push_back("rounding:" + options.rounding);
    request.fingerprint = fleetFingerprint(fingerprinted);
    request.calibrationSamples = options.calibration.empty() ? nullptr : &samples;
    request.zeroShares = zeros.empty() ? nullptr : &zeros;
    request.outputDir = options.outputDir;
    compileFleet(request);
    writeQdqModel();
    if (!topology->keyed)
      fmt::print(stderr, "edgesplit: warning: {}: the fleet's links are not authenticated (anyone "
                         "in radio range can inject frames or read features); pass --keys "
                         "KEYS.json (docs/security.md)\n",
                 options.topology);
    return;
  }
  for (const std::string &request : options.tileRows) tileOnRequest(*graph, request);
  for (const std::string &request : options.sliceChannels) sliceOnRequest(*graph, request);
  CompiledDevice device;
  try {
    device = compileDevice(*graph, precision, isa, rounding);
  } catch (const Error &error) {
    fail("{}: {}", source, error.what());
  }
  if (!zeros.empty()) setInputZeroShares(device.program, zeros);
  const std::string &deviceName = options.name;
  EmitOptions emit;
  emit.device = deviceName;
  emit.target = target.name;
  emit.version = EDGESPLIT_VERSION;
  const SourceFiles files = emitDevice(device.program, device.plan, emit);
  const std::string modelFile = std::filesystem::path(options.model).filename();

  // One device: the partition picture is the graph in one colour, still worth a look for its
  // shape and which outputs it computes.
  PartitionPictureInput picture;
  picture.title = fmt::format("{} ({}) on one device", modelFile, precisionName(precision));
  picture.graph = graph.get();
  picture.nodes = device.plan.order;
  for (const Node *node : picture.nodes) picture.deviceOf[node] = 0;
  for (const Value *input : graph->inputs) picture.inputDevice[input] = 0;
  picture.devices = {{deviceName, target.name, "", {}}};
  for (const GraphOutput &output : graph->outputs)
    picture.heads.push_back({output.name, output.value, {}});
  picture.fused = &device.fused;
  bool dotOnly = false;

  writeDirectoryAtomically(options.outputDir, [&](const std::filesystem::path &dir) {
    for (const auto &[path, text] : files) writeTextFile(dir / deviceName / path, text);
    DeviceReportInput input;
    input.device = deviceName;
    input.target = &target;
    input.program = &device.program;
    input.plan = &device.plan;
    input.flash = measureFlash(dir / deviceName, target, deviceName, precision);
    ReportJson deviceJson = deviceReport(input);
    checkDeviceFits(deviceJson, source);
    const ReportJson report = compileReport(modelFile, precision, {std::move(deviceJson)});
    writeTextFile(dir / "report.json", report.dump(2) + "\n");
    writeTextFile(dir / "report.md", renderReport(report, TextFormat::Markdown));
    writeTextFile(dir / deviceName / "memory.svg",
                  memorySvg(*graph, device.plan, precision, deviceName));
    dotOnly = writePartitionPicture(dir, partitionDot(picture)) == PictureFile::DotOnly;
  });
  writeQdqModel();
  if (dotOnly) fmt::print(stderr, "edgesplit: note: {}\n", missingDotNote(options.outputDir));
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
  command->add_option("--rounding", options->rounding,
                      "int8 rescaling: auto (single rounding for calibrated models and those "
                      "onnxruntime or PyTorch quantised, TFLite's double rounding for other "
                      "pre-quantised ones), single or double")
      ->check(CLI::IsMember({"auto", "single", "double"}))
      ->capture_default_str();
  command->add_option("--topology", options->topology,
                      "Topology JSON (docs/topology.md): compile for a fleet of devices");
  // Several models in one firmware need distinct symbols (the CMake module names each after
  // its library target).
  command->add_option("--name", options->name,
                      "Device name of a single-device compile: its folder and the prefix of its "
                      "C API (NAME_init, NAME_run, ...), lower-cased")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string &name) -> std::string {
            const bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
            });
            return ok ? "" : "'" + name + "': use a non-empty name of A-Z a-z 0-9 _ -";
          },
          "NAME"));
  command->add_option("--keys", options->keys,
                      "Keys file of the fleet's master key (docs/security.md): per-link keys, "
                      "encrypted and authenticated frames");
  command->add_option("--key-provisioning", options->keyProvisioning,
                      "embed: each device's link keys in its fleet.c; hook: the generated code "
                      "calls <device>_load_key() at init")
      ->check(CLI::IsMember({"embed", "hook"}))
      ->capture_default_str();
  command->add_option("--slice-channels", options->sliceChannels,
                      "LAYER=K: compute that Conv, Gemm or MatMul as K slices of its output "
                      "channels joined by a Concat, as a fleet does with a layer no device "
                      "holds (one device; repeatable)");
  command->add_option("--tile-rows", options->tileRows,
                      "FIRST..LAST=K: compute the chain of layers from node FIRST to node LAST "
                      "as K bands of its output rows joined by a Concat, as a fleet does with a "
                      "chain no device holds (one device; repeatable; before --slice-channels)");
  addOutputOption(*command, options->outputDir, "Output folder");
  addInputShapeOption(*command, options->inputShapes);
  addMaxTensorBytesOption(*command);
  command->callback([options, command] {
    options->targetGiven = command->count("--target") > 0;
    options->nameGiven = command->count("--name") > 0;
    runCompile(*options);
  });
}

} // namespace edgesplit::cli
