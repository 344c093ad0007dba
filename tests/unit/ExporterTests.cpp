#include "GraphBuilder.h"
#include "frontend/OnnxExporter.h"
#include "frontend/OnnxImporter.h"
#include "frontend/TensorProto.h"
#include "interp/Interpreter.h"

#include <catch.hpp>

#include <filesystem>

using namespace edgesplit;
using namespace edgesplit::testing;
namespace fs = std::filesystem;

namespace {

fs::path scratchFile(const std::string &name) {
  fs::path dir = fs::temp_directory_path() / "edgesplit-exporter";
  fs::create_directories(dir);
  return dir / name;
}

// Import, normalise, export, re-import: the second graph must compute exactly the same outputs
// (and passing the re-import means the exported file satisfies the ONNX checker).
void checkRoundTrip(const fs::path &model, const std::vector<Tensor> &inputs) {
  auto original = importOnnxModel(model);
  normalizeGraph(*original);
  const fs::path exported = scratchFile(model.parent_path().filename().string() + ".onnx");
  saveOnnxModel(*original, exported);
  auto reloaded = importOnnxModel(exported);
  normalizeGraph(*reloaded);
  CHECK(reloaded->nodes().size() == original->nodes().size());
  REQUIRE(reloaded->outputs.size() == original->outputs.size());
  for (size_t i = 0; i < original->outputs.size(); ++i)
    CHECK(reloaded->outputs[i].name == original->outputs[i].name);
  const auto before = Interpreter(*original).run(inputs);
  const auto after = Interpreter(*reloaded).run(inputs);
  REQUIRE(before.size() == after.size());
  for (size_t i = 0; i < before.size(); ++i) CHECK(before[i] == after[i]);
}

} // namespace

TEST_CASE("export keeps a renamed graph output's name with an Identity", "[exporter]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 3});
  b.node("Relu", {x}, {"r"});
  b.node("Identity", {b.value("r")}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  graph->opset = 13;
  removeIdentities(*graph); // graph output "y" is now fed by value "r"
  const fs::path path = scratchFile("renamed.onnx");
  saveOnnxModel(*graph, path);
  auto reloaded = importOnnxModel(path);
  REQUIRE(reloaded->outputs.size() == 1);
  CHECK(reloaded->outputs[0].name == "y");
  const Tensor input = floats({1, 3}, {-1, 2, -3});
  CHECK(Interpreter(*reloaded).run({input})[0] == floats({1, 3}, {0, 2, 0}));
}

TEST_CASE("export round-trips the bundled example", "[exporter]") {
  const fs::path model = fs::path(EDGESPLIT_SOURCE_DIR) / "examples/two_imu/model.onnx";
  Tensor window(DType::Float32, {1, 6, 64});
  for (int64_t i = 0; i < window.numElements(); ++i)
    window.data<float>()[i] = static_cast<float>((i * 37) % 19) / 10.0f - 0.9f;
  checkRoundTrip(model, {window, window});
}

TEST_CASE("export round-trips the real models", "[exporter][shared]") {
  const fs::path realModels = fs::path(EDGESPLIT_SHARED_DIR) / "real-models";
  if (!fs::exists(realModels)) {
    WARN("../shared/real-models is absent: skipping the real-model round trips");
    return;
  }
  for (const char *name : {"mnist-8", "kws_micro_m_fp32", "kws_micro_m_qdq",
                           "st_mobilenet_v2_0.5_128_float"}) {
    INFO(name);
    const fs::path dir = realModels / name;
    checkRoundTrip(dir / "model.onnx", {loadTensorProtoFile(dir / "test_data_set_0/input_0.pb")});
  }
}
