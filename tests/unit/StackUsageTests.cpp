#include "codegen/RuntimeBindings.h"
#include "report/StackUsage.h"
#include "target/CostFeatures.h"
#include "target/Target.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <tuple>

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

TEST_CASE("stack: an Arm prologue's area for a by-value argument counts, which gcc leaves out") {
  // gcc 12 for s8_add.c on the Cortex-M55: add_same takes a struct by value whose first 16 bytes
  // arrive in r0-r3; its prologue stores them below the rest (sub sp, #16) before pushing its
  // registers, and -fstack-usage reports only the 112 B after that.
  CallGraph graph;
  graph.addTranslationUnit(R"ci(graph: { title: "/tmp/x/main/runtime/src/s8_add.c"
node: { title: "/tmp/x/main/runtime/src/s8_add.c:add_same" label: "add_same\ns8_add.c:125:28\n112 bytes (static)" }
node: { title: "es_add_s8" label: "es_add_s8\ns8_add.c:138:6\n208 bytes (static)" }
edge: { sourcename: "es_add_s8" targetname: "/tmp/x/main/runtime/src/s8_add.c:add_same" label: "s8_add.c:150:3" }
node: { title: "/tmp/x/main/runtime/src/s8_add.c:big_frame" label: "big_frame\ns8_add.c:160:28\n120 bytes (static)" }
edge: { sourcename: "es_add_s8" targetname: "/tmp/x/main/runtime/src/s8_add.c:big_frame" label: "s8_add.c:151:3" }
}
)ci");
  std::string reason;
  CHECK(graph.worstCase({"es_add_s8"}, reason).callGraphBytes == 208 + 120);
  graph.addMachineCalls(R"ci(
60000778 <add_same>:
60000778:	sub	sp, #16
6000077a:	stmdb	sp!, {r4, r5, r6, r7, r8, r9, sl, fp, lr}
6000077e:	vpush	{d8-d13}
60000782:	sub	sp, #28
60000898:	bx	lr

6000089c <es_add_s8>:
6000089c:	stmdb	sp!, {r4, r5, r6, r7, r8, r9, sl, fp, lr}
600008ac:	sub	sp, #172	@ 0xac
60000a36:	bl	60000778 <add_same>
60000a54:	bl	60000a60 <big_frame>

60000a60 <big_frame>:
60000a60:	push	{r4, lr}
60000a62:	sub.w	sp, sp, r3
)ci");
  const StackEstimate stack = graph.worstCase({"es_add_s8"}, reason);
  CHECK(reason.empty());
  // add_same: 16 + 36 pushed + 48 of d8-d13 + 28 = 128 B, deeper than big_frame, whose
  // allocation by a register the instructions do not tell: gcc's 120 B stands for it.
  CHECK(stack.callGraphBytes == 208 + 128);
  CHECK(stack.deepestChain == std::vector<std::string>{"es_add_s8", "s8_add.c:add_same"});
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

