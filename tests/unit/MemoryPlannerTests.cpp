#include "GraphBuilder.h"
#include "frontend/OnnxImporter.h"
#include "memory/MemoryPlan.h"
#include "support/Error.h"

#include <llvm/ADT/DenseSet.h>

#include <catch.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>

using namespace edgesplit;
using namespace edgesplit::testing;
namespace fs = std::filesystem;

namespace {

// Test data from a fixed seed; unlike std::uniform_int_distribution, the same with every
// standard library.
class Dice {
public:
  explicit Dice(uint32_t seed) : rng_(seed) {}
  int64_t below(int64_t n) { return static_cast<int64_t>(rng_() % static_cast<uint32_t>(n)); }

private:
  std::mt19937 rng_;
};

size_t rootOf(llvm::ArrayRef<Buffer> buffers, size_t index) {
  while (buffers[index].aliasOf) index = *buffers[index].aliasOf;
  return index;
}

bool aliveTogether(const Buffer &a, const Buffer &b) {
  return a.firstStep <= b.lastStep && b.firstStep <= a.lastStep;
}

// The planner's contract, checked independently of its code: aligned offsets inside the arena,
// aliases on their target, and no byte shared by two buffers of different alias groups that are
// alive at a common step (an alias group is alive over the union of its members' lifetimes).
void checkPlan(llvm::ArrayRef<Buffer> buffers, llvm::ArrayRef<int64_t> offsets,
               int64_t arenaBytes) {
  REQUIRE(offsets.size() == buffers.size());
  std::vector<Buffer> groups(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) groups[i] = buffers[i];
  for (size_t i = 0; i < buffers.size(); ++i) {
    Buffer &group = groups[rootOf(buffers, i)];
    group.firstStep = std::min(group.firstStep, buffers[i].firstStep);
    group.lastStep = std::max(group.lastStep, buffers[i].lastStep);
    group.bytes = std::max(group.bytes, buffers[i].bytes);
  }
  for (size_t i = 0; i < buffers.size(); ++i) {
    INFO("buffer " << buffers[i].name);
    CHECK(offsets[i] % buffers[i].alignment == 0);
    CHECK(offsets[i] >= 0);
    CHECK(offsets[i] + buffers[i].bytes <= arenaBytes);
    CHECK(offsets[i] == offsets[rootOf(buffers, i)]);
  }
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (rootOf(buffers, i) != i || groups[i].bytes == 0) continue;
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      if (rootOf(buffers, j) != j || groups[j].bytes == 0) continue;
      if (!aliveTogether(groups[i], groups[j])) continue;
      INFO("buffers " << buffers[i].name << " and " << buffers[j].name);
      const bool disjoint =
          offsets[i] + groups[i].bytes <= offsets[j] || offsets[j] + groups[j].bytes <= offsets[i];
      CHECK(disjoint);
    }
  }
}

OffsetPlan planAndCheck(llvm::ArrayRef<Buffer> buffers) {
  OffsetPlan plan = planOffsets(buffers);
  checkPlan(buffers, plan.offsets, plan.arenaBytes);
  CHECK(plan.arenaBytes >= lowerBoundBytes(buffers));
  return plan;
}

// Checks a graph's plan against the liveness of its own order.
void checkGraphPlan(const Graph &graph, const MemoryPlan &plan, const MemoryPlanOptions &options) {
  const Liveness liveness = computeLiveness(graph, plan.order, options.valueBytes,
                                            options.scratchBytes, options.alignment);
  llvm::SmallVector<int64_t, 0> offsets(liveness.buffers.size());
  for (const auto &[value, buffer] : liveness.bufferOfValue) {
    REQUIRE(plan.values.count(value));
    offsets[buffer] = plan.values.lookup(value).offset;
    CHECK(plan.values.lookup(value).bytes == liveness.buffers[buffer].bytes);
  }
  for (const auto &[node, buffer] : liveness.scratchOfNode) {
    REQUIRE(plan.scratch.count(node));
    offsets[buffer] = plan.scratch.lookup(node).offset;
  }
  CHECK(plan.values.size() == liveness.bufferOfValue.size());
  CHECK(plan.scratch.size() == liveness.scratchOfNode.size());
  checkPlan(liveness.buffers, offsets, plan.arenaBytes);
  CHECK(plan.lowerBoundBytes == lowerBoundBytes(liveness.buffers));
  CHECK(plan.arenaBytes >= plan.lowerBoundBytes);
}

