#include "codegen/DeviceCompiler.h"

#include "ir/Verifier.h"
#include "quantize/AbsorbQdq.h"

namespace edgesplit {

void prepareInt8(Graph &graph, const ValueRanges &ranges) {
  absorbQdq(graph);
  verifyGraph(graph);
  annotateQuantization(graph, ranges);
}

CompiledDevice compileDevice(Graph &graph, Precision precision) {
  auto fused = fuseActivations(graph);
  verifyGraph(graph);
  return compileFusedDevice(graph, precision, std::move(fused));
}

CompiledDevice compileFusedDevice(Graph &graph, Precision precision,
                                  llvm::DenseMap<const Node *, ActivationClamp> fused) {
  CompiledDevice device;
  device.fused = std::move(fused);
  MemoryPlanOptions options;
  options.valueBytes = bytesPerElement(elementBytes(precision));
  device.plan = planMemory(graph, options);
  device.program = lowerGraph(graph, precision, device.plan.order, device.fused);
  return device;
}

} // namespace edgesplit
