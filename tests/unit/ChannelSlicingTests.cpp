// Channel slices (fleet/ChannelSlicing.h): the rewrites' shapes, weights and per-channel
// parameters, and the sliced graph against the whole one — float32 in the reference interpreter
// and the float32 kernels, int8 in the runtime-c kernels (what the generated C runs) — exactly.
#include "GraphBuilder.h"

#include "codegen/DeviceCompiler.h"
#include "codegen/Executor.h"
#include "codegen/FuseActivations.h"
#include "codegen/Lowering.h"
#include "fleet/ChannelSlicing.h"
#include "frontend/OnnxImporter.h"
#include "interp/Interpreter.h"
#include "ir/Verifier.h"
#include "partition/Partition.h"
#include "support/Error.h"

#include <catch.hpp>
#include <fmt/ranges.h>

#include <filesystem>
#include <functional>
#include <set>
#include <tuple>

using namespace edgesplit;
using namespace edgesplit::testing;

namespace {

// Deterministic values in [-1, 1) (a linear congruential generator), never all zero.
Tensor pseudoRandom(Shape shape, uint32_t seed) {
  Tensor tensor(DType::Float32, shape);
  uint32_t state = seed * 2654435761u + 1;
  for (float &value : tensor.mutableValues<float>()) {
    state = state * 1664525u + 1013904223u;
    value = static_cast<float>(state >> 8) / static_cast<float>(1u << 23) - 1.0f;
  }
  return tensor;
}

struct ConvOptions {
  int64_t channels = 8;
  bool depthwiseFollower = false; // Relu -> Pad -> depthwise Conv (stride 2) -> Relu after it
  bool perTensorWeights = false;  // as a pre-quantised model may give them
};

// x [1, 3, 7, 7] -> Conv 3x3 (pads 1, bias) -> y, or with the followers.
std::unique_ptr<Graph> convModel(const ConvOptions &options) {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 3, 7, 7});
  const int64_t c = options.channels;
  Value *w = b.constant("w", pseudoRandom({c, 3, 3, 3}, 1));
  Value *bias = b.constant("b", pseudoRandom({c}, 2));
  if (options.perTensorWeights) {
    double largest = 0;
    for (float v : w->constant->values<float>()) largest = std::max(largest, std::fabs(double(v)));
    QuantParams quant;
    quant.scales = {static_cast<float>(largest / 127)};
    quant.zeroPoints = {0};
    w->quant = quant;
  }
  const AttributeMap pads = attrs({{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  Node *conv = b.node("Conv", {x, w, bias}, {"conv"}, pads);
  conv->name = "layer";
  if (!options.depthwiseFollower) {
    b.output(b.value("conv"));
    return b.finish();
  }
  b.node("Relu", {b.value("conv")}, {"relu"});
  Value *padding = b.constant("pads", Tensor::fromVector<int64_t>({8}, {0, 0, 1, 1, 0, 0, 1, 1}));
  b.node("Pad", {b.value("relu"), padding}, {"padded"});
  Value *dw = b.constant("dw", pseudoRandom({c, 1, 3, 3}, 3));
  Value *dwBias = b.constant("dwb", pseudoRandom({c}, 4));
  b.node("Conv", {b.value("padded"), dw, dwBias}, {"depthwise"},
         attrs({{"group", c}, {"strides", std::vector<int64_t>{2, 2}}}));
  b.node("Relu", {b.value("depthwise")}, {"y"});
  b.output(b.value("y"));
  return b.finish();
}

// x [2, 12] -> Gemm (B [n, 12], transB = 1, bias [n]) -> Relu -> y
std::unique_ptr<Graph> gemmModel(int64_t n) {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2, 12});
  Node *gemm = b.node("Gemm", {x, b.constant("w", pseudoRandom({n, 12}, 5)),
                               b.constant("b", pseudoRandom({n}, 6))},
                      {"fc"}, attrs({{"transB", int64_t{1}}}));
  gemm->name = "layer";
  b.node("Relu", {b.value("fc")}, {"y"});
  b.output(b.value("y"));
  return b.finish();
}

// x [1, 3, 12] -> MatMul (B [12, n]) -> y
std::unique_ptr<Graph> matMulModel(int64_t n) {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 3, 12});
  Node *matmul = b.node("MatMul", {x, b.constant("w", pseudoRandom({12, n}, 7))}, {"y"});
  matmul->name = "layer";
  b.output(b.value("y"));
  return b.finish();
}

