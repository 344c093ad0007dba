// Spatial tiles (fleet/SpatialTiling.h): band rows, the halo each band reads through a chain,
// the pads each band's copy gets, and the chains that cannot be cut. (The tiled graph against
// the whole one, float32 and int8 through the generated C: tests/cli/test_spatial_tiles.py.)
#include "GraphBuilder.h"

#include "fleet/ChannelSlicing.h"
#include "fleet/SpatialTiling.h"
#include "frontend/OnnxImporter.h"
#include "ir/Verifier.h"
#include "passes/Passes.h"
#include "support/Error.h"

#include <catch.hpp>
#include <fmt/format.h>

#include <filesystem>

using namespace edgesplit;
using namespace edgesplit::testing;

namespace {

Node *named(const Graph &graph, const std::string &name) {
  for (const auto &node : graph.nodes())
    if (node->name == name) return node.get();
  return nullptr;
}

// x [1, 2, 10, 6] -> Conv 3x3 pads 1 'c1' -> Relu 'relu' -> Conv 3x3 stride 2 pads 1 'c2' [5
// rows] -> y; with `residual`, c1's output also goes through an Add with x ('add', before relu).
std::unique_ptr<Graph> twoConvModel(bool residual = false) {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 2, 10, 6});
  const AttributeMap pads = attrs({{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  b.node("Conv", {x, b.constant("w1", Tensor(DType::Float32, {2, 2, 3, 3}))}, {"c1"}, pads)
      ->name = "c1";
  Value *relued = b.value("c1");
  if (residual) {
    b.node("Add", {relued, x}, {"sum"})->name = "add";
    relued = b.value("sum");
  }
  b.node("Relu", {relued}, {"r"})->name = "relu";
  AttributeMap strided = pads;
  strided.set("strides", std::vector<int64_t>{2, 2});
  b.node("Conv", {b.value("r"), b.constant("w2", Tensor(DType::Float32, {3, 2, 3, 3}))}, {"y"},
         strided)
      ->name = "c2";
  b.output(b.value("y"));
  return b.finish();
}

TileChain chainOf(const Graph &graph, const std::string &first, const std::string &last,
                  std::string &whyNot) {
  return findTileChain(graph, *named(graph, first), *named(graph, last), whyNot);
}

} // namespace

TEST_CASE("band rows: contiguous, as equal as possible, the first ones larger", "[tiling]") {
  CHECK(bandRows(5, 2) == std::vector<RowRange>{{0, 3}, {3, 5}});
  CHECK(bandRows(8, 3) == std::vector<RowRange>{{0, 3}, {3, 6}, {6, 8}});
  CHECK(bandRows(4, 4) == std::vector<RowRange>{{0, 1}, {1, 2}, {2, 3}, {3, 4}});
}

TEST_CASE("band geometry: each band reads its rows plus the chain's halo, clipped", "[tiling]") {
  auto graph = twoConvModel();
  std::string whyNot;
  const TileChain chain = chainOf(*graph, "c1", "c2", whyNot);
  REQUIRE(whyNot.empty());
  REQUIRE(chain.nodes.size() == 3);
  const Value *x = graph->findValue("x"), *r = graph->findValue("r");
  // Band 0 of y: rows [0, 3) read r rows [-1, 6) -> [0, 6), hence x rows [0, 7).
  auto rows = bandGeometry(chain, {0, 3});
  CHECK(rows.lookup(r) == RowRange{0, 6});
  CHECK(rows.lookup(x) == RowRange{0, 7});
  // Band 1: rows [3, 5) read r rows [5, 10) (the bottom pad is never reached at stride 2).
  rows = bandGeometry(chain, {3, 5});
  CHECK(rows.lookup(r) == RowRange{5, 10});
  CHECK(rows.lookup(x) == RowRange{4, 10});
}

TEST_CASE("tiled chain: Slices of the input, pads only where a band meets the tensor's edge",
          "[tiling]") {
  auto graph = twoConvModel();
  std::string whyNot;
  const TiledChain tiled = tileChain(*graph, chainOf(*graph, "c1", "c2", whyNot), 2);
  REQUIRE(tiled.bands.size() == 2);
  CHECK(!named(*graph, "c1"));
  auto pads = [&](const std::string &name) {
    const Node *node = named(*graph, name);
    REQUIRE(node);
    return *node->attributes.getInts("pads");
  };
  CHECK(pads("c1/band0") == std::vector<int64_t>{1, 1, 0, 1});
  CHECK(pads("c2/band0") == std::vector<int64_t>{1, 1, 0, 1});
  CHECK(pads("c1/band1") == std::vector<int64_t>{0, 1, 1, 1});
  CHECK(pads("c2/band1") == std::vector<int64_t>{0, 1, 0, 1});
  // Each band reads its x rows through a Slice; the Concat writes y on the row axis.
  for (size_t band = 0; band < 2; ++band) {
    const Node *slice = tiled.bands[band].front();
    CHECK(slice->opType == "Slice");
    CHECK((*slice->outputs[0]->shape)[2] == (band == 0 ? 7 : 6));
  }
  CHECK(tiled.concat->outputs[0] == graph->findValue("y"));
  CHECK(tiled.concat->attributes.getInt("axis") == 2);
  CHECK((*named(*graph, "c2/band0")->outputs[0]->shape)[2] == 3);
  CHECK((*named(*graph, "c2/band1")->outputs[0]->shape)[2] == 2);
}

TEST_CASE("a residual Add reads the input rows it needs, cropped from the band's", "[tiling]") {
  auto graph = twoConvModel(true);
  std::string whyNot;
  const TileChain chain = chainOf(*graph, "c1", "c2", whyNot);
  REQUIRE(whyNot.empty());
  const TiledChain tiled = tileChain(*graph, chain, 3);
  // Band 1 of y's rows [2, 4): the Add needs x rows [3, 8), c1 reads x rows [2, 9):
  // two Slices of x.
  int slices = 0;
  for (const Node *node : tiled.bands[1]) slices += node->opType == "Slice";
  CHECK(slices == 2);
  CHECK((*named(*graph, "add/band1")->outputs[0]->shape)[2] == 5);
}

TEST_CASE("chains that cannot be cut into bands say why", "[tiling]") {
  auto graph = twoConvModel();
  std::string whyNot;
  CHECK(chainOf(*graph, "c2", "c1", whyNot).nodes.empty());
  CHECK(whyNot == "node 'c1' (Conv) does not follow node 'c2' (Conv) (it reads nothing the "
                  "chain from there makes)");
  // The last node's output may be read after the chain.
  CHECK(!chainOf(*graph, "c1", "relu", whyNot).nodes.empty());
  // A chain value read outside the chain.
  graph->outputs.push_back({"r", graph->findValue("r")});
  CHECK(chainOf(*graph, "c1", "c2", whyNot).nodes.empty());
  CHECK(whyNot.find("writes 'r', which is read outside the chain") != std::string::npos);
}

TEST_CASE("tileOversizedChains on the MobileNet fleet example", "[tiling][real-models]") {
  const std::filesystem::path model = std::filesystem::path(EDGESPLIT_SHARED_DIR) /
                                      "real-models/st_mobilenet_v2_0.5_128_float/model.onnx";
  if (!std::filesystem::exists(model)) {
    WARN("no " << model << "; skipping");
    return;
  }
  auto graph = importOnnxModel(model);
  normalizeGraph(*graph);
  const Topology topology =
      loadTopology(std::string(EDGESPLIT_SOURCE_DIR) + "/examples/mobilenet-fleet/topology.json");
  const int64_t ram = 131072; // nine identical boards
  const TilePlan plan = tileOversizedChains(*graph, topology, Precision::Int8);
  CHECK_NOTHROW(verifyGraph(*graph));
  // Only LAYER_16's block: channel slices of it would gather [1, 80, 32, 32] beside its parts
  // (160 KiB); LAYER_8's and LAYER_25's gather a stride-2 output that fits.
  REQUIRE(plan.chains.size() == 1);
  const TiledChain &tiled = plan.chains[0];
  CHECK(llvm::StringRef(tiled.first).endswith("LAYER_16/Conv2D"));
  CHECK(llvm::StringRef(tiled.last).endswith("LAYER_24/add"));
  fmt::print("mobilenet: {}..{} -> {} bands, the largest needing {} bytes of RAM (of {})\n",
             tiled.first, tiled.last, tiled.bands.size(), plan.bandRamBytes[0], ram);
  // Two bands of 16 rows: the first reads 17 rows of the expanded [1, 80, 32, 32] (43520
  // bytes) beside its depthwise output (40960) and the block's input (16384), which a worker
  // reassembles in its arena: 100864 bytes of activations, by the placement's estimate, beside
  // the input's fragment bitmaps (76 frames, two rounds: 20 bytes), a frame buffer and the stack.
  CHECK(tiled.bands.size() == 2);
  CHECK(plan.bandRamBytes[0] == 100864 + 20 + 244 + 1024);
  CHECK(plan.bandRamBytes[0] <= ram);
  REQUIRE(plan.separate.size() == 1);
  CHECK(plan.separate[0].size() == tiled.bands.size());
  // Channel slicing then leaves the bands alone and slices the two other blocks as before.
  const ChannelSlicePlan slices = sliceOversizedLayers(*graph, topology, Precision::Int8);
  REQUIRE(slices.layers.size() == 2);
  CHECK(llvm::StringRef(slices.layers[0].layer).endswith("LAYER_8/Conv2D"));
  CHECK(llvm::StringRef(slices.layers[1].layer).endswith("LAYER_25/Conv2D"));
}

namespace {

// x [1, 4, 32, 32] -> 1x1 Conv 'expand' to 32 channels -> Relu -> 3x3 depthwise (pads 1) -> Relu
// -> 1x1 Conv 'project' to 4 -> Add x 'add' -> y. int8: the whole block needs 4096 + 32768 +
// 32768 bytes; channel slices would gather the 32768-byte depthwise output beside its parts.
std::unique_ptr<Graph> blockModel() {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 4, 32, 32});
  b.node("Conv", {x, b.constant("we", Tensor(DType::Float32, {32, 4, 1, 1}))}, {"e"})->name =
      "expand";
  b.node("Relu", {b.value("e")}, {"er"});
  b.node("Conv", {b.value("er"), b.constant("wd", Tensor(DType::Float32, {32, 1, 3, 3}))},
         {"d"}, attrs({{"group", int64_t{32}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}}));
  b.node("Relu", {b.value("d")}, {"dr"});
  b.node("Conv", {b.value("dr"), b.constant("wp", Tensor(DType::Float32, {4, 32, 1, 1}))},
         {"p"})
      ->name = "project";
  b.node("Add", {b.value("p"), x}, {"y"})->name = "add";
  b.output(b.value("y"));
  return b.finish();
}

