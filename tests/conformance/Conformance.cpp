// Runs the reference interpreter over ONNX's own node test cases and
// compares with the stored outputs. Prints one failing case per line, then
// "conformance: N passed, M failed". Exit 0 when all pass (or --report-only), 1 otherwise,
// 77 (ctest "skipped") when the shared data folder is absent. With --codegen the cases go through
// the float32 device compiler instead (lowering, memory plan, the in-process executor of the
// runtime-c kernels, which generated C equals bit for bit): a case that code generation cannot
// express (an op without lowering, non-float tensors, dynamic shapes) is counted, not failed;
// non-float inputs with one value in every data set are taken as the constants they stand for.
#include "codegen/DeviceCompiler.h"
#include "codegen/Executor.h"
#include "codegen/Lowering.h"
#include "frontend/OnnxImporter.h"
#include "frontend/TensorProto.h"
#include "interp/Interpreter.h"
#include "passes/Passes.h"
#include "support/Error.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace edgesplit;

namespace {

struct Tolerance {
  double rtol = 1e-3;
  double atol = 1e-5;
};

std::vector<fs::path> sortedMatches(const fs::path &dir, const std::string &prefix) {
  std::vector<fs::path> result;
  for (const auto &entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().rfind(prefix, 0) == 0) result.push_back(entry.path());
  // input_10.pb sorts after input_9.pb
  std::sort(result.begin(), result.end(), [&](const fs::path &a, const fs::path &b) {
    auto number = [&](const fs::path &p) {
      const std::string name = p.stem().string().substr(prefix.size());
      return name.empty() ? 0L : std::stol(name);
    };
    return number(a) < number(b);
  });
  return result;
}

// Empty string when equal within tolerance, else what differs.
std::string compare(const Tensor &actual, const Tensor &expected, const Tolerance &tol) {
  if (actual.dtype() != expected.dtype())
    return fmt::format("dtype {} vs expected {}", dtypeName(actual.dtype()), dtypeName(expected.dtype()));
  if (actual.shape() != expected.shape())
    return fmt::format("shape {} vs expected {}", formatShape(actual.shape()),
                       formatShape(expected.shape()));
  const bool exact = !isFloatingPoint(expected.dtype());
  for (int64_t i = 0; i < expected.numElements(); ++i) {
    const double a = actual.elementAsDouble(i), e = expected.elementAsDouble(i);
    if (std::isnan(e) && std::isnan(a)) continue;
    if (exact ? a == e : (a == e || std::fabs(a - e) <= tol.atol + tol.rtol * std::fabs(e))) continue;
    return fmt::format("element {}: {} vs expected {}", i, a, e);
  }
  return {};
}

// Thrown when code generation cannot express a case.
struct NotExpressible {
  std::string reason;
};

std::string runCase(const fs::path &caseDir, const Tolerance &tol, bool codegen) {
  std::vector<fs::path> dataSets = sortedMatches(caseDir, "test_data_set_");
  if (dataSets.empty()) return "no test_data_set_*";
  ImportOptions options;
  std::vector<std::vector<Tensor>> inputs;
  for (const fs::path &dataSet : dataSets) {
    inputs.emplace_back();
    for (const fs::path &file : sortedMatches(dataSet, "input_"))
      inputs.back().push_back(loadTensorProtoFile(file));
  }
  // Shape the model for the data it is tested with (symbolic dimensions included).
  {
    auto probe = importOnnxModel(caseDir / "model.onnx");
    for (size_t i = 0; i < probe->inputs.size() && i < inputs[0].size(); ++i)
      if (!probe->inputs[i]->shape ||
          llvm::ArrayRef<int64_t>(*probe->inputs[i]->shape) != inputs[0][i].shape())
        options.inputShapes[probe->inputs[i]->name] =
            Shape(inputs[0][i].shape().begin(), inputs[0][i].shape().end());
  }
  auto graph = importOnnxModel(caseDir / "model.onnx", options);
  if (codegen) {
    // A non-float input that holds the same value in every data set is an op's parameter
    // (Slice's starts, Gather's indices), which an exported model carries as a constant: so does
    // the compiled case. So are Resize's roi and scales and Upsample's scales, though float.
    auto resamplingOperand = [&](const Value *input) {
      const auto users = graph->users(input);
      return !users.empty() && std::all_of(users.begin(), users.end(), [&](const Node *user) {
        return (user->opType == "Resize" || user->opType == "Upsample") && user->input(0) != input;
      });
    };
    for (size_t i = graph->inputs.size(); i-- > 0;) {
      Value *input = graph->inputs[i];
      const bool parameter =
          (input->dtype != DType::Float32 || resamplingOperand(input)) && i < inputs[0].size() &&
          std::all_of(inputs.begin(), inputs.end(),
                      [&](const std::vector<Tensor> &set) { return set[i] == inputs[0][i]; });
      if (!parameter) continue;
      input->constant = std::make_shared<const Tensor>(inputs[0][i]);
      graph->inputs.erase(graph->inputs.begin() + static_cast<std::ptrdiff_t>(i));
      for (std::vector<Tensor> &set : inputs)
        set.erase(set.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  normalizeGraph(*graph);
  Interpreter interpreter(*graph);
  std::optional<CompiledDevice> device;
  if (codegen) {
    for (const Value *input : graph->inputs)
      if (input->dtype != DType::Float32) throw NotExpressible{"non-float input"};
    // An ArgMax index is generated, written as a float (codegen/Lowering.h); others are not.
    for (const GraphOutput &output : graph->outputs)
      if (output.value->dtype != DType::Float32 && !isIndexOutput(*graph, *output.value))
        throw NotExpressible{"non-float output"};
    try {
      device = compileDevice(*graph, Precision::Float32, KernelIsa::Plain, S8Rounding::Double);
    } catch (const Error &error) {
      throw NotExpressible{error.what()};
    }
  }
  for (size_t d = 0; d < dataSets.size(); ++d) {
    std::vector<fs::path> expectedFiles = sortedMatches(dataSets[d], "output_");
    std::vector<Tensor> actual;
    if (device) {
      Executor executor(device->program);
      actual = executor.dequantizeOutputs(executor.runRaw(executor.quantizeInputs(inputs[d])));
      for (size_t o = 0; o < actual.size(); ++o)
        if (isIndexOutput(*graph, *graph->outputs[o].value))
          actual[o] = actual[o].castTo(graph->outputs[o].value->dtype);
    } else {
      actual = interpreter.run(inputs[d]);
    }
    if (actual.size() != expectedFiles.size())
      return fmt::format("{} outputs, expected {}", actual.size(), expectedFiles.size());
    for (size_t o = 0; o < actual.size(); ++o) {
      std::string difference = compare(actual[o], loadTensorProtoFile(expectedFiles[o]), tol);
      if (!difference.empty())
        return fmt::format("{} output {} ('{}'): {}", dataSets[d].filename().string(), o,
                           graph->outputs[o].name, difference);
    }
  }
  return {};
}

std::vector<std::string> listCases(const fs::path &shared, const std::string &list) {
  std::vector<std::string> cases;
  if (list == "tier1") {
    std::ifstream file(shared / "onnx-node-tests" / "TIER1.txt");
    for (std::string line; std::getline(file, line);)
      if (!line.empty() && line[0] != '#') cases.push_back("onnx-node-tests/" + line);
  } else {
    for (const auto &entry : fs::recursive_directory_iterator(shared / "onnx-node-tests"))
      if (entry.path().filename() == "model.onnx")
        cases.push_back(fs::relative(entry.path().parent_path(), shared).string());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

} // namespace

int main(int argc, char **argv) {
  fs::path shared;
  std::string list = "tier1", filter;
  bool reportOnly = false, verbose = false, codegen = false;
  Tolerance tol;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "{} needs a value\n", arg);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--shared") shared = next();
    else if (arg == "--list") list = next();
    else if (arg == "--filter") filter = next();
    else if (arg == "--rtol") tol.rtol = std::stod(next());
    else if (arg == "--atol") tol.atol = std::stod(next());
    else if (arg == "--report-only") reportOnly = true;
    else if (arg == "-v") verbose = true;
    else if (arg == "--codegen") codegen = true;
    else {
      fmt::print(stderr, "usage: conformance --shared DIR [--list tier1|all] "
                         "[--filter TEXT] [--rtol X] [--atol Y] [--codegen] [--report-only] [-v]\n");
      return 2;
    }
  }
  if (shared.empty() || !fs::exists(shared / "onnx-node-tests")) {
    fmt::print("conformance: shared data folder '{}' is absent; skipping\n", shared.string());
    return 77;
  }
  int passed = 0, failed = 0, notExpressible = 0;
  for (const std::string &name : listCases(shared, list)) {
    if (!filter.empty() && name.find(filter) == std::string::npos) continue;
    std::string problem;
    try {
      problem = runCase(shared / name, tol, codegen);
    } catch (const NotExpressible &reason) {
      ++notExpressible;
      if (verbose) fmt::print("SKIP {}: {}\n", name, reason.reason);
      continue;
    } catch (const std::exception &error) {
      problem = error.what();
    }
    if (problem.empty()) {
      ++passed;
      if (verbose) fmt::print("PASS {}\n", name);
    } else {
      ++failed;
      fmt::print("FAIL {}: {}\n", name, problem);
    }
  }
  if (codegen)
    fmt::print("conformance (float32 code generation): {} passed, {} failed, {} not expressible\n",
               passed, failed, notExpressible);
  else
    fmt::print("conformance: {} passed, {} failed\n", passed, failed);
  return failed == 0 || reportOnly ? 0 : 1;
}
