// `edgesplit compile --topology`: one model over a fleet of devices (docs/partition.md).
#pragma once

#include "codegen/Program.h"
#include "ir/Graph.h"
#include "partition/FleetKeys.h"
#include "partition/Topology.h"

#include <llvm/ADT/StringMap.h>

#include <optional>
#include <string>
#include <vector>

namespace edgesplit {

struct FleetCompileRequest {
  Graph *graph = nullptr; // int8-annotated (or float), activations not fused yet
  const Topology *topology = nullptr;
  Precision precision = Precision::Int8;
  S8Rounding rounding = S8Rounding::Double; // of every device's int8 kernels and tables
  std::string modelPath;
  uint32_t fingerprint = 0;
  // Keyed links (topology->keyed): link keys derived from the master key and written into each
  // device's fleet.c, or (keyHook) loaded by the device at init; the master key is written nowhere.
  std::optional<MasterKey> masterKey;
  bool keyHook = false;
  // Impute fallback: the calibration samples whose means replace a missing group's tensors.
  const std::vector<std::vector<Tensor>> *calibrationSamples = nullptr;
  // float32: the shares of exact zeros in the activations over those samples (zeroShares), which
  // the estimates of float layers on a core without an FPU follow (the partitioner's too).
  const llvm::StringMap<double> *zeroShares = nullptr;
  std::string outputDir;
};

void compileFleet(const FleetCompileRequest &request);

// FNV-1a (32-bit) over the pieces that determine the generated fleet: frames of another
// compilation carry another fingerprint and are dropped.
uint32_t fleetFingerprint(const std::vector<std::string> &parts);

} // namespace edgesplit
