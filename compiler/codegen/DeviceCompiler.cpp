#include "codegen/DeviceCompiler.h"

#include "codegen/FuseConvGlobalPools.h"
#include "ir/Verifier.h"
#include "quantize/AbsorbQdq.h"
#include "quantize/FoldQuantizedBias.h"
#include "quantize/FoldRequantChains.h"

namespace edgesplit {

void prepareInt8(Graph &graph, const ValueRanges &ranges) {
  absorbQdqForInt8(graph);
  foldQuantizedBias(graph);
  foldRequantChains(graph);
  verifyGraph(graph);
  annotateQuantization(graph, ranges);
}

CompiledDevice compileDevice(Graph &graph, Precision precision, KernelIsa isa,
                             S8Rounding rounding) {
  auto fused = fuseActivations(graph);
  verifyGraph(graph);
  return compileFusedDevice(graph, precision, isa, rounding, std::move(fused));
}

CompiledDevice compileFusedDevice(Graph &graph, Precision precision, KernelIsa isa,
                                  S8Rounding rounding,
                                  llvm::DenseMap<const Node *, ActivationClamp> fused) {
  CompiledDevice device;
  if (precision == Precision::Int8 && fuseConvGlobalPools(graph, fused, isa) > 0)
    verifyGraph(graph, {}, "fuse-conv-global-pools");
  device.fused = std::move(fused);
  // The kernels a lowering picks decide the scratch each node needs, which the plan must know
  // and whose order the final lowering follows: lower once in graph order to learn it.
  std::vector<const Node *> graphOrder;
  for (const auto &node : graph.nodes()) graphOrder.push_back(node.get());
  const llvm::DenseMap<const Node *, int64_t> scratch =
      lowerGraph(graph, precision, isa, rounding, graphOrder, device.fused).scratchBytesByNode();
  MemoryPlanOptions options;
  options.valueBytes = bytesPerElement(elementBytes(precision));
  if (!scratch.empty())
    options.scratchBytes = [&scratch](const Node &node) { return scratch.lookup(&node); };
  device.plan = planMemory(graph, options);
  device.program = lowerGraph(graph, precision, isa, rounding, device.plan.order, device.fused);
  return device;
}

} // namespace edgesplit
