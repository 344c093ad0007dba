// Running host tools (the C compiler, arm-none-eabi-size) through the shell.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace edgesplit {

// `text` as one single-quoted shell word.
std::string shellQuote(const std::string &text);

// Runs `command` through the shell; its stdout when it exits with 0, nullopt otherwise.
std::optional<std::string> captureCommand(const std::string &command);

// The C sources of a generated device folder, sorted so build commands are reproducible.
std::vector<std::string> cSourcesIn(const std::filesystem::path &folder);

} // namespace edgesplit