namespace {

// A convolution call of `params` from an int8 [1, 8, 10, 10] input to [1, 16, 10, 10].
struct ConvCall {
  Graph graph;
  KernelCall call;
  // `type` and `function`: the parameter struct's C type and the kernel (the float32 convolutions
  // share es_conv2d_f32_params_t's fields).
  template <typename Params>
  explicit ConvCall(const Params &params, const char *type = "es_conv2d_s8_params_t",
                    const char *function = "es_conv2d_gemm_s8") {
    Value *input = graph.createValue("x", DType::Int8);
    input->shape = Shape{int64_t{params.batch}, params.in_channels, params.in_h, params.in_w};
    Value *output = graph.createValue("y", DType::Int8);
    output->shape = Shape{int64_t{params.batch}, params.out_channels, params.out_h, params.out_w};
    auto conv = std::make_unique<Node>();
    conv->name = "conv";
    conv->opType = "Conv";
    Node *node = graph.appendNode(std::move(conv));
    node->inputs.push_back(input);
    node->outputs.push_back(output);
    call.node = node;
    call.result = output;
    call.macs = int64_t{params.out_channels} * params.out_h * params.out_w * params.in_channels *
                params.kernel_h * params.kernel_w;
    call.kernelClass = "conv";
    call.function = function;
    call.params = KernelParams{type, CInit(), std::make_shared<Params>(params)};
  }
};

es_conv2d_s8_params_t conv3x3Pad1() {
  es_conv2d_s8_params_t p{};
  p.batch = 1, p.in_channels = 8, p.in_h = p.in_w = 10, p.out_channels = 16;
  p.out_h = p.out_w = 10, p.kernel_h = p.kernel_w = 3, p.stride_h = p.stride_w = 1;
  p.dilation_h = p.dilation_w = 1, p.pad_top = p.pad_left = 1, p.groups = 1;
  return p;
}

// A pool's call: a ConvCall's graph (the features read only the parameter struct) carrying the
// pool's parameters and kernel.
struct PoolCall : ConvCall {
  PoolCall(const es_pool2d_s8_params_t &p, const char *function) : ConvCall(conv3x3Pad1()) {
    call.function = function;
    call.params =
        KernelParams{"es_pool2d_s8_params_t", CInit(), std::make_shared<es_pool2d_s8_params_t>(p)};
  }
};

double feature(const CostFeatures &features, std::string_view name) {
  for (const auto &[key, value] : features)
    if (key == name) return value;
  FAIL("no feature " << name);
  return 0;
}

} // namespace

// What the kernel's loops count, from its parameter struct (docs/performance.md "Cost model
// from measurement").
TEST_CASE("cost features: a padded 3x3 convolution's windows, edges and SIMD blocks") {
  ConvCall conv(conv3x3Pad1());
  const CostFeatures features = costFeatures(conv.call);
  CHECK(feature(features, "macs") == 16 * 100 * 72);
  CHECK(feature(features, "outputs") == 1600);
  CHECK(feature(features, "output_rows") == 160);
  CHECK(feature(features, "output_columns") == 160);
  CHECK(feature(features, "pixels") == 100);
  // Per axis 2 + 8 x 3 + 2 = 28 taps inside the input, over 8 channels.
  CHECK(feature(features, "window_taps") == 8 * 28 * 28);
  // The border ring of 36 windows, 9 taps each (padding included), over 8 channels.
  CHECK(feature(features, "edge_pixels") == 36);
  CHECK(feature(features, "edge_window_taps") == 8 * 36 * 9);
  // 25 blocks of four pixels per channel; rows of 72 taps padded to 80.
  CHECK(feature(features, "pixel_blocks") == 25 * 16);
  CHECK(feature(features, "padded_macs") == 25 * 16 * 4 * 80);
  for (const auto &[name, value] : features)
    CHECK(std::find(costFeatureNames().begin(), costFeatureNames().end(), name) !=
          costFeatureNames().end());
}

TEST_CASE("cost features: the float32 blocked convolution's tap table and row loops") {
  auto floatConv = [](int32_t inChannels, int32_t stride = 1) {
    es_conv2d_s8_params_t q = conv3x3Pad1();
    q.stride_h = q.stride_w = stride;
    q.out_h = q.out_w = (q.in_h + 2 * q.pad_top - q.kernel_h) / stride + 1;
    es_conv2d_f32_params_t p{};
    p.batch = q.batch, p.in_channels = inChannels, p.in_h = q.in_h, p.in_w = q.in_w;
    p.out_channels = q.out_channels, p.out_h = q.out_h, p.out_w = q.out_w;
    p.kernel_h = q.kernel_h, p.kernel_w = q.kernel_w, p.stride_h = q.stride_h;
    p.stride_w = q.stride_w, p.dilation_h = q.dilation_h, p.dilation_w = q.dilation_w;
    p.pad_top = q.pad_top, p.pad_left = q.pad_left, p.groups = 1;
    return costFeatures(ConvCall(p, "es_conv2d_f32_params_t", "es_conv2d_blocked_f32").call);
  };
  // 8 x 3 x 3 = 72 taps, more than the table holds: every pass of four channels (per output row
  // two blocks of four pixels and two single pixels) loops over the input channels and the kernel
  // rows inside the input, 28 per channel summed over the output rows.
  const CostFeatures rowsOnly = floatConv(8);
  CHECK(feature(rowsOnly, "table_taps") == 0);
  CHECK(feature(rowsOnly, "window_rows") == 4 * 8 * 28 * 4);
  // 4 x 3 x 3 = 36 taps: the two blocks of the 8 rows whose windows lie inside read their taps
  // through the table, one loop over 36 taps each; the border pixels and rows loop per row.
  const CostFeatures table = floatConv(4);
  CHECK(feature(table, "table_taps") == 4 * 8 * 2 * 36);
  CHECK(feature(table, "window_rows") == 4 * (8 * (2 * 4 * 3) + 2 * (4 * 4 * 2)));
  // Stride 1: the blocks' MACs are not the strided body's.
  CHECK(feature(table, "strided_block_macs") == 0);
  // Stride 2, 5 x 5 outputs: per axis 2 + 4 x 3 = 14 taps inside, one block of the 4 pixels
  // whose windows lie inside, run by the strided body.
  const CostFeatures strided = floatConv(4, 2);
  CHECK(feature(strided, "block_macs") == 16 * 4 * 14 * 3 * 4);
  CHECK(feature(strided, "strided_block_macs") == 16 * 4 * 14 * 3 * 4);
  // The int8 kernels have no table: no such feature.
  for (const auto &[name, value] : costFeatures(ConvCall(conv3x3Pad1()).call))
    CHECK(name != "table_taps");
}

