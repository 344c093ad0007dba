// The runtime-c sources, embedded at build time (cmake/EmbedFiles.cmake), so generated folders
// get exactly the kernels this compiler was built and tested with.
#pragma once

#include <cstddef>
#include <string_view>

namespace edgesplit {

struct EmbeddedFile {
  std::string_view path; // relative to runtime-c/: include/es_s8.h, src/s8_conv.c, ...
  std::string_view text;
};
extern const EmbeddedFile kRuntimeSources[];
extern const size_t kRuntimeSourceCount;

} // namespace edgesplit