// x [1, 3, 6, 6] -> Conv 1x1 'layer' (7 out) -> Add (one shift per channel) -> Sigmoid (a table
// in int8) -> MaxPool 2x2 -> GlobalAveragePool -> y: every follower sinks.
std::unique_ptr<Graph> affineTableModel() {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 3, 6, 6});
  b.node("Conv", {x, b.constant("w", pseudoRandom({7, 3, 1, 1}, 11))}, {"conv"})->name = "layer";
  b.node("Add", {b.value("conv"), b.constant("shift", pseudoRandom({7, 1, 1}, 12))}, {"add"});
  b.node("Sigmoid", {b.value("add")}, {"sigmoid"});
  b.node("MaxPool", {b.value("sigmoid")}, {"pool"},
         attrs({{"kernel_shape", std::vector<int64_t>{2, 2}},
                {"strides", std::vector<int64_t>{2, 2}}}));
  b.node("GlobalAveragePool", {b.value("pool")}, {"y"});
  b.output(b.value("y"));
  return b.finish();
}

// x [1, 3, 6, 6] -> Conv 1x1 'layer' (6 out) -> Sigmoid -> Add 0.5 -> Reciprocal (tf2onnx's
// rsqrt ends in one; a table in int8, its input in (0.5, 1.5)) -> MaxPool 2x2 -> y: every follower
// sinks.
std::unique_ptr<Graph> reciprocalModel() {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 3, 6, 6});
  b.node("Conv", {x, b.constant("w", pseudoRandom({6, 3, 1, 1}, 13))}, {"conv"})->name = "layer";
  b.node("Sigmoid", {b.value("conv")}, {"sigmoid"});
  b.node("Add", {b.value("sigmoid"), b.constant("half", Tensor::fromVector<float>({1}, {0.5f}))},
         {"positive"});
  b.node("Reciprocal", {b.value("positive")}, {"inverse"});
  b.node("MaxPool", {b.value("inverse")}, {"y"},
         attrs({{"kernel_shape", std::vector<int64_t>{2, 2}},
                {"strides", std::vector<int64_t>{2, 2}}}));
  b.output(b.value("y"));
  return b.finish();
}

std::vector<std::vector<Tensor>> samplesFor(const Graph &graph) {
  std::vector<std::vector<Tensor>> samples;
  for (uint32_t s = 0; s < 4; ++s) {
    std::vector<Tensor> sample;
    for (const Value *input : graph.inputs) sample.push_back(pseudoRandom(*input->shape, 100 + s));
    samples.push_back(std::move(sample));
  }
  return samples;
}

void annotate(Graph &graph) {
  prepareInt8(graph, calibrate(graph, samplesFor(graph), {}));
}

Node &nodeNamed(Graph &graph, const std::string &name) {
  for (const auto &node : graph.nodes())
    if (node->name == name) return *node;
  FAIL("no node " << name);
  throw;
}

size_t countOps(const Graph &graph, const std::string &opType) {
  size_t count = 0;
  for (const auto &node : graph.nodes()) count += node->opType == opType;
  return count;
}

using ModelMaker = std::function<std::unique_ptr<Graph>()>;

// Slices 'layer' of a fresh graph into k (sinking its followers) and returns the graph.
std::unique_ptr<Graph> slicedModel(const ModelMaker &make, int64_t k, bool int8) {
  auto graph = make();
  if (int8) annotate(*graph);
  SlicedLayer layer = sliceByOutputChannels(*graph, nodeNamed(*graph, "layer"), k);
  while (sinkChannelFollower(*graph, layer)) {
  }
  return graph;
}

// Outputs of `graph`'s program for every sample, as raw bytes.
std::vector<std::vector<std::vector<uint8_t>>> programOutputs(Graph &graph, Precision precision,
                                                              KernelIsa isa) {
  const auto samples = samplesFor(graph);
  CompiledDevice device = compileDevice(graph, precision, isa, S8Rounding::Double);
  std::vector<std::vector<std::vector<uint8_t>>> outputs;
  for (const auto &sample : samples) {
    Executor executor(device.program);
    outputs.push_back(executor.runRaw(executor.quantizeInputs(sample)));
  }
  return outputs;
}

