#include "frontend/OnnxImporter.h"
#include "support/Error.h"

#include <catch.hpp>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>

using namespace edgesplit;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// A fresh folder per test case under the system temp dir.
fs::path scratchDir(const std::string &name) {
  fs::path dir = fs::temp_directory_path() / ("edgesplit-frontend-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// y = Relu(x) + w, x: [batch, 3], w: [3] initialiser.
onnx::ModelProto reluAddModel(int opset = 13) {
  onnx::ModelProto model;
  model.set_ir_version(7);
  auto *import = model.add_opset_import();
  import->set_domain("");
  import->set_version(opset);
  auto *graph = model.mutable_graph();
  graph->set_name("g");
  auto *input = graph->add_input();
  input->set_name("x");
  auto *type = input->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  type->mutable_shape()->add_dim()->set_dim_param("batch");
  type->mutable_shape()->add_dim()->set_dim_value(3);
  auto *w = graph->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(3);
  for (float v : {1.0f, 2.0f, 3.0f}) w->add_float_data(v);
  auto *relu = graph->add_node();
  relu->set_op_type("Relu");
  relu->add_input("x");
  relu->add_output("r");
  auto *add = graph->add_node();
  add->set_op_type("Add");
  add->add_input("r");
  add->add_input("w");
  add->add_output("y");
  auto *output = graph->add_output();
  output->set_name("y");
  output->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  *output->mutable_type()->mutable_tensor_type()->mutable_shape() = type->shape();
  return model;
}

fs::path save(const onnx::ModelProto &model, const fs::path &path) {
  std::ofstream stream(path, std::ios::binary);
  model.SerializeToOstream(&stream);
  return path;
}

} // namespace

TEST_CASE("importer turns a symbolic batch dimension into 1", "[frontend]") {
  auto path = save(reluAddModel(), scratchDir("batch") / "m.onnx");
  auto graph = importOnnxModel(path);
  REQUIRE(graph->inputs.size() == 1); // the initialiser is not an input
  CHECK(*graph->inputs[0]->shape == Shape{1, 3});
  CHECK(graph->findValue("w")->isConstant());
  CHECK(graph->nodes().size() == 2);
  CHECK(graph->nodes()[0]->op != nullptr);
}

TEST_CASE("importer applies --input-shape overrides", "[frontend]") {
  auto path = save(reluAddModel(), scratchDir("override") / "m.onnx");
  ImportOptions options;
  options.inputShapes["x"] = Shape{4, 3};
  auto graph = importOnnxModel(path, options);
  CHECK(*graph->inputs[0]->shape == Shape{4, 3});

  ImportOptions wrongName;
  wrongName.inputShapes["nope"] = Shape{1};
  REQUIRE_THROWS_WITH(importOnnxModel(path, wrongName), Contains("'nope', which is not a model input"));
}

TEST_CASE("parseShapeText accepts 1x3x32x32 and rejects the rest", "[frontend]") {
  CHECK(parseShapeText("1x3x32x32") == Shape{1, 3, 32, 32});
  CHECK_THROWS_AS(parseShapeText("1x-3"), UsageError);
  CHECK_THROWS_AS(parseShapeText("abc"), UsageError);
  CHECK_THROWS_AS(parseShapeText(""), UsageError);
}

TEST_CASE("importer reports a missing file", "[frontend]") {
  REQUIRE_THROWS_WITH(importOnnxModel("/nonexistent/model.onnx"),
                      Contains("/nonexistent/model.onnx") && Contains("no such file"));
}

TEST_CASE("importer reports a corrupt protobuf", "[frontend]") {
  fs::path path = scratchDir("corrupt") / "m.onnx";
  std::ofstream(path) << "this is not a protobuf \x01\x02\xff";
  REQUIRE_THROWS_WITH(importOnnxModel(path), Contains("m.onnx") && Contains("not a valid ONNX model"));
}

TEST_CASE("importer reports the checker's complaint", "[frontend]") {
  onnx::ModelProto model = reluAddModel();
  model.mutable_graph()->mutable_node(0)->set_input(0, "undefined_tensor");
  auto path = save(model, scratchDir("checker") / "m.onnx");
  REQUIRE_THROWS_WITH(importOnnxModel(path),
                      Contains("m.onnx") && Contains("the ONNX checker rejected the model"));
}

TEST_CASE("importer rejects opsets newer than 17", "[frontend]") {
  auto path = save(reluAddModel(18), scratchDir("opset") / "m.onnx");
  REQUIRE_THROWS_WITH(importOnnxModel(path), Contains("opset 18 is outside the supported range"));
}

TEST_CASE("importer keeps unsupported ops for inspect to list", "[frontend]") {
  onnx::ModelProto model = reluAddModel();
  model.mutable_graph()->mutable_node(0)->set_op_type("Hardmax"); // valid ONNX, not in our set
  auto path = save(model, scratchDir("unsupported") / "m.onnx");
  auto graph = importOnnxModel(path);
  CHECK(graph->nodes()[0]->opType == "Hardmax");
  CHECK(graph->nodes()[0]->op == nullptr);
}

TEST_CASE("importer loads external initializer data", "[frontend]") {
  fs::path dir = scratchDir("external");
  onnx::ModelProto model = reluAddModel();
  auto *w = model.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto addEntry = [&](const std::string &key, const std::string &value) {
    auto *entry = w->add_external_data();
    entry->set_key(key);
    entry->set_value(value);
  };
  addEntry("location", "weights.bin");
  addEntry("offset", "4");
  addEntry("length", "12");
  const float data[4] = {99.0f, 4.0f, 5.0f, 6.0f};
  std::ofstream(dir / "weights.bin", std::ios::binary)
      .write(reinterpret_cast<const char *>(data), sizeof data);
  auto path = save(model, dir / "m.onnx");
  auto graph = importOnnxModel(path);
  CHECK(graph->findValue("w")->constant->values<float>() == llvm::ArrayRef<float>({4, 5, 6}));

  fs::remove(dir / "weights.bin");
  REQUIRE_THROWS_WITH(importOnnxModel(path), Contains("weights.bin"));
}

TEST_CASE("importer refuses an axis no tensor has before ONNX inference", "[frontend]") {
  // ONNX 1.12's LayerNormalization inference narrows this axis to a negative int and crashes.
  for (const int64_t axis : {int64_t(1) << 31, (int64_t(1) << 32) + 1, -(int64_t(1) << 31) - 1,
                             int64_t(9), int64_t(-9)}) {
    CAPTURE(axis);
    onnx::ModelProto model = reluAddModel(17);
    auto *node = model.mutable_graph()->mutable_node(0);
    node->set_op_type("LayerNormalization");
    node->add_input("w");
    auto *attribute = node->add_attribute();
    attribute->set_name("axis");
    attribute->set_type(onnx::AttributeProto::INT);
    attribute->set_i(axis);
    auto path = save(model, scratchDir("axis") / "m.onnx");
    REQUIRE_THROWS_WITH(importOnnxModel(path),
                        Contains("m.onnx: node 'LayerNormalization_0' (LayerNormalization): "
                                 "attribute 'axis' holds " +
                                 std::to_string(axis) + "; an axis lies in [-8, 8]"));
  }
}