// Sizes in the graph tests are 1 byte per element, so a [1, n] value takes n bytes.
MemoryPlanOptions oneBytePerElement(int64_t alignment = 1) {
  MemoryPlanOptions options;
  options.valueBytes = bytesPerElement(1);
  options.alignment = alignment;
  return options;
}

// x [1, inWidth] times a zero [inWidth, outWidth] constant: an op whose output has its own bytes.
Value *dense(GraphBuilder &b, Value *x, int64_t inWidth, int64_t outWidth,
             const std::string &name) {
  Value *weights = b.constant(name + "_w", Tensor(DType::Float32, {inWidth, outWidth}));
  return b.node("MatMul", {x, weights}, {name})->outputs[0];
}

Value *reshape(GraphBuilder &b, Value *x, std::vector<int64_t> shape, const std::string &name) {
  Value *target = b.constant(
      name + "_shape", Tensor::fromVector<int64_t>({static_cast<int64_t>(shape.size())}, shape));
  return b.node("Reshape", {x, target}, {name})->outputs[0];
}

std::vector<std::string> nodeOutputs(llvm::ArrayRef<const Node *> order) {
  std::vector<std::string> names;
  for (const Node *node : order) names.push_back(node->outputs[0]->name);
  return names;
}

std::vector<const Node *> graphOrder(const Graph &graph) {
  std::vector<const Node *> order;
  for (const auto &node : graph.nodes()) order.push_back(node.get());
  return order;
}

size_t bufferOf(const Liveness &liveness, const Graph &graph, const std::string &value) {
  return liveness.bufferOfValue.lookup(graph.findValue(value));
}

// A random small network over [1, n] values: dense layers, elementwise ops (some in place),
// reshapes (views), concatenations and additions; every value nobody reads is a graph output.
std::unique_ptr<Graph> randomNetwork(Dice &dice, int nodeCount) {
  auto below = [&](int64_t n) { return dice.below(n); };
  GraphBuilder b;
  struct Item {
    Value *value;
    int64_t width;
  };
  std::vector<Item> pool = {{b.input("x", DType::Float32, {1, 4}), 4}};
  if (below(2)) pool.push_back({b.input("x2", DType::Float32, {1, 6}), 6});
  for (int i = 0; i < nodeCount; ++i) {
    const std::string name = fmt::format("v{}", i);
    const Item a = pool[below(pool.size())];
    std::vector<Item> sameWidth;
    for (const Item &item : pool)
      if (item.width == a.width) sameWidth.push_back(item);
    const Item partner = sameWidth[below(sameWidth.size())];
    switch (below(6)) {
    case 0:
    case 1: {
      const int64_t width = 1 + below(24);
      pool.push_back({dense(b, a.value, a.width, width, name), width});
      break;
    }
    case 2:
      pool.push_back(
          {b.node(below(2) ? "Relu" : "Sigmoid", {a.value}, {name})->outputs[0], a.width});
      break;
    case 3:
      pool.push_back({reshape(b, a.value, {1, a.width}, name), a.width});
      break;
    case 4:
      pool.push_back({b.node("Add", {a.value, partner.value}, {name})->outputs[0], a.width});
      break;
    default:
      pool.push_back(
          {b.node("Concat", {a.value, partner.value}, {name}, attrs({{"axis", int64_t{1}}}))
               ->outputs[0],
           a.width * 2});
    }
  }
  auto graph = b.finish();
  llvm::DenseSet<const Value *> read;
  for (const auto &node : graph->nodes())
    for (const Value *input : node->inputs) read.insert(input);
  for (const auto &node : graph->nodes())
    if (!read.contains(node->outputs[0]) || below(8) == 0)
      graph->outputs.push_back({node->outputs[0]->name, node->outputs[0]});
  return graph;
}

