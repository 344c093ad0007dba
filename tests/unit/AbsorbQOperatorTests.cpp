#include "GraphBuilder.h"
#include "codegen/DeviceCompiler.h"
#include "codegen/Executor.h"
#include "interp/Interpreter.h"
#include "quantize/AbsorbQdq.h"

#include <catch.hpp>

#include <cmath>
#include <functional>
#include <random>

using namespace edgesplit;
using namespace edgesplit::testing;

namespace {

using Builder = std::function<std::unique_ptr<Graph>()>;

size_t countOps(const Graph &graph, std::string_view opType) {
  return llvm::count_if(graph.nodes(), [&](const auto &n) { return n->opType == opType; });
}

const Node &onlyNode(const Graph &graph, std::string_view opType) {
  REQUIRE(countOps(graph, opType) == 1);
  return **llvm::find_if(graph.nodes(), [&](const auto &n) { return n->opType == opType; });
}

bool hasQuantizedOps(const Graph &graph) {
  for (std::string_view op : {"QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger",
                              "QuantizeLinear", "DequantizeLinear", "Cast"})
    if (countOps(graph, op)) return true;
  return false;
}

// Random float data on the grid of (scale, zeroPoint), so the model's QuantizeLinear of the
// input, which absorption removes, changes nothing.
Tensor gridInput(llvm::ArrayRef<int64_t> shape, float scale, int zeroPoint, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> q(-128, 127);
  Tensor tensor(DType::Float32, shape);
  for (float &x : tensor.mutableValues<float>()) x = static_cast<float>(q(rng) - zeroPoint) * scale;
  return tensor;
}

// Weights spread over [-127, 127] (as a quantiser's are), deterministic.
template <typename T> Tensor quantizedWeights(Shape shape, int offset, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> q(-127, 127);
  std::vector<T> values(static_cast<size_t>(numElements(shape)));
  for (T &v : values) v = static_cast<T>(q(rng) + offset);
  return Tensor::fromVector<T>(shape, values);
}

// The original model and its absorbed form both run in the float interpreter; they agree within
// one output LSB (the original rounds its output, the absorbed graph keeps it exact).
void checkSameOutput(const Builder &build, const Tensor &input, double lsb) {
  auto original = build();
  auto absorbed = build();
  absorbQdq(*absorbed);
  verifyGraph(*absorbed);
  CHECK(!hasQuantizedOps(*absorbed));
  const Tensor expected = Interpreter(*original).run({input})[0];
  const Tensor actual = Interpreter(*absorbed).run({input})[0];
  REQUIRE(actual.numElements() == expected.numElements());
  double worst = 0;
  for (int64_t i = 0; i < actual.numElements(); ++i)
    worst = std::max(
        worst, std::abs(double(actual.values<float>()[i]) - double(expected.values<float>()[i])));
  INFO("max difference " << worst / lsb << " LSB");
  CHECK(worst <= lsb * 1.001);
}

// x -> QuantizeLinear -> QLinearConv (per-channel int8 weights, int32 bias) -> DequantizeLinear.
std::unique_ptr<Graph> qlinearConv() {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 2, 5, 5});
  Value *xs = b.constant("xs", Tensor::scalar<float>(0.05f));
  Value *xz = b.constant("xz", Tensor::scalar<int8_t>(3));
  Value *w = b.constant("w", quantizedWeights<int8_t>({3, 2, 3, 3}, 0, 1));
  Value *ws = b.constant("ws", Tensor::fromVector<float>({3}, {0.004f, 0.002f, 0.003f}));
  Value *wz = b.constant("wz", Tensor::fromVector<int8_t>({3}, {0, 0, 0}));
  Value *ys = b.constant("ys", Tensor::scalar<float>(0.2f));
  Value *yz = b.constant("yz", Tensor::scalar<int8_t>(-5));
  Value *bias = b.constant("bias", Tensor::fromVector<int32_t>({3}, {100, -250, 40}));
  b.node("QuantizeLinear", {x, xs, xz}, {"xq"});
  b.node("QLinearConv", {b.value("xq"), xs, xz, w, ws, wz, ys, yz, bias}, {"yq"},
         attrs({{"pads", std::vector<int64_t>{1, 1, 1, 1}}}));
  b.node("DequantizeLinear", {b.value("yq"), ys, yz}, {"y"});
  b.output(b.value("y"));
  return b.finish();
}

