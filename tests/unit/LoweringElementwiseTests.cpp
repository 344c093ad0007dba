#include "GraphBuilder.h"
#include "LoweringHarness.h"
#include "ops/Unary.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

namespace edgesplit::testing {
namespace {

using Catch::Matchers::Contains;

Tensor randomTensor(llvm::ArrayRef<int64_t> shape, uint32_t seed, float lo = -1.0f,
                    float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor tensor(DType::Float32, Shape(shape.begin(), shape.end()));
  for (float &x : tensor.mutableValues<float>()) x = dist(rng);
  return tensor;
}

Tensor int64s(std::initializer_list<int64_t> values) {
  return Tensor::fromVector<int64_t>({static_cast<int64_t>(values.size())},
                                     llvm::ArrayRef<int64_t>(values.begin(), values.end()));
}

// float32 lowering runs the reference's arithmetic in float: equal up to rounding, relatively so
// for the exp-based functions.
void checkFloat(const LoweredRun &run) {
  REQUIRE(run.reference.size() == run.lowered.size());
  for (size_t k = 0; k < run.reference.size(); ++k) {
    const auto expected = run.reference[k].values<float>();
    const auto actual = run.lowered[k].values<float>();
    REQUIRE(expected.size() == actual.size());
    for (size_t i = 0; i < expected.size(); ++i)
      CHECK(actual[i] == Approx(expected[i]).margin(1e-5).epsilon(1e-6));
  }
}

// int8 lowering: within 2 steps of each output's scale.
void checkInt8(const LoweredRun &run) {
  REQUIRE(run.reference.size() == run.lowered.size());
  for (size_t k = 0; k < run.reference.size(); ++k) {
    const auto expected = run.reference[k].values<float>();
    const auto actual = run.lowered[k].values<float>();
    REQUIRE(expected.size() == actual.size());
    for (size_t i = 0; i < expected.size(); ++i)
      CHECK(std::fabs(actual[i] - expected[i]) <= 2.0f * run.outputScales[k] + 1e-6f);
  }
}

void check(const LoweredRun &run, Precision precision) {
  if (precision == Precision::Float32)
    checkFloat(run);
  else
    checkInt8(run);
}

// A graph of graph input "x" of `shape` and the node `makeNode` adds on it, whose output is the
// graph's.
using NodeBuilder = std::function<Node *(GraphBuilder &, Value *)>;
std::function<std::unique_ptr<Graph>()> singleNode(llvm::ArrayRef<int64_t> shape,
                                                   NodeBuilder makeNode) {
  const Shape inputShape(shape.begin(), shape.end());
  return [inputShape, makeNode] {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {});
    x->shape = inputShape;
    b.output(makeNode(b, x)->outputs[0]);
    return b.finish();
  };
}

TEST_CASE("binary ops broadcast two activations like numpy", "[lowering]") {
  const std::string op = GENERATE(as<std::string>(), "Add", "Sub", "Mul", "Div");
  const Precision precision = GENERATE(Precision::Float32, Precision::Int8);
  // One operand broadcast into the other; both broadcast; a scalar.
  for (const auto &[a, b] : std::vector<std::pair<Shape, Shape>>{
           {{2, 3, 4, 5}, {3, 1, 5}}, {{4, 1}, {1, 3, 1, 5}}, {{}, {2, 3}}, {{6}, {6}}}) {
    CAPTURE(op, precisionName(precision), formatShape(a), formatShape(b));
    auto build = [&, a = a, b = b] {
      GraphBuilder g;
      Value *x = g.input("x", DType::Float32, {});
      x->shape = a;
      Value *y = g.input("y", DType::Float32, {});
      y->shape = b;
      g.output(g.node(op, {x, y}, {"z"})->outputs[0]);
      return g.finish();
    };
    // Keeps Div's denominators away from 0.
    const float lo = op == "Div" ? 0.5f : -1.0f;
    const LoweredRun run =
        runLowered(build, {randomTensor(a, 1), randomTensor(b, 2, lo)}, precision);
    CHECK(run.calls == 1);
    check(run, precision);
  }
}

TEST_CASE("binary ops take a constant operand on either side", "[lowering]") {
  const std::string op = GENERATE(as<std::string>(), "Add", "Sub", "Mul", "Div");
  const bool constantFirst = GENERATE(false, true);
  const Precision precision = GENERATE(Precision::Float32, Precision::Int8);
  CAPTURE(op, constantFirst, precisionName(precision));
  auto build = [&] {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {1, 4, 3});
    Value *c = b.constant("c", randomTensor({4, 1}, 7, 0.5f, 2.0f));
    Node *node = constantFirst ? b.node(op, {c, x}, {"y"}) : b.node(op, {x, c}, {"y"});
    b.output(node->outputs[0]);
    return b.finish();
  };
  const LoweredRun run = runLowered(build, {randomTensor({1, 4, 3}, 8, 0.5f, 1.5f)}, precision);
  CHECK(run.calls == 1);
  check(run, precision);
}