// The least peak over every topological order, by enumeration.
int64_t bruteForceMinimalPeak(const Graph &graph, const ValueBytesFn &bytes) {
  std::vector<const Node *> order;
  std::set<const Node *> done;
  int64_t best = std::numeric_limits<int64_t>::max();
  std::function<void()> extend = [&] {
    if (order.size() == graph.nodes().size()) {
      best = std::min(best, peakBytes(graph, order, bytes, {}));
      return;
    }
    for (const auto &node : graph.nodes()) {
      if (done.count(node.get())) continue;
      const bool ready = llvm::all_of(node->inputs, [&](const Value *input) {
        return !input || !input->producer || done.count(input->producer);
      });
      if (!ready) continue;
      order.push_back(node.get());
      done.insert(node.get());
      extend();
      done.erase(node.get());
      order.pop_back();
    }
  };
  extend();
  return best;
}

// x[4] -> a[8] -> b[2] -> c[6]
std::unique_ptr<Graph> chain() {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 4});
  Value *a = dense(b, x, 4, 8, "a");
  Value *v = dense(b, a, 8, 2, "b");
  b.output(dense(b, v, 2, 6, "c"));
  return b.finish();
}

// x[4] -> a[8]; b = a W[6], c = a W'[6]; d = b + c
std::unique_ptr<Graph> diamond() {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 4});
  Value *a = dense(b, x, 4, 8, "a");
  Value *left = dense(b, a, 8, 6, "b");
  Value *right = dense(b, a, 8, 6, "c");
  b.output(b.node("Add", {left, right}, {"d"})->outputs[0]);
  return b.finish();
}

// Two branches from x, each widening to 32 then narrowing to 2, joined by an Add. The graph
// lists both wide values before either narrowing, so running it as written holds both.
std::unique_ptr<Graph> parallelBranches() {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 4});
  Value *p1 = dense(b, x, 4, 32, "p1");
  Value *p2 = dense(b, x, 4, 32, "p2");
  Value *q1 = dense(b, p1, 32, 2, "q1");
  Value *q2 = dense(b, p2, 32, 2, "q2");
  b.output(b.node("Add", {q1, q2}, {"y"})->outputs[0]);
  return b.finish();
}

} // namespace

TEST_CASE("offset planner: a chain needs the largest adjacent pair", "[memory]") {
  const std::vector<Buffer> buffers = {
      {"a", 10, 0, 1}, {"b", 20, 1, 2}, {"c", 5, 2, 3}, {"d", 15, 3, 4}};
  CHECK(lowerBoundBytes(buffers) == 30);
  CHECK(planAndCheck(buffers).arenaBytes == 30);
}

TEST_CASE("offset planner: an alias shares its target's bytes and extends its lifetime",
          "[memory]") {
  std::vector<Buffer> buffers = {
      {"a", 10, 0, 2}, {"c", 5, 1, 3}, {"view", 10, 2, 4}, {"d", 7, 4, 5}};
  buffers[2].aliasOf = 0;
  // a+view live over steps 0..4; at step 2..3 with c: 15; at step 4 with d: 17.
  CHECK(lowerBoundBytes(buffers) == 17);
  const OffsetPlan plan = planAndCheck(buffers);
  CHECK(plan.offsets[2] == plan.offsets[0]);
  CHECK(plan.arenaBytes == 17);
}

TEST_CASE("offset planner: offsets honour alignment", "[memory]") {
  std::vector<Buffer> buffers = {{"a", 3, 0, 1, std::nullopt, 4}, {"b", 3, 0, 1, std::nullopt, 4}};
  CHECK(lowerBoundBytes(buffers) == 6);
  const OffsetPlan plan = planAndCheck(buffers);
  CHECK(llvm::SmallVector<int64_t, 2>{0, 4} == plan.offsets);
  CHECK(plan.arenaBytes == 7);
}

