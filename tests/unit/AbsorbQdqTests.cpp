#include "GraphBuilder.h"
#include "codegen/DeviceCompiler.h"
#include "frontend/OnnxImporter.h"
#include "interp/Interpreter.h"
#include "quantize/AbsorbQOperator.h"
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

namespace {
// x [1, 4] -> QuantizeLinear -> DequantizeLinear -> Add(constant): a value the model leaves
// without parameters, feeding what the caller appends.
Value *unquantisedSum(GraphBuilder &b) {
  Value *x = b.input("x", DType::Float32, {1, 4});
  Value *xs = b.constant("xs", Tensor::scalar<float>(0.05f));
  Value *xz = b.constant("xz", Tensor::scalar<int8_t>(0));
  b.node("QuantizeLinear", {x, xs, xz}, {"xq"});
  b.node("DequantizeLinear", {b.value("xq"), xs, xz}, {"xd"});
  Value *offset = b.constant("offset", Tensor::fromVector<float>({4}, {0.5f, -0.5f, 1, 0}));
  return b.node("Add", {b.value("xd"), offset}, {"sum"})->outputs[0];
}

// ... -> QuantizeLinear(scale, zero) -> DequantizeLinear -> graph output y.
void quantisedOutput(GraphBuilder &b, Value *value, float scale, int8_t zero) {
  Value *ys = b.constant("ys", Tensor::scalar<float>(scale));
  Value *yz = b.constant("yz", Tensor::scalar<int8_t>(zero));
  b.node("QuantizeLinear", {value, ys, yz}, {"yq"});
  b.node("DequantizeLinear", {b.value("yq"), ys, yz}, {"y"});
  b.output(b.value("y"));
}
} // namespace

TEST_CASE("a value quantised only after a Relu and a Flatten takes the parameters given there",
          "[quantize]") {
  GraphBuilder b;
  Value *sum = unquantisedSum(b);
  b.node("Relu", {sum}, {"relu"});
  b.node("Flatten", {b.value("relu")}, {"flat"});
  quantisedOutput(b, b.value("flat"), 0.03f, -128);
  auto graph = b.finish();
  prepareInt8(*graph, ValueRanges{});
  REQUIRE(sum->quant);
  CHECK(sum->quant->scales == llvm::SmallVector<float, 1>{0.03f});
  CHECK(sum->quant->zeroPoints == llvm::SmallVector<int32_t, 1>{-128});
  CHECK(countOps(*graph, "Concat") == 0); // nothing to requantise
}

TEST_CASE("a table activation's input spans the inputs its quantised output resolves",
          "[quantize]") {
  GraphBuilder b;
  b.node("Sigmoid", {unquantisedSum(b)}, {"sigmoid"});
  quantisedOutput(b, b.value("sigmoid"), 1.0f / 256, -128);
  auto graph = b.finish();
  prepareInt8(*graph, ValueRanges{});
  const Value *sum = graph->findValue("sum");
  REQUIRE(sum->quant);
  // Output level -128 holds below logit(0.5 / 256), level 127 from logit(254.5 / 256) on.
  const double lo = std::log(0.5 / 255.5), hi = std::log(254.5 / 1.5);
  CHECK(sum->quant->scales[0] == Approx((hi - lo) / 255).epsilon(1e-3));
  CHECK(sum->quant->zeroPoints[0] == static_cast<int32_t>(std::lround(-128 - lo / ((hi - lo) / 255))));
}

TEST_CASE("a MaxPool whose output the model quantises differently gets a requantising copy",
          "[quantize]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 2, 4, 4});
  Value *xs = b.constant("xs", Tensor::scalar<float>(0.05f));
  Value *xz = b.constant("xz", Tensor::scalar<int8_t>(3));
  b.node("QuantizeLinear", {x, xs, xz}, {"xq"});
  b.node("DequantizeLinear", {b.value("xq"), xs, xz}, {"xd"});
  b.node("MaxPool", {b.value("xd")}, {"pooled"},
         attrs({{"kernel_shape", std::vector<int64_t>{2, 2}}}));
  quantisedOutput(b, b.value("pooled"), 0.04f, -7);
  auto graph = b.finish();
  prepareInt8(*graph, ValueRanges{});
  REQUIRE(countOps(*graph, "Concat") == 1);
  const Node &copy = **llvm::find_if(graph->nodes(), [](const auto &n) {
    return n->opType == "Concat";
  });
  const Value *pooledBefore = copy.inputs[0];
  REQUIRE(pooledBefore->quant);
  CHECK(pooledBefore->quant->scales == llvm::SmallVector<float, 1>{0.05f});
  REQUIRE(copy.outputs[0]->quant);
  CHECK(copy.outputs[0]->quant->scales == llvm::SmallVector<float, 1>{0.04f});
  CHECK_NOTHROW(compileDevice(*graph, Precision::Int8, KernelIsa::Plain, S8Rounding::Double));
}

