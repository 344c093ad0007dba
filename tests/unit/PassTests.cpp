#include "GraphBuilder.h"
#include "interp/Interpreter.h"

#include <catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace edgesplit;
using namespace edgesplit::testing;

namespace {
size_t countOps(const Graph &graph, std::string_view opType) {
  return llvm::count_if(graph.nodes(), [&](const auto &n) { return n->opType == opType; });
}

std::vector<float> runFloat(const Graph &graph, std::vector<Tensor> inputs) {
  auto out = Interpreter(graph).run(inputs)[0];
  return {out.values<float>().begin(), out.values<float>().end()};
}

Value *batchNormStatistics(GraphBuilder &b, Value *x, int64_t channels) {
  std::vector<float> gamma, beta, mean, var;
  for (int64_t c = 0; c < channels; ++c) {
    gamma.push_back(0.5f + 0.25f * static_cast<float>(c));
    beta.push_back(0.1f * static_cast<float>(c) - 0.2f);
    mean.push_back(0.3f - 0.15f * static_cast<float>(c));
    var.push_back(0.5f + 0.5f * static_cast<float>(c));
  }
  auto vector = [&](const std::vector<float> &values) {
    return Tensor::fromVector<float>({channels}, values);
  };
  b.node("BatchNormalization",
         {x, b.constant("gamma", vector(gamma)), b.constant("beta", vector(beta)),
          b.constant("mean", vector(mean)), b.constant("var", vector(var))},
         {"y"}, attrs({{"epsilon", 1e-3f}}));
  b.output(b.value("y"));
  return b.value("y");
}

Tensor ramp(Shape shape) {
  Tensor tensor(DType::Float32, shape);
  float *values = tensor.data<float>();
  for (int64_t i = 0; i < tensor.numElements(); ++i)
    values[i] = static_cast<float>((i * 7) % 13) * 0.25f - 1.5f;
  return tensor;
}

// Values stepping through [-1, 1) by `step`: varied, repeatable test data.
Tensor ramp(llvm::ArrayRef<int64_t> shape, float step) {
  Tensor tensor(DType::Float32, shape);
  float value = -1.0f;
  for (float &element : tensor.mutableValues<float>()) {
    element = value;
    value += step;
    if (value >= 1.0f) value -= 2.0f;
  }
  return tensor;
}

// Runs `pass` on the graph, which must stay valid and compute the same for `input`.
void checkSameResults(Graph &graph, const Tensor &input, void (*pass)(Graph &)) {
  const std::vector<float> before = runFloat(graph, {input});
  pass(graph);
  verifyGraph(graph);
  const std::vector<float> after = runFloat(graph, {input});
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < before.size(); ++i)
    CHECK(after[i] == Approx(before[i]).epsilon(1e-5).margin(1e-6));
}
} // namespace

