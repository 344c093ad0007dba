// Running generated code on emulated boards (`edgesplit run --qemu`): a device's folder is
// cross-compiled with its target's toolchain and flags and the board support of targets/boards/,
// and run by the board's QEMU with semihosting for files and a TCG plugin that counts
// instructions.
#pragma once

#include "target/Target.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace edgesplit {

// A built-in target with a board, or a one-line error naming the device and what to do.
Target boardTarget(const std::string &targetName, const std::string &device);

// Cross-compiles OUTDIR/<device>/ plus `drivers` (file name, C text; ISO C99 like the generated
// code) for `target`'s board into OUTDIR/.build/qemu-<device>/app.elf, with the UART driver when
// `uart` (fleets), with a marker between layers when `layerMarks` (ES_LAYER_MARKS). Rebuilds
// only when the sources or flags changed.
std::filesystem::path buildBoardProgram(const std::filesystem::path &compiled,
                                        const std::string &device, const Target &target,
                                        const std::vector<std::pair<std::string, std::string>> &drivers,
                                        bool uart, bool layerMarks = false);

// The instruction-count plugin (targets/boards/qemu-insn-plugin.c) built for the host.
std::filesystem::path buildInstructionPlugin(const std::filesystem::path &compiled);

// The QEMU command line running `elf` on `target`'s board with the semihosting
// command line `args` (files relative to the folder QEMU runs in), the plugin writing marker
// counts to `counts`, and UART0 connected to the unix socket `uartSocket` when not empty.
std::string qemuCommand(const Target &target, const std::filesystem::path &elf,
                        const std::vector<std::string> &args, const std::filesystem::path &plugin,
                        const std::filesystem::path &counts,
                        const std::filesystem::path &uartSocket = {});

// The start of QEMU's messages in `io`/qemu.log on one line, for error messages.
std::string qemuLog(const std::filesystem::path &io);

// Fails naming the device and board unless the QEMU instance that ran in `io` ended with
// status 0 (`waitStatus` as from waitpid/system): a program failure, or (128 + n) a fault.
void checkBoardExit(const Target &target, const std::string &device, int waitStatus,
                    const std::filesystem::path &io);

// The instruction counts the plugin recorded at each marker, in order.
std::vector<uint64_t> readMarkerCounts(const std::filesystem::path &counts);

// Instructions counted on a board: the median per sample of the inference alone, and of the
// float I/O around it where the driver marks it.
struct BoardMeasurement {
  std::string target, board;
  uint64_t instructionsPerInference = 0;
  std::optional<uint64_t> ioInstructionsPerSample;
  size_t samples = 0;
  // The deepest stack an inference took, painted by the board (single-device runs).
  std::optional<uint64_t> stackPeakBytes;
  // With --per-layer: the median instructions of each layer (report.json's layers, in order).
  std::vector<uint64_t> layerInstructions;
};

// Per complete sample of `stride` markers, the instructions from marker `from` to marker `to`.
std::vector<uint64_t> markerWindows(const std::vector<uint64_t> &marks, size_t stride,
                                    size_t from, size_t to);

// The upper median (deterministic for even counts); 0 for none.
uint64_t median(std::vector<uint64_t> values);

} // namespace edgesplit