TEST_CASE("absorb-qdq folds MatMul + Add(bias) of rank 3 into a Gemm on rows", "[quantize]") {
  auto build = [] {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {2, 3, 4});
    Value *xs = b.constant("xs", Tensor::scalar<float>(0.05f));
    Value *xz = b.constant("xz", Tensor::scalar<int8_t>(0));
    b.node("QuantizeLinear", {x, xs, xz}, {"xq"});
    b.node("DequantizeLinear", {b.value("xq"), xs, xz}, {"xd"});
    Value *w = b.constant("w", Tensor::fromVector<float>({4, 2}, {0.5f, -1, 0.25f, 2, -0.75f, 1,
                                                                  0.125f, -0.5f}));
    b.node("MatMul", {b.value("xd"), w}, {"product"});
    Value *bias = b.constant("bias", Tensor::fromVector<float>({1, 2}, {0.1f, -0.3f}));
    b.node("Add", {b.value("product"), bias}, {"sum"});
    quantisedOutput(b, b.value("sum"), 0.02f, 1);
    return b.finish();
  };
  auto graph = build();
  absorbQdq(*graph);
  verifyGraph(*graph);
  CHECK(countOps(*graph, "MatMul") == 0);
  CHECK(countOps(*graph, "Add") == 0);
  CHECK(countOps(*graph, "Gemm") == 1);
  CHECK(countOps(*graph, "Reshape") == 2);
  Tensor input(DType::Float32, {2, 3, 4});
  float next = -1.2f;
  for (float &v : input.mutableValues<float>()) v = (next += 0.1f);
  const Tensor expected = Interpreter(*build()).run({input})[0];
  const Tensor actual = Interpreter(*graph).run({input})[0];
  REQUIRE(actual.shape() == expected.shape());
  for (int64_t i = 0; i < actual.numElements(); ++i)
    CHECK(std::abs(actual.values<float>()[i] - expected.values<float>()[i]) <= 0.02f * 1.001f);
}

TEST_CASE("com.microsoft QLinear ops become DequantizeLinear, the float op, QuantizeLinear",
          "[quantize]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Int8, {1, 3, 2, 2});
  Value *xs = b.constant("xs", Tensor::scalar<float>(0.1f));
  Value *xz = b.constant("xz", Tensor::scalar<int8_t>(2));
  Value *ys = b.constant("ys", Tensor::scalar<float>(0.05f));
  Node *pool = b.node("QLinearGlobalAveragePool", {x, xs, xz, ys}, {"yq"},
                      attrs({{"channels_last", int64_t{1}}}));
  pool->domain = "com.microsoft";
  b.output(b.value("yq"));
  auto graph = b.finish();
  expandContribQOperators(*graph);
  verifyGraph(*graph);
  std::vector<std::string> ops;
  for (const auto &node : graph->nodes()) ops.push_back(node->opType);
  CHECK(ops == std::vector<std::string>{"DequantizeLinear", "Transpose", "GlobalAveragePool",
                                        "Transpose", "QuantizeLinear"});
  const Value *y = graph->findValue("yq");
  CHECK(y->dtype == DType::Int8); // the omitted zero point is int8 0, the input's type
  REQUIRE(y->shape);
  CHECK(*y->shape == Shape{1, 1, 1, 2});
  // channels last: [1, 3, 2, 2] is N H W C, averaged over H and W for each of the 2 channels.
  Tensor input = Tensor::fromVector<int8_t>({1, 3, 2, 2}, {2, 12, 4, 22, 6, 32, 8, 2, 10, 12, 12, 22});
  const Tensor result = Interpreter(*graph).run({input})[0];
  // Channel 0: (0 + 2 + 4 + 6 + 8 + 10) * 0.1 / 6 = 0.5 -> 10; channel 1: (10 + 20 + 30 + 0 + 10 +
  // 20) * 0.1 / 6 = 1.5 -> 30.
  CHECK(result.values<int8_t>() == llvm::ArrayRef<int8_t>({10, 30}));
}