TEST_CASE("offset planner: the search reaches the bound where every greedy order misses it",
          "[memory]") {
  // Step 4 holds b, c, d and e (26 bytes); a must avoid b and d. Greedy placements end at 27; the
  // bound needs c 0-7, e 7-15, b 15-23, d 23-26 and a 0-9.
  const std::vector<Buffer> buffers = {
      {"a", 9, 1, 3}, {"b", 8, 3, 4}, {"c", 7, 4, 5}, {"d", 3, 3, 5}, {"e", 8, 4, 6}};
  CHECK(lowerBoundBytes(buffers) == 26);
  CHECK(planAndCheck(buffers).arenaBytes == 26);
}

TEST_CASE("offset planner: rejects malformed buffers", "[memory]") {
  std::vector<Buffer> cyclic = {{"a", 1, 0, 0}, {"b", 1, 0, 0}};
  cyclic[0].aliasOf = 1;
  cyclic[1].aliasOf = 0;
  CHECK_THROWS_AS(planOffsets(cyclic), Error);
  CHECK_THROWS_AS(planOffsets(std::vector<Buffer>{{"a", 1, 2, 1}}), Error);
  CHECK_THROWS_AS(planOffsets(std::vector<Buffer>{{"a", -1, 0, 0}}), Error);
  CHECK_THROWS_AS(planOffsets(std::vector<Buffer>{{"a", 1, 0, 0, std::nullopt, 0}}), Error);
  CHECK_THROWS_AS(planOffsets(std::vector<Buffer>{{"a", 1, 0, 0, 3}}), Error);
  CHECK(planOffsets({}).arenaBytes == 0);
}

TEST_CASE("offset planner: random buffer sets never overlap", "[memory]") {
  Dice dice(20240601);
  auto below = [&](int64_t n) { return dice.below(n); };
  double worstRatio = 1.0;
  int withinFivePercent = 0;
  constexpr int kSets = 200;
  for (int set = 0; set < kSets; ++set) {
    const int64_t count = 1 + below(60);
    const int64_t steps = 1 + below(40);
    std::vector<Buffer> buffers;
    for (int64_t i = 0; i < count; ++i) {
      Buffer buffer;
      buffer.name = fmt::format("b{}", i);
      buffer.bytes = below(4) == 0 ? below(64) : 1 + below(4096);
      buffer.firstStep = static_cast<int>(below(steps));
      buffer.lastStep = buffer.firstStep + static_cast<int>(below(1 + below(steps)));
      buffer.alignment = std::array<int64_t, 4>{1, 4, 8, 16}[below(4)];
      if (i > 0 && below(5) == 0) {
        // A view or an in-place result of an earlier buffer, starting where that one ends.
        const size_t target = below(i);
        buffer.aliasOf = target;
        buffer.bytes = buffers[target].bytes;
        buffer.firstStep = buffers[target].lastStep;
        buffer.lastStep = buffer.firstStep + static_cast<int>(below(4));
      }
      buffers.push_back(buffer);
    }
    INFO("set " << set);
    const OffsetPlan plan = planAndCheck(buffers);
    const int64_t bound = lowerBoundBytes(buffers);
    const double ratio = bound ? static_cast<double>(plan.arenaBytes) / bound : 1.0;
    worstRatio = std::max(worstRatio, ratio);
    if (ratio <= 1.05) ++withinFivePercent;
    if (set % 10 == 0) CHECK(planOffsets(buffers).offsets == plan.offsets); // deterministic
  }
  fmt::print(
      "offset planner, random sets: {}/{} within 5% of the lower bound, worst ratio {:.3f}\n",
      withinFivePercent, kSets, worstRatio);
  // Not guaranteed in general (the bound is not always reachable, and the search has a budget),
  // but it holds for all of these sets.
  CHECK(withinFivePercent == kSets);
}

