// One error type for every bad-input path: the CLI prints what() as a single line and exits 1.
#pragma once

#include <fmt/core.h>

#include <stdexcept>
#include <string>

namespace edgesplit {

class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message) : std::runtime_error(message) {}
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