// The sliced graph computes exactly what the whole one does: the float32 reference interpreter,
// the float32 kernels and the int8 kernels (plain and DSP), sample by sample, bit for bit.
void checkEquivalent(const ModelMaker &make, int64_t k) {
  INFO("k = " << k);
  {
    auto whole = make(), parts = slicedModel(make, k, false);
    for (const auto &sample : samplesFor(*whole)) {
      const auto expected = Interpreter(*whole).run(sample);
      const auto actual = Interpreter(*parts).run(sample);
      REQUIRE(expected.size() == actual.size());
      for (size_t i = 0; i < expected.size(); ++i) CHECK(expected[i] == actual[i]);
    }
    CHECK(programOutputs(*whole, Precision::Float32, KernelIsa::Plain) ==
          programOutputs(*parts, Precision::Float32, KernelIsa::Plain));
  }
  for (KernelIsa isa : {KernelIsa::Plain, KernelIsa::Dsp}) {
    auto whole = make();
    annotate(*whole);
    auto parts = slicedModel(make, k, true);
    // The joining Concat copies: every input carries its output's parameters.
    for (const auto &node : parts->nodes())
      if (node->opType == "Concat")
        for (const Value *input : node->inputs) {
          CHECK(input->quant->scales == node->outputs[0]->quant->scales);
          CHECK(input->quant->zeroPoints == node->outputs[0]->quant->zeroPoints);
        }
    CHECK(programOutputs(*whole, Precision::Int8, isa) ==
          programOutputs(*parts, Precision::Int8, isa));
  }
}

} // namespace

TEST_CASE("slice counts: as equal as possible, the first ones larger", "[slicing]") {
  CHECK(sliceChannelCounts(8, 2) == std::vector<int64_t>{4, 4});
  CHECK(sliceChannelCounts(8, 3) == std::vector<int64_t>{3, 3, 2});
  CHECK(sliceChannelCounts(7, 7) == std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1});
}

TEST_CASE("a Conv sliced by output channels: shapes, weights, bias, per-channel parameters",
          "[slicing]") {
  auto graph = convModel({.channels = 8});
  annotate(*graph);
  const Node &layer = nodeNamed(*graph, "layer");
  const Tensor weights = *layer.inputs[1]->constant, bias = *layer.inputs[2]->constant;
  const QuantParams weightQuant = *layer.inputs[1]->quant, outputQuant = *layer.outputs[0]->quant;
  REQUIRE(weightQuant.scales.size() == 8);

  SlicedLayer sliced = sliceByOutputChannels(*graph, nodeNamed(*graph, "layer"), 3);
  CHECK_NOTHROW(verifyGraph(*graph));
  REQUIRE(sliced.slices.size() == 3);
  CHECK(sliced.first == std::vector<int64_t>{0, 3, 6});
  CHECK(sliced.count == std::vector<int64_t>{3, 3, 2});
  CHECK(countOps(*graph, "Conv") == 3);
  for (size_t i = 0; i < 3; ++i) {
    const Node &slice = *sliced.slices[i];
    const int64_t first = sliced.first[i], count = sliced.count[i];
    CHECK(slice.name == "layer/slice" + std::to_string(i));
    CHECK(slice.inputs[0] == graph->findValue("x"));
    CHECK(*slice.outputs[0]->shape == Shape{1, count, 7, 7});
    const Tensor &w = *slice.inputs[1]->constant;
    REQUIRE(w.shape() == llvm::ArrayRef<int64_t>{count, 3, 3, 3});
    for (int64_t j = 0; j < w.numElements(); ++j)
      CHECK(w.values<float>()[j] == weights.values<float>()[first * 27 + j]);
    for (int64_t c = 0; c < count; ++c) {
      CHECK(slice.inputs[2]->constant->values<float>()[c] == bias.values<float>()[first + c]);
      CHECK(slice.inputs[1]->quant->scales[c] == weightQuant.scales[first + c]);
      CHECK(slice.inputs[2]->quant->scales[c] ==
            graph->findValue("x")->quant->scales[0] * weightQuant.scales[first + c]);
    }
    CHECK(slice.inputs[1]->quant->axis == 0);
    CHECK(slice.outputs[0]->quant->scales == outputQuant.scales);
    CHECK(slice.outputs[0]->quant->zeroPoints == outputQuant.zeroPoints);
  }
  // The Concat writes the layer's output value itself: its readers and the graph output keep it.
  CHECK(sliced.concat->outputs[0] == graph->findValue("conv"));
  CHECK(graph->outputs[0].value == graph->findValue("conv"));
  CHECK(sliced.concat->attributes.getInt("axis") == 1);
  CHECK(!graph->findValue("w")); // the whole weights are gone
  // Nothing reads the Concat but the graph output: it stays last.
  CHECK_FALSE(sinkChannelFollower(*graph, sliced));
}

