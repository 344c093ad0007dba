// Pieces every subcommand shares, so they report errors and write outputs the same way.
#pragma once

#include "codegen/CodegenCheck.h"
#include "frontend/OnnxImporter.h"
#include "ir/Graph.h"
#include "support/OutputFolder.h"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgesplit::cli {

// --input-shape NAME=1x3x32x32 (repeatable).
void addInputShapeOption(CLI::App &command, std::vector<std::string> &specs);
ImportOptions importOptionsFrom(const std::vector<std::string> &inputShapeSpecs);
// --max-tensor-bytes SIZE: the largest tensor a model or input file may make edgesplit allocate
// (ir/Limits.h); 1GiB by default.
void addMaxTensorBytesOption(CLI::App &command);
// -o,--output DIR (required) and --force. Without --force an existing non-empty DIR is a usage
// error, reported once the command line is parsed, before any work; writeDirectoryAtomically
// applies the same rule when it writes.
void addOutputOption(CLI::App &command, std::string &folder, const std::string &description);

// -o,--output FILE (required) and --force, for a command writing one file: refuseToReplaceFile
// once the command line is parsed; write it with writeFileAtomically.
void addOutputFileOption(CLI::App &command, std::string &file, const std::string &description);

// Why loadModel refuses `node` of `graph` (an op edgesplit does not implement), if it does.
std::optional<std::string> unsupportedNodeReason(const Graph &graph, const Node &node);

// Imports and normalises a model; unsupported ops are an error unless `allowUnsupported`.
std::unique_ptr<Graph> loadModel(const std::filesystem::path &path, const ImportOptions &options,
                                 bool allowUnsupported = false);

// `message` of an error about the model `source`, prefixed with its path unless it names it.
std::string inModel(const std::string &source, const std::string &message);

// The code-generation check (codegen/CodegenCheck.h) of `model` as `compile` runs it, on a copy
// loaded for the check alone.
CodegenCheck checkModelCodegen(const std::filesystem::path &model, const ImportOptions &options,
                               Precision precision, KernelIsa isa, bool calibrated);

// "NAME=PATH" -> {NAME, PATH}; UsageError otherwise.
std::pair<std::string, std::string> splitAssignment(const std::string &text,
                                                    std::string_view option);

} // namespace edgesplit::cli