TEST_CASE("int8 Add and Sub without general broadcasting take es_add_s8", "[lowering]") {
  struct AddCase {
    Shape a, b;
    bool constantB;
    const char *add, *sub; // the kernel each op takes
  };
  // Same shape, a scalar, per channel (either side for Add: it commutes), a run of axes, and
  // broadcasts es_add_s8 does not take.
  const std::vector<AddCase> cases = {
      {{2, 3, 4}, {2, 3, 4}, false, "es_add_s8", "es_add_s8"},
      {{1, 6, 5}, {}, true, "es_add_s8", "es_add_s8"},
      {{1, 6, 4, 3}, {6, 1, 1}, true, "es_add_s8", "es_add_s8"},
      {{6, 1, 1}, {1, 6, 4, 3}, false, "es_add_s8", "es_binary_s8"},
      {{2, 5, 7}, {7}, false, "es_add_s8", "es_add_s8"},
      {{2, 3, 4, 5}, {3, 4, 1}, true, "es_add_s8", "es_add_s8"},
      {{2, 3, 4, 5}, {3, 1, 5}, false, "es_binary_s8", "es_binary_s8"},
      {{4, 1}, {1, 3}, false, "es_binary_s8", "es_binary_s8"},
  };
  for (const std::string op : {"Add", "Sub"}) {
    for (const AddCase &c : cases) {
      CAPTURE(op, formatShape(c.a), formatShape(c.b), c.constantB);
      auto build = [&] {
        GraphBuilder g;
        Value *x = g.input("x", DType::Float32, {});
        x->shape = c.a;
        Value *y = c.constantB ? g.constant("c", randomTensor(c.b, 5, -3.0f, 2.0f))
                               : g.input("y", DType::Float32, {});
        if (!c.constantB) y->shape = c.b;
        g.output(g.node(op, {x, y}, {"z"})->outputs[0]);
        return g.finish();
      };
      std::vector<Tensor> inputs = {randomTensor(c.a, 1)};
      if (!c.constantB) inputs.push_back(randomTensor(c.b, 2, -4.0f, 0.5f));
      const LoweredRun run = runLowered(build, inputs, Precision::Int8);
      REQUIRE(run.functions.size() == 1);
      CHECK(run.functions[0] == (op == "Add" ? c.add : c.sub));
      checkInt8(run);
    }
  }
}

TEST_CASE("int8 Div by a constant scalar is a table", "[lowering]") {
  const float divisor = GENERATE(0.37f, -4.0f);
  CAPTURE(divisor);
  auto build = [divisor] {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {2, 5});
    b.output(b.node("Div", {x, b.constant("d", Tensor::scalar(divisor))}, {"y"})->outputs[0]);
    return b.finish();
  };
  const LoweredRun run = runLowered(build, {randomTensor({2, 5}, 9, -3.0f, 3.0f)}, Precision::Int8);
  CHECK(run.calls == 1);
  check(run, Precision::Int8);
}

