#include "cli/Commands.h"
#include "cli/Common.h"
#include "ops/OpDef.h"

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

nlohmann::ordered_json summarize(const Graph &graph) {
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
  for (const auto &node : json["nodes"])
    fmt::print("  {:<32} {:<20} {:<20} {:>12}\n", node["name"].get<std::string>(),
               node["op"].get<std::string>(), shapeText(node["output_shape"]),
               node["macs"].get<int64_t>());
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
  };
  auto options = std::make_shared<Options>();
  CLI::App *command = app.add_subcommand("inspect", "Describe a model: I/O, ops, parameters, MACs");
  command->add_option("model", options->model, "ONNX model file")->required();
  command->add_flag("--json", options->json, "Print JSON instead of text");
  addInputShapeOption(*command, options->inputShapes);
  addMaxTensorBytesOption(*command);
  command->callback([options] {
    auto graph = loadModel(options->model, importOptionsFrom(options->inputShapes),
                           /*allowUnsupported=*/true);
    const auto json = summarize(*graph);
    if (options->json) fmt::print("{}\n", json.dump(2));
    else printText(json);
  });
}

} // namespace edgesplit::cli