TEST_CASE("per-tensor weight parameters are shared by every slice", "[slicing]") {
  auto graph = convModel({.channels = 6, .perTensorWeights = true});
  annotate(*graph);
  const float scale = nodeNamed(*graph, "layer").inputs[1]->quant->scales[0];
  SlicedLayer sliced = sliceByOutputChannels(*graph, nodeNamed(*graph, "layer"), 2);
  for (const Node *slice : sliced.slices) {
    CHECK(slice->inputs[1]->quant->scales == llvm::SmallVector<float, 1>{scale});
    CHECK(slice->inputs[1]->quant->axis == -1);
  }
}

TEST_CASE("followers sink into the slices: activation, spatial Pad, depthwise Conv", "[slicing]") {
  auto graph = convModel({.channels = 8, .depthwiseFollower = true});
  annotate(*graph);
  SlicedLayer sliced = sliceByOutputChannels(*graph, nodeNamed(*graph, "layer"), 3);
  int sunk = 0;
  while (sinkChannelFollower(*graph, sliced)) ++sunk;
  CHECK(sunk == 4); // Relu, Pad, depthwise Conv, Relu
  CHECK(countOps(*graph, "Relu") == 6);
  CHECK(countOps(*graph, "Pad") == 3);
  CHECK(countOps(*graph, "Conv") == 6);
  CHECK(countOps(*graph, "Concat") == 1);
  CHECK(sliced.concat->outputs[0] == graph->findValue("y"));
  CHECK(graph->nodes().back().get() == sliced.concat);
  for (size_t i = 0; i < 3; ++i) {
    const Node &relu = *sliced.tails[i];
    const Node &depthwise = *relu.inputs[0]->producer;
    CHECK(depthwise.attributes.getInt("group") == sliced.count[i]);
    CHECK(depthwise.inputs[1]->constant->dim(0) == sliced.count[i]);
    CHECK(depthwise.inputs[1]->quant->scales.size() == static_cast<size_t>(sliced.count[i]));
    CHECK(*relu.outputs[0]->shape == Shape{1, sliced.count[i], 4, 4});
  }
}

TEST_CASE("a Pad sinks only when what follows it sinks too; shared readers stay", "[slicing]") {
  SECTION("Pad last: sinking it would gather a larger tensor") {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {1, 2, 4, 4});
    b.node("Conv", {x, b.constant("w", pseudoRandom({4, 2, 1, 1}, 9))}, {"conv"})->name = "layer";
    b.node("Pad", {b.value("conv"), b.constant("p", Tensor::fromVector<int64_t>(
                                                         {8}, {0, 0, 1, 1, 0, 0, 1, 1}))},
           {"y"});
    b.output(b.value("y"));
    auto graph = b.finish();
    SlicedLayer sliced = sliceByOutputChannels(*graph, nodeNamed(*graph, "layer"), 2);
    CHECK_FALSE(sinkChannelFollower(*graph, sliced));
  }
  SECTION("two readers of the layer: the gather is needed anyway") {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {1, 2, 4, 4});
    b.node("Conv", {x, b.constant("w", pseudoRandom({4, 2, 1, 1}, 9))}, {"conv"})->name = "layer";
    b.node("Relu", {b.value("conv")}, {"y"});
    b.node("Sigmoid", {b.value("conv")}, {"z"});
    b.output(b.value("y"));
    b.output(b.value("z"));
    auto graph = b.finish();
    SlicedLayer sliced = sliceByOutputChannels(*graph, nodeNamed(*graph, "layer"), 2);
    CHECK_FALSE(sinkChannelFollower(*graph, sliced));
  }
  SECTION("a per-channel Add sinks with its share of the constant, a pool across channels not") {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {1, 2, 4, 4});
    b.node("Conv", {x, b.constant("w", pseudoRandom({4, 2, 1, 1}, 9))}, {"conv"})->name = "layer";
    b.node("Add", {b.value("conv"), b.constant("shift", pseudoRandom({4, 1, 1}, 10))}, {"add"});
    b.node("Transpose", {b.value("add")}, {"y"});
    b.output(b.value("y"));
    auto graph = b.finish();
    const Tensor shift = *graph->findValue("shift")->constant;
    SlicedLayer sliced = sliceByOutputChannels(*graph, nodeNamed(*graph, "layer"), 2);
    CHECK(sinkChannelFollower(*graph, sliced));
    CHECK_FALSE(sinkChannelFollower(*graph, sliced));
    const Tensor &second = *sliced.tails[1]->inputs[1]->constant;
    CHECK(second.shape() == llvm::ArrayRef<int64_t>{2, 1, 1});
    CHECK(second.values<float>()[0] == shift.values<float>()[2]);
  }
}

