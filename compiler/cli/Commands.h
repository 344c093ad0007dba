#pragma once

#include <CLI/CLI.hpp>

namespace edgesplit::cli {
// Each registers its subcommand on `app`; the callback runs it (throwing Error on bad input).
void registerInspect(CLI::App &app);
void registerReference(CLI::App &app);
void registerCompile(CLI::App &app);
void registerRun(CLI::App &app);
void registerReport(CLI::App &app);
void registerDiff(CLI::App &app);
void registerTopologyInit(CLI::App &app);
void registerTopologyCheck(CLI::App &app);
} // namespace edgesplit::cli
