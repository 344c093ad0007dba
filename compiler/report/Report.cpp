#include "report/Report.h"

#include "codegen/CEmitter.h"
#include "support/Error.h"
#include "support/Shell.h"
#include "target/CostFeatures.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace edgesplit {
namespace {

// Code and constants a device folder adds to flash when it cannot be measured: weights and
// parameters exactly, code as a per-kernel-file and per-call allowance.
int64_t estimatedFlashBytes(const Program &program) {
  const int64_t perCall = 96;     // call site + parameter struct
  const int64_t perDevice = 4096; // kernels, I/O wrappers
  return program.constantBytes() + perCall * static_cast<int64_t>(program.calls.size()) + perDevice;
}

} // namespace

std::optional<FlashMeasurement> measureFlash(const std::filesystem::path &deviceDir,
                                             const Target &target, const std::string &device,
                                             Precision precision,
                                             const std::vector<std::string> &entryPoints,
                                             const std::vector<std::string> &hooks) {
  const std::string gcc = shellQuote(target.toolchain.prefix + "gcc");
  if (target.gccFlags.empty() || !captureCommand(gcc + " --version")) return std::nullopt;
  const std::string prefix = devicePrefix(device);
  std::string command = gcc;
  for (const std::string &flag : target.gccFlags) command += " " + shellQuote(flag);
  for (const std::string &flag : target.toolchain.flashLinkFlags) command += " " + shellQuote(flag);
  command += " -std=c99 -O2 -ffunction-sections -fdata-sections -nostartfiles -Wl,--gc-sections"
             " -Wl,-e," + prefix + "run";
  for (const char *api : {"init", "input", "output", "set_input_f32", "get_output_f32"})
    command += " -Wl,-u," + prefix + api;
  for (const std::string &api : entryPoints) command += " -Wl,-u," + prefix + api;
  for (const std::string &hook : hooks) command += " -Wl,--defsym," + prefix + hook + "=0";
  command += " -I" + shellQuote(deviceDir.string()) + " -I" + shellQuote((deviceDir / "runtime/include").string());
  for (const std::string &source : cSourcesIn(deviceDir)) command += " " + shellQuote(source);
  const std::filesystem::path elf = deviceDir.parent_path() / (".flash-" + device + ".elf");
  command += " -o " + shellQuote(elf.string());
  // Per-function frames and call graphs, one file per source, in a folder of their own.
  const std::filesystem::path stackDir = deviceDir.parent_path() / (".stack-" + device);
  std::filesystem::remove_all(stackDir);
  std::filesystem::create_directories(stackDir);
  command += " -fstack-usage -fcallgraph-info=su -dumpdir " + shellQuote(stackDir.string() + "/");
  if (precision == Precision::Float32) command += " -lm";
  const bool linked = captureCommand(command).has_value();
  std::optional<std::string> size =
      linked ? captureCommand(shellQuote(target.toolchain.prefix + "size") + " --format=berkeley " +
                              shellQuote(elf.string()))
             : std::nullopt;
  CallGraph graph;
  if (size) {
    for (const auto &entry : std::filesystem::directory_iterator(stackDir))
      if (entry.path().extension() == ".ci") {
        std::ifstream file(entry.path());
        std::stringstream text;
        text << file.rdbuf();
        graph.addTranslationUnit(text.str());
      }
    if (std::optional<std::string> disassembly =
            captureCommand(shellQuote(target.toolchain.prefix + "objdump") +
                           " -d --no-show-raw-insn " + shellQuote(elf.string())))
      graph.addMachineCalls(*disassembly);
  }
  std::filesystem::remove(elf);
  std::filesystem::remove_all(stackDir);
  if (!size) return std::nullopt;
  std::istringstream lines(*size);
  std::string header;
  std::getline(lines, header);
  FlashMeasurement measured;
  int64_t bss = 0;
  if (!(lines >> measured.textBytes >> measured.dataBytes >> bss)) return std::nullopt;
  // Every function the application may call: the deepest of their chains bounds the stack.
  std::vector<std::string> roots = {prefix + "run"};
  for (const char *api : {"init", "set_input_f32", "get_output_f32"}) roots.push_back(prefix + api);
  for (const std::string &api : entryPoints) roots.push_back(prefix + api);
  std::string unbounded;
  StackEstimate stack = graph.worstCase(roots, unbounded);
  if (unbounded.empty())
    measured.stack = std::move(stack);
  else
    measured.stackUnbounded = unbounded;
  return measured;
}