TEST_CASE("what cannot be sliced by output channels", "[slicing]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 4, 5, 5});
  Value *m = b.input("m", DType::Float32, {4, 3});
  Node *grouped = b.node("Conv", {x, b.constant("w", pseudoRandom({4, 2, 1, 1}, 1))}, {"g"},
                         attrs({{"group", int64_t{2}}}));
  Value *a = b.input("a", DType::Float32, {2, 4});
  Node *activations = b.node("MatMul", {a, m}, {"mm"});
  Node *transposedA = b.node("Gemm", {b.input("t", DType::Float32, {4, 2}),
                                      b.constant("v", pseudoRandom({4, 3}, 2))},
                             {"gt"}, attrs({{"transA", int64_t{1}}}));
  Node *gemm = b.node("Gemm", {a, b.constant("u", pseudoRandom({4, 3}, 3))}, {"gemm"});
  Node *rowBias = b.node("Gemm", {a, b.constant("r", pseudoRandom({4, 3}, 4)),
                                  b.constant("rb", pseudoRandom({2, 3}, 5))},
                         {"rows"});
  Node *columnBias = b.node("Gemm", {a, b.constant("c", pseudoRandom({4, 3}, 6)),
                                     b.constant("cb", pseudoRandom({1, 3}, 7))},
                            {"columns"});
  for (const char *name : {"g", "mm", "gt", "gemm", "rows", "columns"}) b.output(b.value(name));
  auto graph = b.finish();
  CHECK_FALSE(sliceableChannelAxis(*rowBias)); // a bias per row and column
  CHECK(sliceableChannelAxis(*columnBias) == 1);
  CHECK_FALSE(sliceableChannelAxis(*grouped));
  CHECK_FALSE(sliceableChannelAxis(*activations));
  CHECK_FALSE(sliceableChannelAxis(*transposedA));
  CHECK(sliceableChannelAxis(*gemm) == 1);
  CHECK_THROWS_WITH(sliceByOutputChannels(*graph, *gemm, 4),
                    Catch::Contains("3 output channels, not enough for 4 slices"));
}

TEST_CASE("sliced Conv, Gemm and MatMul equal the whole layer exactly", "[slicing]") {
  SECTION("Conv, per-channel weights") {
    for (int64_t k : {2, 3, 5})
      checkEquivalent([] { return convModel({.channels = 8}); }, k);
  }
  SECTION("Conv, per-tensor weights") {
    for (int64_t k : {2, 3})
      checkEquivalent([] { return convModel({.channels = 7, .perTensorWeights = true}); }, k);
  }
  SECTION("Conv with its depthwise followers sunk") {
    for (int64_t k : {2, 3})
      checkEquivalent([] { return convModel({.channels = 8, .depthwiseFollower = true}); }, k);
  }
  SECTION("Conv with a per-channel Add, a table activation and pools sunk") {
    auto graph = slicedModel(affineTableModel, 3, true);
    CHECK(countOps(*graph, "GlobalAveragePool") == 3);
    for (int64_t k : {2, 3}) checkEquivalent(affineTableModel, k);
  }
  SECTION("Conv with a Reciprocal among its followers") {
    auto graph = slicedModel(reciprocalModel, 3, true);
    CHECK(countOps(*graph, "Reciprocal") == 3);
    CHECK(countOps(*graph, "MaxPool") == 3);
    for (int64_t k : {2, 3}) checkEquivalent(reciprocalModel, k);
  }
  SECTION("Gemm") {
    for (int64_t k : {2, 3, 4}) checkEquivalent([] { return gemmModel(10); }, k);
  }
  SECTION("MatMul") {
    for (int64_t k : {2, 3}) checkEquivalent([] { return matMulModel(7); }, k);
  }
}