// a -> QuantizeLinear -> QLinearMatMul (uint8 throughout, per-column weights) -> DequantizeLinear.
std::unique_ptr<Graph> qlinearMatMulUint8(uint8_t weightZero) {
  GraphBuilder b;
  Value *a = b.input("a", DType::Float32, {2, 6});
  Value *as = b.constant("as", Tensor::scalar<float>(0.03f));
  Value *az = b.constant("az", Tensor::scalar<uint8_t>(140));
  Value *w = b.constant("w", quantizedWeights<uint8_t>({6, 4}, 128, 2));
  Value *ws = b.constant("ws", Tensor::fromVector<float>({4}, {0.01f, 0.02f, 0.015f, 0.005f}));
  Value *wz = b.constant(
      "wz", Tensor::fromVector<uint8_t>({4}, {weightZero, weightZero, weightZero, weightZero}));
  Value *ys = b.constant("ys", Tensor::scalar<float>(0.2f));
  Value *yz = b.constant("yz", Tensor::scalar<uint8_t>(120));
  b.node("QuantizeLinear", {a, as, az}, {"aq"});
  b.node("QLinearMatMul", {b.value("aq"), as, az, w, ws, wz, ys, yz}, {"yq"});
  b.node("DequantizeLinear", {b.value("yq"), ys, yz}, {"y"});
  b.output(b.value("y"));
  return b.finish();
}

// The static integer pattern: QuantizeLinear -> ConvInteger -> Cast -> Mul(x_scale * w_scale)
// -> Add(bias) -> QuantizeLinear -> DequantizeLinear.
std::unique_ptr<Graph> convInteger(bool quantizedOutput) {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 2, 4, 4});
  Value *xs = b.constant("xs", Tensor::scalar<float>(0.04f));
  Value *xz = b.constant("xz", Tensor::scalar<uint8_t>(128));
  Value *w = b.constant("w", quantizedWeights<int8_t>({3, 2, 3, 3}, 0, 3));
  Value *wz = b.constant("wz", Tensor::scalar<int8_t>(0));
  Value *scale = b.constant(
      "scale",
      Tensor::fromVector<float>({3, 1, 1}, {0.04f * 0.003f, 0.04f * 0.002f, 0.04f * 0.004f}));
  Value *bias = b.constant("bias", Tensor::fromVector<float>({1, 3, 1, 1}, {0.1f, -0.2f, 0.05f}));
  b.node("QuantizeLinear", {x, xs, xz}, {"xq"});
  b.node("ConvInteger", {b.value("xq"), w, xz, wz}, {"acc"});
  b.node("Cast", {b.value("acc")}, {"accf"}, attrs({{"to", int64_t{1}}}));
  b.node("Mul", {b.value("accf"), scale}, {"scaled"});
  b.node("Add", {b.value("scaled"), bias}, {"y"});
  if (!quantizedOutput) {
    b.output(b.value("y"));
    return b.finish();
  }
  Value *ys = b.constant("ys", Tensor::scalar<float>(0.2f));
  Value *yz = b.constant("yz", Tensor::scalar<int8_t>(2));
  b.node("QuantizeLinear", {b.value("y"), ys, yz}, {"yq"});
  b.node("DequantizeLinear", {b.value("yq"), ys, yz}, {"out"});
  b.output(b.value("out"));
  return b.finish();
}

