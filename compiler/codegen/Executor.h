// Runs a Program in-process with the runtime-c kernels, every activation in its own buffer: the
// int8 (or float32) reference the generated C must equal bit for bit, whatever its arena plan.
#pragma once

#include "codegen/Program.h"

#include <llvm/ADT/DenseMap.h>

#include <cstdint>
#include <vector>

namespace edgesplit {

// The I/O conversions of docs/int8.md "Inputs and outputs", shared with the generated float
// wrappers: q = clamp(lroundf(x / scale) + zero_point), x = (q - zero_point) * scale in float.
int8_t quantizeInputValue(float value, float scale, int32_t zeroPoint);
float dequantizeOutputValue(int8_t value, float scale, int32_t zeroPoint);

class Executor {
public:
  explicit Executor(const Program &program) : program_(program) {}

  // Inputs as the program's element type (int8 or float32 bytes) in program.inputs order;
  // returns the outputs the same way.
  std::vector<std::vector<uint8_t>> runRaw(const std::vector<std::vector<uint8_t>> &inputs);

  // float32 tensors (one sample each, shapes as the ports) in and out: quantised on the way in
  // and dequantised on the way out for int8 programs.
  std::vector<std::vector<uint8_t>> quantizeInputs(llvm::ArrayRef<Tensor> inputs) const;
  std::vector<Tensor> dequantizeOutputs(const std::vector<std::vector<uint8_t>> &raw) const;

private:
  std::vector<uint8_t> &buffer(const Value *value);
  const Program &program_;
  llvm::DenseMap<const Value *, std::vector<uint8_t>> buffers_;
};

} // namespace edgesplit