namespace {

// A camera device, `workers` workers of `workerKib` KiB of RAM and an aggregator of `hubKib`.
// `extra`: more top-level members (", \"placement\": {...}").
Topology fleet(int workers, int workerKib, int hubKib, const std::string &extra = "") {
  std::string devices = R"({"name": "cam", "target": "cortex-m4", "clock_mhz": 64, "ram_kib": 8,
                            "flash_kib": 256, "sensors": ["cam"]},)";
  std::string links = R"({"from": "cam", "to": "hub", "kbps": 1000, "latency_ms": 1, "mtu": 244,
                          "nj_per_byte": 80})";
  for (int w = 0; w < workers; ++w) {
    devices += fmt::format(R"({{"name": "w{}", "target": "cortex-m4", "clock_mhz": 64,
                               "ram_kib": {}, "flash_kib": 256, "role": "worker"}},)",
                           w, workerKib);
    links += fmt::format(R"(, {{"from": "cam", "to": "w{0}", "kbps": 1000, "latency_ms": 1,
                               "mtu": 244, "nj_per_byte": 80}},
                              {{"from": "w{0}", "to": "hub", "kbps": 1000, "latency_ms": 1,
                               "mtu": 244, "nj_per_byte": 80}})",
                         w);
  }
  devices += fmt::format(R"({{"name": "hub", "target": "cortex-m4", "clock_mhz": 64,
                             "ram_kib": {}, "flash_kib": 256, "role": "aggregator"}})",
                         hubKib);
  return parseTopology(fmt::format(R"({{"schema": "edgesplit-topology/1", "devices": [{}],
                                        "sensor_groups": {{"cam": ["x"]}}, "links": [{}]{}}})",
                                   devices, links, extra),
                       "fleet.json");
}

// x [1, 8, 32, 32] (8 KiB int8) -> Conv 1x1 to 32 channels (32 KiB) -> Relu -> MaxPool 2x2 -> y
std::unique_ptr<Graph> wideConvModel() {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 8, 32, 32});
  b.node("Conv", {x, b.constant("w", pseudoRandom({32, 8, 1, 1}, 1)),
                  b.constant("b", pseudoRandom({32}, 2))},
         {"conv"})
      ->name = "layer";
  b.node("Relu", {b.value("conv")}, {"relu"});
  b.node("MaxPool", {b.value("relu")}, {"y"},
         attrs({{"kernel_shape", std::vector<int64_t>{2, 2}},
                {"strides", std::vector<int64_t>{2, 2}}}));
  b.output(b.value("y"));
  return b.finish();
}

} // namespace