TEST_CASE("constants-to-initializers turns Constant nodes into constant values", "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {3});
  b.node("Constant", {}, {"c"}, attrs({{"value_floats", std::vector<float>{1, 2, 3}}}));
  b.node("Add", {x, b.value("c")}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();

  constantsToInitializers(*graph);
  verifyGraph(*graph);
  CHECK(countOps(*graph, "Constant") == 0);
  const Value *c = graph->findValue("c");
  REQUIRE(c->isConstant());
  CHECK(c->constant->values<float>() == llvm::ArrayRef<float>({1, 2, 3}));
  CHECK(runFloat(*graph, {floats({3}, {1, 1, 1})}) == std::vector<float>{2, 3, 4});
}

TEST_CASE("remove-identities forwards inputs and keeps graph output names", "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2});
  b.node("Relu", {x}, {"r"});
  b.node("Identity", {b.value("r")}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();

  removeIdentities(*graph);
  verifyGraph(*graph);
  CHECK(countOps(*graph, "Identity") == 0);
  REQUIRE(graph->outputs.size() == 1);
  CHECK(graph->outputs[0].name == "y");
  CHECK(graph->outputs[0].value->name == "r");
}

TEST_CASE("remove-identities replaces a used Dropout mask by constant true", "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2, 2});
  b.node("Dropout", {x}, {"y", "mask"});
  b.output(b.value("y"));
  b.output(b.value("mask"));
  auto graph = b.finish();

  removeIdentities(*graph);
  verifyGraph(*graph);
  CHECK(graph->nodes().empty());
  const Value *mask = graph->outputs[1].value;
  REQUIRE(mask->isConstant());
  CHECK(mask->constant->dtype() == DType::Bool);
  CHECK(llvm::all_of(mask->constant->values<bool>(), [](bool v) { return v; }));
}

TEST_CASE("remove-identities gives an opset-7 Dropout mask the input's type", "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {3});
  Node *dropout = b.node("Dropout", {x}, {"y", "mask"});
  dropout->opset = 7;
  b.output(b.value("y"));
  b.output(b.value("mask"));
  auto graph = b.finish();
  removeIdentities(*graph);
  verifyGraph(*graph);
  const Value *mask = graph->outputs[1].value;
  REQUIRE(mask->isConstant());
  CHECK(mask->constant->dtype() == DType::Float32);
  CHECK(mask->constant->values<float>() == llvm::ArrayRef<float>({1, 1, 1}));
}

TEST_CASE("remove-identities keeps a Dropout whose training mode is a run-time input",
          "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2});
  Value *ratio = b.constant("ratio", Tensor::scalar<float>(0.5f));
  Value *training = b.input("training", DType::Bool, {});
  b.node("Dropout", {x, ratio, training}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  removeIdentities(*graph);
  CHECK(countOps(*graph, "Dropout") == 1);
}

TEST_CASE("infer-shapes records the op rule's dtype and shape", "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2, 1});
  Value *y = b.input("y", DType::Float32, {3});
  b.node("Add", {x, y}, {"z"});
  b.output(b.value("z"));
  auto graph = b.finish(); // runs inferShapes
  const Value *z = graph->findValue("z");
  CHECK(z->dtype == DType::Float32);
  REQUIRE(z->shape);
  CHECK(*z->shape == Shape{2, 3});
}

TEST_CASE("fold-constants folds a Shape/Gather/Concat chain into Reshape's shape", "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2, 3, 4});
  Value *index = b.constant("index", Tensor::fromVector<int64_t>({1}, {0}));
  Value *minusOne = b.constant("minus_one", Tensor::fromVector<int64_t>({1}, {-1}));
  b.node("Shape", {x}, {"shape"});
  b.node("Gather", {b.value("shape"), index}, {"batch"}, attrs({{"axis", int64_t{0}}}));
  b.node("Concat", {b.value("batch"), minusOne}, {"target"}, attrs({{"axis", int64_t{0}}}));
  b.node("Reshape", {x, b.value("target")}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();

  foldConstants(*graph);
  verifyGraph(*graph);
  REQUIRE(graph->nodes().size() == 1);
  CHECK(graph->nodes()[0]->opType == "Reshape");
  const Value *target = graph->nodes()[0]->inputs[1];
  REQUIRE(target->isConstant());
  CHECK(target->constant->toInt64Vector() == std::vector<int64_t>{2, -1});
  CHECK(*graph->findValue("y")->shape == Shape{2, 12});
}

TEST_CASE("fold-constants leaves Quantize/DequantizeLinear in place", "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2});
  Value *q = b.constant("q", Tensor::fromVector<uint8_t>({2}, {10, 20}));
  Value *scale = b.constant("scale", Tensor::scalar<float>(0.5f));
  Value *zero = b.constant("zero", Tensor::scalar<uint8_t>(0));
  b.node("DequantizeLinear", {q, scale, zero}, {"w"});
  b.node("Add", {x, b.value("w")}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  foldConstants(*graph);
  CHECK(countOps(*graph, "DequantizeLinear") == 1);
}

TEST_CASE("fold-batchnorm folds into Conv and preserves results", "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 2, 4});
  Value *w = b.constant("w", floats({2, 2, 3}, {0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.6f,
                                                -0.7f, 0.8f, 0.9f, 1.0f, -1.1f, 1.2f}));
  Value *bias = b.constant("b", floats({2}, {0.05f, -0.05f}));
  b.node("Conv", {x, w, bias}, {"c"}, attrs({{"pads", std::vector<int64_t>{1, 1}}}));
  batchNormStatistics(b, b.value("c"), 2);
  auto graph = b.finish();
  checkSameResults(*graph, floats({1, 2, 4}, {1, -2, 3, 0.5f, -1, 2, 0.25f, 4}), foldBatchNorm);
  CHECK(countOps(*graph, "BatchNormalization") == 0);
  CHECK(graph->outputs[0].name == "y");
}

TEST_CASE("fold-batchnorm folds into Gemm (transB) and preserves results", "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2, 3});
  Value *w = b.constant("w", floats({2, 3}, {0.1f, 0.2f, 0.3f, -0.4f, 0.5f, -0.6f}));
  Value *c = b.constant("c", floats({2}, {0.5f, -0.5f}));
  b.node("Gemm", {x, w, c}, {"g"},
         attrs({{"transB", int64_t{1}}, {"alpha", 2.0f}, {"beta", 0.5f}}));
  batchNormStatistics(b, b.value("g"), 2);
  auto graph = b.finish();
  checkSameResults(*graph, floats({2, 3}, {1, 2, 3, -1, 0.5f, 2}), foldBatchNorm);
  CHECK(countOps(*graph, "BatchNormalization") == 0);
}

TEST_CASE("fold-batchnorm makes a lone BatchNormalization a depthwise 1x1 Conv", "[passes]") {
  for (Shape shape : {Shape{2, 3}, Shape{1, 3, 5}, Shape{1, 3, 2, 2}}) {
    INFO("input shape " << formatShape(shape));
    GraphBuilder b;
    batchNormStatistics(b, b.input("x", DType::Float32, shape), 3);
    auto graph = b.finish();
    checkSameResults(*graph, ramp(shape), foldBatchNorm);
    CHECK(countOps(*graph, "BatchNormalization") == 0);
    CHECK(countOps(*graph, "Conv") == 1);
    CHECK(graph->outputs[0].name == "y");
  }
  // Rank 5 has no depthwise kernel: it stays.
  GraphBuilder b;
  batchNormStatistics(b, b.input("x", DType::Float32, {1, 2, 2, 2, 2}), 2);
  auto graph = b.finish();
  foldBatchNorm(*graph);
  CHECK(countOps(*graph, "BatchNormalization") == 1);
}

TEST_CASE("fold-channel-affine folds Mul, Sub and Add chains into a Conv", "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 2, 5, 5});
  Value *w = b.constant("w", ramp({3, 2, 3, 3}, 0.37f));
  b.node("Conv", {x, w}, {"c"}, attrs({{"pads", std::vector<int64_t>{1, 1, 1, 1}}}));
  b.node("Mul", {b.constant("s", floats({3, 1, 1}, {2.0f, -0.5f, 0.25f})), b.value("c")}, {"m"});
  b.node("Sub", {b.value("m"), b.constant("k", floats({}, {0.75f}))}, {"d"});
  b.node("Add", {b.value("d"), b.constant("t", floats({1, 3, 1, 1}, {0.1f, 0.2f, -0.3f}))},
         {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  checkSameResults(*graph, ramp({1, 2, 5, 5}, 0.13f), foldChannelAffine);
  REQUIRE(graph->nodes().size() == 1);
  CHECK(graph->nodes()[0]->opType == "Conv");
  CHECK(graph->outputs[0].name == "y");
}

TEST_CASE("fold-channel-affine leaves a scaling of whole-number int8 weights, folds their bias",
          "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 4});
  b.node("MatMul", {x, b.constant("w", floats({4, 2}, {3, -7, 0, 127, -127, 5, 1, 2}))}, {"m"});
  b.node("Mul", {b.value("m"), b.constant("k", floats({}, {45.0f}))}, {"s"});
  b.node("Add", {b.value("s"), b.constant("t", floats({2}, {0.5f, -1.0f}))}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  checkSameResults(*graph, floats({1, 4}, {0.5f, -1.0f, 2.0f, 0.25f}), foldChannelAffine);
  // The Mul would make the weights 45 * w, which int8 no longer holds exactly; it stays, and the
  // Add after it is no channel affine of a layer.
  CHECK(countOps(*graph, "Mul") == 1);
  CHECK(countOps(*graph, "MatMul") == 1);
}

TEST_CASE("fold-channel-affine turns a 2-D MatMul and its bias Add into a Gemm", "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 4});
  b.node("MatMul", {x, b.constant("w", ramp({4, 3}, 0.29f))}, {"m"});
  b.node("Add", {b.value("m"), b.constant("bias", floats({3}, {0.5f, -0.25f, 1.0f}))}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  checkSameResults(*graph, floats({1, 4}, {0.5f, -1.0f, 2.0f, 0.25f}), foldChannelAffine);
  REQUIRE(graph->nodes().size() == 1);
  CHECK(graph->nodes()[0]->opType == "Gemm");
  CHECK(graph->nodes()[0]->op == findOp("", "Gemm"));
}

TEST_CASE("fold-channel-affine folds into Gemm (transB, beta) and grouped ConvTranspose",
          "[passes]") {
  {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {2, 3});
    b.node("Gemm", {x, b.constant("w", ramp({2, 3}, 0.41f)), b.constant("c", floats({2}, {1, 2}))},
           {"g"}, attrs({{"transB", int64_t{1}}, {"beta", 0.5f}}));
    b.node("Mul", {b.value("g"), b.constant("s", floats({1, 2}, {3.0f, -2.0f}))}, {"y"});
    b.output(b.value("y"));
    auto graph = b.finish();
    checkSameResults(*graph, floats({2, 3}, {1, 2, 3, -1, 0.5f, 2}), foldChannelAffine);
    CHECK(graph->nodes().size() == 1);
  }
  {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {1, 4, 3, 3});
    b.node("ConvTranspose", {x, b.constant("w", ramp({4, 3, 2, 2}, 0.23f))}, {"c"},
           attrs({{"group", int64_t{2}}, {"strides", std::vector<int64_t>{2, 2}}}));
    b.node("Mul", {b.value("c"),
                   b.constant("s", floats({6, 1, 1}, {1.0f, 2.0f, 3.0f, -1.0f, -2.0f, 0.5f}))},
           {"m"});
    b.node("Add", {b.value("m"),
                   b.constant("t", floats({6, 1, 1}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}))},
           {"y"});
    b.output(b.value("y"));
    auto graph = b.finish();
    checkSameResults(*graph, ramp({1, 4, 3, 3}, 0.17f), foldChannelAffine);
    CHECK(graph->nodes().size() == 1);
  }
}

TEST_CASE("fold-channel-affine keeps what it cannot fold", "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 2, 3, 3});
  b.node("Conv", {x, b.constant("w", ramp({2, 2, 1, 1}, 0.3f))}, {"c1"});
  // varies along the width: not one value per channel
  b.node("Add", {b.value("c1"), b.constant("row", floats({3}, {1, 2, 3}))}, {"a1"});
  b.node("Conv", {b.value("a1"), b.constant("w2", ramp({2, 2, 1, 1}, 0.7f))}, {"c2"});
  // constant - x
  b.node("Sub", {b.constant("k", floats({}, {1.0f})), b.value("c2")}, {"a2"});
  b.node("Conv", {b.value("a2"), b.constant("w3", ramp({2, 2, 1, 1}, 0.9f))}, {"c3"});
  // the Conv's result has another user
  b.node("Add", {b.value("c3"), b.constant("t", floats({2, 1, 1}, {1, 2}))}, {"a3"});
  b.node("Add", {b.value("a3"), b.value("c3")}, {"y"});
  // grows the shape
  b.node("Conv", {b.value("y"), b.constant("w4", ramp({2, 2, 1, 1}, 0.5f))}, {"c4"});
  b.node("Add", {b.value("c4"), b.constant("big", ramp({2, 2, 3, 3}, 0.1f))}, {"z"});
  b.output(b.value("z"));
  auto graph = b.finish();
  checkSameResults(*graph, ramp({1, 2, 3, 3}, 0.19f), foldChannelAffine);
  CHECK(countOps(*graph, "Add") == 4);
  CHECK(countOps(*graph, "Sub") == 1);
}

TEST_CASE("fold-batchnorm folds into a 2-D MatMul, which becomes a Gemm", "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2, 3});
  b.node("MatMul", {x, b.constant("w", ramp({3, 2}, 0.33f))}, {"m"});
  batchNormStatistics(b, b.value("m"), 2);
  auto graph = b.finish();
  checkSameResults(*graph, floats({2, 3}, {1, 2, 3, -1, 0.5f, 2}), foldBatchNorm);
  REQUIRE(graph->nodes().size() == 1);
  CHECK(graph->nodes()[0]->opType == "Gemm");
}

TEST_CASE("split-wide-transposes leaves transposes of at most 4 dimensions, same results",
          "[passes]") {
  // Every permutation of a rank-5 tensor (one axis of size 1), and a sample of rank 6.
  const std::vector<std::pair<Shape, int>> cases = {{{2, 3, 1, 4, 2}, 1}, {{2, 1, 3, 2, 3, 2}, 7}};
  for (const auto &[shape, stride] : cases) {
    std::vector<int64_t> perm(shape.size());
    std::iota(perm.begin(), perm.end(), 0);
    int index = 0;
    do {
      if (index++ % stride != 0) continue;
      INFO("shape " << formatShape(shape) << " perm " << formatShape(perm));
      GraphBuilder b;
      Value *x = b.input("x", DType::Float32, llvm::ArrayRef<int64_t>(shape));
      b.node("Transpose", {x}, {"y"}, attrs({{"perm", perm}}));
      b.output(b.value("y"));
      auto graph = b.finish();
      const Shape outputShape = *graph->outputs[0].value->shape;
      const std::vector<float> before = runFloat(*graph, {ramp(shape)});
      splitWideTransposes(*graph);
      verifyGraph(*graph);
      for (const auto &node : graph->nodes())
        if (node->opType == "Transpose") CHECK(node->inputs[0]->shape->size() <= 4);
      CHECK(graph->outputs[0].name == "y");
      CHECK(*graph->outputs[0].value->shape == outputShape);
      CHECK(runFloat(*graph, {ramp(shape)}) == before);
    } while (std::next_permutation(perm.begin(), perm.end()));
  }
}

TEST_CASE("remove-cast-round-trips drops Cast pairs of whole numbers that fit the type",
          "[passes]") {
  // ONNX element type codes.
  constexpr int64_t kFloat = 1, kUInt8 = 2, kInt32 = 6;
  auto build = [&](float hi, int64_t integer, bool floors) {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {4});
    b.node(floors ? "Floor" : "Relu", {x}, {"f"});
    b.node("Clip", {b.value("f"), b.constant("lo", Tensor::scalar(0.0f)),
                    b.constant("hi", Tensor::scalar(hi))},
           {"c"});
    b.node("Cast", {b.value("c")}, {"i"}, attrs({{"to", integer}}));
    b.node("Cast", {b.value("i")}, {"y"}, attrs({{"to", kFloat}}));
    b.output(b.value("y"));
    auto graph = b.finish();
    removeCastRoundTrips(*graph);
    removeDeadNodes(*graph);
    verifyGraph(*graph);
    return countOps(*graph, "Cast");
  };
  CHECK(build(255.0f, kInt32, true) == 0);
  CHECK(build(255.0f, kUInt8, true) == 0);
  CHECK(build(256.0f, kUInt8, true) == 2);  // 256 does not fit
  CHECK(build(255.0f, kInt32, false) == 2); // Relu leaves fractions
  CHECK(build(127.5f, kInt32, true) == 2);  // a fractional bound

  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {4});
  b.node("Cast", {x}, {"same"}, attrs({{"to", kFloat}}));
  b.node("Relu", {b.value("same")}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  removeCastRoundTrips(*graph);
  removeDeadNodes(*graph);
  CHECK(countOps(*graph, "Cast") == 0);
}

TEST_CASE("tiles-to-concats copies along each repeated axis, same results", "[passes]") {
  const std::vector<std::vector<int64_t>> cases = {{1, 2, 3}, {3, 1, 1}, {1, 1, 1}, {2, 2, 2}};
  for (const std::vector<int64_t> &repeats : cases) {
    INFO("repeats " << formatShape(repeats));
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {2, 1, 3});
    b.node("Tile", {x, b.constant("r", Tensor::fromVector<int64_t>({3}, repeats))}, {"y"});
    b.output(b.value("y"));
    auto graph = b.finish();
    const std::vector<float> before = runFloat(*graph, {ramp({2, 1, 3})});
    tilesToConcats(*graph);
    verifyGraph(*graph);
    CHECK(countOps(*graph, "Tile") == 0);
    CHECK(graph->outputs[0].name == "y");
    CHECK(runFloat(*graph, {ramp({2, 1, 3})}) == before);
  }
}

TEST_CASE("remove-dead-nodes drops branches that reach no output", "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2});
  b.node("Relu", {x}, {"dead1"});
  b.node("Relu", {b.value("dead1")}, {"dead2"});
  b.node("Relu", {x}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  removeDeadNodes(*graph);
  verifyGraph(*graph);
  CHECK(graph->nodes().size() == 1);
  CHECK(graph->findValue("dead1") == nullptr);
  CHECK(graph->findValue("dead2") == nullptr);
}

TEST_CASE("fold-layer-normalization makes PyTorch's and tf2onnx's primitives one "
          "LayerNormalization",
          "[passes]") {
  // Normalised over the last two axes of [2, 3, 4], scale broadcast from [1, 4], bias from [4];
  // the square as Pow(2) (PyTorch) or Mul(d, d) (tf2onnx's SquaredDifference); the division as
  // PyTorch's Div(d, Sqrt) or tf2onnx's rsqrt, Mul(Reciprocal(Sqrt), d) or
  // Mul(d, Reciprocal(Pow(0.5))); `centredRead` gives the centred value a reader outside the
  // pattern, which must keep it apart.
  enum class Division { Div, ReciprocalSqrt, ReciprocalPow };
  auto build = [](bool pow, Division division, bool withAffine, bool centredRead) {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {2, 3, 4});
    const AttributeMap axes = attrs({{"axes", std::vector<int64_t>{-2, 2}}});
    b.node("ReduceMean", {x}, {"mean"}, axes);
    b.node("Sub", {x, b.value("mean")}, {"d"});
    if (pow) b.node("Pow", {b.value("d"), b.constant("two", Tensor::scalar(2.0f))}, {"sq"});
    else b.node("Mul", {b.value("d"), b.value("d")}, {"sq"});
    b.node("ReduceMean", {b.value("sq")}, {"var"}, axes);
    b.node("Add", {b.constant("eps", Tensor::scalar(0.01f)), b.value("var")}, {"ve"});
    if (division == Division::ReciprocalPow)
      b.node("Pow", {b.value("ve"), b.constant("half", Tensor::scalar(0.5f))}, {"sd"});
    else
      b.node("Sqrt", {b.value("ve")}, {"sd"});
    if (division == Division::Div) {
      b.node("Div", {b.value("d"), b.value("sd")}, {"n"});
    } else {
      b.node("Reciprocal", {b.value("sd")}, {"r"});
      if (division == Division::ReciprocalSqrt) b.node("Mul", {b.value("r"), b.value("d")}, {"n"});
      else b.node("Mul", {b.value("d"), b.value("r")}, {"n"});
    }
    if (withAffine) {
      b.node("Mul", {b.value("n"), b.constant("scale", floats({1, 4}, {0.5f, 1, 1.5f, 2}))},
             {"s"});
      b.node("Add", {b.constant("bias", floats({4}, {0, -1, 1, 0.25f})), b.value("s")}, {"y"});
    } else {
      b.node("Relu", {b.value("n")}, {"y"});
    }
    b.output(b.value("y"));
    if (centredRead) b.output(b.value("d"));
    return b.finish();
  };
  std::vector<float> data(24);
  for (size_t i = 0; i < data.size(); ++i) data[i] = std::sin(static_cast<float>(i)) * 3 + 2;
  const Tensor x = Tensor::fromVector<float>({2, 3, 4}, data);
  for (Division division : {Division::Div, Division::ReciprocalSqrt, Division::ReciprocalPow}) {
    for (bool pow : {true, false}) {
      for (bool withAffine : {true, false}) {
        INFO("division " << static_cast<int>(division) << ", pow " << pow << ", scale and bias "
                         << withAffine);
        auto graph = build(pow, division, withAffine, false);
        const std::vector<float> before = runFloat(*graph, {x});
        foldLayerNormalization(*graph);
        removeDeadNodes(*graph);
        verifyGraph(*graph);
        CHECK(countOps(*graph, "LayerNormalization") == 1);
        CHECK(graph->nodes().size() == (withAffine ? 1u : 2u));
        CHECK(graph->outputs[0].name == "y");
        const Node &norm = *graph->nodes().front();
        CHECK(norm.attributes.getInt("axis") == 1);
        CHECK(norm.attributes.getFloat("epsilon") == 0.01f);
        CHECK(norm.inputs.size() == (withAffine ? 3u : 2u));
        const std::vector<float> after = runFloat(*graph, {x});
        REQUIRE(after.size() == before.size());
        for (size_t i = 0; i < before.size(); ++i)
          CHECK(after[i] == Approx(before[i]).epsilon(1e-5));
      }
    }
    auto kept = build(true, division, true, true);
    foldLayerNormalization(*kept);
    CHECK(countOps(*kept, "LayerNormalization") == 0);
  }
  // A root other than the square root (Pow 0.25) is not a standard deviation.
  GraphBuilder b;
  Value *x4 = b.input("x", DType::Float32, {2, 4});
  const AttributeMap lastAxis = attrs({{"axes", std::vector<int64_t>{-1}}});
  b.node("ReduceMean", {x4}, {"mean"}, lastAxis);
  b.node("Sub", {x4, b.value("mean")}, {"d"});
  b.node("Mul", {b.value("d"), b.value("d")}, {"sq"});
  b.node("ReduceMean", {b.value("sq")}, {"var"}, lastAxis);
  b.node("Add", {b.value("var"), b.constant("eps", Tensor::scalar(0.01f))}, {"ve"});
  b.node("Pow", {b.value("ve"), b.constant("quarter", Tensor::scalar(0.25f))}, {"sd"});
  b.node("Reciprocal", {b.value("sd")}, {"r"});
  b.node("Mul", {b.value("d"), b.value("r")}, {"y"});
  b.output(b.value("y"));
  auto fourthRoot = b.finish();
  foldLayerNormalization(*fourthRoot);
  CHECK(countOps(*fourthRoot, "LayerNormalization") == 0);
}

TEST_CASE("fold-layer-normalization takes TensorFlow's x * inv + (beta - mean * inv) and beta "
          "as Sub",
          "[passes]") {
  // tf2onnx's Keras LayerNormalization over the last two axes of [2, 3, 4]: tf.nn.moments, then
  // inv = Reciprocal(Sqrt(var + eps)) [* gamma]; Add(Mul(x, inv), Sub(beta, Mul(mean, inv))).
  enum class Variance { SquaredDifference, PowOfDifference, MeanOfSquares };
  enum class Miss { None, InvRead, ShiftReversed, OtherX };
  auto build = [](Variance variance, bool withGamma, bool swapAdd, Miss miss) {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {2, 3, 4});
    Value *other = b.input("other", DType::Float32, {2, 3, 4});
    const AttributeMap axes = attrs({{"axes", std::vector<int64_t>{1, 2}}});
    b.node("ReduceMean", {x}, {"mean"}, axes);
    if (variance == Variance::MeanOfSquares) {
      b.node("Mul", {x, x}, {"xx"});
      b.node("ReduceMean", {b.value("xx")}, {"mxx"}, axes);
      b.node("Mul", {b.value("mean"), b.value("mean")}, {"mm"});
      b.node("Sub", {b.value("mxx"), b.value("mm")}, {"var"});
    } else {
      b.node("Sub", {x, b.value("mean")}, {"d"});
      if (variance == Variance::PowOfDifference)
        b.node("Pow", {b.value("d"), b.constant("two", Tensor::scalar(2.0f))}, {"sq"});
      else
        b.node("Mul", {b.value("d"), b.value("d")}, {"sq"});
      b.node("ReduceMean", {b.value("sq")}, {"var"}, axes);
    }
    b.node("Add", {b.value("var"), b.constant("eps", Tensor::scalar(0.01f))}, {"ve"});
    b.node("Sqrt", {b.value("ve")}, {"sd"});
    b.node("Reciprocal", {b.value("sd")}, {withGamma ? "r" : "inv"});
    if (withGamma)
      b.node("Mul", {b.constant("gamma", floats({1, 4}, {0.5f, 1, 1.5f, 2})), b.value("r")},
             {"inv"});
    b.node("Mul", {miss == Miss::OtherX ? other : x, b.value("inv")}, {"xs"});
    b.node("Mul", {b.value("inv"), b.value("mean")}, {"ms"});
    Value *beta = b.constant("beta", floats({4}, {0, -1, 1, 0.25f}));
    if (miss == Miss::ShiftReversed) b.node("Sub", {b.value("ms"), beta}, {"shift"});
    else b.node("Sub", {beta, b.value("ms")}, {"shift"});
    if (swapAdd) b.node("Add", {b.value("shift"), b.value("xs")}, {"y"});
    else b.node("Add", {b.value("xs"), b.value("shift")}, {"y"});
    b.output(b.value("y"));
    if (miss == Miss::InvRead) b.output(b.value("inv"));
    return b.finish();
  };
  std::vector<float> data(24), otherData(24);
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = std::sin(static_cast<float>(i)) * 3 + 2;
    otherData[i] = std::cos(static_cast<float>(i));
  }
  const std::vector<Tensor> inputs = {Tensor::fromVector<float>({2, 3, 4}, data),
                                      Tensor::fromVector<float>({2, 3, 4}, otherData)};
  for (Variance variance :
       {Variance::SquaredDifference, Variance::PowOfDifference, Variance::MeanOfSquares}) {
    for (bool withGamma : {true, false}) {
      for (bool swapAdd : {false, true}) {
        INFO("variance " << static_cast<int>(variance) << ", gamma " << withGamma
                         << ", Add swapped " << swapAdd);
        auto graph = build(variance, withGamma, swapAdd, Miss::None);
        const std::vector<float> before = runFloat(*graph, inputs);
        foldLayerNormalization(*graph);
        removeDeadNodes(*graph);
        verifyGraph(*graph);
        REQUIRE(graph->nodes().size() == 1u);
        const Node &norm = *graph->nodes().front();
        CHECK(norm.opType == "LayerNormalization");
        CHECK(norm.attributes.getInt("axis") == 1);
        CHECK(norm.attributes.getFloat("epsilon") == 0.01f);
        CHECK(norm.inputs.size() == 3u);
        CHECK(graph->outputs[0].name == "y");
        const std::vector<float> after = runFloat(*graph, inputs);
        REQUIRE(after.size() == before.size());
        for (size_t i = 0; i < before.size(); ++i)
          CHECK(after[i] == Approx(before[i]).epsilon(1e-4).margin(1e-5));
      }
    }
  }
  // Near misses: inv read elsewhere, mean * inv - beta, x * inv on another tensor than the mean's.
  for (Miss miss : {Miss::InvRead, Miss::ShiftReversed, Miss::OtherX}) {
    INFO("near miss " << static_cast<int>(miss));
    auto graph = build(Variance::SquaredDifference, true, false, miss);
    const size_t nodes = graph->nodes().size();
    foldLayerNormalization(*graph);
    CHECK(countOps(*graph, "LayerNormalization") == 0);
    CHECK(graph->nodes().size() == nodes);
  }

  // PyTorch-style primitives whose beta is subtracted: Sub(scaled, c) is beta = -c; Sub(c, scaled)
  // negates the normalised value and stays outside.
  auto primitive = [](bool betaSubtracted) {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {2, 3, 4});
    const AttributeMap lastAxis = attrs({{"axes", std::vector<int64_t>{-1}}});
    b.node("ReduceMean", {x}, {"mean"}, lastAxis);
    b.node("Sub", {x, b.value("mean")}, {"d"});
    b.node("Pow", {b.value("d"), b.constant("two", Tensor::scalar(2.0f))}, {"sq"});
    b.node("ReduceMean", {b.value("sq")}, {"var"}, lastAxis);
    b.node("Add", {b.value("var"), b.constant("eps", Tensor::scalar(0.01f))}, {"ve"});
    b.node("Sqrt", {b.value("ve")}, {"sd"});
    b.node("Div", {b.value("d"), b.value("sd")}, {"n"});
    b.node("Mul", {b.value("n"), b.constant("scale", floats({4}, {0.5f, 1, 1.5f, 2}))}, {"s"});
    Value *c = b.constant("c", floats({4}, {0, -1, 1, 0.25f}));
    if (betaSubtracted) b.node("Sub", {b.value("s"), c}, {"y"});
    else b.node("Sub", {c, b.value("s")}, {"y"});
    b.output(b.value("y"));
    return b.finish();
  };
  for (bool betaSubtracted : {true, false}) {
    INFO("beta subtracted " << betaSubtracted);
    auto graph = primitive(betaSubtracted);
    const std::vector<float> before = runFloat(*graph, {inputs[0]});
    foldLayerNormalization(*graph);
    removeDeadNodes(*graph);
    verifyGraph(*graph);
    CHECK(countOps(*graph, "LayerNormalization") == 1);
    CHECK(graph->nodes().size() == (betaSubtracted ? 1u : 2u));
    CHECK(graph->nodes().front()->inputs.size() == (betaSubtracted ? 3u : 2u));
    const std::vector<float> after = runFloat(*graph, {inputs[0]});
    REQUIRE(after.size() == before.size());
    for (size_t i = 0; i < before.size(); ++i)
      CHECK(after[i] == Approx(before[i]).epsilon(1e-5).margin(1e-6));
  }
}

TEST_CASE("fold-layer-normalization takes Keras' center=False and scale=False and a computed "
          "gamma or beta",
          "[passes]") {
  // tf.nn.batch_normalization of [2, 3, 4] over the last axis: x * inv + (beta - mean * inv),
  // with center=False -mean * inv (Neg, or the Add written as a Sub), gamma and beta constants,
  // absent or given by another input (a computed tensor).
  enum class Offset { Beta, Negated, Subtracted };
  enum class Given { Constant, Absent, Computed };
  auto build = [](Offset offset, Given gamma, Given beta) {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {2, 3, 4});
    Value *g = b.input("g", DType::Float32, {4});
    Value *c = b.input("c", DType::Float32, {1, 4});
    const AttributeMap lastAxis = attrs({{"axes", std::vector<int64_t>{-1}}});
    b.node("ReduceMean", {x}, {"mean"}, lastAxis);
    b.node("Sub", {x, b.value("mean")}, {"d"});
    b.node("Mul", {b.value("d"), b.value("d")}, {"sq"});
    b.node("ReduceMean", {b.value("sq")}, {"var"}, lastAxis);
    b.node("Add", {b.value("var"), b.constant("eps", Tensor::scalar(0.01f))}, {"ve"});
    b.node("Sqrt", {b.value("ve")}, {"sd"});
    b.node("Reciprocal", {b.value("sd")}, {gamma == Given::Absent ? "inv" : "r"});
    if (gamma != Given::Absent)
      b.node("Mul", {b.value("r"), gamma == Given::Computed
                                       ? g
                                       : b.constant("gamma", floats({4}, {0.5f, 1, 1.5f, 2}))},
             {"inv"});
    b.node("Mul", {x, b.value("inv")}, {"xs"});
    b.node("Mul", {b.value("mean"), b.value("inv")}, {"ms"});
    if (offset == Offset::Subtracted) {
      b.node("Sub", {b.value("xs"), b.value("ms")}, {"y"});
    } else if (offset == Offset::Negated) {
      b.node("Neg", {b.value("ms")}, {"shift"});
      b.node("Add", {b.value("shift"), b.value("xs")}, {"y"});
    } else {
      b.node("Sub", {beta == Given::Computed ? c : b.constant("beta", floats({4}, {0, -1, 1, 2})),
                     b.value("ms")},
             {"shift"});
      b.node("Add", {b.value("xs"), b.value("shift")}, {"y"});
    }
    b.output(b.value("y"));
    return b.finish();
  };
  std::vector<float> data(24);
  for (size_t i = 0; i < data.size(); ++i) data[i] = std::sin(static_cast<float>(i)) * 3 + 2;
  const std::vector<Tensor> inputs = {Tensor::fromVector<float>({2, 3, 4}, data),
                                      floats({4}, {-0.5f, 1, 0.25f, 3}),
                                      floats({1, 4}, {1, 0, -2, 0.5f})};
  auto check = [&](Offset offset, Given gamma, Given beta, llvm::ArrayRef<std::string> ops) {
    INFO("offset " << static_cast<int>(offset) << ", gamma " << static_cast<int>(gamma)
                   << ", beta " << static_cast<int>(beta));
    auto graph = build(offset, gamma, beta);
    const std::vector<float> before = runFloat(*graph, inputs);
    foldLayerNormalization(*graph);
    removeDeadNodes(*graph);
    verifyGraph(*graph);
    std::vector<std::string> after;
    for (const auto &node : graph->nodes()) after.push_back(node->opType);
    CHECK(after == std::vector<std::string>(ops.begin(), ops.end()));
    const Node &norm = *graph->nodes().front();
    CHECK(llvm::StringRef(norm.name).endswith("_layer_norm"));
    for (size_t i = 1; i < norm.inputs.size(); ++i) CHECK(norm.inputs[i]->isConstant());
    CHECK(graph->outputs[0].name == "y");
    const std::vector<float> result = runFloat(*graph, inputs);
    REQUIRE(result.size() == before.size());
    for (size_t i = 0; i < before.size(); ++i)
      CHECK(result[i] == Approx(before[i]).epsilon(1e-4).margin(1e-5));
  };
  const std::string norm = "LayerNormalization";
  for (Given gamma : {Given::Constant, Given::Absent}) {
    check(Offset::Negated, gamma, Given::Absent, {norm});
    check(Offset::Subtracted, gamma, Given::Absent, {norm});
  }
  check(Offset::Negated, Given::Computed, Given::Absent, {norm, "Mul"});
  check(Offset::Beta, Given::Computed, Given::Constant, {norm, "Mul", "Add"});
  check(Offset::Beta, Given::Constant, Given::Computed, {norm, "Add"});
  check(Offset::Beta, Given::Computed, Given::Computed, {norm, "Mul", "Add"});

  // The opset 17 node given computed Scale and B: the same split, under the node's name.
  for (bool computedScale : {true, false}) {
    INFO("computed scale " << computedScale);
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {2, 3, 4});
    Value *g = b.input("g", DType::Float32, {4});
    Value *c = b.input("c", DType::Float32, {4});
    Node *node = b.node("LayerNormalization",
                        {x, computedScale ? g : b.constant("scale", floats({4}, {1, 2, 3, 4})), c},
                        {"y"}, attrs({{"epsilon", 0.01f}}));
    node->name = "norm";
    node->opset = 17;
    b.output(b.value("y"));
    auto graph = b.finish();
    const std::vector<Tensor> nodeInputs = {inputs[0], inputs[1], floats({4}, {1, 0, -2, 0.5f})};
    const std::vector<float> before = runFloat(*graph, nodeInputs);
    foldLayerNormalization(*graph);
    verifyGraph(*graph);
    REQUIRE(graph->nodes().size() == (computedScale ? 3u : 2u));
    const Node &split = *graph->nodes().front();
    CHECK(split.name == "norm");
    CHECK(split.inputs.size() == 2u);
    CHECK(split.inputs[1]->isConstant());
    CHECK(split.attributes.getFloat("epsilon") == 0.01f);
    CHECK(graph->nodes().back()->opType == "Add");
    const std::vector<float> result = runFloat(*graph, nodeInputs);
    for (size_t i = 0; i < before.size(); ++i)
      CHECK(result[i] == Approx(before[i]).epsilon(1e-5).margin(1e-6));
  }
}

