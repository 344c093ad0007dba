// Building the programs `edgesplit run` executes (generated code plus a driver) with the host C
// compiler or arm-none-eabi-gcc, cached in OUTDIR/.build/.
#pragma once

#include "ir/Tensor.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace edgesplit {

std::string readText(const std::filesystem::path &path);

// $CC (else cc) with the generated code's strict flags, and the sanitizers when asked.
std::string hostCompiler(bool sanitize);

// Runs `command` (its output to a build.log beside `binary`) unless `binary` was built by the
// same command before; on failure names `what` and the log.
void buildOnce(const std::string &command, const std::filesystem::path &binary,
               const std::filesystem::path &what);

// Writes ports [first, first + count) of every sample, float32 back to back, into
// `io`/input<i>.bin (i from 0), the files the drivers read; `io` is emptied first.
void writeSampleFiles(const std::filesystem::path &io,
                      const std::vector<std::vector<Tensor>> &samples, size_t first, size_t count);

// The largest element count among a report device's inputs and outputs: a driver's buffer.
size_t largestPort(const nlohmann::ordered_json &device);

} // namespace edgesplit