TEST_CASE("cost features: a float layer's MACs and elements on nonzero activations") {
  es_conv2d_s8_params_t q = conv3x3Pad1();
  es_conv2d_f32_params_t p{};
  p.batch = q.batch, p.in_channels = q.in_channels, p.in_h = q.in_h, p.in_w = q.in_w;
  p.out_channels = q.out_channels, p.out_h = q.out_h, p.out_w = q.out_w;
  p.kernel_h = q.kernel_h, p.kernel_w = q.kernel_w, p.stride_h = q.stride_h;
  p.stride_w = q.stride_w, p.dilation_h = q.dilation_h, p.dilation_w = q.dilation_w;
  p.pad_top = q.pad_top, p.pad_left = q.pad_left, p.groups = 1;
  ConvCall conv(p, "es_conv2d_f32_params_t", "es_conv2d_blocked_f32");
  // Without samples every activation counts as nonzero.
  CHECK(feature(costFeatures(conv.call), "nonzero_macs") == 16 * 100 * 72);
  // A quarter of the input's values nonzero: a quarter of the MACs on two nonzero operands.
  conv.call.inputZeroShares = {0.75};
  CHECK(feature(costFeatures(conv.call), "nonzero_macs") == 16 * 100 * 72 / 4);

  es_fully_connected_f32_params_t fc{};
  fc.batch = 1, fc.in_features = 64, fc.out_features = 10;
  conv.call.function = "es_fully_connected_blocked_f32";
  conv.call.macs = 640;
  conv.call.params = KernelParams{"es_fully_connected_f32_params_t", CInit(),
                                  std::make_shared<es_fully_connected_f32_params_t>(fc)};
  conv.call.inputZeroShares = {0.5};
  CHECK(feature(costFeatures(conv.call), "nonzero_macs") == 320);

  // An element-wise float call: elements whose operands are both nonzero (independent shares).
  KernelCall &add = conv.call;
  add.function = "es_binary_fast_f32";
  add.params.reset();
  add.macs = 0;
  Value *sum = conv.graph.findValue("y");
  sum->dtype = DType::Float32;
  add.args.assign(2, KernelArg{});
  add.args[0].kind = add.args[1].kind = KernelArg::Kind::Input;
  add.args[0].value = add.args[1].value = add.result;
  add.inputZeroShares = {0.5, 0.2};
  CHECK(feature(costFeatures(add), "elements") == 1600);
  CHECK(feature(costFeatures(add), "nonzero_elements") == Approx(1600 * 0.5 * 0.8));
  // An int8 one has no such feature: its arithmetic is integer.
  sum->dtype = DType::Int8;
  for (const auto &[name, value] : costFeatures(add)) CHECK(name != "nonzero_elements");
}