TEST_CASE("fold-layer-normalization drops statistics outputs nothing reads", "[passes]") {
  auto build = [](bool statisticsUsed) {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {2, 4});
    Node *norm = b.node("LayerNormalization",
                        {x, b.constant("scale", floats({4}, {0.5f, 1, 1.5f, 2}))},
                        {"y", "mean", "inv"}, attrs({{"epsilon", 0.01f}}));
    norm->opset = 17;
    b.output(norm->outputs[0]);
    if (statisticsUsed) b.output(norm->outputs[1]);
    return b.finish();
  };
  auto graph = build(false);
  foldLayerNormalization(*graph);
  verifyGraph(*graph);
  CHECK(graph->nodes().front()->outputs.size() == 1);
  auto used = build(true);
  foldLayerNormalization(*used);
  CHECK(used->nodes().front()->outputs.size() == 2);
  CHECK(used->nodes().front()->outputs[1]->name == "mean");
}

TEST_CASE("sink-transposes moves a Conv's NHWC transpose below its bias, batchnorm and Relu",
          "[passes]") {
  // tf2onnx: Conv -> Transpose to NHWC -> Add(bias [C]) -> Mul, Add ([C]) -> Relu.
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 2, 4, 4});
  b.node("Conv", {x, b.constant("w", ramp({3, 2, 3, 3}, 0.37f))}, {"c"},
         attrs({{"pads", std::vector<int64_t>{1, 1, 1, 1}}}));
  b.node("Transpose", {b.value("c")}, {"t"}, attrs({{"perm", std::vector<int64_t>{0, 2, 3, 1}}}));
  b.node("Add", {b.value("t"), b.constant("bias", floats({3}, {0.1f, -0.2f, 0.3f}))}, {"a"});
  b.node("Mul", {b.constant("s", floats({1, 1, 1, 3}, {2.0f, 0.5f, -1.0f})), b.value("a")}, {"m"});
  b.node("Sub", {b.value("m"), b.constant("k", floats({3}, {0.25f, 0.5f, -0.75f}))}, {"d"});
  b.node("Relu", {b.value("d")}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  checkSameResults(*graph, ramp({1, 2, 4, 4}, 0.13f), +[](Graph &g) {
    sinkTransposes(g);
    foldChannelAffine(g);
    removeDeadNodes(g);
  });
  REQUIRE(graph->nodes().size() == 3);
  CHECK(graph->nodes()[0]->opType == "Conv");
  CHECK(graph->nodes()[1]->opType == "Relu");
  CHECK(graph->nodes()[2]->opType == "Transpose");
  CHECK(graph->outputs[0].name == "y");
  CHECK(*graph->outputs[0].value->shape == Shape{1, 4, 4, 3});
}

