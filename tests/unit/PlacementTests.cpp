// The placement cost model and its strategies (partition/PlacementCost, PlacementSearch):
// figures of a relay fleet worked out by hand, and the optimality test of issue 18: over every
// placement of random small chains and DAGs on random small topologies, none that fits is
// cheaper than the solver's, and the solver finds a fitting one whenever one exists.
#include "TopologyBuilder.h"
#include "partition/Partition.h"
#include "partition/PlacementCost.h"
#include "partition/PlacementSearch.h"
#include "partition/PlacementStages.h"

#include "es_wire.h"

#include <catch.hpp>

#include <cmath>
#include <limits>
#include <random>

using namespace edgesplit;
using edgesplit::test::link;

namespace {

TopologyDevice device(const std::string &name, int64_t ramKib, int64_t flashKib,
                      bool aggregator = false) {
  TopologyDevice device;
  device.name = name;
  device.aggregator = aggregator;
  device.target.clockMhz = 64;
  device.target.ramKib = ramKib;
  device.target.flashKib = flashKib;
  device.target.activeMw = 10;
  device.target.stackBytes = 256;
  return device;
}

// sensor -> worker -> hub: 4 KiB sensor and worker, a 64 KiB hub; 1000 kbit/s links of 2 and 3 ms
// latency and 50 nJ per byte, the first hop's MTU 100, the second's 200.
Topology sensorWorkerHub(const std::string &source) {
  Topology topology;
  topology.source = source;
  topology.devices = {device("sensor", 4, 64), device("worker", 4, 64),
                      device("hub", 64, 256, true)};
  topology.devices[1].worker = true;
  link(topology, 0, 1, 1000, 2, 100, 50);
  link(topology, 1, 2, 1000, 3, 200, 50);
  return topology;
}

size_t addTensor(PlacementProblem &problem, const std::string &name, int64_t bytes,
                 std::optional<size_t> producer, size_t source = 0) {
  PlacementTensor tensor;
  tensor.name = name;
  tensor.bytes = bytes;
  tensor.producer = producer;
  tensor.source = source;
  problem.tensors.push_back(tensor);
  return problem.tensors.size() - 1;
}

// A unit reading `inputs` and writing one new tensor of `bytes`; returns that tensor.
size_t addUnit(PlacementProblem &problem, std::vector<size_t> inputs, int64_t bytes,
               std::vector<double> ms, int64_t weightBytes = 0,
               std::vector<int64_t> scratch = {}) {
  const size_t index = problem.units.size();
  PlacementUnit unit;
  unit.name = "n" + std::to_string(index);
  unit.inputs = inputs;
  unit.ms = std::move(ms);
  unit.scratchBytes = scratch.empty() ? std::vector<int64_t>(unit.ms.size(), 0) : scratch;
  unit.weightBytes = weightBytes;
  for (size_t t : inputs) problem.tensors[t].readers.push_back(index);
  unit.outputs = {addTensor(problem, unit.name + "_out", bytes, index)};
  problem.units.push_back(unit);
  return unit.outputs[0];
}

// The least cost of every fitting placement, by enumeration (infinity: none fits).
double bruteForce(const PlacementCostModel &model, std::vector<size_t> *best = nullptr) {
  const size_t units = model.problem().units.size(), devices = model.deviceCount();
  std::vector<size_t> deviceOf(units, 0);
  double least = std::numeric_limits<double>::infinity();
  while (true) {
    const PlacementCost cost = model.evaluate(deviceOf);
    if (cost.fits && cost.cost < least) {
      least = cost.cost;
      if (best) *best = deviceOf;
    }
    size_t u = 0;
    while (u < units && ++deviceOf[u] == devices) deviceOf[u++] = 0;
    if (u == units) break;
  }
  return least;
}

struct RandomCase {
  Topology topology;
  PlacementProblem problem;
};

// 2-4 devices (the last the aggregator; sensors and workers before it) with random links
// (relays included), RAM, flash and speeds; 4-8 units as a chain or a DAG over 1-2 model
// inputs; random pins and separations now and then.
RandomCase randomCase(std::mt19937 &random, bool chain) {
  RandomCase c;
  Topology &topology = c.topology;
  topology.source = "random.json";
  const size_t devices = 2 + random() % 3;
  size_t units = 4 + random() % 5;
  while (std::pow(static_cast<double>(devices), static_cast<double>(units)) > 20000) --units;
  for (size_t d = 0; d < devices; ++d) {
    TopologyDevice member = device("d" + std::to_string(d), 3 + static_cast<int64_t>(random() % 8),
                                   11 + static_cast<int64_t>(random() % 8), d + 1 == devices);
    member.target.activeMw = 5 + static_cast<double>(random() % 50);
    topology.devices.push_back(member);
  }
  for (size_t d = 0; d + 1 < devices; ++d) // a path to the aggregator, direct or through d+1
    link(topology, d, random() % 2 ? devices - 1 : d + 1, 250 + random() % 2000,
         static_cast<double>(random() % 10), 40 + static_cast<int64_t>(random() % 200),
         static_cast<double>(random() % 100));
  for (size_t extra = random() % (devices + 1); extra-- > 0;) {
    const size_t from = random() % devices, to = random() % devices;
    if (from != to)
      link(topology, from, to, 250 + random() % 2000, static_cast<double>(random() % 10),
           40 + static_cast<int64_t>(random() % 200), static_cast<double>(random() % 100));
  }
  const double objectives[][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 0.01}};
  const auto &objective = objectives[random() % 4];
  topology.objective = {objective[0], objective[1], objective[2]};
  topology.forbidRaw = random() % 8 == 0;

