// fuseConvGlobalPools: which chains become one Conv1dGlobalAveragePool call, and that the fused
// program's int8 outputs equal the unfused program's byte for byte.
#include "GraphBuilder.h"
#include "LoweringHarness.h"
#include "codegen/CodegenCheck.h"

#include <catch2/catch.hpp>

#include <random>

namespace edgesplit::testing {
namespace {

Tensor randomTensor(llvm::ArrayRef<int64_t> shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Tensor tensor(DType::Float32, Shape(shape.begin(), shape.end()));
  for (float &x : tensor.mutableValues<float>()) x = dist(rng);
  return tensor;
}

struct ChainShape {
  std::vector<int64_t> input; // as the graph's input
  std::vector<int64_t> perm;  // of the Transpose before the Conv; empty: none
  int64_t channels = 3, outChannels = 8, kernel = 3, stride = 1, pad = 0;
  bool poolReadsConvTwice = false; // the Relu's output also a graph output
};

// [Transpose ->] Conv 1-D (bias) -> Relu -> GlobalAveragePool -> Flatten.
std::function<std::unique_ptr<Graph>()> chain(ChainShape s) {
  return [s] {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, llvm::ArrayRef<int64_t>(s.input));
    if (!s.perm.empty()) x = b.node("Transpose", {x}, {"t"}, attrs({{"perm", s.perm}}))->outputs[0];
    Value *w = b.constant("w", randomTensor({s.outChannels, s.channels, s.kernel}, 1));
    Value *bias = b.constant("b", randomTensor({s.outChannels}, 2));
    Node *conv = b.node("Conv", {x, w, bias}, {"c"},
                        attrs({{"kernel_shape", std::vector<int64_t>{s.kernel}},
                               {"strides", std::vector<int64_t>{s.stride}},
                               {"pads", std::vector<int64_t>{s.pad, s.pad}}}));
    Node *relu = b.node("Relu", {conv->outputs[0]}, {"r"});
    Node *pool = b.node("GlobalAveragePool", {relu->outputs[0]}, {"p"});
    Node *flat = b.node("Flatten", {pool->outputs[0]}, {"y"});
    b.output(flat->outputs[0]);
    if (s.poolReadsConvTwice) b.output(relu->outputs[0]);
    return b.finish();
  };
}

// The chain compiled for `isa`, and as the oracle the same chain with the Conv's output also a
// graph output, which keeps the layers apart (the same values, so the same int8 parameters).
void checkAgainstUnfused(const ChainShape &shape, KernelIsa isa,
                         const std::vector<std::string> &functions) {
  const Tensor input = randomTensor(shape.input, 3);
  ChainShape exported = shape;
  exported.poolReadsConvTwice = true;
  const LoweredRun fused = runLowered(chain(shape), {input}, Precision::Int8, isa);
  const LoweredRun apart = runLowered(chain(exported), {input}, Precision::Int8, isa);
  std::vector<std::string> called; // the Flatten is a view: no function
  llvm::copy_if(fused.functions, std::back_inserter(called),
                [](const std::string &name) { return !name.empty(); });
  CHECK(called == functions);
  CHECK(llvm::is_contained(apart.functions, "es_global_avg_pool_s8"));
  REQUIRE(fused.raw.size() == 1);
  REQUIRE(apart.raw.size() == 2);
  CHECK(fused.raw[0] == apart.raw[0]);
}

TEST_CASE("an NWC Transpose, a 1-D Conv, its Relu and a global average pool are one call",
          "[fusion]") {
  ChainShape shape;
  shape.input = {1, 32, 3};
  shape.perm = {0, 2, 1};
  checkAgainstUnfused(shape, KernelIsa::Dsp, {"es_conv1d_nwc_mean_3x3_s8"});
  checkAgainstUnfused(shape, KernelIsa::Plain, {"es_conv1d_nwc_mean_3x3_s8"});
  checkAgainstUnfused(shape, KernelIsa::Mve, {"es_conv1d_nwc_mean_3x3_s8"});
}

TEST_CASE("a 1-D Conv read only by a global average pool fuses without a Transpose", "[fusion]") {
  ChainShape shape;
  shape.input = {2, 3, 21};
  shape.outChannels = 5;
  shape.pad = 1;
  checkAgainstUnfused(shape, KernelIsa::Dsp, {"es_conv1d_nwc_mean_3x3_s8"});
}

TEST_CASE("1-D Convs that es_conv1d_k*_s8 runs faster than the fused body stay apart", "[fusion]") {
  ChainShape shape;
  shape.input = {1, 8, 32};
  shape.channels = 8; // two_imu's second layer: 8 channels, 3 taps
  shape.pad = 1;
  checkAgainstUnfused(shape, KernelIsa::Dsp, {"es_conv1d_k3_s8", "es_global_avg_pool_s8"});
  shape.input = {1, 3, 40};
  shape.channels = 3;
  shape.stride = 2;
  checkAgainstUnfused(shape, KernelIsa::Dsp, {"es_conv1d_k3_s8", "es_global_avg_pool_s8"});
}

TEST_CASE("a Transpose other than NWC stays a layer of its own before the fused call", "[fusion]") {
  ChainShape shape;
  shape.input = {3, 1, 17};
  shape.perm = {1, 0, 2}; // batch and channels swapped: not a layout the kernel reads
  checkAgainstUnfused(shape, KernelIsa::Dsp, {"es_transpose_s8", "es_conv1d_nwc_mean_3x3_s8"});
}

TEST_CASE("a Conv whose output something else reads too is not fused", "[fusion]") {
  ChainShape shape;
  shape.input = {1, 32, 3};
  shape.perm = {0, 2, 1};
  shape.poolReadsConvTwice = true;
  const LoweredRun run =
      runLowered(chain(shape), {randomTensor(shape.input, 3)}, Precision::Int8, KernelIsa::Dsp);
  CHECK(llvm::is_contained(run.functions, "es_global_avg_pool_s8"));
  CHECK(!llvm::is_contained(run.functions, "es_conv1d_nwc_mean_3x3_s8"));
}

TEST_CASE("fuseConvGlobalPools leaves float32 programs alone", "[fusion]") {
  ChainShape shape;
  shape.input = {1, 32, 3};
  shape.perm = {0, 2, 1};
  const LoweredRun run =
      runLowered(chain(shape), {randomTensor(shape.input, 3)}, Precision::Float32, KernelIsa::Dsp);
  CHECK(llvm::is_contained(run.functions, "es_global_avg_pool_f32"));
}

TEST_CASE("the codegen check says which nodes the fused call computes", "[fusion][codegen]") {
  // What `inspect` reports: the Transpose and the pool run inside the convolution's call, the
  // Relu is the convolution's clamp.
  ChainShape shape;
  shape.input = {1, 32, 3};
  shape.perm = {0, 2, 1};
  auto graph = chain(shape)();
  const CodegenCheck check = checkCodegen(*graph, Precision::Int8, KernelIsa::Dsp, true);
  REQUIRE(check.ok());
  const std::string fusedCall =
      "computed by one call with the 1-D convolution and global average pool around it";
  CHECK(check.absorbedNodes.lookup("Transpose_0") == fusedCall);
  CHECK(check.absorbedNodes.lookup("GlobalAveragePool_3") == fusedCall);
  CHECK(check.absorbedNodes.lookup("Relu_2") == "fused into the node that produces its input");
}

} // namespace
} // namespace edgesplit::testing