TEST_CASE("sliceOversizedLayers: the smallest k that enough devices take", "[slicing]") {
  // int8: the 8 KiB input and 1 KiB of output per channel (the Relu fuses, the pool's quarter
  // is smaller); a worker reassembles the input it receives in its arena, where the chain counts
  // it. A worker's budget is its RAM less the 1 KiB stack and a 244-byte frame buffer.
  SECTION("a layer some device holds whole is not sliced") {
    auto graph = wideConvModel();
    annotate(*graph);
    const ChannelSlicePlan plan = sliceOversizedLayers(*graph, fleet(2, 24, 48), Precision::Int8);
    CHECK(plan.layers.empty());
    CHECK(countOps(*graph, "Conv") == 1);
  }
  SECTION("24 KiB workers hold 14 channels, so k = 3") {
    auto graph = wideConvModel();
    annotate(*graph);
    const Node &layer = nodeNamed(*graph, "layer");
    const Topology topology = fleet(4, 24, 24);
    const size_t cam = 0, worker = 1;
    // The placement's estimate on a worker: the received input (from its first step) beside the
    // output, the input's fragment bitmaps (38 frames, two rounds: 10 bytes), one frame buffer
    // for the output and the stack.
    const SliceNeed need = sliceNeed(*graph, layer, 11, Precision::Int8);
    CHECK(need.flashBytes == 11 * 8 + 11 * 4);
    const DeviceLoad load = sketchedStageLoad(topology, need.stage, worker, StageInputs::Received);
    CHECK(load.activationBytes == 8192 + 11 * 1024);
    CHECK(load.receiveBytes == 10);
    CHECK(load.frameBufferBytes == 244);
    CHECK(load.ramBytes == 8192 + 11 * 1024 + 10 + 244 + 1024);
    auto onWorker = [&](int64_t channels) {
      return sketchedStageLoad(topology, sliceNeed(*graph, layer, channels, Precision::Int8).stage,
                               worker, StageInputs::Received)
          .ramBytes;
    };
    CHECK(onWorker(14) <= 24576);
    CHECK(onWorker(15) > 24576);
    // A sensor device keeps the input it sends on beside the slice's output and its pool's.
    CHECK(sketchedStageLoad(topology, need.stage, cam, StageInputs::OwnSentOn).activationBytes ==
          8192 + 11 * 1024 + 11 * 256);
    const ChannelSlicePlan plan = sliceOversizedLayers(*graph, topology, Precision::Int8);
    REQUIRE(plan.layers.size() == 1);
    CHECK(plan.layers[0].count == std::vector<int64_t>{11, 11, 10});
    REQUIRE(plan.separate.size() == 1);
    CHECK(plan.separate[0].size() == 3);
    CHECK(countOps(*graph, "MaxPool") == 3); // Relu and MaxPool sunk: the Concat gathers 8 KiB
    CHECK(graph->nodes().back()->opType == "Concat");
  }
  SECTION("two workers: no k that as many devices take") {
    auto graph = wideConvModel();
    annotate(*graph);
    CHECK_THROWS_WITH(
        sliceOversizedLayers(*graph, fleet(2, 24, 24), Precision::Int8),
        Catch::Contains("layer 'layer' (Conv) fits no device: it needs 384 bytes of weights "
                        "and 40960 bytes of activations") &&
            Catch::Contains("'w0', has 253952 bytes of flash and 24576 bytes of RAM") &&
            Catch::Contains("add workers"));
  }
  SECTION("a layer the topology pins to a device stays whole") {
    auto graph = wideConvModel();
    annotate(*graph);
    const ChannelSlicePlan plan = sliceOversizedLayers(
        *graph, fleet(4, 40, 40, R"(, "placement": {"layer": "w0"})"), Precision::Int8);
    CHECK(plan.layers.empty());
    CHECK(countOps(*graph, "Conv") == 1);
  }
  SECTION("an input no device holds: slicing cannot help") {
    auto graph = wideConvModel();
    annotate(*graph);
    CHECK_THROWS_WITH(sliceOversizedLayers(*graph, fleet(8, 8, 8), Precision::Int8),
                      Catch::Contains("a one-channel slice needs 10740 bytes of RAM and 12 of "
                                      "flash"));
  }
  SECTION("float32: four times the bytes, more slices") {
    auto graph = wideConvModel();
    const ChannelSlicePlan plan =
        sliceOversizedLayers(*graph, fleet(8, 128, 128), Precision::Float32);
    // 129804 bytes, 32768 of them for the input: 23 channels of 4096 bytes, so k = 2.
    REQUIRE(plan.layers.size() == 1);
    CHECK(plan.layers[0].slices.size() == 2);
  }
}

// The rule and the placement judge a slice by one estimate: a device the rule counts as able to
// take a slice is one the placement lets hold it. Here the camera's budget less stack and frame
// buffer (25356 bytes) held 16 channels by the chain alone (8192 + 16384), so the rule chose two
// slices; but the camera sends its input on to the other slice and keeps it beside the slice's
// output and pool (28672 bytes of activations), so only 'wa' could take one, and the placement
// found nothing that fits. Sized by the placement's estimate: three slices of 11, 11 and 10
// channels (20734 bytes on a worker), placed within every device's RAM.
TEST_CASE("sliceOversizedLayers sizes slices with the placement's estimate", "[slicing]") {
  auto graph = wideConvModel();
  annotate(*graph);
  auto device = [](const char *name, int ramKib, const char *role) {
    return fmt::format(R"({{"name": "{}", "target": "cortex-m4", "clock_mhz": 64,
                            "ram_kib": {}, "flash_kib": 256, {}}})",
                       name, ramKib, role);
  };
  auto link = [](const char *from, const char *to) {
    return fmt::format(R"({{"from": "{}", "to": "{}", "kbps": 1000, "latency_ms": 1,
                            "mtu": 244, "nj_per_byte": 80}})",
                       from, to);
  };
  const Topology topology = parseTopology(
      fmt::format(R"({{"schema": "edgesplit-topology/1", "devices": [{}, {}, {}, {}, {}],
                      "sensor_groups": {{"cam": ["x"]}}, "links": [{}, {}, {}, {}, {}, {}, {}]}})",
                  device("cam", 26, R"("sensors": ["cam"])"),
                  device("wa", 26, R"("role": "worker")"), device("wb", 21, R"("role": "worker")"),
                  device("wc", 21, R"("role": "worker")"),
                  device("hub", 40, R"("role": "aggregator")"), link("cam", "wa"),
                  link("cam", "wb"), link("cam", "wc"), link("cam", "hub"), link("wa", "hub"),
                  link("wb", "hub"), link("wc", "hub")),
      "fleet.json");
  const ChannelSlicePlan plan = sliceOversizedLayers(*graph, topology, Precision::Int8);
  REQUIRE(plan.layers.size() == 1);
  CHECK(plan.layers[0].count == std::vector<int64_t>{11, 11, 10});

  const auto fused = fuseActivations(*graph);
  std::vector<const Node *> order;
  for (const auto &node : graph->nodes()) order.push_back(node.get());
  const Program whole =
      lowerGraph(*graph, Precision::Int8, kernelIsaOf({}), S8Rounding::Double, order, fused);
  PartitionRequest request;
  request.graph = graph.get();
  request.topology = &topology;
  request.precision = Precision::Int8;
  request.fused = &fused;
  request.wholeProgram = &whole;
  request.separate = plan.separate;
  const FleetPartition partition = partitionFleet(request);
  std::set<size_t> sliceDevices;
  for (const Node *slice : plan.layers[0].slices)
    for (size_t i = 0; i < graph->nodes().size(); ++i)
      if (graph->nodes()[i].get() == slice) sliceDevices.insert(partition.deviceOf[i]);
  CHECK(sliceDevices.size() == 3);
  for (size_t d = 0; d < topology.devices.size(); ++d) {
    INFO(topology.devices[d].name);
    CHECK(partition.placement.devices[d].ramBytes <= topology.devices[d].target.ramKib * 1024);
  }
}

