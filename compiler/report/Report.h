// The compile report (report.json, schema edgesplit-report/1, documented in docs/report.md and
// docs/report.schema.json) and its human-readable twin report.md: per device RAM, flash, MACs,
// latency and energy estimates and a per-layer table. Deterministic, so CI can diff two reports.
#pragma once

#include "codegen/Program.h"
#include "memory/MemoryPlan.h"
#include "report/StackUsage.h"
#include "target/Target.h"
#include "report/TextDocument.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>

namespace edgesplit {

using ReportJson = nlohmann::ordered_json;

// Flash of a generated device folder as the target toolchain's size reports it (text + data of
// the model linked with only what its API reaches), when the target has a cross toolchain and it
// is installed; nullopt otherwise.
// The same link, compiled with -fstack-usage -fcallgraph-info=su, also gives the deepest chain
// of stack frames from the device's entry points (StackUsage.h), or why there is no bound.
struct FlashMeasurement {
  int64_t textBytes = 0;
  int64_t dataBytes = 0;
  std::optional<StackEstimate> stack;
  std::string stackUnbounded; // why `stack` is absent
};
// `entryPoints`: more API functions (without the device prefix) the link keeps, e.g. a fleet
// device's step function; `hooks`: functions the application supplies (a sensor's send hook),
// resolved to a dummy address for the measurement.
std::optional<FlashMeasurement> measureFlash(const std::filesystem::path &deviceDir,
                                             const Target &target, const std::string &device,
                                             Precision precision,
                                             const std::vector<std::string> &entryPoints = {},
                                             const std::vector<std::string> &hooks = {});

struct DeviceReportInput {
  std::string device;
  const Target *target = nullptr;
  const Program *program = nullptr;
  const MemoryPlan *plan = nullptr;
  std::optional<FlashMeasurement> flash;
  int64_t staticBytes = 0; // RAM outside the arena: a fleet device's frame/reassembly buffers
};

ReportJson deviceReport(const DeviceReportInput &input);
// A device's worst-case stack: the call graph's deepest chain (library functions included) + the
// target's interrupt_stack_bytes when the folder was measured, else the target's stack_bytes
// allowance; `method` says which, for the report.
int64_t deviceStackBytes(const Target &target, const std::optional<FlashMeasurement> &flash,
                         std::string &method);
// Fails (naming the device, its needs and limits, and what to do) when a device's RAM or flash
// exceeds its target's.
void checkDeviceFits(const ReportJson &device, const std::string &modelPath);
ReportJson compileReport(const std::string &modelName, Precision precision,
                         std::vector<ReportJson> devices);
// The report as tables: markdown is report.md (and `edgesplit report --format md`, a PR comment),
// text the same for a terminal. `report` must pass checkReport (report/ReportFile.h).
std::string renderReport(const ReportJson &report, TextFormat format);

} // namespace edgesplit