TEST_CASE("sink-transposes leaves constants varying along two axes and other producers",
          "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 2, 3, 3});
  b.node("Conv", {x, b.constant("w", ramp({2, 2, 1, 1}, 0.3f))}, {"c"});
  b.node("Transpose", {b.value("c")}, {"t"}, attrs({{"perm", std::vector<int64_t>{0, 2, 3, 1}}}));
  b.node("Add", {b.value("t"), b.constant("plane", ramp({3, 1, 2}, 0.2f))}, {"y"});
  b.output(b.value("y"));
  // An input transposed to channels first (no layer before it) keeps its order too.
  b.node("Transpose", {x}, {"u"}, attrs({{"perm", std::vector<int64_t>{0, 2, 3, 1}}}));
  b.node("Relu", {b.value("u")}, {"z"});
  b.output(b.value("z"));
  auto graph = b.finish();
  sinkTransposes(*graph);
  CHECK(graph->nodes()[1]->opType == "Transpose");
  CHECK(graph->nodes()[3]->opType == "Transpose");
}

TEST_CASE("min-max-to-clip makes Relu6 as Max(Min(x, 6), 0) one Clip", "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 3, 2, 2});
  b.node("Min", {x, b.constant("six", floats({}, {6.0f}))}, {"lo"});
  b.node("Max", {b.constant("zero", floats({1}, {0.0f})), b.value("lo")}, {"y"});
  b.output(b.value("y"));
  // A Min whose constant broadcasts over channels is no Clip.
  b.node("Min", {x, b.constant("per_channel", floats({3, 1, 1}, {1, 2, 3}))}, {"z"});
  b.output(b.value("z"));
  auto graph = b.finish();
  checkSameResults(*graph, ramp({1, 3, 2, 2}, 0.9f), +[](Graph &g) {
    minMaxToClip(g);
    removeDeadNodes(g);
  });
  CHECK(countOps(*graph, "Clip") == 1);
  CHECK(countOps(*graph, "Max") == 0);
  CHECK(countOps(*graph, "Min") == 1);
}

