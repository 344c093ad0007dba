// `edgesplit run`: builds a compiled folder for the host or the QEMU boards of its targets, runs
// it on .npy inputs and writes the outputs and run.json; a fleet runs as a whole, with its
// failure, fault and restart injection, on the host simulator or one QEMU board per device.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace edgesplit {

struct RunOptions {
  std::string compiled;
  std::vector<std::pair<std::string, std::string>> inputs; // model input name, .npy path
  std::string outputDir;
  std::string device;
  bool raw = false;
  bool sanitize = false;
  bool qemu = false;
  bool perLayer = false;
  std::vector<std::string> failed;
  std::vector<std::string> reboots;
  double replayRate = 0.0;
  double dropRate = 0.0;
  double corruptRate = 0.0;
  uint64_t seed = 1;
};

void runCompiled(const RunOptions &options);

} // namespace edgesplit
