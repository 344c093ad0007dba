#include "report/StackUsage.h"
#include "target/Target.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include <catch.hpp>

using namespace edgesplit;

namespace {

// What gcc 12 -fcallgraph-info=su writes for a model file and a kernel file (trimmed).
const char *kModelUnit = R"ci(graph: { title: "main/model.c"
node: { title: "main_init" label: "main_init\nmain/model.c:1:6\n0 bytes (static)" }
node: { title: "memset" label: "__builtin_memset\n<built-in>" shape : ellipse }
edge: { sourcename: "main_init" targetname: "memset" }
node: { title: "main_run" label: "main_run\nmain/model.c:3:6\n64 bytes (static)" }
node: { title: "es_pool" label: "es_pool\nes.h:9:6" shape : ellipse }
edge: { sourcename: "main_run" targetname: "es_pool" label: "main/model.c:4:3" }
node: { title: "es_small" label: "es_small\nes.h:10:6" shape : ellipse }
edge: { sourcename: "main_run" targetname: "es_small" label: "main/model.c:5:3" }
}
)ci";

// es_pool calls one of its file's static reducers through a pointer.
const char *kPoolUnit = R"ci(graph: { title: "/tmp/x/main/runtime/src/pool.c"
node: { title: "/tmp/x/main/runtime/src/pool.c:max_reducer" label: "max_reducer\npool.c:1:1\n24 bytes (static)" }
node: { title: "/tmp/x/main/runtime/src/pool.c:mean_reducer" label: "mean_reducer\npool.c:2:1\n40 bytes (static)" }
node: { title: "es_pool" label: "es_pool\npool.c:3:6\n16 bytes (static)" }
node: { title: "__indirect_call" label: "Indirect Call Placeholder" shape : ellipse }
edge: { sourcename: "es_pool" targetname: "__indirect_call" label: "pool.c:4:5" }
node: { title: "es_small" label: "es_small\npool.c:5:6\n8 bytes (static)" }
}
)ci";

// Arm disassembly: mean_reducer calls a libgcc helper gcc's call graph does not show.
const char *kDisassembly = R"ci(
00000100 <mean_reducer>:
 100:	push	{r4, lr}
 102:	bl	200 <__aeabi_uldivmod>
 106:	pop	{r4, pc}

00000200 <__aeabi_uldivmod>:
 200:	push	{r4, r5, r6, lr}
 202:	sub	sp, #16
 204:	bl	300 <__udivmoddi4>
 208:	beq.n	210 <__aeabi_uldivmod+0x10>

00000300 <__udivmoddi4>:
 300:	stmdb	sp!, {r4, r5, r6, r7, r8, lr}
 304:	vpush	{d8-d9}
 308:	bx	lr
)ci";

} // namespace

TEST_CASE("stack: the deepest chain of frames from the entry points") {
  CallGraph graph;
  graph.addTranslationUnit(kModelUnit);
  graph.addTranslationUnit(kPoolUnit);
  std::string reason;
  StackEstimate stack = graph.worstCase({"main_init", "main_run"}, reason);
  CHECK(reason.empty());
  // main_run 64 + es_pool 16 + the larger reducer reachable through the pointer, 40.
  CHECK(stack.callGraphBytes == 120);
  CHECK(stack.deepestChain ==
        std::vector<std::string>{"main_run", "es_pool", "(indirect call)", "pool.c:mean_reducer"});
}

TEST_CASE("stack: library helpers from the disassembly count with the frames they allocate") {
  CallGraph graph;
  graph.addTranslationUnit(kModelUnit);
  graph.addTranslationUnit(kPoolUnit);
  graph.addMachineCalls(kDisassembly);
  std::string reason;
  StackEstimate stack = graph.worstCase({"main_run"}, reason);
  CHECK(reason.empty());
  // 64 + 16 + 40 + (16 pushed + 16 subtracted) + (24 stacked + 16 of d8-d9).
  CHECK(stack.callGraphBytes == 64 + 16 + 40 + 32 + 40);
  CHECK(stack.deepestChain.back() == "__udivmoddi4");
}

