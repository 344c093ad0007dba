#include "target/Target.h"

#include "target/CostFeatures.h"

#include "support/EmbeddedFiles.h"
#include "support/Error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace edgesplit {
namespace {

using Json = nlohmann::json;

// Target files without interrupt_stack_bytes: a Cortex-M exception frame with the FPU's
// registers (26 words = 104 B, plus 4 B of alignment) and a short handler's frame.
constexpr int64_t kDefaultInterruptStackBytes = 128;

class TargetReader {
public:
  TargetReader(const Json &root, std::string source) : root_(root), source_(std::move(source)) {}

  const Json &field(const Json &object, const std::string &path, const std::string &key,
                    Json::value_t type) const {
    if (!object.contains(key))
      fail("{}: {}/{} is missing; see targets/cortex-m4.json for the format", source_, path, key);
    const Json &value = object.at(key);
    const bool numeric = type == Json::value_t::number_float;
    if (numeric ? !value.is_number() : value.type() != type)
      fail("{}: {}/{} must be {}; see targets/cortex-m4.json for the format", source_, path, key,
           numeric ? "a number" : Json(type).type_name());
    return value;
  }
  double positive(const Json &object, const std::string &path, const std::string &key) const {
    const double value = field(object, path, key, Json::value_t::number_float).get<double>();
    if (!(value > 0))
      fail("{}: {}/{} must be > 0; see targets/cortex-m4.json for the format", source_, path, key);
    return value;
  }
  double nonNegative(const Json &object, const std::string &path, const std::string &key) const {
    const double value = field(object, path, key, Json::value_t::number_float).get<double>();
    if (value < 0)
      fail("{}: {}/{} must be >= 0; see targets/cortex-m4.json for the format", source_, path, key);
    return value;
  }
  std::map<std::string, std::map<std::string, double>> table(const std::string &key) const {
    std::map<std::string, std::map<std::string, double>> result;
    const Json &byPrecision = field(root_, "", key, Json::value_t::object);
    for (const std::string precision : {"int8", "float32"}) {
      const Json &entries = field(byPrecision, "/" + key, precision, Json::value_t::object);
      for (const auto &[kernel, value] : entries.items())
        result[precision][kernel] = positive(entries, "/" + key + "/" + precision, kernel);
    }
    return result;
  }

  std::string text(const Json &object, const std::string &path, const std::string &key) const {
    return field(object, path, key, Json::value_t::string).get<std::string>();
  }
  std::vector<std::string> texts(const Json &object, const std::string &path,
                                 const std::string &key) const {
    std::vector<std::string> result;
    for (const Json &item : field(object, path, key, Json::value_t::array)) {
      if (!item.is_string())
        fail("{}: {}/{} must hold strings; see targets/cortex-m4.json for the format", source_,
             path, key);
      result.push_back(item.get<std::string>());
    }
    return result;
  }
  // A file of targets/boards/, which edgesplit carries.
  std::string boardFile(const Json &object, const std::string &key) const {
    const std::string name = text(object, "/qemu", key);
    for (size_t i = 0; i < kBoardFilesCount; ++i)
      if (kBoardFiles[i].path == name) return name;
    fail("{}: /qemu/{}: '{}' is not a file of targets/boards/", source_, key, name);
  }

  // Absent in target files written before RISC-V: with gcc flags, they all meant the Arm GNU
  // toolchain; without (the host), there is none.
  Toolchain toolchain(bool crossCompiled) const {
    if (!root_.contains("toolchain") && !crossCompiled) return {};
    if (!root_.contains("toolchain"))
      return {"arm-none-eabi-",
              {"--specs=nano.specs"},
              {"gcc-arm-none-eabi", "libnewlib-arm-none-eabi", "picolibc-arm-none-eabi"}};
    const Json &json = field(root_, "", "toolchain", Json::value_t::object);
    return {text(json, "/toolchain", "prefix"), texts(json, "/toolchain", "flash_link_flags"),
            texts(json, "/toolchain", "packages")};
  }

  QemuBoard qemuBoard() const {
    const Json &qemu = field(root_, "", "qemu", Json::value_t::object);
    QemuBoard board;
    board.system = text(qemu, "/qemu", "system");
    board.package = text(qemu, "/qemu", "package");
    board.machine = text(qemu, "/qemu", "machine");
    if (qemu.contains("options")) board.options = texts(qemu, "/qemu", "options");
    board.linkerScript = boardFile(qemu, "linker_script");
    board.startup = boardFile(qemu, "startup");
    board.uartDriver = boardFile(qemu, "uart_driver");
    const std::string uart = text(qemu, "/qemu", "uart_base");
    char *end = nullptr;
    const unsigned long base = std::strtoul(uart.c_str(), &end, 16);
    if (uart.rfind("0x", 0) != 0 || *end || base > 0xFFFFFFFFul)
      fail("{}: /qemu/uart_base must be a 32-bit hexadecimal address like \"0x40004000\"",
           source_);
    board.uartBase = static_cast<uint32_t>(base);
    return board;
  }