  PlacementProblem &problem = c.problem;
  problem.topology = &topology;
  std::vector<size_t> available;
  for (size_t i = 0, inputs = 1 + random() % 2; i < inputs; ++i)
    available.push_back(addTensor(problem, "in" + std::to_string(i),
                                  100 + static_cast<int64_t>(random() % 1500), std::nullopt,
                                  random() % (devices - 1)));
  for (size_t u = 0; u < units; ++u) {
    std::vector<size_t> inputs;
    if (chain) {
      inputs.push_back(available.back());
    } else {
      for (size_t k = 0, count = 1 + random() % 2; k < count; ++k) {
        const size_t t = available[random() % available.size()];
        if (std::find(inputs.begin(), inputs.end(), t) == inputs.end()) inputs.push_back(t);
      }
    }
    std::vector<double> ms;
    std::vector<int64_t> scratch;
    for (size_t d = 0; d < devices; ++d) {
      ms.push_back(0.1 * static_cast<double>(1 + random() % 50));
      scratch.push_back(random() % 3 == 0 ? static_cast<int64_t>(random() % 400) : 0);
    }
    available.push_back(addUnit(problem, inputs, 50 + static_cast<int64_t>(random() % 2000), ms,
                                static_cast<int64_t>(random() % 2000), scratch));
    if (random() % 6 == 0) {
      problem.units.back().allowed.assign(devices, false);
      problem.units.back().allowed[random() % devices] = true;
      problem.units.back().allowed[random() % devices] = true;
    }
  }
  // The devices no model input comes from are workers (sensor devices only send).
  for (size_t d = 0; d + 1 < devices; ++d)
    topology.devices[d].worker = std::none_of(
        problem.tensors.begin(), problem.tensors.end(),
        [&](const PlacementTensor &tensor) { return !tensor.producer && tensor.source == d; });
  // Every tensor no unit reads is a head, and now and then another one too.
  for (PlacementTensor &tensor : problem.tensors)
    if (tensor.producer && (tensor.readers.empty() || random() % 8 == 0)) tensor.head = true;
  if (random() % 4 == 0) problem.separate.push_back({random() % units, random() % units});
  if (!problem.separate.empty() && problem.separate[0][0] == problem.separate[0][1])
    problem.separate.clear();
  return c;
}

} // namespace