TEST_CASE("offset planner: network-like lifetimes stay within 5% of the lower bound", "[memory]") {
  // Each step reads what the previous one wrote; some values are kept for a later step (skip
  // connections), the way CNN activations live.
  Dice dice(7);
  auto below = [&](int64_t n) { return dice.below(n); };
  double worstRatio = 1.0;
  for (int set = 0; set < 200; ++set) {
    const int steps = 2 + static_cast<int>(below(80));
    std::vector<Buffer> buffers;
    for (int step = 0; step < steps; ++step) {
      const int64_t skip = below(6) == 0 ? 1 + below(6) : 0;
      buffers.push_back({fmt::format("v{}", step), 8 * (1 + below(2048)), step,
                         step + 1 + static_cast<int>(skip), std::nullopt, 8});
    }
    INFO("set " << set);
    const OffsetPlan plan = planAndCheck(buffers);
    const double ratio = static_cast<double>(plan.arenaBytes) / lowerBoundBytes(buffers);
    worstRatio = std::max(worstRatio, ratio);
    CHECK(ratio <= 1.05);
  }
  fmt::print("offset planner, network-like sets: worst ratio {:.3f}\n", worstRatio);
}

TEST_CASE("liveness: a chain's arena is its largest adjacent pair", "[memory]") {
  auto graph = chain();
  const MemoryPlanOptions options = oneBytePerElement();
  const MemoryPlan plan = planMemory(*graph, options);
  checkGraphPlan(*graph, plan, options);
  CHECK(nodeOutputs(plan.order) == std::vector<std::string>{"a", "b", "c"});
  CHECK(plan.lowerBoundBytes == 12); // x + a
  CHECK(plan.arenaBytes == 12);
  CHECK(plan.orderProvenMinimal);
  CHECK_FALSE(plan.values.count(graph->findValue("a_w"))); // constants stay in flash
}

TEST_CASE("liveness: lifetimes follow the execution order", "[memory]") {
  auto graph = chain();
  const Liveness liveness = computeLiveness(*graph, graphOrder(*graph), bytesPerElement(4), {});
  auto lifetime = [&](const std::string &name) {
    const Buffer &buffer = liveness.buffers[bufferOf(liveness, *graph, name)];
    return std::pair(buffer.firstStep, buffer.lastStep);
  };
  CHECK(lifetime("x") == std::pair(0, 0));
  CHECK(lifetime("a") == std::pair(0, 1));
  CHECK(lifetime("b") == std::pair(1, 2));
  CHECK(lifetime("c") == std::pair(2, 2)); // a graph output lives to the last step
  CHECK(liveness.buffers[bufferOf(liveness, *graph, "a")].bytes == 32);
  CHECK(liveness.buffers.size() == 4);
}

TEST_CASE("liveness: rejects orders that are not topological or not complete", "[memory]") {
  auto graph = chain();
  std::vector<const Node *> order = graphOrder(*graph);
  std::swap(order[0], order[1]);
  CHECK_THROWS_AS(computeLiveness(*graph, order, bytesPerElement(1), {}), Error);
  order.pop_back();
  CHECK_THROWS_AS(computeLiveness(*graph, order, bytesPerElement(1), {}), Error);
}

TEST_CASE("liveness: a diamond keeps the shared value alive across both branches", "[memory]") {
  auto graph = diamond();
  const MemoryPlanOptions options = oneBytePerElement();
  const MemoryPlan plan = planMemory(*graph, options);
  checkGraphPlan(*graph, plan, options);
  // Step of c: a (8) + b (6) + c (6); the Add writes d over b.
  CHECK(plan.lowerBoundBytes == 20);
  CHECK(plan.arenaBytes == 20);
  CHECK(plan.values.lookup(graph->findValue("d")).offset ==
        plan.values.lookup(graph->findValue("b")).offset);
}

