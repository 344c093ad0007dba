// Prints one device's Program and memory plan as a self-contained C99 folder: model.h (the API),
// model.c (the arena and the kernel calls in order), weights.c (const arrays in flash), build
// files (CMakeLists.txt, model.mk) and the runtime-c sources the calls need. Output is a pure
// function of its inputs: same program, same bytes.
#pragma once

#include "codegen/Program.h"
#include "memory/MemoryPlan.h"

#include <map>
#include <string>
#include <vector>

namespace edgesplit {

// Relative path -> contents, sorted by path.
using SourceFiles = std::map<std::string, std::string>;

struct EmitOptions {
  std::string device;  // folder and symbol prefix
  std::string target;  // recorded in comments
  std::string version; // of edgesplit, recorded in comments
  // Non-empty: bit h of callMasks[k] says call k is needed by entry h, and model.c gains
  // <prefix>run_heads(mask) that runs only the calls of the entries in mask (an aggregator runs
  // one head at a time).
  std::vector<uint32_t> callMasks;
  // More files of the folder (fleet.h, fleet.c) and the runtime functions they call.
  SourceFiles extraFiles;
  std::vector<std::string> extraRuntimeFunctions;
};

SourceFiles emitDevice(const Program &program, const MemoryPlan &plan, const EmitOptions &options);

// The C identifier prefix of a device's symbols ("main" -> "main_").
std::string devicePrefix(const std::string &device);
std::string upperCase(std::string text);
// A macro-safe upper-case name for an ONNX tensor name ("dense/out:0" -> "DENSE_OUT_0").
std::string macroName(const std::string &name);
// `text` safe inside a C comment (a name containing "*/" must not end it early).
std::string commentSafe(std::string text);

// The program `edgesplit run` builds around `device`'s folder, for the host or (with files read
// by semihosting) a QEMU board:
//   run raw|float SAMPLES INPUT_FILE... OUTPUT_FILE...
// Inputs are float32 samples back to back (quantised by the model's own wrappers); outputs are
// the raw elements ("raw") or the dequantised float32 ("float"). `bufferFloats` is the largest
// input or output element count. Built with -DES_BOARD it includes the board's board.h, whose
// ES_MARK() brackets each sample's quantisation, inference and dequantisation for the
// instruction-count plugin.
std::string emitRunDriver(const std::string &device, size_t bufferFloats);

} // namespace edgesplit