TEST_CASE("cost features: the gemm kernel's channel pairs and clamped outputs") {
  es_conv2d_s8_params_t p = conv3x3Pad1();
  p.out_channels = 15;
  p.act_min = -128, p.act_max = 127;
  ConvCall conv(p);
  CostFeatures features = costFeatures(conv.call);
  // Fifteen channels run as eight pairs, the last with a zero row.
  CHECK(feature(features, "pixel_blocks") == 25 * 16);
  CHECK(feature(features, "padded_macs") == 25 * 16 * 4 * 80);
  CHECK(feature(features, "outputs") == 1500);
  CHECK(feature(features, "clamped_outputs") == 0);
  // Its tables of a window's tap offsets, filled once per call: 8 channels x 3 x 3 taps.
  CHECK(feature(features, "tap_table_entries") == 72);
  // The reference kernel goes channel by channel; a fused Relu clamps every output.
  p.act_min = -20;
  conv.call.function = "es_conv2d_s8";
  conv.call.params->storage = std::make_shared<es_conv2d_s8_params_t>(p);
  features = costFeatures(conv.call);
  CHECK(feature(features, "pixel_blocks") == 25 * 15);
  CHECK(feature(features, "clamped_outputs") == 1500);
  // Its loops over the taps inside the input: per axis 28 taps over the 10 positions.
  CHECK(feature(features, "inside_rows") == 15 * 8 * 28 * 10);
  CHECK(feature(features, "inside_macs") == 15 * 8 * 28 * 28);
}

TEST_CASE("cost features: an int8 Add rescales both operands of one shape element by element") {
  es_add_s8_params_t p{};
  p.outer = 1, p.channels = 16, p.inner = 256, p.b_layout = ES_ADD_S8_SAME;
  ConvCall add(conv3x3Pad1());
  add.call.function = "es_add_s8";
  add.call.params =
      KernelParams{"es_add_s8_params_t", CInit(), std::make_shared<es_add_s8_params_t>(p)};
  CostFeatures features = costFeatures(add.call);
  CHECK(feature(features, "elements") == 4096);
  CHECK(feature(features, "rescaled_elements") == 4096);
  p.b_layout = ES_ADD_S8_PER_CHANNEL;
  add.call.params->storage = std::make_shared<es_add_s8_params_t>(p);
  features = costFeatures(add.call);
  CHECK(feature(features, "planes") == 16);
  CHECK(feature(features, "rescaled_elements") == 0);
}

TEST_CASE("cost features: a pool's taps inside the input, whatever its window and stride") {
  es_pool2d_s8_params_t p{};
  p.batch = 1, p.channels = 4, p.in_h = p.in_w = 14, p.out_h = p.out_w = 4;
  p.kernel_h = p.kernel_w = 3, p.stride_h = p.stride_w = 3, p.dilation_h = p.dilation_w = 1;
  PoolCall pool(p, "es_max_pool2d_s8");
  CostFeatures features = costFeatures(pool.call);
  CHECK(feature(features, "planes") == 4);
  CHECK(feature(features, "outputs") == 64);
  CHECK(feature(features, "output_rows") == 16);
  CHECK(feature(features, "window_taps") == 4 * 16 * 9);
  CHECK(feature(features, "edge_pixels") == 0);
  // Padded: the first row and column of windows lose a row or column of taps.
  p.pad_top = p.pad_left = 1, p.out_h = p.out_w = 5;
  pool.call.params->storage = std::make_shared<es_pool2d_s8_params_t>(p);
  features = costFeatures(pool.call);
  CHECK(feature(features, "window_taps") == 4 * 14 * 14);
  CHECK(feature(features, "edge_pixels") == 4 * 9);
}