TEST_CASE("a Relu after Add fuses into the binary kernel", "[lowering]") {
  const Precision precision = GENERATE(Precision::Float32, Precision::Int8);
  CAPTURE(precisionName(precision));
  auto build = [] {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {2, 8});
    Value *y = b.input("y", DType::Float32, {8});
    Node *add = b.node("Add", {x, y}, {"sum"});
    b.output(b.node("Relu", {add->outputs[0]}, {"z"})->outputs[0]);
    return b.finish();
  };
  const LoweredRun run =
      runLowered(build, {randomTensor({2, 8}, 3), randomTensor({8}, 4)}, precision);
  CHECK(run.calls == 1);
  check(run, precision);
}

TEST_CASE("binary ops above 4-D merge axes that broadcast alike", "[lowering]") {
  const Precision precision = GENERATE(Precision::Float32, Precision::Int8);
  CAPTURE(precisionName(precision));
  // [2, 3, 2, 4, 5] + [1, 3, 1, 4, 5]: the last two axes merge into one of 20.
  auto build = [] {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {2, 3, 2, 4, 5});
    Value *y = b.input("y", DType::Float32, {1, 3, 1, 4, 5});
    b.output(b.node("Mul", {x, y}, {"z"})->outputs[0]);
    return b.finish();
  };
  const LoweredRun run = runLowered(
      build, {randomTensor({2, 3, 2, 4, 5}, 5), randomTensor({1, 3, 1, 4, 5}, 6)}, precision);
  check(run, precision);
}

TEST_CASE("binary lowering fails clearly where the kernels cannot follow", "[lowering]") {
  auto build = [](std::string op, Shape a, Shape b) {
    return [op, a, b] {
      GraphBuilder g;
      Value *x = g.input("x", DType::Float32, {});
      x->shape = a;
      Value *y = g.input("y", DType::Float32, {});
      y->shape = b;
      g.output(g.node(op, {x, y}, {"z"})->outputs[0]);
      return g.finish();
    };
  };
  SECTION("int8 Div by a square root outside a LayerNorm") {
    auto divideByRoot = [] {
      GraphBuilder g;
      Value *x = g.input("x", DType::Float32, {4});
      Value *y = g.input("y", DType::Float32, {4});
      Value *root = g.node("Sqrt", {y}, {"root"})->outputs[0];
      g.output(g.node("Div", {x, root}, {"z"})->outputs[0]);
      return g.finish();
    };
    CHECK_THROWS_WITH(runLowered(divideByRoot, {randomTensor({4}, 1), randomTensor({4}, 2, 0.5f)},
                                 Precision::Int8),
                      Contains("divides by a square root only within a LayerNorm"));
  }
  SECTION("a broadcast that needs 5 kernel dimensions") {
    CHECK_THROWS_WITH(
        runLowered(build("Add", {2, 3, 2, 3, 2}, {2, 1, 2, 1, 2}),
                   {randomTensor({2, 3, 2, 3, 2}, 1), randomTensor({2, 1, 2, 1, 2}, 2)},
                   Precision::Float32),
        Contains("needs 5 dimensions even with axes merged"));
  }
}

struct Activation {
  std::string name;
  NodeBuilder make;
};

std::vector<Activation> activations() {
  auto plain = [](std::string op, AttributeMap attributes = {}) {
    return Activation{op, [op, attributes](GraphBuilder &b, Value *x) {
                        return b.node(op, {x}, {"y"}, attributes);
                      }};
  };
  return {
      plain("Relu"),
      plain("Sigmoid"),
      plain("Tanh"),
      plain("HardSwish"),
      plain("LeakyRelu"),
      plain("LeakyRelu", attrs({{"alpha", 0.3f}})),
      plain("HardSigmoid"),
      plain("HardSigmoid", attrs({{"alpha", 0.25f}, {"beta", 0.4f}})),
      plain("Elu"),
      plain("Elu", attrs({{"alpha", 0.5f}})),
      plain("Selu"),
      plain("Selu", attrs({{"alpha", 1.2f}, {"gamma", 0.9f}})),
      plain("Floor"),
      {"Clip (inputs)",
       [](GraphBuilder &b, Value *x) {
         return b.node(
             "Clip",
             {x, b.constant("lo", Tensor::scalar(-0.5f)), b.constant("hi", Tensor::scalar(1.5f))},
             {"y"});
       }},
      {"Clip (max only)",
       [](GraphBuilder &b, Value *x) {
         return b.node("Clip", {x, nullptr, b.constant("hi", Tensor::scalar(1.0f))}, {"y"});
       }},
      {"Clip (attributes)",
       [](GraphBuilder &b, Value *x) {
         Node *node = b.node("Clip", {x}, {"y"}, attrs({{"min", -1.0f}, {"max", 0.25f}}));
         node->opset = 6;
         return node;
       }},
  };
}

