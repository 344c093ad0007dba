#include "cli/Commands.h"
#include "cli/Common.h"
#include "interp/Batching.h"
#include "interp/Interpreter.h"
#include "support/Error.h"
#include "support/Npy.h"

#include <fmt/format.h>

#include <set>

namespace edgesplit::cli {

void registerReference(CLI::App &app) {
  struct Options {
    std::string model;
    std::vector<std::string> inputs;
    std::string outputDir;
    std::vector<std::string> inputShapes;
  };
  auto options = std::make_shared<Options>();
  CLI::App *command =
      app.add_subcommand("reference", "Run the float reference interpreter on .npy inputs");
  command->add_option("model", options->model, "ONNX model file")->required();
  // Required only by a model with inputs (checked once the model is loaded).
  command->add_option("--input", options->inputs, "NAME=FILE.npy for each model input");
  addOutputOption(*command, options->outputDir, "Folder for <output>.npy files");
  addInputShapeOption(*command, options->inputShapes);
  addMaxTensorBytesOption(*command);
  command->callback([options] {
    llvm::StringMap<std::string> inputFiles;
    for (const std::string &spec : options->inputs) {
      auto [name, file] = splitAssignment(spec, "--input");
      if (!inputFiles.try_emplace(name, file).second)
        failUsage("--input gives '{}' twice; give each input once (several samples go in one [N, "
                  "...] array)",
                  name);
    }
    auto graph = loadModel(options->model, importOptionsFrom(options->inputShapes));
    if (options->inputs.empty() && !graph->inputs.empty())
      failUsage("--input is required: the model has input '{}'; pass --input {}=FILE.npy for "
                "each model input",
                graph->inputs.front()->name, graph->inputs.front()->name);
    llvm::StringMap<Tensor> arrays;
    for (const auto &entry : inputFiles) arrays[entry.getKey()] = readNpy(entry.getValue());

    Interpreter interpreter(*graph);
    std::vector<Tensor> outputs;
    try {
      outputs = runWithBatchRule(
          *graph, arrays, [&](llvm::ArrayRef<Tensor> sample) { return interpreter.run(sample); });
    } catch (const Error &error) {
      // The batch rule and the kernels name the input or node; the model is the file they are in.
      fail("{}: {}", graph->sourcePath, error.what());
    }

    std::set<std::string> fileNames;
    for (const GraphOutput &output : graph->outputs)
      if (!fileNames.insert(sanitizeFileName(output.name)).second)
        fail("{}: two outputs map to the file name '{}.npy'; rename one of them",
             graph->sourcePath, sanitizeFileName(output.name));
    writeDirectoryAtomically(options->outputDir, [&](const std::filesystem::path &dir) {
      for (size_t i = 0; i < outputs.size(); ++i)
        writeNpy(dir / (sanitizeFileName(graph->outputs[i].name) + ".npy"), outputs[i]);
    });
  });
}

} // namespace edgesplit::cli