// The examples' fleets (examples/mobilenet-fleet, examples/kws-fleet) over the shared real
// models: which layers no device holds, into how many slices, and the sliced graph verified.
TEST_CASE("sliceOversizedLayers on the examples' real models", "[slicing][real-models]") {
  const std::filesystem::path models = std::filesystem::path(EDGESPLIT_SHARED_DIR) / "real-models";
  if (!std::filesystem::exists(models)) {
    WARN("no " << models << "; skipping");
    return;
  }
  // What the rule of sliceOversizedLayers gives (docs/partition.md works the first through):
  // the layer (its name's end), the slices' channels and the chain each slice runs.
  struct Example {
    std::string model, topology;
    std::vector<std::tuple<std::string, std::vector<int64_t>, std::string>> slices;
  };
  const std::string source = EDGESPLIT_SOURCE_DIR;
  const Example examples[] = {
      {"kws_micro_m_fp32",
       source + "/examples/kws-fleet/topology.json",
       {{"conv2d/BiasAdd/ReadVariableOp", {8, 8}, "Conv -> Relu -> MaxPool"}}},
      {"st_mobilenet_v2_0.5_128_float",
       source + "/examples/mobilenet-fleet/topology.json",
       {{"LAYER_8/Conv2D", {12, 12, 12, 12}, "Conv -> Clip -> Pad -> Conv -> Clip"},
        {"LAYER_16/Conv2D", {40, 40}, "Conv -> Clip -> Conv -> Clip"},
        {"LAYER_25/Conv2D", {48, 48}, "Conv -> Clip -> Pad -> Conv -> Clip"}}},
  };
  for (const Example &example : examples) {
    INFO(example.model);
    auto graph = importOnnxModel(models / example.model / "model.onnx");
    normalizeGraph(*graph);
    const ChannelSlicePlan plan =
        sliceOversizedLayers(*graph, loadTopology(example.topology), Precision::Int8);
    CHECK_NOTHROW(verifyGraph(*graph));
    REQUIRE(plan.layers.size() == example.slices.size());
    for (size_t i = 0; i < plan.layers.size(); ++i) {
      const SlicedLayer &layer = plan.layers[i];
      std::string chain = layer.slices[0]->opType;
      for (const Node *node = layer.tails[0]; node != layer.slices[0];
           node = node->inputs[0]->producer)
        chain.insert(layer.slices[0]->opType.size(), " -> " + node->opType);
      fmt::print("{}: {} -> {} slices {}, each {}\n", example.model, layer.layer,
                 layer.slices.size(), fmt::join(layer.count, "/"), chain);
      const auto &[suffix, counts, wanted] = example.slices[i];
      CHECK(llvm::StringRef(layer.layer).endswith(suffix));
      CHECK(layer.count == counts);
      CHECK(chain == wanted);
      CHECK(plan.separate[i].size() == counts.size());
    }
  }
}