TEST_CASE("placement cost: a chain relayed through a worker", "[placement]") {
  Topology topology = sensorWorkerHub("relay.json");
  PlacementProblem problem;
  problem.topology = &topology;
  const size_t input = addTensor(problem, "imu", 300, std::nullopt, 0);
  const size_t features = addUnit(problem, {input}, 120, {1.0, 2.0, 0.5}, 1000, {40, 40, 40});
  const size_t head = addUnit(problem, {features}, 20, {0.5, 1.0, 0.25}, 500);
  problem.tensors[head].head = true;
  const PlacementCostModel model(problem);

  // Features on the sensor, the head on the hub: one tensor over two hops, relayed by the worker.
  const PlacementCost cost = model.evaluate({0, 2});
  const Route &route = model.route(120, 0, 2);
  REQUIRE(route.links == std::vector<size_t>{0, 1});
  CHECK(route.mtu == 100);
  CHECK(cost.fits);
  CHECK(cost.airBytes == 2 * wireAirBytes(120, 100, false));
  CHECK(cost.latencyMs == Approx(1.0 + route.ms + 0.25));
  CHECK(cost.energyUj == Approx(1.0 * 10 + route.energyUj + 0.25 * 10));
  CHECK(cost.cost == Approx(cost.latencyMs + cost.energyUj));
  // The sensor holds its input and the features it sends (plus the unit's scratch while it runs)
  // and a frame buffer; the worker a frame buffer; the hub two rounds of the features.
  CHECK(cost.devices[0].activationBytes == 300 + 120 + 40);
  CHECK(cost.devices[0].frameBufferBytes == 100);
  CHECK(cost.devices[0].ramBytes == 300 + 120 + 40 + 100 + 256);
  CHECK(cost.devices[0].flashBytes == 1000 + problem.codeAllowanceBytes);
  CHECK(cost.devices[1].frameBufferBytes == 100);
  CHECK(cost.devices[1].activationBytes == 0);
  const int64_t frames = wireFrames(120, 100, false);
  CHECK(cost.devices[2].receiveBytes == ES_WIRE_ROUNDS_IN_FLIGHT * (120 + (frames + 7) / 8));
  CHECK(cost.devices[2].activationBytes == 120 + 20);
  CHECK(cost.devices[2].flashBytes == 500 + problem.codeAllowanceBytes);

  // The sensor's 4 KiB cannot hold it all when the input grows.
  problem.tensors[input].bytes = 4000;
  const PlacementCost tight = PlacementCostModel(problem).evaluate({0, 2}, true);
  CHECK_FALSE(tight.fits);
  CHECK(tight.excessBytes == 4000 + 120 + 40 + 100 + 256 - 4096);
  CHECK(tight.limit == "'sensor' needs 4516 bytes of RAM (activations 4160 + receive buffers 0 + "
                       "frame buffers 100 + stack 256), has 4096");

  // Raw data may not leave the sensor under /privacy/raw: "forbid".
  problem.tensors[input].bytes = 300;
  topology.forbidRaw = true;
  const PlacementCost raw = PlacementCostModel(problem).evaluate({2, 2}, true);
  CHECK_FALSE(raw.fits);
  CHECK(raw.limit == "raw sensor data 'imu' would leave 'sensor' (/privacy/raw: \"forbid\")");
  topology.forbidRaw = false;

  // No path back from the hub to the worker; pins and separations are constraints too.
  const PlacementCost backwards = PlacementCostModel(problem).evaluate({2, 1}, true);
  CHECK_FALSE(backwards.fits);
  CHECK(backwards.limit == "no path of links carries 'n0_out' from 'hub' to 'worker'");
  problem.separate = {{0, 1}};
  CHECK_FALSE(PlacementCostModel(problem).evaluate({2, 2}).fits);
  CHECK(PlacementCostModel(problem).evaluate({0, 2}).fits);
  // The head stays on the hub, which only receives.
  CHECK_FALSE(PlacementCostModel(problem).evaluate({0, 1}).fits);
  CHECK_FALSE(PlacementCostModel(problem).evaluate({2, 2}).fits);
  problem.units[0].allowed = {false, true, false};
  CHECK_FALSE(PlacementCostModel(problem).evaluate({0, 2}).fits);
  const PlacementResult pinned = solvePlacement(PlacementCostModel(problem));
  REQUIRE(pinned.found);
  CHECK(pinned.deviceOf == std::vector<size_t>{1, 2});
}