TEST_CASE("execution order: finishing one branch before starting the other lowers the peak",
          "[memory]") {
  auto graph = parallelBranches();
  const ValueBytesFn bytes = bytesPerElement(1);
  // As written: p1 and p2 are both alive at the step of p2: x 4 + p1 32 + p2 32.
  CHECK(peakBytes(*graph, graphOrder(*graph), bytes, {}) == 68);

  const ExecutionOrder exact = chooseExecutionOrder(*graph, bytes, {});
  CHECK(nodeOutputs(exact.nodes) == std::vector<std::string>{"p1", "q1", "p2", "q2", "y"});
  // At the step of q1: x 4 + p1 32 + q1 2 (x is still needed by p2).
  CHECK(exact.peakBytes == 38);
  CHECK(exact.provenMinimal);

  OrderSearchOptions noExactSearch;
  noExactSearch.exactSearchStateLimit = 0;
  const ExecutionOrder heuristic = chooseExecutionOrder(*graph, bytes, {}, noExactSearch);
  CHECK(nodeOutputs(heuristic.nodes) == nodeOutputs(exact.nodes));
  CHECK(heuristic.peakBytes == 38);
  CHECK_FALSE(heuristic.provenMinimal);

  const MemoryPlanOptions options = oneBytePerElement();
  const MemoryPlan plan = planMemory(*graph, options);
  checkGraphPlan(*graph, plan, options);
  CHECK(plan.lowerBoundBytes == 38);
  CHECK(plan.arenaBytes == 38);
}

TEST_CASE("execution order: the exact search finds the least peak of every order", "[memory]") {
  Dice dice(99);
  const ValueBytesFn bytes = bytesPerElement(1);
  int improved = 0;
  for (int trial = 0; trial < 60; ++trial) {
    auto graph = randomNetwork(dice, 3 + static_cast<int>(dice.below(5)));
    INFO("trial " << trial);
    const ExecutionOrder chosen = chooseExecutionOrder(*graph, bytes, {});
    CHECK(chosen.provenMinimal);
    CHECK(chosen.peakBytes == bruteForceMinimalPeak(*graph, bytes));
    CHECK(chosen.peakBytes == peakBytes(*graph, chosen.nodes, bytes, {}));
    const int64_t asWritten = peakBytes(*graph, graphOrder(*graph), bytes, {});
    CHECK(chosen.peakBytes <= asWritten);
    if (chosen.peakBytes < asWritten) ++improved;
  }
  CHECK(improved > 0); // the networks give the search something to do
}

TEST_CASE("execution order: the beam search finds the optimum on mid-sized networks", "[memory]") {
  Dice dice(11);
  const ValueBytesFn bytes = bytesPerElement(1);
  OrderSearchOptions beamOnly;
  beamOnly.exactSearchStateLimit = 0;
  int compared = 0;
  for (int trial = 0; trial < 100; ++trial) {
    auto graph = randomNetwork(dice, 8 + static_cast<int>(dice.below(12)));
    const ExecutionOrder exact = chooseExecutionOrder(*graph, bytes, {});
    if (!exact.provenMinimal) continue;
    ++compared;
    INFO("trial " << trial);
    const ExecutionOrder beam = chooseExecutionOrder(*graph, bytes, {}, beamOnly);
    CHECK_FALSE(beam.provenMinimal);
    CHECK(beam.peakBytes == exact.peakBytes); // not guaranteed, but true of all these networks
  }
  CHECK(compared == 100);
}

TEST_CASE("execution order: beyond the search limit the order is valid and no worse", "[memory]") {
  Dice dice(5);
  const ValueBytesFn bytes = bytesPerElement(1);
  OrderSearchOptions narrow;
  narrow.exactSearchStateLimit = 3;
  narrow.beamWidth = 8;
  for (int trial = 0; trial < 40; ++trial) {
    auto graph = randomNetwork(dice, 20 + static_cast<int>(dice.below(40)));
    INFO("trial " << trial);
    const ExecutionOrder chosen = chooseExecutionOrder(*graph, bytes, {}, narrow);
    CHECK_FALSE(chosen.provenMinimal);
    // computeLiveness rejects anything but a complete topological order.
    CHECK(chosen.peakBytes == peakBytes(*graph, chosen.nodes, bytes, {}));
    CHECK(chosen.peakBytes <= peakBytes(*graph, graphOrder(*graph), bytes, {}));
    MemoryPlanOptions options = oneBytePerElement(4);
    options.orderSearch = narrow;
    checkGraphPlan(*graph, planMemory(*graph, options), options);
  }
}

