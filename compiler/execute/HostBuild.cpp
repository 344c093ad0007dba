#include "execute/HostBuild.h"

#include "support/Error.h"
#include "support/Shell.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace edgesplit {

namespace fs = std::filesystem;

std::string readText(const fs::path &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail("{}: cannot read; check the path and its permissions", path.string());
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string hostCompiler(bool sanitize) {
  const char *cc = std::getenv("CC");
  std::string command = fmt::format("{} -std=c99 -O2 -Wall -Wextra -Werror -pedantic",
                                    cc && *cc ? cc : "cc");
  if (sanitize)
    command += " -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer";
  return command;
}

void buildOnce(const std::string &command, const fs::path &binary, const fs::path &what) {
  const fs::path build = binary.parent_path();
  const fs::path stamp = binary.string() + ".command", log = binary.string() + ".log";
  if (fs::exists(binary) && fs::exists(stamp) && readText(stamp) == command) return;
  fs::remove(binary);
  if (std::system((command + " > " + shellQuote(log.string()) + " 2>&1").c_str()) != 0)
    fail("{}: the generated C does not build (see {}): {}", what.string(), log.string(),
         readText(log).substr(0, 400));
  std::ofstream(stamp, std::ios::binary) << command;
}

void writeSampleFiles(const fs::path &io, const std::vector<std::vector<Tensor>> &samples,
                      size_t first, size_t count) {
  fs::remove_all(io);
  fs::create_directories(io);
  for (size_t i = 0; i < count; ++i) {
    std::ofstream stream(io / fmt::format("input{}.bin", i), std::ios::binary);
    for (const std::vector<Tensor> &sample : samples)
      stream.write(reinterpret_cast<const char *>(sample[first + i].rawData()),
                   static_cast<std::streamsize>(sample[first + i].byteSize()));
  }
}

size_t largestPort(const nlohmann::ordered_json &device) {
  size_t largest = 0;
  for (const char *side : {"inputs", "outputs"})
    for (const auto &port : device[side]) {
      size_t elements = 1;
      for (const auto &dim : port["shape"]) elements *= dim.get<size_t>();
      largest = std::max(largest, elements);
    }
  return largest;
}

} // namespace edgesplit
