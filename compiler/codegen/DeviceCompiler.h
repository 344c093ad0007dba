// One device's path from a normalised graph to a Program and its memory plan: int8 annotation
// (calibrated ranges or the model's own parameters), activation fusion, memory planning in the
// order that lowers the peak, and lowering in that order. The CLI and the tests share it.
#pragma once

#include "codegen/Lowering.h"
#include "memory/MemoryPlan.h"
#include "quantize/Annotate.h"

namespace edgesplit {

// int8 only: gives every value its parameters (absorbing a QDQ model's first). Separate from
// compileDevice so --emit-qdq can export the annotated graph before fusion changes it.
void prepareInt8(Graph &graph, const ValueRanges &ranges);

// The graph's values must outlive the result (Program and plan point into them).
struct CompiledDevice {
  Program program;
  MemoryPlan plan;
  llvm::DenseMap<const Node *, ActivationClamp> fused;
};

// Fuses activations into `graph`, plans its arena and lowers it for kernels built for `isa`
// that rescale by `rounding` (the build's rule, which the int8 tables follow too).
CompiledDevice compileDevice(Graph &graph, Precision precision, KernelIsa isa, S8Rounding rounding);
// The same for a graph whose activations were fused already (a device's share of a fleet).
CompiledDevice compileFusedDevice(Graph &graph, Precision precision, KernelIsa isa,
                                  S8Rounding rounding,
                                  llvm::DenseMap<const Node *, ActivationClamp> fused);

} // namespace edgesplit