TEST_CASE("activation functions lower to es_unary_f32 / es_clip_f32 and int8 tables",
          "[lowering]") {
  const Precision precision = GENERATE(Precision::Float32, Precision::Int8);
  for (const Activation &activation : activations()) {
    CAPTURE(activation.name, precisionName(precision));
    const LoweredRun run = runLowered(singleNode({2, 3, 7}, activation.make),
                                      {randomTensor({2, 3, 7}, 11, -4.0f, 4.0f)}, precision);
    CHECK(run.calls == 1);
    check(run, precision);
  }
}

TEST_CASE("Exp lowers to es_unary_f32 and an int8 table", "[lowering]") {
  // An int8 table passes on the input's rounding times the slope: over an input range of width
  // w, Exp's error reaches w / 2 output LSBs, so the range stays narrow for the 2-LSB check.
  const Precision precision = GENERATE(Precision::Float32, Precision::Int8);
  CAPTURE(precisionName(precision));
  const LoweredRun run = runLowered(
      singleNode({2, 3, 7}, [](GraphBuilder &b, Value *x) { return b.node("Exp", {x}, {"y"}); }),
      {randomTensor({2, 3, 7}, 12, -1.5f, 1.0f)}, precision);
  CHECK(run.calls == 1);
  check(run, precision);
}

TEST_CASE("int8 Sigmoid, Tanh and Softmax outputs use the fixed parameters", "[lowering]") {
  for (const auto &[op, scale] : std::vector<std::pair<std::string, float>>{
           {"Sigmoid", 1.0f / 256}, {"Tanh", 1.0f / 128}, {"Softmax", 1.0f / 256}}) {
    CAPTURE(op);
    const LoweredRun run = runLowered(
        singleNode({4, 5}, [op = op](GraphBuilder &b, Value *x) { return b.node(op, {x}, {"y"}); }),
        {randomTensor({4, 5}, 12, -3.0f, 3.0f)}, Precision::Int8);
    CHECK(run.outputScales[0] == scale);
  }
}

TEST_CASE("int8 tables round ties by the build's rule", "[lowering]") {
  // Floor from a grid of halves (S = 1/2) onto one of twos (S = 2): every odd whole number
  // lands halfway between two codes. Double rounding (TFLite's tables) sends those away from
  // zero, single rounding to even, as onnxruntime's QuantizeLinear does on the emitted file.
  const S8Rounding rounding = GENERATE(S8Rounding::Double, S8Rounding::Single);
  const bool single = rounding == S8Rounding::Single;
  CAPTURE(single);
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {256});
  b.output(b.node("Floor", {x}, {"y"})->outputs[0]);
  auto graph = b.finish();
  x->quant = QuantParams{{0.5f}, {0}, -1, DType::Int8};
  graph->findValue("y")->quant = QuantParams{{2.0f}, {0}, -1, DType::Int8};
  CompiledDevice device = compileDevice(*graph, Precision::Int8, KernelIsa::Plain, rounding);
  REQUIRE(device.program.calls.size() == 1);
  CHECK(device.program.calls[0].function == "es_lut_s8");

  std::vector<uint8_t> codes;
  for (int q = -128; q < 128; ++q) codes.push_back(static_cast<uint8_t>(static_cast<int8_t>(q)));
  Executor executor(device.program);
  const std::vector<uint8_t> out = executor.runRaw({codes})[0];
  auto output = [&](int q) { return static_cast<int8_t>(out[static_cast<size_t>(q + 128)]); };
  // floor(0.5 q) / 2 for q = 2, 10, -1, -6: 0.5, 2.5, -0.5 and -1.5 steps.
  CHECK(output(2) == (single ? 0 : 1));
  CHECK(output(10) == (single ? 2 : 3));
  CHECK(output(-1) == (single ? 0 : -1));
  CHECK(output(-6) == -2);
  for (int q = -128; q < 128; ++q) {
    const double steps = std::floor(0.5 * q) / 2.0;
    CHECK(output(q) == (single ? std::nearbyint(steps) : std::round(steps)));
  }
}