TEST_CASE("liveness: Reshape is a view and adds no bytes", "[memory]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 4});
  Value *a = dense(b, x, 4, 8, "a");
  Value *r = reshape(b, a, {2, 4}, "r");
  Value *r2 = reshape(b, r, {1, 8}, "r2");
  b.output(dense(b, r2, 8, 2, "y"));
  auto graph = b.finish();

  const Liveness liveness = computeLiveness(*graph, graphOrder(*graph), bytesPerElement(1), {});
  const size_t aBuffer = bufferOf(liveness, *graph, "a");
  CHECK(liveness.buffers[bufferOf(liveness, *graph, "r")].aliasOf == aBuffer);
  CHECK(liveness.buffers[bufferOf(liveness, *graph, "r2")].aliasOf == aBuffer);
  // x + a at the first step; the reshapes hold only a; the last step holds a + y.
  CHECK(lowerBoundBytes(liveness.buffers) == 12);

  const MemoryPlanOptions options = oneBytePerElement();
  const MemoryPlan plan = planMemory(*graph, options);
  checkGraphPlan(*graph, plan, options);
  CHECK(plan.arenaBytes == 12);
  CHECK(plan.values.lookup(graph->findValue("r2")).offset == plan.values.lookup(a).offset);
}

TEST_CASE("liveness: a view of a graph input shares the input's bytes", "[memory]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 2, 4});
  Value *flat = b.node("Flatten", {x}, {"flat"})->outputs[0]; // [1, 8]
  b.output(dense(b, flat, 8, 3, "y"));
  auto graph = b.finish();
  const Liveness liveness = computeLiveness(*graph, graphOrder(*graph), bytesPerElement(1), {});
  CHECK(liveness.buffers[bufferOf(liveness, *graph, "flat")].aliasOf ==
        bufferOf(liveness, *graph, "x"));
  CHECK(lowerBoundBytes(liveness.buffers) == 11);
}

TEST_CASE("liveness: Relu writes in place over an input it reads last", "[memory]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 4});
  Value *a = dense(b, x, 4, 8, "a");
  Value *r = b.node("Relu", {a}, {"r"})->outputs[0];
  b.output(dense(b, r, 8, 2, "y"));
  auto graph = b.finish();

  const Liveness liveness = computeLiveness(*graph, graphOrder(*graph), bytesPerElement(1), {});
  CHECK(liveness.buffers[bufferOf(liveness, *graph, "r")].aliasOf ==
        bufferOf(liveness, *graph, "a"));
  CHECK(lowerBoundBytes(liveness.buffers) == 12); // without sharing the Relu step holds 16

  const MemoryPlanOptions options = oneBytePerElement();
  const MemoryPlan plan = planMemory(*graph, options);
  checkGraphPlan(*graph, plan, options);
  CHECK(plan.arenaBytes == 12);
}

TEST_CASE("liveness: no in-place write over a value still needed, a graph input or output",
          "[memory]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 8});
  Value *fromInput = b.node("Relu", {x}, {"from_input"})->outputs[0];
  Value *stillUsed = b.node("Sigmoid", {fromInput}, {"still_used"})->outputs[0];
  Value *kept = b.node("Relu", {fromInput}, {"kept"})->outputs[0];
  Value *joined =
      b.node("Concat", {stillUsed, kept}, {"joined"}, attrs({{"axis", int64_t{1}}}))->outputs[0];
  Value *overOutput = b.node("Tanh", {kept}, {"over_output"})->outputs[0];
  b.output(joined);
  b.output(kept);
  b.output(overOutput);
  auto graph = b.finish();

  const Liveness liveness = computeLiveness(*graph, graphOrder(*graph), bytesPerElement(1), {});
  auto shares = [&](const std::string &name) {
    return liveness.buffers[bufferOf(liveness, *graph, name)].aliasOf.has_value();
  };
  CHECK_FALSE(shares("from_input"));  // x is a graph input
  CHECK_FALSE(shares("still_used"));  // from_input is read again by the next Relu
  CHECK(shares("kept"));              // ...which reads it last
  CHECK_FALSE(shares("over_output")); // kept is a graph output
}

