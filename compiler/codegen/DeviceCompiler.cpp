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
  CompiledDevice device;
  device.fused = fuseActivations(graph);
  verifyGraph(graph);
  MemoryPlanOptions options;
  options.valueBytes = bytesPerElement(elementBytes(precision));
  device.plan = planMemory(graph, options);
  device.program = lowerGraph(graph, precision, device.plan.order, device.fused);
  return device;
}

} // namespace edgesplit