TEST_CASE("cost features: a pool's looped windows, not the fast kernels' unrolled sizes") {
  es_pool2d_s8_params_t p{};
  p.batch = 1, p.channels = 3, p.in_h = 1, p.in_w = 9, p.out_h = 1, p.out_w = 4;
  p.kernel_h = 1, p.kernel_w = 2, p.stride_h = 1, p.stride_w = 2, p.dilation_h = p.dilation_w = 1;
  PoolCall pool(p, "es_max_pool2d_fast_s8");
  // The 1x2 window is the fast kernel's unrolled body: no loop per window row.
  CostFeatures features = costFeatures(pool.call);
  CHECK(feature(features, "window_taps") == 3 * 8);
  CHECK(feature(features, "window_rows") == 0);
  CHECK(feature(features, "looped_window_taps") == 0);
  CHECK(feature(features, "unrolled_window_taps") == 3 * 8);
  // At stride 2 its four windows per row go two a word.
  CHECK(feature(features, "pixel_blocks") == 3 * 2);
  // The reference kernel loops over every window.
  pool.call.function = "es_max_pool2d_s8";
  features = costFeatures(pool.call);
  CHECK(feature(features, "window_rows") == 3 * 4);
  CHECK(feature(features, "looped_window_taps") == 3 * 8);
  CHECK(feature(features, "unrolled_window_taps") == 0);
  CHECK(feature(features, "pixel_blocks") == 0);
  // Stride 1: one window at a time; a padded first window leaves three inside, one pair.
  pool.call.function = "es_max_pool2d_fast_s8";
  p.stride_w = 1, p.out_w = 8;
  pool.call.params->storage = std::make_shared<es_pool2d_s8_params_t>(p);
  CHECK(feature(costFeatures(pool.call), "pixel_blocks") == 0);
  p.stride_w = 2, p.pad_left = 1, p.in_w = 7, p.out_w = 4;
  pool.call.params->storage = std::make_shared<es_pool2d_s8_params_t>(p);
  CHECK(feature(costFeatures(pool.call), "pixel_blocks") == 3 * 1);
  p.pad_left = 0, p.in_w = 9;
  // A 1x3 window takes the fast kernel's loops; the window over the padding does not count.
  p.kernel_w = 3, p.stride_w = 3, p.pad_left = 1, p.out_w = 3;
  pool.call.function = "es_max_pool2d_fast_s8";
  pool.call.params->storage = std::make_shared<es_pool2d_s8_params_t>(p);
  features = costFeatures(pool.call);
  CHECK(feature(features, "edge_pixels") == 3);
  CHECK(feature(features, "window_rows") == 3 * 2);
  CHECK(feature(features, "looped_window_taps") == 3 * 2 * 3);
}

TEST_CASE("cost features: the same-scale average pool sums a window as wide as the input in one run") {
  es_pool2d_s8_params_t p{};
  p.batch = 1, p.channels = 64, p.in_h = p.kernel_h = 25, p.in_w = p.kernel_w = 5;
  p.out_h = p.out_w = 1, p.stride_h = p.stride_w = 1, p.dilation_h = p.dilation_w = 1;
  PoolCall pool(p, "es_avg_pool2d_same_scale_s8");
  CostFeatures features = costFeatures(pool.call);
  CHECK(feature(features, "window_rows") == 64);
  CHECK(feature(features, "looped_window_taps") == 64 * 125);
  // A narrower window: a run per window row.
  p.kernel_w = 3, p.out_w = 3;
  pool.call.params->storage = std::make_shared<es_pool2d_s8_params_t>(p);
  features = costFeatures(pool.call);
  CHECK(feature(features, "window_rows") == 64 * 3 * 25);
}