  Target read() const {
    if (!root_.is_object())
      fail("{}: the target must be a JSON object; see targets/cortex-m4.json for the format",
           source_);
    if (root_.value("schema", "") != "edgesplit-target/1")
      fail("{}: /schema must be \"edgesplit-target/1\"", source_);
    Target target;
    target.source = source_;
    target.name = text(root_, "", "name");
    target.description = root_.value("description", "");
    target.core = text(root_, "", "core");
    target.gccFlags = texts(root_, "", "gcc_flags");
    target.toolchain = toolchain(!target.gccFlags.empty());
    for (const Json &feature : field(root_, "", "features", Json::value_t::array)) {
      static const std::set<std::string> known = {"dsp", "fpu-sp", "fpu-dp", "mve-int",
                                                  "mve-float"};
      if (!feature.is_string() || !known.count(feature.get<std::string>()))
        fail("{}: /features: {} is not one of dsp, fpu-sp, fpu-dp, mve-int, mve-float", source_,
             feature.dump());
      target.features.push_back(feature.get<std::string>());
    }
    if (root_.contains("qemu")) target.qemu = qemuBoard();
    target.clockMhz = positive(root_, "", "clock_mhz");
    target.ramKib = static_cast<int64_t>(positive(root_, "", "ram_kib"));
    target.flashKib = static_cast<int64_t>(positive(root_, "", "flash_kib"));
    target.activeMw = positive(root_, "", "active_mw");
    target.stackBytes = static_cast<int64_t>(positive(root_, "", "stack_bytes"));
    target.interruptStackBytes =
        root_.contains("interrupt_stack_bytes")
            ? static_cast<int64_t>(positive(root_, "", "interrupt_stack_bytes"))
            : kDefaultInterruptStackBytes;
    target.callOverheadCycles = positive(root_, "", "call_overhead_cycles");
    target.cyclesPerMac = table("cycles_per_mac");
    target.cyclesPerElement = table("cycles_per_element");
    if (root_.contains("kernel_costs")) {
      const Json &costs = field(root_, "", "kernel_costs", Json::value_t::object);
      for (const auto &[kernel, fit] : costs.items()) {
        const std::string at = "/kernel_costs/" + kernel;
        if (!fit.is_object())
          fail("{}: {} must be an object; see targets/cortex-m4.json for the format", source_, at);
        Target::KernelCost cost;
        cost.fixed = nonNegative(fit, at, "fixed");
        const Json &per = field(fit, at, "per", Json::value_t::object);
        for (const auto &[feature, weight] : per.items()) {
          const auto &names = costFeatureNames();
          if (std::find(names.begin(), names.end(), feature) == names.end())
            fail("{}: {}/per/{} is not a cost feature (one of: {}); see docs/performance.md "
                 "\"Cost model from measurement\"",
                 source_, at, feature, fmt::join(names, ", "));
          cost.perFeature[feature] = nonNegative(per, at + "/per", feature);
        }
        target.kernelCosts[kernel] = cost;
      }
    }
    return target;
  }

private:
  const Json &root_;
  std::string source_;
};

Target parseTarget(std::string_view text, const std::string &source) {
  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::exception &error) { // parse_error, or out_of_range for 1e999
    fail("{}: invalid JSON: {}", source, error.what());
  }
  return TargetReader(root, source).read();
}

} // namespace

std::vector<std::string> builtinTargetNames() {
  std::vector<std::string> names;
  for (size_t i = 0; i < kTargetFilesCount; ++i) {
    std::string_view path = kTargetFiles[i].path;
    names.emplace_back(path.substr(0, path.size() - 5));
  }
  return names;
}

Target loadTarget(const std::string &nameOrPath) {
  const bool isPath = nameOrPath.find('/') != std::string::npos ||
                      (nameOrPath.size() > 5 && nameOrPath.substr(nameOrPath.size() - 5) == ".json");
  if (isPath) {
    std::ifstream file(nameOrPath);
    if (!file) fail("{}: cannot read the target file; check the path", nameOrPath);
    std::stringstream text;
    text << file.rdbuf();
    return parseTarget(text.str(), nameOrPath);
  }
  for (size_t i = 0; i < kTargetFilesCount; ++i)
    if (kTargetFiles[i].path == nameOrPath + ".json")
      return parseTarget(kTargetFiles[i].text, "targets/" + nameOrPath + ".json");
  std::string names;
  for (const std::string &name : builtinTargetNames()) names += (names.empty() ? "" : ", ") + name;
  failUsage("unknown target '{}' (built in: {}; or give a path to a target .json)", nameOrPath,
            names);
}

double estimateCycles(const Target &target, Precision precision, const KernelCall &call) {
  const std::string precisionKey(precisionName(precision));
  auto lookup = [&](const std::map<std::string, std::map<std::string, double>> &table) {
    auto byPrecision = table.find(precisionKey);
    if (byPrecision == table.end()) return 0.0;
    auto entry = byPrecision->second.find(call.kernelClass);
    return entry == byPrecision->second.end() ? 0.0 : entry->second;
  };
  double work = 0;
  auto outputElements = [&] {
    int64_t elements = 0;
    for (const Value *output : call.node->outputs)
      if (output && output->shape) elements += numElements(*output->shape);
    return static_cast<double>(elements);
  };
  if (auto measured = target.kernelCosts.find(call.function);
      !call.isCopy && measured != target.kernelCosts.end()) {
    const Target::KernelCost &cost = measured->second;
    double cycles = cost.fixed;
    for (const auto &[feature, value] : costFeatures(call))
      if (auto weight = cost.perFeature.find(std::string(feature));
          weight != cost.perFeature.end())
        cycles += weight->second * value;
    return cycles;
  }
  if (call.macs > 0) {
    work = static_cast<double>(call.macs) * lookup(target.cyclesPerMac);
  } else {
    work = outputElements() * lookup(target.cyclesPerElement);
  }
  return work + target.callOverheadCycles;
}

} // namespace edgesplit
