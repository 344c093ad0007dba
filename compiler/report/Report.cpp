#include "report/Report.h"

#include "codegen/CEmitter.h"
#include "support/Error.h"
#include "support/Shell.h"

#include <fmt/format.h>

#include <sstream>

namespace edgesplit {
namespace {

// Code and constants a device folder adds to flash when it cannot be measured: weights and
// parameters exactly, code as a per-kernel-file and per-call allowance.
int64_t estimatedFlashBytes(const Program &program) {
  int64_t bytes = program.constantBytes();
  for (const KernelCall &call : program.calls) bytes += 96; // call site + parameter struct
  return bytes + 4096;                                     // kernels, I/O wrappers
}

} // namespace

std::optional<FlashMeasurement> measureFlash(const std::filesystem::path &deviceDir,
                                             const Target &target, const std::string &device,
                                             Precision precision,
                                             const std::vector<std::string> &entryPoints,
                                             const std::vector<std::string> &hooks) {
  if (target.gccFlags.empty() || !captureCommand("arm-none-eabi-gcc --version")) return std::nullopt;
  const std::string prefix = devicePrefix(device);
  std::string command = "arm-none-eabi-gcc";
  for (const std::string &flag : target.gccFlags) command += " " + shellQuote(flag);
  command += " -std=c99 -O2 -ffunction-sections -fdata-sections -nostartfiles"
             " --specs=nano.specs -Wl,--gc-sections -Wl,-e," + prefix + "run";
  for (const char *api : {"init", "input", "output", "set_input_f32", "get_output_f32"})
    command += " -Wl,-u," + prefix + api;
  for (const std::string &api : entryPoints) command += " -Wl,-u," + prefix + api;
  for (const std::string &hook : hooks) command += " -Wl,--defsym," + prefix + hook + "=0";
  command += " -I" + shellQuote(deviceDir.string()) + " -I" + shellQuote((deviceDir / "runtime/include").string());
  for (const std::string &source : cSourcesIn(deviceDir)) command += " " + shellQuote(source);
  const std::filesystem::path elf = deviceDir.parent_path() / (".flash-" + device + ".elf");
  command += " -o " + shellQuote(elf.string());
  if (precision == Precision::Float32) command += " -lm";
  const bool linked = captureCommand(command).has_value();
  std::optional<std::string> size =
      linked ? captureCommand("arm-none-eabi-size --format=berkeley " + shellQuote(elf.string())) : std::nullopt;
  std::filesystem::remove(elf);
  if (!size) return std::nullopt;
  std::istringstream lines(*size);
  std::string header;
  std::getline(lines, header);
  FlashMeasurement measured;
  int64_t bss = 0;
  if (!(lines >> measured.textBytes >> measured.dataBytes >> bss)) return std::nullopt;
  return measured;
}

ReportJson deviceReport(const DeviceReportInput &input) {
  const Program &program = *input.program;
  const MemoryPlan &plan = *input.plan;
  const Target &target = *input.target;
  ReportJson layers = ReportJson::array();
  double totalCycles = 0;
  int64_t totalMacs = 0;
  for (const KernelCall &call : program.calls) {
    const Value *output = call.result;
    auto slot = plan.values.find(output);
    const bool aliased = call.isCopy && plan.values.find(call.args[0].value)->second.offset ==
                                            slot->second.offset;
    const double cycles = aliased ? 0.0 : estimateCycles(target, program.precision, call);
    totalCycles += cycles;
    totalMacs += call.macs;
    ReportJson layer;
    layer["node"] = call.node->name;
    layer["op"] = call.node->opType;
    layer["kernel"] = call.isCopy ? (aliased ? "view" : "memcpy") : call.function;
    layer["output_shape"] = *output->shape;
    layer["macs"] = call.macs;
    layer["arena_offset"] = slot->second.offset;
    layer["arena_bytes"] = slot->second.bytes;
    layer["est_cycles"] = static_cast<int64_t>(std::llround(cycles));
    layers.push_back(std::move(layer));
  }
  const double latencyUs = totalCycles / target.clockMhz;
  auto ports = [&](const std::vector<ProgramPort> &list) {
    ReportJson result = ReportJson::array();
    for (const ProgramPort &port : list) {
      ReportJson entry;
      entry["name"] = port.name;
      entry["shape"] = port.shape;
      if (program.precision == Precision::Int8) {
        entry["scale"] = port.scale;
        entry["zero_point"] = port.zeroPoint;
      }
      result.push_back(std::move(entry));
    }
    return result;
  };

  ReportJson device;
  device["name"] = input.device;
  device["target"] = target.name;
  device["precision"] = precisionName(program.precision);
  device["folder"] = input.device;
  if (input.flash) {
    device["flash_bytes"] = input.flash->textBytes + input.flash->dataBytes;
    device["flash_measured"] = true;
    device["flash_method"] = "arm-none-eabi-size (text + data) of the linked folder";
  } else {
    device["flash_bytes"] = estimatedFlashBytes(program);
    device["flash_measured"] = false;
    device["flash_method"] = "estimate: constants + 96 B per call + 4 KiB of kernels";
  }
  device["weights_bytes"] = program.constantBytes();
  device["ram_bytes"] = plan.arenaBytes + target.stackBytes + input.staticBytes;
  device["arena_bytes"] = plan.arenaBytes;
  device["arena_lower_bound_bytes"] = plan.lowerBoundBytes;
  device["stack_bytes_estimate"] = target.stackBytes;
  device["static_buffers_bytes"] = input.staticBytes;
  device["ram_limit_bytes"] = target.ramKib * 1024;
  device["flash_limit_bytes"] = target.flashKib * 1024;
  device["macs"] = totalMacs;
  device["est_cycles"] = static_cast<int64_t>(std::llround(totalCycles));
  device["est_latency_us"] = std::round(latencyUs * 10.0) / 10.0;
  device["est_energy_uj"] = std::round(target.activeMw * latencyUs / 1000.0 * 1000.0) / 1000.0;
  device["inputs"] = ports(program.inputs);
  device["outputs"] = ports(program.outputs);
  device["layers"] = std::move(layers);
  return device;
}

void checkDeviceFits(const ReportJson &device, const std::string &modelPath) {
  const std::string name = device["name"], target = device["target"];
  const int64_t ram = device["ram_bytes"], ramLimit = device["ram_limit_bytes"];
  const int64_t flash = device["flash_bytes"], flashLimit = device["flash_limit_bytes"];
  if (ram > ramLimit)
    fail("{}: does not fit device '{}' ({}): needs {} bytes of RAM (arena {} + stack {} + "
         "buffers {}) but it has {}; use --precision int8, a larger target, or split the model "
         "over several devices",
         modelPath, name, target, ram, device["arena_bytes"].get<int64_t>(),
         device["stack_bytes_estimate"].get<int64_t>(),
         device["static_buffers_bytes"].get<int64_t>(), ramLimit);
  if (flash > flashLimit)
    fail("{}: does not fit device '{}' ({}): needs {} bytes of flash but it has {}; use "
         "--precision int8, a larger target, or split the model over several devices",
         modelPath, name, target, flash, flashLimit);
}

ReportJson compileReport(const std::string &modelName, Precision precision,
                         std::vector<ReportJson> devices) {
  ReportJson report;
  report["schema"] = "edgesplit-report/1";
  report["model"] = modelName;
  report["precision"] = precisionName(precision);
  report["devices"] = std::move(devices);
  report["links"] = ReportJson::array();
  return report;
}

std::string reportMarkdown(const ReportJson &report) {
  std::string out = fmt::format("# edgesplit report: {}\n\nPrecision: {}\n",
                                report["model"].get<std::string>(),
                                report["precision"].get<std::string>());
  for (const ReportJson &device : report["devices"]) {
    out += fmt::format("\n## Device `{}` (target {})\n\n", device["name"].get<std::string>(),
                       device["target"].get<std::string>());
    out += "| | |\n|---|---|\n";
    out += fmt::format("| flash | {} B{} (limit {} B) |\n", device["flash_bytes"].get<int64_t>(),
                       device["flash_measured"].get<bool>() ? " (measured)" : " (estimated)",
                       device["flash_limit_bytes"].get<int64_t>());
    out += fmt::format("| RAM | {} B (limit {} B) |\n", device["ram_bytes"].get<int64_t>(),
                       device["ram_limit_bytes"].get<int64_t>());
    out += fmt::format("| arena | {} B (lower bound {} B) |\n",
                       device["arena_bytes"].get<int64_t>(),
                       device["arena_lower_bound_bytes"].get<int64_t>());
    out += fmt::format("| weights | {} B |\n", device["weights_bytes"].get<int64_t>());
    out += fmt::format("| MACs | {} |\n", device["macs"].get<int64_t>());
    out += fmt::format("| latency (est.) | {} us |\n", device["est_latency_us"].get<double>());
    out += fmt::format("| energy (est.) | {} uJ |\n", device["est_energy_uj"].get<double>());
    out += "\n| node | op | kernel | output | MACs | arena offset | bytes | cycles (est.) |\n";
    out += "|---|---|---|---|---:|---:|---:|---:|\n";
    for (const ReportJson &layer : device["layers"])
      out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                         layer["node"].get<std::string>(), layer["op"].get<std::string>(),
                         layer["kernel"].get<std::string>(), layer["output_shape"].dump(),
                         layer["macs"].get<int64_t>(), layer["arena_offset"].get<int64_t>(),
                         layer["arena_bytes"].get<int64_t>(), layer["est_cycles"].get<int64_t>());
  }
  if (!report["links"].empty()) {
    out += "\n## Links\n\n| from | to | tensors | payload B | bytes on air | frames | transfer (est.) | "
           "energy (est.) |\n|---|---|---|---:|---:|---:|---:|---:|\n";
    for (const ReportJson &link : report["links"]) {
      std::vector<std::string> tensors;
      for (const ReportJson &tensor : link["tensors"]) tensors.push_back(tensor["name"]);
      out += fmt::format("| {} | {} | {} | {} | {} | {} | {} ms | {} uJ |\n",
                         link["from"].get<std::string>(), link["to"].get<std::string>(),
                         fmt::join(tensors, ", "), link["payload_bytes_per_inference"].get<int64_t>(),
                         link["bytes_per_inference"].get<int64_t>(),
                         link["frames_per_inference"].get<int64_t>(),
                         link["est_transfer_ms"].get<double>(), link["est_energy_uj"].get<double>());
    }
  }
  if (report.contains("heads")) {
    out += "\n## Heads (in order of preference)\n\n| head | sensor groups | aggregator MACs |\n"
           "|---|---|---:|\n";
    for (const ReportJson &head : report["heads"])
      out += fmt::format("| {} | {} | {} |\n", head["output"].get<std::string>(),
                         fmt::join(head["groups"].get<std::vector<std::string>>(), ", "),
                         head["aggregator_macs"].get<int64_t>());
  }
  if (report.contains("branches")) {
    const ReportJson &fleet = report["fleet"];
    out += fmt::format("\n## Cuts per branch\n\nBytes on air per inference: {} (raw sensor data: {}).\n",
                       fleet["chosen"]["bytes_per_inference"].get<int64_t>(),
                       fleet["raw"]["bytes_per_inference"].get<int64_t>());
    for (const ReportJson &branch : report["branches"]) {
      out += fmt::format("\n### `{}` on `{}`\n\n| option | sends | bytes on air | latency (est.) | "
                         "energy (est.) | sensor RAM | fits | |\n|---|---|---:|---:|---:|---:|---|---|\n",
                         branch["group"].get<std::string>(), branch["device"].get<std::string>());
      for (const ReportJson &option : branch["options"]) {
        std::string mark = option["chosen"].get<bool>() ? "**chosen**" : "";
        if (option["pareto"].get<bool>()) mark += mark.empty() ? "Pareto" : ", Pareto";
        if (option["raw"].get<bool>()) mark += mark.empty() ? "raw data" : ", raw data";
        out += fmt::format("| {} | {} | {} | {} ms | {} uJ | {} B | {} | {} |\n",
                           option["index"].get<int64_t>(),
                           fmt::join(option["sends"].get<std::vector<std::string>>(), ", "),
                           option["bytes_on_air"].get<int64_t>(),
                           option["est_latency_ms"].get<double>(),
                           option["est_energy_uj"].get<double>(),
                           option["sensor_ram_bytes"].get<int64_t>(),
                           option["fits"].get<bool>() ? "yes" : "no", mark);
      }
    }
  }
  return out;
}

} // namespace edgesplit