TEST_CASE("int8 table entries saturate, and NaN takes each rule's code", "[lowering]") {
  const TensorQuant output{0.25, 10};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> values = {nan, INFINITY, -INFINITY, 1000.0f, -1000.0f, 0.625f, -0.625f};
  // 0.625 / 0.25 = 2.5 steps: 13 away from zero, 12 to even; -2.5: 7 and 8.
  CHECK(ops::quantizeLookupTable(values, output, S8Rounding::Double) ==
        std::vector<int8_t>{10, 127, -128, 127, -128, 13, 7});
  // onnxruntime's QuantizeLinear clamps a NaN to its lowest code.
  CHECK(ops::quantizeLookupTable(values, output, S8Rounding::Single) ==
        std::vector<int8_t>{-128, 127, -128, 127, -128, 12, 8});
}

TEST_CASE("Clip with run-time bounds is rejected", "[lowering]") {
  auto build = [] {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {4});
    Value *lo = b.input("lo", DType::Float32, {});
    b.output(b.node("Clip", {x, lo}, {"y"})->outputs[0]);
    return b.finish();
  };
  CHECK_THROWS_WITH(
      runLowered(build, {randomTensor({4}, 1), Tensor::scalar(0.0f)}, Precision::Float32),
      Contains("constant scalar min and max"));
}

TEST_CASE("softmax normalises along the axis of its opset", "[lowering]") {
  struct Case {
    int opset;
    std::optional<int64_t> axis;
  };
  const Precision precision = GENERATE(Precision::Float32, Precision::Int8);
  for (const Case &c : {Case{13, std::nullopt}, Case{13, 1}, Case{13, 0}, Case{13, -2},
                        Case{11, std::nullopt}, Case{11, 2}, Case{11, 0}}) {
    CAPTURE(c.opset, c.axis ? std::to_string(*c.axis) : "default", precisionName(precision));
    const LoweredRun run = runLowered(singleNode({2, 3, 4, 5},
                                                 [c](GraphBuilder &b, Value *x) {
                                                   AttributeMap attributes;
                                                   if (c.axis) attributes.set("axis", *c.axis);
                                                   Node *node =
                                                       b.node("Softmax", {x}, {"y"}, attributes);
                                                   node->opset = c.opset;
                                                   return node;
                                                 }),
                                      {randomTensor({2, 3, 4, 5}, 13, -3.0f, 3.0f)}, precision);
    CHECK(run.calls == 1);
    check(run, precision);
  }
}

TEST_CASE("int8 softmax rejects lines longer than its exact sum allows", "[lowering]") {
  CHECK_THROWS_WITH(
      runLowered(singleNode({1, 65536}, [](GraphBuilder &b,
                                           Value *x) { return b.node("Softmax", {x}, {"y"}); }),
                 {randomTensor({1, 65536}, 1)}, Precision::Int8),
      Contains("at most 65535 elements"));
}

