// Shared by the fuzz targets: their contract with the code under test, and a scratch file for
// the loaders that only read paths.
#pragma once

#include "support/Error.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace edgesplit::fuzz {

// Bad input must end in an edgesplit::Error whose message is one line (the CLI prints it as the
// whole of stderr). Any other outcome, another exception type included, reaches libFuzzer as a
// crash.
inline void expectOneLine(const Error &error) {
  if (std::strchr(error.what(), '\n') != nullptr) {
    std::fprintf(stderr, "fuzz: error message spans several lines: %s\n", error.what());
    std::abort();
  }
}

// The file a target rewrites with every input. It lives in a folder of its own, so what an input
// names relative to itself (ONNX external data) resolves to nothing but the file.
class ScratchFile {
public:
  explicit ScratchFile(const std::string &name) {
    std::string pattern = (std::filesystem::temp_directory_path() / "edgesplit-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("fuzz: mkdtemp");
      std::abort();
    }
    folder_ = pattern;
    path_ = folder_ / name;
  }
  ~ScratchFile() {
    std::error_code ignored;
    std::filesystem::remove_all(folder_, ignored);
  }
  ScratchFile(const ScratchFile &) = delete;
  ScratchFile &operator=(const ScratchFile &) = delete;

  const std::filesystem::path &path() const { return path_; }

  void write(const uint8_t *data, size_t size) {
    std::ofstream file(path_, std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char *>(data), static_cast<std::streamsize>(size));
    if (!file) {
      std::fprintf(stderr, "fuzz: cannot write %s\n", path_.c_str());
      std::abort();
    }
  }

private:
  std::filesystem::path folder_, path_;
};

} // namespace edgesplit::fuzz