TEST_CASE("liveness: Add writes over whichever input it reads last", "[memory]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 4});
  Value *a = dense(b, x, 4, 6, "a");
  Value *c = dense(b, x, 4, 6, "c");
  Value *sum = b.node("Add", {a, c}, {"sum"})->outputs[0];
  b.output(b.node("Mul", {sum, a}, {"y"})->outputs[0]);
  auto graph = b.finish();
  const Liveness liveness = computeLiveness(*graph, graphOrder(*graph), bytesPerElement(1), {});
  // a is read again by the Mul, so the Add takes c's bytes; the Mul reads sum last and takes
  // them again.
  const size_t cBuffer = bufferOf(liveness, *graph, "c");
  CHECK(liveness.buffers[bufferOf(liveness, *graph, "sum")].aliasOf == cBuffer);
  CHECK(liveness.buffers[bufferOf(liveness, *graph, "y")].aliasOf == cBuffer);
  CHECK_FALSE(liveness.buffers[bufferOf(liveness, *graph, "a")].aliasOf);
}

TEST_CASE("liveness: scratch lives only during its node's step", "[memory]") {
  auto graph = chain();
  MemoryPlanOptions options = oneBytePerElement();
  options.scratchBytes = [](const Node &node) { return node.outputs[0]->name == "c" ? 0 : 5; };
  const MemoryPlan plan = planMemory(*graph, options);
  checkGraphPlan(*graph, plan, options);
  CHECK(plan.scratch.size() == 2);
  // x 4 + a 8 + scratch 5 at the first step.
  CHECK(plan.lowerBoundBytes == 17);
  CHECK(plan.arenaBytes == 17);

  const Liveness liveness =
      computeLiveness(*graph, plan.order, options.valueBytes, options.scratchBytes);
  const Buffer &scratch = liveness.buffers[liveness.scratchOfNode.lookup(plan.order[1])];
  CHECK(std::pair(scratch.firstStep, scratch.lastStep) == std::pair(1, 1));
}

TEST_CASE("memory plan: offsets honour the alignment", "[memory]") {
  auto graph = diamond();
  const MemoryPlanOptions options = oneBytePerElement(8);
  const MemoryPlan plan = planMemory(*graph, options);
  checkGraphPlan(*graph, plan, options);
  for (const auto &[value, slot] : plan.values) CHECK(slot.offset % 8 == 0);
  CHECK(plan.lowerBoundBytes == 20);
  CHECK(plan.arenaBytes == 22); // a at 0, b at 8, c at 16 (6 bytes each after the 8)
}

// The shared real models, when present beside the checkout.
TEST_CASE("memory plan: real models", "[memory][real-models]") {
  const fs::path folder = fs::path(EDGESPLIT_SHARED_DIR) / "real-models";
  if (!fs::exists(folder)) {
    WARN("no " << folder << "; skipping");
    return;
  }
  std::vector<fs::path> models;
  for (const auto &entry : fs::directory_iterator(folder))
    if (fs::exists(entry.path() / "model.onnx")) models.push_back(entry.path());
  std::sort(models.begin(), models.end());
  for (const fs::path &model : models) {
    INFO("model " << model);
    auto graph = importOnnxModel(model / "model.onnx");
    normalizeGraph(*graph);
    for (int64_t elementBytes : {4, 1}) {
      MemoryPlanOptions options;
      options.valueBytes = bytesPerElement(elementBytes);
      const MemoryPlan plan = planMemory(*graph, options);
      checkGraphPlan(*graph, plan, options);
      const int64_t asWritten = peakBytes(*graph, graphOrder(*graph), options.valueBytes, {});
      fmt::print("{} ({} B/element, {} nodes): arena {} B, lower bound {} B (x{:.3f}), "
                 "peak in graph order {} B, order {}\n",
                 model.filename().string(), elementBytes, graph->nodes().size(), plan.arenaBytes,
                 plan.lowerBoundBytes, static_cast<double>(plan.arenaBytes) / plan.lowerBoundBytes,
                 asWritten, plan.orderProvenMinimal ? "proven minimal" : "heuristic");
      CHECK(plan.lowerBoundBytes <= asWritten);
    }
  }
}