// A camera, `workers` workers of `workerKib` KiB of RAM and an aggregator, linked in a star.
Topology starFleet(int workers, int workerKib) {
  std::string devices = R"({"name": "cam", "target": "cortex-m4", "clock_mhz": 64, "ram_kib": 8, "flash_kib": 256,
                            "sensors": ["cam"]},)";
  std::string links = R"({"from": "cam", "to": "hub", "kbps": 1000, "latency_ms": 1, "mtu": 244,
                          "nj_per_byte": 80})";
  for (int w = 0; w < workers; ++w) {
    devices += fmt::format(R"({{"name": "w{}", "target": "cortex-m4", "clock_mhz": 64, "ram_kib": {},
                               "flash_kib": 256, "role": "worker"}},)",
                           w, workerKib);
    links += fmt::format(R"(, {{"from": "cam", "to": "w{0}", "kbps": 1000, "latency_ms": 1,
                               "mtu": 244, "nj_per_byte": 80}},
                              {{"from": "w{0}", "to": "hub", "kbps": 1000, "latency_ms": 1,
                               "mtu": 244, "nj_per_byte": 80}})",
                         w);
  }
  devices += R"({"name": "hub", "target": "cortex-m4", "clock_mhz": 64, "ram_kib": 32, "flash_kib": 256,
                 "role": "aggregator"})";
  return parseTopology(fmt::format(R"({{"schema": "edgesplit-topology/1", "devices": [{}],
                                        "sensor_groups": {{"cam": ["x"]}}, "links": [{}]}})",
                                   devices, links),
                       "fleet.json");
}

} // namespace

