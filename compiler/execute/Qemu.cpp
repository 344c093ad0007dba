#include "execute/Qemu.h"

#include "execute/HostBuild.h"
#include "support/EmbeddedFiles.h"
#include "support/Error.h"
#include "support/Shell.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <sys/wait.h>

namespace edgesplit {

namespace fs = std::filesystem;

namespace {

// Writes the embedded targets/boards/ files into OUTDIR/.build/boards/, leaving files that are
// already identical untouched so cached builds stay valid.
fs::path boardSupport(const fs::path &compiled) {
  const fs::path dir = compiled / ".build" / "boards";
  fs::create_directories(dir);
  for (size_t i = 0; i < kBoardFilesCount; ++i) {
    const fs::path file = dir / std::string(kBoardFiles[i].path);
    const std::string text(kBoardFiles[i].text);
    if (fs::exists(file) && readText(file) == text) continue;
    std::ofstream(file, std::ios::binary) << text;
  }
  return dir;
}

void requireTool(const std::string &tool, const std::vector<std::string> &packages) {
  if (!captureCommand("command -v " + shellQuote(tool)))
    fail("{} is not installed; `edgesplit run --qemu` needs it (Debian {} {}; "
         "tools/setup.sh installs {})",
         tool, packages.size() == 1 ? "package" : "packages", fmt::join(packages, ", "),
         packages.size() == 1 ? "it" : "them");
}

} // namespace

Target boardTarget(const std::string &targetName, const std::string &device) {
  const std::vector<std::string> builtin = builtinTargetNames();
  if (std::find(builtin.begin(), builtin.end(), targetName) == builtin.end())
    fail("device '{}': target '{}' is not a built-in target, so edgesplit has no board for it; "
         "compile for a built-in target to run it under QEMU",
         device, targetName);
  Target target = loadTarget(targetName);
  if (!target.qemu) {
    std::vector<std::string> boards;
    for (const std::string &name : builtin)
      if (loadTarget(name).qemu) boards.push_back(name);
    fail("device '{}': target '{}' has no QEMU board; run it without --qemu or compile for one "
         "of {}",
         device, targetName, fmt::join(boards, ", "));
  }
  return target;
}

fs::path buildBoardProgram(const fs::path &compiled, const std::string &device,
                           const Target &target,
                           const std::vector<std::pair<std::string, std::string>> &drivers,
                           bool uart, bool layerMarks) {
  const std::string gcc = target.toolchain.prefix + "gcc";
  requireTool(gcc, target.toolchain.packages);
  const fs::path boards = fs::absolute(boardSupport(compiled));
  const fs::path sources = fs::absolute(compiled / device);
  const fs::path build = fs::absolute(compiled / ".build" / ("qemu-" + device));
  fs::create_directories(build);
  for (const auto &[name, text] : drivers) {
    const fs::path file = build / name;
    if (!fs::exists(file) || readText(file) != text) std::ofstream(file, std::ios::binary) << text;
  }

  std::string cc = shellQuote(gcc);
  for (const std::string &flag : target.gccFlags) cc += " " + shellQuote(flag);
  cc += " -O2 -ffunction-sections -fdata-sections --specs=picolibc.specs -I" +
        shellQuote(boards.string());
  // Board support needs GNU C (inline assembly, section attributes); the model code and the
  // drivers are held to the same strict ISO C99 as on the host.
  const std::string boardCc = cc + " -std=gnu99 -Wall -Wextra -Werror " +
                              fmt::format("-DES_UART_BASE=0x{:08X}u", target.qemu->uartBase);
  const std::string strictCc = cc + " -std=c99 -Wall -Wextra -Werror -pedantic -DES_BOARD -I" +
                               shellQuote(sources.string()) + " -I" +
                               shellQuote((sources / "runtime/include").string()) +
                               (layerMarks ? " -DES_LAYER_MARKS" : "");
  std::string command = "set -e; cd " + shellQuote(build.string());
  std::vector<std::string> objects;
  auto compile = [&](const std::string &compiler, const fs::path &source) {
    const std::string object = source.parent_path() == boards ? "board_" + source.stem().string() + ".o"
                               : source.parent_path() == build ? "driver_" + source.stem().string() + ".o"
                                                               : "model_" + source.stem().string() + ".o";
    command += " && " + compiler + " -c " + shellQuote(source.string()) + " -o " + object;
    objects.push_back(object);
  };
  compile(boardCc, boards / "board-startup.c");
  compile(boardCc, boards / target.qemu->startup);
  if (uart) compile(boardCc, boards / target.qemu->uartDriver);
  for (const std::string &source : cSourcesIn(sources)) compile(strictCc, source);
  for (const auto &[name, text] : drivers) compile(strictCc, build / name);
  command += " && " + cc + " --oslib=semihost -nostartfiles -L" + shellQuote(boards.string()) +
             " -T" + shellQuote(target.qemu->linkerScript) + " -Wl,--gc-sections";
  for (const std::string &object : objects) command += " " + object;
  command += " -lm -o app.elf";
  const fs::path elf = build / "app.elf";
  // The stamp covers the board files' and drivers' contents too, which the command only names.
  std::string stamp = command;
  for (size_t i = 0; i < kBoardFilesCount; ++i) stamp += std::string(kBoardFiles[i].text);
  for (const auto &[name, text] : drivers) stamp += text;
  for (const std::string &source : cSourcesIn(sources)) stamp += readText(source);
  buildOnce(fmt::format(": sources {:016x} && sh -c ", std::hash<std::string>{}(stamp)) +
                shellQuote(command),
            elf, compiled / device);
  return elf;
}

fs::path buildInstructionPlugin(const fs::path &compiled) {
  const fs::path boards = fs::absolute(boardSupport(compiled));
  const fs::path plugin = fs::absolute(compiled / ".build" / "qemu-insn-plugin.so");
  buildOnce(hostCompiler(false) + " -shared -fPIC -o " + shellQuote(plugin.string()) + " " +
                shellQuote((boards / "qemu-insn-plugin.c").string()),
            plugin, boards / "qemu-insn-plugin.c");
  return plugin;
}

std::string qemuCommand(const Target &target, const fs::path &elf,
                        const std::vector<std::string> &args, const fs::path &plugin,
                        const fs::path &counts, const fs::path &uartSocket) {
  requireTool(target.qemu->system, {target.qemu->package});
  std::string semihosting = "enable=on,target=native";
  for (const std::string &arg : args) {
    // QEMU's option syntax would split an argument at a comma and the board's startup code
    // splits the command line at spaces.
    if (arg.find_first_of(", ") != std::string::npos)
      fail("internal error: semihosting argument '{}' holds a comma or space", arg);
    semihosting += ",arg=" + arg;
  }
  std::string command = shellQuote(target.qemu->system) + " -M " + shellQuote(target.qemu->machine);
  for (const std::string &option : target.qemu->options) command += " " + shellQuote(option);
  command += " -nographic -monitor none -semihosting-config " + shellQuote(semihosting) +
             " -plugin " + shellQuote(plugin.string() + ",out=" + counts.string());
  if (uartSocket.empty())
    command += " -serial null";
  else
    command += " -chardev " + shellQuote("socket,id=uart,path=" + uartSocket.string()) +
               " -serial chardev:uart";
  return command + " -kernel " + shellQuote(elf.string());
}

std::string qemuLog(const fs::path &io) {
  const fs::path log = io / "qemu.log";
  std::string text = fs::exists(log) ? readText(log) : "";
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text.substr(0, 300);
}

void checkBoardExit(const Target &target, const std::string &device, int waitStatus,
                    const fs::path &io) {
  const int code = WIFEXITED(waitStatus) ? WEXITSTATUS(waitStatus) : -1;
  if (code > 128)
    fail("device '{}' crashed on {} (exception {}); see {}", device, target.qemu->machine,
         code - 128, (io / "qemu.log").string());
  if (code != 0)
    fail("device '{}' failed on {} (exit status {}): {}", device, target.qemu->machine, code,
         qemuLog(io));
}

std::vector<uint64_t> readMarkerCounts(const fs::path &counts) {
  std::string text = readText(counts);
  text.erase(text.find_last_of('\n') == std::string::npos ? 0 : text.find_last_of('\n') + 1);
  std::istringstream lines(text); // without a line cut short by a killed instance
  std::vector<uint64_t> values;
  for (uint64_t value; lines >> value;) values.push_back(value);
  return values;
}

std::vector<uint64_t> markerWindows(const std::vector<uint64_t> &marks, size_t stride,
                                    size_t from, size_t to) {
  std::vector<uint64_t> windows;
  for (size_t base = 0; base + stride <= marks.size(); base += stride)
    windows.push_back(marks[base + to] - marks[base + from]);
  return windows;
}

uint64_t median(std::vector<uint64_t> values) {
  if (values.empty()) return 0;
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

} // namespace edgesplit