TEST_CASE("placement: a prefix's bound never exceeds a fitting placement extending it",
          "[placement]") {
  std::mt19937 random(180);
  for (int trial = 0; trial < 60; ++trial) {
    RandomCase c = randomCase(random, trial % 2 == 0);
    const PlacementCostModel model(c.problem);
    const size_t units = c.problem.units.size(), devices = model.deviceCount();
    std::vector<size_t> deviceOf(units, 0);
    for (int sample = 0; sample < 200; ++sample) {
      for (size_t &d : deviceOf) d = random() % devices;
      const PlacementCost full = model.evaluate(deviceOf);
      if (!full.fits) continue;
      for (size_t k = 0; k <= units; ++k) {
        const llvm::ArrayRef<size_t> prefix(deviceOf.data(), k);
        const PlacementCost partial = model.evaluate(prefix);
        INFO("trial " << trial << " prefix " << k);
        REQUIRE(partial.fits);
        REQUIRE(model.lowerBound(prefix, partial) <= full.cost * (1 + 1e-9) + 1e-9);
      }
    }
  }
}

TEST_CASE("placement: no fitting placement is cheaper than the solver's (brute force)",
          "[placement]") {
  std::mt19937 random(18);
  size_t solvable = 0, unsolvable = 0, relayed = 0;
  for (int trial = 0; trial < 240; ++trial) {
    const bool chain = trial % 2 == 0;
    RandomCase c = randomCase(random, chain);
    const PlacementCostModel model(c.problem);
    std::vector<size_t> best;
    const double least = bruteForce(model, &best);
    const PlacementResult solved = solvePlacement(model);
    INFO("trial " << trial << (chain ? " (chain)" : " (DAG)") << ", " << c.problem.units.size()
                  << " units on " << model.deviceCount() << " devices");
    REQUIRE(solved.found == !std::isinf(least));
    if (!solved.found) {
      ++unsolvable;
      continue;
    }
    ++solvable;
    REQUIRE(solved.method == "exact");
    REQUIRE(solved.deviceOf.size() == c.problem.units.size());
    const PlacementCost check = model.evaluate(solved.deviceOf);
    CHECK(check.fits);
    CHECK(check.cost == Approx(least).epsilon(1e-9));
    CHECK(solved.cost.cost == check.cost);
    CHECK(solved.lowerBound == Approx(solved.cost.cost));
    for (size_t u = 0; u < solved.deviceOf.size(); ++u)
      for (size_t t : c.problem.units[u].inputs)
        if (c.problem.tensors[t].producer &&
            solved.deviceOf[*c.problem.tensors[t].producer] != solved.deviceOf[u] &&
            model.route(c.problem.tensors[t].bytes,
                        solved.deviceOf[*c.problem.tensors[t].producer], solved.deviceOf[u])
                    .hops() > 1)
          ++relayed;

    // With no budget for the search the heuristic's answer stands: never cheaper than the
    // optimum, named as the heuristic, and its lower bound below the optimum.
    const PlacementResult heuristic = solvePlacement(model, 0);
    CHECK((heuristic.method == "greedy+local" || heuristic.method == "stages+local"));
    CHECK(heuristic.lowerBound <= least * (1 + 1e-9) + 1e-9);
    if (heuristic.found) CHECK(heuristic.cost.cost >= least * (1 - 1e-9) - 1e-9);
  }
  // The random cases exercise both outcomes and multi-hop transfers.
  INFO(solvable << " solvable, " << unsolvable << " not, " << relayed << " relayed transfers");
  CHECK(solvable > 60);
  CHECK(unsolvable > 10);
  CHECK(relayed > 0);
}