TEST_CASE("tileOversizedChains: the smallest k that enough workers hold, else nothing",
          "[tiling]") {
  std::string whyNot;
  {
    auto graph = blockModel();
    const TileChain chain = chainOf(*graph, "expand", "add", whyNot);
    REQUIRE(invertedResidualChains(*graph).size() == 1);
    CHECK(invertedResidualChains(*graph)[0].nodes == chain.nodes);
    // Two bands of 16 rows: 17 expanded rows (17408), 16 depthwise rows (16384), the input
    // (4096), which a worker reassembles in its arena, by the placement's estimate; beside them
    // the input's fragment bitmaps (19 frames, two rounds), a frame buffer and the stack.
    const Topology topology = starFleet(1, 48);
    const size_t worker = 1;
    const BandNeed need = bandNeed(*graph, chain, {0, 16}, Precision::Int8);
    // Slice of 17 input rows, expand, depthwise, project, Slice of 16 rows for the Add, Add.
    CHECK(need.stage.steps.size() == 6);
    const DeviceLoad load = sketchedStageLoad(topology, need.stage, worker, StageInputs::Received);
    CHECK(load.activationBytes == 17408 + 16384 + 4096);
    CHECK(load.ramBytes == 17408 + 16384 + 4096 + 6 + 244 + 1024);
    const BandNeed whole = bandNeed(*graph, chain, {0, 32}, Precision::Int8);
    CHECK(whole.stage.steps.size() == 4); // all rows: no Slices
    CHECK(sketchedStageLoad(topology, whole.stage, worker, StageInputs::Own).activationBytes ==
          4096 + 32768 + 32768);
  }
  SECTION("48 KiB workers: two bands, on different workers") {
    auto graph = blockModel();
    const TilePlan plan = tileOversizedChains(*graph, starFleet(3, 48), Precision::Int8);
    REQUIRE(plan.chains.size() == 1);
    CHECK(plan.chains[0].bands.size() == 2);
    CHECK(plan.bandRamBytes[0] == 17408 + 16384 + 4096 + 6 + 244 + 1024);
    REQUIRE(plan.separate.size() == 1);
    CHECK(plan.separate[0][0]->name == "expand/band0");
    CHECK(plan.separate[0][1]->name == "expand/band1");
    CHECK(!named(*graph, "expand"));
  }
  SECTION("one 48 KiB worker holds one band, not two: left whole") {
    auto graph = blockModel();
    CHECK(tileOversizedChains(*graph, starFleet(1, 48), Precision::Int8).chains.empty());
    CHECK(named(*graph, "expand"));
  }
  SECTION("80 KiB workers hold the whole block: left whole") {
    auto graph = blockModel();
    CHECK(tileOversizedChains(*graph, starFleet(3, 80), Precision::Int8).chains.empty());
  }
}