// QuantizeLinear -> MatMulInteger -> Cast -> Mul(per-column scale) -> Add(bias [N]) -> Q -> DQ.
std::unique_ptr<Graph> matMulInteger() {
  GraphBuilder b;
  Value *a = b.input("a", DType::Float32, {3, 5});
  Value *as = b.constant("as", Tensor::scalar<float>(0.02f));
  Value *az = b.constant("az", Tensor::scalar<int8_t>(-1));
  Value *w = b.constant("w", quantizedWeights<int8_t>({5, 4}, 0, 4));
  Value *scale = b.constant(
      "scale",
      Tensor::fromVector<float>({4}, {0.02f * 0.01f, 0.02f * 0.02f, 0.02f * 0.03f, 0.02f * 0.01f}));
  Value *bias = b.constant("bias", Tensor::fromVector<float>({4}, {0.5f, -0.5f, 0.25f, 0.0f}));
  Value *ys = b.constant("ys", Tensor::scalar<float>(0.25f));
  Value *yz = b.constant("yz", Tensor::scalar<int8_t>(0));
  b.node("QuantizeLinear", {a, as, az}, {"aq"});
  b.node("MatMulInteger", {b.value("aq"), w, az}, {"acc"});
  b.node("Cast", {b.value("acc")}, {"accf"}, attrs({{"to", int64_t{1}}}));
  b.node("Mul", {scale, b.value("accf")}, {"scaled"});
  b.node("Add", {b.value("scaled"), bias}, {"y"});
  b.node("QuantizeLinear", {b.value("y"), ys, yz}, {"yq"});
  b.node("DequantizeLinear", {b.value("yq"), ys, yz}, {"out"});
  b.output(b.value("out"));
  return b.finish();
}

// QuantizeLinear -> QLinearConv -> MaxPool -> Reshape -> QLinearMatMul -> DequantizeLinear, the
// pooling and reshape on int8 tensors as QOperator models have them.
std::unique_ptr<Graph> qoperatorChain() {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 1, 6, 6});
  Value *xs = b.constant("xs", Tensor::scalar<float>(0.02f));
  Value *xz = b.constant("xz", Tensor::scalar<int8_t>(0));
  Value *w = b.constant("w", quantizedWeights<int8_t>({2, 1, 3, 3}, 0, 5));
  Value *ws = b.constant("ws", Tensor::scalar<float>(0.01f));
  Value *wz = b.constant("wz", Tensor::scalar<int8_t>(0));
  Value *cs = b.constant("cs", Tensor::scalar<float>(0.1f));
  Value *cz = b.constant("cz", Tensor::scalar<int8_t>(-10));
  Value *shape = b.constant("shape", Tensor::fromVector<int64_t>({2}, {1, 18}));
  Value *m = b.constant("m", quantizedWeights<int8_t>({18, 3}, 0, 6));
  Value *ms = b.constant("ms", Tensor::fromVector<float>({3}, {0.01f, 0.02f, 0.01f}));
  Value *mz = b.constant("mz", Tensor::fromVector<int8_t>({3}, {0, 0, 0}));
  Value *ys = b.constant("ys", Tensor::scalar<float>(0.5f));
  Value *yz = b.constant("yz", Tensor::scalar<int8_t>(4));
  b.node("QuantizeLinear", {x, xs, xz}, {"xq"});
  b.node("QLinearConv", {b.value("xq"), xs, xz, w, ws, wz, cs, cz}, {"cq"},
         attrs({{"pads", std::vector<int64_t>{1, 1, 1, 1}}}));
  b.node("MaxPool", {b.value("cq")}, {"pq"},
         attrs({{"kernel_shape", std::vector<int64_t>{2, 2}},
                {"strides", std::vector<int64_t>{2, 2}}}));
  b.node("Reshape", {b.value("pq"), shape}, {"rq"});
  b.node("QLinearMatMul", {b.value("rq"), cs, cz, m, ms, mz, ys, yz}, {"yq"});
  b.node("DequantizeLinear", {b.value("yq"), ys, yz}, {"y"});
  b.output(b.value("y"));
  return b.finish();
}

} // namespace

