#include "cli/Common.h"

#include "ir/Limits.h"
#include "passes/Passes.h"
#include "quantize/AbsorbQOperator.h"
#include "quantize/FoldDynamicQuantization.h"
#include "support/Error.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <unistd.h>

namespace edgesplit::cli {

namespace {

namespace fs = std::filesystem;

} // namespace

void addMaxTensorBytesOption(CLI::App &command) {
  command
      .add_option_function<int64_t>(
          "--max-tensor-bytes", [](int64_t bytes) { setMaxTensorBytes(bytes); },
          "Largest tensor a model or input file may make edgesplit allocate, e.g. 512MiB or 2GiB "
          "(default 1GiB, at most 2GiB)")
      ->transform(CLI::AsSizeValue(true))
      ->check(CLI::Range(int64_t(1), kMaxTensorBytesCeiling));
}

void addOutputOption(CLI::App &command, std::string &folder, const std::string &description) {
  command.add_option("-o,--output", folder, description)->required();
  command.add_flag_callback("--force", [] { setReplaceOutput(true); },
                            "Replace the output folder if it exists and is not empty");
  // Before any work: a refused folder should not cost a whole compile first.
  command.parse_complete_callback([&folder] { refuseToReplaceFolder(folder); });
}

void addOutputFileOption(CLI::App &command, std::string &file, const std::string &description) {
  command.add_option("-o,--output", file, description)->required();
  command.add_flag_callback("--force", [] { setReplaceOutput(true); },
                            "Replace the output file if it exists");
  command.parse_complete_callback([&file] { refuseToReplaceFile(file); });
}

void addInputShapeOption(CLI::App &command, std::vector<std::string> &specs) {
  command.add_option("--input-shape", specs,
                     "Fix a model input's shape, e.g. input=1x3x32x32 (repeatable); a symbolic "
                     "batch dimension otherwise becomes 1");
}

ImportOptions importOptionsFrom(const std::vector<std::string> &inputShapeSpecs) {
  ImportOptions options;
  for (const std::string &spec : inputShapeSpecs) {
    auto [name, shape] = splitAssignment(spec, "--input-shape");
    options.inputShapes[name] = parseShapeText(shape);
  }
  return options;
}

std::string inModel(const std::string &source, const std::string &message) {
  if (llvm::StringRef(message).startswith(source + ": ")) return message;
  return fmt::format("{}: {}", source, message);
}

CodegenCheck checkModelCodegen(const std::filesystem::path &model, const ImportOptions &options,
                               Precision precision, KernelIsa isa, bool calibrated) {
  std::unique_ptr<Graph> graph = loadModel(model, options);
  return checkCodegen(*graph, precision, isa, calibrated);
}

std::optional<std::string> unsupportedNodeReason(const Graph &graph, const Node &node) {
  if (node.opType == "DynamicQuantizeLinear" && node.domain.empty())
    return fmt::format("{}: {}: {}", graph.sourcePath, node.describe(),
                       kDynamicQuantizationRefusal);
  if (!node.op && !isContribQOperator(node))
    return fmt::format("{}: {} uses operator '{}'{} (opset {}), which edgesplit does not support; "
                       "run `edgesplit inspect` for the full list, or re-export the model "
                       "without it",
                       graph.sourcePath, node.describe(), node.opType,
                       node.domain.empty() ? "" : " of domain " + node.domain, node.opset);
  return std::nullopt;
}

std::unique_ptr<Graph> loadModel(const std::filesystem::path &path, const ImportOptions &options,
                                 bool allowUnsupported) {
  std::unique_ptr<Graph> graph;
  try {
    graph = importOnnxModel(path, options);
  } catch (const Error &error) {
    // The importer names the model in its own checks; the IR's (a duplicate tensor name) do not.
    const std::string message = error.what();
    if (llvm::StringRef(message).startswith(path.string())) throw;
    fail("{}: {}", path.string(), message);
  }
  foldDynamicQuantization(*graph);
  if (!allowUnsupported)
    for (const auto &node : graph->nodes())
      if (auto reason = unsupportedNodeReason(*graph, *node)) fail("{}", *reason);
  try {
    expandContribQOperators(*graph);
  } catch (const Error &error) {
    fail("{}: {}", graph->sourcePath, error.what());
  }
  NormalizeOptions normalize;
  normalize.verify.requireSupportedOps = !allowUnsupported;
  try {
    normalizeGraph(*graph, normalize);
  } catch (const Error &error) {
    const std::string message = error.what();
    if (llvm::StringRef(message).startswith(graph->sourcePath)) throw;
    fail("{}: {}", graph->sourcePath, message);
  }
  return graph;
}

std::pair<std::string, std::string> splitAssignment(const std::string &text,
                                                    std::string_view option) {
  const auto equals = text.find('=');
  if (equals == std::string::npos || equals == 0 || equals + 1 == text.size())
    failUsage("{} expects NAME=VALUE, got '{}'", option, text);
  return {text.substr(0, equals), text.substr(equals + 1)};
}

} // namespace edgesplit::cli
