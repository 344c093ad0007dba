// partitionFleet beyond stars: a model too big for the aggregator alone placed over a worker
// (pipeline stages along the path), pins as hard constraints, and the refusal when nothing fits.
#include "GraphBuilder.h"

#include "codegen/FuseActivations.h"
#include "codegen/Lowering.h"
#include "partition/Partition.h"
#include "support/Error.h"

#include <catch.hpp>
#include <nlohmann/json.hpp>

using namespace edgesplit;
using namespace edgesplit::testing;
using Catch::Matchers::Contains;
using Json = nlohmann::ordered_json;

namespace {

// audio [1,64] -> MatMul 64x128 -> Relu -> MatMul 128x64 -> Relu -> MatMul 64x10: two layers of
// 32 KiB of float32 weights each.
std::unique_ptr<Graph> trunk() {
  GraphBuilder b;
  Value *x = b.input("audio", DType::Float32, {1, 64});
  const int64_t widths[] = {64, 128, 64, 10};
  for (int layer = 0; layer < 3; ++layer) {
    const std::string name = "mm" + std::to_string(layer + 1);
    Value *w = b.constant(name + "_w", Tensor(DType::Float32, {widths[layer], widths[layer + 1]}));
    Node *matmul = b.node("MatMul", {x, w}, {name});
    matmul->name = name;
    x = matmul->outputs[0];
    if (layer < 2) x = b.node("Relu", {x}, {name + "_relu"})->outputs[0];
  }
  b.output(x);
  return b.finish();
}

Json fleet() {
  auto device = [](const char *name, int flashKib) {
    return Json{{"name", name}, {"target", "cortex-m4"}, {"clock_mhz", 64}, {"ram_kib", 16},
                {"flash_kib", flashKib}};
  };
  auto link = [](const char *from, const char *to) {
    return Json{{"from", from}, {"to", to}, {"kbps", 1000}, {"latency_ms", 2}, {"mtu", 244},
                {"nj_per_byte", 50}};
  };
  Json mic = device("mic", 16), worker = device("w1", 48), hub = device("hub", 48);
  mic["sensors"] = {"mic"};
  worker["role"] = "worker";
  hub["role"] = "aggregator";
  return {{"schema", "edgesplit-topology/1"},
          {"devices", {mic, worker, hub}},
          {"sensor_groups", {{"mic", {"audio"}}}},
          {"links", {link("mic", "w1"), link("w1", "hub"), link("mic", "hub")}}};
}

struct Placed {
  std::unique_ptr<Graph> graph;
  Topology topology;
  FleetPartition partition;
  size_t deviceOf(const std::string &node) const {
    for (size_t i = 0; i < graph->nodes().size(); ++i)
      if (graph->nodes()[i]->name == node) return partition.deviceOf[i];
    FAIL("no node " << node);
    return 0;
  }
};

Placed place(const Json &document, std::vector<std::vector<std::string>> separate = {}) {
  Placed placed;
  placed.graph = trunk();
  placed.topology = parseTopology(document.dump(), "fleet.json");
  const auto fused = fuseActivations(*placed.graph);
  std::vector<const Node *> order;
  for (const auto &node : placed.graph->nodes()) order.push_back(node.get());
  const Program whole = lowerGraph(*placed.graph, Precision::Float32, kernelIsaOf({}),
                                   S8Rounding::Double, order, fused);
  PartitionRequest request;
  request.graph = placed.graph.get();
  request.topology = &placed.topology;
  request.precision = Precision::Float32;
  request.fused = &fused;
  request.wholeProgram = &whole;
  for (const auto &group : separate) {
    request.separate.emplace_back();
    for (const std::string &name : group)
      for (const auto &node : placed.graph->nodes())
        if (node->name == name) request.separate.back().push_back(node.get());
  }
  placed.partition = partitionFleet(request);
  return placed;
}

} // namespace