TEST_CASE("absorb-qoperator turns QLinearConv into a Conv with the file's parameters",
          "[quantize]") {
  auto graph = qlinearConv();
  const Value *x = graph->inputs[0];
  absorbQdq(*graph);
  verifyGraph(*graph);
  CHECK(!hasQuantizedOps(*graph));
  REQUIRE(graph->nodes().size() == 1);
  const Node &conv = onlyNode(*graph, "Conv");
  CHECK(conv.inputs[0] == x);
  REQUIRE(x->quant);
  CHECK(x->quant->scales == llvm::SmallVector<float, 1>{0.05f});
  CHECK(x->quant->zeroPoints == llvm::SmallVector<int32_t, 1>{3});
  const Value *w = conv.inputs[1];
  REQUIRE(w->isConstant());
  REQUIRE(w->quant);
  CHECK(w->quant->axis == 0);
  CHECK(w->quant->scales == llvm::SmallVector<float, 1>{0.004f, 0.002f, 0.003f});
  CHECK(w->quant->zeroPoints == llvm::SmallVector<int32_t, 1>{0, 0, 0});
  const Tensor original = quantizedWeights<int8_t>({3, 2, 3, 3}, 0, 1);
  CHECK(w->constant->values<float>()[0] == original.values<int8_t>()[0] * 0.004f);
  const Value *bias = conv.inputs[2];
  REQUIRE(bias->quant);
  CHECK(bias->quant->storage == DType::Int32);
  CHECK(bias->quant->scales ==
        llvm::SmallVector<float, 1>{0.05f * 0.004f, 0.05f * 0.002f, 0.05f * 0.003f});
  CHECK(bias->constant->values<float>()[1] == static_cast<float>(-250 * double(0.05f * 0.002f)));
  REQUIRE(graph->outputs[0].value == conv.outputs[0]);
  CHECK(graph->outputs[0].name == "y");
  REQUIRE(conv.outputs[0]->quant);
  CHECK(conv.outputs[0]->quant->scales == llvm::SmallVector<float, 1>{0.2f});
  CHECK(conv.outputs[0]->quant->zeroPoints == llvm::SmallVector<int32_t, 1>{-5});

  checkSameOutput(qlinearConv, gridInput({1, 2, 5, 5}, 0.05f, 3, 11), 0.2);
}

TEST_CASE("absorb-qoperator maps uint8 QLinearMatMul to int8 parameters", "[quantize]") {
  auto graph = qlinearMatMulUint8(128);
  absorbQdq(*graph);
  verifyGraph(*graph);
  const Node &matmul = onlyNode(*graph, "MatMul");
  REQUIRE(matmul.inputs[0]->quant);
  CHECK(matmul.inputs[0]->quant->zeroPoints == llvm::SmallVector<int32_t, 1>{12});
  const Value *w = matmul.inputs[1];
  REQUIRE(w->quant);
  CHECK(w->quant->axis == 1);
  CHECK(w->quant->zeroPoints == llvm::SmallVector<int32_t, 1>{0, 0, 0, 0});
  CHECK(w->quant->scales == llvm::SmallVector<float, 1>{0.01f, 0.02f, 0.015f, 0.005f});
  REQUIRE(matmul.outputs[0]->quant);
  CHECK(matmul.outputs[0]->quant->zeroPoints == llvm::SmallVector<int32_t, 1>{-8});

  checkSameOutput([] { return qlinearMatMulUint8(128); }, gridInput({2, 6}, 0.03f, 12, 12), 0.2);
}

TEST_CASE("absorb-qoperator leaves asymmetric weights to be re-quantised", "[quantize]") {
  auto graph = qlinearMatMulUint8(100);
  absorbQdq(*graph);
  verifyGraph(*graph);
  const Value *w = onlyNode(*graph, "MatMul").inputs[1];
  REQUIRE(w->isConstant());
  CHECK(w->dtype == DType::Float32);
  CHECK(!w->quant); // annotation gives them symmetric per-channel scales
  checkSameOutput([] { return qlinearMatMulUint8(100); }, gridInput({2, 6}, 0.03f, 12, 13), 0.2);
}

TEST_CASE("absorb-qoperator folds the ConvInteger rescale and bias into a Conv", "[quantize]") {
  auto graph = convInteger(true);
  absorbQdq(*graph);
  verifyGraph(*graph);
  CHECK(!hasQuantizedOps(*graph));
  CHECK(countOps(*graph, "Mul") == 0);
  CHECK(countOps(*graph, "Add") == 0);
  const Node &conv = onlyNode(*graph, "Conv");
  REQUIRE(conv.inputs.size() == 3);
  REQUIRE(conv.inputs[0]->quant);
  CHECK(conv.inputs[0]->quant->zeroPoints == llvm::SmallVector<int32_t, 1>{0});
  const Value *w = conv.inputs[1];
  REQUIRE(w->quant);
  REQUIRE(w->quant->scales.size() == 3);
  CHECK(w->quant->scales[1] == Approx(0.002f).epsilon(1e-6));
  CHECK(conv.inputs[2]->constant->values<float>() == llvm::ArrayRef<float>({0.1f, -0.2f, 0.05f}));
  REQUIRE(conv.outputs[0]->quant);
  CHECK(conv.outputs[0]->quant->scales == llvm::SmallVector<float, 1>{0.2f});

  checkSameOutput([] { return convInteger(true); }, gridInput({1, 2, 4, 4}, 0.04f, 0, 14), 0.2);
}