TEST_CASE("cost features: a fully connected layer's four-row passes, blocks and short rows") {
  es_fully_connected_s8_params_t p{};
  p.batch = 1, p.in_features = 1, p.out_features = 33;
  ConvCall fc(conv3x3Pad1());
  fc.call.function = "es_fully_connected_folded_s8";
  fc.call.macs = 33;
  fc.call.params = KernelParams{"es_fully_connected_s8_params_t", CInit(),
                                std::make_shared<es_fully_connected_s8_params_t>(p)};
  // One input: the plain body's block outputs column by column, the DSP body's rows one at a
  // time with the input in a register.
  CostFeatures features = costFeatures(fc.call);
  CHECK(feature(features, "output_blocks") == 3);
  CHECK(feature(features, "column_outputs") == 33);
  CHECK(feature(features, "short_row_outputs") == 0);
  CHECK(feature(features, "wide_row_blocks") == 0);
  CHECK(feature(features, "single_row_macs") == 33);
  // Five inputs: rows one at a time on DSP cores (their passes need eight inputs); eight and
  // sixteen: eight four-row passes and the last row alone. MVE makes its passes at any width
  // (row_blocks, padded_macs).
  for (const auto &[in, shortRows, widePasses] :
       {std::tuple{5, 33.0, 0.0}, std::tuple{8, 0.0, 8.0}, std::tuple{16, 0.0, 8.0}}) {
    p.in_features = in;
    fc.call.params->storage = std::make_shared<es_fully_connected_s8_params_t>(p);
    features = costFeatures(fc.call);
    CHECK(feature(features, "column_outputs") == 0);
    CHECK(feature(features, "short_row_outputs") == shortRows);
    CHECK(feature(features, "row_blocks") == 8);
    CHECK(feature(features, "narrow_macs") == in);
    CHECK(feature(features, "padded_macs") == 8 * 4 * 16);
    CHECK(feature(features, "wide_row_blocks") == widePasses);
    CHECK(feature(features, "wide_block_macs") == widePasses * 4 * in);
    CHECK(feature(features, "wide_edge_macs") == widePasses * 4 * (in % 4));
    CHECK(feature(features, "single_row_macs") == (33 - widePasses * 4) * in);
  }
  // The float32 blocked kernel has no DSP body.
  es_fully_connected_f32_params_t f{};
  f.batch = 1, f.in_features = 16, f.out_features = 33;
  fc.call.function = "es_fully_connected_blocked_f32";
  fc.call.params = KernelParams{"es_fully_connected_f32_params_t", CInit(),
                                std::make_shared<es_fully_connected_f32_params_t>(f)};
  features = costFeatures(fc.call);
  CHECK(feature(features, "row_blocks") == 8);
  for (const auto &[name, value] : features) CHECK(name.find("wide_") == std::string_view::npos);
}

TEST_CASE("cost features: a 1-D convolution's two-output blocks, strided too, and borders") {
  es_conv1d_s8_params_t p{};
  p.batch = 1, p.in_channels = 2, p.in_w = 8, p.out_channels = 5, p.out_w = 8;
  p.kernel_w = 3, p.stride = 1, p.pad_left = 1;
  ConvCall conv(conv3x3Pad1());
  conv.call.function = "es_conv1d_k3_s8";
  conv.call.macs = 5 * 8 * 2 * 3;
  conv.call.params = KernelParams{"es_conv1d_s8_params_t", CInit(),
                                  std::make_shared<es_conv1d_s8_params_t>(p)};
  // Outputs 1..6 lie inside the row: three blocks of two outputs; 0 and 7 cross the padding.
  // Two channel pairs; the fifth channel goes through the border path whole.
  CostFeatures features = costFeatures(conv.call);
  CHECK(feature(features, "pixel_blocks") == 2 * 3);
  CHECK(feature(features, "block_macs") == 2 * 3 * 4 * 6);
  CHECK(feature(features, "edge_macs") == 0);
  CHECK(feature(features, "edge_pixels") == 2 * 2 * 2);
  CHECK(feature(features, "edge_window_taps") == 2 * 2 * 2 * 6);
  CHECK(feature(features, "narrow_macs") == 8 * 6);
  CHECK(feature(features, "strided_block_macs") == 0);
  // Stride 2: outputs 1..3 lie inside the row, a block of two and one alone; output 0 crosses
  // the padding.
  p.stride = 2, p.out_w = 4;
  conv.call.params->storage = std::make_shared<es_conv1d_s8_params_t>(p);
  features = costFeatures(conv.call);
  CHECK(feature(features, "pixel_blocks") == 2 * 1);
  CHECK(feature(features, "block_macs") == 2 * 1 * 4 * 6);
  CHECK(feature(features, "strided_block_macs") == 2 * 1 * 4 * 6);
  CHECK(feature(features, "edge_macs") == 2 * 1 * 2 * 6);
  CHECK(feature(features, "edge_pixels") == 2 * 1 * 2);
  // A row narrower than the window: every output crosses the padding.
  p.in_w = 1, p.stride = 1, p.out_w = 1;
  conv.call.params->storage = std::make_shared<es_conv1d_s8_params_t>(p);
  features = costFeatures(conv.call);
  CHECK(feature(features, "pixel_blocks") == 0);
  CHECK(feature(features, "edge_macs") == 0);
  CHECK(feature(features, "edge_pixels") == 2 * 1 * 2);
  for (const auto &[name, value] : features)
    CHECK(std::find(costFeatureNames().begin(), costFeatureNames().end(), name) !=
          costFeatureNames().end());
}