TEST_CASE("placement cost: a worker reassembles one round in its arena, the aggregator two",
          "[placement]") {
  const Topology topology = sensorWorkerHub("stage.json");
  PlacementProblem problem;
  problem.topology = &topology;
  const size_t input = addTensor(problem, "imu", 300, std::nullopt, 0);
  const size_t features = addUnit(problem, {input}, 500, {1.0, 1.0, 1.0});
  const size_t extra = addUnit(problem, {input}, 400, {1.0, 1.0, 1.0});
  const size_t hidden = addUnit(problem, {features}, 200, {1.0, 1.0, 1.0});
  const size_t late = addUnit(problem, {hidden, extra}, 100, {1.0, 1.0, 1.0});
  const size_t head = addUnit(problem, {late, hidden}, 20, {1.0, 1.0, 1.0});
  problem.tensors[head].head = true;
  const PlacementCost cost = PlacementCostModel(problem).evaluate({0, 0, 1, 1, 2});
  REQUIRE(cost.fits);
  const int64_t featureFrames = wireFrames(500, 100, false);
  const int64_t extraFrames = wireFrames(400, 100, false);
  const int64_t hiddenFrames = wireFrames(200, 200, false);
  const int64_t lateFrames = wireFrames(100, 200, false);
  // The worker: what it receives lands in its arena before its first step, so `extra`, first
  // read at its second step, is live at its first beside the features and the hidden tensor;
  // only the fragment bitmaps are kept apart.
  CHECK(cost.devices[1].receiveBytes ==
        reassemblyBytes(500, featureFrames, true) + reassemblyBytes(400, extraFrames, true));
  CHECK(reassemblyBytes(500, featureFrames, true) ==
        ES_WIRE_ROUNDS_IN_FLIGHT * ((featureFrames + 7) / 8));
  CHECK(cost.devices[1].activationBytes == 500 + 400 + 200);
  // The aggregator: two rounds of each tensor it receives, with their bitmaps.
  CHECK(cost.devices[2].receiveBytes == reassemblyBytes(200, hiddenFrames, false) +
                                            reassemblyBytes(100, lateFrames, false));
  CHECK(reassemblyBytes(100, lateFrames, false) ==
        ES_WIRE_ROUNDS_IN_FLIGHT * (100 + (lateFrames + 7) / 8));
}

TEST_CASE("placement cost: a worker receiving every part of a Concat gathers it in place",
          "[placement]") {
  Topology topology;
  topology.source = "gather.json";
  topology.devices = {device("sensor", 8, 64), device("a", 8, 64), device("g", 8, 64),
                      device("hub", 8, 64, true)};
  topology.devices[1].worker = topology.devices[2].worker = true;
  link(topology, 0, 1, 1000, 2, 100, 50);
  link(topology, 0, 2, 1000, 2, 100, 50);
  link(topology, 1, 2, 1000, 2, 100, 50);
  link(topology, 2, 3, 1000, 2, 100, 50);
  PlacementProblem problem;
  problem.topology = &topology;
  const std::vector<double> ms{1.0, 1.0, 1.0, 1.0};
  const size_t input = addTensor(problem, "imu", 100, std::nullopt, 0);
  const size_t part0 = addUnit(problem, {input}, 300, ms);
  const size_t part1 = addUnit(problem, {input}, 300, ms);
  const size_t gathered = addUnit(problem, {part0, part1}, 600, ms);
  const size_t reduced = addUnit(problem, {gathered}, 50, ms);
  problem.tensors[addUnit(problem, {reduced}, 10, ms)].head = true;
  // g's activations, and whether the cost records the Concat (unit 2) as gathered in place: the
  // decision the fleet compiler builds (FleetPartition::gatheredInPlace).
  auto activations = [&](std::vector<size_t> deviceOf, size_t device, bool inPlace) {
    const PlacementCost cost = PlacementCostModel(problem).evaluate(deviceOf);
    REQUIRE(cost.fits);
    CHECK(cost.gathersInPlace == std::vector<bool>{false, false, inPlace, false, false});
    return cost.devices[device].activationBytes;
  };
  // Gathered by copy: the parts, received before g's first step, beside the Concat's output.
  CHECK(activations({0, 1, 2, 2, 3}, 2, false) == 300 + 300 + 600);
  problem.units[2].gathers = true;
  // In place: the gathered tensor from g's first step, and its reader's output; no part.
  CHECK(activations({0, 1, 2, 2, 3}, 2, true) == 600 + 50);
  // g computes a part itself: gathered by copy.
  CHECK(activations({0, 2, 2, 2, 3}, 2, false) == 300 + 300 + 600);
  // g sends the gathered tensor on: it keeps no output of its own to gather into.
  CHECK(activations({0, 1, 2, 3, 3}, 2, false) == 300 + 300 + 600);
  // A part read on g by another unit too: gathered by copy.
  addUnit(problem, {part0}, 10, ms);
  const PlacementCost shared = PlacementCostModel(problem).evaluate({0, 1, 2, 2, 3, 2});
  CHECK_FALSE(shared.gathersInPlace[2]);
  // The sensor is no worker: what it gathers, it gathers by copy.
  CHECK_FALSE(PlacementCostModel(problem).evaluate({0, 0, 0}).gathersInPlace[2]);
  // A prefix records the units placed so far.
  CHECK(PlacementCostModel(problem).evaluate({0, 1}).gathersInPlace.size() == 2);
}

