#include "GraphBuilder.h"
#include "frontend/OnnxExporter.h"
#include "frontend/OnnxImporter.h"
#include "frontend/TensorProto.h"
#include "interp/Interpreter.h"
#include "quantize/AbsorbQdq.h"
#include "quantize/EmitQdq.h"

#include <catch.hpp>

#include <filesystem>

using namespace edgesplit;
using namespace edgesplit::testing;
namespace fs = std::filesystem;

namespace {
size_t countOps(const Graph &graph, std::string_view opType) {
  return llvm::count_if(graph.nodes(), [&](const auto &n) { return n->opType == opType; });
}
} // namespace

TEST_CASE("insert-qdq writes annotations back as Q/DQ nodes", "[quantize]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 2});
  Value *w = b.constant("w", floats({2, 2}, {0.5f, -1.0f, 3.0f, 4.0f}));
  b.node("MatMul", {x, w}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  graph->opset = 13;
  x->quant = QuantParams{{0.5f}, {2}, -1, DType::Int8};
  graph->findValue("w")->quant = QuantParams{{0.25f, 0.5f}, {0, 0}, 1, DType::Int8};

  insertQdq(*graph, S8Rounding::Single);
  verifyGraph(*graph);
  CHECK(countOps(*graph, "QuantizeLinear") == 1);
  CHECK(countOps(*graph, "DequantizeLinear") == 2);
  // x is now fake-quantised: 1.3 -> round(2.6) + 2 = 5 -> 0.5 * (5 - 2) = 1.5.
  const Tensor input = floats({1, 2}, {1.3f, -0.2f});
  const Tensor out = Interpreter(*graph).run({input})[0];
  // w is exactly representable, so only x's rounding shows: [1.5, 0] x w.
  CHECK(out == floats({1, 2}, {0.75f, -1.5f}));
  const Value *weights = nullptr;
  for (const auto &node : graph->nodes())
    if (node->opType == "DequantizeLinear" && node->inputs[0]->isConstant())
      weights = node->inputs[0];
  REQUIRE(weights);
  CHECK(weights->dtype == DType::Int8);
  CHECK(weights->constant->values<int8_t>() == llvm::ArrayRef<int8_t>({2, -2, 12, 8}));
}

TEST_CASE("absorb then insert QDQ reproduces the pre-quantised KWS model", "[quantize][shared]") {
  const fs::path dir = fs::path(EDGESPLIT_SHARED_DIR) / "real-models/kws_micro_m_qdq";
  if (!fs::exists(dir)) {
    WARN("../shared/real-models is absent: skipping the KWS QDQ round trip");
    return;
  }
  const Tensor input = loadTensorProtoFile(dir / "test_data_set_0/input_0.pb");
  auto original = importOnnxModel(dir / "model.onnx");
  normalizeGraph(*original);
  const Tensor expected = Interpreter(*original).run({input})[0];

  auto graph = importOnnxModel(dir / "model.onnx");
  normalizeGraph(*graph);
  absorbQdq(*graph);
  insertQdq(*graph, S8Rounding::Single);
  verifyGraph(*graph);
  const fs::path emitted = fs::temp_directory_path() / "edgesplit-emitted-kws-qdq.onnx";
  saveOnnxModel(*graph, emitted);
  auto reloaded = importOnnxModel(emitted);
  normalizeGraph(*reloaded);
  CHECK(countOps(*reloaded, "QuantizeLinear") == countOps(*original, "QuantizeLinear"));
  CHECK(Interpreter(*reloaded).run({input})[0] == expected);
}