TEST_CASE("cost features: an int8 global average pool's planes rescaled in 64 bits") {
  es_global_avg_pool_s8_params_t p{};
  p.batch = 2, p.channels = 3, p.size = 30;
  p.requant = {1 << 30, -3}; // a factor below 1/2: the int32 rescaling
  ConvCall pool(conv3x3Pad1());
  pool.call.function = "es_global_avg_pool_s8";
  pool.call.macs = 0;
  pool.call.params = KernelParams{"es_global_avg_pool_s8_params_t", CInit(),
                                  std::make_shared<es_global_avg_pool_s8_params_t>(p)};
  CostFeatures features = costFeatures(pool.call);
  CHECK(feature(features, "planes") == 6);
  CHECK(feature(features, "elements") == 6 * 30);
  CHECK(feature(features, "wide_planes") == 0);
  for (const es_requant_t requant : {es_requant_t{1 << 30, 0}, es_requant_t{1 << 30, -32}}) {
    p.requant = requant;
    pool.call.params->storage = std::make_shared<es_global_avg_pool_s8_params_t>(p);
    CHECK(feature(costFeatures(pool.call), "wide_planes") == 6);
  }
  p.requant = {1 << 30, -3}, p.size = 1 << 23; // a sum that may not fit int32
  pool.call.params->storage = std::make_shared<es_global_avg_pool_s8_params_t>(p);
  CHECK(feature(costFeatures(pool.call), "wide_planes") == 6);
}

// The targets' measured kernel costs (tools/calibrate-costs) price the calls they name.
TEST_CASE("targets: kernel_costs price the kernels they name, the class tables the rest") {
  const Target m4 = loadTarget("cortex-m4");
  REQUIRE(m4.kernelCosts.count("es_conv2d_gemm_s8"));
  ConvCall conv(conv3x3Pad1());
  const Target::KernelCost &cost = m4.kernelCosts.at("es_conv2d_gemm_s8");
  REQUIRE(!cost.perFeature.empty());
  double expected = cost.fixed;
  for (const auto &[name, value] : costFeatures(conv.call))
    if (cost.perFeature.count(std::string(name)))
      expected += cost.perFeature.at(std::string(name)) * value;
  CHECK(estimateCycles(m4, Precision::Int8, conv.call) == Approx(expected));
  conv.call.function = "es_not_calibrated_s8";
  CHECK(estimateCycles(m4, Precision::Int8, conv.call) ==
        Approx(conv.call.macs * m4.cyclesPerMac.at("int8").at("conv") + m4.callOverheadCycles));
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
  json["kernel_costs"]["es_conv1d_s8"] = {{"fixed", 0.0}, {"per", {{"macs", -1.0}}}};
  std::ofstream(file) << json.dump();
  CHECK_THROWS_WITH(loadTarget(file.string()),
                    Catch::Matchers::Contains("/kernel_costs/es_conv1d_s8/per/macs must be >= 0"));
  // A feature the compiler does not count, or the format before features.
  json["kernel_costs"]["es_conv1d_s8"] = {{"fixed", 0.0}, {"per", {{"per_mac", 1.0}}}};
  std::ofstream(file) << json.dump();
  CHECK_THROWS_WITH(loadTarget(file.string()),
                    Catch::Matchers::Contains("/kernel_costs/es_conv1d_s8/per/per_mac is not a "
                                              "cost feature (one of: macs, outputs,"));
  json["kernel_costs"]["es_conv1d_s8"] = {{"per_mac", 1.0}, {"per_element", 0.0}, {"fixed", 0.0}};
  std::ofstream(file) << json.dump();
  CHECK_THROWS_WITH(loadTarget(file.string()),
                    Catch::Matchers::Contains("/kernel_costs/es_conv1d_s8/per is missing"));
  std::filesystem::remove(file);
}
