// Building the programs `edgesplit run` executes (generated code plus a driver) with the host C
// compiler or arm-none-eabi-gcc, cached in OUTDIR/.build/.
#pragma once

#include <filesystem>
#include <string>

namespace edgesplit::cli {

std::string readText(const std::filesystem::path &path);

// $CC (else cc) with the generated code's strict flags, and the sanitizers when asked.
std::string hostCompiler(bool sanitize);

// Runs `command` (its output to a build.log beside `binary`) unless `binary` was built by the
// same command before; on failure names `what` and the log.
void buildOnce(const std::string &command, const std::filesystem::path &binary,
               const std::filesystem::path &what);

} // namespace edgesplit::cli