TEST_CASE("partition: a trunk too big for the aggregator is pipelined over a worker",
          "[partition]") {
  const Placed placed = place(fleet());
  const FleetPartition &partition = placed.partition;
  const size_t mic = 0, worker = 1, hub = 2;
  CHECK(partition.placement.method == "exact");
  CHECK(partition.placement.lowerBound == Approx(partition.placement.cost));
  CHECK(partition.branches.empty());
  // 32 KiB of weights beside 8 KiB of code: one such layer per 48 KiB device, the first on the
  // worker (the hub has no link back to it).
  CHECK(placed.deviceOf("mm1") == worker);
  CHECK(placed.deviceOf("mm2") == hub);
  CHECK(placed.deviceOf("mm3") == hub);
  CHECK(partition.liveNodes.size() == placed.graph->nodes().size());
  for (size_t d = 0; d < placed.topology.devices.size(); ++d) {
    const Target &target = placed.topology.devices[d].target;
    INFO(placed.topology.devices[d].name);
    CHECK(partition.placement.devices[d].ramBytes <= target.ramKib * 1024);
    CHECK(partition.placement.devices[d].flashBytes <= target.flashKib * 1024);
  }
  CHECK(partition.placement.devices[worker].flashBytes == 32768 + 8192);
  // The audio goes to the worker, its features to the hub; nothing comes back to the mic.
  REQUIRE(partition.transfers.size() == 2);
  CHECK(partition.transfers[0].value->name == "audio");
  CHECK(partition.transfers[0].route.from == mic);
  CHECK(partition.transfers[0].route.to == worker);
  CHECK(partition.transfers[1].route.from == worker);
  CHECK(partition.transfers[1].route.to == hub);
  CHECK(partition.transfers[1].value->producer->name.rfind("mm1", 0) == 0);
}

TEST_CASE("partition: pins are hard constraints; nothing fitting is one line", "[partition]") {
  Json document = fleet();
  document["placement"] = {{"mm3", "hub"}};
  const Placed pinned = place(document);
  CHECK(pinned.deviceOf("mm3") == 2);
  CHECK(pinned.partition.placement.method == "exact");
  // The first layer pinned to the hub leaves the second nowhere to go: not back to the worker,
  // not beside it in the hub's flash.
  document["placement"] = {{"mm1", "hub"}};
  CHECK_THROWS_WITH(place(document),
                    Contains("test.onnx: no placement of the model's ") &&
                        Contains("add workers, RAM or flash, or links between the devices"));
  document["placement"] = {{"mm9", "hub"}};
  CHECK_THROWS_WITH(place(document),
                    "fleet.json: /placement/mm9: the model test.onnx has no node 'mm9' to place (a "
                    "Relu or Clip fused into the layer before it goes with that layer); name one "
                    "of its nodes (mm1, mm2, mm3; `edgesplit inspect` lists them)");
  // The Relu after mm1 is part of mm1 once fused: pinning it names no node to place.
  document["placement"] = {{"Relu_1", "hub"}};
  CHECK_THROWS_WITH(place(document), Contains("has no node 'Relu_1' to place"));
  // Every device with 32 KiB of flash: no layer of 32 KiB of weights fits any.
  document = fleet();
  for (Json &device : document["devices"]) device["flash_kib"] = 32;
  CHECK_THROWS_WITH(place(document),
                    Contains("test.onnx: layer 'mm1' fits on no device: it needs 32768 bytes "
                             "of weights"));
}

TEST_CASE("partition: nodes to keep apart run on pairwise different devices", "[partition]") {
  Json document = fleet();
  for (Json &device : document["devices"]) device["flash_kib"] = 256;
  // Room everywhere: the mic runs all but the head, which runs on the aggregator.
  const Placed together = place(document);
  CHECK(together.deviceOf("mm1") == 0);
  CHECK(together.deviceOf("mm2") == 0);
  CHECK(together.deviceOf("mm3") == 2);
  const Placed apart = place(document, {{"mm1", "mm2", "mm3"}});
  CHECK(apart.deviceOf("mm1") != apart.deviceOf("mm2"));
  CHECK(apart.deviceOf("mm2") != apart.deviceOf("mm3"));
  CHECK(apart.deviceOf("mm1") != apart.deviceOf("mm3"));
  CHECK(apart.partition.placement.cost > together.partition.placement.cost);
}
