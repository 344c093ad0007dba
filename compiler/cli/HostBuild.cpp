#include "cli/HostBuild.h"

#include "support/Error.h"
#include "support/Shell.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace edgesplit::cli {

namespace fs = std::filesystem;

std::string readText(const fs::path &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail("{}: cannot read", path.string());
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

} // namespace edgesplit::cli
