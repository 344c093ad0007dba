// A target description (targets/<name>.json, schema edgesplit-target/1): the memory limits,
// clock, power and cost tables the report's estimates and the fit check use.
#pragma once

#include "codegen/Program.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace edgesplit {

// The GNU cross toolchain that builds code for the target (flash measurement, QEMU boards).
struct Toolchain {
  std::string prefix; // <prefix>gcc, <prefix>size
  // How the flash measurement links a folder: the C library and a memory map that holds it.
  std::vector<std::string> flashLinkFlags;
  std::vector<std::string> packages; // the Debian packages that install it, for messages
};

// How `edgesplit run --qemu` tests code for the target: the emulated board (targets/boards/).
struct QemuBoard {
  std::string system;               // the QEMU binary, e.g. qemu-system-arm
  std::string package;              // the Debian package that installs it, for messages
  std::string machine;              // <system> -M <machine>
  std::vector<std::string> options; // further QEMU options the board needs
  std::string linkerScript;         // targets/boards/<linkerScript>
  std::string startup;              // targets/boards/<startup>: reset and fault handling
  std::string uartDriver;           // targets/boards/<uartDriver>: the UART of fleet runs
  uint32_t uartBase = 0;            // the UART that joins a fleet's devices
};

struct Target {
  std::string name;
  std::string source; // where it was read from, for messages
  std::string description;
  std::string core;
  std::vector<std::string> gccFlags; // <toolchain.prefix>gcc flags; empty for the host
  Toolchain toolchain;
  // ISA features the kernels may use: dsp (SIMD32), fpu-sp, fpu-dp, mve-int, mve-float.
  std::vector<std::string> features;
  std::optional<QemuBoard> qemu; // absent: no emulated board (the host)
  double clockMhz = 0;
  int64_t ramKib = 0;
  int64_t flashKib = 0;
  double activeMw = 0;
  int64_t stackBytes = 0; // the stack allowance when the generated code cannot be analysed
  // A topology's `costs.stack_bytes`: the stack the device reserves, which then counts instead
  // of the stack computed from the code.
  bool stackBytesGiven = false;
  // Added to the stack computed from the code: what an interrupt taken at the deepest point
  // pushes (exception frame and a short handler's own frame).
  int64_t interruptStackBytes = 0;
  double callOverheadCycles = 0;
  // By precision name ("int8", "float32"), then by kernel class (KernelCall::kernelClass).
  std::map<std::string, std::map<std::string, double>> cyclesPerMac;
  std::map<std::string, std::map<std::string, double>> cyclesPerElement;
  // Measured per kernel function (tools/calibrate-costs): cycles = fixed + the sum of
  // perFeature[name] x the call's feature `name` (target/CostFeatures.h: MACs, outputs, window
  // taps, ... as the kernel's loops count them). Preferred over the class tables, which serve
  // kernels not calibrated.
  struct KernelCost {
    double fixed = 0;
    std::map<std::string, double> perFeature;
  };
  std::map<std::string, KernelCost> kernelCosts;
};

// `nameOrPath`: a built-in target name (targets/*.json compiled into edgesplit) or a path to a
// .json file. Fails naming the file and JSON path of a bad or missing field.
Target loadTarget(const std::string &nameOrPath);
std::vector<std::string> builtinTargetNames();

// Estimated cycles of one call: the target's measured kernel_costs for the call's kernel
// function applied to the call's cost features; for kernels without a
// measurement, the work times the target's figure for the call's kernel class plus the per-call
// overhead.
double estimateCycles(const Target &target, Precision precision, const KernelCall &call);

} // namespace edgesplit