TEST_CASE("stack: recursion and unbounded frames give no bound, with the reason") {
  CallGraph recursive;
  recursive.addTranslationUnit(R"ci(graph: { title: "a.c"
node: { title: "f" label: "f\na.c:1:1\n8 bytes (static)" }
node: { title: "g" label: "g\na.c:2:1\n8 bytes (static)" }
edge: { sourcename: "f" targetname: "g" }
edge: { sourcename: "g" targetname: "f" }
}
)ci");
  std::string reason;
  recursive.worstCase({"f"}, reason);
  CHECK(reason.find("recursion through") != std::string::npos);

  CallGraph dynamic;
  dynamic.addTranslationUnit(R"ci(graph: { title: "/build/b.c"
node: { title: "/build/b.c:h" label: "h\nb.c:1:1\n16 bytes (dynamic)" }
}
)ci");
  reason.clear();
  dynamic.worstCase({"/build/b.c:h"}, reason);
  CHECK(reason == "b.c:h allocates a stack area of unbounded size");

  CallGraph bounded;
  bounded.addTranslationUnit(R"ci(graph: { title: "c.c"
node: { title: "k" label: "k\nc.c:1:1\n48 bytes (dynamic,bounded)" }
}
)ci");
  reason.clear();
  CHECK(bounded.worstCase({"k", "absent"}, reason).callGraphBytes == 48);
  CHECK(reason.empty());
}

// The targets' measured kernel costs (tools/calibrate-costs) price the calls they name.
TEST_CASE("targets: kernel_costs price the kernels they name, the class tables the rest") {
  const Target m4 = loadTarget("cortex-m4");
  REQUIRE(m4.kernelCosts.count("es_conv2d_gemm_s8"));
  Graph graph;
  Value *input = graph.createValue("x", DType::Int8);
  input->shape = Shape{1, 8, 10, 10};
  Value *output = graph.createValue("y", DType::Int8);
  output->shape = Shape{1, 16, 10, 10};
  auto conv = std::make_unique<Node>();
  conv->name = "conv";
  conv->opType = "Conv";
  Node *node = graph.appendNode(std::move(conv));
  node->inputs.push_back(input);
  node->outputs.push_back(output);
  KernelCall call;
  call.node = node;
  call.result = output;
  call.macs = 16 * 100 * 8 * 9;
  call.kernelClass = "conv";
  call.function = "es_conv2d_gemm_s8";
  const Target::KernelCost &cost = m4.kernelCosts.at("es_conv2d_gemm_s8");
  CHECK(estimateCycles(m4, Precision::Int8, call) ==
        Approx(cost.perMac * call.macs + cost.perElement * 1600 + cost.fixed));
  call.function = "es_not_calibrated_s8";
  CHECK(estimateCycles(m4, Precision::Int8, call) ==
        Approx(call.macs * m4.cyclesPerMac.at("int8").at("conv") + m4.callOverheadCycles));
}

TEST_CASE("targets: a negative kernel cost names its JSON path") {
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / "edgesplit-negative-cost.json";
  nlohmann::json json = {{"schema", "edgesplit-target/1"}};
  json["name"] = "t";
  json["core"] = "c";
  json["gcc_flags"] = nlohmann::json::array();
  json["features"] = nlohmann::json::array();
  for (const char *key : {"clock_mhz", "ram_kib", "flash_kib", "active_mw", "stack_bytes",
                          "call_overhead_cycles"})
    json[key] = 1;
  json["cycles_per_mac"] = {{"int8", nlohmann::json::object()}, {"float32", nlohmann::json::object()}};
  json["cycles_per_element"] = json["cycles_per_mac"];
  json["kernel_costs"]["es_conv1d_s8"] = {{"per_mac", -1.0}, {"per_element", 0.0}, {"fixed", 0.0}};
  std::ofstream(file) << json.dump();
  CHECK_THROWS_WITH(loadTarget(file.string()),
                    Catch::Matchers::Contains("/kernel_costs/es_conv1d_s8/per_mac must be >= 0"));
  std::filesystem::remove(file);
}
