// Runs a hand-built graph through the device compiler (annotation, fusion, memory plan, lowering)
// and the in-process executor, next to the float reference interpreter, so each op's lowering is
// tested against the op's own float semantics.
#pragma once

#include "codegen/DeviceCompiler.h"
#include "codegen/Executor.h"
#include "interp/Interpreter.h"
#include "quantize/Calibration.h"

#include <functional>
#include <memory>
#include <vector>

namespace edgesplit::testing {

struct LoweredRun {
  std::vector<Tensor> reference; // float interpreter
  std::vector<Tensor> lowered;   // executor; dequantised for int8
  std::vector<std::vector<uint8_t>> raw;
  std::vector<float> outputScales;    // int8: each output's scale (1 LSB)
  size_t calls = 0;                   // kernel calls in the program (fused activations vanish)
  std::vector<std::string> functions; // the runtime-c function of each call
  int64_t scratchBytes = 0;           // planned scratch of all nodes
  int64_t arenaBytes = 0;
};

// `build` is called twice (the reference and the compiled graph). int8 calibrates on `inputs`.
inline LoweredRun runLowered(const std::function<std::unique_ptr<Graph>()> &build,
                             const std::vector<Tensor> &inputs, Precision precision,
                             KernelIsa isa = KernelIsa::Plain,
                             S8Rounding rounding = S8Rounding::Double) {
  LoweredRun run;
  const std::unique_ptr<Graph> reference = build();
  run.reference = Interpreter(*reference).run(inputs);

  std::unique_ptr<Graph> graph = build();
  if (precision == Precision::Int8) {
    const auto ranges = calibrate(*graph, {inputs}, ObserverOptions{});
    prepareInt8(*graph, ranges);
  }
  CompiledDevice device = compileDevice(*graph, precision, isa, rounding);
  Executor executor(device.program);
  run.raw = executor.runRaw(executor.quantizeInputs(inputs));
  run.lowered = executor.dequantizeOutputs(run.raw);
  for (const ProgramPort &port : device.program.outputs) run.outputScales.push_back(port.scale);
  run.calls = device.program.calls.size();
  for (const KernelCall &call : device.program.calls) run.functions.push_back(call.function);
  for (const auto &[node, slot] : device.plan.scratch) run.scratchBytes += slot.bytes;
  run.arenaBytes = device.plan.arenaBytes;
  return run;
}

} // namespace edgesplit::testing