TEST_CASE("absorb-qoperator turns MatMulInteger with a bias into a Gemm", "[quantize]") {
  auto graph = matMulInteger();
  absorbQdq(*graph);
  verifyGraph(*graph);
  CHECK(!hasQuantizedOps(*graph));
  const Node &gemm = onlyNode(*graph, "Gemm");
  REQUIRE(gemm.inputs[1]->quant);
  CHECK(gemm.inputs[1]->quant->axis == 1);
  CHECK(gemm.inputs[1]->quant->scales[2] == Approx(0.03f).epsilon(1e-6));
  checkSameOutput(matMulInteger, gridInput({3, 5}, 0.02f, -1, 15), 0.25);
}

TEST_CASE("absorb-qoperator runs int8 ops between QOperator nodes in float", "[quantize]") {
  auto graph = qoperatorChain();
  absorbQdq(*graph);
  verifyGraph(*graph);
  CHECK(!hasQuantizedOps(*graph));
  const Node &pool = onlyNode(*graph, "MaxPool");
  const Node &reshape = onlyNode(*graph, "Reshape");
  CHECK(pool.outputs[0]->dtype == DType::Float32);
  REQUIRE(pool.inputs[0]->quant);
  REQUIRE(pool.outputs[0]->quant);
  REQUIRE(reshape.outputs[0]->quant);
  CHECK(reshape.outputs[0]->quant->scales == llvm::SmallVector<float, 1>{0.1f});
  CHECK(reshape.outputs[0]->quant->zeroPoints == llvm::SmallVector<int32_t, 1>{-10});

  // The int8 program of the absorbed graph against the original model in the interpreter.
  const Tensor input = gridInput({1, 1, 6, 6}, 0.02f, 0, 16);
  auto original = qoperatorChain();
  const Tensor expected = Interpreter(*original).run({input})[0];
  prepareInt8(*graph, ValueRanges{});
  CompiledDevice device =
      compileDevice(*graph, Precision::Int8, KernelIsa::Plain, S8Rounding::Double);
  Executor executor(device.program);
  const Tensor actual =
      executor.dequantizeOutputs(executor.runRaw(executor.quantizeInputs({input})))[0];
  REQUIRE(actual.numElements() == 3);
  for (int64_t i = 0; i < 3; ++i)
    CHECK(std::abs(actual.values<float>()[i] - expected.values<float>()[i]) <= 0.5 * 1.001);
}

TEST_CASE("absorb-qoperator refuses dynamic quantisation", "[quantize]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2, 3});
  b.node("DynamicQuantizeLinear", {x}, {"xq", "xs", "xz"});
  b.output(b.value("xq"));
  auto graph = b.finish();
  CHECK_THROWS_WITH(absorbQdq(*graph),
                    Catch::Contains("node 'DynamicQuantizeLinear_0' (DynamicQuantizeLinear)") &&
                        Catch::Contains("dynamic quantisation") &&
                        Catch::Contains("--calibration"));
}

TEST_CASE("a QOperator model's float output without parameters asks for calibration",
          "[quantize]") {
  auto graph = convInteger(false);
  CHECK(isPreQuantized(*graph));
  absorbQdq(*graph);
  verifyGraph(*graph);
  CHECK(onlyNode(*graph, "Conv").outputs[0]->name == "y");
  CHECK_THROWS_WITH(prepareInt8(*graph, ValueRanges{}),
                    Catch::Contains("'y' has no int8 parameters") &&
                        Catch::Contains("--calibration"));
}

TEST_CASE("isPreQuantized recognises QOperator models", "[quantize]") {
  CHECK(isPreQuantized(*qlinearConv()));
  CHECK(isPreQuantized(*matMulInteger()));
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2});
  b.node("Relu", {x}, {"y"});
  b.output(b.value("y"));
  CHECK(!isPreQuantized(*b.finish()));
}
