#include "cli/Commands.h"
#include "cli/Common.h"
#include "ops/OpDef.h"
#include "quantize/AbsorbQdq.h"
#include "target/Target.h"
#include "support/Error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <map>

namespace edgesplit::cli {

namespace {

nlohmann::ordered_json describeValue(const std::string &name, const Value &value) {
  nlohmann::ordered_json json;
  json["name"] = name;
  json["dtype"] = dtypeName(value.dtype);
  if (value.shape) json["shape"] = std::vector<int64_t>(value.shape->begin(), value.shape->end());
  else json["shape"] = nullptr;
  return json;
}

// What each consumer of the model makes of it: the reference interpreter (which loads it as
// `reference` does) and code generation in each precision (the compile's own check, run on a copy
// of the model loaded as `compile` loads it).
struct Verdicts {
  std::optional<std::string> referenceError; // the first, as `reference` reports it
  llvm::StringMap<std::string> referenceNodeErrors;
  struct Codegen {
    std::optional<std::string> error; // the first, as `compile` reports it
    CodegenCheck check;
  };
  Codegen float32, int8;
  bool int8NeedsCalibration = false;
};

Verdicts::Codegen codegenVerdict(const std::string &model, const ImportOptions &importOptions,
                                const std::optional<std::string> &loadError, Precision precision,
                                KernelIsa isa, bool calibrated) {
  Verdicts::Codegen verdict;
  // A model the compile cannot load is refused with the load's message; the nodes it can load
  // (unsupported ops kept as they are) are still checked, for the per-node picture.
  auto graph = loadModel(model, importOptions, /*allowUnsupported=*/loadError.has_value());
  verdict.check = checkCodegen(*graph, precision, isa, calibrated);
  const std::string source = graph->sourcePath;
  if (loadError) verdict.error = *loadError;
  else if (!verdict.check.ok()) verdict.error = inModel(source, verdict.check.errors.front());
  return verdict;
}

nlohmann::ordered_json verdictJson(const std::optional<std::string> &error) {
  nlohmann::ordered_json json;
  json["supported"] = !error.has_value();
  if (error) json["error"] = *error;
  return json;
}

nlohmann::ordered_json nodeVerdictJson(const Node &node, const Verdicts &verdicts,
                                       const Verdicts::Codegen *codegen) {
  nlohmann::ordered_json json;
  auto reference = verdicts.referenceNodeErrors.find(node.name);
  if (reference != verdicts.referenceNodeErrors.end()) {
    json["supported"] = false;
    json["error"] = reference->second;
    return json;
  }
  if (!codegen) {
    json["supported"] = true;
    return json;
  }
  auto error = codegen->check.nodeErrors.find(node.name);
  if (error != codegen->check.nodeErrors.end()) {
    json["supported"] = false;
    json["error"] = error->second;
    return json;
  }
  if (!codegen->check.reachedNodes) {
    json["supported"] = nullptr;
    json["note"] = "not checked: the compile stops before the nodes";
    return json;
  }
  json["supported"] = true;
  auto absorbed = codegen->check.absorbedNodes.find(node.name);
  if (absorbed != codegen->check.absorbedNodes.end()) json["note"] = absorbed->second;
  return json;
}

nlohmann::ordered_json summarize(const Graph &graph, const Verdicts &verdicts,
                                 const std::string &target) {
  nlohmann::ordered_json json;
  json["model"] = graph.sourcePath;
  json["opset"] = graph.opset;
  json["producer"] = graph.producer;
  json["inputs"] = nlohmann::ordered_json::array();
  for (const Value *input : graph.inputs) json["inputs"].push_back(describeValue(input->name, *input));
  json["outputs"] = nlohmann::ordered_json::array();
  for (const GraphOutput &output : graph.outputs)
    json["outputs"].push_back(describeValue(output.name, *output.value));

  std::map<std::string, int> histogram; // sorted by op name: deterministic
  int64_t totalMacs = 0;
  nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
  nlohmann::ordered_json unsupported = nlohmann::ordered_json::array();
  for (const auto &node : graph.nodes()) {
    ++histogram[node->opType];
    const bool staticShapes = llvm::all_of(node->inputs, [](const Value *v) { return !v || v->shape; });
    const int64_t macs = node->op && node->op->macs && staticShapes ? node->op->macs(*node) : 0;
    totalMacs += macs;
    nlohmann::ordered_json entry;
    entry["name"] = node->name;
    entry["op"] = node->opType;
    const Value *output = node->outputs.empty() ? nullptr : node->outputs[0];
    if (output && output->shape)
      entry["output_shape"] = std::vector<int64_t>(output->shape->begin(), output->shape->end());
    else entry["output_shape"] = nullptr;
    entry["macs"] = macs;
    entry["reference"] = nodeVerdictJson(*node, verdicts, nullptr);
    entry["float32"] = nodeVerdictJson(*node, verdicts, &verdicts.float32);
    entry["int8"] = nodeVerdictJson(*node, verdicts, &verdicts.int8);
    nodes.push_back(entry);
    if (!node->op) {
      nlohmann::ordered_json missing;
      missing["node"] = node->name;
      missing["op"] = node->opType;
      missing["domain"] = node->domain;
      missing["opset"] = node->opset;
      unsupported.push_back(missing);
    }
  }
  json["op_histogram"] = histogram;
  json["parameters"] = graph.parameterCount();
  json["parameter_bytes"] = graph.parameterBytes();
  json["macs"] = totalMacs;
  json["nodes"] = nodes;
  json["unsupported_ops"] = unsupported;
  nlohmann::ordered_json support;
  support["target"] = target;
  support["reference"] = verdictJson(verdicts.referenceError);
  support["float32"] = verdictJson(verdicts.float32.error);
  support["int8"] = verdictJson(verdicts.int8.error);
  support["int8"]["needs_calibration"] = verdicts.int8NeedsCalibration;
  json["support"] = support;
  return json;
}

std::string shapeText(const nlohmann::ordered_json &shape) {
  if (shape.is_null()) return "[?]";
  return formatShape(shape.get<std::vector<int64_t>>());
}

void printText(const nlohmann::ordered_json &json) {
  fmt::print("model: {} (opset {}, produced by {})\n", json["model"].get<std::string>(),
             json["opset"].get<int>(),
             json["producer"].get<std::string>().empty() ? "unknown"
                                                         : json["producer"].get<std::string>());
  for (const char *kind : {"inputs", "outputs"}) {
    fmt::print("{}:\n", kind);
    for (const auto &value : json[kind])
      fmt::print("  {:<24} {:<8} {}\n", value["name"].get<std::string>(),
                 value["dtype"].get<std::string>(), shapeText(value["shape"]));
  }
  fmt::print("ops:\n");
  for (const auto &[op, count] : json["op_histogram"].items())
    fmt::print("  {:<24} {}\n", op, count.get<int>());
  fmt::print("parameters: {} ({} bytes)\n", json["parameters"].get<int64_t>(),
             json["parameter_bytes"].get<int64_t>());
  fmt::print("MACs: {}\n", json["macs"].get<int64_t>());
  fmt::print("nodes:\n");
  fmt::print("  {:<32} {:<20} {:<20} {:>12}   {:<9} {:<7} {}\n", "name", "op", "output", "MACs",
             "reference", "float32", "int8");
  auto yesNo = [](const nlohmann::ordered_json &verdict) {
    if (verdict["supported"].is_null()) return "?";
    return verdict["supported"].get<bool>() ? "yes" : "NO";
  };
  for (const auto &node : json["nodes"])
    fmt::print("  {:<32} {:<20} {:<20} {:>12}   {:<9} {:<7} {}\n", node["name"].get<std::string>(),
               node["op"].get<std::string>(), shapeText(node["output_shape"]),
               node["macs"].get<int64_t>(), yesNo(node["reference"]), yesNo(node["float32"]),
               yesNo(node["int8"]));
  const auto &support = json["support"];
  const std::pair<const char *, const char *> consumers[] = {
      {"reference", "reference interpreter"},
      {"float32", "float32 code generation"},
      {"int8", "int8 code generation"}};
  fmt::print("support (target {}):\n", support["target"].get<std::string>());
  for (const auto &[key, title] : consumers) {
    const auto &verdict = support[key];
    std::string note;
    if (std::string_view(key) == "int8" && verdict["needs_calibration"].get<bool>())
      note = " (a float model: compile with --calibration)";
    if (verdict["supported"].get<bool>()) fmt::print("  {}: yes{}\n", title, note);
    else fmt::print("  {}: no: {}\n", title, verdict["error"].get<std::string>());
  }
  bool headed = false;
  for (const auto &node : json["nodes"])
    for (const auto &[key, title] : consumers) {
      if (node[key]["supported"] != false) continue;
      if (!headed) fmt::print("not supported, per node:\n");
      headed = true;
      fmt::print("  {} {}: {}\n", title, node["name"].get<std::string>(),
                 node[key]["error"].get<std::string>());
    }
  if (json["unsupported_ops"].empty()) {
    fmt::print("unsupported ops: none\n");
    return;
  }
  fmt::print("unsupported ops:\n");
  for (const auto &entry : json["unsupported_ops"])
    fmt::print("  node '{}': {}{} (opset {})\n", entry["node"].get<std::string>(),
               entry["op"].get<std::string>(),
               entry["domain"].get<std::string>().empty()
                   ? ""
                   : " of domain " + entry["domain"].get<std::string>(),
               entry["opset"].get<int>());
}

} // namespace

void registerInspect(CLI::App &app) {
  struct Options {
    std::string model;
    bool json = false;
    std::vector<std::string> inputShapes;
    std::string target = "cortex-m4";
  };
  auto options = std::make_shared<Options>();
  CLI::App *command = app.add_subcommand("inspect", "Describe a model: I/O, ops, parameters, MACs");
  command->add_option("model", options->model, "ONNX model file")->required();
  command->add_flag("--json", options->json, "Print JSON instead of text");
  command->add_option("--target", options->target,
                      "Target whose kernels code generation is checked for (as compile)")
      ->capture_default_str();
  addInputShapeOption(*command, options->inputShapes);
  addMaxTensorBytesOption(*command);
  command->callback([options] {
    const ImportOptions importOptions = importOptionsFrom(options->inputShapes);
    auto graph = loadModel(options->model, importOptions, /*allowUnsupported=*/true);
    const Target target = loadTarget(options->target);
    const KernelIsa isa = kernelIsaOf(target.features);

    Verdicts verdicts;
    for (const auto &node : graph->nodes())
      if (auto reason = unsupportedNodeReason(*graph, *node))
        verdicts.referenceNodeErrors.try_emplace(node->name, *reason);
    try {
      loadModel(options->model, importOptions);
    } catch (const UsageError &) {
      throw;
    } catch (const Error &error) {
      verdicts.referenceError = error.what();
    }
    // Like compile: a float model's int8 compile calibrates, a pre-quantised one's need not.
    verdicts.int8NeedsCalibration = !isPreQuantized(*graph);
    verdicts.float32 = codegenVerdict(options->model, importOptions, verdicts.referenceError,
                                      Precision::Float32, isa, /*calibrated=*/false);
    verdicts.int8 = codegenVerdict(options->model, importOptions, verdicts.referenceError,
                                   Precision::Int8, isa, verdicts.int8NeedsCalibration);
    const auto json = summarize(*graph, verdicts, target.name);
    if (options->json) fmt::print("{}\n", json.dump(2));
    else printText(json);
  });
}

} // namespace edgesplit::cli
