#include "support/Shell.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace edgesplit {

std::string shellQuote(const std::string &text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::optional<std::string> captureCommand(const std::string &command) {
  FILE *pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (!pipe) return std::nullopt;
  std::string output;
  std::array<char, 4096> buffer;
  size_t count;
  while ((count = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    output.append(buffer.data(), count);
  return pclose(pipe) == 0 ? std::optional<std::string>(output) : std::nullopt;
}

std::vector<std::string> cSourcesIn(const std::filesystem::path &folder) {
  std::vector<std::string> sources;
  for (const auto &entry : std::filesystem::recursive_directory_iterator(folder))
    if (entry.path().extension() == ".c") sources.push_back(entry.path().string());
  std::sort(sources.begin(), sources.end());
  return sources;
}

} // namespace edgesplit