TEST_CASE("sum-mean-to-adds writes Sum and Mean as two-input Adds, Mean then a Mul by 1/n",
          "[passes]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 2, 3});
  b.node("Tanh", {x}, {"t"});
  // Three inputs broadcast against each other: a row and a column.
  b.node("Sum", {x, b.value("t"), b.constant("row", floats({3}, {0.5f, -1, 2}))}, {"s"});
  b.output(b.value("s"));
  b.node("Mean", {x, b.constant("column", floats({2, 1}, {1, -3})), b.value("t")}, {"m"});
  b.output(b.value("m"));
  // Of one input, the graph output reads that input.
  b.node("Sum", {b.value("t")}, {"one"});
  b.output(b.value("one"));
  auto graph = b.finish();
  // Every output as the ops' own kernels compute it, bit for bit: they add from the left and
  // multiply by the same 1/n.
  const std::vector<Tensor> input{ramp({1, 2, 3}, 0.7f)};
  const std::vector<Tensor> before = Interpreter(*graph).run(input);
  sumMeanToAdds(*graph);
  verifyGraph(*graph);
  const std::vector<Tensor> after = Interpreter(*graph).run(input);
  REQUIRE(after.size() == 3);
  for (size_t k = 0; k < after.size(); ++k)
    CHECK(after[k].values<float>() == before[k].values<float>());
  CHECK(countOps(*graph, "Sum") == 0);
  CHECK(countOps(*graph, "Mean") == 0);
  CHECK(countOps(*graph, "Add") == 4);
  CHECK(countOps(*graph, "Mul") == 1);
  CHECK(graph->outputs[2].value == graph->findValue("t"));
  const Node *mul = graph->findValue("m")->producer;
  REQUIRE(mul->opType == "Mul");
  // 1/3 rounded to float32, what onnxruntime's Mean multiplies by.
  CHECK(mul->input(1)->constant->values<float>()[0] == 1.0f / 3.0f);
  CHECK(*graph->findValue("m")->shape == Shape{1, 2, 3});
}
