// The generated C of whole models, built with the host compiler, against the in-process executor
// that runs the same Program with each activation in its own buffer: equal bytes prove the
// emitter and the arena plan (no buffer overwritten while still live) on real networks.
#include "codegen/CEmitter.h"
#include "codegen/DeviceCompiler.h"
#include "codegen/Executor.h"
#include "frontend/OnnxImporter.h"
#include "frontend/TensorProto.h"
#include "passes/Passes.h"
#include "support/Shell.h"
#include "quantize/Calibration.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

namespace edgesplit {
namespace {

namespace fs = std::filesystem;

// Builds `files` plus the host driver and runs one sample through it; returns the raw outputs.
std::vector<std::vector<uint8_t>> runGenerated(const SourceFiles &files, const fs::path &dir,
                                               const std::vector<Tensor> &inputs,
                                               const Program &program) {
  fs::remove_all(dir);
  for (const auto &[path, text] : files) {
    fs::create_directories((dir / "main" / path).parent_path());
    std::ofstream(dir / "main" / path, std::ios::binary) << text;
  }
  size_t bufferFloats = 0;
  for (const auto *ports : {&program.inputs, &program.outputs})
    for (const ProgramPort &port : *ports)
      bufferFloats = std::max(bufferFloats, static_cast<size_t>(numElements(port.shape)));
  std::ofstream(dir / "driver.c") << emitRunDriver("main", bufferFloats);
  std::string command = "cc -std=c99 -O2 -Wall -Wextra -Werror -pedantic -I" +
                        (dir / "main").string() + " -I" + (dir / "main/runtime/include").string();
  for (const std::string &source : cSourcesIn(dir / "main")) command += " " + source;
  command += " " + (dir / "driver.c").string() + " -lm -o " + (dir / "run").string();
  REQUIRE(std::system(command.c_str()) == 0);
  std::string run = (dir / "run").string() + " raw 1";
  for (size_t i = 0; i < inputs.size(); ++i) {
    const fs::path file = dir / ("in" + std::to_string(i));
    const Tensor values = inputs[i].castTo(DType::Float32);
    std::ofstream(file, std::ios::binary)
        .write(reinterpret_cast<const char *>(values.rawData()),
               static_cast<std::streamsize>(values.byteSize()));
    run += " " + file.string();
  }
  for (size_t i = 0; i < program.outputs.size(); ++i)
    run += " " + (dir / ("out" + std::to_string(i))).string();
  REQUIRE(std::system(run.c_str()) == 0);
  std::vector<std::vector<uint8_t>> outputs;
  for (size_t i = 0; i < program.outputs.size(); ++i) {
    std::ifstream file(dir / ("out" + std::to_string(i)), std::ios::binary);
    outputs.emplace_back(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  fs::remove_all(dir);
  return outputs;
}

Tensor perturbed(const Tensor &input, uint32_t seed) {
  std::mt19937 rng(seed);
  const std::vector<double> values = input.toDoubleVector();
  double mean = 0, square = 0;
  for (double x : values) mean += x, square += x * x;
  mean /= static_cast<double>(values.size());
  const double stddev = std::sqrt(std::max(0.0, square / values.size() - mean * mean));
  std::normal_distribution<float> noise(0.0f, static_cast<float>(0.05 * stddev));
  Tensor result = input.castTo(DType::Float32);
  for (float &x : result.mutableValues<float>()) x += noise(rng);
  return result;
}

void checkModel(const std::string &name, Precision precision) {
  const fs::path dir = fs::path(EDGESPLIT_SHARED_DIR) / "real-models" / name;
  if (!fs::exists(dir / "model.onnx")) {
    WARN("../shared/real-models is absent: skipping " << name);
    return;
  }
  const Tensor input = loadTensorProtoFile(dir / "test_data_set_0" / "input_0.pb");
  auto graph = importOnnxModel(dir / "model.onnx");
  normalizeGraph(*graph);
  if (precision == Precision::Int8) {
    ValueRanges ranges;
    if (name.find("qdq") == std::string::npos) {
      std::vector<std::vector<Tensor>> samples;
      for (uint32_t seed = 0; seed < 4; ++seed) samples.push_back({perturbed(input, seed)});
      ranges = calibrate(*graph, samples, ObserverOptions{});
    }
    prepareInt8(*graph, ranges);
  }
  // The rule `compile` chooses: single rounding where calibration chose the parameters. The
  // executor reads it at run time, the generated C has it fixed in runtime/src/s8_rounding.h.
  const S8Rounding rounding = precision == Precision::Int8 && name.find("qdq") == std::string::npos
                                  ? S8Rounding::Single
                                  : S8Rounding::Double;
  CompiledDevice device = compileDevice(*graph, precision, KernelIsa::Plain, rounding);
  INFO(name << " " << precisionName(precision));
  CHECK(device.plan.arenaBytes <= 1.05 * static_cast<double>(device.plan.lowerBoundBytes));

  Executor executor(device.program);
  const auto expected = executor.runRaw(executor.quantizeInputs({input}));
  const SourceFiles files = emitDevice(device.program, device.plan, {"main", "host", "test"});
  const auto actual = runGenerated(files, fs::temp_directory_path() /
                                       fmt::format("edgesplit-gen-{}-{}", name, ::getpid()),
                                   {input}, device.program);
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) CHECK(actual[i] == expected[i]);
}

TEST_CASE("generated int8 C equals the int8 reference bit for bit on the real models",
          "[codegen][models]") {
  for (const char *name :
       {"mnist-8", "kws_micro_m_fp32", "kws_micro_m_qdq", "st_mobilenet_v2_0.5_128_float"})
    checkModel(name, Precision::Int8);
}

TEST_CASE("generated float32 C equals the float32 executor on the real models",
          "[codegen][models]") {
  for (const char *name : {"mnist-8", "kws_micro_m_fp32", "st_mobilenet_v2_0.5_128_float"})
    checkModel(name, Precision::Float32);
}

} // namespace
} // namespace edgesplit