TEST_CASE("placement: a model that fits no single device is pipelined over a worker",
          "[placement]") {
  Topology topology;
  topology.source = "pipeline.json";
  topology.devices = {device("mic", 4, 16), device("worker", 8, 16), device("hub", 8, 16, true)};
  topology.devices[1].worker = true;
  link(topology, 0, 1, 1000, 1, 244, 10);
  link(topology, 1, 2, 1000, 1, 244, 10);
  link(topology, 0, 2, 1000, 1, 244, 10);
  PlacementProblem problem;
  problem.topology = &topology;
  // Each layer's weights fill most of one device's flash beside the code.
  size_t t = addTensor(problem, "audio", 1000, std::nullopt, 0);
  for (int layer = 0; layer < 3; ++layer) t = addUnit(problem, {t}, 800, {1, 1, 1}, 6000);
  problem.tensors[t].head = true;
  const PlacementCostModel model(problem);
  const PlacementResult solved = solvePlacement(model);
  REQUIRE(solved.found);
  CHECK(solved.method == "exact");
  size_t evaluations = 0;
  CHECK(placeInStages(model, evaluations) == std::vector<size_t>{0, 1, 2});
  CHECK(evaluations > 0);
  CHECK(stagePaths(model, 8) == std::vector<std::vector<size_t>>{{0, 2}, {0, 1, 2}});
  // One layer per device: no two fit together in 16 KiB of flash.
  std::vector<size_t> sorted = solved.deviceOf;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<size_t>{0, 1, 2});

  // A fourth such layer fits nowhere together; a layer too big for every device is named.
  t = addUnit(problem, {t}, 800, {1, 1, 1}, 6000);
  problem.tensors[t].head = true;
  const PlacementCostModel four(problem);
  const PlacementResult none = solvePlacement(four);
  CHECK_FALSE(none.found);
  CHECK(explainNothingFits(four, none).rfind("no placement of the model's 4 nodes on the 3 "
                                             "devices fits (the least overflowing found: ",
                                             0) == 0);
  problem.units[1].weightBytes = 9000;
  const PlacementCostModel huge(problem);
  CHECK(explainNothingFits(huge, solvePlacement(huge)) ==
        "layer 'n1' fits on no device: it needs 9000 bytes of weights and 1600 bytes of "
        "activations (inputs, outputs, scratch); the largest device 'worker' has 8192 bytes of "
        "RAM (stack 256 of them) and 16384 bytes of flash (code about 8192); give it more RAM or "
        "flash, or split the layer's output channels over several devices");
}

TEST_CASE("placement stages: consecutive runs of units along a path to the aggregator",
          "[placement]") {
  std::mt19937 random(1818);
  size_t staged = 0;
  for (int trial = 0; trial < 100; ++trial) {
    RandomCase c = randomCase(random, trial % 2 == 0);
    const PlacementCostModel model(c.problem);
    size_t evaluations = 0;
    const std::vector<size_t> deviceOf = placeInStages(model, evaluations);
    if (deviceOf.empty()) continue;
    ++staged;
    REQUIRE(deviceOf.size() == c.problem.units.size());
    // Some path of stagePaths holds every unit, at positions that never go back.
    bool along = false;
    for (const std::vector<size_t> &path : stagePaths(model, 32)) {
      size_t position = 0;
      bool ok = true;
      for (size_t device : deviceOf) {
        while (position < path.size() && path[position] != device) ++position;
        ok = ok && position < path.size();
      }
      along = along || ok;
    }
    INFO("trial " << trial);
    CHECK(along);
    for (size_t u = 0; u < deviceOf.size(); ++u) CHECK(model.allowed(u, deviceOf[u]));
  }
  CHECK(staged > 80);
}
