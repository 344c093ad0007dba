// One error type for every bad-input path: the CLI prints what() as a single line and exits 1.
#pragma once

#include <fmt/core.h>

#include <stdexcept>
#include <string>

namespace edgesplit {

class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message) : std::runtime_error(oneLine(message)) {}

private:
  // Messages quote names and values from the input (an .npy descr, an ONNX node name, a JSON key)
  // that may hold line breaks or other control characters; escaped, the message stays one line.
  static std::string oneLine(const std::string &message) {
    std::string line;
    line.reserve(message.size());
    for (const char c : message) {
      const auto byte = static_cast<unsigned char>(c);
      if (c == '\n')
        line += "\\n";
      else if (c == '\r')
        line += "\\r";
      else if (c == '\t')
        line += "\\t";
      else if (byte < 0x20 || byte == 0x7f)
        line += fmt::format("\\x{:02x}", byte);
      else
        line += c;
    }
    return line;
  }
};

// Bad command-line usage (exit code 2 rather than 1).
class UsageError : public Error {
public:
  using Error::Error;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args &&...args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
[[noreturn]] void failUsage(fmt::format_string<Args...> format, Args &&...args) {
  throw UsageError(fmt::format(format, std::forward<Args>(args)...));
}

} // namespace edgesplit
