#include "GraphBuilder.h"
#include "frontend/OnnxImporter.h"
#include "interp/Interpreter.h"
#include "quantize/AbsorbQdq.h"

#include <catch.hpp>

#include <cmath>
#include <filesystem>

using namespace edgesplit;
using namespace edgesplit::testing;

namespace {
size_t countOps(const Graph &graph, std::string_view opType) {
  return llvm::count_if(graph.nodes(), [&](const auto &n) { return n->opType == opType; });
}
} // namespace

TEST_CASE("absorb-qdq annotates activations and folds constant weights", "[quantize]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 2});
  Value *scale = b.constant("s", Tensor::scalar<float>(0.5f));
  Value *zero = b.constant("z", Tensor::scalar<uint8_t>(130));
  b.node("QuantizeLinear", {x, scale, zero}, {"xq"});
  b.node("DequantizeLinear", {b.value("xq"), scale, zero}, {"xd"});
  Value *wq = b.constant("wq", Tensor::fromVector<int8_t>({2, 2}, {2, -4, 6, 8}));
  Value *ws = b.constant("ws", Tensor::fromVector<float>({2}, {0.25f, 0.5f}));
  Value *wz = b.constant("wz", Tensor::fromVector<int8_t>({2}, {0, 0}));
  b.node("DequantizeLinear", {wq, ws, wz}, {"w"}, attrs({{"axis", int64_t{0}}}));
  b.node("MatMul", {b.value("xd"), b.value("w")}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();

  absorbQdq(*graph);
  verifyGraph(*graph);
  CHECK(countOps(*graph, "QuantizeLinear") == 0);
  CHECK(countOps(*graph, "DequantizeLinear") == 0);
  REQUIRE(graph->nodes().size() == 1);
  const Node &matmul = *graph->nodes()[0];
  CHECK(matmul.inputs[0] == x); // the pair is gone: MatMul reads the float input directly
  REQUIRE(x->quant);
  CHECK(x->quant->scales == llvm::SmallVector<float, 1>{0.5f});
  CHECK(x->quant->zeroPoints == llvm::SmallVector<int32_t, 1>{2}); // uint8 130 -> int8 2
  const Value *w = matmul.inputs[1];
  REQUIRE(w->isConstant());
  CHECK(w->constant->values<float>() == llvm::ArrayRef<float>({0.5f, -1.0f, 3.0f, 4.0f}));
  REQUIRE(w->quant);
  CHECK(w->quant->axis == 0);
  CHECK(w->quant->scales == llvm::SmallVector<float, 1>{0.25f, 0.5f});
}

TEST_CASE("absorb-qdq keeps a pair whose parameters disagree", "[quantize]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2});
  Value *s1 = b.constant("s1", Tensor::scalar<float>(0.5f));
  Value *s2 = b.constant("s2", Tensor::scalar<float>(0.25f));
  Value *z = b.constant("z", Tensor::scalar<int8_t>(0));
  b.node("QuantizeLinear", {x, s1, z}, {"xq"});
  b.node("DequantizeLinear", {b.value("xq"), s2, z}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  absorbQdq(*graph);
  CHECK(countOps(*graph, "QuantizeLinear") == 1);
  CHECK(countOps(*graph, "DequantizeLinear") == 1);
  CHECK(!x->quant);
}

TEST_CASE("absorb-qdq strips every Q/DQ pair of the pre-quantised KWS model", "[quantize][shared]") {
  const std::filesystem::path model =
      std::filesystem::path(EDGESPLIT_SHARED_DIR) / "real-models/kws_micro_m_qdq/model.onnx";
  if (!std::filesystem::exists(model)) {
    WARN("../shared/real-models is absent: skipping the KWS QDQ check");
    return;
  }
  auto graph = importOnnxModel(model);
  normalizeGraph(*graph);
  absorbQdq(*graph);
  verifyGraph(*graph);
  CHECK(countOps(*graph, "QuantizeLinear") == 0);
  CHECK(countOps(*graph, "DequantizeLinear") == 0);
  for (const auto &node : graph->nodes()) {
    if (node->opType != "Conv" && node->opType != "MatMul") continue;
    INFO(node->describe());
    CHECK(node->inputs[0]->quant);
    CHECK(node->inputs[1]->isConstant());
    CHECK(node->inputs[1]->quant);
  }
}
