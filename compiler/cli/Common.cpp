#include "cli/Common.h"

#include "passes/Passes.h"
#include "support/Error.h"

#include <fstream>
#include <unistd.h>

namespace edgesplit::cli {

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

std::unique_ptr<Graph> loadModel(const std::filesystem::path &path, const ImportOptions &options,
                                 bool allowUnsupported) {
  std::unique_ptr<Graph> graph = importOnnxModel(path, options);
  if (!allowUnsupported) {
    for (const auto &node : graph->nodes()) {
      if (node->opType == "DynamicQuantizeLinear" && node->domain.empty())
        fail("{}: {}: dynamic quantisation is not supported; quantise statically (QDQ/QOperator) "
             "or pass the float model with --calibration",
             graph->sourcePath, node->describe());
      if (!node->op)
        fail("{}: {} uses operator '{}'{} (opset {}), which edgesplit does not support; run "
             "`edgesplit inspect` for the full list, or re-export the model without it",
             graph->sourcePath, node->describe(), node->opType,
             node->domain.empty() ? "" : " of domain " + node->domain, node->opset);
    }
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

void writeDirectoryAtomically(const std::filesystem::path &target,
                              const std::function<void(const std::filesystem::path &)> &fill) {
  namespace fs = std::filesystem;
  const fs::path absolute = fs::absolute(target).lexically_normal();
  const fs::path parent = absolute.has_filename() ? absolute.parent_path()
                                                  : absolute.parent_path().parent_path();
  const std::string leaf = absolute.has_filename() ? absolute.filename().string()
                                                   : absolute.parent_path().filename().string();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) fail("{}: cannot create the parent folder: {}", target.string(), ec.message());
  const fs::path staging = parent / fmt::format(".{}.tmp-{}", leaf, ::getpid());
  fs::remove_all(staging, ec);
  fs::create_directory(staging, ec);
  if (ec) fail("{}: cannot create a folder next to it: {}", target.string(), ec.message());
  try {
    fill(staging);
    const fs::path finalPath = parent / leaf;
    if (fs::exists(finalPath)) {
      if (!fs::is_directory(finalPath))
        fail("{}: exists and is not a folder; choose another output path", target.string());
      fs::remove_all(finalPath);
    }
    fs::rename(staging, finalPath);
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
}

void writeTextFile(const std::filesystem::path &path, const std::string &text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream file(path, std::ios::binary);
  file << text;
  if (!file) fail("{}: cannot write", path.string());
}

} // namespace edgesplit::cli
