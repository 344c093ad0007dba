#include "cli/Common.h"

#include "ir/Limits.h"
#include "passes/Passes.h"
#include "quantize/AbsorbQOperator.h"
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

// Set by --force. One edgesplit invocation runs one subcommand, so a process-wide flag reaches
// every writer of an output folder, the fleet compiler's included.
bool gReplaceOutput = false;

// The folder `target` names, as (parent, name), whatever trailing slash it has.
std::pair<fs::path, std::string> placeOf(const fs::path &target) {
  const fs::path absolute = fs::absolute(target).lexically_normal();
  const fs::path named = absolute.has_filename() ? absolute : absolute.parent_path();
  if (!named.has_filename() || named == named.root_path())
    failUsage("{}: cannot be an output folder; name a folder to create", target.string());
  return {named.parent_path(), named.filename().string()};
}

void refuseToReplace(const fs::path &target) {
  std::error_code error;
  const fs::file_status status = fs::status(target, error);
  if (!fs::exists(status)) return;
  if (!fs::is_directory(status))
    failUsage("{}: exists and is not a folder; choose another output path", target.string());
  if (!gReplaceOutput && !fs::is_empty(target, error))
    failUsage("{}: the output folder exists and is not empty; pass --force to replace it",
              target.string());
}

// rename(2) replaces an absent or empty folder only, so a folder that filled up while we worked
// is still refused without --force. With it, RENAME_EXCHANGE swaps the two folders in one step
// (the old contents leave under the staging name); where the filesystem lacks it, the old folder
// moves aside first.
void moveIntoPlace(const fs::path &staging, const fs::path &destination, const fs::path &target) {
  if (::rename(staging.c_str(), destination.c_str()) == 0) return;
  const int error = errno;
  if (error == ENOTDIR)
    failUsage("{}: exists and is not a folder; choose another output path", target.string());
  if (error != ENOTEMPTY && error != EEXIST)
    fail("{}: cannot move the output into place: {}; check the parent folder's permissions",
         target.string(), std::strerror(error));
  if (!gReplaceOutput)
    failUsage("{}: the output folder exists and is not empty; pass --force to replace it",
              target.string());
  std::error_code ignored;
  if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, destination.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(staging, ignored);
    return;
  }
  const fs::path aside = staging.parent_path() / (staging.filename().string() + "-old");
  if (::rename(destination.c_str(), aside.c_str()) != 0)
    fail("{}: cannot replace the output folder: {}; check the parent folder's permissions",
         target.string(), std::strerror(errno));
  if (::rename(staging.c_str(), destination.c_str()) != 0) {
    const int moveError = errno;
    ::rename(aside.c_str(), destination.c_str());
    fail("{}: cannot replace the output folder: {}; check the parent folder's permissions",
         target.string(), std::strerror(moveError));
  }
  fs::remove_all(aside, ignored);
}

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
  command.add_flag("--force", gReplaceOutput,
                   "Replace the output folder if it exists and is not empty");
  // Before any work: a refused folder should not cost a whole compile first.
  command.parse_complete_callback([&folder] { refuseToReplace(folder); });
}

void addOutputFileOption(CLI::App &command, std::string &file, const std::string &description) {
  command.add_option("-o,--output", file, description)->required();
  command.add_flag("--force", gReplaceOutput, "Replace the output file if it exists");
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
    return fmt::format("{}: {}: dynamic quantisation is not supported; quantise statically "
                       "(QDQ/QOperator) or pass the float model with --calibration",
                       graph.sourcePath, node.describe());
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

void writeDirectoryAtomically(const std::filesystem::path &target,
                              const std::function<void(const std::filesystem::path &)> &fill) {
  const auto [parent, leaf] = placeOf(target);
  refuseToReplace(target);
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec)
    fail("{}: cannot create the parent folder: {}; check the path and its permissions",
         target.string(), ec.message());
  const fs::path staging = parent / fmt::format(".{}.tmp-{}", leaf, ::getpid());
  fs::remove_all(staging, ec);
  fs::create_directory(staging, ec);
  if (ec)
    fail("{}: cannot create a folder next to it: {}; check the parent folder's permissions",
         target.string(), ec.message());
  try {
    fill(staging);
    moveIntoPlace(staging, parent / leaf, target);
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
}

void refuseToReplaceFile(const fs::path &path) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (!fs::exists(status)) return;
  if (fs::is_directory(status))
    failUsage("{}: is a folder; name a file to write", path.string());
  if (!gReplaceOutput)
    failUsage("{}: the file exists; pass --force to replace it", path.string());
}

void writeFileAtomically(const fs::path &path, const std::string &bytes) {
  refuseToReplaceFile(path);
  const fs::path absolute = fs::absolute(path);
  const fs::path staging = absolute.parent_path() /
                           fmt::format(".{}.tmp-{}", absolute.filename().string(), ::getpid());
  {
    std::ofstream file(staging, std::ios::binary);
    file << bytes;
    if (!file.flush()) {
      std::error_code ignored;
      fs::remove(staging, ignored);
      fail("{}: cannot write; check the folder's permissions and free space", path.string());
    }
  }
  // Without --force the rename must not replace a file that appeared while we worked.
  const unsigned flags = gReplaceOutput ? 0 : RENAME_NOREPLACE;
  if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, absolute.c_str(), flags) != 0) {
    const int error = errno;
    std::error_code ignored;
    fs::remove(staging, ignored);
    if (error == EEXIST) failUsage("{}: the file exists; pass --force to replace it", path.string());
    fail("{}: cannot write: {}; check the folder's permissions and free space", path.string(),
         std::strerror(error));
  }
}

void writeTextFile(const std::filesystem::path &path, const std::string &text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream file(path, std::ios::binary);
  file << text;
  if (!file) fail("{}: cannot write; check the folder's permissions and free space", path.string());
}

} // namespace edgesplit::cli
