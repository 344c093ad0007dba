// Prints one device's Program and memory plan as a self-contained C99 folder: model.h (the API),
// model.c (the arena and the kernel calls in order), weights.c (const arrays in flash), build
// files (CMakeLists.txt, model.mk) and the runtime-c sources the calls need. Output is a pure
// function of its inputs: same program, same bytes.
#pragma once

#include "codegen/Program.h"
#include "memory/MemoryPlan.h"

#include <map>
#include <string>

namespace edgesplit {

struct EmitOptions {
  std::string device;  // folder and symbol prefix
  std::string target;  // recorded in comments
  std::string version; // of edgesplit, recorded in comments
};

// Relative path -> contents, sorted by path.
using SourceFiles = std::map<std::string, std::string>;

SourceFiles emitDevice(const Program &program, const MemoryPlan &plan, const EmitOptions &options);

// The C identifier prefix of a device's symbols ("main" -> "main_").
std::string devicePrefix(const std::string &device);

// A host program that feeds `device`'s model samples from files (see `edgesplit run`):
//   run raw|float SAMPLES INPUT_FILE... OUTPUT_FILE...
// Inputs are float32 samples back to back (quantised by the model's own wrappers); outputs are
// the raw elements ("raw") or the dequantised float32 ("float").
std::string emitHostDriver(const std::string &device);

} // namespace edgesplit