TEST_CASE("concat joins activations along any axis", "[lowering]") {
  const Precision precision = GENERATE(Precision::Float32, Precision::Int8);
  for (int64_t axis : {0, 1, 2, -1}) {
    CAPTURE(axis, precisionName(precision));
    // Different ranges give the int8 inputs different parameters, rescaled to the output's.
    const Shape a{2, 3, 4};
    Shape c = a;
    c[axis < 0 ? 2 : axis] = 2;
    auto build = [&] {
      GraphBuilder g;
      Value *x = g.input("x", DType::Float32, {});
      x->shape = a;
      Value *y = g.input("y", DType::Float32, {});
      y->shape = a;
      Value *z = g.input("z", DType::Float32, {});
      z->shape = c;
      g.output(g.node("Concat", {x, y, z}, {"out"}, attrs({{"axis", axis}}))->outputs[0]);
      return g.finish();
    };
    const LoweredRun run = runLowered(
        build,
        {randomTensor(a, 1), randomTensor(a, 2, -4.0f, 0.5f), randomTensor(c, 3, 0.0f, 3.0f)},
        precision);
    CHECK(run.calls == 1);
    check(run, precision);
  }
}

// The output's bytes are the quantised input's: within half a step of the float values.
void checkMovedUnchanged(const LoweredRun &run) {
  const auto expected = run.reference[0].values<float>();
  const auto actual = run.lowered[0].values<float>();
  REQUIRE(expected.size() == actual.size());
  for (size_t i = 0; i < expected.size(); ++i)
    CHECK(std::fabs(actual[i] - expected[i]) <= 0.5f * run.outputScales[0] + 1e-6f);
}

TEST_CASE("int8 concat copies inputs that have the output's parameters", "[lowering]") {
  // The Transpose keeps x's parameters, and the output's range is x's: nothing is rescaled.
  auto build = [] {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {3, 3});
    Value *t = b.node("Transpose", {x}, {"t"})->outputs[0];
    b.output(b.node("Concat", {x, t}, {"y"}, attrs({{"axis", int64_t{0}}}))->outputs[0]);
    return b.finish();
  };
  checkMovedUnchanged(runLowered(build, {randomTensor({3, 3}, 4)}, Precision::Int8));
}

TEST_CASE("concat of constants copies each input in float32 and quantises them in int8",
          "[lowering]") {
  // A learned token before a sequence, another after it, along the middle axis.
  auto build = [] {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {2, 3, 4});
    Value *first = b.constant("first", randomTensor({2, 1, 4}, 1));
    Value *last = b.constant("last", randomTensor({2, 2, 4}, 3));
    b.output(
        b.node("Concat", {first, x, last}, {"y"}, attrs({{"axis", int64_t{1}}}))->outputs[0]);
    return b.finish();
  };
  const LoweredRun run = runLowered(build, {randomTensor({2, 3, 4}, 2)}, Precision::Float32);
  CHECK(run.functions == std::vector<std::string>(3, "es_strided_copy_f32"));
  REQUIRE(run.lowered[0].shape() == run.reference[0].shape());
  CHECK(run.lowered[0].values<float>().vec() == run.reference[0].values<float>().vec());
  // int8: one es_concat_s8 whose list holds the constants, quantised in the output's parameters
  // (so within half a step of their float values), and the rescaled activation.
  const LoweredRun int8 = runLowered(build, {randomTensor({2, 3, 4}, 2)}, Precision::Int8);
  CHECK(int8.functions == std::vector<std::string>{"es_concat_s8"});
  checkInt8(int8);
}