int64_t deviceStackBytes(const Target &target, const std::optional<FlashMeasurement> &flash,
                         std::string &method) {
  if (target.stackBytesGiven) {
    method = "the topology's stack_bytes for this device (the stack it reserves)";
    return target.stackBytes;
  }
  if (flash && flash->stack) {
    const StackEstimate &stack = *flash->stack;
    method = fmt::format("call graph of the linked folder ({}): {} B + {} B interrupt margin",
                         fmt::join(stack.deepestChain, " > "), stack.callGraphBytes,
                         target.interruptStackBytes);
    return stack.callGraphBytes + target.interruptStackBytes;
  }
  if (flash)
    method = "the target's stack_bytes allowance: the call graph gives no bound (" +
             flash->stackUnbounded + ")";
  else if (target.gccFlags.empty())
    method = "the target's stack_bytes allowance";
  else
    method = "the target's stack_bytes allowance: " + target.toolchain.prefix +
             "gcc is not installed, so the code was not analysed";
  return target.stackBytes;
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
    if (auto scratch = plan.scratch.find(call.node); scratch != plan.scratch.end()) {
      layer["scratch_offset"] = scratch->second.offset;
      layer["scratch_bytes"] = scratch->second.bytes;
    }
    layer["est_cycles"] = static_cast<int64_t>(std::llround(cycles));
    if (!aliased) {
      ReportJson features = ReportJson::object();
      for (const auto &[name, value] : costFeatures(call)) features[std::string(name)] = value;
      layer["cost_features"] = std::move(features);
    }
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
      // The only ports that are not float32 tensors: ArgMax indices (codegen/Lowering.h).
      if (port.value && port.value->dtype == DType::Int64) entry["index"] = true;
      result.push_back(std::move(entry));
    }
    return result;
  };

  ReportJson device;
  device["name"] = input.device;
  device["target"] = target.name;
  device["precision"] = precisionName(program.precision);
  // Which rescaling rule the int8 kernels were built with (docs/int8.md): it decides the last
  // bit of every result, so a report diff must show a change of it.
  if (program.precision == Precision::Int8)
    device["int8_rounding"] = program.rounding == S8Rounding::Single ? "single" : "double";
  device["folder"] = input.device;
  if (input.flash) {
    device["flash_bytes"] = input.flash->textBytes + input.flash->dataBytes;
    device["flash_measured"] = true;
    device["flash_method"] = target.toolchain.prefix + "size (text + data) of the linked folder";
  } else {
    device["flash_bytes"] = estimatedFlashBytes(program);
    device["flash_measured"] = false;
    device["flash_method"] = "estimate: constants + 96 B per call + 4 KiB of kernels";
  }
  device["weights_bytes"] = program.constantBytes();
  std::string stackMethod;
  const int64_t stackBytes = deviceStackBytes(target, input.flash, stackMethod);
  device["ram_bytes"] = plan.arenaBytes + stackBytes + input.staticBytes;
  device["arena_bytes"] = plan.arenaBytes;
  device["arena_lower_bound_bytes"] = plan.lowerBoundBytes;
  device["stack_bytes_estimate"] = stackBytes;
  device["stack_method"] = stackMethod;
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
  // int8 is the smaller precision: advised only to a float32 compile.
  const std::string remedies = device["precision"] == "float32"
                                   ? "use --precision int8, a larger target, or split the model "
                                     "over several devices"
                                   : "use a larger target, or split the model over several "
                                     "devices";
  if (ram > ramLimit)
    fail("{}: does not fit device '{}' ({}): needs {} bytes of RAM (arena {} + stack {} + "
         "buffers {}) but it has {}; {}",
         modelPath, name, target, ram, device["arena_bytes"].get<int64_t>(),
         device["stack_bytes_estimate"].get<int64_t>(),
         device["static_buffers_bytes"].get<int64_t>(), ramLimit, remedies);
  if (flash > flashLimit)
    fail("{}: does not fit device '{}' ({}): needs {} bytes of flash but it has {}; {}",
         modelPath, name, target, flash, flashLimit, remedies);
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

} // namespace edgesplit