TEST_CASE("pad lowers constant, edge and reflect modes up to 4-D", "[lowering]") {
  struct Case {
    std::string mode;
    Shape shape;
    std::vector<int64_t> pads;
    float value;
  };
  const Precision precision = GENERATE(Precision::Float32, Precision::Int8);
  const std::vector<Case> cases = {
      {"constant", {3, 4}, {1, 2, 0, 1}, 0.0f},
      {"constant", {2, 3, 4}, {0, 1, 1, 1, 0, 2}, 0.5f},
      {"constant", {1, 2, 3, 4}, {0, 0, 1, -1, 0, 0, 2, 1}, 0.0f},
      {"edge", {2, 3, 4}, {1, 0, 2, 0, 2, 1}, 0.0f},
      {"reflect", {1, 2, 4, 5}, {0, 0, 2, 3, 0, 0, 3, 4}, 0.0f},
      {"reflect", {5}, {3, 4}, 0.0f},
  };
  for (const Case &c : cases) {
    for (int opset : {2, 13}) {
      CAPTURE(c.mode, formatShape(c.shape), formatShape(c.pads), opset, precisionName(precision));
      const LoweredRun run =
          runLowered(singleNode(c.shape,
                                [&c, opset](GraphBuilder &b, Value *x) {
                                  AttributeMap attributes = attrs({{"mode", c.mode}});
                                  Node *node;
                                  if (opset < 11) {
                                    attributes.set("pads", c.pads);
                                    attributes.set("value", c.value);
                                    node = b.node("Pad", {x}, {"y"}, attributes);
                                  } else {
                                    Value *pads = b.constant(
                                        "pads", Tensor::fromVector<int64_t>(
                                                    {static_cast<int64_t>(c.pads.size())}, c.pads));
                                    Value *value = b.constant("value", Tensor::scalar(c.value));
                                    node = b.node("Pad", {x, pads, value}, {"y"}, attributes);
                                  }
                                  node->opset = opset;
                                  return node;
                                }),
                     {randomTensor(c.shape, 21)}, precision);
      CHECK(run.calls == 1);
      check(run, precision);
    }
  }
}

TEST_CASE("transpose lowers ranks 2 to 4 and rejects 5-D", "[lowering]") {
  struct Case {
    Shape shape;
    std::optional<std::vector<int64_t>> perm;
  };
  const Precision precision = GENERATE(Precision::Float32, Precision::Int8);
  const std::vector<Case> cases = {
      {{3, 5}, std::nullopt},
      {{2, 3, 4}, std::vector<int64_t>{1, 2, 0}},
      {{2, 3, 4}, std::nullopt},
      {{2, 3, 4, 5}, std::vector<int64_t>{0, 2, 3, 1}},
      {{2, 3, 4, 5}, std::vector<int64_t>{3, 1, 0, 2}},
  };
  for (const Case &c : cases) {
    CAPTURE(formatShape(c.shape), precisionName(precision));
    const LoweredRun run =
        runLowered(singleNode(c.shape,
                              [&c](GraphBuilder &b, Value *x) {
                                AttributeMap attributes;
                                if (c.perm) attributes.set("perm", *c.perm);
                                return b.node("Transpose", {x}, {"y"}, attributes);
                              }),
                   {randomTensor(c.shape, 31)}, precision);
    CHECK(run.calls == 1);
    check(run, precision);
  }
  CHECK_THROWS_WITH(runLowered(singleNode({1, 2, 1, 2, 3},
                                          [](GraphBuilder &b, Value *x) {
                                            return b.node("Transpose", {x}, {"y"});
                                          }),
                               {randomTensor({1, 2, 1, 2, 3}, 32)}, precision),
                    Contains("up to 4 dimensions"));
}

TEST_CASE("reshape, flatten, squeeze and unsqueeze move no data", "[lowering]") {
  const Precision precision = GENERATE(Precision::Float32, Precision::Int8);
  CAPTURE(precisionName(precision));
  auto build = [] {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {2, 3, 4});
    Value *r = b.node("Reshape", {x, b.constant("shape", int64s({4, 1, 6}))}, {"r"})->outputs[0];
    Value *s = b.node("Squeeze", {r, b.constant("axes", int64s({1}))}, {"s"})->outputs[0];
    Value *u = b.node("Unsqueeze", {s, b.constant("uaxes", int64s({0, 3}))}, {"u"})->outputs[0];
    b.output(b.node("Flatten", {u}, {"y"}, attrs({{"axis", int64_t{2}}}))->outputs[0]);
    return b.finish();
  };
  const LoweredRun run = runLowered(build, {randomTensor({2, 3, 4}, 41)}, precision);
  CHECK(run.calls == 4);
  if (precision == Precision::Int8)
    checkMovedUnchanged(run);
  else
    checkFloat(run);
}

} // namespace
} // namespace edgesplit::testing
